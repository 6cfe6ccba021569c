"""Do the two nodes agree, and does each run what it will boot with? Findings with their fix.

A pair only elects one MASTER per vhid when both nodes hear each other (same
vhid, subnet and pass, carp allowed) and their advertisements compare
deterministically (distinct advskews). Runtime values that differ from
/etc/hostname.carpN and /etc/sysctl.conf (an advskew 254 left by a killed run,
a manual sysctl) vanish at the next reboot and usually mean a failover was not
undone; each such finding names the command that puts the configured value back.
The rules come from openbsd-reference.md 2, 3, 8 and 10 (traps 1, 4, 5, 8).
"""

from __future__ import annotations

import re

from carpctl.core.carp import Finding
from carpctl.facts.ruleset import evaluates_relayd, is_rc_boot_ruleset
from carpctl.facts.state import NodeState
from carpctl.inventory import Pair

_AMOUNT = re.compile(r"\bamount=(?P<n>[0-9]+)")
BOOT_DEMOTION, PFSYNC_BULK = 128, 32


def agreement_findings(pair: str, states: list[NodeState]) -> list[Finding]:
    """Findings that make the pair unhealthy: disagreement, carp refused, undone changes."""
    found: list[Finding] = []
    for state in states:
        found.extend(_allow(state))
        found.extend(_runtime_drift(pair, state))
        found.extend(_maintenance_in_force(state))
        found.extend(_ruleset(state))
    if len(states) == 2:
        found.extend(_vhid_agreement(*states))
        found.extend(_pass_agreement(*states))
    return found


def agreement_warnings(states: list[NodeState]) -> list[Finding]:
    """What serves but deserves a look: equal advskews give no deterministic MASTER (trap 8),
    relayd hosts an operator disabled (not down: nothing is broken, but nothing is sent there)."""
    warnings = [Finding("relayd-host-disabled", f"{s.node}: relayd host {h.name} is disabled: "
                        f"no traffic is forwarded to it until `relayctl host enable {h.id}`",
                        s.node)
                for s in states if s.relayd is not None and s.relayd.running
                for h in s.relayd.hosts() if h.status == "disabled"]
    if len(states) != 2:
        return warnings
    a, b = states
    for vhid, mine in a.carp_by_vhid.items():
        theirs = b.carp_by_vhid.get(vhid)
        if theirs and (mine.advbase, mine.advskew) == (theirs.advbase, theirs.advskew):
            warnings.append(Finding(
                "equal-advskew", f"vhid {vhid}: {a.node} and {b.node} both advertise advbase "
                f"{mine.advbase} advskew {mine.advskew}, so which node is MASTER is a race: "
                f"give one node a higher advskew in /etc/hostname.{theirs.name}"))
    return warnings


def unsynced_warning(pair: Pair) -> str | None:
    """The warning a failover of a pair without pfsync (`pfsync: false`) carries."""
    if pair.pfsync:
        return None
    return (f"{pair.name} has no pfsync (`pfsync: false` in the inventory): pf states are not "
            f"synced, so connections through the pair are dropped by the new MASTER")


def split_brain_causes(states: list[NodeState]) -> list[str]:
    """The likely reasons two nodes do not hear each other, from sysctl and netstat -s -p carp."""
    causes: list[str] = []
    for state in states:
        if state.sysctl is not None and not state.sysctl.allow:
            causes.append(f"{state.node} has net.inet.carp.allow=0")
        stats = state.carp_stats
        if stats is None:
            continue
        if stats.bad_auth:
            causes.append(f"carp pass differs between the nodes ({state.node} dropped "
                          f"{stats.bad_auth} advertisements for bad authentication)")
        if stats.bad_vhid:
            causes.append(f"vhids differ between the nodes ({state.node} dropped "
                          f"{stats.bad_vhid} for unknown vhid)")
        if stats.bad_ttl:
            causes.append(f"{state.node} gets advertisements with a wrong TTL ({stats.bad_ttl}: "
                          f"routed, not from the same segment)")
        if stats.bad_version:
            causes.append(f"{state.node} dropped {stats.bad_version} with a bad carp version")
        if stats.received == 0 and stats.received6 == 0:
            causes.append(f"{state.node} hears no advertisement at all (pf blocking carp, "
                          f"or no link?)")
    return causes


