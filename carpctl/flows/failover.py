"""`carpctl failover`: the source material's "advskew 254, then restore", made safe.

The runbook: lock the pair, read both nodes, check (failover_plan.preflight),
demote the MASTER in one round trip, wait until the peer is MASTER on every vhid,
then restore the original values, or keep the node demoted ("parked") when
restoring would pull MASTER back, and watch the pair settle. On a timeout, an
error, a lost connection or Ctrl-C the demotion is undone and the pair's state
reported: a failover never leaves a node half-demoted.

Round trips are few because each is a node's latency: the lock is taken with the
first read, the restore travels with the read that records the old MASTER's carp
counters, and the lock is given back with the last read. A BACKUP decides on each
advertisement it receives, with its values at that moment (preempt rule 1 is
evaluated at receipt), so an advertisement of the new MASTER received after the
restore proves the restore did not pull MASTER back, whenever it was sent. The pair
counts as settled at the first read where the old MASTER's `netstat -s -p carp`
counter has moved past the value read in the exec that sent the restore by enough
advertisements to cover every vhid, and the old MASTER is still BACKUP and the new
one MASTER on every vhid. The counter is read before ifconfig in that exec, so the
BACKUP it shows is a state after those advertisements were judged. Without netstat
on the node, a fixed watch (failover.settle) stands in for the observation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from carpctl.core.agreement import unsynced_warning
from carpctl.core.carp import one_master_each, seconds, settle_time
from carpctl.core.failover_plan import Plan, preflight, restore_pulls_back
from carpctl.errors import FailedError, RefusedError, RemoteError, UndoFailedError
from carpctl.facts.netstat import CarpStats
from carpctl.facts.parked import Parked
from carpctl.facts.state import CARP, STATUS, NodeState
from carpctl.inventory import Pair
from carpctl.remote import commands as C
from carpctl.remote.paths import PARKED_FILE
from carpctl.runtime.lock import Held
from carpctl.runtime.read import exchange, read_pair
from carpctl.runtime.report import Progress
from carpctl.runtime.session import Session
from carpctl.runtime.signals import shielded
from carpctl.runtime.undo import Changes

POLL = 0.1          # seconds between two reads of both nodes while waiting
SETTLE = ("carp_stats", *CARP)   # what the polls after the restore read: counter first


@dataclass(frozen=True, kw_only=True)
class FailoverReport:
    pair: str
    source: str
    target: str
    method: str
    already: bool
    handover_seconds: float           # from the demotion to the target MASTER everywhere
    total_seconds: float
    restored: bool                    # the source's original values are back
    parked: str | None                # why the source stays demoted, and how to hand back
    unparked: bool                    # the hand-over was undoing the target's parking alone
    before: dict[str, NodeState]
    after: dict[str, NodeState]
    warnings: tuple[str, ...] = ()    # what works but needs a look (relayd hosts down, ...)


# -- the remote actions -----------------------------------------------------------------------
def demote_commands(plan: Plan) -> list[C.Command]:
    if plan.method == "carpdemote":
        return [C.carpdemote(plan.amount)]
    return [C.set_advskew(name, plan.advskew) for name in sorted(plan.originals)]


def restore_commands(plan: Plan) -> list[C.Command]:
    if plan.method == "carpdemote":
        return [C.carpdemote(-plan.amount)]
    return [C.set_advskew(name, skew) for name, skew in sorted(plan.originals.items())]


def unpark_commands(parked: Parked) -> list[C.Command]:
    undo = ([C.carpdemote(-parked.amount)] if parked.method == "carpdemote" else
            [C.set_advskew(name, skew) for name, skew in sorted(parked.originals.items())])
    return [*undo, C.remove_marker(PARKED_FILE)]


def park_record(plan: Plan) -> Parked:
    return Parked(plan.method, dict(plan.originals) if plan.method == "advskew" else {},
                  plan.advskew, plan.amount if plan.method == "carpdemote" else 0)


# -- reading ------------------------------------------------------------------------------------
def _describe(states: dict[str, NodeState]) -> str:
    parts = []
    for name, state in states.items():
        parts.append(f"{name} " + "/".join(c.state for c in state.carp if c.vhid is not None))
    return ", ".join(parts)


def _split(states: dict[str, NodeState]) -> list[int]:
    """vhids that are MASTER on both nodes in this reading."""
    counts: dict[int, int] = {}
    for state in states.values():
        for vhid, carp in state.carp_by_vhid.items():
            counts[vhid] = counts.get(vhid, 0) + (carp.state == "MASTER")
    return sorted(v for v, n in counts.items() if n > 1)


def wait_until(session: Session, pair: Pair, done: Callable[[dict[str, NodeState]], bool],
               timeout: float, what: str, progress=None, *,
               stop_on_split: bool = False) -> dict[str, NodeState]:
    """Poll both nodes until done(states); returns states or raises TimeoutError.

    With `stop_on_split`, two readings in a row with a vhid MASTER on both nodes raise
    FailedError at once: that is split brain, which waiting does not cure. One reading
    is not enough: the two nodes are read at nearly, not exactly, the same moment, and
    a hand-over has a flight time of one advertisement with both MASTER."""
    deadline = time.monotonic() + timeout
    start = time.monotonic()
    split_before: list[int] = []
    while True:
        states = read_pair(session, pair, CARP, strict=True)
        if done(states):
            return states
        split = _split(states) if stop_on_split else []
        if split and split_before:
            raise FailedError(f"{pair.name}: split brain while {what}: vhid "
                              f"{', '.join(map(str, split))} is MASTER on both nodes (the nodes "
                              f"do not hear each other's advertisements: pf blocking carp, a "
                              f"carp pass mismatch, net.inet.carp.allow=0 or a broken link?)")
        split_before = split
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not done after {timeout:g}s ({_describe(states)})")
        if progress is not None:
            progress.update(f"{what}: {time.monotonic() - start:.1f}s ({_describe(states)})")
        time.sleep(POLL)


def _handed_over(plan: Plan) -> Callable[[dict[str, NodeState]], bool]:
    return lambda s: (plan.target in s and plan.source in s and s[plan.target].is_master_everywhere()
                      and s[plan.source].is_backup_everywhere())


# -- the flow -----------------------------------------------------------------------------------
def failover(session: Session, pair: Pair, *, to: str = "peer", method: str | None = None,
             timeout: float | None = None, keep_demoted: bool = False, force: bool = False,
             break_lock: bool = False,
             confirm: Callable[[Plan], bool] | None = None) -> FailoverReport:
    """Hand MASTER to `to` ("peer" or a node); see the module docstring for the runbook.

    `confirm(plan)` is asked after the checks and before the first change; False
    refuses (nothing changed).
    """
    started = time.monotonic()
    settings = pair.failover
    method = method or settings.method
    timeout = settings.timeout if timeout is None else timeout
    if to != "peer":
        pair.node(to)   # an unknown node is a usage error before any node is contacted
    with session.lock(pair, f"failover {pair.name} --to {to}", break_stale=break_lock,
                      facts=STATUS) as held:
        before = held.states
        plan = preflight(pair, before, to=to, method=method, force=force, settings=settings)
        session.step("preflight", "ok", source=plan.source, target=plan.target, method=method)
        if plan.already:
            return FailoverReport(pair=pair.name, source=plan.source, target=plan.target,
                                  method=method, already=True, handover_seconds=0.0,
                                  total_seconds=time.monotonic() - started, restored=True,
                                  parked=None, unparked=False, before=before, after=before)
        if confirm is not None and not confirm(plan):
            raise RefusedError(f"{pair.name}: failover not confirmed; nothing changed")
        return _hand_over(session, pair, plan, before, timeout, keep_demoted, started, held)


def _hand_over(session: Session, pair: Pair, plan: Plan, before: dict[str, NodeState],
               timeout: float, keep_demoted: bool, started: float,
               held: Held) -> FailoverReport:
    source, target = pair.node(plan.source), pair.node(plan.target)
    changes = Changes(session)
    try:
        with session.report.status(f"{pair.name}: handing MASTER from {source.name} to "
                                   f"{target.name}") as progress:
            if plan.unpark is not None:
                changes.made("unpark", target, _repark_commands(plan.unpark),
                             f"{target.name}'s parked demotion was undone; to re-park, on "
                             f"{target.name}: {_shown(_repark_commands(plan.unpark))}")
                session.connection(target).batch(unpark_commands(plan.unpark))
                session.step("unpark", "ok", node=target.name, was=plan.unpark.line())
            demoted_at = time.monotonic()
            if not plan.unpark_is_enough:
                changes.made("demote", source, restore_commands(plan),
                             f"{source.name} is still demoted ({plan.method}); fix on "
                             f"{source.name}: {_shown(restore_commands(plan))}")
                session.connection(source).batch(demote_commands(plan))
                session.step("demote", "ok", node=source.name, method=plan.method,
                             originals=plan.originals, amount=plan.amount)
            after = wait_until(session, pair, _handed_over(plan), timeout,
                               f"waiting for {target.name} to become MASTER", progress,
                               stop_on_split=True)
            handover = time.monotonic() - demoted_at
            session.step("handover", "ok", node=target.name, seconds=round(handover, 3))
            restored, parked_note, after = _restore_or_park(
                session, pair, plan, after, before, keep_demoted, progress, changes)
    except BaseException as exc:
        raise _undo(session, pair, plan, before, changes, exc) from None
    changes.settled("unpark")   # the target's old parking stays undone: it is MASTER now
    final = held.finish(STATUS) or after
    return FailoverReport(pair=pair.name, source=source.name, target=target.name,
                          method=plan.method, already=False, handover_seconds=handover,
                          total_seconds=time.monotonic() - started, restored=restored,
                          parked=parked_note, unparked=plan.unpark_is_enough, before=before,
                          after=final,
                          warnings=tuple(filter(None, [unsynced_warning(pair),
                                                       *relayd_warnings(final.get(target.name))])))


def relayd_warnings(master: NodeState | None) -> list[str]:
    """The new MASTER's relayd hosts that are down (a disabled host is the operator's
    choice, not a fault): clients now reach only the hosts relayd forwards to."""
    if master is None or master.relayd is None or not master.relayd.running:
        return []
    warnings = []
    for host in master.relayd.hosts():
        if host.status == "down":
            check = master.relayd.host_checks.get(host.id)
            why = f" ({check.error})" if check is not None and check.error else ""
            warnings.append(f"{master.node}: relayd host {host.name} is down{why}: clients "
                            f"are not forwarded to it")
    return warnings


def _restore_or_park(session: Session, pair: Pair, plan: Plan, after: dict[str, NodeState],
                     before: dict[str, NodeState], keep_demoted: bool, progress: Progress,
                     changes: Changes) -> tuple[bool, str | None, dict[str, NodeState]]:
    """Put the source's values back unless that would pull MASTER back: then park it.
    `before` (the preflight's full read) gives preempt and the other groups' counters."""
    if "demote" not in changes:
        return True, None, after
    source = pair.node(plan.source)
    back = restore_pulls_back(plan, after[plan.source], after[plan.target],
                              source_preempt=bool(before[plan.source].preempt), before=before)
    if keep_demoted or back:
        record = park_record(plan)
        session.connection(source).run(C.write_marker(PARKED_FILE, record.line()), check=True)
        changes.settled("demote")
        why = ("as asked (--keep-demoted)" if keep_demoted else
               f"restoring it would pull MASTER back on vhid {', '.join(map(str, back))} "
               f"({source.name} has preempt on and a faster advertisement interval)")
        session.step("park", "ok", node=source.name, record=record.line())
        note = (f"{source.name} stays demoted ({record.describe()}): {why}. "
                f"To hand MASTER back: carpctl failover {pair.name} --to {source.name}")
        return False, note, after
    sent = exchange(session, pair, SETTLE, before={source.name: restore_commands(plan)},
                    strict=True)
    if not all(r.ok for r in sent.before[source.name]):
        raise RemoteError(source.name, "restoring its values failed: " + "; ".join(
            r.output.strip()[:200] for r in sent.before[source.name] if not r.ok))
    changes.settled("demote")
    restored_at = time.monotonic()
    session.step("restore", "ok", node=source.name, originals=plan.originals)
    after = sent.states
    _still_handed_over(pair, plan, after)
    heard = after[plan.source].carp_stats
    if heard is None:   # no netstat on the node: watch for the configured time instead
        deadline = restored_at + max(pair.failover.settle, 0.0)
        polls = 0
        while time.monotonic() < deadline:
            progress.update(f"watching the pair settle ({deadline - time.monotonic():.1f}s left)")
            time.sleep(POLL)
            after = read_pair(session, pair, CARP, strict=True)
            polls += 1
            _still_handed_over(pair, plan, after)
        session.step("settled", "ok", node=source.name, watched=pair.failover.settle,
                     polls=polls, seconds=round(time.monotonic() - restored_at, 3))
        return True, None, after
    needed = heard_enough(after[plan.target])
    deadline = restored_at + settle_time(after.values())
    polls = 0
    while True:
        time.sleep(POLL)
        after = read_pair(session, pair, SETTLE, strict=True)
        polls += 1
        _still_handed_over(pair, plan, after)
        now = after[plan.source].carp_stats
        if now is not None and _good(now) - _good(heard) >= needed:
            session.step("settled", "ok", node=source.name, heard=_good(now) - _good(heard),
                         needed=needed, polls=polls,
                         seconds=round(time.monotonic() - restored_at, 3))
            return True, None, after
        if time.monotonic() > deadline:
            raise FailedError(f"{pair.name}: {plan.source} heard no advertisement of "
                              f"{plan.target} after its values were restored "
                              f"({_describe(after)})")
        progress.update(f"waiting for {plan.source} to hear {plan.target} "
                        f"({time.monotonic() - restored_at:.1f}s)")


def heard_enough(master: NodeState) -> int:
    """Advertisements the old MASTER must count before every vhid was surely among them.

    The counter is one for all vhids. Until vhid s has been heard, less than its
    interval I_s has passed, in which vhid v sent at most ceil(I_s / I_v) times; one more
    than the largest such sum over s is therefore proof (n vhids of one interval: n)."""
    intervals = [seconds(1 if c.advbase is None else c.advbase, c.advskew or 0)
                 for c in master.carp if c.vhid]
    if not intervals:
        return 1
    return 1 + max(sum(math.ceil(mine / other - 1e-9) for j, other in enumerate(intervals)
                       if j != i) for i, mine in enumerate(intervals))


def _good(stats: CarpStats) -> int:
    """Advertisements carp input accepted: received, less those dropped by a check."""
    return stats.received + stats.received6 - sum(stats.dropped.values())


def _still_handed_over(pair: Pair, plan: Plan, after: dict[str, NodeState]) -> None:
    if not _handed_over(plan)(after):
        raise FailedError(f"{pair.name}: MASTER did not stay on {plan.target} after "
                          f"{plan.source}'s values were restored ({_describe(after)})")


def _undo(session: Session, pair: Pair, plan: Plan, before: dict[str, NodeState],
          changes: Changes, cause: BaseException) -> BaseException:
    """Put back what this run changed, wait for one MASTER per vhid; the error to raise."""
    reason = ("interrupted" if isinstance(cause, KeyboardInterrupt) else
              str(cause) or type(cause).__name__)
    if not changes:
        if isinstance(cause, (FailedError, RefusedError, UndoFailedError)):
            return cause
        return FailedError(f"{pair.name}: failover to {plan.target} failed ({reason}); "
                           f"nothing was changed")
    with shielded(session.report):
        left = changes.undo(session)
        session.step("undo", "failed" if left else "ok", reason=reason, left=left)
        if left:
            return UndoFailedError(f"{pair.name}: failover failed ({reason}) and could not be "
                                   f"undone: " + "; ".join(left))
        try:
            states = wait_until(session, pair, lambda s: one_master_each(s.values()),
                                settle_time(before.values()), "waiting for one MASTER per vhid")
            state = _describe(states)
        except (TimeoutError, RemoteError) as exc:
            state = f"unknown ({exc})"
    return FailedError(f"{pair.name}: failover to {plan.target} failed ({reason}); undone, "
                       f"pair now: {state}")


def _repark_commands(parked: Parked) -> list[C.Command]:
    redo = ([C.carpdemote(parked.amount)] if parked.method == "carpdemote" else
            [C.set_advskew(name, parked.parked_skew) for name in sorted(parked.originals)])
    return [*redo, C.write_marker(PARKED_FILE, parked.line())]


def _shown(commands: list[C.Command]) -> str:
    return "; ".join(str(c) for c in commands)
