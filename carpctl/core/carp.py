"""Pure CARP reasoning over two nodes' states: verdicts, who is MASTER, what a change will do.

Nothing here talks to a node; flows feed it NodeState values. The rules come
from openbsd-reference.md sections 2 and 10 (kept in the product, independent
of the lab's model, so the lab can prove this wrong).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from carpctl.facts.state import NodeState

# Verdict codes, worst first: the pair's verdict is its worst finding.
SEVERITY = ("unreachable", "split-brain", "carp-disallowed", "pass-mismatch", "carp-mismatch",
            "no-master", "boot-ruleset", "masters-split", "carp-init", "maintenance-lost", "demoted",
            "maintenance", "relayd-down", "relayd-anchor", "pfsync-down", "preempt-off", "webhosts-down",
            "runtime-drift", "drift", "release-pin", "restored-at-boot", "unparsed")


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    node: str | None = None


@dataclass(frozen=True, kw_only=True)
class PairVerdict:
    pair: str
    findings: tuple[Finding, ...]
    master: str | None                       # the node that is MASTER on every vhid
    vhids: dict[int, dict[str, str]] = field(default_factory=dict)  # vhid -> node -> state
    # what serves but deserves a look (equal advskews): shown, never unhealthy, exit 0
    warnings: tuple[Finding, ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.findings

    @property
    def verdict(self) -> str:
        if not self.findings:
            return "healthy"
        return min((f.code for f in self.findings), key=SEVERITY.index)


def vhid_table(states: list[NodeState]) -> dict[int, dict[str, str]]:
    table: dict[int, dict[str, str]] = {}
    for state in states:
        for carp in state.carp:
            if carp.vhid is not None:
                table.setdefault(carp.vhid, {})[state.node] = carp.state
    return dict(sorted(table.items()))


def masters(table: dict[int, dict[str, str]]) -> dict[int, list[str]]:
    return {vhid: [n for n, s in nodes.items() if s == "MASTER"] for vhid, nodes in table.items()}


def one_master_each(states) -> bool:
    """Every vhid seen has exactly one MASTER: the pair serves, without split brain."""
    table = vhid_table(list(states))
    return bool(table) and all(sum(s == "MASTER" for s in nodes.values()) == 1
                               for nodes in table.values())


def pair_master(table: dict[int, dict[str, str]]) -> str | None:
    """The node that is the only MASTER on every vhid, if there is one."""
    owners = {tuple(m) for m in masters(table).values()}
    if len(owners) == 1:
        (only,) = owners
        if len(only) == 1:
            return only[0]
    return None


def assess(pair: str, states: list[NodeState],
           expected_files: dict[str, dict[str, str]] | None = None, *,
           pfsync: bool = True) -> PairVerdict:
    """Every problem of a pair, as findings; no finding means healthy. `pfsync` False: the
    pair runs without pfsync on purpose (inventory `pfsync: false`), so no pfsync finding."""
    from carpctl.core.agreement import agreement_findings, agreement_warnings, split_brain_causes

    findings: list[Finding] = []
    reachable = [s for s in states if s.reachable]
    for state in states:
        if not state.reachable:
            findings.append(Finding("unreachable", f"{state.node} unreachable ({state.reason}): "
                                    f"{state.error}", state.node))
    table = vhid_table(reachable)
    if reachable and not table:
        findings.append(Finding("no-master", "no carp interface with a vhid on any node"))
    owners = masters(table)
    causes = "; ".join(split_brain_causes(reachable))
    for vhid, nodes in owners.items():
        if len(nodes) > 1:
            why = f" (likely: {causes})" if causes else ""
            findings.append(Finding("split-brain", f"vhid {vhid}: MASTER on both "
                                    f"{' and '.join(nodes)}{why}"))
        elif not nodes and reachable:
            seen = ", ".join(f"{n} {s}" for n, s in table[vhid].items())
            unseen = [s.node for s in states if not s.reachable]
            if unseen:  # the node we cannot see may well be the MASTER
                seen += f"; {' and '.join(unseen)} not seen, may be MASTER"
            findings.append(Finding("no-master", f"vhid {vhid}: no MASTER seen ({seen})"))
    single = {nodes[0] for nodes in owners.values() if len(nodes) == 1}
    if len(single) > 1:
        split = "; ".join(f"vhid {v} on {n[0]}" for v, n in owners.items() if len(n) == 1)
        findings.append(Finding("masters-split", f"MASTERs split across nodes: {split}"))
    master = pair_master(table)
    for state in reachable:
        findings.extend(_node_findings(state, master, expected_files))
    findings.extend(_state_count_findings(reachable))
    if master is not None:
        findings.extend(_relayd_findings(reachable, master))
    findings.extend(agreement_findings(pair, reachable))
    if not pfsync:
        findings = [f for f in findings if f.code != "pfsync-down"]
    warnings = agreement_warnings(reachable) if len(reachable) == len(states) else []
    return PairVerdict(pair=pair, findings=tuple(findings), master=master, vhids=table,
                       warnings=tuple(warnings))


def _node_findings(state: NodeState, master: str | None,
                   expected_files: dict[str, dict[str, str]] | None) -> list[Finding]:
    node = state.node
    found: list[Finding] = []
    for carp in state.carp:
        if carp.vhid is not None and carp.state == "INIT":
            why = "interface down" if not carp.up else f"carpdev {carp.carpdev} has no link?"
            found.append(Finding("carp-init", f"{node} {carp.name} is INIT ({why})", node))
    if state.maintenance:
        found.append(Finding("maintenance", f"{node} is in maintenance mode", node))
    elif state.demote_sum and not state.parked:   # a parked node is deliberate, and shown
        from carpctl.core.agreement import demote_parts

        parts = demote_parts(state)
        named = f" ({', '.join(parts)})" if parts else ""
        found.append(Finding("demoted", f"{node} carp demote counter is {state.demote_sum}{named}",
                             node))
    if state.preempt is False:
        fix = ("run `sysctl net.inet.carp.preempt=1` (/etc/sysctl.conf says 1)"
               if state.configured_preempt else "set net.inet.carp.preempt=1 in /etc/sysctl.conf "
               "and run `sysctl net.inet.carp.preempt=1`")
        found.append(Finding("preempt-off", f"{node} has net.inet.carp.preempt=0: {fix}", node))
    if state.pfsync is not None and not (state.pfsync.present and state.pfsync.up
                                         and state.pfsync.syncdev):
        found.append(Finding("pfsync-down", f"{node} pfsync0 is not up with a syncdev", node))
    elif syncdev_without_link(state):
        dev = syncdev_without_link(state)
        found.append(Finding("pfsync-down", f"{node} pfsync's syncdev {dev} has no link: pf "
                             f"states are not synced; check its cable and switch port "
                             f"(`ifconfig {dev}`)", node))
    relayd = state.relayd
    if relayd is not None and relayd.running:
        # a disabled host is the operator's choice (relayctl host disable), not a fault
        down = [h.name for h in relayd.hosts() if h.status not in ("up", "disabled")]
        if down:
            found.append(Finding("webhosts-down", f"{node} relayd sees hosts down: "
                                 f"{', '.join(down)}", node))
    for dest, expected in (expected_files or {}).get(node, {}).items():
        if dest not in state.files:
            continue  # not readable: reported among the node's problems
        actual = state.files[dest]
        if actual != expected:
            what = "is missing" if actual is None else "differs from the inventory"
            found.append(Finding("drift", f"{node} {dest} {what}", node))
    if state.boot_restored and any(f.code == "drift" for f in found):
        found.append(Finding("restored-at-boot", f"{node} put back its previous files at boot "
                             f"({state.boot_restored}): it went down before that deploy was "
                             f"confirmed; deploy again once the node is healthy", node))
    found.extend(Finding("unparsed", f"{node}: {problem}", node) for problem in state.problems)
    return found


def syncdev_without_link(state: NodeState) -> str | None:
    """pfsync0's syncdev when ifconfig says it has no carrier: pfsync0 itself still looks
    up, but no state update crosses to the peer."""
    dev = state.pfsync.syncdev if state.pfsync is not None else None
    known = (state.interfaces or {}).get(dev or "")
    return dev if known is not None and known.link is False else None


def states_in_step(a: int, b: int) -> bool:
    """pf state counts of two nodes that pfsync keeps in step (allowing for churn)."""
    return abs(a - b) <= max(10, 0.1 * max(a, b))


def _state_count_findings(states: list[NodeState]) -> list[Finding]:
    """pfsync0 can look up while its sync link is dead: the counts tell."""
    counted = [(s.node, s.pf.states) for s in states if s.pf is not None and s.pf.enabled]
    if len(counted) != 2 or states_in_step(counted[0][1], counted[1][1]):
        return []
    (a, a_states), (b, b_states) = counted
    return [Finding("pfsync-down", f"pf state counts differ ({a} {a_states}, {b} "
                    f"{b_states}): pfsync is not keeping the nodes in step")]


def _relayd_findings(states: list[NodeState], master: str) -> list[Finding]:
    """relayd matters on the MASTER: it is the one receiving the traffic."""
    used = any(s.relayd_enabled or (s.relayd and s.relayd.running) for s in states)
    on_master = next((s for s in states if s.node == master), None)
    if used and on_master is not None and on_master.relayd is not None \
            and not on_master.relayd.running:  # None: unknown (doas refused), not "down"
        return [Finding("relayd-down", f"relayd is not running on the MASTER {master}", master)]
    return []


# -- predictions (openbsd-reference.md 2.1-2.2, 10.1-10.3) ---------------------------------
def interval(advbase: int, advskew: int) -> tuple[int, int]:
    """A vhid's advertisement interval as the kernel keeps it: (seconds, microseconds)."""
    usec = advskew * 1_000_000 // 256
    if advbase == 0 and usec == 0:
        return (0, 1_000_000 // 256)
    return (advbase, usec)


def compared(advbase: int, advskew: int) -> tuple[int, int]:
    """(seconds, microseconds) as carp_proto_input_c compares two advertisers: raw, without
    the 1/256 s floor of the timers (at advbase 0, advskew 0 is faster than advskew 1)."""
    return (advbase, advskew * 1_000_000 // 256)


def seconds(advbase: int, advskew: int) -> float:
    sec, usec = interval(advbase, advskew)
    return sec + usec / 1_000_000


def settle_time(states) -> float:
    """Long enough for a master-down timer at the slowest interval in play (advskew 254 at
    the pair's slowest advbase), three times, plus margin: a pair that has not settled by
    then will not settle by itself."""
    slowest = max([seconds(c.advbase or 1, max(c.advskew or 0, 254))
                   for state in states for c in state.carp] or [seconds(1, 254)])
    return 3 * slowest + 2.0


def backup_takes_over(*, preempt: bool, own: tuple[int, int], own_demote: int,
                      sender: tuple[int, int], sender_demote: int,
                      own_advbase: int, own_advskew: int) -> bool:
    """Whether a BACKUP becomes MASTER on hearing the MASTER's advertisement (rules 1-3);
    `own` and `sender` as `compared` gives them."""
    if preempt and own < sender and sender_demote >= own_demote:
        return True
    if sender_demote > own_demote:
        return True
    return own_advbase > 0 and compared(3 * own_advbase, own_advskew) < sender


Timing = tuple[int | None, int | None]   # (advbase, advskew) as ifconfig printed them


def _kernel(timing: Timing) -> tuple[int, int]:
    """None (not printed) is the kernel's default: advbase 1, advskew 0."""
    advbase, advskew = timing
    return (1 if advbase is None else advbase, 0 if advskew is None else advskew)


def moves_to(*, backup_preempt: bool, backup_demote: int, backup: Timing,
             master_demote: int, master: Timing) -> bool:
    """Will the BACKUP (advbase, advskew) take the vhid from the MASTER (advbase, advskew)?"""
    backup, master = _kernel(backup), _kernel(master)
    return backup_takes_over(preempt=backup_preempt, own=compared(*backup), own_demote=backup_demote,
                             sender=compared(*master), sender_demote=master_demote,
                             own_advbase=backup[0], own_advskew=backup[1])
