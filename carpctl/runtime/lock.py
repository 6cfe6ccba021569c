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


@dataclass(frozen=True, kw_only=True)
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
            return cls(run=fields["run"], user=fields["user"], host=fields["host"],
                       pid=int(fields["pid"]), since=float(fields["since"]), command=command)
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
        self.owner = Owner(run=run, user=getpass.getuser(), host=socket.gethostname(),
                           pid=os.getpid(), since=time.time(),
                           command=session.redact(command).replace("\n", " "))
        self.held: list[Node] = []
        self.states: dict = {}            # the read taken with the lock (take)
        self._reported: set[str] = set()

    def __enter__(self) -> PairLock:
        return self.take()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def take(self, facts: tuple[str, ...] = ()) -> PairLock:
        """Take the lock on both nodes at once, each in one exec with a read of `facts`
        (kept in `self.states`; read-only, so harmless when the lock is refused).

        Both nodes are asked concurrently: of two runs racing for one pair, both may be
        refused (each holding one node for a moment), never both let in."""
        from carpctl.runtime.read import exchange

        try:
            done = exchange(self.session, self.pair, facts,
                            before={n.name: [C.take_lock(self.owner.line())]
                                    for n in self.pair.nodes})
            for node in sorted(self.pair.nodes, key=lambda n: n.name):
                if any(r.ok for r in done.before.get(node.name, [])):
                    self.held.append(node)
            self.states = done.states
            for node in sorted(self.pair.nodes, key=lambda n: n.name):
                if node not in self.held:
                    self._refused(node, done.states[node.name], done.before[node.name])
        except BaseException:
            self.release()
            raise
        return self

    def _refused(self, node: Node, state, sent: list) -> None:
        """The lock was not taken on `node`: break a stale one when asked, else say who has it."""
        if not state.reachable:
            raise RefusedError(f"{self.pair.name}: cannot take the lock on {node.name}: "
                               f"{state.error}", hint="every node of the pair must be reachable; "
                                                      "nothing changed")
        conn = self.session.connection(node)
        result = sent[0]
        holder = Owner.parse(conn.run(C.READ_LOCK_OWNER).stdout)
        if holder is not None and holder.is_stale() and (self.break_stale
                                                         or holder.run in self.resuming):
            conn.run(C.BREAK_LOCK, check=True)
            took = "took over the lock" if holder.run in self.resuming else "broke a stale lock"
            self.session.report.warn(f"{node.name}: {took} of {holder.describe()}")
            for line in self._left_by(holder):
                self.session.report.warn(line)
            self.session.step("break-lock", "ok", node=node.name, run=holder.run,
                              holder=holder.line())
            if not conn.run(C.take_lock(self.owner.line())).ok:
                raise RefusedError(f"{self.pair.name}: another run took the lock on "
                                   f"{node.name} right after the stale one was broken")
            self.held.append(node)
            return
        if holder is None:
            raise RefusedError(f"{self.pair.name}: cannot take the lock on {node.name}: "
                               f"{result.output.strip() or 'mkdir ' + LOCK_DIR + ' failed'}")
        stale = " It looks stale: rerun with --break-lock to remove it." if holder.is_stale() else ""
        raise RefusedError(f"{self.pair.name} is locked on {node.name} by {holder.describe()}."
                           f"{stale}", hint="one operator at a time: wait for that run to end")

    def release_with(self, facts: tuple[str, ...]) -> dict:
        """The last read and the unlock in one exec per node; the states read. Nodes lost in
        this run keep their lock (see release)."""
        from carpctl.runtime.read import exchange

        mine = {n.name: [C.release_lock(self.owner.line())] for n in self.held
                if not self.session.is_lost(n)}
        done = exchange(self.session, self.pair, facts, after=mine)
        self.held = [n for n in self.held if not (n.name in done.after and done.after[n.name])]
        return done.states

    def _left_by(self, holder: Owner) -> list[str]:
        """What the dead run may have left on this pair, from its journal when it ran here,
        each with the undo; said once per run (the lock is broken on both nodes)."""
        if holder.run in self._reported:
            return []
        self._reported.add(holder.run)
        restore = f"`carpctl restore {self.pair.name} NODE`"
        history = self.session.history
        journal = history.run(holder.run) if history and holder.host == socket.gethostname() \
            else None
        if journal is None:
            return [f"{self.pair.name}: run {holder.run} died on {holder.host}; its journal "
                    f"is there (`carpctl history {holder.run}`): what it changed is not known "
                    f"here. {restore} puts a node back to its configuration"]
        from carpctl.runtime.history import unresolved

        assert history is not None   # journal came from it
        left = [c for c in unresolved(history.steps(journal.id))
                if c.get("pair") in (None, self.pair.name)]
        if not left:
            return [f"{self.pair.name}: run {holder.run} ({journal.command}) left no change "
                    f"unresolved in its journal"]
        return [f"{self.pair.name}/{c['node']}: {c['what']} from run {holder.run} "
                f"({journal.command}), never restored: {c.get('left', '')}; undo: "
                f"`carpctl restore {self.pair.name} {c['node']}`" for c in left]

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


class Held:
    """A pair lock as a flow sees it: the first read taken with it, the last read that gives
    it back. Under a lock the run already holds (a playbook's failover), both are plain reads
    and the outer holder gives the lock back."""

    def __init__(self, session: Session, pair: Pair, lock: PairLock | None,
                 states: dict) -> None:
        self.session, self.pair, self._lock, self.states = session, pair, lock, states

    def finish(self, facts: tuple[str, ...]) -> dict:
        """The last read; the lock goes back in the same exec when this block took it."""
        if self._lock is None:
            from carpctl.runtime.read import read_pair

            return read_pair(self.session, self.pair, facts)
        return self._lock.release_with(facts)
