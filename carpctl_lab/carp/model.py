"""The lab's CARP model: the election of a set of emulated nodes, with real timing.

The nodes share one segment per vhid. Everything is deterministic code over state
and an explicit clock: every mutating method takes `now` (seconds, monotonic) and
first advances the model to it, running due timers and scheduled actions in time
order. Nothing here reads a clock, sleeps, starts a thread or does I/O, so the lab
can drive it with real time and tests with plain floats.

Advertisements have zero latency but are delivered after the kernel operation that
sent them has finished (a MASTER bowing out is INIT before the peer's answer
arrives). Events due at the same microsecond run in the order they were armed, and
receivers are visited in `add_node` order, so every race has one repeatable winner.
A consequence: two MASTERs never hear each other "at the same time"; the first to
advertise stays MASTER and the other steps down.

The rules themselves live in `rules.py`; the facts come from OpenBSD's
sys/netinet/ip_carp.c 1.370 and sys/net/if.c (see openbsd-reference.md, section 2).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from .membership import Membership
from .rules import (
    BACKUP,
    INIT,
    MASTER,
    USEC,
    Advert,
    interval_us,
    master_down_us,
)
from .state import (
    CARP_GROUP,
    CarpModelError,
    CarpView,
    Filter,
    Iface,
    Node,
    NodeDown,
    NoSuchGroup,
    NoSuchInterface,
    NoSuchNode,
    Transition,
)
from .stats import CarpStats
from .timeline import Action, Scheduled, Timeline, Timer
from .wire import Wire

__all__ = [
    "CarpModel", "CarpModelError", "CarpView", "NoSuchGroup", "NoSuchInterface", "NoSuchNode",
    "NodeDown", "Transition",
]

MAX_DEMOTE = 255


def _to_us(seconds: float) -> int:
    return round(seconds * USEC)


def _check_range(what: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{what} {value} outside {low}..{high}")


class CarpModel(Membership, Wire):
    """One pair (or more generally a set of nodes on shared segments) and its vhids."""

    def __init__(self) -> None:
        self.transitions: list[Transition] = []
        self._nodes: dict[str, Node] = {}
        self._now = 0                       # microseconds
        self._timeline = Timeline()
        self._outbox: deque[tuple[Node, Advert]] = deque()
        self._dispatching = False

    # -- nodes and their settings ----------------------------------------------------
    def add_node(self, node: str, *, preempt: bool = False, allow: bool = True) -> None:
        if node in self._nodes:
            raise ValueError(f"node {node!r} already exists")
        self._nodes[node] = Node(node, preempt=preempt, allow=allow)

    def set_preempt(self, node: str, value: bool, now: float) -> None:
        """net.inet.carp.preempt: read by a BACKUP when it hears a slower MASTER."""
        self._live(node, now).preempt = value

    def set_allow(self, node: str, value: bool, now: float) -> None:
        """net.inet.carp.allow: 0 drops every CARP packet the node receives (after counting it)."""
        self._live(node, now).allow = value

    def set_filter(self, node: str, verdict: Filter | None) -> None:
        """pf on the node's CARP packets: consulted per packet, so new rules act at once.

        The caller advances the model before changing what the filter answers.
        """
        self._node(node).filter = verdict

    # -- interface configuration (ifconfig carpN ...) --------------------------------
    def configure(self, node: str, ifname: str, now: float, *, vhid: int, advbase: int = 1,
                  advskew: int = 0, carpdev: str = "em0", key: str | None = None) -> None:
        """Create or reconfigure a carp interface (SIOCSVH).

        A new interface is up, as its address makes it. A new carpdev or vhid
        restarts the interface silently from INIT; every call re-arms the timers.
        """
        n = self._live(node, now)
        _check_range("vhid", vhid, 1, 255)
        _check_range("advbase", advbase, 0, 254)
        _check_range("advskew", advskew, 0, 254)
        for other in n.ifaces.values():
            if other.name != ifname and (other.carpdev, other.vhid) == (carpdev, vhid):
                raise ValueError(f"vhid {vhid} already used by {other.name} on {carpdev}")
        iface = n.ifaces.get(ifname)
        if iface is None:
            iface = n.ifaces[ifname] = Iface(ifname, vhid, advbase, advskew, carpdev, key=key)
            self._carpdev_state(n, iface)
        else:
            if carpdev != iface.carpdev:
                self._detach(n, iface)
                iface.carpdev, iface.up = carpdev, True
                self._carpdev_state(n, iface)
            if vhid != iface.vhid:
                self._set_state(n, iface, INIT)
                iface.vhid = vhid
            iface.advbase, iface.advskew = advbase, advskew
        self._setrun(n, iface)
        self._flush()

    def remove_interface(self, node: str, ifname: str, now: float) -> None:
        """ifconfig carpN destroy: silent (no bow-out), like a crash for that vhid."""
        n = self._live(node, now)
        self._detach(n, self._iface(n, ifname))
        del n.ifaces[ifname]
        self._flush()

    def set_advskew(self, node: str, ifname: str, value: int, now: float) -> None:
        """New skew at once; a MASTER's next advertisement comes I_new later."""
        _check_range("advskew", value, 0, 254)
        n = self._live(node, now)
        iface = self._iface(n, ifname)
        iface.advskew = value
        self._setrun(n, iface)

    def set_advbase(self, node: str, ifname: str, value: int, now: float) -> None:
        _check_range("advbase", value, 0, 254)
        n = self._live(node, now)
        iface = self._iface(n, ifname)
        iface.advbase = value
        self._setrun(n, iface)

    def set_state(self, node: str, ifname: str, state: str, now: float) -> None:
        """ifconfig carpN state master|backup; an INIT interface ignores it."""
        wanted = state.upper()
        if wanted not in (MASTER, BACKUP):
            raise ValueError(f"state {state!r} is neither master nor backup")
        n = self._live(node, now)
        iface = self._iface(n, ifname)
        if iface.state not in (INIT, wanted):
            if wanted == BACKUP:
                self._set_state(n, iface, BACKUP)
            else:
                self._master_down(n, iface)
        self._setrun(n, iface)
        self._flush()

    def if_down(self, node: str, ifname: str, now: float) -> None:
        """ifconfig carpN down: a MASTER bows out (advbase/advskew 255), then INIT."""
        n = self._live(node, now)
        self._if_down(n, self._iface(n, ifname))
        self._flush()

    def if_up(self, node: str, ifname: str, now: float) -> None:
        """ifconfig carpN up: INIT -> BACKUP with a fresh master-down (if the link is up)."""
        n = self._live(node, now)
        iface = self._iface(n, ifname)
        iface.up = True
        if iface.state == INIT:
            self._setrun(n, iface)

    # -- demotion and links ------------------------------------------------------------
    def carpdemote(self, node: str, delta: int, now: float, *, group: str = CARP_GROUP) -> None:
        """ifconfig -g GROUP [-]carpdemote N: the counter must stay within 0..255 (EINVAL).

        Raising it makes every MASTER of the group advertise at once, so the peer
        takes over within one exchange; lowering it sends nothing.
        """
        n = self._live(node, now)
        if group not in n.groups:
            raise NoSuchGroup(f"{node}: no interface group {group!r}")
        value = n.groups[group] + delta
        if not 0 <= value <= MAX_DEMOTE:
            raise ValueError(f"{node}: demote counter of group {group} would be {value}, "
                             f"outside 0..{MAX_DEMOTE} (EINVAL)")
        n.groups[group] = value
        if delta > 0:
            self._advertise_masters(n, group)
        self._flush()

    def demote_adjust(self, node: str, delta: int, now: float, *,
                      groups: Iterable[str] = (CARP_GROUP,)) -> None:
        """The kernel's own adjustment (carp_group_demote_adj), as pfsync uses it.

        pfsync0 is in groups `carp` and `pfsync`: +32 while its bulk update runs,
        +1 while its syncdev has no link. Unlike carpdemote this never fails
        (counters stop at 0) and MASTERs advertise at once only when a counter
        becomes exactly 1; pfsync's +32 travels with the next regular advertisement.
        """
        self._adjust(self._live(node, now), delta, groups)
        self._flush()

    def set_link(self, node: str, dev: str, up: bool, now: float) -> None:
        """Link state of a physical carpdev (carp_carpdev_state).

        Down: its carp interfaces go INIT silently and the node is demoted by 1
        per interface; the first demotion makes every other MASTER advertise, so
        the peer takes those vhids at once. Up: BACKUP again, demotion undone.
        """
        n = self._live(node, now)
        if up == (dev not in n.links_down):
            return
        if up:
            n.links_down.discard(dev)
        else:
            n.links_down.add(dev)
        for iface in list(n.ifaces.values()):
            if iface.carpdev == dev:
                self._carpdev_state(n, iface)
        self._flush()

    # -- power ---------------------------------------------------------------------------
    def crash(self, node: str, now: float) -> None:
        """Power loss or panic: nothing is sent; the peer notices by silence."""
        self._live(node, now).power_off()

    def shutdown(self, node: str, now: float) -> None:
        """rc shutdown: `ifconfig carpN down` for every interface, then off."""
        n = self._live(node, now)
        for iface in list(n.ifaces.values()):
            self._if_down(n, iface)
            self._flush()
        n.power_off()

    def power_on(self, node: str, now: float) -> None:
        """On again, as a kernel starts: no carp interfaces, demote 0, default sysctls."""
        self.advance(now)
        n = self._node(node)
        if n.powered:
            raise CarpModelError(f"node {node!r} is already powered on")
        n.powered = True

    # -- time ------------------------------------------------------------------------------
    def schedule(self, at: float, action: Action, *, node: str | None = None) -> None:
        """Run `action(model, at)` inside advance(), in time order with the CARP timers.

        With `node` (which must be powered), the action is dropped if that node
        powers off before `at`: a boot step of a boot that was cut short. An `at` in
        the past runs at the next advance(). Model methods called by the action
        apply at its time. An exception from the action propagates out of advance()
        (the event is consumed, the model stays consistent): an action that may
        fail, like rc's `-carpdemote 128` after an operator lowered the counter,
        should catch ValueError itself.
        """
        bound = self._live(node, None) if node is not None else None
        item = Scheduled(action, bound, bound.boot if bound else 0)
        self._timeline.push(max(_to_us(at), self._now), item)

    def advance(self, now: float) -> None:
        """Run every timer and scheduled action due at or before `now`, in time order.

        An older `now` is ignored: time never goes backwards. Called from inside a
        scheduled action it does nothing, so the action acts at its own time.
        """
        if self._dispatching:
            return
        target = max(self._now, _to_us(now))
        self._dispatching = True
        try:
            while (due := self._timeline.pop_due(target)) is not None:
                self._now, event = due
                if isinstance(event, Timer):
                    self._fire(event)
                else:
                    event.action(self, self._now / USEC)
                self._flush()
            self._now = target
        finally:
            self._dispatching = False

    def next_event_time(self) -> float | None:
        """When the next timer or scheduled action is due, or None if nothing is pending."""
        when = self._timeline.next_time()
        return None if when is None else when / USEC

    # -- views -------------------------------------------------------------------------------
    def interfaces(self, node: str) -> list[CarpView]:
        """The node's carp interfaces in creation order; none while powered off."""
        return [iface.view() for iface in self._node(node).ifaces.values()]

    def state(self, node: str, ifname: str) -> str:
        return self._iface(self._node(node), ifname).state

    def demote(self, node: str, group: str = CARP_GROUP) -> int:
        """The group's demote counter (`ifconfig -g carp`); 0 while powered off."""
        n = self._node(node)
        if group not in n.groups:
            raise NoSuchGroup(f"{node}: no interface group {group!r}")
        return n.groups[group]

    def preempt(self, node: str) -> bool:
        return self._node(node).preempt

    def stats(self, node: str) -> CarpStats:
        """The node's CARP counters as `netstat -s -p carp` reads them (a copy)."""
        return self._node(node).stats.copy()

    def groups(self, node: str, ifname: str) -> list[str]:
        """The carp interface's groups in join order (ifconfig's `groups:` line)."""
        return list(self._iface(self._node(node), ifname).groups)

    def allow(self, node: str) -> bool:
        return self._node(node).allow

    def powered(self, node: str) -> bool:
        return self._node(node).powered

    def link_up(self, node: str, dev: str) -> bool:
        return dev not in self._node(node).links_down

    # -- lookups -----------------------------------------------------------------------------
    def _node(self, name: str) -> Node:
        try:
            return self._nodes[name]
        except KeyError:
            raise NoSuchNode(f"no node {name!r}") from None

    def _live(self, name: str, now: float | None) -> Node:
        """The powered node, after bringing the model up to `now`."""
        if now is not None:
            self.advance(now)
        n = self._node(name)
        if not n.powered:
            raise NodeDown(f"node {name!r} is powered off")
        return n

    @staticmethod
    def _iface(n: Node, ifname: str) -> Iface:
        try:
            return n.ifaces[ifname]
        except KeyError:
            raise NoSuchInterface(f"{n.name}: {ifname}: no such interface") from None

    # -- the kernel's moves ----------------------------------------------------------------
    def _set_state(self, n: Node, iface: Iface, new: str) -> None:
        """Change state and cancel the old state's timer; callers arm the new one."""
        if iface.state == new:
            return
        self.transitions.append(Transition(self._now / USEC, n.name, iface.name, iface.state, new))
        iface.state = new
        iface.token += 1

    def _setrun(self, n: Node, iface: Iface) -> None:
        """carp_setrun: a running INIT becomes BACKUP; (re)arm the state's timer from now."""
        if not iface.running:
            return
        if iface.state == INIT:
            self._set_state(n, iface, BACKUP)
        if iface.state == BACKUP:
            self._arm(n, iface, master_down_us(iface.advbase, iface.advskew))
        else:
            self._arm(n, iface, interval_us(iface.advbase, iface.advskew))

    def _arm(self, n: Node, iface: Iface, delay_us: int) -> None:
        iface.token += 1
        self._timeline.push(self._now + delay_us, Timer(n, iface, iface.token))

    def _fire(self, timer: Timer) -> None:
        """The one pending timer of a vhid: a MASTER's advertisement or a BACKUP's master-down."""
        if timer.iface.state == MASTER:
            self._send(timer.node, timer.iface)
        else:
            self._master_down(timer.node, timer.iface)

    def _master_down(self, n: Node, iface: Iface) -> None:
        """carp_master_down: a BACKUP becomes MASTER and advertises at once."""
        if iface.state == BACKUP:
            self._set_state(n, iface, MASTER)
            self._send(n, iface)
            n.stats.preempt += 1

    def _if_down(self, n: Node, iface: Iface) -> None:
        if iface.state == MASTER:
            self._send(n, iface, bow_out=True)
        iface.up = False
        self._set_state(n, iface, INIT)

    def _demote_count(self, n: Node, iface: Iface) -> int:
        """carp_group_demote_count: the sum over the interface's groups, else its own count."""
        total = sum(n.groups.get(group, 0) for group in iface.groups)
        return min(total or iface.link_demote, MAX_DEMOTE)

    def _adjust(self, n: Node, delta: int, groups: Iterable[str],
                iface: Iface | None = None) -> None:
        """carp_group_demote_adj: counters stop at 0; a counter reaching 1 triggers ads."""
        if iface is not None:
            iface.link_demote = max(0, iface.link_demote + delta)
        need_ad = False
        for group in groups:
            n.groups[group] = max(0, n.groups.get(group, 0) + delta)
            need_ad |= delta > 0 and n.groups[group] == 1
        if need_ad:
            self._advertise_masters(n)

    def _carpdev_state(self, n: Node, iface: Iface) -> None:
        """Follow the carpdev's link: suppress (and demote once) or resume."""
        if iface.carpdev in n.links_down:
            self._set_state(n, iface, INIT)
            if not iface.suppressed:
                iface.suppressed = True
                self._adjust(n, 1, iface.groups, iface)
        elif iface.suppressed:
            self._set_state(n, iface, INIT)
            iface.suppressed = False
            self._setrun(n, iface)
            self._adjust(n, -1, iface.groups, iface)

    def _detach(self, n: Node, iface: Iface) -> None:
        """carpdetach: INIT without a word, the interface's link demotion given back."""
        if iface.link_demote:
            self._adjust(n, -iface.link_demote, iface.groups, iface)
        iface.suppressed = False
        iface.up = False
        self._set_state(n, iface, INIT)
