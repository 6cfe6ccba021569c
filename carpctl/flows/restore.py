"""`carpctl restore PAIR NODE`: put a node back to what it boots with.

A killed run, a failed undo or a hand at the console can leave a node on runtime
values its files do not give it (advskew 254, preempt off, a parked demotion):
`status` reports them as runtime-drift. Restore sets the carp interfaces' advbase
and advskew from /etc/hostname.carpN and preempt from /etc/sysctl.conf, undoes
carpctl's own parked demotion exactly and removes its record, in one exec on the
node. Maintenance is refused: `maintenance exit` owns its rc.local line and
demotion. Load-balanced CARP is refused: a restore must never put one vhid's
value on another. When the restored values move MASTER (the old MASTER's lower
advskew with preempt on), the question and the report say so; the flow waits for
one MASTER per vhid (and the predicted one) and undoes everything otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from carpctl.core.carp import moves_to, one_master_each, settle_time
from carpctl.errors import FailedError, RefusedError, RemoteError, UndoFailedError
from carpctl.facts.state import STATUS, NodeState
from carpctl.flows.failover import wait_until
from carpctl.inventory import Pair
from carpctl.remote import commands as C
from carpctl.remote.paths import PARKED_FILE
from carpctl.runtime.read import read_pair
from carpctl.runtime.session import Session
from carpctl.runtime.signals import shielded
from carpctl.runtime.undo import Changes


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What a restore of `node` sends, what puts the node back as it was, what it moves."""

    pair: str
    node: str
    commands: tuple[C.Command, ...]
    undo: tuple[C.Command, ...]
    changes: tuple[str, ...]                  # one sentence per value put back
    moves: dict[int, str] = field(default_factory=dict)   # vhid -> the node MASTER moves to

    def moves_line(self) -> str | None:
        if not self.moves:
            return None
        to = sorted(set(self.moves.values()))
        return (f"MASTER moves to {' and '.join(to)} on vhid "
                f"{', '.join(map(str, sorted(self.moves)))}")


@dataclass(frozen=True, kw_only=True)
class RestoreReport:
    pair: str
    node: str
    check: bool                       # --check: nothing was changed
    changed: bool
    commands: tuple[str, ...]         # what was (or would be) run on the node
    changes: tuple[str, ...]
    moves: str | None                 # "MASTER moves to fw1 on vhid 1, 2", or None
    before: dict[str, NodeState]
    after: dict[str, NodeState]


# -- planning (pure) ----------------------------------------------------------------------------
def refusal(pair: Pair, mine: NodeState) -> str | None:
    """Why `mine` cannot be restored by carpctl, or None."""
    where = f"{pair.name}: {mine.node}"
    if not mine.reachable:
        return f"{where} is unreachable ({mine.reason}): {mine.error}"
    if mine.maintenance:
        return (f"{where} is in maintenance: `carpctl maintenance exit {pair.name} {mine.node}` "
                f"undoes it (it owns the rc.local line and the demotion)")
    if mine.carp_config is None or mine.sysctl is None:
        return f"{where}: /etc/hostname.carpN or the carp sysctls could not be read"
    balancing = sorted(n for n, c in mine.carp_config.items() if c.balancing)
    if balancing:
        return (f"{where} uses load-balanced CARP ({', '.join(balancing)}: carpnodes/balancing): "
                f"carpctl does not restore it; set the values by hand")
    return None


def plan_restore(pair: Pair, states: dict[str, NodeState], node: str) -> Plan:
    """The commands that put `node` back to its files; RefusedError when it cannot be done."""
    mine = states[node]
    why = refusal(pair, mine)
    if why:
        raise RefusedError(why)
    commands: list[C.Command] = []
    undo: list[C.Command] = []
    said: list[str] = []
    parked = mine.parked
    if parked is not None and parked.method == "carpdemote":
        commands.append(C.carpdemote(-parked.amount))
        undo.append(C.carpdemote(parked.amount))
        said.append(f"carpctl's parked demotion (carpdemote {parked.amount}) undone")
    new: dict[str, tuple[int, int]] = {}
    for carp in mine.carp:
        config = (mine.carp_config or {}).get(carp.name)
        if carp.vhid is None or config is None:
            continue
        now = (carp.advbase, carp.advskew)
        wanted = (config.configured_advbase, config.configured_advskew)
        new[carp.name] = wanted
        if now == wanted:
            continue
        base = wanted[0] if now[0] != wanted[0] else None
        skew = wanted[1] if now[1] != wanted[1] else None
        commands.append(C.set_carp_timing(carp.name, advbase=base, advskew=skew))
        undo.append(C.set_carp_timing(carp.name, advbase=now[0] if base is not None else None,
                                      advskew=now[1] if skew is not None else None))
        said.append(f"{carp.name} advbase {now[0]} advskew {now[1]} -> advbase {wanted[0]} "
                    f"advskew {wanted[1]} (/etc/hostname.{carp.name})")
    preempt = mine.configured_preempt
    if preempt is not None and mine.preempt is not None and preempt != mine.preempt:
        commands.append(C.set_preempt(preempt))
        undo.append(C.set_preempt(mine.preempt))
        said.append(f"net.inet.carp.preempt {int(mine.preempt)} -> {int(preempt)} "
                    f"(/etc/sysctl.conf)")
    if parked is not None:
        commands.append(C.remove_marker(PARKED_FILE))
        undo.append(C.write_marker(PARKED_FILE, parked.line()))
        said.append("the parked record removed")
    removed = parked.amount if parked is not None and parked.method == "carpdemote" else 0
    peer = next((s for n, s in states.items() if n != node), None)
    moves = _moves(mine, peer, new, bool(preempt if preempt is not None else mine.preempt),
                   removed) if commands and peer is not None and peer.reachable else {}
    return Plan(pair=pair.name, node=node, commands=tuple(commands), undo=tuple(reversed(undo)),
                changes=tuple(said), moves=moves)


