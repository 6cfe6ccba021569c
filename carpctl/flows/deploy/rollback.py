"""`carpctl rollback`: put back the files a deploy replaced, from the backup set on the node.

The backup sets live on the nodes (carpctl.core.backups), so this works from any
laptop. The runbook is a deploy's, with the backup set as the candidate:
lock, read both nodes, choose the set (the last deploy's, or `--to RUN`),
copy its files beside their destinations and validate them there on every
node first, then commit node by node, BACKUP first, with the same backup
of what is replaced now, confirm timer, apply and verification
(carpctl.flows.deploy.commit). Files the deploy created are removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carpctl.core import backups
from carpctl.errors import FailedError, RefusedError, UsageError
from carpctl.facts.backups import BackupSet
from carpctl.flows.deploy import carp_check, stage
from carpctl.flows.deploy.commit import commit, read_nodes
from carpctl.flows.deploy.plan import rollout_order
from carpctl.flows.deploy.rollout import NodeReport
from carpctl.inventory import Pair
from carpctl.runtime.session import Session


@dataclass
class RollbackReport:
    pair: str
    run: str                        # the deploy run whose backup set was put back
    nodes: dict[str, NodeReport]
    summary: str = ""


def rollback(session: Session, pair: Pair, *, node: str | None = None, to: str | None = None,
             confirm_timeout: float | None = None, break_lock: bool = False,
             carp_window: float | None = None,
             confirm: Callable[[Pair, str, list[stage.Candidate]], bool] | None = None
             ) -> RollbackReport:
    """Restore run `to`'s backup set (default: the last deploy's) on `node` or both nodes.

    Raises FailedError/UndoFailedError like a deploy; RefusedError when not confirmed.
    `carp_window` as in DeployOptions.
    """
    names = [pair.node(node).name] if node else [n.name for n in pair.nodes]
    run_id = session.run.id if session.run else backups.new_run_id()
    timeout = pair.deploy.confirm_timeout if confirm_timeout is None else confirm_timeout
    with session.lock(pair, f"rollback {pair.name}", break_stale=break_lock):
        states = read_nodes(session, pair, "roll back")
        for each in pair.nodes:
            stage.sweep(session, pair, each, run_id)
        target = choose_run(pair, {n: list(states[n].backups or ()) for n in names}, to)
        report = RollbackReport(pair.name, target, {n: NodeReport(n) for n in names})
        order = [n for n in rollout_order(pair, list(states.values()), strict=False) if n in names]
        candidates = _stage(session, pair, order, target, states, run_id, report)
        try:
            if not candidates:
                report.summary = f"{pair.name}: nothing to do, the files of run {target} are live"
                return report
            if confirm is not None and not confirm(pair, target, list(candidates.values())):
                raise RefusedError(f"{pair.name}: rollback not confirmed; nothing changed")
            for name in order:
                candidate = candidates.pop(name, None)
                if candidate is None:
                    continue
                _commit(session, pair, name, candidate, run_id, timeout, states, report,
                        carp_check.expect(list(states.values()), carp_window))
        finally:
            for name, candidate in candidates.items():
                stage.discard(session.connection(pair.node(name)),
                              [s.temp for s in candidate.staged if s.temp], None)
    done = [n for n, r in report.nodes.items() if r.state == "rolled-back"]
    report.summary = f"{pair.name}: rolled back to run {target} on {', '.join(done)}"
    return report


def choose_run(pair: Pair, sets: dict[str, list[BackupSet]], to: str | None) -> str:
    """`to` (a run id or its unique end) or the newest deploy set on the chosen nodes."""
    runs = sorted({s.run for node_sets in sets.values() for s in node_sets})
    if to is None:
        deploys = sorted({s.run for node_sets in sets.values() for s in node_sets
                          if s.command == "deploy"})
        if not deploys:
            raise UsageError(f"{pair.name}: no backup set of a deploy on "
                             f"{' or '.join(sets)}: nothing to roll back")
        return deploys[-1]
    matches = [r for r in runs if r == to] or [r for r in runs if r.endswith(to)]
    if len(matches) != 1:
        what = "matches several" if matches else "matches none"
        raise UsageError(f"{pair.name}: --to {to} {what} of the backup sets on "
                         f"{' and '.join(sets)} ({', '.join(runs) or 'none'})")
    return matches[0]


def _stage(session: Session, pair: Pair, order: list[str], run: str, states, run_id: str,
           report: RollbackReport) -> dict[str, stage.Candidate]:
    """Copy and validate the set's differing files on every chosen node first."""
    candidates: dict[str, stage.Candidate] = {}
    try:
        for name in order:
            backup = next((s for s in states[name].backups or () if s.run == run), None)
            if backup is None:
                report.nodes[name].state = "no-backup"
                session.report.note(f"{pair.name}/{name}: run {run} changed nothing here")
                continue
            candidate = stage.from_backup(session, pair, pair.node(name), backup,
                                          dict(states[name].files), run_id)
            report.nodes[name].changed = tuple(s.dest for s in candidate.staged)
            report.nodes[name].state = "pending" if candidate.staged else "unchanged"
            if candidate.staged:
                candidates[name] = candidate
    except BaseException:
        for name, candidate in candidates.items():
            stage.discard(session.connection(pair.node(name)),
                          [s.temp for s in candidate.staged if s.temp], None)
        raise
    return candidates


def _commit(session: Session, pair: Pair, name: str, candidate: stage.Candidate, run_id: str,
            timeout: float, states, report: RollbackReport,
            carp: carp_check.Expected) -> None:
    node_report = report.nodes[name]
    node_report.state = "failed"
    try:
        done = commit(session, pair, pair.node(name), candidate, run_id=run_id,
                      command="rollback", confirm_timeout=timeout, before=states[name],
                      carp=carp)
    except FailedError:
        node_report.state = "restored"
        raise
    node_report.state, node_report.backup = "rolled-back", done.backup
    if session.run is not None:
        session.run.details.setdefault("backups", {}).setdefault(pair.name, {})[name] = done.backup
        session.run.details["rolled_back_to"] = report.run
    session.report.note(f"{pair.name}/{name}: rolled back to run {report.run} and verified")
