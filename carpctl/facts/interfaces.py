"""Interface facts beyond the carp group: groups and their demote counters, link, subnets.

The demote count a carp interface advertises is the sum of the counters of all
its groups (openbsd-reference.md 2.1, 2.4), so carpctl reads `ifconfig -g G`
for every group seen on a carp interface's `groups:` line, not only `carp`.
The full `ifconfig` listing gives each carpdev's and the pfsync syncdev's own
link (`status:`) and subnet, which the two nodes must share.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from carpctl.facts._ifblocks import split_blocks
from carpctl.facts._text import content_lines, fail, to_int

_WHAT_GROUPS = "ifconfig -g GROUP"
_WHAT_ALL = "ifconfig"
_DEMOTE = re.compile(r"(?P<group>[a-z][a-z0-9_-]*): carp demote count (?P<count>[0-9]+)")
_NO_LINK = ("no carrier", "down", "invalid")


@dataclass(frozen=True)
class Interface:
    """One interface of the full listing: its groups, link and IPv4 subnets."""

    name: str
    groups: tuple[str, ...]
    link: bool | None            # None: ifconfig prints no `status:` line for it
    subnets: tuple[str, ...]     # e.g. 192.168.1.0/24


def parse_group_demotes(text: str) -> dict[str, int]:
    """One `G: carp demote count N` line per group read -> {group: N} (repeats agree)."""
    counts: dict[str, int] = {}
    for line in content_lines(text, _WHAT_GROUPS):
        match = _DEMOTE.fullmatch(line.strip())
        if not match:
            fail(_WHAT_GROUPS, line, "expected 'GROUP: carp demote count N'")
        counts[match["group"]] = to_int(match["count"], _WHAT_GROUPS, line, hi=255)
    return counts


def parse_interfaces(text: str) -> dict[str, Interface]:
    """Every block of `ifconfig` by name, with what carpctl compares between nodes."""
    result: dict[str, Interface] = {}
    for block in split_blocks(text, _WHAT_ALL):
        groups: tuple[str, ...] = ()
        link: bool | None = None
        subnets: list[str] = []
        for detail, raw in block.details:
            words = detail.split()
            if words[0] == "groups:":
                groups = tuple(words[1:])
            elif words[0] == "status:":
                link = " ".join(words[1:]) not in _NO_LINK
            elif words[0] == "inet" and len(words) >= 4 and words[2] == "netmask":
                subnets.append(_subnet(words[1], words[3], raw))
        result[block.name] = Interface(block.name, groups, link, tuple(subnets))
    return result


def _subnet(address: str, mask: str, raw: str) -> str:
    try:
        bits = bin(int(mask, 16)).count("1")
        return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))
    except ValueError:
        fail(_WHAT_ALL, raw, "expected `inet ADDR netmask 0xHEX`")
