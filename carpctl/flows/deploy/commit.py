"""Committing a staged candidate on one node, the runbook a careful admin follows:

1. back up every file about to be replaced (carpctl.core.backups) and arm the
   commit-confirmed timer (carpctl.core.confirm), in one round trip;
2. install: rename each staged copy over its destination (atomic, mode and
   owner already right), and apply: `pfctl -f`, `rcctl enable relayd` then
   start or reload, the inventory's apply command for other files;
3. confirm: a NEW SSH connection removes the timer's marker, proving that the
   new rules still let carpctl in;
4. verify: the files are the new ones, pf is enabled, relayd runs and sees
   its hosts up, and CARP still elects the MASTER it had
   (carpctl.flows.deploy.carp_check); then prune old backup sets.

Any failure after the backup restores this run's backup set on the node, puts
relayd's service state back as it was, applies and verifies it (exit 1), or says
exactly what is left (exit 4); a node that dropped is redialled for the grace
period a failover's undo gets. When the node cannot be reached at all, the armed
timer restores it: carpctl says when, waits, and verifies over a new connection.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from carpctl.core import confirm
from carpctl.core.backups import create_commands, remove_command, restore_commands, to_prune
from carpctl.errors import (
    CarpctlError,
    FailedError,
    ParseError,
    RefusedError,
    RemoteError,
    UndoFailedError,
)
from carpctl.facts import parse_pf_info, parse_relayctl, parse_sha256
from carpctl.facts.backups import BackupSet, Entry
from carpctl.facts.state import STATUS, NodeState
from carpctl.flows.deploy import carp_check
from carpctl.flows.deploy.stage import Candidate, Staged, discard
from carpctl.inventory import Node, Pair
from carpctl.remote import commands as C
from carpctl.remote.batch import Result
from carpctl.remote.connection import NodeConnection
from carpctl.runtime.read import read_pair
from carpctl.runtime.session import Session
from carpctl.runtime.signals import shielded
from carpctl.runtime.undo import UNDO_GRACE

RELAYD_SETTLE = 15.0   # seconds relayd may need after a reload to check its hosts
TIMER_MARGIN = 2.0     # seconds after the timer's deadline before looking at the node
RECOVERY = 30.0        # how long to keep trying to reach a node that restores itself
POLL = 1.0


@dataclass(frozen=True)
class Committed:
    node: str
    backup: str                        # the set holding what the commit replaced
    backup_set: BackupSet
    staged: tuple[Staged, ...]


class NotInstalled(FailedError):
    """The commit failed before anything was installed: the node holds what it had."""


class _LockedOut(Exception):
    """No new SSH connection got in after the apply: only the node's timer can help."""


def apply_commands(files: Iterable[Staged], *, enable_pf: bool = False) -> list[C.Command]:
    """What makes the running system use files just installed: pf, then relayd, then others."""
    files = list(files)
    commands = [C.pf_load(f.dest) for f in files if f.kind == "pf"]
    if commands and enable_pf:
        commands.append(C.PF_ENABLE)
    if any(f.kind == "relayd" for f in files):
        commands += [C.RELAYD_ENABLE, C.RELAYD_START_OR_RELOAD]
    return commands + [C.Command(f.apply, privileged=True) for f in files if f.kind == "other" and f.apply]


def restore_plan(backup: BackupSet, staged: tuple[Staged, ...], token: str,
                 before: NodeState) -> list[C.Command]:
    """Put the set back, reload what it holds, and put relayd back as it was: enabled or
    disabled, running or stopped (the timer runs the same commands)."""
    previous = [Staged(dest=s.dest, kind=s.kind, apply=s.apply, temp=None, old_hash=s.new_hash,
                       new_hash=s.old_hash)
                for s in staged if s.old_hash is not None]
    commands = restore_commands(backup, token) + apply_commands(
        p for p in previous if p.kind != "relayd")
    if any(s.kind == "relayd" for s in staged):
        commands += relayd_as_before(before, has_file=any(p.kind == "relayd" for p in previous))
    return commands


def relayd_as_before(before: NodeState, *, has_file: bool) -> list[C.Command]:
    """What puts relayd's service state back to `before` (unknown parts left alone)."""
    enabled = ([] if before.relayd_enabled is None else
               [C.RELAYD_ENABLE] if before.relayd_enabled else [C.RELAYD_DISABLE])
    if before.relayd is None:
        return enabled + ([C.RELAYD_START_OR_RELOAD] if has_file else [])
    if before.relayd.running and has_file:
        return enabled + [C.RELAYD_START_OR_RELOAD]
    return [C.RELAYD_STOP, *enabled]


