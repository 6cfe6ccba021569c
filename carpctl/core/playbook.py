"""Playbooks: a maintenance window as YAML, validated before anything runs.

    name: syspatch
    serial: true          # node by node: the BACKUP first, then the MASTER after handing over
    steps:
      - maintenance: enter
      - syspatch: {}
      - wait: healthy
      - maintenance: exit
    after:                # pair-level steps once every node is done
      - failover: back

`before:` holds pair-level steps run once before the first node (the upgrade's preflight).

The vocabulary is small and fixed (STEP_KINDS). Without `serial`, steps that act
on one node name it with `node: NAME|master|backup`. Every error names the file
and the step (`steps[2] (reboot): ...`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carpctl.errors import FailedError, UsageError

UPGRADE_STEPS = {"sysupgrade", "sysmerge", "fw_update", "pkg_add"}
NODE_STEPS = {"maintenance", "run", "reboot", "syspatch", "failover"} | UPGRADE_STEPS
PAIR_STEPS = {"wait", "deploy", "pause", "confirm", "preflight"}
STEP_KINDS = NODE_STEPS | PAIR_STEPS
TOP_KEYS = {"name", "description", "serial", "before", "steps", "after"}


class PlaybookError(UsageError):
    """A mistake in a playbook file (exit 2, before anything runs)."""


@dataclass(frozen=True)
class Done:
    """A step's outcome: the journal's one-line note and what the node printed."""

    note: str
    output: str = ""


class StepFailed(FailedError):
    """A step failed; `output` (what the node printed) goes to the journal with the error."""

    def __init__(self, message: str, output: str):
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class Step:
    kind: str
    args: dict[str, Any]
    where: str                  # "steps[2]" or "after[0]", for messages and the journal
    node: str | None = None     # without serial: NAME | master | backup

    def describe(self) -> str:
        shown = {k: v for k, v in self.args.items()
                 if v not in (None, {}, "", [], False) and k != "timeout"
                 and not (k == "reboot" and v is True) and k != "home_mb"}
        text = self.kind if not shown else f"{self.kind} " + " ".join(
            f"{v}" if k == "value" else f"{k}={v}" for k, v in shown.items())
        return text


@dataclass(frozen=True, kw_only=True)
class Playbook:
    path: Path
    name: str
    serial: bool
    steps: tuple[Step, ...]
    after: tuple[Step, ...] = ()
    description: str = ""
    before: tuple[Step, ...] = ()


def _number(value: Any, what: str, *, minimum: float = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"{what} must be a number of seconds >= {minimum:g}, not {value!r}")
    return float(value)


def _options(value: Any, allowed: dict[str, type | tuple], kind: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"takes a mapping of options ({', '.join(allowed) or 'none'})")
    for key, item in value.items():
        if key not in allowed:
            raise ValueError(f"unknown option {key!r} (known: {', '.join(allowed) or 'none'})")
        if not isinstance(item, allowed[key]) or isinstance(item, bool) and allowed[key] is not bool:
            raise ValueError(f"option {key!r} has the wrong type ({type(item).__name__})")
    return dict(value)


def _parse_args(kind: str, value: Any) -> dict[str, Any]:
    """The step's value, checked and normalised to a dict of options."""
    if kind == "maintenance":
        if value in ("enter", "exit"):
            return {"value": value}
        opts = _options(value, {"action": str, "failback": bool}, kind)
        if opts.get("action") not in ("enter", "exit"):
            raise ValueError("is `enter` or `exit` (or {action: exit, failback: true})")
        return {"value": opts["action"], "failback": opts.get("failback", False)}
    if kind == "failover":
        if value in ("away", "back"):
            return {"value": value}
        opts = _options(value, {"to": str, "method": str}, kind)
        if "to" not in opts:
            raise ValueError("is `away`, `back` or {to: NODE}")
        if opts.get("method") not in (None, "advskew", "carpdemote"):
            raise ValueError("method is advskew or carpdemote")
        return opts
    if kind == "run":
        if isinstance(value, str) and value.strip():
            return {"value": value}
        raise ValueError("takes the command to run, as a string")
    if kind == "reboot":
        opts = _options(value, {"timeout": (int, float), "if_needed": bool}, kind)
        return {"timeout": _number(opts.get("timeout", 600), "timeout", minimum=1),
                "if_needed": opts.get("if_needed", False)}
    if kind == "sysupgrade":   # installer + two reboots: minutes, so a long default
        opts = _options(value, {"timeout": (int, float), "snapshot": bool, "reboot": bool}, kind)
        return {"timeout": _number(opts.get("timeout", 3600), "timeout", minimum=1),
                "snapshot": opts.get("snapshot", False), "reboot": opts.get("reboot", True)}
    if kind in ("sysmerge", "fw_update", "pkg_add"):
        _options(value, {}, kind)
        return {}
    if kind == "preflight":
        opts = value if isinstance(value, dict) else {"for": value}
        opts = _options(opts, {"for": str, "snapshot": bool, "home_mb": int}, kind)
        if opts.get("for") != "upgrade":
            raise ValueError("is `upgrade` (or {for: upgrade, snapshot: true, home_mb: N})")
        return {"value": "upgrade", "snapshot": opts.get("snapshot", False),
                "home_mb": opts.get("home_mb", 1024)}
    if kind == "syspatch":
        opts = _options(value, {"timeout": (int, float)}, kind)
        return {"timeout": _number(opts.get("timeout", 600), "timeout", minimum=1)}
    if kind == "wait":
        if value == "healthy":
            return {"value": "healthy", "timeout": 300.0}
        if not isinstance(value, dict):
            raise ValueError("is `healthy` (or {for: healthy, timeout: S})")
        opts = _options(value, {"for": str, "timeout": (int, float)}, kind)
        if opts.get("for") != "healthy":
            raise ValueError("is `healthy` (or {for: healthy, timeout: S})")
        return {"value": "healthy", "timeout": _number(opts.get("timeout", 300), "timeout", minimum=1)}
    if kind == "deploy":
        opts = _options(value, {"only": (list, str), "handoff": bool}, kind)
        only = opts.get("only")
        return {"only": [only] if isinstance(only, str) else list(only or []),
                "handoff": opts.get("handoff", False)}
    if kind == "pause":
        return {"value": _number(value, "pause")}
    if kind == "confirm":
        if isinstance(value, str) and value.strip():
            return {"value": value}
        raise ValueError("takes the question to ask, as a string")
    raise AssertionError(kind)


