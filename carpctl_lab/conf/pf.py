"""The lab's pf.conf checker: what `pfctl -nf FILE` accepts and what it loads.

check_pf() parses a pf.conf the way OpenBSD's pfctl does (parse.y of
OpenBSD 7.x): same tokens, same error messages, same line numbers, every
broken line reported. It is a realistic validator, not the whole pf grammar:
it covers what a firewall pair's pf.conf holds (macros, tables, options,
pass/block/match rules with translation and state options, anchors, antispoof,
queues, includes) and rejects what modern pfctl rejects, notably the pre-4.7
statements the source material still uses (`rdr-anchor`, `nat`, `rdr`,
`binat`, standalone `scrub`, `altq`), which fall out of the grammar as
`syntax error`.

Files other than the main one (`include`, `table <t> file`) are read through
the caller's reader, so the lab's node filesystem decides what exists;
without a reader they do not exist. `load anchor` is recorded, not followed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from .lexer import Lexer
from .pf_addr import Addr, parse_address
from .pf_expand import expand_rule
from .pf_rule import PfRuleGrammar
from .pf_set import PfSetGrammar

PF_KEYWORDS = frozenset({
    "af-to", "all", "allow-opts", "anchor", "antispoof", "any", "bandwidth", "binat-to",
    "bitmask", "block", "block-policy", "burst", "code", "debug", "default", "delay",
    "divert-packet", "divert-reply", "divert-to", "drop", "dup-to", "file",
    "fingerprints", "flags", "floating", "flows", "flush", "for", "fragment", "from",
    "global", "group", "hostid", "icmp-type", "icmp6-type", "if-bound", "in", "include",
    "inet", "inet6", "keep", "label", "least-states", "limit", "load", "log",
    "loginterface", "match", "matches", "max", "max-mss", "max-pkt-rate", "max-src-conn",
    "max-src-conn-rate", "max-src-nodes", "max-src-states", "min", "min-ttl", "modulate",
    "nat-to", "no", "no-df", "no-route", "no-sync", "on", "once", "optimization", "os",
    "out", "overload", "parent", "pass", "pflow", "port", "prio", "probability", "proto",
    "qlimit", "quantum", "queue", "quick", "random", "random-id", "rdomain", "rdr-to",
    "reassemble", "received-on", "reply-to", "return", "return-icmp", "return-icmp6",
    "return-rst", "round-robin", "route", "route-to", "rtable", "rule",
    "ruleset-optimization", "scrub", "set", "skip", "sloppy", "source-hash",
    "source-track", "state", "state-defaults", "state-policy", "static-port",
    "sticky-address", "syncookies", "synproxy", "table", "tag", "tagged", "timeout", "to",
    "tos", "ttl", "urpf-failed", "user", "weight",
})
_TABLE_FLAGS = ("const", "persist", "counters")
_NOT_IN_TABLES = {
    "range": "address ranges are not permitted inside tables",
    "dynamic": "dynamic addresses are not permitted inside tables",
    "table": "tables cannot contain tables",
    "no-route": '"no-route" is not permitted inside tables',
    "urpf-failed": '"urpf-failed" is not permitted inside tables',
}


class PfSyntaxError(Exception):
    """pfctl refused the file; `errors` are its stderr lines, in order."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class PfTable:
    """`table <name> ...`: its flags, inline addresses and address files."""

    name: str
    flags: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class PfAnchor:
    """An anchor the main ruleset calls; `rules` only for inline anchors."""

    name: str
    rules: tuple[str, ...] = ()
    inline: bool = False


@dataclass(frozen=True)
class PfRuleset:
    """What a successful `pfctl -f` would load.

    `rules` are one line per expanded rule, macros substituted, in the form
    `pfctl -sr` roughly prints (lists expanded into one rule per combination,
    `all` for any-to-any, default `flags S/SA` shown, plain `keep state`
    omitted; antispoof's rules name the interface instead of its addresses).
    """

    rules: tuple[str, ...]
    anchors: tuple[PfAnchor, ...] = ()
    tables: tuple[PfTable, ...] = ()
    options: tuple[str, ...] = ()
    macros: tuple[tuple[str, str], ...] = ()
    load_anchors: tuple[tuple[str, str], ...] = ()

    @property
    def anchor_names(self) -> tuple[str, ...]:
        return tuple(anchor.name for anchor in self.anchors)

    @property
    def checksum(self) -> str:
        """Hex MD5 of every loaded rule (inline anchors included), as in `pfctl -si -v`."""
        lines = list(self.rules)
        for anchor in self.anchors:
            lines += [f"{anchor.name}: {rule}" for rule in anchor.rules]
        return hashlib.md5("\n".join(lines).encode()).hexdigest()


def check_pf(text: str, filename: str,
             read_include: Callable[[str], str] | None = None) -> PfRuleset:
    """Parse `text` (named `filename` in messages) as `pfctl -nf` would.

    `read_include(path)` returns another file's text or raises OSError.
    Raises PfSyntaxError with pfctl's error lines when the file is refused.
    """
    lexer = Lexer(text, filename, keywords=PF_KEYWORDS, operators=True,
                  read_file=read_include, warn_prefix="pfctl: ")
    parser = _PfFile(lexer)
    parser.parse_file(parser.statement)
    if lexer.errors:
        raise PfSyntaxError(lexer.errors)
    return PfRuleset(
        rules=tuple(parser.rulesets[0]), anchors=tuple(parser.anchors),
        tables=tuple(parser.tables), options=tuple(parser.options),
        macros=tuple(lexer.macros.items()), load_anchors=tuple(parser.loads))


