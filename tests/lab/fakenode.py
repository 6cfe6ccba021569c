"""A minimal NodeLike for shell and utility tests: files, a lock, a registry, power.

It records every command that reached `before_command` and lets a test install
a hook there (to drop the connection or to look at the lock). `crash()` bumps
the generation and wakes every `sleep`, as a power loss of the real node does.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import pytest

from carpctl_lab import posix
from carpctl_lab.fs import NodeFS
from carpctl_lab.proc import Proc, Registry
from carpctl_lab.shell import run

Hook = Callable[[Proc, list[str]], None]


class FakeNode:
    def __init__(self, root: Path, *, name: str = "fw1", registry: Registry | None = None):
        self.name = name
        self.fs = NodeFS(root)
        self.lock = threading.RLock()
        self.registry = posix.REGISTRY.merged(registry) if registry else posix.REGISTRY
        self.generation = 1
        self.hook: Hook | None = None
        self.commands: list[list[str]] = []
        self._down = threading.Event()
        for path, mode, owner in (("/etc", 0o755, "root"), ("/tmp", 0o1777, "root"),
                                  ("/root", 0o700, "root"), ("/home", 0o755, "root"),
                                  ("/home/admin", 0o755, "admin"), ("/var", 0o755, "root")):
            self.fs.mkdir(path, mode=mode)
            self.fs.chown(path, owner, "wheel" if owner == "root" else owner)

    def before_command(self, proc: Proc, argv: list[str]) -> None:
        self.commands.append(list(argv))
        if self.hook:
            self.hook(proc, argv)

    def sleep(self, seconds: float) -> bool:
        return not self._down.wait(max(0.0, seconds))

    def alive(self, generation: int) -> bool:
        return generation == self.generation

    def crash(self) -> None:
        """Power loss and restart: running jobs stop, sleeps return early."""
        down, self._down = self._down, threading.Event()
        self.generation += 1
        down.set()

    def sh(self, line: str, *, user: str = "root", stdin: bytes = b"",
           cwd: str | None = None) -> tuple[int, str, str]:
        """Run a command line; text output, for assertions."""
        status, out, err = run(self, user, line, stdin=stdin, cwd=cwd)
        return status, out.decode(), err.decode()


@pytest.fixture
def node(tmp_path: Path) -> FakeNode:
    """A fresh node with /etc, /tmp, /root and /home/admin (import it into a test module)."""
    return FakeNode(tmp_path / "fw1")
