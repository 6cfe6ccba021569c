"""One handler per command: call the flow, render its result, return the exit code."""

from __future__ import annotations

import time
from argparse import Namespace

from .errors import EXIT_OK, UsageError
from .output import Output


def cmd_lab(args: Namespace, out: Output) -> int:
    from .lab import cli as lab_cli

    directory = args.dir
    try:
        if args.action == "up":
            return lab_cli.up(directory, args.pairs, detach=args.detach, out=out.line)
        if args.action == "down":
            return lab_cli.down(directory, out=out.line)
        if args.action == "status":
            truth = lab_cli.truth(directory)
            if out.json_mode:
                out.json(truth)
            else:
                out.table(["pair", "node", "power", "demote", "preempt", "carp"],
                          lab_cli.status_rows(truth), title=f"lab {directory}")
            return EXIT_OK
        if args.action == "fault":
            lab_cli.fault(directory, args.fault, args.target, args.values)
            out.line(f"{args.fault} {args.target} {' '.join(args.values)}".rstrip())
            return EXIT_OK
        entries = lab_cli.log(directory, args.target)
        if out.json_mode:
            out.json(entries)
        else:
            out.table(["time", "user", "exit", "ms", "command"],
                      [[time.strftime("%H:%M:%S", time.localtime(e["time"])), e["user"],
                        "cut" if e["status"] is None else e["status"],
                        f"{e['duration'] * 1000:.0f}", e["command"]] for e in entries])
        return EXIT_OK
    except (ValueError, IndexError, KeyError, lab_cli.control.LabNotRunning) as exc:
        raise UsageError(f"lab {args.action}: {exc}") from None


def cmd_history(args: Namespace, out: Output) -> int:
    from .history import History

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
    out.table(["run", "when", "by", "command", "exit", "summary"],
              [[r.id, time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started)),
                r.user, r.command, "" if r.exit_code is None else r.exit_code,
                (r.summary or "")[:60]] for r in runs])
    return EXIT_OK


def open_session(args: Namespace, out: Output, command: str, pairs: list[str] | None = None,
                 *, journal: bool = True):
    """Load the inventory and start the run's journal."""
    from .history import History
    from .inventory import load_inventory
    from .session import Session

    inventory = load_inventory(args.inventory)
    session = Session(inventory, out=out, history=History() if journal else None,
                      accept_new_host_keys=args.accept_new_host_keys, assume_yes=args.yes)
    session.begin(command, pairs or [])
    return session


def cmd_status(args: Namespace, out: Output) -> int:
    from .flows.status import status
    from .views import STATUS_COLUMNS, node_row, pair_status_json

    session = open_session(args, out, "status " + " ".join(args.pairs), args.pairs,
                           journal=args.watch is None)
    with session:
        pairs = session.inventory.select(args.pairs)
        while True:
            results = status(session, pairs, parallel=args.parallel)
            healthy = all(r.verdict.healthy for r in results)
            if out.json_mode:
                out.json({"healthy": healthy, "pairs": [pair_status_json(r) for r in results]})
            else:
                rows = [node_row(r.pair, s) for r in results for s in r.nodes]
                out.table(STATUS_COLUMNS, rows)
                for r in results:
                    style = "green" if r.verdict.healthy else "bold red"
                    master = f", MASTER {r.verdict.master}" if r.verdict.master else ""
                    out.line(f"{r.pair}: {r.verdict.verdict}{master}", style=style)
                    for finding in r.verdict.findings:
                        out.line(f"  - {finding.message}")
            code = EXIT_OK if healthy else 1
            if args.watch is None:
                session.finish(code, ", ".join(f"{r.pair} {r.verdict.verdict}" for r in results))
                return code
            time.sleep(args.watch)
            out.line()


def cmd_inventory(args: Namespace, out: Output) -> int:
    from .inventory import load_inventory

    inventory = load_inventory(args.inventory)
    if args.action == "check":
        from .render import render_files

        count = 0
        for pair in inventory.pairs.values():
            for node in pair.nodes:
                count += len(render_files(pair, node))
        if out.json_mode:
            out.json({"ok": True, "source": str(inventory.source), "pairs": len(inventory.pairs),
                      "files_rendered": count})
        else:
            out.line(f"{inventory.source}: {len(inventory.pairs)} pair(s) ok, "
                     f"{count} file(s) rendered")
        return EXIT_OK
    rows = []
    for pair in inventory.pairs.values():
        for node in pair.nodes:
            rows.append({"pair": pair.name, "node": node.name, "host": node.host,
                         "port": node.port, "user": node.user, "become": node.become,
                         "proxy_jump": node.proxy_jump, "failover": pair.failover.method,
                         "files": [f.dest for f in pair.files]})
    if out.json_mode:
        out.json(rows)
    else:
        out.table(["pair", "node", "host", "port", "user", "become", "via", "failover", "files"],
                  [[r["pair"], r["node"], r["host"], r["port"], r["user"], r["become"],
                    r["proxy_jump"] or "", r["failover"], " ".join(r["files"])] for r in rows])
    return EXIT_OK
