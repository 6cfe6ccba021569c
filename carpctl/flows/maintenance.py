"""`carpctl maintenance enter|exit PAIR NODE`: keep a node out of MASTER, across reboots.

Mechanism: the node's carp demote counter is raised by N now (`ifconfig -g carp
carpdemote N`) and by the same line in /etc/rc.local, which /etc/rc runs at
every boot before it lowers its own boot-time demotion. A demoted node never
takes MASTER from a healthy peer, whatever preempt says, and still takes over
if the peer dies (availability wins over maintenance). The original rc.local is
kept on the node and put back byte for byte on exit.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from carpctl.core.carp import moves_to
from carpctl.core.failover_plan import advertised
from carpctl.errors import FailedError, RefusedError, UndoFailedError
from carpctl.facts.parked import Parked
from carpctl.facts.state import STATUS, NodeState
from carpctl.flows.failover import failover
from carpctl.inventory import Node, Pair
from carpctl.remote import commands as C
from carpctl.remote.batch import Result
from carpctl.remote.paths import PARKED_FILE, RC_LOCAL
from carpctl.runtime.session import Session
from carpctl.runtime.signals import shielded
from carpctl.runtime.undo import Changes

LINE = "ifconfig -g carp carpdemote {n}  # carpctl maintenance: undo with `carpctl maintenance exit`"


@dataclass(frozen=True)
class Record:
    """What `enter` changed, kept on the node so `exit` can undo it exactly."""

    run: str
    since: float
    amount: int
    rc_local_sha: str | None          # sha256 of the original /etc/rc.local, None if absent

    def line(self) -> str:
        return (f"run={self.run} since={self.since:.0f} amount={self.amount} "
                f"rc_local={self.rc_local_sha or 'absent'}")

    @classmethod
    def parse(cls, text: str) -> Record | None:
        fields = dict(word.partition("=")[::2] for word in text.split())
        try:
            sha = fields["rc_local"]
            return cls(fields["run"], float(fields["since"]), int(fields["amount"]),
                       None if sha == "absent" else sha)
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True, kw_only=True)
class MaintenanceReport:
    pair: str
    node: str
    action: str                         # enter | exit
    changed: bool                       # False: it was already in (or out of) maintenance
    handed_over: bool                   # MASTER moved as part of the action
    note: str | None = None


def _peer_is_healthy(peer: NodeState) -> str | None:
    """Why the peer cannot carry the pair alone, or None."""
    if not peer.reachable:
        return f"{peer.node} is unreachable ({peer.reason})"
    if peer.maintenance:
        return f"{peer.node} is in maintenance itself"
    if any(c.state == "INIT" for c in peer.carp if c.vhid is not None):
        return f"{peer.node} has a carp interface in INIT"
    if peer.demote:
        return f"{peer.node} is demoted (carp demote count {peer.demote})"
    if peer.relayd is not None and peer.relayd_enabled and not peer.relayd.running:
        return f"{peer.node} has relayd enabled but not running"
    return None


def _sha(read: Result) -> str | None:
    """sha256 of a `cat` of rc.local, None when it could not be read (absent)."""
    return hashlib.sha256(read.stdout.encode()).hexdigest() if read.ok else None


def enter(session: Session, pair: Pair, node_name: str, *,
          break_lock: bool = False) -> MaintenanceReport:
    """Round trips on the node: lock + first read, rc.local, demote + persist, last read +
    unlock (the peer: the first and the last); a hand-over runs the failover in between."""
    node = pair.node(node_name)
    peer = pair.peer_of(node_name)
    amount = pair.failover.demote
    with session.lock(pair, f"maintenance enter {pair.name} {node.name}", break_stale=break_lock,
                      facts=STATUS) as held:
        states = held.states
        mine = states[node.name]
        if mine.reachable and mine.maintenance:
            return MaintenanceReport(
                pair=pair.name, node=node.name, action="enter", changed=False, handed_over=False,
                note=f"{node.name} is already in maintenance ({mine.maintenance})")
        if not mine.reachable:
            raise RefusedError(f"{pair.name}: {node.name} is unreachable ({mine.reason})")
        why = _peer_is_healthy(states[peer.name])
        if why:
            raise RefusedError(f"{pair.name}: {why}: putting {node.name} in maintenance would "
                               f"leave the pair without a healthy node")
        handed_over = any(c.state == "MASTER" for c in mine.carp)
        if not handed_over and not states[peer.name].is_master_everywhere():
            raise RefusedError(f"{pair.name}: {peer.name} is not MASTER on every vhid; fix the "
                               f"pair first (carpctl status)")
        sha = _sha(session.connection(node).run(C.READ_RC_LOCAL))
        if handed_over:  # the failover flow checks, waits and undoes itself on failure
            failover(session, pair, to=peer.name, method="carpdemote", keep_demoted=True)
        record = Record(session.run.id if session.run else "-", time.time(), amount, sha)
        changes = Changes(session)
        left = f"check {RC_LOCAL} and `ifconfig -g carp` on {node.name}"
        changes.made("demote", node, [C.carpdemote(-amount)], left)   # counts once sent
        changes.made("persist", node, [_restore_rc_local(record)], left)
        try:
            _demote_and_persist(session, node, record, changes, demote=not handed_over)
            _verify_entered(pair, held.finish(STATUS), node, peer, amount)
        except BaseException as exc:
            raise _undo_enter(session, node, changes, exc) from None
        session.step("maintenance-enter", "ok", node=node.name, record=record.line())
        return MaintenanceReport(pair=pair.name, node=node.name, action="enter", changed=True,
                                 handed_over=handed_over,
                                 note=f"{node.name} is demoted by {amount} now and at every boot "
                                 f"(/etc/rc.local) until `carpctl maintenance exit "
                                 f"{pair.name} {node.name}`")


def _demote_and_persist(session: Session, node: Node, record: Record, changes: Changes, *,
                        demote: bool) -> None:
    """The runtime demotion (unless the failover left it) and its boot twin in one exec.

    Both commands run whatever the first did; one that failed is not undone."""
    commands = [C.carpdemote(record.amount)] if demote else []
    results = session.connection(node).batch([*commands, _persist(record)])
    failed = [r for r in results if not r.ok]
    if demote and not results[0].ok:
        changes.settled("demote")
    if not results[-1].ok:
        changes.settled("persist")
    if failed:
        raise FailedError(f"{node.name}: " + "; ".join(
            f"`{r.command}` exited {r.status}: {r.output.strip()[:200]}" for r in failed))


def _persist(record: Record) -> C.Command:
    return C.persist_maintenance(record.line(), LINE.format(n=record.amount),
                                 rc_local_exists=record.rc_local_sha is not None)


def _restore_rc_local(record: Record) -> C.Command:
    return C.restore_rc_local(rc_local_existed=record.rc_local_sha is not None)


def _verify_entered(pair: Pair, states: dict[str, NodeState], node: Node, peer: Node,
                    amount: int) -> None:
    mine, theirs = states[node.name], states[peer.name]
    if not (mine.reachable and (mine.demote or 0) >= amount and mine.is_backup_everywhere()
            and theirs.is_master_everywhere() and mine.maintenance):
        raise FailedError(f"{pair.name}: {node.name} is not BACKUP and demoted after entering "
                          f"maintenance")


def _undo_enter(session: Session, node: Node, changes: Changes,
                cause: BaseException) -> Exception:
    """Put rc.local and the counter back as far as they were changed; the error to raise."""
    reason = "interrupted" if isinstance(cause, KeyboardInterrupt) else str(cause)
    with shielded(session.report):
        left = changes.undo(session)
    if left:
        return UndoFailedError(f"{node.name}: maintenance enter failed ({reason}) and its "
                               f"undo failed too; {left[0]}")
    return FailedError(f"{node.name}: maintenance enter failed ({reason}); undone")


def exit_(session: Session, pair: Pair, node_name: str, *, failback: bool = False,
          break_lock: bool = False) -> MaintenanceReport:
    """Round trips on the node: lock + first read, rc.local back + its check + the runtime
    demotion (removed or parked) in one exec, unlock; the peer: lock and unlock."""
    node = pair.node(node_name)
    peer = pair.peer_of(node_name)
    with session.lock(pair, f"maintenance exit {pair.name} {node.name}", break_stale=break_lock,
                      facts=STATUS) as held:
        states = held.states
        mine = states[node.name]
        if not mine.reachable:
            raise RefusedError(f"{pair.name}: {node.name} is unreachable ({mine.reason})")
        record = Record.parse(mine.maintenance or "")
        if record is None:
            return MaintenanceReport(pair=pair.name, node=node.name, action="exit", changed=False,
                                     handed_over=False, note=f"{node.name} is not in maintenance")
        amount = min(record.amount, mine.demote or 0)
        pulls_back = bool(amount) and _removing_pulls_back(mine, states[peer.name], amount)
        runtime = ([] if not amount else
                   # kept as a parked demotion: a failover undoes it exactly
                   [C.write_marker(PARKED_FILE, Parked("carpdemote", {}, 254, amount).line())]
                   if failback or pulls_back else [C.carpdemote(-amount)])
        results = session.connection(node).batch(
            [_restore_rc_local(record), C.READ_RC_LOCAL, *runtime])
        if not results[0].ok:
            raise UndoFailedError(f"{node.name}: putting {RC_LOCAL} back failed: "
                                  f"{results[0].output.strip()[:200]}")
        sha = _sha(results[1])
        if sha != record.rc_local_sha:
            raise UndoFailedError(f"{node.name}: {RC_LOCAL} does not match the original after "
                                  f"restoring it (sha256 {sha}, expected {record.rc_local_sha})")
        for result in results[2:]:
            if not result.ok:
                raise FailedError(f"{node.name}: `{result.command}` exited {result.status}: "
                                  f"{result.output.strip()[:200]}")
        session.step("maintenance-exit", "ok", node=node.name, record=record.line())
        note = None
        if failback:
            failover(session, pair, to=node.name)
        elif pulls_back:
            note = (f"{node.name} left maintenance but stays demoted at runtime (by {amount}) "
                    f"so MASTER stays on {peer.name}; hand it back with: carpctl failover "
                    f"{pair.name} --to {node.name}")
        return MaintenanceReport(pair=pair.name, node=node.name, action="exit", changed=True,
                                 handed_over=failback, note=note)


def _removing_pulls_back(mine: NodeState, theirs: NodeState, amount: int) -> bool:
    """Would lifting `amount` off the carp group make this node take a vhid back? Compared
    with what each interface advertises: every group's counter, not only `carp`'s."""
    for carp in mine.carp:
        if carp.vhid is None or carp.vhid not in theirs.carp_by_vhid:
            continue
        master = theirs.carp_by_vhid[carp.vhid]
        if master.state == "MASTER" and moves_to(
                backup_preempt=bool(mine.preempt),
                backup_demote=max(0, advertised(mine, carp.name) - amount),
                backup=(carp.advbase, carp.advskew),
                master_demote=advertised(theirs, master.name),
                master=(master.advbase, master.advskew)):
            return True
    return False
