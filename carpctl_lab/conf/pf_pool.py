"""Address pools of pf.conf rules: nat-to, rdr-to, binat-to, af-to and route-to.

A pool is one address or a braced list of addresses and names (never tables
or `(if)` in a list), an optional port, and pool options; pfctl refuses a
second translation of the same kind in one rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .pf_addr import Addr, PfAddressGrammar

if TYPE_CHECKING:
    from .pf_opts import FilterOpts

_POOL_TYPES = ("bitmask", "random", "source-hash", "round-robin", "least-states")


class PfPoolGrammar(PfAddressGrammar):
    """redirpool, redirspec, routespec and pool_opts."""

    def _translation(self, opts: FilterOpts, word: str) -> None:
        kind = "nat-to" if word in ("binat-to", "af-to") else word
        if kind in opts.translation:
            self.fail("cannot respecify nat-to/binat-to" if word in ("nat-to", "binat-to")
                      else f"cannot respecify {word}")
        opts.translation.add(kind)
        if word == "af-to":
            opts.translation.add("rdr-to")
            if not self.accept_kw("inet", "inet6"):
                self.fail("no target address family specified")
            self.expect_kw("from")
            self._redirpool()
            if self.accept_kw("to"):
                self._redirpool()
            opts.translation.add("af-to")
            return
        self._redirpool()

    def _redirpool(self) -> None:
        self._redirspec()
        if self.accept_kw("port"):
            self.portrange(star=True)
        self._pool_opts()

    def _redirspec(self) -> None:
        if not self.accept("char", "{"):
            self.host()
            self._weight()
            return
        self.optnl()
        self._pool_host()
        while not self.accept("char", "}"):
            self.accept("char", ",")
            self._pool_host()

    def _pool_host(self) -> None:
        addr: Addr = self.host()
        if not addr.plain:
            self.fail("only addresses can be listed for redirection pools ")
        self._weight()
        self.optnl()

    def _weight(self) -> None:
        if self.accept_kw("weight") and not 1 <= self.number() <= 65535:
            self.fail("weight out of range")

    def _pool_opts(self) -> None:
        seen: set[str] = set()
        while (word := self.accept_kw(*_POOL_TYPES, "static-port", "sticky-address")):
            key = "type" if word in _POOL_TYPES else word
            if key in seen:
                self.fail("pool type cannot be redefined" if key == "type"
                          else f"{word} cannot be redefined")
            seen.add(key)
            if word == "source-hash" and self.at("string"):
                key_text = self.string()
                if key_text.startswith("0x") and len(key_text) != 34:
                    self.fail("hex key must be 128 bits (32 hex digits) long")

    def _route(self, opts: FilterOpts, word: str) -> None:
        if opts.route is not None:
            self.fail("cannot respecify route-to/reply-to/dup-to")
        opts.route = word
        self._redirspec()
        self._pool_opts()
