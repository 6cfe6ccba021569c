"""One operator at a time per pair: a lock directory held on both nodes.

`mkdir` is atomic on the node, so two carpctl runs (from two laptops) cannot
both take it. The directory holds an `owner` line that says who, from where,
since when and for which run, so a refusal can name the holder, and a lock
left by a run that died can be recognised and broken explicitly.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from carpctl.errors import RefusedError, RemoteError
from carpctl.remote import commands as C
from carpctl.remote.paths import LOCK_DIR

if TYPE_CHECKING:
    from carpctl.inventory import Node, Pair
    from carpctl.runtime.session import Session

STALE_AFTER = 6 * 3600  # a lock this old belongs to a run that did not clean up


@dataclass(frozen=True)
class Owner:
    run: str
    user: str
    host: str
    pid: int
    since: float
    command: str

    def line(self) -> str:
        return (f"run={self.run} user={self.user} host={self.host} pid={self.pid} "
                f"since={self.since:.0f} command={self.command}")

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        fields: dict[str, str] = {}
        head, _, command = text.strip().partition(" command=")
        for word in head.split():
            key, _, value = word.partition("=")
            fields[key] = value
        try:
            return cls(fields["run"], fields["user"], fields["host"], int(fields["pid"]),
                       float(fields["since"]), command)
        except (KeyError, ValueError):
            return None

    def describe(self) -> str:
        age = time.time() - self.since
        return (f"{self.user}@{self.host} (pid {self.pid}, run {self.run}) since "
                f"{time.strftime('%H:%M:%S', time.localtime(self.since))} ({age / 60:.0f} min): "
                f"{self.command}")

    def is_stale(self) -> bool:
        """Stale when it is very old, or its process on this very machine is gone."""
        if time.time() - self.since > STALE_AFTER:
            return True
        if self.host == socket.gethostname():
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
        return False


class PairLock:
    """Held on both nodes of a pair for the life of a `with` block; flows take it through
    the re-entrant Session.lock()."""

    def __init__(self, session: Session, pair: Pair, command: str, *, break_stale: bool = False,
                 resuming: frozenset[str] = frozenset()):
        self.session = session
        self.pair = pair
        self.break_stale = break_stale
        self.resuming = resuming   # runs this one continues: their stale lock is taken over
        run = session.run.id if session.run else "-"
        self.owner = Owner(run, getpass.getuser(), socket.gethostname(), os.getpid(),
                           time.time(), session.redact(command).replace("\n", " "))
        self.held: list[Node] = []

    def __enter__(self) -> PairLock:
        try:
            for node in sorted(self.pair.nodes, key=lambda n: n.name):
                self._take(node)
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _take(self, node: Node) -> None:
        conn = self.session.connection(node)
        try:
            result = conn.run(C.take_lock(self.owner.line()))
        except RemoteError as exc:
            raise RefusedError(f"{self.pair.name}: cannot take the lock on {node.name}: "
                               f"{exc.message.removeprefix(node.name + ': ')}",
                               hint="every node of the pair must be reachable; nothing "
                                    "changed") from None
        if result.ok:
            self.held.append(node)
            return
        holder = Owner.parse(conn.run(C.READ_LOCK_OWNER).stdout)
        if holder is not None and holder.is_stale() and (self.break_stale
                                                         or holder.run in self.resuming):
            conn.run(C.BREAK_LOCK, check=True)
            took = "took over the lock" if holder.run in self.resuming else "broke a stale lock"
            self.session.report.warn(f"{node.name}: {took} of {holder.describe()}")
            self._take(node)
            return
        if holder is None:
            raise RefusedError(f"{self.pair.name}: cannot take the lock on {node.name}: "
                               f"{result.output.strip() or 'mkdir ' + LOCK_DIR + ' failed'}")
        stale = " It looks stale: rerun with --break-lock to remove it." if holder.is_stale() else ""
        raise RefusedError(f"{self.pair.name} is locked on {node.name} by {holder.describe()}."
                           f"{stale}", hint="one operator at a time: wait for that run to end")

    def release(self) -> None:
        """Give the lock back on every node where it is held (best effort, never raises)."""
        for node in reversed(self.held):
            if self.session.is_lost(node):
                self.session.report.warn(f"{node.name}: unreachable, lock {LOCK_DIR} left there; the "
                                      f"next run will see it as stale (--break-lock)")
                continue
            try:
                self.session.connection(node).run(C.release_lock(self.owner.line()))
            except RemoteError as exc:
                self.session.report.warn(f"{node.name}: could not release the lock ({exc}); "
                                      f"remove {LOCK_DIR} by hand or use --break-lock")
        self.held.clear()
