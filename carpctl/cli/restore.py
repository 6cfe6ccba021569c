"""`carpctl restore PAIR NODE [--check]`: confirm, run the flow, say what changed and moved."""

from __future__ import annotations

from argparse import ArgumentParser, Namespace

from carpctl.cli.options import lock_options
from carpctl.cli.output import Output
from carpctl.cli.session import can_confirm, open_session
from carpctl.errors import EXIT_OK

HELP = "put a node back to its /etc/hostname.carpN and /etc/sysctl.conf"


def add_arguments(p: ArgumentParser) -> None:
    p.add_argument("pair", metavar="PAIR")
    p.add_argument("node", metavar="NODE")
    p.add_argument("--check", action="store_true", help="print the commands, change nothing")
    lock_options(p)


def to_json(report) -> dict:
    return {"pair": report.pair, "node": report.node, "check": report.check,
            "changed": report.changed, "commands": list(report.commands),
            "changes": list(report.changes), "moves": report.moves}


def run(args: Namespace, out: Output) -> int:
    from carpctl import api

    what = f"restore {args.pair} {args.node}" + (" --check" if args.check else "")
    session = open_session(args, out, what, [args.pair], journal=not args.check)
    with session:
        if not args.check:
            can_confirm(args, out, "restore")   # before any node is contacted
        report = api.restore(session, args.pair, args.node, check=args.check,
                             break_lock=args.break_lock)
        summary = _summary(report)
        session.finish(EXIT_OK, summary)
    if out.json_mode:
        out.json(to_json(report))
        return EXIT_OK
    for command in report.commands if report.check else ():
        out.line(f"  {report.node}: {command}")
    for change in report.changes if report.changed else ():
        out.line(f"  {change}")
    out.line(f"{report.pair}: {summary}", style="green")
    return EXIT_OK


def _summary(report) -> str:
    if not report.commands:
        return f"{report.node} already runs its configuration; nothing to do"
    moves = f"; {report.moves}" if report.moves else ""
    if report.check:
        return f"{report.node}: would run {len(report.commands)} command(s){moves}; nothing changed"
    return f"{report.node} restored to its configuration{moves}"