def demote_parts(state: NodeState) -> list[str]:
    """The demote count a node advertises, cut into the parts that can be known (reference 2.4)."""
    total = state.demote_sum or 0
    parts: list[str] = []
    own = _carpctl_demotion(state)
    if own:
        parts.append(f"{own} carpctl's own")
    rest = total - own
    for group, count in sorted((state.group_demotes or {}).items()):
        if group not in ("carp", "pfsync") and count and _in_use(state, group):
            parts.append(f"{count} group {group}")
            rest -= count
    if rest >= BOOT_DEMOTION:
        parts.append("128 boot interlock (rc has not finished)")
        rest -= BOOT_DEMOTION
    if rest >= PFSYNC_BULK and state.pfsync is not None and state.pfsync.present:
        parts.append("32 pfsync bulk update")
        rest -= PFSYNC_BULK
    for dev in _links_down(state):
        if rest > 0:
            parts.append(f"1 {dev} without link")
            rest -= 1
    if rest > 0 and parts:
        parts.append(f"{rest} other (a manual carpdemote, ifstated, relayd?)")
    return parts


def _carpctl_demotion(state: NodeState) -> int:
    if state.maintenance:
        match = _AMOUNT.search(state.maintenance)
        return int(match["n"]) if match else 0
    if state.parked and state.parked.method == "carpdemote":
        return state.parked.amount
    return 0


def _in_use(state: NodeState, group: str) -> bool:
    return any(group in state.groups_of(c.name) for c in state.carp if c.vhid is not None)


def _links_down(state: NodeState) -> list[str]:
    devs = {c.carpdev for c in state.carp if c.carpdev}
    if state.pfsync is not None and state.pfsync.syncdev:
        devs.add(state.pfsync.syncdev)
    interfaces = state.interfaces or {}
    return sorted(d for d in devs if d in interfaces and interfaces[d].link is False)


def _allow(state: NodeState) -> list[Finding]:
    if state.sysctl is None or state.sysctl.allow:
        return []
    return [Finding("carp-disallowed", f"{state.node} has net.inet.carp.allow=0: it drops every "
                    f"advertisement and goes MASTER (split brain); run `sysctl "
                    f"net.inet.carp.allow=1` and remove it from /etc/sysctl.conf", state.node)]


def _runtime_drift(pair: str, state: NodeState) -> list[Finding]:
    """Runtime values that the next boot would change; carpctl's own parking is deliberate."""
    node = state.node
    parked = set(state.parked.originals) if state.parked and state.parked.method == "advskew" \
        else set()
    found: list[Finding] = []
    restore = f"(or `carpctl restore {pair} {node}`)"
    for carp in state.carp:
        config = (state.carp_config or {}).get(carp.name)
        if config is None or carp.vhid is None or carp.name in parked or config.balancing:
            continue
        for word, now, wanted in (("advskew", carp.advskew, config.configured_advskew),
                                  ("advbase", carp.advbase, config.configured_advbase)):
            if now != wanted:
                found.append(Finding(
                    "runtime-drift", f"{node} {carp.name} runs {word} {now} but "
                    f"/etc/hostname.{carp.name} says {wanted}: run `ifconfig {carp.name} "
                    f"{word} {wanted}` on {node} {restore}", node))
    if state.preempt and state.configured_preempt is False:   # preempt off: its own finding
        found.append(Finding(
            "runtime-drift", f"{node} runs net.inet.carp.preempt=1 but /etc/sysctl.conf gives 0 "
            f"at boot: add net.inet.carp.preempt=1 to /etc/sysctl.conf on {node}", node))
    return found


