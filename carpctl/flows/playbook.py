"""`carpctl run PLAYBOOK [PAIR...]`: a maintenance window, step by step, journaled.

The plan is concrete before anything runs: with `serial`, the BACKUP's steps
first, then (after handing MASTER over) the MASTER's, then the `after` steps.
Each task is journaled as it ends; `--resume RUN` replays the same plan and
starts at the first task that did not finish. A failure stops the run and
checks that the pair is safe: at most one node in maintenance, one MASTER each.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from carpctl.core.carp import one_master_each, pair_master, vhid_table
from carpctl.core.playbook import NODE_STEPS, Done, Playbook, Step
from carpctl.errors import (
    CarpctlError,
    FailedError,
    RefusedError,
    UndoFailedError,
    UsageError,
    error_for,
)
from carpctl.flows import maintenance
from carpctl.flows import upgrade as up
from carpctl.flows.failover import failover
from carpctl.flows.node_ops import reboot_node, run_command, syspatch_node, wait_healthy
from carpctl.inventory import Node, Pair
from carpctl.runtime.read import read_pair
from carpctl.runtime.session import Session


@dataclass(frozen=True)
class Task:
    index: int
    step: Step
    node: str | None          # the node it acts on (None: a pair step)

    def describe(self) -> str:
        return f"{self.node}: {self.step.describe()}" if self.node else self.step.describe()

    def key(self, pair: str) -> str:
        return f"task {pair}#{self.index}"


HANDOVER = Step("failover", {"value": "away"}, "implicit")


def plan(playbook: Playbook, pair: Pair, master: str) -> list[Task]:
    """The concrete task list for one pair whose MASTER is `master`."""
    tasks: list[Task] = []

    def add(step: Step, node: str | None) -> None:
        tasks.append(Task(len(tasks) + 1, step, node))

    for step in playbook.before:
        add(step, _resolve(pair, master, step.node))
    if playbook.serial:
        order = [pair.peer_of(master).name, master]
        for node in order:
            first = playbook.steps[0] if playbook.steps else None
            hands_over = first is not None and (
                (first.kind == "maintenance" and first.args["value"] == "enter") or
                (first.kind == "failover" and first.args.get("value") == "away"))
            if node == master and not hands_over:
                add(HANDOVER, node)
            for step in playbook.steps:
                add(step, node if step.kind in NODE_STEPS else None)
    else:
        for step in playbook.steps:
            add(step, _resolve(pair, master, step.node))
    for step in playbook.after:
        add(step, _resolve(pair, master, step.node))
    for task in tasks:   # a wrong node name is found by --check, not halfway through
        if task.step.kind == "failover" and "to" in task.step.args:
            _resolve(pair, master, task.step.args["to"])
    return tasks


def _resolve(pair: Pair, master: str, selector: str | None) -> str | None:
    if selector is None:
        return None
    if selector == "master":
        return master
    if selector == "backup":
        return pair.peer_of(master).name
    return pair.node(selector).name


@dataclass(frozen=True)
class PairRun:
    pair: str
    master: str
    tasks: tuple[Task, ...]
    done: tuple[int, ...]           # indexes finished (now or in the resumed run)


def run_playbook(session: Session, playbook: Playbook, pair: Pair, *, check: bool = False,
                 resume_done: set[int] | None = None, master: str | None = None,
                 break_lock: bool = False, resuming: frozenset[str] = frozenset(),
                 on_task: Callable[[Task, int, str], None] | None = None) -> PairRun:
    """Run (or with `check` only plan) the playbook on one pair.

    `resuming`: the earlier runs of the window this run continues; a lock one of them left
    when its process died is taken over (no --break-lock needed for the printed resume)."""
    with nullcontext() if check else session.lock(pair, f"run {playbook.path} {pair.name}",
                                                  break_stale=break_lock, resuming=resuming):
        if master is None:
            states = read_pair(session, pair)
            master = pair_master(vhid_table(list(states.values())))
            if master is None:
                raise UsageError(f"{pair.name}: no single MASTER; fix the pair before a "
                                 f"maintenance window (carpctl status)")
        tasks = plan(playbook, pair, master)
        if session.run is not None:
            session.run.details.setdefault("masters", {})[pair.name] = master
            session.run.save_details()
        if check:
            return PairRun(pair.name, master, tuple(tasks), ())
        done = set(resume_done or ())
        for task in tasks:
            if task.index in done:
                session.step(task.key(pair.name), "skipped", node=task.node,
                             step=task.describe())
                continue
            try:   # an interrupt as the task starts is checked like one inside it
                _report(on_task, task, len(tasks), "start")
                result = execute(session, playbook, pair, master, task)
            except BaseException as exc:
                output = getattr(exc, "output", "")
                session.step(task.key(pair.name), "failed", node=task.node,
                             step=task.describe(), error=str(exc) or type(exc).__name__,
                             **({"output": output} if output else {}))
                if isinstance(exc, RefusedError) and not done:
                    raise   # a preflight said no before anything ran: nothing changed (exit 3)
                raise _stopped(session, pair, task, exc) from None
            outcome = result if isinstance(result, Done) else Done(result)
            note = outcome.note
            session.step(task.key(pair.name), "ok", node=task.node, step=task.describe(),
                         note=note, **({"output": outcome.output} if outcome.output else {}))
            done.add(task.index)
            _report(on_task, task, len(tasks), note or "ok")
        return PairRun(pair.name, master, tuple(tasks), tuple(sorted(done)))


def _report(on_task, task: Task, total: int, text: str) -> None:
    if on_task is not None:
        on_task(task, total, text)


def execute(session: Session, playbook: Playbook, pair: Pair, master: str,
            task: Task) -> str | Done:
    """Carry out one task; returns a one-line note for the journal (Done: with the output)."""
    step, args = task.step, task.step.args
    if step.kind == "failover":   # `away` names its node; `back` and `to` do not
        return _failover_task(session, pair, master, task)
    if task.node is not None:   # plan() gives every other node step its node
        return _node_task(session, pair, master, task, pair.node(task.node))
    if step.kind == "wait":
        return wait_healthy(session, pair, timeout=args["timeout"])
    if step.kind == "preflight":
        return up.upgrade_preflight(session, pair, snapshot=args["snapshot"],
                                    home_mb=args["home_mb"])
    if step.kind == "pause":
        time.sleep(args["value"])
        return ""
    if step.kind == "confirm":
        if not session.confirm(args["value"]):
            raise FailedError(f"{pair.name}: stopped at `{args['value']}` (not confirmed)")
        return "confirmed"
    if step.kind == "deploy":
        from carpctl.flows.deploy import DeployOptions, deploy_pair

        options = DeployOptions(only=tuple(args["only"]), handoff=args["handoff"])
        deployed = deploy_pair(session, pair, options, session.run.id if session.run else None)
        if deployed.exit_code:
            raise error_for(deployed.exit_code, deployed.summary)
        return deployed.summary
    raise AssertionError(step.kind)


def _failover_task(session: Session, pair: Pair, master: str, task: Task) -> str:
    args = task.step.args
    if args.get("value") == "away":
        assert task.node is not None   # plan() names the node to move MASTER away from
        states = read_pair(session, pair)
        if not any(c.state == "MASTER" for c in states[task.node].carp):
            return f"{task.node} is not MASTER: nothing to hand over"
        target = pair.peer_of(task.node).name
    else:
        target = (master if args.get("value") == "back"
                  else _resolve(pair, master, args["to"]) or "peer")
    report = failover(session, pair, to=target, method=args.get("method"))
    return "already MASTER" if report.already else report.parked or \
        f"MASTER on {report.target} after {report.handover_seconds:.1f}s"


def _node_task(session: Session, pair: Pair, master: str, task: Task,
               node: Node) -> str | Done:
    step, args = task.step, task.step.args
    if step.kind == "maintenance":
        if args["value"] == "enter":
            return maintenance.enter(session, pair, node.name).note or ""
        failback = args.get("failback", False)
        return maintenance.exit_(session, pair, node.name, failback=failback).note or ""
    if step.kind == "run":
        return run_command(session, node, args["value"])
    if step.kind == "reboot":
        if args.get("if_needed"):
            return up.reboot_if_needed(session, pair, node, timeout=args["timeout"])
        return reboot_node(session, pair, node, timeout=args["timeout"])
    if step.kind == "syspatch":
        return syspatch_node(session, pair, node, timeout=args["timeout"])
    if step.kind == "sysupgrade":
        return up.sysupgrade_node(session, pair, node, snapshot=args["snapshot"],
                                  reboot=args["reboot"], timeout=args["timeout"])
    if step.kind == "sysmerge":
        return up.sysmerge_node(session, node)
    if step.kind == "fw_update":
        return up.fw_update_node(session, node)
    if step.kind == "pkg_add":
        return up.pkg_add_node(session, node)
    raise AssertionError(step.kind)


def _stopped(session: Session, pair: Pair, task: Task, cause: BaseException) -> CarpctlError:
    """The error to raise after a failed task, once the pair's safety is checked."""
    reason = "interrupted" if isinstance(cause, KeyboardInterrupt) else str(cause)
    try:
        states = read_pair(session, pair)
    except CarpctlError as exc:
        return UndoFailedError(f"{pair.name}: step {task.index} ({task.describe()}) failed: "
                               f"{reason}; the pair's state is unknown ({exc})")
    in_maintenance = [s.node for s in states.values() if s.reachable and s.maintenance]
    maintenance_text = ", ".join(in_maintenance + [f"{s.node} unknown (unreachable)"
                                                   for s in states.values() if not s.reachable])
    reachable = [s for s in states.values() if s.reachable]
    table = vhid_table(reachable)
    one_master = one_master_each(reachable)
    state = ", ".join(f"vhid {v}: " + "/".join(f"{n} {s}" for n, s in nodes.items())
                      for v, nodes in table.items())
    resume = (f"carpctl -i {session.inventory.source} run --resume "
              f"{session.run.id if session.run else 'RUN'}")
    if one_master and len(in_maintenance) <= 1:
        return FailedError(f"{pair.name}: step {task.index} ({task.describe()}) failed: {reason}. "
                           f"The pair is safe ({state}; in maintenance: "
                           f"{maintenance_text or 'none'}). Fix it, then: {resume}")
    return UndoFailedError(f"{pair.name}: step {task.index} ({task.describe()}) failed: {reason}; "
                           f"the pair is NOT safe ({state}; in maintenance: "
                           f"{maintenance_text or 'none'}): a person must look")
