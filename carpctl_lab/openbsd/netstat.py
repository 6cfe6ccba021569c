"""The emulated netstat(1): only `netstat -s -p carp`, CARP's protocol counters.

Layout of usr.bin/netstat/inet.c carp_stats(): a `carp:` line, then one line
per counter in struct carpstats order, TAB-indented (drop reasons two TABs).
With one `-s` every line prints; with `-ss` only counters that are not zero.
Lines printed with `p` take a plural `s` when the count is not 1; the `p2` lines
never change (`discarded for bad authentication`).
"""

from __future__ import annotations

from ..carp.stats import CarpStats
from ..proc import Proc, Registry

REGISTRY = Registry()

# (counter, format, plural?) in carp_stats()'s order
CARP_LINES = (
    ("ipackets", "\t{} packet{} received (IPv4)", True),
    ("ipackets6", "\t{} packet{} received (IPv6)", True),
    ("badif", "\t\t{} packet{} discarded for bad interface", True),
    ("badttl", "\t\t{} packet{} discarded for wrong TTL", True),
    ("hdrops", "\t\t{} packet{} shorter than header", True),
    ("badsum", "\t\t{} discarded for bad checksum{}", True),
    ("badver", "\t\t{} discarded packet{} with a bad version", True),
    ("badlen", "\t\t{} discarded because packet too short", False),
    ("badauth", "\t\t{} discarded for bad authentication", False),
    ("badvhid", "\t\t{} discarded for unknown vhid", False),
    ("badaddrs", "\t\t{} discarded because of a bad address list", False),
    ("opackets", "\t{} packet{} sent (IPv4)", True),
    ("opackets6", "\t{} packet{} sent (IPv6)", True),
    ("onomem", "\t\t{} send failed due to mbuf memory error", False),
    ("preempt", "\t{} transition{} to master", True),
)
USAGE = "usage: netstat -s [-s] [-f address_family | -p protocol]"


def carp_stats(stats: CarpStats, sflag: int) -> str:
    lines = ["carp:"]
    for counter, text, plural in CARP_LINES:
        value = getattr(stats, counter)
        if value or sflag <= 1:
            lines.append(text.format(value, "" if value == 1 else "s") if plural
                         else text.format(value))
    return "\n".join(lines) + "\n"


@REGISTRY.command("netstat")
def netstat(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    node.pair.advance()
    sflag, protocol = 0, None
    args = argv[1:]
    while args:
        word = args.pop(0)
        if not word.startswith("-") or word == "-":
            return proc.fail(USAGE)
        letters = word[1:]
        while letters:
            letter, letters = letters[0], letters[1:]
            if letter == "s":
                sflag += 1
            elif letter == "p":
                if not letters and not args:
                    return proc.fail(f"netstat: option requires an argument -- p\n{USAGE}")
                protocol, letters = (letters or args.pop(0)), ""
            else:
                return proc.fail(f"netstat: unknown option -- {letter}\n{USAGE}")
    if protocol is not None and protocol != "carp":
        known = ("ip", "icmp", "igmp", "ipencap", "tcp", "udp", "esp", "ah", "etherip", "ipcomp",
                 "pfsync", "pim", "ip6", "icmp6", "divert", "mpls")
        if protocol not in known:
            return proc.fail(f"netstat: {protocol}: unknown or uninstrumented protocol")
        return proc.fail(f"netstat: -p {protocol}: not emulated by the lab (only carp)")
    if not sflag or protocol is None:
        return proc.fail("netstat: not emulated by the lab (only `netstat -s -p carp`)")
    proc.out(carp_stats(node.pair.model.stats(node.name), sflag))
    return 0