def commit(session: Session, pair: Pair, node: Node, candidate: Candidate, *, run_id: str,
           command: str, confirm_timeout: float, before: NodeState,
           carp: carp_check.Expected | None = None) -> Committed:
    """The runbook of the module docstring; raises FailedError or UndoFailedError.

    `carp`: the MASTER of each vhid both nodes must still agree on after the apply
    (carpctl.flows.deploy.carp_check), watched when the files can change CARP."""
    staged = candidate.staged
    backup = BackupSet(run_id, command, tuple(Entry(s.dest, s.kind, s.old_hash) for s in staged))
    name = f"{pair.name}/{node.name}"
    conn = session.connection(node)
    restore = restore_plan(backup, staged, run_id, before)
    _back_up_and_arm(session, conn, name, backup, staged, restore, confirm_timeout)
    deadline = time.monotonic() + confirm_timeout
    armed = True
    try:
        _install_and_apply(session, conn, name, staged, before)
        applied = time.monotonic()
        cancelled = _confirm(session, node, name, backup)
        armed = False
        if not cancelled:
            raise FailedError(f"{name}: the confirm timer ({confirm_timeout:g}s) ran out before "
                              f"carpctl could confirm", hint="raise --confirm-timeout")
        _verify(session, conn, name, staged, before)
        if carp and carp.masters and carp_check.can_change_carp({s.kind for s in staged}):
            carp_check.watch(session, pair, carp.masters, applied, carp.length)
    except _LockedOut as exc:
        _await_timer(session, name, node, backup, deadline, str(exc))
    except (CarpctlError, KeyboardInterrupt) as exc:
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else \
            exc.message.removeprefix(f"{name}: ").removeprefix(f"{node.name}: ")
        _undo(session, name, node, backup, staged, restore, before, armed, deadline, reason)
    session.step("verify", "ok", node=node.name, pair=pair.name)
    _prune(session, conn, name, list(before.backups or ()), backup, pair.deploy.backups_keep)
    return Committed(node.name, backup.path, backup, staged)


def restore_committed(session: Session, pair: Pair, node: Node, done: Committed,
                      before: NodeState, reason: str) -> None:
    """Put back what a verified commit replaced (its peer could not follow); always raises:
    FailedError once restored and verified, UndoFailedError with what is left."""
    restore = restore_plan(done.backup_set, done.staged, done.backup_set.run, before)
    _undo(session, f"{pair.name}/{node.name}", node, done.backup_set, (), restore, before,
          False, time.monotonic(), reason)


# -- before: the lock and what the nodes look like ------------------------------------------
def read_nodes(session: Session, pair: Pair, what: str) -> dict[str, NodeState]:
    """Both nodes, one round trip each: CARP roles, sha256 of the live files, pf, relayd,
    and the backup sets kept on them. An unreachable node refuses the `what` (exit 3)."""
    try:
        return read_pair(session, pair, (*STATUS, "backups"), [spec.dest for spec in pair.files],
                         strict=True)
    except RemoteError as exc:
        raise RefusedError(f"{pair.name}: cannot {what}, {exc.message}",
                           hint=f"a {what} needs both nodes; nothing changed") from None


# -- the steps ------------------------------------------------------------------------------
def _back_up_and_arm(session: Session, conn: NodeConnection, name: str, backup: BackupSet,
                     staged: tuple[Staged, ...], restore: list[C.Command],
                     timeout: float) -> None:
    """One round trip; on any failure nothing was installed: the copies are removed."""
    commands = [*create_commands(backup), *confirm.arm_commands(backup, timeout, restore)]
    temps = [s.temp for s in staged if s.temp]
    try:
        results = conn.batch(commands)
    except RemoteError as exc:
        discard(conn, temps, backup.path, confirm.unhook_command(backup))  # disarm it too
        raise NotInstalled(f"{name}: backing up failed ({exc.message}); nothing was "
                           f"installed") from None
    failed = next(((c, r) for c, r in zip(commands, results) if not r.ok), None)
    if failed is not None:
        # removing the set removes the timer's marker too
        discard(conn, temps, backup.path, confirm.unhook_command(backup))
        raise NotInstalled(f"{name}: backing up failed: `{failed[0]}`: "
                          f"{failed[1].output.strip()[:300]}; nothing was installed")
    session.step("backup", "ok", node=conn.node.name, backup=backup.path,
                 files=[e.dest for e in backup.entries])
    session.report.note(f"{name}: backed up to {backup.path}; confirm timer armed ({timeout:g}s)")


def _install_and_apply(session: Session, conn: NodeConnection, name: str,
                       staged: tuple[Staged, ...], before: NodeState) -> None:
    installs = [C.rename(s.temp, s.dest) if s.temp else C.remove(s.dest) for s in staged]
    new = [s for s in staged if s.new_hash is not None]
    applies = apply_commands(new, enable_pf=bool(before.pf and not before.pf.enabled))
    commands = installs + applies
    failed = next(((c, r) for c, r in zip(commands, conn.batch(commands)) if not r.ok), None)
    if failed is not None:
        command, result = failed
        raise FailedError(f"{name}: `{command}` failed: "
                          f"{result.output.strip()[:300] or f'exit {result.status}'}")
    session.step("install", "ok", node=conn.node.name, files=[s.dest for s in staged])
    session.report.note(f"{name}: installed {', '.join(s.dest for s in staged)} and applied")