def _parse_step(raw: Any, where: str, serial: bool, section: str) -> Step:
    if not isinstance(raw, dict):
        raise ValueError("a step is a mapping like `- reboot: {timeout: 300}`")
    node = raw.get("node")
    kinds = [k for k in raw if k != "node"]
    if len(kinds) != 1:
        raise ValueError(f"has {len(kinds)} step kinds ({', '.join(map(str, kinds)) or 'none'}); "
                         f"write one per list item (known: {', '.join(sorted(STEP_KINDS))})")
    kind = kinds[0]
    if kind not in STEP_KINDS:
        raise ValueError(f"unknown step {kind!r} (known: {', '.join(sorted(STEP_KINDS))})")
    try:
        args = _parse_args(kind, raw[kind])
    except ValueError as exc:
        raise ValueError(f"({kind}) {exc}") from None
    per_node = serial and section == "steps"
    if node is not None:
        if per_node:
            raise ValueError(f"({kind}) `node` is not used with serial: the step runs on each "
                             f"node in turn")
        if kind not in NODE_STEPS:
            raise ValueError(f"({kind}) is a pair step and takes no `node`")
        if not isinstance(node, str) or not node:
            raise ValueError(f"({kind}) node is a node name, `master` or `backup`")
    elif kind in NODE_STEPS and not per_node and not (kind == "failover" and args.get("value") == "back") \
            and not (kind == "failover" and "to" in args):
        raise ValueError(f"({kind}) needs `node: NAME|master|backup` outside a serial section")
    return Step(kind, args, where, node)


def shipped_playbooks() -> dict[str, Path]:
    """The playbooks installed with carpctl, by name (`carpctl run syspatch PAIR`)."""
    from importlib import resources

    folder = Path(str(resources.files("carpctl") / "examples" / "playbooks"))
    return {p.stem: p for p in sorted(folder.glob("*.yml"))}


def find_playbook(text: str | Path) -> Path:
    """A path as given, else under ./playbooks/, else a shipped playbook's name: a pip
    install has no checkout, so `syspatch` must not need one."""
    path = Path(text)
    for candidate in (path, Path("playbooks") / path, Path("playbooks") / f"{path}.yml"):
        if candidate.is_file():
            return candidate
    shipped = shipped_playbooks()
    if str(text) in shipped:
        return shipped[str(text)]
    raise PlaybookError(f"playbook {text} does not exist (no such file, and not one of the "
                        f"shipped playbooks: {', '.join(shipped)}; see `carpctl run --list`)")


def load_playbook(path: str | Path) -> Playbook:
    import yaml

    path = find_playbook(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise PlaybookError(f"{path}: YAML error{line}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict):
        raise PlaybookError(f"{path}: a playbook is a mapping with `steps:`")
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise PlaybookError(f"{path}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                            f"(known: {', '.join(sorted(TOP_KEYS))})")
    serial = doc.get("serial", False)
    if not isinstance(serial, bool):
        raise PlaybookError(f"{path}: serial: is true or false")
    sections = {}
    for section in ("before", "steps", "after"):
        raw = doc.get(section) or []
        if not isinstance(raw, list):
            raise PlaybookError(f"{path}: {section}: is a list of steps")
        steps = []
        for i, item in enumerate(raw):
            where = f"{section}[{i}]"
            try:
                steps.append(_parse_step(item, where, serial, section))
            except ValueError as exc:
                raise PlaybookError(f"{path}: {where} {exc}") from None
        sections[section] = tuple(steps)
    if not any(sections.values()):
        raise PlaybookError(f"{path}: no steps")
    return Playbook(path=path, name=str(doc.get("name") or path.stem), serial=serial,
                    steps=sections["steps"], after=sections["after"],
                    description=str(doc.get("description") or ""), before=sections["before"])
