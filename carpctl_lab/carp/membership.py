"""What a carp interface is besides its timers: its `pass` and its interface groups.

A mixin of CarpModel: the HMAC key an advertisement must carry to be accepted
(wire.py checks it), the groups whose demote counters the interface sums
(carp_group_demote_count), and damaged packets for the counters' sake.
"""

from __future__ import annotations

from .state import KEPT_GROUPS, NoSuchGroup
from .stats import MALFORMED


class Membership:
    """`ifconfig carpN pass|group|-group` on the model (uses CarpModel's lookups)."""

    def set_key(self, node: str, ifname: str, key: str, now: float) -> None:
        """`ifconfig carpN pass KEY` (SIOCSVH): the HMAC key changes at once, nothing is sent.

        ifconfig copies at most 19 bytes (strlcpy into CARP_KEY_LEN 20) and the
        kernel ignores an empty key, so `pass ""` keeps the old one.
        """
        iface = self._iface(self._live(node, now), ifname)
        if key:
            iface.key = key[:19]

    def add_group(self, node: str, ifname: str, group: str, now: float) -> None:
        """`ifconfig carpN group G`: joins after the groups it has; a new group counts 0."""
        n = self._live(node, now)
        iface = self._iface(n, ifname)
        if group not in iface.groups:
            iface.groups.append(group)
            n.groups.setdefault(group, 0)

    def create_group(self, node: str, group: str, now: float) -> None:
        """A group that exists on the node (some interface joined it) gets a counter of 0."""
        self._live(node, now).groups.setdefault(group, 0)

    def remove_group(self, node: str, ifname: str, group: str, now: float) -> None:
        """`ifconfig carpN -group G`; a group its last member leaves is gone, counter and all."""
        n = self._live(node, now)
        iface = self._iface(n, ifname)
        if group not in iface.groups:
            raise NoSuchGroup(f"{node}: {ifname} is not in group {group!r}")
        iface.groups.remove(group)
        if group not in KEPT_GROUPS and not any(group in i.groups for i in n.ifaces.values()):
            del n.groups[group]

    def inject_malformed(self, node: str, carpdev: str, damage: str, now: float) -> None:
        """A damaged advertisement (`ttl`, `short`, `checksum`, `version`) arrives on carpdev."""
        if damage not in MALFORMED:
            raise ValueError(f"unknown damage {damage!r}; known: {', '.join(MALFORMED)}")
        self._inject_malformed(self._live(node, now), carpdev, damage)