def _confirm(session: Session, node: Node, name: str, backup: BackupSet) -> bool:
    """Cancel the timer over a NEW connection; False when it had fired already (its
    restore may have raced with the install: the caller restores again, to be sure)."""
    probe = session.fresh_connection(node)
    try:
        result, _ = probe.batch([confirm.cancel_command(backup),
                                 confirm.unhook_command(backup)])
    except RemoteError as exc:
        raise _LockedOut(exc.message.removeprefix(f"{node.name}: ")) from None
    finally:
        probe.close()
    session.step("confirm", "ok" if result.ok else "timer-fired", node=node.name)
    if result.ok:
        session.report.note(f"{name}: reachable over a new SSH connection; confirm timer cancelled")
    return result.ok


def _verify(session: Session, conn: NodeConnection, name: str, staged: tuple[Staged, ...],
            before: NodeState) -> None:
    expected = {s.dest: s.new_hash for s in staged}
    kinds = {s.kind for s in staged if s.new_hash is not None}
    problems = _check(conn, expected, pf="pf" in kinds, relayd="relayd" in kinds, before=before,
                      require_running=True)
    if problems:
        raise FailedError(f"{name}: verification failed: {'; '.join(problems)}")


def _prune(session: Session, conn: NodeConnection, name: str, sets: list[BackupSet],
           backup: BackupSet, keep: int) -> None:
    old = to_prune(sets, backup, keep)
    if not old:
        return
    try:
        result = conn.run(remove_command(*old))
    except RemoteError as exc:
        result = None
        session.report.warn(f"{name}: could not remove old backup sets: {exc.message}")
    if result is not None and not result.ok:
        session.report.warn(f"{name}: could not remove old backup sets: {result.output.strip()}")


# -- checking a node ----------------------------------------------------------------------
def _check(conn: NodeConnection, expected: dict[str, str | None], *, pf: bool, relayd: bool,
           before: NodeState, require_running: bool) -> list[str]:
    """What differs from the expected state, read in one round trip; [] when all is well.

    require_running: pf must be enabled and relayd running (after a deploy); otherwise
    only as they were before (after a restore).
    """
    commands = [C.sha256(dest) for dest in expected]
    commands += [C.PF_INFO] if pf else []
    commands += [C.RELAYD_CHECK, C.RELAYD_SUMMARY] if relayd else []
    results = conn.batch(commands) if commands else []
    problems = [f"{dest} is {_describe(result)}, not the expected version"
                for (dest, want), result in zip(expected.items(), results)
                if _hash(result) != want]
    if pf:
        info = _parsed(results[len(expected)], parse_pf_info)
        if (info is None or not info.enabled) and (
                require_running or (before.pf and before.pf.enabled)):
            problems.append("pf is not enabled")
    if relayd:
        problems += _check_relayd(conn, results[-2], results[-1], before, require_running)
    return problems


def _check_relayd(conn: NodeConnection, check: Result, summary: Result, before: NodeState,
                  require_running: bool) -> list[str]:
    """relayd runs (if it should) and, if it had hosts up before, has some up now.

    A reloaded relayd marks its hosts `unknown` until it has checked them, so this
    reads again for up to RELAYD_SETTLE seconds while that is all it shows.
    """
    was_running = bool(before.relayd and before.relayd.running)
    had_up = len(before.relayd.hosts_up()) if before.relayd and was_running else 0
    settle_until = time.monotonic() + RELAYD_SETTLE
    while True:
        if not check.ok:
            return ["relayd is not running"] if require_running or was_running else []
        parsed = _parsed(summary, parse_relayctl, summary.output)
        if parsed is None:
            return [f"relayctl show summary: {summary.output.strip()[:200]}"]
        hosts = parsed.hosts()
        if not had_up or parsed.hosts_up() or not hosts:
            return []
        if all(h.status != "unknown" for h in hosts) or time.monotonic() > settle_until:
            seen = ", ".join(f"{h.name} {h.status}" for h in hosts)
            return [f"relayd sees no host up ({seen}); {had_up} were up before"]
        time.sleep(POLL)
        check, summary = conn.batch([C.RELAYD_CHECK, C.RELAYD_SUMMARY])


def _hash(result: Result) -> str | None:
    """The file's sha256, None if it does not exist, "unreadable" otherwise."""
    if result.ok:
        return _parsed(result, parse_sha256)
    return None if "No such file" in result.stderr else "unreadable"


