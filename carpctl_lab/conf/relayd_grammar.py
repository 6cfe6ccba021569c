"""The relayd.conf grammar of the lab's relayd (usr.sbin/relayd/parse.y, OpenBSD 7.x).

Parsing also builds the configuration, as relayd's grammar actions do, because
several errors depend on what came before (`unknown table`, `no such
protocol`, `defined twice`) and because IDs are handed out as statements are
read, including for statements that later fail. Protocol blocks are checked
for balance only: their rules are relayd's business, not the lab's.

relayd reads its file twice. The first pass (parse_config) stops quietly at the
first redirect, table, protocol, relay or router and runs before relayd's root
check; only if it is clean does the second pass (load_config) read the whole
file. `first_pass` selects the first behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from . import netdb
from .lexer import Lexer
from .parser import Accept, Parser, render
from .relayd_model import Redirect, Relay, RelaydHost, RelaydTable, Router

RELAYD_KEYWORDS = frozenset({
    "agentx", "append", "backlog", "backup", "binary", "block", "buffer", "ca", "cache",
    "cert", "changes", "check", "checks", "ciphers", "client", "code", "connection",
    "context", "cookie", "demote", "destination", "digest", "disable", "ecdhe", "edh",
    "error", "errors", "expect", "external", "file", "forward", "from", "hash", "header",
    "headerlen", "host", "http", "icmp", "include", "inet", "inet6", "interface",
    "interval", "ip", "key", "keypair", "label", "least-states", "listen", "loadbalance",
    "log", "lookup", "match", "method", "mode", "nat", "no", "nodelay", "nothing", "on",
    "params", "parent", "pass", "password", "path", "pflog", "pftag", "port", "prefork",
    "priority", "protocol", "query", "quick", "random", "real", "redirect", "relay",
    "remove", "request", "response", "retry", "return", "roundrobin", "route", "router",
    "rtable", "rtlabel", "sack", "script", "send", "session", "set", "socket",
    "source-hash", "splice", "state", "sticky-address", "strip", "style", "table", "tag",
    "tagged", "tcp", "tickets", "timeout", "tls", "to", "transparent", "ttl", "url",
    "value", "websockets", "with",
})
TABLE_NAME_SIZE = 64
_MODES = ("loadbalance", "roundrobin", "hash", "least-states", "source-hash", "random")
_TABLE_OPTS = ("check", "port", "timeout", "demote", "interval", "mode")
_PROC_MAX_INSTANCES = 32
_RTP_MAX = 63


class RelaydParser(Parser):
    """Globals, table templates and the tables services use (relayd_services.py
    adds the statements that use them)."""

    def __init__(self, lexer: Lexer, *, first_pass: bool):
        super().__init__(lexer)
        self.first_pass = first_pass
        self.interval, self.timeout_ms, self.prefork = 10, 200, 3
        self.log: list[str] = []
        self.templates: dict[str, RelaydTable] = {}
        self.tables: list[RelaydTable] = []
        self.unused: set[int] = set()
        self.redirects: list[Redirect] = []
        self.relays: list[Relay] = []
        self.routers: list[Router] = []
        self.protocols: list[str] = []
        self._last: dict[str, int] = {}
        self._tableport = 0
        self._rdr: Redirect | None = None

    def _next_id(self, kind: str) -> int:
        self._last[kind] = self._last.get(kind, 0) + 1
        return self._last[kind]

    # -- globals ---------------------------------------------------------------
    def _varset(self, name: str) -> None:
        value = self.string()
        if any(c.isspace() for c in name[1:]):
            self.fail("macro name cannot contain whitespace")
        self.lex.macros[name] = value

    def _include(self) -> None:
        path = self.string()
        if not self.lex.push_file(path):
            self.fail(f"failed to include file {path}")

    def _global(self, word: str) -> None:
        if word == "interval":
            value = self.number()
            if value < 0:
                self.fail(f"invalid interval: {value}")
            self.interval = value
        elif word == "timeout":
            self.timeout_ms = self._timeout()
        elif word == "prefork":
            value = self.number()
            if not 0 < value <= _PROC_MAX_INSTANCES:
                self.fail(f"invalid number of preforked relays: {value}")
            self.prefork = value
        elif word == "log":
            self.log.append(self._loglevel())
        elif word == "agentx":
            for option in ("context", "path"):
                if self.accept_kw(option):
                    self.string()
        else:                               # socket PATH
            self.string()

    def _loglevel(self) -> str:
        if self.accept_kw("state"):
            self.expect_kw("changes")
            return "state changes"
        if self.accept_kw("host"):
            self.expect_kw("checks")
            return "host checks"
        self.expect_kw("connection")
        return "connection errors" if self.accept_kw("errors") else "connection"

    def _timeout(self) -> int:
        value = self.number()
        if value < 0:
            self.fail(f"invalid timeout: {value}\n")
        return value

    def _port(self) -> tuple[int, bool]:
        """The P of `port P`: (port, True), or (low, False) for a range."""
        if self.accept_kw("http"):
            return 80, True
        if self.at("number"):
            value = self.number()
            if not 0 < value <= 65535:
                self.fail(f"invalid port: {value}")
            return value, True
        low, colon, high = self.string().partition(":")
        if colon:
            self._service(high)
        return self._service(low), not colon

    def _service(self, text: str) -> int:
        if text.isdigit() and int(text) <= 65535:
            return int(text)
        port = netdb.service_port(text)
        if port is None:
            self.fail(f"unknown port {text}")
        return port

    def _block(self, item: Callable[[], None]) -> None:
        """`{ optnl item (nl item)* optnl }` after the `{`."""
        self.optnl()
        item()
        while not self.accept("char", "}"):
            self.expect("newline")
            self.optnl()
            if self.accept("char", "}"):
                return
            item()

    # -- tables -----------------------------------------------------------------
    def _table_name(self) -> str:
        self.expect("char", "<")
        name = self.string()
        self.expect("char", ">")
        if len(name) >= TABLE_NAME_SIZE:
            self.fail("invalid table name")
        return name

    def _tabledef(self) -> None:
        name = self._table_name()
        if self.first_pass:
            raise Accept
        if name in self.templates:
            self.fail(f"table {name} defined twice")
        template = RelaydTable(0, name, name, 0, timeout_ms=self.timeout_ms)
        while True:
            if self.accept_kw("disable"):
                template = replace(template, disabled=True)
            elif self.accept("char", "{"):
                template = replace(template, hosts=template.hosts + self._table_hosts())
            else:
                self.syntax()
            if not (self.at_kw("disable") or self.at("char", "{")):
                break
        if not template.hosts:
            self.fail(f"table {name} has no hosts")
        self.templates[name] = template

    def _table_hosts(self) -> tuple[RelaydHost, ...]:
        """tablelist_l up to its `}`: hosts separated by commas, newlines or nothing."""
        self.optnl()
        hosts: list[RelaydHost] = []
        while True:
            if self.accept_kw("include"):
                self._include()
            else:
                hosts.append(self._host())
            if self.accept("char", ","):
                continue
            self.optnl()
            if self.accept("char", "}"):
                return tuple(hosts)

    def _host(self) -> RelaydHost:
        name = self.string()
        if not netdb.resolves(name):
            self.fail(f"invalid host {name}")
        host = RelaydHost(0, name)
        while (word := self.accept_kw("retry", "parent", "priority", "ip")):
            if word == "ip":
                self.expect_kw("ttl")
                word = "ttl"
            value = self.number()
            if getattr(host, word):
                self.fail("priority already set" if word == "priority"
                          else f"{word} value already set")
            if value < 0 or (word == "priority" and value > _RTP_MAX):
                self.fail(f"invalid {word} value: {value}\n")
            host = replace(host, **{word: value})
        return host

    def tablespec(self, *, redirect: bool) -> RelaydTable:
        """`<name> OPTIONS`: the table a service uses, copied from its template."""
        name = self._table_name()
        spec = {"port": 0, "check": "none", "check_spec": "", "mode": "roundrobin",
                "timeout_ms": None}
        self._table_option(spec, redirect)
        while self.at_kw(*_TABLE_OPTS):
            self._table_option(spec, redirect)
        return self._inherit(name, spec)

    def _table_option(self, spec: dict, redirect: bool) -> None:
        word = self.expect_kw(*_TABLE_OPTS)
        if word == "check":
            spec["check"], spec["check_spec"] = self._check()
        elif word == "port":
            port, single = self._port()
            if not single:
                self.fail("invalid port")
            spec["port"] = port
        elif word == "timeout":
            spec["timeout_ms"] = self._timeout()
        elif word == "demote":
            self.string()
        elif word == "interval":
            value = self.number()
            if self.interval and (value < self.interval or value % self.interval):
                self.fail("table interval must be divisible by global interval")
        else:
            mode = self.accept_kw(*_MODES) or "roundrobin"
            if self.at("string"):
                self.string()
            if mode in ("loadbalance", "hash") and (redirect or self._rdr is not None):
                self.fail("mode not supported for redirections")
            if mode == "least-states" and not redirect and self._rdr is None:
                self.fail("mode not supported for relays")
            spec["mode"] = mode

    def _check(self) -> tuple[str, str]:
        start = self.mark()
        word = self.accept_kw("icmp", "tcp", "tls", "http", "send", "binary", "script")
        if word in ("icmp", "tcp", "tls"):
            kind = word
        elif word == "script":
            self.string()
            kind = "script"
        elif word in ("send", "binary"):
            kind = self._send_expect(word)
        else:
            kind = "http" if word == "http" else self.string()
            if kind not in ("http", "https"):
                self.fail(f"invalid check type: {kind}")
            self.string()
            if self.accept_kw("host"):
                self.string()
            if self.accept_kw("code"):
                code = self.number()
                if code <= 0:
                    self.fail(f"invalid HTTP code: {code}")
            else:
                self.expect_kw("digest")
                if len(self.string()) not in (32, 40):
                    self.fail("invalid http digest")
        return kind, render(self.since(start))

    def _send_expect(self, word: str) -> str:
        if word == "binary":
            self.expect_kw("send")
        if not self.accept_kw("nothing"):
            data = self.string()
            if word == "binary" and not data:
                self.fail("empty binary send data")
        self.expect_kw("expect")
        expected = self.string()
        self.accept_kw("tls")
        if word == "binary" and not expected:
            self.fail("empty binary expect data")
        return "binary-send-expect" if word == "binary" else "send-expect"

    def _inherit(self, name: str, spec: dict) -> RelaydTable:
        """table_inherit(): a new `NAME:PORT` table with fresh host IDs."""
        template = self.templates.get(name)
        if template is None:
            self.fail(f"unknown table {name}")
        port = spec["port"] or self._tableport
        if port == 0:
            self.fail("invalid port")
        table_id = self._next_id("table")
        hosts = tuple(replace(h, id=self._next_id("host")) for h in template.hosts)
        timeout = spec["timeout_ms"]
        table = RelaydTable(
            table_id, f"{name}:{port}", name, port, hosts, spec["check"], spec["check_spec"],
            spec["mode"], template.timeout_ms if timeout is None else timeout,
            template.disabled)
        self.tables.append(table)
        self.unused.add(table_id)
        return table

    def purge(self, table: RelaydTable) -> None:
        self.tables.remove(table)
        self.unused.discard(table.id)
