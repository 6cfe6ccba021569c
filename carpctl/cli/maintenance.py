"""`carpctl maintenance enter|exit PAIR NODE [--failback]`."""

from __future__ import annotations

from argparse import ArgumentParser, Namespace

from carpctl.cli.options import lock_options
from carpctl.cli.output import Output
from carpctl.cli.session import confirmed, open_session
from carpctl.errors import EXIT_OK

HELP = "keep a node out of MASTER, persistently, until exit"


def add_arguments(p: ArgumentParser) -> None:
    p.add_argument("action", choices=("enter", "exit"))
    p.add_argument("pair", metavar="PAIR")
    p.add_argument("node", metavar="NODE")
    p.add_argument("--failback", action="store_true", help="on exit: hand MASTER back to NODE")
    lock_options(p)


def run(args: Namespace, out: Output) -> int:
    from carpctl.flows import maintenance

    session = open_session(args, out, f"maintenance {args.action} {args.pair} {args.node}",
                           [args.pair])
    with session:
        pair = session.inventory.pair(args.pair)
        if args.action == "enter" or args.failback:
            moves = ("its MASTER role moves to the peer first" if args.action == "enter"
                     else f"MASTER moves back to {args.node}")
            confirmed(session, args, out, f"maintenance {args.action}",
                      f"{'Put' if args.action == 'enter' else 'Take'} {args.node} of {pair.name} "
                      f"{'into' if args.action == 'enter' else 'out of'} maintenance ({moves} "
                      f"if needed)?")
        if args.action == "enter":
            report = maintenance.enter(session, pair, args.node, break_lock=args.break_lock)
        else:
            report = maintenance.exit_(session, pair, args.node, failback=args.failback,
                                       break_lock=args.break_lock)
        verb = "entered" if args.action == "enter" else "left"
        summary = (f"{report.node} {verb} maintenance" if report.changed else
                   f"nothing to do: {report.note}")
        if report.handed_over:
            summary += "; MASTER " + ("handed to the peer" if args.action == "enter"
                                      else f"handed back to {report.node}")
        session.finish(EXIT_OK, summary)
    if out.json_mode:
        out.json({"pair": report.pair, "node": report.node, "action": report.action,
                  "changed": report.changed, "handed_over": report.handed_over,
                  "note": report.note})
        return EXIT_OK
    out.line(f"{report.pair}: {summary}", style="green")
    if report.changed and report.note:
        out.line(report.note)
    return EXIT_OK
