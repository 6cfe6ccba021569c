"""Does the loaded pf ruleset let a new SSH connection in? (the lab's lockout model)

A real firewall that loads rules without a pass for ssh stops answering new
SSH connections; carpctl's deploy must notice that over a new connection and
its commit-confirmed timer must bring the node back. For the lab to prove that,
its sshd asks this module about every new connection.

The question is one packet: a TCP SYN to port 22 arriving on some interface
from some management host. pf semantics, on the one-line rules `pfctl -sr`
prints (carpctl_lab.conf.pf.PfRuleset.rules): the last matching rule decides,
unless a matching rule is `quick`; no matching rule means pass. A rule matches
when its direction is `in` or unspecified, its proto tcp or unspecified, its
destination port includes 22 or is unspecified, its destination is any, self,
one of the node's addresses (or a network or interface holding one) or
unspecified, and it names no source port (a client's source port is
ephemeral). `on IF` always matches: management may arrive on any interface.
The source address is not known and so not checked. Anchors and `match` rules
decide nothing here.

The verdict is what the client sees: `accept`; `refuse` when a `block return`
(or `return-rst`) rule decides, since pf answers the SYN with a RST; otherwise
`blackhole` (pf drops the SYN and the client times out).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from ..conf import netdb

SSH_PORT = 22
_HEAD_END = frozenset({"on", "inet", "inet6", "proto", "from", "to", "all"})


def ssh_verdict(pf, ifaces: Iterable) -> str:
    """`accept`, `refuse` or `blackhole` for a new SSH connection to a node.

    `pf` is the node's PfState (enabled, ruleset); `ifaces` its interfaces,
    whose addresses count as "the node's address".
    """
    if not pf.enabled or pf.ruleset is None:
        return "accept"
    addresses = tuple(sorted(a.address for iface in ifaces for a in iface.addresses))
    return _verdict(tuple(pf.ruleset.rules), addresses)


@lru_cache(maxsize=256)
def _verdict(rules: tuple[str, ...], addresses: tuple[str, ...]) -> str:
    """The cached core: the lab's sshd asks on every tick, rules rarely change."""
    decision = "accept"
    for rule in rules:
        words = rule.split()
        if not words or words[0] not in ("pass", "block") or not _matches(words, addresses):
            continue
        decision = "accept" if words[0] == "pass" else _blocked(words)
        if "quick" in words:
            break
    return decision


def _blocked(words: list[str]) -> str:
    return "refuse" if words[1] in ("return", "return-rst") else "blackhole"


def _matches(words: list[str], addresses: tuple[str, ...]) -> bool:
    head = words[:next((i for i, w in enumerate(words) if w in _HEAD_END), len(words))]
    if "out" in head:
        return False
    if "proto" in words and words[words.index("proto") + 1] != "tcp":
        return False
    if "to" not in words:
        return True  # `all`: from any to any, no ports
    source = words[words.index("from") if "from" in words else 0:words.index("to")]
    if "port" in source:
        return False
    negated, address, port = _destination(words, words.index("to") + 1)
    if _is_node(address, addresses) == negated:
        return False
    return port is None or _port_includes_ssh(port)


def _destination(words: list[str], at: int) -> tuple[bool, str, list[str] | None]:
    """(negated, address, port words) of the `to` side: `[!] ADDR [port ...]`."""
    negated = words[at] == "!"
    at += negated
    address = words[at]
    port = words[at + 2:at + 5] if at + 1 < len(words) and words[at + 1] == "port" else None
    return negated, address, port


def _is_node(address: str, addresses: tuple[str, ...]) -> bool:
    """any, self, an interface (its addresses or network), or an address/network of the node."""
    if address in ("any", "self"):
        return True
    if address.startswith("<") or address in ("no-route", "urpf-failed"):
        return False  # a table's contents are not known here
    name, _, modifier = address.strip("()").partition(":")
    try:
        network = ipaddress.ip_network(name, strict=False)
    except ValueError:
        return modifier in ("", "0", "network")  # an interface name: the node's own
    return any(ipaddress.ip_address(a) in network for a in addresses)


def _port(name: str) -> int | None:
    return int(name) if name.isdigit() else netdb.service_port(name)


def _port_includes_ssh(spec: list[str]) -> bool:
    """`= ssh`, `!= 80`, `>= 20`, `20:30`, `20 >< 30`, `20 <> 30` (pfctl's printed forms)."""
    if len(spec) >= 3 and spec[1] in ("><", "<>"):
        low, high = _port(spec[0]), _port(spec[2])
        if low is None or high is None:
            return False
        inside = low < SSH_PORT < high
        return inside if spec[1] == "><" else not low <= SSH_PORT <= high
    if spec and ":" in spec[0]:
        low_text, _, high_text = spec[0].partition(":")
        low, high = _port(low_text), _port(high_text)
        return low is not None and high is not None and low <= SSH_PORT <= high
    if len(spec) < 2:
        return False
    op, port = spec[0], _port(spec[1])
    if port is None:
        return False
    return {"=": SSH_PORT == port, "!=": SSH_PORT != port, "<": SSH_PORT < port,
            "<=": SSH_PORT <= port, ">": SSH_PORT > port, ">=": SSH_PORT >= port}.get(op, False)
