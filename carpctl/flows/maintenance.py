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
from carpctl.errors import FailedError, RefusedError, UndoFailedError
from carpctl.facts.parked import Parked
from carpctl.facts.state import NodeState
from carpctl.flows.failover import failover
from carpctl.inventory import Node, Pair
from carpctl.remote import commands as C
from carpctl.remote.paths import PARKED_FILE, RC_LOCAL
from carpctl.runtime.read import read_pair
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


@dataclass(frozen=True)
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


def _rc_local(session: Session, node) -> tuple[str | None, bytes | None]:
    result = session.connection(node).run(C.READ_RC_LOCAL)
    if not result.ok:
        return None, None
    data = result.stdout.encode()
    return hashlib.sha256(data).hexdigest(), data


def enter(session: Session, pair: Pair, node_name: str, *,
          break_lock: bool = False) -> MaintenanceReport:
    node = pair.node(node_name)
    peer = pair.peer_of(node_name)
    amount = pair.failover.demote
    with session.lock(pair, f"maintenance enter {pair.name} {node.name}", break_stale=break_lock):
        states = read_pair(session, pair)
        mine = states[node.name]
        if mine.reachable and mine.maintenance:
            return MaintenanceReport(pair.name, node.name, "enter", False, False,
                                     f"{node.name} is already in maintenance ({mine.maintenance})")
        if not mine.reachable:
            raise RefusedError(f"{pair.name}: {node.name} is unreachable ({mine.reason})")
        why = _peer_is_healthy(states[peer.name])
        if why:
            raise RefusedError(f"{pair.name}: {why}: putting {node.name} in maintenance would "
                               f"leave the pair without a healthy node")
        sha, _ = _rc_local(session, node)
        handed_over = any(c.state == "MASTER" for c in mine.carp)
        if not handed_over and not states[peer.name].is_master_everywhere():
            raise RefusedError(f"{pair.name}: {peer.name} is not MASTER on every vhid; fix the "
                               f"pair first (carpctl status)")
        if handed_over:  # the failover flow checks, waits and undoes itself on failure
            failover(session, pair, to=peer.name, method="carpdemote", keep_demoted=True)
        record = Record(session.run.id if session.run else "-", time.time(), amount, sha)
        changes = Changes()
        undemote = [C.carpdemote(-amount)]
        left = f"check {RC_LOCAL} and `ifconfig -g carp` on {node.name}"
        if handed_over:   # the failover left it demoted on purpose
            changes.made("demote", node, undemote, left)
        try:
            if not handed_over:
                changes.made("demote", node, undemote, left)   # counts once sent
                session.connection(node).run(C.carpdemote(amount), check=True)
            changes.made("persist", node, [_restore_rc_local(record)], left)
            session.connection(node).run(_persist(record), check=True)
            _verify_entered(session, pair, node, peer, amount)
        except BaseException as exc:
            raise _undo_enter(session, node, changes, exc) from None
        session.step("maintenance-enter", "ok", node=node.name, record=record.line())
        return MaintenanceReport(pair.name, node.name, "enter", True, handed_over,
                                 f"{node.name} is demoted by {amount} now and at every boot "
                                 f"(/etc/rc.local) until `carpctl maintenance exit "
                                 f"{pair.name} {node.name}`")


def _persist(record: Record) -> C.Command:
    return C.persist_maintenance(record.line(), LINE.format(n=record.amount),
                                 rc_local_exists=record.rc_local_sha is not None)


def _restore_rc_local(record: Record) -> C.Command:
    return C.restore_rc_local(rc_local_existed=record.rc_local_sha is not None)


def _verify_entered(session: Session, pair: Pair, node, peer, amount: int) -> None:
    states = read_pair(session, pair)
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
    node = pair.node(node_name)
    peer = pair.peer_of(node_name)
    with session.lock(pair, f"maintenance exit {pair.name} {node.name}", break_stale=break_lock):
        states = read_pair(session, pair)
        mine = states[node.name]
        if not mine.reachable:
            raise RefusedError(f"{pair.name}: {node.name} is unreachable ({mine.reason})")
        record = Record.parse(mine.maintenance or "")
        if record is None:
            return MaintenanceReport(pair.name, node.name, "exit", False, False,
                                     f"{node.name} is not in maintenance")
        conn = session.connection(node)
        conn.run(_restore_rc_local(record), check=True)
        sha, _ = _rc_local(session, node)
        if sha != record.rc_local_sha:
            raise UndoFailedError(f"{node.name}: {RC_LOCAL} does not match the original after "
                                  f"restoring it (sha256 {sha}, expected {record.rc_local_sha})")
        amount = min(record.amount, mine.demote or 0)
        pulls_back = bool(amount) and _removing_pulls_back(mine, states[peer.name], amount)
        if amount and (failback or pulls_back):
            # keep the runtime demotion as a parked one: a failover undoes it exactly
            conn.run(C.write_marker(PARKED_FILE, Parked("carpdemote", {}, 254, amount).line()),
                     check=True)
        elif amount:
            conn.run(C.carpdemote(-amount), check=True)
        session.step("maintenance-exit", "ok", node=node.name, record=record.line())
        note = None
        if failback:
            failover(session, pair, to=node.name)
        elif pulls_back:
            note = (f"{node.name} left maintenance but stays demoted at runtime (by {amount}) "
                    f"so MASTER stays on {peer.name}; hand it back with: carpctl failover "
                    f"{pair.name} --to {node.name}")
        handed = failback
        return MaintenanceReport(pair.name, node.name, "exit", True, handed, note)


def _removing_pulls_back(mine: NodeState, theirs: NodeState, amount: int) -> bool:
    for carp in mine.carp:
        if carp.vhid is None or carp.vhid not in theirs.carp_by_vhid:
            continue
        master = theirs.carp_by_vhid[carp.vhid]
        if master.state == "MASTER" and moves_to(
                backup_preempt=bool(mine.preempt), backup_demote=(mine.demote or 0) - amount,
                backup=(carp.advbase, carp.advskew), master_demote=theirs.demote or 0,
                master=(master.advbase, master.advskew)):
            return True
    return False
