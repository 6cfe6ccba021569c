"""`carpctl run PLAYBOOK [PAIR...] [--check] [--resume RUN]`."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

from carpctl.cli.output import Output
from carpctl.cli.session import confirmed, open_session
from carpctl.errors import EXIT_OK, UsageError


def _resumed(session, run_id: str) -> tuple[str, list[str], dict[str, str], dict[str, set[int]]]:
    """Playbook, pairs, masters and finished task indexes of an earlier run."""
    earlier = session.history.run(run_id)
    if earlier is None or "playbook" not in earlier.details:
        raise UsageError(f"no playbook run {run_id!r} in the history (see `carpctl history`)")
    done: dict[str, set[int]] = {}
    for step in session.history.steps(earlier.id):
        name = step["name"]
        if name.startswith("task ") and step["status"] in ("ok", "skipped"):
            pair, _, index = name[len("task "):].rpartition("#")
            done.setdefault(pair, set()).add(int(index))
    details = earlier.details
    return details["playbook"], details["pairs"], details.get("masters", {}), done


def run(args: Namespace, out: Output) -> int:
    from carpctl.core.playbook import load_playbook
    from carpctl.flows.playbook import run_playbook

    if not args.playbook and not args.resume:
        raise UsageError("name a playbook (e.g. playbooks/syspatch.yml) or --resume RUN")
    command = f"run {args.playbook or ''} {' '.join(args.pairs)}".strip()
    if args.resume:
        command += f" --resume {args.resume}"
    session = open_session(args, out, command, args.pairs)
    with session:
        masters: dict[str, str] = {}
        done: dict[str, set[int]] = {}
        path, names = args.playbook, args.pairs
        if args.resume:
            path, names, masters, done = _resumed(session, args.resume)
            session.run.details["resumed_from"] = args.resume
        playbook = load_playbook(path)
        pairs = session.inventory.select(names)
        if not args.check:
            confirmed(session, args, out, "playbook run",
                      f"Run playbook {playbook.name} on {', '.join(p.name for p in pairs)}? "
                      f"It may move MASTER and reboot nodes (`--check` shows the plan).")
        session.run.details.update(playbook=str(Path(playbook.path).resolve()),
                                   pairs=[p.name for p in pairs])

        def progress(task, total: int, text: str) -> None:
            where = f"[{pair.name} {task.index}/{total}] {task.describe()}"
            out.note(f"{where} ..." if text == "start" else f"{where}: {text}")

        results = []
        for pair in pairs:
            result = run_playbook(session, playbook, pair, check=args.check,
                                  resume_done=done.get(pair.name),
                                  master=masters.get(pair.name), break_lock=args.break_lock,
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
