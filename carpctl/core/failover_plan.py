"""What a failover will do, decided from both nodes' states before anything changes.

Pure: states in, a Plan (or a RefusedError saying why not) out. The checks are
the runbook's preflight; the predictions come from carpctl.core.carp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carpctl.core.carp import moves_to, pair_master, states_in_step, vhid_table
from carpctl.errors import RefusedError
from carpctl.facts.parked import Parked
from carpctl.facts.state import NodeState
from carpctl.inventory import FailoverSettings, Pair


@dataclass(frozen=True, kw_only=True)
class Plan:
    pair: str
    source: str                          # the node handing MASTER over
    target: str
    method: str
    originals: dict[str, int]            # source's advskew per carp interface, read from it
    advskew: int                         # what the advskew method sets on the source
    amount: int                          # what the carpdemote method adds on the source
    unpark: Parked | None = None         # the target's own parked demotion, undone first
    unpark_is_enough: bool = False       # undoing it hands MASTER over by itself
    already: bool = False
    relays: bool = False                 # relayd relays run: their sessions are reset


def resolve_target(pair: Pair, states: dict[str, NodeState], to: str) -> str:
    """`peer` = the node that is not MASTER now; otherwise a node's name."""
    if to != "peer":
        return pair.node(to).name
    master = pair_master(vhid_table(list(states.values())))
    if master is None:
        raise RefusedError(f"{pair.name}: no single node is MASTER on every vhid, so `--to peer` "
                           f"is ambiguous; name the target: --to {pair.nodes[1].name}")
    return pair.peer_of(master).name


def _refuse(pair: Pair, text: str, hint: str | None = None) -> RefusedError:
    return RefusedError(f"{pair.name}: {text}", hint=hint)


def advertised(state: NodeState, ifname: str, full: NodeState | None = None) -> int:
    """The demote count `ifname` advertises: the sum over all its groups (reference §2.4).

    A poll reads the `carp` group's counter only; the other groups' counters come from
    `full`, the preflight's complete read (carpctl changes only the `carp` group)."""
    full = full or state
    others = (full.advertised_demote(ifname) or 0) - (full.demote or 0)
    return min(255, max(0, (state.demote or 0) + others))


def preflight(pair: Pair, states: dict[str, NodeState], *, to: str, method: str, force: bool,
              settings: FailoverSettings) -> Plan:
    """Every check of the runbook; a refusal says what to do instead."""
    for state in states.values():
        if not state.reachable:
            raise _refuse(pair, f"{state.node} is unreachable ({state.reason}): {state.error}",
                          "a failover needs both nodes: bring it back first")
    for state in states.values():
        _check_carp_basics(pair, state)
    target = resolve_target(pair, states, to)
    source = pair.peer_of(target).name
    src, tgt = states[source], states[target]
    table = vhid_table([src, tgt])
    if not table:
        raise _refuse(pair, "no carp interface with a vhid on either node")
    if set(src.carp_by_vhid) != set(tgt.carp_by_vhid):
        raise _refuse(pair, f"the nodes' vhids differ ({source}: {sorted(src.carp_by_vhid)}, "
                      f"{target}: {sorted(tgt.carp_by_vhid)})")
    base: dict[str, Any] = dict(
        pair=pair.name, source=source, target=target, method=method,
        originals={c.name: c.advskew or 0 for c in src.carp if c.vhid is not None},
        advskew=settings.advskew, amount=settings.demote,
        relays=any(s.relayd is not None and bool(s.relayd.relays()) for s in (src, tgt)))
    if tgt.is_master_everywhere() and src.is_backup_everywhere():
        return Plan(**base, already=True)
    _check_masters(pair, table, force)
    if tgt.maintenance:
        raise _refuse(pair, f"{target} is in maintenance mode",
                      f"carpctl maintenance exit {pair.name} {target}")
    unpark = tgt.parked   # parse_state keeps a record only while it still applies
    for carp in tgt.carp:
        if carp.vhid is not None and carp.state == "INIT":
            raise _refuse(pair, f"{target} {carp.name} is INIT (interface down or carpdev "
                          f"{carp.carpdev} without link): it cannot take over")
    parked = unpark.amount if unpark and unpark.method == "carpdemote" else 0
    own_demote = max((advertised(tgt, c.name) for c in tgt.carp if c.vhid is not None),
                     default=0) - parked
    if own_demote > 0:
        raise _refuse(pair, f"{target} is demoted (it advertises carp demote count "
                      f"{own_demote + parked}): it cannot take over (still booting, pfsync "
                      f"bulk update, or a link down?)")
    _check_services(pair, src, tgt)
    enough = unpark is not None and _unpark_moves_all(src, tgt, unpark)
    if not enough:
        _check_method(pair, base, src, tgt, unpark)
    return Plan(**base, unpark=unpark, unpark_is_enough=enough)


