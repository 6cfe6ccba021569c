"""From one pf.conf statement to the rules pfctl loads and `pfctl -sr` prints.

pfctl expands every list in a rule (interfaces, protocols, addresses, ports,
ICMP types) into one rule per combination, silently drops combinations whose
address families disagree, and checks each remaining one
(`port only applies to tcp/udp`, ...). A rule none of whose combinations
survives is an error of its own. The printed form follows pfctl's order
(action, direction, log, quick, on, af, proto, from/to, flags, state) with the
defaults pfctl adds (`flags S/SA` on stateful pass rules) and the ones it
leaves out (`keep state` without options); options pfctl prints in a fixed
order of its own are kept in the order they were written (a simplification).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

from . import netdb
from .pf_addr import Addr, PortItem
from .pf_rule import RuleSpec

_ANY = Addr("any", kind="any")
_TCP, _UDP, _ICMP, _ICMP6 = 6, 17, 1, 58


def expand_rule(spec: RuleSpec, report: Callable[[str], None]) -> list[str]:
    """The printed rules of `spec`; errors go to `report` (yyerror)."""
    af = spec.af or _decide_af(spec.src.hosts) or _decide_af(spec.dst.hosts)
    lines = []
    for iface, proto, src, sport, dst, dport, icmp in product(
            spec.interfaces or ("",), spec.protos or (None,), spec.src.hosts or (_ANY,),
            spec.src.ports or (None,), spec.dst.hosts or (_ANY,), spec.dst.ports or (None,),
            spec.opts.icmp or (None,)):
        combo_af = _combined_af(af, src, dst)
        if combo_af is False:
            continue
        problems = _problems(spec, proto, sport or dport, icmp, combo_af or None)
        if problems:
            for problem in problems:
                report(problem)
            report("skipping rule due to errors")
            continue
        lines.append(_format(spec, iface, proto, (src, sport), (dst, dport), icmp,
                             combo_af or None))
    if not lines:
        report("rule expands to no valid combination")
    return lines


def _decide_af(hosts: tuple[Addr, ...]) -> int | None:
    """decide_address_family(): the family all listed hosts share, if any."""
    families = {h.af for h in hosts}
    return families.pop() if len(families) == 1 else None


def _combined_af(af: int | None, src: Addr, dst: Addr) -> int | None | bool:
    """The combination's family, None if open, False if the hosts disagree."""
    known = {f for f in (af, src.af, dst.af) if f}
    if len(known) > 1:
        return False
    return known.pop() if known else None


def _stateful(spec: RuleSpec) -> bool:
    state = spec.opts.state
    return state not in (None, "no") or (spec.action == "pass" and state is None)


def _problems(spec: RuleSpec, proto: int | None, ports: PortItem | None,
              icmp: str | None, af: int | None) -> list[str]:
    """rule_consistent() for one combination, in pfctl's order."""
    opts, out = spec.opts, []
    if icmp is not None and proto != (_ICMP6 if opts.icmp_kw == "icmp6-type" else _ICMP):
        out.append("icmp-type mismatch")
    if ports and proto not in (_TCP, _UDP):
        out.append("port only applies to tcp/udp")
    if icmp is not None and proto not in (_ICMP, _ICMP6):
        out.append("icmp-type/code only applies to icmp")
    if icmp is not None and not af:
        out.append("must indicate address family with icmp-type/code")
    if (proto, af) in ((_ICMP, 6), (_ICMP6, 4)):
        out.append(f"proto {'icmp' if proto == _ICMP else 'icmp6'} doesn't match "
                   f"address family {'inet6' if af == 6 else 'inet'}")
    if opts.allow_opts and spec.action != "pass" and spec.action != "anchor":
        out.append("allow-opts can only be specified for pass rules")
    if opts.fragment and (ports or opts.flags or icmp):
        out.append("fragments can be filtered only on IP header fields")
    if spec.block.startswith("return-rst") and proto != _TCP:
        out.append("return-rst can only be applied to TCP rules")
    if spec.action in ("block", "match") and opts.state not in (None, "no"):
        out.append("keep state is great, but only for pass rules")
    if opts.route and not _stateful(spec):
        out.append("route-to, reply-to and dup-to require keep state")
    translating = opts.translation & {"nat-to", "rdr-to"}
    if translating and spec.action != "match" and not _stateful(spec):
        out.append("nat-to and rdr-to require keep state")
    if translating and not spec.direction:
        out.append("nat-to and rdr-to require a direction")
    if spec.action == "match" and opts.route:
        out.append("route-to, reply-to and dup-to are not supported on match rules")
    if spec.action == "match" and "af-to" in opts.translation:
        out.append("af-to is not supported on match rules")
    if spec.action == "block" and opts.route:
        out.append("route-to, reply-to and dup-to are not supported on block rules")
    return out


def _format(spec: RuleSpec, iface: str, proto: int | None, src: tuple[Addr, PortItem | None],
            dst: tuple[Addr, PortItem | None], icmp: str | None, af: int | None) -> str:
    if spec.action == "anchor":
        parts = ["anchor" if spec.anchor is None else f'anchor "{spec.anchor}"']
    else:
        parts = [spec.action, spec.block]
    parts += [spec.direction, spec.log, "quick" if spec.quick else ""]
    parts.append(f"on {iface}" if iface else "")
    parts.append({4: "inet", 6: "inet6", None: ""}[af])
    parts.append(f"proto {netdb.protocol_name(proto)}" if proto is not None else "")
    pname = {_TCP: "tcp", _UDP: "udp"}.get(proto or 0)
    if src[0] is _ANY and dst[0] is _ANY and not (src[1] or dst[1] or spec.os):
        parts.append("all")
    else:
        parts += ["from", _side(src, pname), spec.os, "to", _side(dst, pname)]
    parts += [_flags(spec, proto), f"{spec.opts.icmp_kw} {icmp}" if icmp else ""]
    parts.append(_state(spec, proto))
    parts += spec.opts.extra
    return " ".join(p for p in parts if p)


def _side(side: tuple[Addr, PortItem | None], pname: str | None) -> str:
    addr, port = side
    return addr.shown() + (" " + port.shown(pname) if port else "")


def _flags(spec: RuleSpec, proto: int | None) -> str:
    if proto not in (None, _TCP):
        return ""
    if spec.opts.flags:
        return f"flags {spec.opts.flags}"
    if spec.action == "pass" and _stateful(spec) and not spec.opts.fragment:
        return "flags S/SA"
    return ""


def _state(spec: RuleSpec, proto: int | None) -> str:
    opts = spec.opts
    if spec.action == "anchor":
        return ""
    if opts.state == "no":
        return "no state" if spec.action == "pass" else ""
    kind = opts.state or "keep"
    if kind in ("modulate", "synproxy") and proto not in (None, _TCP):
        kind = "keep"
    suffix = f" ({opts.state_opts})" if opts.state_opts else ""
    if kind == "keep":
        return f"keep state{suffix}" if suffix else ""
    return f"{kind} state{suffix}"