def _moves(mine: NodeState, peer: NodeState, new: dict[str, tuple[int, int]], preempt: bool,
           removed: int) -> dict[int, str]:
    """vhid -> the node that becomes MASTER when the restored values are in (CARP rules 1-3)."""
    moves: dict[int, str] = {}
    own_demote = max((mine.demote_sum or 0) - removed, 0)
    peer_demote = peer.demote_sum or 0
    for carp in mine.carp:
        if carp.vhid is None or carp.vhid not in peer.carp_by_vhid or carp.name not in new:
            continue
        theirs = peer.carp_by_vhid[carp.vhid]
        other = (theirs.advbase, theirs.advskew)
        if carp.state == "BACKUP" and theirs.state == "MASTER" and moves_to(
                backup_preempt=preempt, backup_demote=own_demote, backup=new[carp.name],
                master_demote=peer_demote, master=other):
            moves[carp.vhid] = mine.node
        elif carp.state == "MASTER" and theirs.state == "BACKUP" and moves_to(
                backup_preempt=bool(peer.preempt), backup_demote=peer_demote, backup=other,
                master_demote=own_demote, master=new[carp.name]):
            moves[carp.vhid] = peer.node
    return moves


# -- the flow -----------------------------------------------------------------------------------
def restore(session: Session, pair: Pair, node: str, *, check: bool = False,
            break_lock: bool = False,
            confirm: Callable[[Plan], bool] | None = None) -> RestoreReport:
    """Put `node` back to its configuration; `check`: plan only, nothing changed or locked."""
    pair.node(node)   # an unknown node is a usage error before any node is contacted
    if check:
        states = read_pair(session, pair, STATUS)
        plan = plan_restore(pair, states, node)
        return _report(plan, True, False, states, states)
    with session.lock(pair, f"restore {pair.name} {node}", break_stale=break_lock,
                      facts=STATUS) as held:
        before = held.states
        plan = plan_restore(pair, before, node)
        session.step("restore-plan", "ok", node=node, commands=[str(c) for c in plan.commands],
                     moves=plan.moves_line())
        if not plan.commands:
            return _report(plan, False, False, before, before)
        if confirm is not None and not confirm(plan):
            raise RefusedError(f"{pair.name}: restore of {node} not confirmed; nothing changed")
        _apply(session, pair, plan, before)
        after = held.finish(STATUS)
    return _report(plan, False, True, before, after)


def _apply(session: Session, pair: Pair, plan: Plan, before: dict[str, NodeState]) -> None:
    target = pair.node(plan.node)
    changes = Changes(session)
    changes.made("restore", target, list(plan.undo),
                 f"{plan.node} may be half restored; on {plan.node}: "
                 + "; ".join(str(c) for c in plan.undo))
    try:
        results = session.connection(target).batch(list(plan.commands))
        failed = [r for r in results if not r.ok]
        if failed:
            raise RemoteError(plan.node, "restoring failed: " + "; ".join(
                f"{r.command}: {r.output.strip()[:200]}" for r in failed))
        session.step("restore", "ok", node=plan.node, changes=list(plan.changes))
        wait_until(session, pair, lambda s: one_master_each(s.values()) and all(
            s[owner].carp_by_vhid[vhid].state == "MASTER" for vhid, owner in plan.moves.items()
            if owner in s and vhid in s[owner].carp_by_vhid),
            settle_time(before.values()), "waiting for one MASTER per vhid", stop_on_split=True)
    except BaseException as exc:
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        with shielded(session.report):
            left = changes.undo(session)
            session.step("undo", "failed" if left else "ok", node=plan.node, reason=reason)
        if left:
            raise UndoFailedError(f"{pair.name}: restore of {plan.node} failed ({reason}) and "
                                  f"could not be undone: {left[0]}") from None
        raise FailedError(f"{pair.name}: restore of {plan.node} failed ({reason}); "
                          f"undone") from None
    changes.settled("restore")   # the node runs its configuration: nothing to undo


def _report(plan: Plan, check: bool, changed: bool, before: dict[str, NodeState],
            after: dict[str, NodeState]) -> RestoreReport:
    return RestoreReport(pair=plan.pair, node=plan.node, check=check, changed=changed,
                         commands=tuple(str(c) for c in plan.commands), changes=plan.changes,
                         moves=plan.moves_line(), before=before, after=after)
