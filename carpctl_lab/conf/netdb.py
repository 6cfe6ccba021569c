"""The lab node's /etc/services, /etc/protocols and ICMP type names.

pfctl and relayd resolve `port NAME` and `proto NAME` through getservbyname()
and getprotobyname(), so an unknown name is a config error on a real firewall
and must be one in the lab. These tables hold the names a firewall pair's
configs use, spelled as OpenBSD's files spell them (port 80 is `www`, with
`http` as an alias); anything else is unknown. A small table is a deliberate
choice: the lab never consults the host's own /etc/services, whose contents
differ between the machines tests run on.
"""

from __future__ import annotations

import ipaddress
import re

# canonical name: (port, protocols, aliases)
_SERVICES: dict[str, tuple[int, frozenset[str], tuple[str, ...]]] = {
    "ftp-data": (20, frozenset({"tcp"}), ()),
    "ftp": (21, frozenset({"tcp"}), ()),
    "ssh": (22, frozenset({"tcp", "udp"}), ()),
    "telnet": (23, frozenset({"tcp"}), ()),
    "smtp": (25, frozenset({"tcp"}), ("mail",)),
    "domain": (53, frozenset({"tcp", "udp"}), ()),
    "bootps": (67, frozenset({"udp"}), ()),
    "bootpc": (68, frozenset({"udp"}), ()),
    "tftp": (69, frozenset({"udp"}), ()),
    "www": (80, frozenset({"tcp"}), ("http",)),
    "kerberos": (88, frozenset({"tcp", "udp"}), ()),
    "pop3": (110, frozenset({"tcp"}), ()),
    "sunrpc": (111, frozenset({"tcp", "udp"}), ("rpcbind",)),
    "auth": (113, frozenset({"tcp"}), ("ident",)),
    "ntp": (123, frozenset({"tcp", "udp"}), ()),
    "imap": (143, frozenset({"tcp"}), ("imap2",)),
    "snmp": (161, frozenset({"udp"}), ()),
    "snmptrap": (162, frozenset({"udp"}), ()),
    "bgp": (179, frozenset({"tcp"}), ()),
    "ldap": (389, frozenset({"tcp", "udp"}), ()),
    "https": (443, frozenset({"tcp", "udp"}), ()),
    "isakmp": (500, frozenset({"udp"}), ()),
    "syslog": (514, frozenset({"udp"}), ()),
    "submission": (587, frozenset({"tcp"}), ()),
    "ldaps": (636, frozenset({"tcp"}), ()),
    "imaps": (993, frozenset({"tcp"}), ()),
    "pop3s": (995, frozenset({"tcp"}), ()),
    "openvpn": (1194, frozenset({"tcp", "udp"}), ()),
    "radius": (1812, frozenset({"udp"}), ()),
    "radacct": (1813, frozenset({"udp"}), ()),
    "nfsd": (2049, frozenset({"tcp", "udp"}), ("nfs",)),
    "mysql": (3306, frozenset({"tcp"}), ()),
    "ipsec-nat-t": (4500, frozenset({"udp"}), ()),
    "postgresql": (5432, frozenset({"tcp"}), ()),
    "x11": (6000, frozenset({"tcp"}), ()),
}

_BY_NAME: dict[str, int] = {}
for _name, (_port, _protos, _aliases) in _SERVICES.items():
    for _alias in (_name, *_aliases):
        _BY_NAME[_alias] = _port

_PROTOCOLS: dict[str, int] = {
    "ip": 0, "icmp": 1, "igmp": 2, "ipencap": 4, "tcp": 6, "egp": 8, "udp": 17,
    "ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44, "rsvp": 46, "gre": 47,
    "esp": 50, "ah": 51, "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60,
    "eigrp": 88, "ospf": 89, "etherip": 97, "pim": 103, "ipcomp": 108,
    "carp": 112, "l2tp": 115, "sctp": 132, "pfsync": 240,
}
_PROTOCOL_ALIASES = {"icmp6": "ipv6-icmp", "vrrp": "carp", "ospfigp": "ospf"}
_PROTOCOL_NAMES = {number: name for name, number in _PROTOCOLS.items()}

ICMP_TYPES = frozenset({
    "echorep", "unreach", "squench", "redir", "althost", "echoreq", "routeradv",
    "routersol", "timex", "paramprob", "timereq", "timerep", "inforeq", "inforep",
    "maskreq", "maskrep", "trace", "dataconv", "mobredir", "ipv6-where",
    "ipv6-here", "mobregreq", "mobregrep", "skip", "photuris",
})
ICMP6_TYPES = frozenset({
    "unreach", "toobig", "timex", "paramprob", "echoreq", "echorep", "groupqry",
    "listqry", "grouprep", "listenrep", "groupterm", "listendone", "routersol",
    "routeradv", "neighbrsol", "neighbradv", "redir", "routrrenum", "wrureq",
    "wrurep", "fqdnreq", "fqdnrep", "niqry", "nirep", "mtraceresp", "mtrace",
})


_HOSTNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*\Z")


def ip_version(text: str) -> int | None:
    """4 or 6 for a numeric address, None otherwise."""
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return None


def resolves(name: str) -> bool:
    """getaddrinfo() on the lab node: numeric addresses, and anything shaped like
    an interface, group or DNS name (the lab has no resolver to ask)."""
    return ip_version(name) is not None or _HOSTNAME.match(name) is not None


def service_port(name: str) -> int | None:
    """getservbyname(name, "tcp"), then "udp": the port, or None if unknown."""
    return _BY_NAME.get(name)


def service_name(port: int, proto: str) -> str | None:
    """getservbyport(): the canonical name of `port` for `proto`, if any."""
    for name, (number, protos, _aliases) in _SERVICES.items():
        if number == port and proto in protos:
            return name
    return None


def protocol_number(name: str) -> int | None:
    """getprotobyname(): the protocol number, or None if unknown."""
    return _PROTOCOLS.get(_PROTOCOL_ALIASES.get(name, name))


def protocol_name(number: int) -> str:
    """getprotobynumber(), falling back to the number as pfctl prints it."""
    return _PROTOCOL_NAMES.get(number, str(number))
