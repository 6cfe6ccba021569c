"""carpctl as a Python library: the command line's runbooks, with typed results.

    from carpctl import api

    with api.open_session("lab/inventory.yml", confirm=True) as session:
        report = api.failover(session, "pair1", to="peer")
        print(report.target, report.handover_seconds)

Every function takes an open Session (one SSH connection per node, reused; the
journal if asked for) and a pair by name (None when the inventory has one pair). A
result has the fields of the command's `--json` output. A failure raises a
CarpctlError subclass whose `exit_code` is the command line's (1 failed and undone,
2 usage or inventory, 3 refused and nothing changed, 4 a person must look). A call
prints nothing unless the session was given a reporter. While a session is open in
the main thread, SIGTERM is Ctrl-C: the running step undoes what it changed.

Importing this module loads neither rich nor asyncssh (nor paramiko until a node is
contacted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from carpctl.errors import (
    EXIT_OK,
    CarpctlError,
    FailedError,
    InventoryError,
    RefusedError,
    RemoteError,
    UndoFailedError,
    UsageError,
    outcome,
)
from carpctl.flows.deploy import DeployOptions, NodeReport, PairReport
from carpctl.flows.deploy.rollback import RollbackReport
from carpctl.flows.failover import FailoverReport
from carpctl.flows.maintenance import MaintenanceReport
from carpctl.flows.playbook import PairRun
from carpctl.flows.restore import RestoreReport
from carpctl.flows.status import PairStatus
from carpctl.inventory import Inventory, Pair, load_inventory
from carpctl.runtime import signals
from carpctl.runtime.report import Reporter
from carpctl.runtime.session import Confirm, Session

__all__ = [
    "CarpctlError", "FailedError", "InventoryError", "RefusedError", "RemoteError",
    "UndoFailedError", "UsageError",
    "FailoverReport", "Inventory", "MaintenanceReport", "NodeReport", "PairReport", "PairRun",
    "PairStatus", "Reporter", "RestoreReport", "RollbackReport", "Session",
    "deploy", "failover", "load_inventory", "maintenance_enter", "maintenance_exit",
    "open_session", "restore", "rollback", "run_playbook", "status",
]


@contextmanager
def open_session(inventory: str | Path | Inventory | None = None, *,
                 confirm: bool | Confirm = False, report: Reporter | None = None,
                 journal: bool = False, accept_new_host_keys: bool = False,
                 command: str = "python") -> Iterator[Session]:
    """A session on `inventory` (a path, a loaded Inventory, or the CLI's default).

    `confirm`: the answer to every "go ahead?" before a disruptive step, or a function
    of the question. `journal`: record the session as one run in carpctl's history
    (`carpctl history` shows it as COMMAND).
    """
    loaded = inventory if isinstance(inventory, Inventory) else load_inventory(inventory)
    history = None
    if journal:
        from carpctl.runtime.history import History

        history = History()
    with signals.terminating(), Session(loaded, report=report, history=history,
                                        accept_new_host_keys=accept_new_host_keys,
                                        confirm=confirm) as session:
        session.begin(command, [])
        try:
            yield session
        except BaseException as exc:
            session.finish(*outcome(exc))
            raise
        session.finish(EXIT_OK, "done")


def _pair(session: Session, pair: str | Pair | None) -> Pair:
    return pair if isinstance(pair, Pair) else session.inventory.pair(pair)


def status(session: Session, *pairs: str, parallel: int = 16) -> list[PairStatus]:
    """Every node of the pairs (all of them when none or `all` is named), one round trip each,
    and a verdict per pair (`PairStatus.verdict.healthy`, `.findings`, `.master`)."""
    from carpctl.flows.status import status as read_status

    return read_status(session, session.inventory.select(list(pairs)), parallel=parallel)


def failover(session: Session, pair: str | Pair | None = None, *, to: str = "peer",
             method: str | None = None, timeout: float | None = None,
             keep_demoted: bool = False, force: bool = False,
             break_lock: bool = False) -> FailoverReport:
    """Hand MASTER to `to` (`peer` or a node), verified, undone on failure."""
    from carpctl.flows.failover import failover as hand_over

    chosen = _pair(session, pair)

    def ask(plan) -> bool:
        reset = " Relay sessions will be reset." if plan.relays else ""
        return session.confirm(f"Hand MASTER of {chosen.name} from {plan.source} to "
                               f"{plan.target} ({plan.method})?{reset}")

    return hand_over(session, chosen, to=to, method=method, timeout=timeout,
                     keep_demoted=keep_demoted, force=force, break_lock=break_lock, confirm=ask)


def deploy(session: Session, *pairs: str, check: bool = False, diff: bool = False,
           only: tuple[str, ...] = (), handoff: bool = False, hand_back: bool = False,
           confirm_timeout: float | None = None, break_lock: bool = False, parallel: int = 1,
           fail_fast: bool = False) -> list[PairReport]:
    """Render, validate on the nodes, back up, install, apply, confirm, verify; BACKUP first.

    A pair's failure is its report's `exit_code` (the others go on unless `fail_fast`)."""
    from carpctl.flows.deploy import deploy as roll_out

    options = DeployOptions(check=check, diff=diff, only=tuple(only), handoff=handoff,
                            hand_back=hand_back, confirm_timeout=confirm_timeout,
                            break_lock=break_lock, confirm=None if check else _deploy_asker(
                                session, handoff))
    return roll_out(session, session.inventory.select(list(pairs)), options,
                    parallel=parallel, fail_fast=fail_fast)


def _deploy_asker(session: Session, handoff: bool) -> Callable[[Pair, list], bool]:
    """One question per pair, one pair at a time even when pairs deploy in parallel."""
    lock = threading.Lock()
    how = ", handing MASTER over to the updated BACKUP" if handoff else ""

    def ask(pair: Pair, plans: list) -> bool:
        changes = "; ".join(f"{p.node}: " + ", ".join(_line_counts(session, pair, p))
                            for p in plans if p.changed)
        with lock:
            return session.confirm(f"Install and apply on {pair.name} ({changes}){how}?")
    return ask


def _line_counts(session: Session, pair: Pair, plan) -> list[str]:
    """`/etc/pf.conf +3 -1` per changed file of a node, so that a person answering the
    deploy question knows its size without `--diff` (one round trip for the live files)."""
    import difflib

    from carpctl.remote import commands as C

    changed = plan.changed
    present = [c for c in changed if c.live_hash is not None]
    read = session.connection(pair.node(plan.node)).batch([C.read_file(c.dest) for c in present])
    live = {c.dest: r.stdout if r.ok else None for c, r in zip(present, read)}
    counts = []
    for change in changed:
        if change.dest not in live:
            counts.append(f"{change.dest} new, {len(change.rendered.text.splitlines())} lines")
            continue
        text = live[change.dest]
        if text is None:      # unreadable now: the diff is not known, the change is
            counts.append(f"{change.dest} changed")
            continue
        diff = list(difflib.unified_diff(text.splitlines(),
                                         change.rendered.text.splitlines(), n=0, lineterm=""))
        marks = [line[0] for line in diff[2:] if not line.startswith("@@")]
        counts.append(f"{change.dest} +{marks.count('+')} -{marks.count('-')}")
    return counts


def rollback(session: Session, pair: str | Pair | None = None, *, node: str | None = None,
             to: str | None = None, confirm_timeout: float | None = None,
             break_lock: bool = False) -> RollbackReport:
    """Put back the files a deploy (`to`: its run id; default the last one) replaced."""
    from carpctl.flows.deploy.rollback import rollback as put_back

    chosen = _pair(session, pair)

    def ask(pair: Pair, run: str, candidates: list) -> bool:
        files = "; ".join(f"{c.node}: {', '.join(s.dest for s in c.staged)}" for c in candidates)
        return session.confirm(f"Put back the files deploy {run} replaced on {pair.name} "
                               f"({files})?")

    return put_back(session, chosen, node=node, to=to, confirm_timeout=confirm_timeout,
                    break_lock=break_lock, confirm=ask)


def maintenance_enter(session: Session, pair: str | Pair | None, node: str, *,
                      break_lock: bool = False) -> MaintenanceReport:
    """Move MASTER away from `node` and keep it out of MASTER, across reboots."""
    from carpctl.flows import maintenance

    return maintenance.enter(session, _pair(session, pair), node, break_lock=break_lock)


def maintenance_exit(session: Session, pair: str | Pair | None, node: str, *,
                     failback: bool = False, break_lock: bool = False) -> MaintenanceReport:
    """Undo maintenance exactly; `failback` hands MASTER back to `node`."""
    from carpctl.flows import maintenance

    return maintenance.exit_(session, _pair(session, pair), node, failback=failback,
                             break_lock=break_lock)


def restore(session: Session, pair: str | Pair | None, node: str, *, check: bool = False,
            break_lock: bool = False) -> RestoreReport:
    """Put `node` back to /etc/hostname.carpN and /etc/sysctl.conf, carpctl's parking undone;
    `check`: only say what it would run."""
    from carpctl.flows.restore import restore as put_back

    chosen = _pair(session, pair)

    def ask(plan) -> bool:
        moves = plan.moves_line()
        return session.confirm(f"Restore {plan.node} of {chosen.name} to its configuration ("
                               f"{'; '.join(plan.changes)})?"
                               + (f" {moves}: relay sessions will be reset." if moves else ""))

    return put_back(session, chosen, node, check=check, break_lock=break_lock, confirm=ask)


def run_playbook(session: Session, playbook: str | Path, *pairs: str, check: bool = False,
                 break_lock: bool = False) -> list[PairRun]:
    """A maintenance window from a playbook file, pair after pair (`check`: plan only)."""
    from carpctl.core.playbook import load_playbook
    from carpctl.flows.playbook import run_playbook as run_window

    book = load_playbook(playbook)
    return [run_window(session, book, chosen, check=check, break_lock=break_lock)
            for chosen in session.inventory.select(list(pairs))]
