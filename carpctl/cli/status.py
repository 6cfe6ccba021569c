"""`carpctl status`: the table, the verdicts, the exit code (0 only when every pair is healthy)."""

from __future__ import annotations

import time
from argparse import ArgumentParser, Namespace

from carpctl.cli.options import positive, reading
from carpctl.cli.output import Output
from carpctl.cli.session import open_session
from carpctl.errors import EXIT_FAILED, EXIT_OK, UsageError

HELP = "health of every node and a verdict per pair"


def add_arguments(p: ArgumentParser) -> None:
    reading(p)
    p.add_argument("--watch", nargs="?", type=positive(float), const=2.0, metavar="SECONDS",
                   help="refresh every SECONDS (default 2) until Ctrl-C")
    # monitoring (docs/monitoring.md)
    p.add_argument("--format", choices=("table", "prometheus"), default="table",
                   help="prometheus: the metrics `carpctl exporter` serves")
    p.add_argument("--output", metavar="FILE", help="with --format prometheus: write "
                   "FILE atomically (for node_exporter's textfile collector)")


def run(args: Namespace, out: Output) -> int:
    prometheus = _prometheus_options(args)
    session = open_session(args, out, " ".join(["status", *args.pairs]), args.pairs,
                           journal=args.watch is None and not prometheus)
    with session:
        pairs = session.inventory.select(args.pairs)
        if prometheus:
            return metrics(session, pairs, args, out)
        if args.watch is None:
            code, summary = report(session, pairs, args.parallel, out)
            session.finish(code, summary)
            return code
        return watch(session, pairs, args.parallel, args.watch, out)


def report(session, pairs, parallel: int, out: Output) -> tuple[int, str]:
    """Read, judge and print once; the exit code and a one-line summary for the journal."""
    from carpctl.cli.views import STATUS_COLUMNS, node_rows, status_json
    from carpctl.flows.status import status

    results = status(session, pairs, parallel=parallel)
    healthy = all(r.verdict.healthy for r in results)
    if out.json_mode:
        out.json(status_json(results))
    else:
        for r in results:   # a table per pair, its verdict under it
            out.table(STATUS_COLUMNS, [row for s in r.nodes for row in node_rows(s)],
                      title=r.pair, compact=True)
            master = f", MASTER {r.verdict.master}" if r.verdict.master else ""
            out.line(f"{r.pair}: {r.verdict.verdict}{master}",
                     style="green" if r.verdict.healthy else "bold red")
            for finding in r.verdict.findings:
                out.line(f"  - {finding.message}")
            for warning in r.verdict.warnings:
                out.line(f"  ! {warning.message}", style="yellow")
    summary = ", ".join(f"{r.pair} {r.verdict.verdict}" for r in results)
    return (EXIT_OK if healthy else EXIT_FAILED), summary


def watch(session, pairs, parallel: int, every: float, out: Output) -> int:
    """Refresh until Ctrl-C, reusing each node's connection; exit with the last verdict.

    Ctrl-C is how a watch ends, so it is not an error here.
    """
    code = EXIT_OK
    try:
        while True:
            out.clear()
            out.note(f"every {every:g}s, Ctrl-C to stop; {time.strftime('%H:%M:%S')}")
            code, _ = report(session, pairs, parallel, out)
            time.sleep(every)
    except KeyboardInterrupt:
        return code


def _prometheus_options(args: Namespace) -> bool:
    """--format prometheus and --output go together, and not with --json."""
    prometheus = getattr(args, "format", "table") == "prometheus"
    if getattr(args, "output", None) and not prometheus:
        raise UsageError("--output needs --format prometheus")
    if prometheus and args.json:
        raise UsageError("--format prometheus and --json are two formats; choose one")
    return prometheus


def metrics(session, pairs, args: Namespace, out: Output) -> int:
    """The exporter's metrics once (or every --watch seconds), to stdout or --output FILE.

    The exit code is status's own: 0 only when every pair is healthy. Not
    journaled: a textfile is rewritten from cron every minute.
    """
    from carpctl.flows.exporter import exposition, read, write_textfile

    code = EXIT_OK
    try:
        while True:
            reading = read(session, pairs, args.parallel)
            if args.output:
                write_textfile(args.output, reading)
            else:
                out.stream.write(exposition(reading).decode())
                out.stream.flush()
            code = EXIT_OK if all(r.verdict.healthy for r in reading.statuses) else EXIT_FAILED
            if args.watch is None:
                return code
            time.sleep(args.watch)
    except KeyboardInterrupt:
        if args.watch is None:
            raise
        return code   # Ctrl-C is how a watch ends
