"""File descriptors of the lab shell: where each command's output goes.

Commands produce their output as bytes when they finish, so a descriptor is a
sink: a buffer (the SSH channel, a pipe, a command substitution), /dev/null, or
a file opened through the node's filesystem as the running user, so that
permissions and the disk-full fault apply. Like sh, `>` creates or truncates the
file when the redirection is set up, before the command runs; every write then
appends. `2>&1` copies the sink of descriptor 1 at that point, which is what
makes `cmd >f 2>&1` and `cmd 2>&1 >f` differ.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..fs import NodeFS
from .syntax import Redirect, Word

NULL_DEVICE = "/dev/null"


class Sink(Protocol):
    def write(self, data: bytes) -> None:
        """Raises OSError when the data cannot be written (e.g. ENOSPC)."""


class BufferSink:
    """Collects output in memory; background jobs may write concurrently."""

    def __init__(self, buffer: bytearray | None = None):
        self.buffer = bytearray() if buffer is None else buffer
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self.buffer += data


class NullSink:
    def write(self, data: bytes) -> None:
        pass


class FileSink:
    """A file opened for writing; created or truncated when it is opened."""

    def __init__(self, fs: NodeFS, path: str, user: str, *, append: bool, mode: int):
        fs.write_bytes(path, b"", user, append=append, mode=mode)
        self.fs, self.path, self.user = fs, path, user

    def write(self, data: bytes) -> None:
        self.fs.write_bytes(self.path, data, self.user, append=True)


@dataclass
class IO:
    """The standard input and the output descriptors of a command."""

    stdin: bytes = b""
    fds: dict[int, Sink] = field(default_factory=dict)

    def copy(self) -> IO:
        return IO(self.stdin, dict(self.fds))

    def write(self, fd: int, data: bytes) -> None:
        """Best-effort write for the shell's own messages."""
        try:
            self.fds.get(fd, NullSink()).write(data)
        except OSError:
            pass


class RedirectError(Exception):
    """A redirection that failed; the message follows ksh (exec.c iosetup)."""


@dataclass(frozen=True)
class Opener:
    """Who opens redirected files, from where, and the mode of new ones."""

    fs: NodeFS
    user: str
    cwd: str
    umask: int
    expand: Callable[[Word], str]


def redirect(io: IO, redirs: tuple[Redirect, ...], opener: Opener) -> IO:
    """A copy of `io` with `redirs` applied left to right (`io` itself if none)."""
    if not redirs:
        return io
    io = io.copy()
    apply(io, redirs, opener)
    return io


def apply(io: IO, redirs: tuple[Redirect, ...], opener: Opener) -> None:
    """Apply `redirs` to `io` itself (what `exec >file` does to the shell)."""
    expand = opener.expand
    for redir in redirs:
        if redir.heredoc is not None:
            body = redir.heredoc.body
            io.stdin = expand(body).encode("utf-8", "surrogateescape") if body else b""
            continue
        target = expand(redir.target)  # type: ignore[arg-type]
        if redir.op in (">&", "<&"):
            _duplicate(io, redir, target)
        elif redir.op in ("<", "<>"):
            data = _read(opener, target)
            if redir.fd == 0:
                io.stdin = data
        else:
            io.fds[redir.fd] = _open(opener, target, append=redir.op == ">>")


def _duplicate(io: IO, redir: Redirect, target: str) -> None:
    if target == "-":
        io.fds[redir.fd] = NullSink()
    elif redir.op == "<&" and target == "0":
        return
    elif target.isdigit() and int(target) in io.fds and redir.op == ">&":
        io.fds[redir.fd] = io.fds[int(target)]
    else:
        raise RedirectError(f"{redir.op}{target}: bad file descriptor")


def _read(opener: Opener, target: str) -> bytes:
    if target == NULL_DEVICE:
        return b""
    fs = opener.fs
    try:
        return fs.read_bytes(fs.norm(target, opener.cwd), opener.user)
    except OSError as exc:
        raise RedirectError(f"cannot open {target}: {os.strerror(exc.errno)}") from None


def _open(opener: Opener, target: str, *, append: bool) -> Sink:
    if target == NULL_DEVICE:
        return NullSink()
    fs = opener.fs
    try:
        return FileSink(fs, fs.norm(target, opener.cwd), opener.user, append=append,
                        mode=0o666 & ~opener.umask)
    except OSError as exc:
        raise RedirectError(f"cannot create {target}: {os.strerror(exc.errno)}") from None