class _PfFile(PfSetGrammar, PfRuleGrammar):
    """The top level of pf.conf, and of an inline anchor's block."""

    def __init__(self, lexer: Lexer):
        super().__init__(lexer)
        self.block_policy = "drop"
        self.options: list[str] = []
        self.state_defaults = False
        self.queues: set[str] = set()
        self.tables: list[PfTable] = []
        self.anchors: list[PfAnchor] = []
        self.loads: list[tuple[str, str]] = []
        self.rulesets: list[list[str]] = [[]]
        self._paths: list[str] = []
        self._unnamed = 0

    def statement(self) -> None:
        if self.at("string"):
            self.varset()
            return
        handlers = {"set": self.option, "load": self.loadrule, "queue": self.queuespec,
                    "antispoof": self._antispoof}
        self._dispatch(handlers)

    def _dispatch(self, extra: dict[str, Callable[[], None]]) -> None:
        tok = self.peek()
        handlers = {"include": self.include, "pass": self._rule, "block": self._rule,
                    "match": self._rule, "anchor": self._anchor, "table": self.tabledef,
                    **extra}
        handler = handlers.get(str(tok.value)) if tok.kind == "kw" else None
        if handler is None:
            self.syntax()
        handler()

    # -- rules ----------------------------------------------------------------
    def _rule(self) -> None:
        spec = self.pfrule()
        self.rulesets[-1].extend(expand_rule(spec, self.report))

    def _anchor(self) -> None:
        spec, inline = self.anchorrule()
        self.rulesets[-1].extend(expand_rule(spec, self.report))
        if not inline:
            self.anchors.append(PfAnchor(self._path(spec.anchor or "")))

    def _antispoof(self) -> None:
        self.rulesets[-1].extend(self.antispoof())

    def anchor_block(self, name: str) -> None:
        """pfa_anchorlist: tables, rules, anchors and includes, one per line."""
        if not name:
            self._unnamed += 1
            name = f"_{self._unnamed}"
        self._paths.append(self._path(name))
        self.rulesets.append([])
        try:
            while not self.accept("char", "}"):
                if not self.accept("newline"):
                    self._dispatch({})
                    self.expect("newline")
        finally:
            self.anchors.append(
                PfAnchor(self._paths.pop(), tuple(self.rulesets.pop()), True))

    def _path(self, name: str) -> str:
        return f"{self._paths[-1]}/{name}" if self._paths else name

    # -- everything else ----------------------------------------------------
    def varset(self) -> None:
        name = self.string()
        self.expect("char", "=")
        words = [self.numberstring()]
        while self.at("string") or self.at("number"):
            words.append(self.numberstring())
        if any(c.isspace() for c in name[1:]):
            self.fail("macro name cannot contain whitespace")
        self.lex.macros[name] = " ".join(words)

    def include(self) -> None:
        self.expect_kw("include")
        path = self.string()
        if not self.lex.push_file(path):
            self.fail(f"failed to include file {path}")

    def loadrule(self) -> None:
        self.expect_kw("load")
        self.expect_kw("anchor")
        name = self._anchorname()
        self.expect_kw("from")
        path = self.string()
        while self.at("string"):
            path += " " + self.string()
        if name is None:
            self.fail("anchor name is missing")
        self.loads.append((self._path(name), path))

    def tabledef(self) -> None:
        self.expect_kw("table")
        self.expect("char", "<")
        name = self.string()
        self.expect("char", ">")
        flags: list[str] = []
        addresses: list[str] = []
        files: list[str] = []
        while True:
            if self.at("string"):
                flag = self.string()
                if flag not in _TABLE_FLAGS:
                    self.fail(f"invalid table option '{flag}'")
                flags.append(flag)
            elif self.accept("char", "{"):
                self.optnl()
                if not self.accept("char", "}"):
                    hosts = self._table_hosts()
                    for host in hosts:
                        if host.kind in _NOT_IN_TABLES:
                            self.fail(_NOT_IN_TABLES[host.kind])
                    addresses += [host.shown() for host in hosts]
            elif self.accept_kw("file"):
                files.append(self.string())
            else:
                break
        if len(name) >= 32:
            self.fail("table name too long, max 31 chars")
        for path in files:
            addresses += self._table_file(path)
        self.tables.append(PfTable(name, tuple(flags), tuple(addresses), tuple(files)))

    def _table_hosts(self) -> list[Addr]:
        """table_host_list up to and including its `}`."""
        hosts = self._tablespec()
        self.optnl()
        while not self.accept("char", "}"):
            self.accept("char", ",")
            hosts += self._tablespec()
            self.optnl()
        return hosts

    def _tablespec(self) -> list[Addr]:
        if self.accept("char", "{"):
            self.optnl()
            return self._table_hosts()
        host = self.xhost()
        if self.accept_kw("weight") and not 1 <= self.number() <= 65535:
            self.fail("weight out of range")
        return [host]

    def _table_file(self, path: str) -> list[str]:
        text, reason = self.lex.read_quiet(path)
        if text is None:
            self.fail(f'cannot load "{path}": {reason}')
        entries = []
        for line in text.splitlines():
            for word in line.split("#", 1)[0].split():
                negated = word.startswith("!")
                body, _, bits = word.lstrip("!").partition("/")
                addr = parse_address(body, int(bits) if bits.isdigit() else None)
                if addr is None or (bits and not bits.isdigit()):
                    self.fail(f'file "{path}" contains bad data')
                entries.append(("! " if negated else "") + addr.text)
        return entries


__all__ = ["PfAnchor", "PfRuleset", "PfSyntaxError", "PfTable", "check_pf"]
