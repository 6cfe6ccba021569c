"""Several commands in one round trip, each keeping its own output and exit status.

The commands run one after another in one shell script; after each, a marker line
carrying a random nonce and the command's exit status goes to stdout and another to
stderr, so the streams can be cut back into per-command results.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from carpctl.remote.commands import Command


@dataclass(frozen=True, kw_only=True)
class Result:
    """What one remote command did. `command` is the redacted line that ran."""

    node: str
    command: str
    status: int
    stdout: str
    stderr: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr



NAME_WIDTH = 160   # how long a batch's name in an error may get before it is shortened


def first_line(text: str) -> str:
    """A command as an error names it: a multi-line script by its first line, so the
    message stays one line (every line of an error is printed as an error)."""
    head, *rest = text.splitlines() or [""]
    return f"{head} ..." if rest else head


def named(commands: Sequence[Command]) -> str:
    """A batch as an error names it: its commands, or, when that would not fit one
    readable line (the lock-and-read batch holds a dozen commands and scripts), the
    first and how many follow it."""
    firsts = [first_line(str(command)) for command in commands]
    text = "; ".join(firsts)
    if len(text) <= NAME_WIDTH:
        return text
    return f"{firsts[0]} and {len(firsts) - 1} more commands in one round trip"


def new_nonce() -> str:
    """The markers' random part: a command's own output cannot forge a marker."""
    return secrets.token_hex(8)


def results(node: str, commands: Sequence[Command], become: str, nonce: str, stdout: str,
            stderr: str, elapsed: float, shown: Callable[[str], str] = str) -> list[Result]:
    """A batch script's two streams cut back into one Result per command; `shown` turns a
    command line into the text kept in the Result (redaction)."""
    outs = split(stdout, nonce, len(commands))
    errs = split(stderr, nonce, len(commands))
    return [Result(node=node, command=shown(command.line(become)), status=outs[i][1],
                   stdout=outs[i][0], stderr=errs[i][0], duration=elapsed / len(commands))
            for i, command in enumerate(commands)]


def batch_script(commands: Sequence[Command], become: str, nonce: str) -> str:
    """One shell script: each command, then a marker with its exit status on stdout and a
    marker on stderr. Each command is on its own line: a background one ends with `&`,
    which `;` cannot follow. The printf's leading newline puts the marker at the start
    of a line even after output without a trailing newline; split takes it off again."""
    return "\n".join(f"{command.line(become)}\nprintf '\\n@@{nonce} {i} = %d\\n' $?; "
                     f"printf '\\n@@{nonce} {i} =\\n' >&2" for i, command in enumerate(commands))


def split(text: str, nonce: str, count: int) -> list[tuple[str, int]]:
    """Cut a batch's stream back into per-command (text, status); -1 if a piece is missing.

    A command's output is everything between the previous command's marker and its own.
    """
    pieces: list[tuple[str, int]] = [("", -1)] * count
    marker = f"@@{nonce} "
    buffer: list[str] = []
    for line in text.splitlines(keepends=True):
        words = line[len(marker):].split() if line.startswith(marker) else []
        if len(words) in (2, 3) and words[0].isdigit() and words[1] == "=" \
                and int(words[0]) < count:
            body = "".join(buffer)
            status = int(words[2]) if len(words) == 3 else 0
            pieces[int(words[0])] = (body.removesuffix("\n"), status)
            buffer = []
        else:
            buffer.append(line)
    return pieces
