"""relayd.conf's redirect, relay, protocol and router blocks (the lab's relayd).

Each block is checked when its closing brace is read, as relayd does: a
redirect needs a table and a virtual address, a relay a listener and a target.
IDs are taken when the block's name is read, so a block that fails still uses
its ID. An error inside a block leaves relayd's "current redirect" pointer set
(its grammar never clears it on error), which changes what `mode` later
relays may use; the lab keeps that quirk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from . import netdb
from .lexer import Lexer
from .parser import Accept
from .relayd_grammar import RelaydParser
from .relayd_model import Listener, Redirect, Relay, RelaydTable, Router

_INT_MAX = 2**31 - 1


class RelaydFile(RelaydParser):
    """The top level of relayd.conf."""

    def __init__(self, lexer: Lexer, *, first_pass: bool):
        super().__init__(lexer, first_pass=first_pass)
        self._rlay = Relay(0, "")
        self._extra: list[Listener] = []
        self._rt = Router(0, "")
        self._rt_af: int | None = None

    def statement(self) -> None:
        if self.at("string"):
            word = self.string()
            if self.accept("char", "="):
                self._varset(word)
            elif self.at_kw("protocol"):
                if word != "dns":
                    self.fail(f"invalid protocol type: {word}")
                self._protocol()
            else:
                self.syntax()
            return
        word = self.expect_kw(
            "include", "interval", "log", "timeout", "prefork", "agentx", "socket",
            "redirect", "table", "relay", "router", "tcp", "http", "protocol")
        handlers: dict[str, Callable[[], None]] = {
            "include": self._include, "redirect": self._redirect, "table": self._tabledef,
            "relay": self._relay, "router": self._router, "protocol": self._protocol_name,
            "tcp": self._protocol, "http": self._protocol}
        handlers.get(word, lambda: self._global(word))()

    def _named(self) -> str:
        """The name after redirect/relay/router/protocol: pass one stops here."""
        name = self.string()
        if self.first_pass:
            raise Accept
        return name

    def _session_timeout(self) -> int:
        self.expect_kw("timeout")
        value = self.number()
        if value < 0:
            self.fail(f"invalid timeout: {value}")
        if value > _INT_MAX:
            self.fail(f"timeout too large: {value}")
        return value

    # -- protocols ------------------------------------------------------------
    def _protocol(self) -> None:
        self.expect_kw("protocol")
        self._protocol_name()

    def _protocol_name(self) -> None:
        name = self._named()
        if name == "default" or name in self.protocols:
            self.fail(f"protocol {name} defined twice")
        if self.accept("char", "{") and not self.accept("char", "}"):
            self.optnl()
            if self.at("char", "}"):
                self.syntax()
            depth = 1
            while depth:
                if self.at("eof") or self.at("error"):
                    self.syntax()
                tok = self.advance()
                if tok.kind == "char" and tok.value in "{}":
                    depth += 1 if tok.value == "{" else -1
        self.protocols.append(name)

    # -- redirects ------------------------------------------------------------
    def _redirect(self) -> None:
        name = self._named()
        if any(r.name == name for r in self.redirects):
            self.fail(f"redirection {name} defined twice")
        self._rdr = Redirect(self._next_id("redirect"), name)
        self.expect("char", "{")
        self._block(self._redirect_option)
        rdr = self._rdr
        if not rdr.tables:
            self.fail(f"redirection {name} has no table")
        if not rdr.listeners:
            self.fail(f"redirection {name} has no virtual ip")
        if len(rdr.tables) > 1 and rdr.tables[0].port != rdr.tables[1].port:
            self.fail(f"redirection {name} uses two different ports for its table and "
                      "backup table")
        self.redirects.append(rdr)
        self._tableport = 0
        self._rdr = None

    def _redirect_option(self) -> None:
        rdr = self._rdr
        assert rdr is not None
        if self.at_kw("forward", "route", "transparent"):
            self._redirect_forward(rdr)
        elif self.accept_kw("listen"):
            self._redirect_listen(rdr)
        elif self.accept_kw("disable"):
            self._rdr = replace(rdr, disabled=True)
        elif self.accept_kw("sticky-address"):
            self._rdr = replace(rdr, sticky=True)
        elif self.accept_kw("match", "pftag"):
            if self.taken[-1].value == "match":
                self.expect_kw("pftag")
            self._rdr = replace(rdr, tag=self.string())
        elif self.accept_kw("session"):
            self._rdr = replace(rdr, session_timeout=self._session_timeout())
        else:
            self.expect_kw("include")
            self._include()

    def _forward_mode(self) -> str:
        mode = self.expect_kw("forward", "route", "transparent")
        if mode == "transparent":
            self.expect_kw("forward")
        return mode

    def _redirect_forward(self, rdr: Redirect) -> None:
        mode = self._forward_mode()
        self.expect_kw("to")
        table = self.tablespec(redirect=True)
        interface = self.string() if self.accept_kw("interface") else None
        if mode == "forward" and interface:
            self.fail("superfluous interface")
        if mode == "route" and not interface:
            self.fail("missing interface to route to")
        if mode == "transparent":
            self.fail("no transparent forward here")
        if table.check == "none" or len(rdr.tables) > 1:
            self.purge(table)
            self.fail(f"table {table.name} has no check" if table.check == "none"
                      else "only one backup table is allowed")
        if rdr.tables and table.mode != rdr.mode:
            self.fail(f"backup table for {rdr.name} with different mode")
        self.unused.discard(table.id)
        self._rdr = replace(rdr, tables=rdr.tables + (table,),
                            mode=rdr.mode if rdr.tables else table.mode)

    def _redirect_listen(self, rdr: Redirect) -> None:
        self.expect_kw("on")
        address = self.string()
        protocol = "tcp"
        if self.accept_kw("tcp") is None and self.at("string"):
            protocol = self.string()
            if netdb.protocol_number(protocol) is None:
                self.fail(f"invalid protocol: {protocol}")
        self.expect_kw("port")
        port, _single = self._port()
        interface = self.string() if self.accept_kw("interface") else None
        self.accept_kw("pflog")
        if not netdb.resolves(address):
            self.fail(f"invalid virtual ip: {address}")
        listener = Listener(address, port, interface=interface, protocol=protocol)
        self._rdr = replace(rdr, listeners=rdr.listeners + (listener,))
        self._tableport = self._rdr.listeners[0].port

    # -- relays ---------------------------------------------------------------
    def _relay(self) -> None:
        name = self._named()
        self._rlay = Relay(self._next_id("relay"), name)
        self._extra = []
        self.expect("char", "{")
        self._block(self._relay_option)
        rlay = self._rlay
        if self._relay_clash(rlay):
            self.fail(f"relay {name} or listener defined twice")
        if rlay.listener is None:
            self.fail(f"relay {name} has no listener")
        if rlay.target is None and not rlay.tables:
            self.fail(f"relay {name} has no target, rdr, or table")
        self.relays.append(rlay)
        self._tableport = 0
        for listener in self._extra:
            copy_id = self._next_id("relay")
            copy = replace(rlay, id=copy_id, listener=listener,
                           name=f"{rlay.name}{copy_id}:{listener.port}")
            if self._relay_clash(copy):
                self.fail(f"relay {copy.name} or listener defined twice")
            self.relays.append(copy)

    def _relay_clash(self, rlay: Relay) -> bool:
        return any(r.name == rlay.name or (
            rlay.listener is not None and r.listener is not None
            and (r.listener.address, r.listener.port)
            == (rlay.listener.address, rlay.listener.port)) for r in self.relays)

    def _relay_option(self) -> None:
        rlay = self._rlay
        if self.accept_kw("listen"):
            self.expect_kw("on")
            address = self.string()
            self.expect_kw("port")
            port, single = self._port()
            tls = self.accept_kw("tls") is not None
            if not single:
                self.fail("invalid port")
            if not netdb.resolves(address):
                self.fail(f"invalid listen ip: {address}")
            listener = Listener(address, port, tls=tls)
            if rlay.listener is None:
                self._rlay = replace(rlay, listener=listener)
            else:
                self._extra.append(listener)
            self._tableport = port
        elif self.at_kw("forward", "route", "transparent"):
            self._relay_forward(rlay)
        elif self.accept_kw("session"):
            self._rlay = replace(rlay, session_timeout=self._session_timeout())
        elif self.accept_kw("protocol"):
            name = self.string()
            if rlay.protocol is not None:
                self.fail("more than one protocol specified")
            if name not in self.protocols:
                self.fail(f"no such protocol: {name}")
            self._rlay = replace(rlay, protocol=name)
        elif self.accept_kw("disable"):
            self._rlay = replace(rlay, disabled=True)
        else:
            self.expect_kw("include")
            self._include()

    def _relay_forward(self, rlay: Relay) -> None:
        mode = self._forward_mode()
        if self.accept_kw("with"):
            self.expect_kw("tls")
        self.expect_kw("to")
        if self.at("char", "<"):
            table = self.tablespec(redirect=False)
            self.unused.discard(table.id)
            rlay = replace(rlay, tables=rlay.tables + (table,))
        else:
            target = self._relay_target(rlay)
            rlay = replace(rlay, target=target)
            if self.accept_kw("retry"):
                retry = self.number()
                if retry < 0:
                    self.fail(f"invalid retry value: {retry}\n")
        self._rlay = rlay
        if self.accept_kw("inet6"):
            self.string()
        else:
            self.accept_kw("inet")
        if mode == "route":
            self.fail("no route for relays")

    def _relay_target(self, rlay: Relay) -> str:
        if self.accept_kw("nat"):
            self.expect_kw("lookup")
            return "nat lookup"
        if self.accept_kw("destination"):
            return "destination"
        address = self.string()
        self.expect_kw("port")
        port, single = self._port()
        if rlay.target is not None:
            self.fail(f"relay {rlay.name} target or redirection already specified")
        if not single:
            self.fail("invalid port")
        if not netdb.resolves(address):
            self.fail(f"invalid forward ip: {address}")
        return f"{address}:{port}"

    # -- routers ----------------------------------------------------------------
    def _router(self) -> None:
        name = self._named()
        if any(r.name == name for r in self.routers):
            self.fail(f"router {name} defined twice")
        self._rt = Router(self._next_id("router"), name)
        self._rt_af = None
        self._tableport = 0xFFFF
        self.expect("char", "{")
        self._block(self._router_option)
        if not self._rt.routes:
            self.fail(f"router {name} without routes")
        self.routers.append(self._rt)
        self._tableport = 0

    def _router_option(self) -> None:
        rt = self._rt
        if self.accept_kw("route"):
            self._rt = replace(rt, routes=rt.routes + (self._route(rt),))
        elif self.accept_kw("forward"):
            self.expect_kw("to")
            table = self.tablespec(redirect=False)
            if rt.table is not None:
                self.purge(table)
                self.fail(f"router {rt.name} table already specified")
            self.unused.discard(table.id)
            self._rt = replace(rt, table=table)
        elif self.accept_kw("rtable"):
            value = self.number()
            if rt.rtable:
                self.fail(f"router {rt.name} rtable already specified")
            if not 0 <= value <= 255:
                self.fail(f"invalid rtable id {value}")
            self._rt = replace(rt, rtable=value)
        elif self.accept_kw("rtlabel"):
            self._rt = replace(rt, rtlabel=self.string())
        elif self.accept_kw("disable"):
            self._rt = replace(rt, disabled=True)
        else:
            self.expect_kw("include")
            self._include()

    def _route(self, rt: Router) -> str:
        address = self.string()
        if not netdb.resolves(address):
            self.fail(f"invalid host {address}")
        af = netdb.ip_version(address)
        bits = {4: 32, 6: 128}.get(af or 0, 0)
        if self.accept("char", "/"):
            prefix = self.number()
            if af and not 0 <= prefix <= bits:
                self.fail(f"invalid prefixlen {prefix}")
            bits = prefix
        if af and self._rt_af and af != self._rt_af:
            self.fail(f"router {rt.name} address family mismatch")
        self._rt_af = self._rt_af or af
        return f"{address}/{bits}"


def unused_tables(parser: RelaydParser) -> list[RelaydTable]:
    """Tables a service took but never kept (an error relayd reports at the end)."""
    return [t for t in parser.tables if t.id in parser.unused]
