"""`carpctl run PLAYBOOK [PAIR...] [--check] [--resume RUN]`."""

from __future__ import annotations

import time
from argparse import ArgumentParser, Namespace
from dataclasses import dataclass
from pathlib import Path

from carpctl.cli.options import lock_options
from carpctl.cli.output import Output
from carpctl.cli.session import confirmed, open_session
from carpctl.errors import EXIT_OK, RefusedError, UsageError

HELP = "run a maintenance window from a playbook"


def add_arguments(p: ArgumentParser) -> None:
    p.add_argument("playbook", nargs="?", metavar="PLAYBOOK")
    p.add_argument("pairs", nargs="*", metavar="PAIR")
    p.add_argument("--check", action="store_true", help="print the plan, change nothing")
    p.add_argument("--resume", metavar="RUN", help="resume a failed or interrupted run")
    p.add_argument("--list", action="store_true", help="list the playbooks shipped with carpctl")
    lock_options(p)


@dataclass(frozen=True, kw_only=True)
class Resumed:
    """What `run --resume RUN` continues: the window RUN belongs to (its first run and every
    resume of it), so that a resume of a resume neither repeats nor skips a step."""

    window: str                    # the first run of the window
    runs: frozenset[str]           # every run of the window so far
    playbook: str
    pairs: list[str]
    masters: dict[str, str]
    done: dict[str, set[int]]      # pair -> indexes of the tasks finished in any of the runs


def _resumed(session, run_id: str) -> Resumed:
    earlier = session.history.run(run_id)
    if earlier is None or "playbook" not in earlier.details:
        raise UsageError(f"no playbook run {run_id!r} in the history (see `carpctl history`)")
    if earlier.details.get("check"):
        raise RefusedError(f"run {earlier.id} was a plan only (--check): nothing to resume",
                           hint="run the playbook itself")
    window = earlier.details.get("window", earlier.id)
    runs = [r for r in session.history.runs(10_000, command="run ")
            if (r.id == window or r.details.get("window") == window) and not r.details.get("check")]
    last = max(runs, key=lambda r: r.started)
    if last.exit_code == EXIT_OK:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last.finished))
        by = "" if last.id == earlier.id else f" (by its resume {last.id})"
        raise RefusedError(f"run {earlier.id} finished at {when}{by}: nothing to resume")
    done: dict[str, set[int]] = {}
    for summary in runs:
        for step in session.history.steps(summary.id):
            name = step["name"]
            if name.startswith("task ") and step["status"] in ("ok", "skipped"):
                pair, _, index = name[len("task "):].rpartition("#")
                done.setdefault(pair, set()).add(int(index))
    details = earlier.details
    return Resumed(window=window, runs=frozenset(r.id for r in runs), playbook=details["playbook"],
                   pairs=details["pairs"], masters=details.get("masters", {}), done=done)


def list_playbooks(out: Output) -> int:
    """The shipped playbooks, by the name `carpctl run NAME PAIR` takes."""
    from carpctl.core.playbook import load_playbook, shipped_playbooks

    books = [load_playbook(path) for path in shipped_playbooks().values()]
    if out.json_mode:
        out.json([{"name": b.name, "path": str(b.path), "description": b.description}
                  for b in books])
        return EXIT_OK
    out.table(["playbook", "what it does", "file"],
              [[p.stem, b.description, str(p)]
               for p, b in zip(shipped_playbooks().values(), books)])
    return EXIT_OK


def run(args: Namespace, out: Output) -> int:
    from carpctl.core.playbook import load_playbook
    from carpctl.flows.playbook import run_playbook

    if args.list:
        return list_playbooks(out)
    if not args.playbook and not args.resume:
        raise UsageError("name a playbook (e.g. playbooks/syspatch.yml) or --resume RUN")
    command = f"run {args.playbook or ''} {' '.join(args.pairs)}".strip()
    if args.resume:
        command += f" --resume {args.resume}"
    session = open_session(args, out, command, args.pairs)
    with session:
        resumed = _resumed(session, args.resume) if args.resume else None
        path, names = (resumed.playbook, resumed.pairs) if resumed else (args.playbook,
                                                                          args.pairs)
        if resumed:
            session.run.details.update(resumed_from=args.resume, window=resumed.window)
        if args.check:
            session.run.details["check"] = True
        playbook = load_playbook(path)
        pairs = session.inventory.select(names)
        if not args.check:
            confirmed(session, args, out, "playbook run",
                      f"Run playbook {playbook.name} on {', '.join(p.name for p in pairs)}? "
                      f"It may move MASTER and reboot nodes (`--check` shows the plan).")
        session.run.details.update(playbook=str(Path(playbook.path).resolve()),
                                   pairs=[p.name for p in pairs])
        session.run.save_details()

        def progress(task, total: int, text: str) -> None:
            where = f"[{pair.name} {task.index}/{total}] {task.describe()}"
            out.note(f"{where} ..." if text == "start" else f"{where}: {text}")

        results = []
        for pair in pairs:
            result = run_playbook(session, playbook, pair, check=args.check,
                                  resume_done=resumed.done.get(pair.name) if resumed else None,
                                  master=resumed.masters.get(pair.name) if resumed else None,
                                  break_lock=args.break_lock,
                                  resuming=resumed.runs if resumed else frozenset(),
                                  on_task=progress)
            results.append(result)
        summary = "; ".join(f"{r.pair}: {len(r.done)}/{len(r.tasks)} steps" for r in results)
        if args.check:
            summary = "plan only (--check)"
        session.finish(EXIT_OK, summary)
    if out.json_mode:
        out.json({"run": session.run.id if session.run else None, "playbook": playbook.name,
                  "pairs": [{"pair": r.pair, "master": r.master, "done": list(r.done),
                             "tasks": [{"index": t.index, "node": t.node,
                                        "step": t.step.describe()} for t in r.tasks]}
                            for r in results]})
        return EXIT_OK
    for result in results:
        out.line(f"{result.pair} (MASTER {result.master}): {playbook.name}")
        for task in result.tasks:
            mark = "" if args.check else (" done" if task.index in result.done else "")
            out.line(f"  {task.index:>2}. {task.describe()}{mark}")
    out.line(summary if not args.check else "nothing was changed (--check)")
    return EXIT_OK
