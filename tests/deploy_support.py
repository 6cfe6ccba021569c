"""What the deploy and rollback tests share: running the flow, looking inside the lab."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from carpctl.flows.deploy import DeployOptions, PairReport, deploy
from carpctl.runtime.session import Session
from carpctl_lab.lab import Lab

FILES = ("/etc/pf.conf", "/etc/relayd.conf")
QUICK = 3.0   # confirm timeout in tests: seconds, not the default minute


def run_deploy(session: Session, *pairs: str, **options) -> PairReport | list[PairReport]:
    """The deploy flow as the CLI runs it, journaled; one report per pair (or the only one)."""
    names = list(pairs or ("pair1",))
    session.begin(f"deploy {' '.join(names)}", names)
    options.setdefault("confirm_timeout", QUICK)
    options.setdefault("carp_window", 0)   # CARP's own tests watch it (test_deploy_leaks)
    parallel = options.pop("parallel", 1)
    reports = deploy(session, session.inventory.select(names), DeployOptions(**options),
                     parallel=parallel)
    return reports[0] if len(reports) == 1 else reports


def file_hashes(lab: Lab, pair: str = "pair1") -> dict[str, dict[str, str]]:
    """node -> dest -> sha256, read from the lab's own filesystem (not over SSH)."""
    return {node.name: {dest: hashlib.sha256(node.fs.read_bytes(dest)).hexdigest()
                        for dest in FILES}
            for node in lab.pairs[pair].nodes}


def loaded(lab: Lab, pair: str = "pair1") -> dict[str, tuple[str, ...]]:
    """node -> the pf rules loaded now (what `pfctl -sr` prints)."""
    return {node.name: tuple(node.pf.ruleset.rules) for node in lab.pairs[pair].nodes}


def leftovers(lab: Lab, pair: str = "pair1") -> list[str]:
    """Staged copies or staging directories still lying around on any node."""
    found = []
    for node in lab.pairs[pair].nodes:
        found += [f"{node.name}:/etc/{n}" for n in node.fs.listdir("/etc") if ".carpctl-" in n]
        found += [f"{node.name}:/tmp/{n}" for n in node.fs.listdir("/tmp")
                  if n.startswith("carpctl-")]
    return found


def edit_template(lab: Lab, name: str, old: str, new: str) -> int:
    """Replace `old` by `new` in one of the lab inventory's templates; the line number of
    `new`'s first line in the edited template."""
    path = lab.directory / "templates" / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    text = text.replace(old, new, 1)
    path.write_text(text)
    return text[:text.index(new)].count("\n") + 1


def commands_run(lab: Lab, node: str, pattern: str, pair: str = "pair1") -> list[str]:
    """Simple commands the node ran over SSH (batches taken apart by the lab's own shell
    parser, so a script written with printf is not mistaken for commands) matching
    `pattern`; quoted words are shown unquoted, `sh -c 'SCRIPT'` as `sh -c SCRIPT`."""
    from carpctl_lab.shell.parse import parse

    found = []
    for entry in lab.log(pair, node):
        for words in _simple_commands(parse(entry.command)):
            line = " ".join(words)
            if re.search(pattern, line):
                found.append(line)
    return found


def _simple_commands(tree) -> list[list[str]]:
    from carpctl_lab.shell.syntax import Lit, Simple

    if isinstance(tree, Simple):
        return [["".join(p.text for p in w.parts if isinstance(p, Lit)) for w in tree.words]]
    if isinstance(tree, (list, tuple)):
        return [c for item in tree for c in _simple_commands(item)]
    if hasattr(tree, "__dataclass_fields__"):
        return [c for name in tree.__dataclass_fields__
                for c in _simple_commands(getattr(tree, name))]
    return []


def cli(lab: Lab, capsys, *argv: str) -> tuple[int, object, str]:
    """`carpctl ARGV -i LAB --json`: exit code, parsed JSON (or None), stderr."""
    from carpctl.cli import main

    code = main([*argv, "-i", str(lab.inventory), "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def template_path(lab: Lab, name: str) -> Path:
    return lab.directory / "templates" / name
