"""What the CARP model knows about each node, and what it shows of it.

`CarpView` and `Transition` are the public, frozen views; `Node` and `Iface` are
the model's mutable per-node kernel state (carp.py changes them, nobody else).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .rules import INIT
from .stats import CarpStats

CARP_GROUP = "carp"
KEPT_GROUPS = frozenset({CARP_GROUP, "pfsync"})  # exist without carp members (carpattach, pfsync)

Filter = Callable[[str, str], bool]
"""pf's verdict on a CARP packet: (direction `in`|`out`, carpdev) -> passes."""


def _carp_groups() -> list[str]:
    return [CARP_GROUP]


class CarpModelError(Exception):
    """Base of the model's own errors (ranges are plain ValueError)."""


class NoSuchNode(CarpModelError, LookupError):
    """The name was never given to add_node."""


class NodeDown(CarpModelError):
    """The node is powered off: it has no interfaces and takes no commands."""


class NoSuchInterface(CarpModelError, LookupError):
    """No carp interface of that name on the node."""


class NoSuchGroup(CarpModelError, LookupError):
    """No interface group of that name on the node (`ifconfig -g foo`)."""


@dataclass(frozen=True)
class CarpView:
    """One carp interface as ifconfig would show it."""

    name: str
    vhid: int
    advbase: int
    advskew: int
    carpdev: str
    state: str      # INIT | BACKUP | MASTER
    up: bool        # administratively up (IFF_UP)
    running: bool   # up, with a vhid, on a carpdev with link (IFF_RUNNING)


@dataclass(frozen=True)
class Transition:
    """A state change, as the kernel logs it: `carpN: state transition: A -> B`."""

    time: float
    node: str
    ifname: str
    old: str
    new: str


@dataclass(eq=False)
class Iface:
    """One carp interface with its single vhid (no carpnodes load balancing)."""

    name: str
    vhid: int
    advbase: int
    advskew: int
    carpdev: str
    state: str = INIT
    up: bool = True
    suppressed: bool = False    # carpdev lost link; cleared only when the link comes back
    link_demote: int = 0        # own count (sc_demote_cnt), used when the groups' sum is 0
    token: int = 0              # bumped to cancel the pending timer
    key: str | None = None      # `pass`, the HMAC key; both ends must agree
    groups: list[str] = field(default_factory=_carp_groups)  # join order, `carp` first
    sendad_errors: int = 0      # failed sends in a row (pf blocking carp out)
    sendad_success: int = 0     # good sends since the errors demoted the node

    @property
    def running(self) -> bool:
        return self.up and not self.suppressed

    def view(self) -> CarpView:
        return CarpView(self.name, self.vhid, self.advbase, self.advskew, self.carpdev,
                        self.state, self.up, self.running)


def _fresh_groups() -> dict[str, int]:
    return {CARP_GROUP: 0}


@dataclass(eq=False)
class Node:
    """One emulated kernel: sysctls, group counters, carp interfaces, dead links."""

    name: str
    preempt: bool = False
    allow: bool = True
    powered: bool = True
    groups: dict[str, int] = field(default_factory=_fresh_groups)
    ifaces: dict[str, Iface] = field(default_factory=dict)
    links_down: set[str] = field(default_factory=set)
    boot: int = 0               # bumped at power-off: actions bound to a boot die with it
    stats: CarpStats = field(default_factory=CarpStats)
    filter: Filter | None = None  # the loaded pf rules on CARP; None passes everything

    def power_off(self) -> None:
        """Everything a power cycle loses: interfaces, counters, sysctls, link faults."""
        self.powered = False
        self.boot += 1
        self.preempt, self.allow = False, True
        self.groups = _fresh_groups()
        self.ifaces = {}
        self.links_down = set()
        self.stats = CarpStats()
