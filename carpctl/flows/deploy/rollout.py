"""`carpctl deploy`: push a pair's rendered files to both nodes without ever locking anyone out.

The runbook, per pair (NAPALM's load / compare / commit / confirm):
1. preflight: render every file for both nodes (a template error stops here);
2. lock the pair; read both nodes in one round trip each (CARP roles, sha256
   of the live files, backup sets); plan: which files differ where;
3. load and compare: upload every changed file beside its destination and
   validate it with the node's own tool, on BOTH nodes before anything is
   installed; show diffs (`--check` stops here, `--diff` goes on);
4. commit node by node, the BACKUP first (carpctl.flows.deploy.commit: back up, arm
   the confirm timer, install, apply, confirm over a new connection, verify);
   with --handoff, MASTER moves to the updated BACKUP before the old MASTER
   is updated, and comes back with --hand-back.
A failure stops the rollout: the failing node is restored, and so is the other
one if it was updated already, so that the pair ends on one configuration (exit 1),
or the report says exactly what differs (exit 4). Under the lock, what dead runs
left staged on the nodes is removed first (carpctl.flows.deploy.stage.sweep).
Pairs run in parallel (`--parallel`); the nodes of one pair never do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

from carpctl.core import backups
from carpctl.core.carp import pair_master, vhid_table
from carpctl.errors import CarpctlError, FailedError, RefusedError, UndoFailedError, UsageError
from carpctl.facts.state import NodeState
from carpctl.flows.deploy import carp_check, stage
from carpctl.flows.deploy.commit import (
    Committed,
    NotInstalled,
    commit,
    read_nodes,
    restore_committed,
)
from carpctl.flows.deploy.plan import (
    NodePlan,
    plan_node,
    rollout_order,
    select_files,
    unified_diff,
)
from carpctl.inventory import Pair
from carpctl.render.templates import RenderedFile, render_files
from carpctl.runtime.session import Session

_PRINT = threading.Lock()   # diffs of pairs deployed in parallel must not interleave


@dataclass(frozen=True, kw_only=True)
class DeployOptions:
    check: bool = False
    diff: bool = False
    only: tuple[str, ...] = ()
    handoff: bool = False
    hand_back: bool = False
    confirm_timeout: float | None = None     # default: the pair's deploy.confirm_timeout
    break_lock: bool = False
    # seconds to watch CARP on both nodes after each node's apply; None: 3 x the pair's
    # slowest advertisement interval (the least that sees a split); 0: no watch
    carp_window: float | None = None
    # asked after validation and diffs, before the first change; False refuses (exit 3)
    confirm: Callable[[Pair, list[NodePlan]], bool] | None = None


@dataclass
class NodeReport:
    node: str
    changed: tuple[str, ...] = ()   # files that differ (pending with --check, else installed)
    state: str = "untouched"        # unchanged | pending | updated | restored | failed | untouched
    backup: str | None = None       # the backup set this run made on the node


@dataclass(kw_only=True)
class PairReport:
    pair: str
    nodes: dict[str, NodeReport]
    exit_code: int = 0
    summary: str = ""
    changes: bool = False           # something differed (pending with --check)
    diffs: list[str] = field(default_factory=list)
    master: str | None = None       # MASTER at the end, as carpctl last saw it


# exit codes from best to worst: a pair that needs a person outweighs everything
SEVERITY = (0, 2, 3, 1, 4)


def worst(codes: list[int]) -> int:
    return max(codes, key=SEVERITY.index, default=0)


def deploy(session: Session, pairs: list[Pair], options: DeployOptions, *, parallel: int = 1,
           fail_fast: bool = False) -> list[PairReport]:
    """Deploy every pair (`parallel` at a time); one pair's failure stops the others only
    with `fail_fast` (pairs already running finish: stopping one mid-commit is unsafe)."""
    if options.hand_back and not options.handoff:
        raise UsageError("--hand-back needs --handoff")
    if options.confirm_timeout is not None and options.confirm_timeout <= 0:
        raise UsageError("--confirm-timeout must be more than 0 seconds")
    if options.carp_window is not None and options.carp_window < 0:
        raise UsageError("the CARP window must be 0 seconds or more")
    run_id = session.run.id if session.run else backups.new_run_id()
    stop = threading.Event()

    def one(pair: Pair) -> PairReport:
        if stop.is_set():
            return _skipped(pair)
        report = deploy_pair(session, pair, options, run_id)
        if report.exit_code and fail_fast:
            stop.set()
        return report
    return session.parallel(one, pairs, parallel)


def deploy_pair(session: Session, pair: Pair, options: DeployOptions,
                run_id: str | None = None) -> PairReport:
    """One pair's deploy; failures become the report's exit code and summary."""
    report = PairReport(pair=pair.name, nodes={n.name: NodeReport(n.name) for n in pair.nodes})
    try:
        _PairDeploy(session, pair, options, report, run_id or backups.new_run_id()).run()
    except CarpctlError as exc:
        report.exit_code, report.summary = exc.exit_code, exc.message
        for node in report.nodes.values():
            if node.state == "pending" and not options.check:
                node.state = "untouched"
        session.step("deploy", "failed", pair=pair.name, exit_code=exc.exit_code)
    return report


def _skipped(pair: Pair) -> PairReport:
    return PairReport(pair=pair.name, nodes={n.name: NodeReport(n.name) for n in pair.nodes},
                      exit_code=3, summary=f"{pair.name}: skipped after another pair failed "
                      f"(--fail-fast); nothing changed")


class _PairDeploy:
    """The runbook of the module docstring for one pair; each step a method."""

    def __init__(self, session: Session, pair: Pair, options: DeployOptions, report: PairReport,
                 run_id: str):
        self.session, self.pair, self.options, self.report = session, pair, options, report
        self.run_id = run_id
        self.timeout = (pair.deploy.confirm_timeout if options.confirm_timeout is None
                        else options.confirm_timeout)
        self.states: dict[str, NodeState] = {}
        self.candidates: dict[str, stage.Candidate] = {}
        self.committed: dict[str, Committed] = {}
        self.carp: carp_check.Expected | None = None

    def note(self, text: str) -> None:
        self.session.report.note(f"{self.pair.name}: {text}")

    def run(self) -> None:
        rendered = self.render()
        with self.lock():
            self.read()
            plans = {name: plan_node(name, files, self.states[name])
                     for name, files in rendered.items()}
            self.record_plan(plans)
            if not self.report.changes:
                self.report.summary = (f"{self.pair.name}: nothing to do, every file is up to "
                                       f"date on {' and '.join(plans)}")
                return
            order = rollout_order(self.pair, list(self.states.values()),
                                  strict=not self.options.check)
            try:
                self.validate(order, plans)
                self.show_diffs(order, plans)
                if self.options.check:
                    self.report.summary = f"{self.pair.name}: changes pending: {self.pending()}"
                    return
                self.ask(plans)
                self.roll_out(order)
            finally:
                self.discard_unused()

    # -- preflight --------------------------------------------------------------------------
    def render(self) -> dict[str, list[RenderedFile]]:
        specs = select_files(self.pair, self.options.only)
        if not specs:
            raise UsageError(f"{self.pair.name}: the inventory lists no files to deploy")
        return {node.name: [f for f in render_files(self.pair, node) if f.spec in specs]
                for node in self.pair.nodes}

    def lock(self):
        if self.options.check:   # it changes nothing: another run may go on meanwhile
            return nullcontext()
        return self.session.lock(self.pair, f"deploy {self.pair.name}",
                        break_stale=self.options.break_lock)

    def read(self) -> None:
        self.states = read_nodes(self.session, self.pair, "deploy")
        self.report.master = pair_master(vhid_table(list(self.states.values())))
        self.carp = carp_check.expect(list(self.states.values()), self.options.carp_window)
        if not self.options.check:
            for node in self.pair.nodes:
                stage.sweep(self.session, self.pair, node, self.run_id)

    def record_plan(self, plans: dict[str, NodePlan]) -> None:
        for name, plan in plans.items():
            node = self.report.nodes[name]
            node.changed = tuple(change.dest for change in plan.changed)
            node.state = "pending" if plan.changed else "unchanged"
        self.report.changes = any(plan.changed for plan in plans.values())
        self.session.step("plan", "ok", pair=self.pair.name,
                          changes={n: list(r.changed) for n, r in self.report.nodes.items()})

    def pending(self) -> str:
        return "; ".join(f"{n} {', '.join(r.changed)}" for n, r in self.report.nodes.items()
                         if r.changed)

    # -- load and compare -----------------------------------------------------------------------
    def validate(self, order: list[str], plans: dict[str, NodePlan]) -> None:
        """Stage and validate on every node before anything is installed anywhere."""
        wants_diff = self.options.check or self.options.diff
        for name in order:
            changed = plans[name].changed
            if not changed:
                continue
            candidate = stage.upload(self.session, self.pair, self.pair.node(name), changed,
                                     self.run_id, read_live=wants_diff,
                                     keep=not self.options.check)
            self.candidates[name] = candidate
            self.session.step("validate", "ok", node=name, pair=self.pair.name,
                              files=[c.dest for c in changed])
            self.note(f"{name}: {', '.join(c.dest for c in changed)} valid on the node")

    def show_diffs(self, order: list[str], plans: dict[str, NodePlan]) -> None:
        for name in order:
            for change in plans[name].changed:
                live = self.candidates[name].live.get(change.dest) if name in self.candidates \
                    else None
                self.report.diffs.append(unified_diff(name, change, live))
        if self.options.check or self.options.diff:
            with _PRINT:
                for text in self.report.diffs:
                    self.session.report.diff(text)

    def ask(self, plans: dict[str, NodePlan]) -> None:
        confirm = self.options.confirm
        if confirm is not None and not confirm(self.pair, list(plans.values())):
            raise RefusedError(f"{self.pair.name}: deploy not confirmed; nothing changed")

    # -- commit ---------------------------------------------------------------------------------
    def roll_out(self, order: list[str]) -> None:
        first, second = order
        self.commit(first)
        handoff = self.options.handoff and second in self.candidates
        if handoff:
            self.hand_over(first, "handoff", f"{second} still has the previous files and "
                           f"is MASTER")
        try:
            self.commit(second)
        except FailedError as exc:
            self.restore_updated(first, exc)
        if handoff and self.options.hand_back:
            self.hand_over(second, "hand-back", "both nodes have the new files")
        self.report.summary = (f"{self.pair.name}: deployed "
                               f"{self.pending()}; MASTER {self.report.master or 'unknown'}")

    def commit(self, name: str) -> None:
        candidate = self.candidates.pop(name, None)
        if candidate is None:
            return
        report = self.report.nodes[name]
        report.state = "failed"
        try:
            done = commit(self.session, self.pair, self.pair.node(name), candidate,
                          run_id=self.run_id, command="deploy", confirm_timeout=self.timeout,
                          before=self.states[name], carp=self.carp)
        except NotInstalled:
            report.state = "untouched"
            raise
        except FailedError:
            report.state = "restored"
            raise
        self.committed[name] = done
        report.state, report.backup = "updated", done.backup
        if self.session.run is not None:
            backups_made = self.session.run.details.setdefault("backups", {})
            backups_made.setdefault(self.pair.name, {})[name] = done.backup
        self.note(f"{name}: updated and verified")

    def restore_updated(self, name: str, failure: FailedError) -> None:
        """The peer failed and holds its previous files: so must this node, already updated
        and verified, or the pair would run two configurations. Always raises: exit 1 when
        both nodes run their previous files, exit 4 with what differs otherwise."""
        done = self.committed.pop(name, None)
        if done is None:
            raise failure
        report = self.report.nodes[name]
        try:
            restore_committed(self.session, self.pair, self.pair.node(name), done,
                              self.states[name], "its peer could not be updated")
        except UndoFailedError as exc:
            raise UndoFailedError(f"{failure.message}; but {name} keeps the new files: "
                                  f"{exc.message}", hint=exc.hint) from None
        except FailedError:
            report.state, report.backup = "restored", None
            backups_made = self.session.run.details.get("backups", {}) if self.session.run \
                else {}
            backups_made.get(self.pair.name, {}).pop(name, None)
            raise FailedError(f"{failure.message}; {name}, updated before, was restored too: "
                              f"both nodes run their previous files", hint=failure.hint) \
                from None

    def hand_over(self, to: str, step: str, consequence: str) -> None:
        from carpctl.flows.failover import failover

        self.note(f"{step}: handing MASTER to {to}")
        try:
            report = failover(self.session, self.pair, to=to)
        except UndoFailedError as exc:
            raise UndoFailedError(f"{self.pair.name}: {step} to {to} failed and was not fully "
                                  f"undone: {exc.message}") from None
        except CarpctlError as exc:
            raise FailedError(f"{self.pair.name}: {step} to {to} failed ({exc.message}); "
                              f"{consequence}", hint=f"rerun `carpctl deploy {self.pair.name}` "
                              f"when the pair is healthy") from None
        self.report.master = report.target
        if self.carp is not None:
            self.carp = carp_check.Expected(dict.fromkeys(self.carp.masters, report.target),
                                            self.carp.length)
        self.session.step(step, "ok", pair=self.pair.name, master=report.target,
                          seconds=round(report.handover_seconds, 3))

    def discard_unused(self) -> None:
        """Staged copies on nodes that were never committed (--check removed its own)."""
        if self.options.check:
            return
        for name, candidate in self.candidates.items():
            temps = [s.temp for s in candidate.staged if s.temp]
            stage.discard(self.session.connection(self.pair.node(name)), temps, None)
        self.candidates.clear()
