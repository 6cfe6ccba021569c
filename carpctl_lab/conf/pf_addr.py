"""Addresses, ports and interfaces in pf.conf rules (the lab's pfctl).

These are the parts of a rule that pfctl expands into one rule per
combination and resolves against the system: `port ssh` needs /etc/services,
`10.1.2.300` must fail as it does on OpenBSD. Host names are accepted without
a resolver, since the lab has none and a real firewall would look them up in
DNS or in its interface list (`em0`, `egress`, `em0:network`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from . import netdb
from .parser import Parser

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*(:(network|broadcast|peer|0))*\Z")
_DYN_MODIFIERS = ("network", "broadcast", "peer", "0")
IFNAMSIZ = 16
TABLE_NAME_SIZE = 32
_ULONG = 2**64


@dataclass(frozen=True)
class Addr:
    """One address item: `text` as pfctl prints it, `af` 4/6 when known.

    `kind` is addr (address or network), name (interface, group or DNS name),
    table, dynamic (`(em0)`), range, no-route, urpf-failed or route.
    """

    text: str
    af: int | None = None
    kind: str = "addr"
    negated: bool = False

    @property
    def plain(self) -> bool:
        """What tables and address pools accept: it resolves to addresses."""
        return self.kind in ("addr", "name")

    def shown(self) -> str:
        return ("! " if self.negated else "") + self.text


@dataclass(frozen=True)
class PortItem:
    """`op` is = != < <= > >= : >< or <>; `high` only for the two-port forms."""

    op: str
    low: int
    high: int = 0

    def shown(self, proto: str | None) -> str:
        def name(port: int) -> str:
            return (proto and netdb.service_name(port, proto)) or str(port)
        if self.op == ":":
            return f"port {name(self.low)}:{name(self.high)}"
        if self.op in ("><", "<>"):
            return f"port {name(self.low)} {self.op} {name(self.high)}"
        return f"port {self.op} {name(self.low)}"


@dataclass(frozen=True)
class Side:
    """`from`/`to`: no hosts means any."""

    hosts: tuple[Addr, ...] = ()
    ports: tuple[PortItem, ...] = ()


def strtoul(text: str) -> int | None:
    """atoul(): strtoul with base 0 and no trailing junk, or None."""
    body = text.strip(" \t")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    base = 16 if body[:2].lower() == "0x" else 8 if body[:1] == "0" and len(body) > 1 else 10
    digits = body[2:] if base == 16 else body
    try:
        value = int(digits, base)
    except ValueError:
        return None
    return value % _ULONG if sign < 0 else min(value, _ULONG - 1)


def parse_address(text: str, mask: int | None = None) -> Addr | None:
    """host(): an address, network or name, or None if pfctl could not parse it."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        if text == "self" or _NAME.match(text):
            shown = text if mask is None else f"{text}/{mask}"
            return Addr(shown, kind="name")
        return None
    bits = 32 if ip.version == 4 else 128
    if mask is None or mask == bits:
        return Addr(str(ip), ip.version)
    if not 0 <= mask <= bits:
        return None
    return Addr(f"{ip}/{mask}", ip.version)


