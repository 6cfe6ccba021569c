"""The options after `from ... to ...` in pf.conf rules (parse.y's filter_opts).

pfctl accepts these in any order, refuses most of them twice, and checks
their values (`max-mss`, `prio`, `queue` names) while parsing. The lab keeps
`flags`, `icmp-type` and the state clause apart, because they change how a rule
is printed and checked; every other option is kept as the text pfctl would
print back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import netdb
from .parser import render
from .pf_pool import PfPoolGrammar

_FLAG_LETTERS = "FSRPAUEW"
_TOS_NAMES = frozenset({
    "lowdelay", "throughput", "reliability", "inetcontrol", "netcontrol", "critical",
    "ef", *(f"af{a}{b}" for a in "1234" for b in "123"), *(f"cs{n}" for n in range(8)),
})
_UINT_MAX = 2**32 - 1
PF_TIMEOUTS = frozenset({
    "tcp.first", "tcp.opening", "tcp.established", "tcp.closing", "tcp.finwait",
    "tcp.closed", "udp.first", "udp.single", "udp.multiple", "icmp.first", "icmp.error",
    "other.first", "other.single", "other.multiple", "frag", "interval", "src.track",
    "adaptive.start", "adaptive.end",
})


@dataclass
class FilterOpts:
    """What one rule's options said."""

    flags: str | None = None
    icmp_kw: str = ""
    icmp: tuple[str, ...] = ()
    state: str | None = None        # keep | modulate | synproxy | no
    state_opts: str = ""
    extra: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    allow_opts: bool = False
    fragment: bool = False
    once: bool = False
    translation: set[str] = field(default_factory=set)   # nat-to rdr-to binat-to af-to
    route: str | None = None

    def once_only(self, parser: PfOptionGrammar, key: str, message: str) -> None:
        if key in self.seen:
            parser.fail(message)
        self.seen.add(key)


