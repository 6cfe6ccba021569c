"""pass/block/match, anchor and antispoof statements of pf.conf (the lab's pfctl).

Each statement is parsed into a RuleSpec that still holds its lists
(`on { em0 em1 }`, `proto { tcp udp }`, `port { 80 443 }`); pf_expand.py turns it
into the one-line rules pfctl loads. The checks here are the ones pfctl makes
while parsing the statement (`flags only apply to tcp`, the anchor rules);
the per-rule ones come during expansion, as in pfctl.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import netdb
from .parser import render
from .pf_addr import Side
from .pf_opts import FilterOpts, PfOptionGrammar

_TCP = 6


@dataclass(frozen=True)
class RuleSpec:
    """One rule statement as written, lists not yet expanded."""

    action: str                      # pass, block, match or anchor
    block: str = ""                  # drop, return, return-rst (ttl 5), ...
    anchor: str | None = None
    direction: str = ""
    log: str = ""
    quick: bool = False
    interfaces: tuple[str, ...] = ()
    af: int | None = None
    protos: tuple[int, ...] = ()
    src: Side = Side()
    dst: Side = Side()
    os: str = ""
    opts: FilterOpts = field(default_factory=FilterOpts)


class PfRuleGrammar(PfOptionGrammar):
    """parse.y's pfrule, anchorrule and antispoof."""

    block_policy: str

    def anchor_block(self, name: str) -> None:
        """An inline anchor's lines up to its `}`: the file parser knows them."""
        raise NotImplementedError

    # -- pass / block / match -------------------------------------------------
    def pfrule(self) -> RuleSpec:
        action, block = self._action()
        direction = self.accept_kw("in", "out") or ""
        log, quick = self._logquick()
        interfaces = self.interface()
        af = self._af()
        protos = self._proto()
        src, dst, os_ = self._fromto()
        opts = self.filter_opts()
        spec = RuleSpec(action, block, None, direction, log, quick, interfaces, af,
                        protos, src, dst, os_, opts)
        self._check_opts(spec)
        self._check_flags(spec)
        if opts.route and opts.route != "dup-to" and not direction:
            self.fail("direction must be explicit with rules that specify routing")
        return spec

    def _action(self) -> tuple[str, str]:
        word = self.expect_kw("pass", "match", "block")
        if word != "block":
            return word, ""
        start = self.mark()
        spec = self.accept_kw("drop", "return", "return-rst", "return-icmp", "return-icmp6")
        if spec is None:
            return word, self.block_policy
        if spec == "return-rst" and self.accept("char", "("):
            self.expect_kw("ttl")
            ttl = self.number()
            if not 0 <= ttl <= 255:
                self.fail(f"illegal ttl value {ttl}")
            self.expect("char", ")")
        elif spec in ("return-icmp", "return-icmp6") and self.accept("char", "("):
            self._icmp_code()
            if spec == "return-icmp" and self.accept("char", ","):
                self._icmp_code()
            self.expect("char", ")")
        return word, render(self.since(start))

    def _icmp_code(self) -> None:
        if self.at("number"):
            code = self.number()
            if not 0 <= code <= 255:
                self.fail(f"invalid icmp code {code}")
        else:
            self.string()

    def _logquick(self) -> tuple[str, bool]:
        quick = bool(self.accept_kw("quick"))
        log = self._log()
        if not quick and log:
            quick = bool(self.accept_kw("quick"))
        return log, quick

    def _log(self) -> str:
        start = self.mark()
        if not self.accept_kw("log"):
            return ""
        if self.accept("char", "("):
            self._logopt()
            while not self.accept("char", ")"):
                self.accept("char", ",")
                self._logopt()
        return render(self.since(start))

    def _logopt(self) -> None:
        if self.accept_kw("all", "matches", "user"):
            return
        self.expect_kw("to")
        name = self.string()
        while self.at("string"):
            name += " " + self.string()
        if not name.startswith("pflog"):
            self.fail(f"{name}: should be a pflog interface")
        unit = name[5:]
        if not unit.isdigit():
            self.fail(f"{name}: invalid")
        if int(unit) > 255:
            self.fail(f"{name}: too large")

    def _af(self) -> int | None:
        word = self.accept_kw("inet", "inet6")
        return None if word is None else 4 if word == "inet" else 6

    def _proto(self) -> tuple[int, ...]:
        if not self.accept_kw("proto"):
            return ()
        if not self.accept("char", "{"):
            return (self._proto_item(),)
        self.optnl()
        items = [self._proto_item()]
        self.optnl()
        while not self.accept("char", "}"):
            self.accept("char", ",")
            items.append(self._proto_item())
            self.optnl()
        return tuple(items)

    def _proto_item(self) -> int:
        if self.at("number"):
            number = self.number()
            if not 0 <= number <= 255:
                self.fail("protocol outside range")
        else:
            name = self.string()
            found = netdb.protocol_number(name)
            if found is None:
                self.fail(f"unknown protocol {name}")
            number = found
        if number == 0:
            self.fail("proto 0 cannot be used")
        return number

    def _fromto(self) -> tuple[Side, Side, str]:
        if self.accept_kw("all"):
            return Side(), Side(), ""
        src = self._ipportspec() if self.accept_kw("from") else Side()
        start = self.mark()
        if self.accept_kw("os"):
            if self.accept("char", "{"):
                while not self.accept("char", "}"):
                    self.accept("char", ",")
                    self.optnl()
                    self.string()
                    self.optnl()
            else:
                self.string()
        os_ = render(self.since(start))
        dst = self._ipportspec() if self.accept_kw("to") else Side()
        if any(h.kind == "urpf-failed" for h in dst.hosts):
            self.fail('"urpf-failed" is not permitted in a destination address')
        return src, dst, os_

    def _ipportspec(self) -> Side:
        if self.accept_kw("port"):
            return Side((), self.portspec())
        hosts = self.ipspec()
        ports = self.portspec() if self.accept_kw("port") else ()
        return Side(hosts, ports)

    def _check_opts(self, spec: RuleSpec) -> None:
        """filteropts_to_rule()."""
        opts = spec.opts
        if opts.once and spec.action not in ("pass", "block"):
            self.fail("'once' only applies to pass/block rules")
        if "af-to" in opts.translation and spec.direction != "in":
            self.fail("af-to can only be used with direction in")
        if "af-to" in opts.translation and opts.route:
            self.fail("af-to cannot be used together with route-to, reply-to, dup-to")
        if opts.flags and opts.flags != "any":
            have, want = (set(part) for part in opts.flags.split("/"))
            if not have <= want:
                self.fail("flags always false")

    def _check_flags(self, spec: RuleSpec) -> None:
        if spec.opts.flags and spec.protos and _TCP not in spec.protos:
            self.fail("flags only apply to tcp")

    # -- anchors ----------------------------------------------------------------
    def anchorrule(self) -> tuple[RuleSpec, bool]:
        """`anchor NAME ... [{ rules }]`; True when the rules were inline."""
        self.expect_kw("anchor")
        name = self._anchorname()
        direction = self.accept_kw("in", "out") or ""
        quick = bool(self.accept_kw("quick"))
        interfaces = self.interface()
        af = self._af()
        protos = self._proto()
        src, dst, os_ = self._fromto()
        opts = self.filter_opts()
        inline = self.accept("char", "{") is not None
        if inline:
            self.expect("newline")
            self.anchor_block(name or "")
        spec = RuleSpec("anchor", "", name, direction, "", quick, interfaces, af, protos,
                        src, dst, os_, opts)
        if inline and name and "/" in name:
            self.fail("anchor paths containing '/' cannot be used for inline anchors.")
        if not inline and not name:
            self.fail("anchors without explicit rules must specify a name")
        if not inline and name.endswith("/"):
            self.fail(f"anchorrule: bad anchor name {name}")
        self._check_flags(spec)
        self._check_opts(spec)
        if opts.state:
            self.fail("cannot specify state handling on anchors")
        if opts.route:
            self.fail("cannot specify route handling on anchors")
        return spec, inline

    def _anchorname(self) -> str | None:
        if not self.at("string"):
            return None
        name = self.string()
        if not name:
            self.fail("anchor name must not be empty")
        if name.startswith("_") or "/_" in name:
            self.fail("anchor names beginning with '_' are reserved for internal use")
        return name

    # -- antispoof ----------------------------------------------------------------
    def antispoof(self) -> list[str]:
        """The two block rules per interface pfctl generates (addresses by name)."""
        self.expect_kw("antispoof")
        log, quick = self._logquick()
        self.expect_kw("for")
        if self.accept("char", "{"):
            self.optnl()
            ifaces = [self._antispoof_if()]
            self.optnl()
            while not self.accept("char", "}"):
                self.accept("char", ",")
                ifaces.append(self._antispoof_if())
                self.optnl()
        else:
            ifaces = [self._antispoof_if()]
        af = self._af()
        start = self.mark()
        seen: set[str] = set()
        while (word := self.accept_kw("label", "rtable")):
            if word == "label":
                if word in seen:
                    self.fail("label cannot be redefined")
                self.string()
            elif not 0 <= self.number() <= 255:
                self.fail("invalid rtable id")
            seen.add(word)
        tail = render(self.since(start))
        head = " ".join(p for p in ("block drop in", log, "quick" if quick else "") if p)
        family = {4: " inet", 6: " inet6", None: ""}[af]
        lines = []
        for name, dynamic in ifaces:
            net = f"({name}:network)" if dynamic else f"{name}:network"
            lines.append(f"{head} on ! {name}{family} from {net} to any")
            if not name.startswith("lo"):
                own = f"({name})" if dynamic else name
                lines.append(f"{head}{family} from {own} to any")
        return [f"{line} {tail}" if tail else line for line in lines]

    def _antispoof_if(self) -> tuple[str, bool]:
        if self.accept("char", "("):
            name = self.if_item()
            self.expect("char", ")")
            return name, True
        return self.if_item(), False