def _check_carp_basics(pair: Pair, state: NodeState) -> None:
    """What no demotion can work around: a deaf node, and CARP carpctl cannot restore exactly."""
    if state.sysctl is not None and not state.sysctl.allow:
        raise _refuse(pair, f"{state.node} has net.inet.carp.allow=0: it drops every CARP "
                      f"packet, so both nodes would end MASTER (split brain)",
                      f"on {state.node}: sysctl net.inet.carp.allow=1 (and check /etc/sysctl.conf)")
    balanced = sorted({c.name for c in state.carp if c.balancing is not None})
    per_if: dict[str, int] = {}
    for carp in state.carp:
        if carp.vhid is not None:
            per_if[carp.name] = per_if.get(carp.name, 0) + 1
    shared = sorted(name for name, count in per_if.items() if count > 1)
    if balanced or shared:
        names = ", ".join(sorted({*balanced, *shared}))
        raise _refuse(pair, f"{state.node} runs load-balanced CARP on {names} (carpnodes/"
                      f"balancing, several vhids on one interface): carpctl cannot fail it "
                      f"over or restore it exactly yet", "hand it over by hand (carpnodes "
                      "advskews per vhid), or use one vhid per carp interface")


def _check_masters(pair: Pair, table: dict[int, dict[str, str]], force: bool) -> None:
    hint = "fix the pair first (carpctl status), or --force if you know why"
    for vhid, nodes in table.items():
        masters = [n for n, s in nodes.items() if s == "MASTER"]
        if len(masters) > 1 and not force:
            raise _refuse(pair, f"vhid {vhid} is MASTER on both nodes (split brain)", hint)
        if not masters and not force:
            raise _refuse(pair, f"vhid {vhid} has no MASTER", hint)
    owners = {n for nodes in table.values() for n, s in nodes.items() if s == "MASTER"}
    if len(owners) > 1 and not force and all(
            sum(s == "MASTER" for s in nodes.values()) == 1 for nodes in table.values()):
        raise _refuse(pair, "MASTERs are split across the nodes", hint)


def _check_services(pair: Pair, src: NodeState, tgt: NodeState) -> None:
    """pfsync and pf state counts (unless the inventory says the pair has no pfsync:
    core.agreement.unsynced_warning is then the warning), relayd on the target. A syncdev
    without link needs no check here: the kernel demotes the node by 1 for it."""
    for state in (src, tgt) if pair.pfsync else ():
        sync = state.pfsync
        if sync is None or not (sync.present and sync.up and sync.syncdev):
            raise _refuse(pair, f"pfsync is not up on {state.node}: connections would not "
                          f"survive the failover", "check hostname.pfsync0 and the sync link, "
                          "or say `pfsync: false` for the pair in the inventory")
    if pair.pfsync and src.pf and tgt.pf:
        a, b = src.pf.states, tgt.pf.states
        if not states_in_step(a, b):
            raise _refuse(pair, f"pf state counts differ ({src.node} {a}, {tgt.node} {b}): "
                          f"pfsync is not keeping the nodes in step")
    if src.relayd and src.relayd.running and not (tgt.relayd and tgt.relayd.running):
        raise _refuse(pair, f"relayd runs on {src.node} but not on {tgt.node}",
                      f"start it first: rcctl start relayd on {tgt.node}")


