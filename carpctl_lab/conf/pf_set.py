"""`set ...` options and `queue` definitions of pf.conf (the lab's pfctl).

pfctl validates option values while parsing (`set optimization fast` is an
error), so the lab does too; the accepted options are kept as text for
`pfctl -s` and the checksum. Queues matter to rules because a rule may only
name a queue defined above it.
"""

from __future__ import annotations

from .parser import render
from .pf_opts import PF_TIMEOUTS, PfOptionGrammar

_OPTIMIZATIONS = frozenset({"normal", "high-latency", "satellite", "aggressive",
                            "conservative"})
_RULESET_OPTIMIZATIONS = frozenset({"none", "basic", "profile"})
_LIMITS = frozenset({"states", "src-nodes", "frags", "tables", "table-entries",
                     "pktdelay-pkts", "anchors"})
_DEBUG = frozenset({"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"})
_UNITS = {"b": 1, "K": 10**3, "M": 10**6, "G": 10**9}
_UINT_MAX = 2**32 - 1


class PfSetGrammar(PfOptionGrammar):
    """parse.y's `option` and `queuespec`."""

    block_policy: str
    options: list[str]
    state_defaults: bool

    def option(self) -> None:
        start = self.mark()
        self.expect_kw("set")
        word = self.expect_kw(
            "reassemble", "optimization", "ruleset-optimization", "timeout", "limit",
            "loginterface", "hostid", "block-policy", "fingerprints", "state-policy",
            "debug", "skip", "state-defaults", "syncookies")
        getattr(self, "_set_" + word.replace("-", "_"))()
        self.options.append(render(self.since(start)))

    def _set_reassemble(self) -> None:
        if not self.accept_kw("no"):
            value = self.string()
            if value != "yes":
                self.fail(f"invalid value '{value}', expected 'yes' or 'no'")
        self.accept_kw("no-df")

    def _set_optimization(self) -> None:
        value = self.string()
        if value not in _OPTIMIZATIONS:
            self.fail(f"unknown optimization {value}")

    def _set_ruleset_optimization(self) -> None:
        value = " ".join(self._strings())
        if value not in _RULESET_OPTIMIZATIONS:
            self.fail(f"unknown ruleset-optimization {value}")

    def _strings(self) -> list[str]:
        words = [self.string()]
        while self.at("string"):
            words.append(self.string())
        return words

    def _set_timeout(self) -> None:
        self._spec_list(self._timeout_spec)

    def _set_limit(self) -> None:
        self._spec_list(self._limit_spec)

    def _spec_list(self, spec) -> None:
        if not self.accept("char", "{"):
            spec()
            return
        self.optnl()
        spec()
        self.optnl()
        while not self.accept("char", "}"):
            self.accept("char", ",")
            spec()
            self.optnl()

    def _timeout_spec(self) -> None:
        name, value = self.string(), self.number()
        if not 0 <= value <= _UINT_MAX:
            self.fail("only positive values permitted")
        if name not in PF_TIMEOUTS:
            self.fail(f"unknown timeout {name}")

    def _limit_spec(self) -> None:
        name, value = self.string(), self.number()
        if not 0 <= value <= _UINT_MAX:
            self.fail("only positive values permitted")
        if name not in _LIMITS:
            self.fail(f"unable to set limit {name} {value}")

    def _set_loginterface(self) -> None:
        if not self.accept_kw("all"):
            self.string()

    def _set_hostid(self) -> None:
        if self.at("number"):
            value = self.number()
        else:
            text = self.string()
            if not text.isdigit():
                self.fail(f"{text} is not a number")
            value = int(text)
        if value == 0 or value > _UINT_MAX:
            self.fail("hostid must be non-zero")

    def _set_block_policy(self) -> None:
        self.block_policy = self.expect_kw("drop", "return")

    def _set_fingerprints(self) -> None:
        self.string()

    def _set_state_policy(self) -> None:
        self.expect_kw("if-bound", "floating")

    def _set_debug(self) -> None:
        if self.accept_kw("debug"):
            return
        level = self.string()
        if level not in _DEBUG:
            self.fail(f"error setting debuglevel {level}")

    def _set_skip(self) -> None:
        for item in self.interface():
            if item.startswith("!"):
                self.fail("skip on ! <interface> is not supported")
            if item.startswith("rdomain"):
                self.fail("skip on rdomain <num> is not supported")

    def _set_state_defaults(self) -> None:
        self.state_opt()
        while self.accept("char", ","):
            self.state_opt()
        if self.state_defaults:
            self.fail("cannot redefine state-defaults")
        self.state_defaults = True

    def _set_syncookies(self) -> None:
        mode = self.string()
        if mode not in ("never", "adaptive", "always"):
            self.fail("illegal value for syncookies")
        if self.accept("char", "("):
            self._syncookie_opt()
            while not self.accept("char", ")"):
                self.accept("char", ",")
                self._syncookie_opt()

    def _syncookie_opt(self) -> None:
        name, value = self.string(), self.string()
        try:
            percent = float(value[:-1]) if value.endswith("%") else None
        except ValueError:
            percent = None
        if percent is None:
            self.syntax()
        if not 0 < percent <= 100:
            self.fail("illegal percentage value")
        if name not in ("start", "end"):
            self.fail("illegal syncookie option")

    # -- queues -------------------------------------------------------------
    def queuespec(self) -> None:
        self.expect_kw("queue")
        name = self.string()
        interface = self.interface()
        seen: set[str] = set()
        self._queue_opt(seen)
        while self.at_kw("bandwidth", "parent", "default", "qlimit", "flows", "quantum"):
            self._queue_opt(seen)
        if not interface and "parent" not in seen:
            self.fail("root queue without interface")
        self.queues.add(name)

    def _queue_opt(self, seen: set[str]) -> None:
        word = self.expect_kw("bandwidth", "parent", "default", "qlimit", "flows", "quantum")
        if word in seen:
            self.fail({"flows": "number of flows cannot be respecified"}.get(
                word, f"{word} cannot be respecified"))
        seen.add(word)
        if word == "bandwidth":
            self._scspec()
            for _ in range(2):
                if self.at("char", ",") or self.at_kw("min", "max"):
                    self.accept("char", ",")
                    self.expect_kw("min", "max")
                    self._scspec()
        elif word == "parent":
            self.string()
        elif word != "default":
            value = self.number()
            limits = {"qlimit": (0, 65535), "flows": (1, 32767), "quantum": (1, 65535)}
            low, high = limits[word]
            if not low <= value <= high:
                self.fail({"qlimit": "qlimit out of range: max 65535",
                           "flows": "number of flows out of range: max 32767",
                           "quantum": "quantum out of range: max 65535"}[word])

    def _scspec(self) -> None:
        self._bandwidth()
        if self.accept_kw("burst"):
            self._bandwidth()
            self.expect_kw("for")
            duration = self.string()
            if not (duration.endswith("ms") and duration[:-2].isdigit()):
                self.fail("time in scspec must be in ms")

    def _bandwidth(self) -> None:
        if self.accept("number"):
            return
        text = self.string()
        number = text.rstrip("%bBKMGitB")  # noqa: B005 (a set of unit letters)
        unit = text[len(number):]
        for suffix in ("Bit", "B", "bit", "b"):
            if len(unit) > 1 and unit.endswith(suffix) and unit[:-len(suffix)] in _UNITS:
                unit = unit[:-len(suffix)]
        if unit == "%":
            self.fail("no bandwidth in % yet")
        if unit not in _UNITS:
            self.fail(f'unknown unit "{unit}"')