class PfAddressGrammar(Parser):
    """Interfaces, hosts and ports, as parse.y's if_item, ipspec and portspec."""

    # -- interfaces ---------------------------------------------------------
    def if_item(self) -> str:
        if self.accept_kw("any"):
            return "any"
        if self.accept_kw("rdomain"):
            number = self.number()
            if not 0 <= number <= 255:
                self.report(f"rdomain {number} outside range")
            return f"rdomain {number}"
        name = self.string()
        if len(name) >= IFNAMSIZ:
            self.fail("interface name too long")
        return name

    def if_item_not(self) -> str:
        negated = self.accept("char", "!") is not None
        return ("! " if negated else "") + self.if_item()

    def interface(self) -> tuple[str, ...]:
        """`on IF` / `on { IF, ! IF ... }`; () when absent."""
        if not self.accept_kw("on"):
            return ()
        if not self.accept("char", "{"):
            return (self.if_item_not(),)
        self.optnl()
        items = [self.if_item_not()]
        self.optnl()
        while not self.accept("char", "}"):
            self.accept("char", ",")
            items.append(self.if_item_not())
            self.optnl()
        return tuple(items)

    # -- hosts --------------------------------------------------------------
    def ipspec(self) -> tuple[Addr, ...]:
        """`any`, one host, or a (nested) list; () means any."""
        if self.accept_kw("any"):
            return ()
        if not self.accept("char", "{"):
            return (self.xhost(),)
        self.optnl()
        items = [self.ipspec()]
        self.optnl()
        while not self.accept("char", "}"):
            self.accept("char", ",")
            items.append(self.ipspec())
            self.optnl()
        if any(not part for part in items):
            return ()
        return tuple(addr for part in items for addr in part)

    def xhost(self) -> Addr:
        negated = self.accept("char", "!") is not None
        word = self.accept_kw("no-route", "urpf-failed")
        addr = Addr(word, kind=word) if word else self.host()
        return Addr(addr.text, addr.af, addr.kind, negated)

    def host(self) -> Addr:
        if self.accept("char", "<"):
            name = self.string()
            self.expect("char", ">")
            if len(name) >= TABLE_NAME_SIZE:
                self.fail(f"table name '{name}' too long")
            return Addr(f"<{name}>", kind="table")
        if self.at("char", "("):
            return self.dynaddr()
        if self.accept_kw("route"):
            return Addr(f"route {self.string()}", kind="route")
        if self.at("number"):
            net = self.number()
            self.expect("char", "/")
            bits = self.number()
            addr = parse_address(f"{net}.0.0.0", bits) if 0 <= net <= 255 else None
            return addr or self.fail("could not parse host specification")
        text = self.string()
        if self.accept("char", "-"):
            return self.address_range(text, self.string())
        mask = self.number() if self.accept("char", "/") else None
        return parse_address(text, mask) or self.fail("could not parse host specification")

    def address_range(self, first: str, last: str) -> Addr:
        a, b = parse_address(first), parse_address(last)
        if a is None or b is None:
            self.fail("could not parse host specification")
        if a.af is None or a.af != b.af:
            self.fail("invalid address range")
        return Addr(f"{a.text} - {b.text}", a.af, kind="range")

    def dynaddr(self) -> Addr:
        self.expect("char", "(")
        spec = self.string()
        self.expect("char", ")")
        if not spec[:1].isalpha():
            self.fail(f"invalid interface name '{spec}'")
        name, *modifiers = spec.split(":")
        if any(m not in _DYN_MODIFIERS for m in modifiers):
            self.fail(f"interface {spec} has bad modifier")
        if len(name) >= IFNAMSIZ:
            self.fail("interface name too long")
        if self.accept("char", "/"):
            bits = self.number()
            if not 0 <= bits <= 128:
                self.fail("bit number too big")
            spec = f"{spec}/{bits}"
        return Addr(f"({spec})", kind="dynamic")

    # -- ports --------------------------------------------------------------
    def portspec(self) -> tuple[PortItem, ...]:
        if not self.accept("char", "{"):
            return (self.port_item(),)
        self.optnl()
        items = [self.port_item()]
        self.optnl()
        while not self.accept("char", "}"):
            self.accept("char", ",")
            items.append(self.port_item())
            self.optnl()
        return tuple(items)

    def port_item(self) -> PortItem:
        op = self.unaryop()
        if op is not None:
            low, high = self.portrange()
            if high is not None:
                self.fail("':' cannot be used with an other port operator")
            return PortItem(op, low)
        low, high = self.portrange()
        if self.at("op", "<>", "><"):
            binop = str(self.advance().value)
            other, other_high = self.portrange()
            if high is not None or other_high is not None:
                self.fail("':' cannot be used with an other port operator")
            if low > other or (binop == "><" and low == other):
                self.fail("invalid port range")
            return PortItem(binop, low, other)
        if high is None:
            return PortItem("=", low)
        if low > high:
            self.fail("invalid port range")
        return PortItem(":", low, high)

    def unaryop(self) -> str | None:
        tok = self.peek()
        if (tok.kind == "char" and tok.value in ("=", "<", ">")) or (
                tok.kind == "op" and tok.value in ("!=", "<=", ">=")):
            self.advance()
            return str(tok.value)
        return None

    def numberstring(self) -> str:
        tok = self.peek()
        if tok.kind not in ("number", "string"):
            self.syntax()
        return str(self.advance().value)

    def portrange(self, star: bool = False) -> tuple[int, int | None]:
        """parseport(): (port, None) or (low, high); `star` allows `N:*`."""
        text = self.numberstring()
        low_text, colon, high_text = text.partition(":")
        if not colon:
            return self.getservice(text), None
        if star and high_text == "*":
            return self.getservice(low_text), None
        low, high = self.getservice(low_text), self.getservice(high_text)
        return (low, None) if low == high else (low, high)

    def getservice(self, text: str) -> int:
        value = strtoul(text)
        if value is not None:
            if value > 65535:
                self.fail(f"illegal port value {value}")
            return value
        port = netdb.service_port(text)
        if port is None:
            self.fail(f"unknown port {text}")
        return port