def _check_method(pair: Pair, base: dict, src: NodeState, tgt: NodeState,
                  unpark: Parked | None) -> None:
    source, target = src.node, tgt.node
    if base["method"] == "carpdemote":
        if (src.demote or 0) + base["amount"] > 255:
            raise _refuse(pair, f"{source}'s carp demote counter ({src.demote}) cannot rise by "
                          f"{base['amount']} (the counter stops at 255)")
        return
    if not tgt.preempt:
        raise _refuse(
            pair, f"{target} has net.inet.carp.preempt=0: raising {source}'s advskew moves "
            f"nothing (a BACKUP takes over from a slower MASTER only with preempt)",
            "use --method carpdemote, which OpenBSD honours regardless of preempt")
    skews = _target_skews(tgt, unpark)
    for carp in src.carp:
        if carp.vhid is None:
            continue
        mine = tgt.carp_by_vhid[carp.vhid]
        if not moves_to(backup_preempt=True, backup_demote=0, backup=(mine.advbase, skews[mine.name]),
                        master_demote=advertised(src, carp.name),
                        master=(carp.advbase, base["advskew"])):
            raise _refuse(pair, f"vhid {carp.vhid}: {target} (advbase {mine.advbase}, advskew "
                          f"{skews[mine.name]}) would not be faster than {source} at advskew "
                          f"{base['advskew']}: nothing would move", "use --method carpdemote")


def _target_skews(tgt: NodeState, unpark: Parked | None) -> dict[str, int]:
    skews = {c.name: c.advskew or 0 for c in tgt.carp if c.vhid is not None}
    if unpark is not None and unpark.method == "advskew":
        skews.update(unpark.originals)
    return skews


def _unpark_moves_all(src: NodeState, tgt: NodeState, unpark: Parked) -> bool:
    """Does undoing the target's parked demotion hand every vhid to it by itself?"""
    skews = _target_skews(tgt, unpark)
    parked = unpark.amount if unpark.method == "carpdemote" else 0
    for carp in tgt.carp:
        if carp.vhid is None:
            continue
        master = src.carp_by_vhid[carp.vhid]
        if not moves_to(backup_preempt=bool(tgt.preempt),
                        backup_demote=max(0, advertised(tgt, carp.name) - parked),
                        backup=(carp.advbase, skews[carp.name]),
                        master_demote=advertised(src, master.name),
                        master=(master.advbase, master.advskew)):
            return False
    return True


def restore_pulls_back(plan: Plan, src: NodeState, tgt: NodeState, *,
                       source_preempt: bool,
                       before: dict[str, NodeState] | None = None) -> list[int]:
    """vhids whose MASTER would go back to the source once its demotion is undone.

    `src`/`tgt` are the states after the hand-over; preempt and the demote counters of
    groups other than `carp` come from the preflight read `before` (the polls read only
    CARP state).
    """
    before = before or {}
    back = []
    lifted = plan.amount if plan.method == "carpdemote" else 0
    for carp in src.carp:
        if carp.vhid is None:
            continue
        skew = plan.originals[carp.name] if plan.method == "advskew" else carp.advskew
        master = tgt.carp_by_vhid[carp.vhid]
        mine = advertised(src, carp.name, before.get(src.node)) - lifted
        if moves_to(backup_preempt=source_preempt, backup_demote=max(0, mine),
                    backup=(carp.advbase, skew),
                    master_demote=advertised(tgt, master.name, before.get(tgt.node)),
                    master=(master.advbase, master.advskew)):
            back.append(carp.vhid)
    return back
