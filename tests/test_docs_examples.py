"""Every `$ carpctl ...` example in docs/*.md runs as shown, so the guide cannot drift.

A page's examples run in order, as one session would type them, with bash, in a
fresh directory holding a lab in ./lab (started with `carpctl lab up --detach`
unless the page starts one itself) and the shipped playbooks in ./playbooks, with
CARPCTL_INVENTORY=lab/inventory.yml. Each example's exit code is compared with the
page's: `[exit N]` (or `$ echo $?` and N) after it, 0 otherwise. Its output lines,
where the page shows them, must appear in the real output in the same order, once
both are normalised (numbers, run ids, temporary paths and spacing vary); `...`
stands for lines left out.

An example that cannot run here (it needs a terminal, another inventory, a long
run or a fault set up outside carpctl) is marked in the page by an HTML comment
between the previous fence and its own, `<!-- docs-test: skip REASON -->`, which
skips that fence. A page of independent examples puts the lab in the state an
example shows with `<!-- docs-test: run COMMAND -->` there (run before the fence,
unshown; it must exit 0). A page whose examples are not annotated yet says so with
`<!-- docs-test: skip-page REASON -->`: the test skips it and the skip is reported.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s+(.+?)\s*-->")
SKIP_PAGE = re.compile(r"<!--\s*docs-test:\s*skip-page\s+(.+?)\s*-->")
SETUP = re.compile(r"<!--\s*docs-test:\s*run\s+(.+?)\s*-->")
EXIT = re.compile(r"^\[exit (\d)\]$")


@dataclass
class Example:
    page: str
    line: int                       # of the `$ carpctl` line, for the failure message
    command: str
    shown: list[str]                # output lines the page shows ('...' kept)
    exit_code: int
    setup: tuple[str, ...] = ()     # commands run before it, unshown


def examples(page: Path) -> list[Example]:
    """The page's examples in order; fences after a skip marker are left out."""
    found: list[Example] = []
    lines = page.read_text().splitlines()
    fence, skipped, current = False, False, None
    between: list[str] = []            # the prose since the last fence closed
    setup: tuple[str, ...] = ()
    for number, text in enumerate(lines, 1):
        if text.startswith("```"):
            if not fence:
                prose = "\n".join(between)
                skipped = bool(SKIP.search(prose))
                setup = tuple(SETUP.findall(prose))
            between = []
            fence = not fence
            current = None
            continue
        if not fence:
            between.append(text)
            continue
        if skipped:
            continue
        if text.startswith("$ "):
            current = None
            if text.startswith("$ carpctl"):
                current = Example(page.name, number, text[2:].split("  #")[0].strip(), [], 0,
                                  setup)
                setup = ()
                found.append(current)
            elif text.strip() == "$ echo $?" and found:
                current = found[-1]
                current.shown.append("$?")
            continue
        if current is not None:
            match = EXIT.match(text.strip())
            if match:
                current.exit_code = int(match.group(1))
            elif current.shown and current.shown[-1] == "$?":
                current.shown[-1:] = []
                current.exit_code = int(text.strip())
            else:
                current.shown.append(text)
    return found


def normalised(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    text = re.sub(r"\d{8}-\d{6}-[0-9a-f]{4}", "RUN", text)
    text = re.sub(r"(/[\w.+-]+)*/(lab|playbooks)\b", r"\2", text)
    text = re.sub(r"\d+(\.\d+)?", "0", text)
    return " ".join(text.split())


def missing(shown: list[str], output: str) -> str | None:
    """The first shown line not found (in order) in the output, or None."""
    actual = [normalised(line) for line in output.splitlines()]
    position = 0
    for line in shown:
        if line.strip() in ("...", "") or line.startswith("# "):
            continue
        want = normalised(line)
        try:
            position = actual.index(want, position) + 1
        except ValueError:
            return line
    return None


PAGES = sorted(p for p in DOCS.glob("*.md") if examples(p))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_example_of_the_page_exits_and_prints_as_shown(page, tmp_path):
    unannotated = SKIP_PAGE.search(page.read_text())
    if unannotated:
        pytest.skip(f"docs/{page.name}: {unannotated.group(1)}")
    runnable = examples(page)
    env = dict(os.environ, CARPCTL_INVENTORY="lab/inventory.yml", NO_COLOR="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "playbooks").symlink_to(ROOT / "playbooks")

    def shell(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)

    if not runnable[0].command.startswith("carpctl lab up"):
        assert shell("carpctl lab up --detach").returncode == 0
    try:
        for example in runnable:
            for command in example.setup:
                prepared = shell(command)
                assert prepared.returncode == 0, f"docs/{example.page}: setup `{command}`:\n" \
                                                 f"{prepared.stdout}"
            done = shell(example.command)
            where = f"docs/{example.page}:{example.line}: `{example.command}`"
            assert done.returncode == example.exit_code, \
                f"{where} exited {done.returncode}, the page says {example.exit_code}\n" \
                f"{done.stdout}"
            absent = missing(example.shown, done.stdout)
            assert absent is None, f"{where} did not print:\n{absent}\nit printed:\n" \
                                   f"{done.stdout}"
    finally:   # every lab the page started, not only ./lab
        for pid in tmp_path.rglob("lab.pid"):
            shell(f"carpctl lab down --dir {pid.parent}")
