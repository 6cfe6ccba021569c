"""How advertisements travel between the model's nodes, and what each end counts.

A segment is a carpdev name: `em0` of one node and `em0` of the other are on
the same wire (as in the lab's image). Sending (carp_send_ad) counts the packet,
then pf decides on the way out; a packet pf drops is a send error, and three in
a row per vhid demote the interface's groups by 1 (CARP_SENDAD_MAX_ERRORS), undone
after as many good sends. Receiving follows carp_proto_input and
carp_proto_input_c: a node without link on the segment hears nothing, pf may drop
the packet before carp sees it, then every carp interface that is up on that
carpdev gets a copy (carp_input duplicates multicast), and for each copy
`received` counts first, then `net.inet.carp.allow`, the vhid, the HMAC of
`pass` (bad authentication), and only then the election rules.
"""

from __future__ import annotations

from collections import deque

from .rules import BOW_OUT, MASTER, Advert, Verdict, interval_us, judge
from .state import Iface, Node
from .stats import MALFORMED

MAX_SEND_ERRORS = 3   # CARP_SENDAD_MAX_ERRORS(sc) = 3 * vhids of the interface (one here)
MIN_SEND_SUCCESS = 3


class Wire:
    """The send and receive half of CarpModel (a mixin: it uses the model's state moves)."""

    _nodes: dict[str, Node]
    _outbox: deque[tuple[Node, Advert]]

    def _send(self, n: Node, iface: Iface, *, bow_out: bool = False) -> None:
        """carp_send_ad: count, let pf decide, queue; the next is due I later, none after bow-out."""
        base, skew = (BOW_OUT, BOW_OUT) if bow_out else (iface.advbase, iface.advskew)
        if iface.carpdev not in n.links_down:
            n.stats.opackets += 1
            if _passes(n, "out", iface.carpdev):
                self._outbox.append((n, Advert(iface.vhid, base, skew, self._demote_count(n, iface),
                                               iface.key, iface.carpdev)))
                self._send_ok(n, iface)
            else:
                self._send_failed(n, iface)
        if not bow_out:
            self._arm(n, iface, interval_us(iface.advbase, iface.advskew))

    def _send_failed(self, n: Node, iface: Iface) -> None:
        iface.sendad_errors += 1
        iface.sendad_success = 0
        if iface.sendad_errors == MAX_SEND_ERRORS:
            self._adjust(n, 1, iface.groups, iface)

    def _send_ok(self, n: Node, iface: Iface) -> None:
        if iface.sendad_errors < MAX_SEND_ERRORS:
            iface.sendad_errors = 0
            return
        iface.sendad_success += 1
        if iface.sendad_success >= MIN_SEND_SUCCESS:
            self._adjust(n, -1, iface.groups, iface)
            iface.sendad_errors = iface.sendad_success = 0

    def _advertise_masters(self, n: Node, group: str | None = None) -> None:
        """Every running MASTER (of `group`, or all) advertises now (carp_send_ad_all)."""
        for iface in list(n.ifaces.values()):
            if iface.running and iface.state == MASTER and (group is None or group in iface.groups):
                self._send(n, iface)

    def _flush(self) -> None:
        """Deliver queued advertisements, and the answers they provoke, until quiet."""
        while self._outbox:
            sender, advert = self._outbox.popleft()
            for n in list(self._nodes.values()):
                if n is not sender:
                    for copy in _copies(n, advert.carpdev):
                        n.stats.ipackets += 1
                        if n.allow:
                            self._carp_input(n, copy, advert)

    def _carp_input(self, n: Node, arrived_on: Iface, advert: Advert) -> None:
        """carp_proto_input_c for one copy: vhid, then authentication, then the rules."""
        del arrived_on  # the copy's interface only decides that it was counted
        target = next((i for i in n.ifaces.values()
                       if i.carpdev == advert.carpdev and i.vhid == advert.vhid), None)
        if target is None or not (target.up and target.running):
            n.stats.badvhid += 1
        elif target.key != advert.key:
            n.stats.badauth += 1
        else:
            self._receive(n, target, advert)

    def _receive(self, n: Node, iface: Iface, advert: Advert) -> None:
        verdict = judge(iface.state, advbase=iface.advbase, advskew=iface.advskew,
                        demote=self._demote_count(n, iface), preempt=n.preempt, advert=advert)
        if verdict is Verdict.STEP_DOWN:
            self._set_state(n, iface, "BACKUP")
            self._setrun(n, iface)
        elif verdict is Verdict.TAKE_OVER:
            self._master_down(n, iface)
        elif verdict is Verdict.WAIT:
            self._setrun(n, iface)

    def _inject_malformed(self, n: Node, carpdev: str, damage: str) -> None:
        """A damaged advertisement reaches the node: counted, then dropped by its check."""
        counter = MALFORMED[damage]
        for _ in _copies(n, carpdev):
            n.stats.ipackets += 1
            if n.allow:
                setattr(n.stats, counter, getattr(n.stats, counter) + 1)


def _passes(n: Node, direction: str, carpdev: str) -> bool:
    return n.filter is None or n.filter(direction, carpdev)


def _copies(n: Node, carpdev: str) -> list[Iface]:
    """The node's carp interfaces that get a copy of a packet arriving on `carpdev`."""
    if not n.powered or carpdev in n.links_down or not _passes(n, "in", carpdev):
        return []
    return [i for i in n.ifaces.values() if i.carpdev == carpdev and i.up]
