"""What one lab shell process knows: variables, directory, positional parameters.

A subshell, a pipeline stage, a command substitution and a background job each
work on a copy, so `cd` or `VAR=x` inside them do not leak out, as with fork(2).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..proc import NodeLike
from .jobs import Job


class ShellExit(Exception):
    """`exit N`: unwinds to the end of the current shell or subshell."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class JobStopped(Exception):
    """The job was killed, or its node went down: run no further command."""


class LoopControl(Exception):
    """`break N` / `continue N`, unwinding to the N-th enclosing loop."""

    def __init__(self, kind: str, levels: int):
        super().__init__(kind, levels)
        self.kind = kind
        self.levels = levels


def home_of(user: str) -> str:
    return "/root" if user == "root" else f"/home/{user}"


@dataclass
class State:
    node: NodeLike
    user: str
    cwd: str
    vars: dict[str, str]
    exported: set[str]
    params: list[str]
    name: str  # $0, and the prefix of the shell's messages
    job: Job  # what kill and crashes stop
    pid: int  # $$
    script: str | None = None  # a script file: messages say FILE[LINE]: instead
    line: int = 0  # line of the command being run
    status: int = 0  # $?
    last_background: str = ""  # $!
    umask: int = 0o022  # applies to files the shell's redirections create
    errexit: bool = False  # set -e
    pipefail: bool = False  # set -o pipefail
    children: list[Job] = field(default_factory=list)  # what `wait` waits for

    def copy(self) -> State:
        return dataclasses.replace(self, vars=dict(self.vars), exported=set(self.exported),
                                   params=list(self.params), children=[])

    def environ(self) -> dict[str, str]:
        return {name: self.vars[name] for name in self.exported if name in self.vars}

    def prefix(self) -> str:
        """How ksh starts an error message (io.c error_prefix)."""
        if self.script:
            return f"{self.script}[{self.line}]: "
        return f"{self.name}: "