def _describe(result: Result) -> str:
    return "missing" if "No such file" in result.stderr else (
        "unreadable" if not result.ok else f"sha256 {result.stdout.strip()[:12]}…")


def _parsed(result: Result, parser, text: str | None = None):
    try:
        return parser(result.stdout if text is None else text)
    except ParseError:
        return None


# -- undoing ----------------------------------------------------------------------------------
def _undo(session: Session, name: str, node: Node, backup: BackupSet, staged: tuple[Staged, ...],
          restore: list[C.Command], before: NodeState, armed: bool, deadline: float,
          reason: str) -> None:
    """Restore this run's backup set, apply and verify it; always raises."""
    session.report.warn(f"{name}: {reason}; restoring the previous files")
    expected = {e.dest: e.sha256 for e in backup.entries}
    kinds = {e.kind for e in backup.entries if e.sha256 is not None}
    temps = [s.temp for s in staged if s.temp]
    with shielded(session.report):
        try:
            problems = _restore_retrying(
                session, node, [*restore, *([C.remove(*temps)] if temps else [])],
                lambda conn: _check(conn, expected, pf="pf" in kinds, relayd="relayd" in kinds,
                                    before=before, require_running=False))
            if not problems:
                session.connection(node).batch(
                    [confirm.cancel_command(backup), confirm.unhook_command(backup),
                     remove_command(backup)] if armed else [remove_command(backup)])
        except RemoteError as exc:
            if not armed:
                raise UndoFailedError(_leftover(name, backup, f"the restore failed: "
                                                f"{exc.message}")) from None
            _await_timer(session, name, node, backup, deadline, exc.message)
    session.step("restore", "ok" if not problems else "failed", node=node.name,
                 problems=problems)
    if problems:
        raise UndoFailedError(_leftover(name, backup, "after the restore " + "; ".join(problems)))
    raise FailedError(f"{name}: {reason}; restored its previous files and verified them")


def _restore_retrying(session: Session, node: Node, restore: list[C.Command],
                      check) -> list[str]:
    """Run the restore and `check(conn)`, redialling a node that dropped for the grace
    period a failover's undo gets (carpctl.runtime.undo.UNDO_GRACE); raises the last
    RemoteError once it is over. Running the restore twice is harmless: it copies the
    same backed-up files again."""
    give_up = time.monotonic() + UNDO_GRACE
    while True:
        try:
            conn = session.connection(node)
            conn.batch(restore)
            problems = check(conn)
            session.lost.discard((node.pair, node.name))
            return problems
        except RemoteError:
            if time.monotonic() >= give_up:
                raise
            time.sleep(POLL / 2)


def _await_timer(session: Session, name: str, node: Node, backup: BackupSet, deadline: float,
                 cause: str) -> None:
    """The node restores itself at `deadline`: say when, wait, verify; always raises."""
    at = time.strftime("%H:%M:%S", time.localtime(time.time() + deadline - time.monotonic()))
    session.report.warn(f"{name}: no new SSH connection gets in after applying the new files "
                     f"({cause}); the node restores its previous files itself at {at} "
                     f"(commit-confirmed timer); waiting for it")
    session.step("lockout", "waiting", node=node.name, restores_at=at)
    session.connection(node).close()
    time.sleep(max(0.0, deadline - time.monotonic()) + TIMER_MARGIN)
    expected = {e.dest: e.sha256 for e in backup.entries}
    give_up = time.monotonic() + RECOVERY
    last = cause
    while time.monotonic() < give_up:
        probe = session.fresh_connection(node)
        try:
            results = probe.batch([C.sha256(dest) for dest in expected])
            if all(_hash(r) == want for r, want in zip(results, expected.values())):
                probe.run(remove_command(backup))
                session.step("lockout", "self-restored", node=node.name, at=at)
                raise FailedError(f"{name}: the new files locked carpctl out ({cause}); the "
                                  f"node restored its previous files itself at {at}, verified "
                                  f"over a new SSH connection")
            last = "its files are not the backed-up ones yet"
        except RemoteError as exc:
            last = exc.message
        finally:
            probe.close()
        time.sleep(POLL)
    raise UndoFailedError(_leftover(name, backup, f"it is still unreachable or not restored "
                                    f"after its timer ({at}): {last}"))


def _leftover(name: str, backup: BackupSet, what: str) -> str:
    files = ", ".join(f"{e.dest} (previous version: {backup.copy_of(e.dest)})"
                      if e.sha256 else f"{e.dest} (did not exist before)"
                      for e in backup.entries)
    return (f"{name}: {what}. Left to fix by hand: {files}; restore them with "
            f"`carpctl rollback {name.split('/')[0]} --node {name.split('/')[1]} "
            f"--to {backup.run}` or from the console")
