"""`carpctl rollback`: confirm, put a deploy's backup set back, say what happened."""

from __future__ import annotations

from argparse import ArgumentParser, Namespace

from carpctl.cli.options import lock_options
from carpctl.cli.output import Output
from carpctl.cli.session import can_confirm, open_session
from carpctl.errors import EXIT_OK

HELP = "put back the configuration a deploy replaced"


def add_arguments(p: ArgumentParser) -> None:
    p.add_argument("pair", metavar="PAIR")
    p.add_argument("--node", metavar="NODE", help="only this node (default: both)")
    p.add_argument("--to", metavar="RUN", help="the deploy run whose backups to restore "
                   "(default: the last deploy)")
    lock_options(p)


def run(args: Namespace, out: Output) -> int:
    from carpctl import api

    command = f"rollback {args.pair}" + (f" --node {args.node}" if args.node else "") + \
        (f" --to {args.to}" if args.to else "")
    session = open_session(args, out, command, [args.pair])
    with session:
        session.inventory.pair(args.pair)   # an unknown pair: a usage error first
        can_confirm(args, out, "rollback")
        report = api.rollback(session, args.pair, node=args.node, to=args.to,
                              break_lock=args.break_lock)
        session.finish(EXIT_OK, report.summary)
    if out.json_mode:
        out.json({"pair": report.pair, "run": report.run, "exit_code": EXIT_OK,
                  "nodes": {n.node: {"state": n.state, "files": list(n.changed),
                                     "backup": n.backup} for n in report.nodes.values()}})
        return EXIT_OK
    out.table(["node", "result", "files", "backup of the replaced files"],
              [[n.node, n.state, ", ".join(n.changed), n.backup or ""]
               for n in report.nodes.values()])
    out.line(report.summary, style="green")
    return EXIT_OK
