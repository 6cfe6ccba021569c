"""`carpctl history [RUN]`: the journal."""

from __future__ import annotations

import time
from argparse import ArgumentParser, Namespace

from carpctl.cli.options import positive
from carpctl.cli.output import Output
from carpctl.errors import EXIT_OK, UsageError

HELP = "what carpctl did, when, by whom, with what result"


def add_arguments(p: ArgumentParser) -> None:
    p.add_argument("run", nargs="?", metavar="RUN", help="show one run in detail")
    p.add_argument("--limit", type=positive(int), default=30,
                   help="how many runs to list (default 30)")


def run(args: Namespace, out: Output) -> int:
    from carpctl.runtime.history import History

    history = History()
    if args.run:
        run = history.run(args.run)
        if run is None:
            raise UsageError(f"no run {args.run!r} in {history.path}")
        commands, steps = history.commands(run.id), history.steps(run.id)
        if out.json_mode:
            out.json({"run": run.__dict__, "steps": steps, "commands": commands})
            return EXIT_OK
        out.line(f"run {run.id}: {run.command}")
        out.line(f"  by {run.user}@{run.host} at {time.ctime(run.started)}, "
                 f"exit {run.exit_code if run.exit_code is not None else '(running or killed)'}")
        if run.summary:
            out.line(f"  {run.summary}")
        for key, value in run.details.items():
            out.line(f"  {key}: {value}")
        if steps:
            out.table(["#", "step", "node", "status"],
                      [[s["seq"], s["name"], s["node"] or "", s["status"]] for s in steps])
        out.table(["#", "node", "exit", "ms", "command"],
                  [[c["seq"], c["node"], c["status"], f"{(c['duration'] or 0) * 1000:.0f}",
                    c["command"]] for c in commands])
        return EXIT_OK
    runs = history.runs(args.limit)
    if out.json_mode:
        out.json([r.__dict__ for r in runs])
        return EXIT_OK
    out.table(["run", "when", "by", "command", "exit", "backups", "summary"],
              [[r.id, time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started)),
                r.user, r.command, "" if r.exit_code is None else r.exit_code,
                _backups(r.details), (r.summary or "")[:60]] for r in runs])
    return EXIT_OK


def _backups(details: dict) -> str:
    """Where a deploy left its backup sets: `rollback PAIR --to RUN` puts them back."""
    sets = details.get("backups") or {}
    return ", ".join(f"{pair}: {' '.join(sorted(nodes))}" for pair, nodes in sets.items())
