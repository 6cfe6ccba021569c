"""What a flow changed on the nodes, so that a failure can put it back.

A change is recorded before its command is sent: an interrupt or a lost connection
before the answer must still undo it (undoing a change that was not applied is
harmless). Changes are undone newest first; a node that dropped is redialled for a
grace period before its change is reported as left over, with the command that fixes it.

With a session, each change is journaled write-ahead too: a `pending` step (what,
node, its undo and what would be left) before it is sent, then `undo` or `settled`
when it is resolved. A run killed in between (SIGKILL, a crash of the laptop) leaves
the pending step without a resolution: History.unresolved() finds it, so
`history RUN` and `--break-lock` can say what that run may have left on the nodes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from carpctl.errors import RemoteError
from carpctl.remote.commands import Command

if TYPE_CHECKING:
    from carpctl.inventory import Node
    from carpctl.runtime.session import Session

UNDO_GRACE = 15.0   # how long an undo keeps trying to reach a node that dropped


@dataclass(frozen=True)
class Change:
    what: str                    # its name in the journal: demote, unpark, persist ...
    node: Node
    undo: tuple[Command, ...]    # what puts it back
    left: str                    # what is left, and its fix, if the undo cannot be done


class Changes:
    """A flow's changes in the order made; undone in reverse."""

    def __init__(self, session: Session | None = None) -> None:
        self._changes: list[Change] = []
        self._session = session

    def made(self, what: str, node: Node, undo: list[Command], left: str) -> None:
        """Call before sending the change: it is journaled first (write-ahead)."""
        self._changes.append(Change(what, node, tuple(undo), left))
        self._journal(what, "pending", node, undo=[str(c) for c in undo], left=left)

    def settled(self, what: str) -> None:
        """The change is meant to stay (or was put back by the flow itself): no undo."""
        for change in self._changes:
            if change.what == what:
                self._journal(what, "settled", change.node)
        self._changes = [c for c in self._changes if c.what != what]

    def _journal(self, what: str, status: str, node: Node, **data) -> None:
        if self._session is not None:
            self._session.step(what, status, node=node.name, pair=node.pair, **data)

    def __contains__(self, what: object) -> bool:
        return any(c.what == what for c in self._changes)

    def __bool__(self) -> bool:
        return bool(self._changes)

    def undo(self, session: Session, grace: float | None = None) -> list[str]:
        """Put everything back, newest first; what could not be undone, as sentences."""
        grace = UNDO_GRACE if grace is None else grace
        left = []
        for change in reversed(self._changes):
            done = run_retrying(session, change.node, list(change.undo), grace)
            self._journal(change.what, "undone" if done else "left", change.node)
            if not done:
                left.append(change.left)
        self._changes.clear()
        return left


def run_retrying(session: Session, node: Node, commands: list[Command], grace: float) -> bool:
    """Run `commands` in one round trip, redialling for `grace` seconds if the node dropped;
    True when every command succeeded."""
    deadline = time.monotonic() + grace
    while True:
        try:
            results = session.connection(node).batch(commands)
            session.lost.discard((node.pair, node.name))   # reached again
            return all(r.ok for r in results)
        except RemoteError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
