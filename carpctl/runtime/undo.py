"""What a flow changed on the nodes, so that a failure can put it back.

A change is recorded before its command is sent: an interrupt or a lost connection
before the answer must still undo it (undoing a change that was not applied is
harmless). Changes are undone newest first; a node that dropped is redialled for a
grace period before its change is reported as left over, with the command that fixes it.
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

    def __init__(self) -> None:
        self._changes: list[Change] = []

    def made(self, what: str, node: Node, undo: list[Command], left: str) -> None:
        self._changes.append(Change(what, node, tuple(undo), left))

    def settled(self, what: str) -> None:
        """The change is meant to stay (or was put back by the flow itself): no undo."""
        self._changes = [c for c in self._changes if c.what != what]

    def __contains__(self, what: object) -> bool:
        return any(c.what == what for c in self._changes)

    def __bool__(self) -> bool:
        return bool(self._changes)

    def undo(self, session: Session, grace: float | None = None) -> list[str]:
        """Put everything back, newest first; what could not be undone, as sentences."""
        grace = UNDO_GRACE if grace is None else grace
        left = [change.left for change in reversed(self._changes)
                if not run_retrying(session, change.node, list(change.undo), grace)]
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
