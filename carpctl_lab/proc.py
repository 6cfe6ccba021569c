"""The contract between the lab's shell, its emulated commands and the node.

A command is a plain function `(proc, argv) -> exit status`. It reads `proc.stdin`,
writes `proc.stdout`/`proc.stderr`, and reaches the node's files and state
through `proc.node`. The shell (shell.py) parses command lines and calls commands
through a Registry; the node (node.py) supplies the files, the state and the hooks
that inject faults.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .fs import NodeFS


class DropConnection(Exception):
    """Raised from a hook to cut the SSH connection in the middle of a command."""


class NodeLike(Protocol):
    """What the shell and commands may use of a node."""

    name: str            # the emulated hostname, e.g. "fw1"
    fs: NodeFS
    lock: threading.RLock  # held while a command touches node state
    registry: Registry

    def before_command(self, proc: Proc, argv: list[str]) -> None:
        """Fault hook run before every simple command (delay, drop, ...)."""

    def sleep(self, seconds: float) -> bool:
        """Sleep unless the node goes down first; False if it went down."""

    def alive(self, generation: int) -> bool:
        """Whether the node is still in the boot `generation` (no crash/reboot since)."""

    generation: int      # bumped by every crash and reboot


@dataclass
class Proc:
    """One running emulated command: who runs it, where, and its streams."""

    node: NodeLike
    user: str
    cwd: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes = b""
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)

    def out(self, text: str) -> None:
        self.stdout += text.encode()

    def err(self, text: str) -> None:
        self.stderr += text.encode()

    def fail(self, message: str, status: int = 1) -> int:
        """Print one error line on stderr and return `status`."""
        self.err(message.rstrip("\n") + "\n")
        return status

    def child(self, *, stdin: bytes = b"", user: str | None = None) -> Proc:
        """A process for a sub-command: same node and environment, fresh streams."""
        return Proc(self.node, user or self.user, self.cwd, dict(self.env), stdin)

    @property
    def root(self) -> bool:
        return self.user == "root"


Command = Callable[[Proc, list[str]], int]


@dataclass(frozen=True)
class CommandSpec:
    func: Command
    locked: bool = True  # run under node.lock; False for commands that wait (sleep)


class Registry:
    """Name -> command. Names are bare (`ifconfig`); the shell strips /sbin/ etc."""

    def __init__(self) -> None:
        self._commands: dict[str, CommandSpec] = {}

    def command(self, *names: str, locked: bool = True) -> Callable[[Command], Command]:
        def register(func: Command) -> Command:
            for name in names:
                self._commands[name] = CommandSpec(func, locked)
            return func
        return register

    def get(self, name: str) -> CommandSpec | None:
        return self._commands.get(name)

    def names(self) -> list[str]:
        return sorted(self._commands)

    def merged(self, *others: Registry) -> Registry:
        """A registry holding this one's commands and then the others' (later wins)."""
        merged = Registry()
        for reg in (self, *others):
            merged._commands.update(reg._commands)
        return merged