def _maintenance_in_force(state: NodeState) -> list[Finding]:
    """After a reboot in maintenance, rc.local must have put the demotion back (trap 4)."""
    amount = _carpctl_demotion(state) if state.maintenance else 0
    demote = state.demote_sum
    if not amount or demote is None or demote >= amount:
        return []
    return [Finding("maintenance-lost", f"{state.node} is in maintenance but its demote counter "
                    f"is {demote}, not {amount} or more: rc.local's carpdemote did not hold; run "
                    f"`ifconfig -g carp carpdemote {amount}` on {state.node}", state.node)]


def _ruleset(state: NodeState) -> list[Finding]:
    """rc's temporary boot ruleset left in place, relayd redirects pf never evaluates (trap 12, 14)."""
    rules, node = state.pf_rules, state.node
    if rules is None:
        return []
    if is_rc_boot_ruleset(rules):
        return [Finding("boot-ruleset", f"{node} runs rc's temporary boot ruleset (only ssh, dns, "
                        f"dhcp and carp pass): /etc/pf.conf did not load at boot; see why with "
                        f"`pfctl -nf /etc/pf.conf` on {node}, fix it, then `pfctl -f "
                        f"/etc/pf.conf`", node)]
    relayd = state.relayd
    redirects = relayd.redirects() if relayd is not None and relayd.running else ()
    if not redirects:
        return []
    names = ", ".join(r.name for r in redirects)
    if not evaluates_relayd(rules):
        return [Finding("relayd-anchor", f"{node} relayd has redirects ({names}) but the loaded "
                        f"pf rules have no `anchor \"relayd/*\"`: their rules are never "
                        f"evaluated; add the anchor to /etc/pf.conf", node)]
    missing = [r.name for r in redirects
               if state.pf_anchors is not None and f"relayd/{r.name}" not in state.pf_anchors]
    if missing:
        return [Finding("relayd-anchor", f"{node} relayd's redirect {', '.join(missing)} has no "
                        f"pf anchor (`pfctl -sA` lists no relayd/{missing[0]}): relayd did not "
                        f"load its rules; check its log and `relayctl reload`", node)]
    return []


def _vhid_agreement(a: NodeState, b: NodeState) -> list[Finding]:
    found: list[Finding] = []
    mine, theirs = a.carp_by_vhid, b.carp_by_vhid
    for vhid in sorted(set(mine) ^ set(theirs)):
        has, lacks = (a, b) if vhid in mine else (b, a)
        found.append(Finding("carp-mismatch", f"vhid {vhid} is on {has.node} only: configure it "
                             f"on {lacks.node} too (same vhid, advbase and subnet)"))
    for vhid in sorted(set(mine) & set(theirs)):
        x, y = mine[vhid], theirs[vhid]
        if x.advbase != y.advbase:
            found.append(Finding("carp-mismatch", f"vhid {vhid}: advbase {x.advbase} on {a.node}, "
                                 f"{y.advbase} on {b.node}: set the same advbase on both nodes"))
        nets_a, nets_b = _subnets(a, x.carpdev), _subnets(b, y.carpdev)
        if nets_a and nets_b and not nets_a & nets_b:
            found.append(Finding("carp-mismatch", f"vhid {vhid}: carpdev {x.carpdev} of {a.node} "
                                 f"({', '.join(sorted(nets_a))}) and {y.carpdev} of {b.node} "
                                 f"({', '.join(sorted(nets_b))}) are not on one subnet: put "
                                 f"the vhid on the interfaces of the same segment"))
    return found


def _subnets(state: NodeState, dev: str | None) -> set[str]:
    known = (state.interfaces or {}).get(dev or "")
    return set(known.subnets) if known else set()


def _pass_agreement(a: NodeState, b: NodeState) -> list[Finding]:
    if a.carp_config is None or b.carp_config is None:
        return []
    found = []
    for name in sorted(set(a.carp_config) & set(b.carp_config)):
        if a.carp_config[name].pass_hash != b.carp_config[name].pass_hash:
            found.append(Finding("pass-mismatch", f"{name}: the carp pass in "
                                 f"/etc/hostname.{name} differs between {a.node} and {b.node} "
                                 f"(compared by hash): set the same pass on both nodes"))
    return found
