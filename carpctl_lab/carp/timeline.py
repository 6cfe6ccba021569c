"""The CARP model's pending events: vhid timers and scheduled actions, in time order.

Cancelling is lazy: a timer carries the token its interface had when it was armed,
and an event that no longer applies is skipped when it comes up. Ties at the same
microsecond go in the order the events were added, which makes every race in the
model repeatable.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .state import Iface, Node

if TYPE_CHECKING:
    from .model import CarpModel

Action = Callable[["CarpModel", float], None]


@dataclass(frozen=True)
class Timer:
    """The one pending timer of a vhid: advertisement (MASTER) or master-down (BACKUP)."""

    node: Node
    iface: Iface
    token: int

    def live(self) -> bool:
        n, iface = self.node, self.iface
        return n.powered and n.ifaces.get(iface.name) is iface and iface.token == self.token


@dataclass(frozen=True)
class Scheduled:
    """An action of the lab's (a boot step); bound to a node's boot, or to nothing."""

    action: Action
    node: Node | None
    boot: int

    def live(self) -> bool:
        return self.node is None or (self.node.powered and self.node.boot == self.boot)


Event = Timer | Scheduled


class Timeline:
    """A heap of (microsecond, sequence, event)."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Event]] = []
        self._seq = itertools.count()

    def push(self, when: int, event: Event) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), event))

    def pop_due(self, until: int) -> tuple[int, Event] | None:
        """The earliest live event due at or before `until`, removed; None if there is none."""
        while self._heap and self._heap[0][0] <= until:
            when, _, event = heapq.heappop(self._heap)
            if event.live():
                return when, event
        return None

    def next_time(self) -> int | None:
        while self._heap and not self._heap[0][2].live():
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None