class PfOptionGrammar(PfPoolGrammar):
    """filter_opts and the small grammars it uses (state, pools, scrub, sets)."""

    queues: set[str]

    def filter_opts(self) -> FilterOpts:
        opts = FilterOpts()
        while True:
            start = self.mark()
            kept = self.filter_opt(opts)
            if kept is None:
                return opts
            if kept:
                opts.extra.append(render(self.since(start)))

    def filter_opt(self, opts: FilterOpts) -> bool | None:
        """Parse one option: True if it is printed verbatim, None if none is here."""
        tok = self.peek()
        if tok.kind == "char" and tok.value == "!":
            self.advance()
            word = self.expect_kw("tagged", "received-on")
            self._negatable(opts, word)
            return True
        if tok.kind != "kw":
            return None
        word = str(tok.value)
        handler = {
            "flags": self._flags, "icmp-type": self._icmpspec, "icmp6-type": self._icmpspec,
            "no": self._state, "keep": self._state, "modulate": self._state,
            "synproxy": self._state,
        }.get(word)
        if handler is not None:
            self.advance()
            handler(opts, word)
            return False
        simple = self._simple_options().get(word)
        if simple is None:
            return None
        self.advance()
        simple(opts, word)
        return True

    def _simple_options(self):
        return {
            "user": self._ids, "group": self._ids, "prio": self._prio, "tos": self._tos_opt,
            "fragment": self._mark, "allow-opts": self._mark, "once": self._mark,
            "label": self._label, "queue": self._queue, "tag": self._tag,
            "tagged": self._negatable, "received-on": self._negatable,
            "probability": self._probability, "rtable": self._rtable,
            "divert-to": self._divert, "divert-reply": self._divert,
            "divert-packet": self._divert, "scrub": self._scrub,
            "nat-to": self._translation, "binat-to": self._translation,
            "rdr-to": self._translation, "af-to": self._translation,
            "route-to": self._route, "reply-to": self._route, "dup-to": self._route,
            "max-pkt-rate": self._pktrate, "set": self._sets,
        }

    # -- options kept structured ------------------------------------------
    def _flags(self, opts: FilterOpts, _word: str) -> None:
        opts.once_only(self, "flags", "flags cannot be redefined")
        if self.accept_kw("any"):
            opts.flags = "any"
            return
        first = self._flag() if self.at("string") else ""
        self.expect("char", "/")
        opts.flags = f"{first}/{self._flag()}"

    def _flag(self) -> str:
        text = self.string()
        if any(c not in _FLAG_LETTERS for c in text):
            self.fail(f"bad flags {text}")
        return text

    def _icmpspec(self, opts: FilterOpts, word: str) -> None:
        opts.once_only(self, "icmp", "icmp-type cannot be redefined")
        opts.icmp_kw = word
        if not self.accept("char", "{"):
            opts.icmp = (self._icmp_item(word),)
            return
        self.optnl()
        items = [self._icmp_item(word)]
        self.optnl()
        while not self.accept("char", "}"):
            self.accept("char", ",")
            items.append(self._icmp_item(word))
            self.optnl()
        opts.icmp = tuple(items)

    def _icmp_item(self, word: str) -> str:
        family = "icmp6" if word == "icmp6-type" else "icmp"
        names = netdb.ICMP6_TYPES if family == "icmp6" else netdb.ICMP_TYPES
        if self.at("number"):
            value = self.number()
            if not 0 <= value <= 255:
                self.fail(f"illegal {family}-type {value}")
            item = str(value)
        else:
            item = self.string()
            if item not in names:
                self.fail(f"unknown {family}-type {item}")
        if self.accept_kw("code"):
            if self.at("number"):
                code = self.number()
                if not 0 <= code <= 255:
                    self.fail(f"illegal icmp-code {code}")
                item += f" code {code}"
            else:
                item += f" code {self.string()}"
        return item

    def _state(self, opts: FilterOpts, word: str) -> None:
        opts.once_only(self, "keep", "modulate or keep cannot be redefined")
        self.expect_kw("state")
        opts.state = word
        if word != "no" and self.accept("char", "("):
            start = self.mark()
            self.state_opt()
            while not self.at("char", ")"):
                self.accept("char", ",")
                self.state_opt()
            opts.state_opts = render(self.since(start))
            self.expect("char", ")")

    def state_opt(self) -> None:
        word = self.accept_kw("max", "max-src-states", "max-src-conn", "max-src-nodes",
                              "max-src-conn-rate", "no-sync", "overload", "source-track",
                              "if-bound", "floating", "sloppy", "pflow")
        if word in ("max", "max-src-states", "max-src-conn", "max-src-nodes"):
            self._positive()
        elif word == "max-src-conn-rate":
            self._positive()
            self.expect("char", "/")
            self._positive()
        elif word == "overload":
            self.expect("char", "<")
            self.string()
            self.expect("char", ">")
            if self.accept_kw("flush"):
                self.accept_kw("global")
        elif word == "source-track":
            self.accept_kw("global", "rule")
        elif word is None:
            name = self.string()
            self._positive()
            self._check_state_timeout(name)

    def _check_state_timeout(self, name: str) -> None:
        if name not in PF_TIMEOUTS:
            self.fail(f"illegal timeout name {name}")
        if "." not in name:
            self.fail(f"illegal state timeout {name}")

    def _positive(self) -> int:
        value = self.number()
        if not 0 <= value <= _UINT_MAX:
            self.fail("only positive values permitted")
        return value

    # -- options printed back as written ----------------------------------
    def _ids(self, _opts: FilterOpts, _word: str) -> None:
        if not self.accept("char", "{"):
            self._id_item()
            return
        self.optnl()
        self._id_item()
        self.optnl()
        while not self.accept("char", "}"):
            self.accept("char", ",")
            self._id_item()
            self.optnl()

    def _id_item(self) -> None:
        unary = self.unaryop() is not None
        self.numberstring()
        if not unary and self.at("op", "<>", "><"):
            self.advance()
            self.numberstring()

    def _prio(self, opts: FilterOpts, _word: str) -> None:
        opts.once_only(self, "prio", "prio cannot be redefined")
        self._prio_value(self.number())

    def _prio_value(self, value: int) -> None:
        if not 0 <= value <= 7:
            self.fail("prio must be 0 - 7")

    def _tos_opt(self, opts: FilterOpts, _word: str) -> None:
        opts.once_only(self, "tos", "tos cannot be redefined")
        self._tos()

    def _tos(self) -> None:
        if self.at("number"):
            value = self.number()
            if not 0 <= value <= 255:
                self.fail(f"illegal tos value {value}")
            return
        text = self.string()
        if text.lower() in _TOS_NAMES:
            return
        try:
            ok = text[:2] == "0x" and 0 <= int(text[2:], 16) <= 255
        except ValueError:
            ok = False
        if not ok:
            self.fail(f"illegal tos value {text}")

    def _mark(self, opts: FilterOpts, word: str) -> None:
        setattr(opts, {"allow-opts": "allow_opts"}.get(word, word), True)

    def _label(self, opts: FilterOpts, _word: str) -> None:
        opts.once_only(self, "label", "label cannot be redefined")
        self.string()

    def _queue(self, opts: FilterOpts, _word: str) -> None:
        opts.once_only(self, "queue", "queue cannot be redefined")
        self._qname()

    def _qname(self) -> None:
        if not self.accept("char", "("):
            self._known_queue(self.string())
            return
        self._known_queue(self.string())
        self.accept("char", ",")
        if self.at("string"):
            self._known_queue(self.string())
        self.expect("char", ")")

    def _known_queue(self, name: str) -> None:
        if name not in self.queues:
            self.fail(f"queue {name} is not defined")

    def _tag(self, _opts: FilterOpts, _word: str) -> None:
        self.string()
        while self.accept("string"):
            pass

    def _negatable(self, opts: FilterOpts, word: str) -> None:
        if word == "tagged":
            self._tag(opts, word)
            return
        opts.once_only(self, "received-on", "cannot respecify received-on")
        self.if_item()

    def _probability(self, _opts: FilterOpts, _word: str) -> None:
        if self.accept("number"):
            return
        text = self.string()
        try:
            float(text[:-1] if text.endswith("%") else text)
        except ValueError:
            self.fail(f"invalid probability: {text}")

    def _rtable(self, _opts: FilterOpts, _word: str) -> None:
        if not 0 <= self.number() <= 255:
            self.fail("invalid rtable id")

    def _divert(self, opts: FilterOpts, word: str) -> None:
        opts.once_only(self, "divert", "more than one divert option")
        if word == "divert-to":
            self.string()
        if word != "divert-reply":
            self.expect_kw("port")
            self.portrange()

    def _scrub(self, _opts: FilterOpts, _word: str) -> None:
        self.expect("char", "(")
        self._scrub_opt()
        while not self.accept("char", ")"):
            self.accept("char", ",")
            self._scrub_opt()

    def _scrub_opt(self) -> None:
        word = self.expect_kw("no-df", "min-ttl", "max-mss", "reassemble", "random-id")
        limits = {"min-ttl": 255, "max-mss": 65535}
        if word in limits:
            value = self.number()
            if not 0 <= value <= limits[word]:
                self.fail(f"illegal {word} value {value}")
        elif word == "reassemble":
            proto = self.string()
            if proto.lower() != "tcp":
                self.fail(f"scrub reassemble supports only tcp, not '{proto}'")

    def _pktrate(self, opts: FilterOpts, _word: str) -> None:
        opts.once_only(self, "max-pkt-rate", "cannot respecify max-pkt-rate")
        self._positive()
        self.expect("char", "/")
        self._positive()

    def _sets(self, opts: FilterOpts, _word: str) -> None:
        if not self.accept("char", "("):
            self._filter_set(opts)
            return
        self._filter_set(opts)
        while not self.accept("char", ")"):
            self.accept("char", ",")
            self._filter_set(opts)

    def _filter_set(self, opts: FilterOpts) -> None:
        word = self.expect_kw("prio", "queue", "tos", "delay")
        if word == "prio":
            opts.once_only(self, "set-prio", "prio cannot be redefined")
            if self.accept("char", "("):
                self._prio_value(self.number())
                self.accept("char", ",")
                self._prio_value(self.number())
                self.expect("char", ")")
            else:
                self._prio_value(self.number())
        elif word == "queue":
            opts.once_only(self, "queue", "queue cannot be redefined")
            self._qname()
        elif word == "tos":
            opts.once_only(self, "set-tos", "tos cannot be respecified")
            self._tos()
        else:
            opts.once_only(self, "delay", "delay cannot be respecified")
            value = self.number()
            if not 0 <= value <= 0xFFFF:
                self.fail(f"illegal delay value {value} (0-65535)")
