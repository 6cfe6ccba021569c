"""`carpctl failover`: confirm, run the flow, show before/after, exit with its code."""

from __future__ import annotations

from argparse import ArgumentParser, Namespace

from carpctl.cli.options import lock_options, positive
from carpctl.cli.output import Output
from carpctl.cli.session import can_confirm, open_session
from carpctl.errors import EXIT_OK

HELP = "hand MASTER to the other node, verified, undone on failure"


def add_arguments(p: ArgumentParser) -> None:
    p.add_argument("pair", nargs="?", metavar="PAIR", help="may be omitted with one pair")
    p.add_argument("--to", required=True, metavar="peer|NODE",
                   help="`peer`: the node that is not MASTER now; or a node's name")
    p.add_argument("--method", choices=("advskew", "carpdemote"),
                   help="default: the pair's failover.method (advskew)")
    p.add_argument("--timeout", type=positive(float), metavar="S",
                   help="seconds to wait for the take-over")
    p.add_argument("--keep-demoted", action="store_true",
                   help="leave the old MASTER demoted (do not restore its advskew/demote counter)")
    p.add_argument("--force", action="store_true", help="go on despite a split or double MASTER")
    lock_options(p)


def carp_rows(report) -> list[list[str]]:
    rows = []
    for node in (report.source, report.target):
        before = {c.name: c for c in report.before[node].carp if c.vhid is not None}
        after = {c.name: c for c in report.after[node].carp if c.vhid is not None}
        for name, old in before.items():
            new = after.get(name, old)
            rows.append([node, name, str(old.vhid), f"{old.state} skew {old.advskew}",
                         f"{new.state} skew {new.advskew}"])
        rows.append([node, "demote", "", str(report.before[node].demote),
                     str(report.after[node].demote)])
    return rows


def to_json(report) -> dict:
    return {
        "pair": report.pair, "source": report.source, "target": report.target,
        "method": report.method, "already": report.already,
        "handover_seconds": round(report.handover_seconds, 3),
        "total_seconds": round(report.total_seconds, 3),
        "restored": report.restored, "parked": report.parked, "unparked": report.unparked,
        "warnings": list(report.warnings),
        "before": {n: _node_json(s) for n, s in report.before.items()},
        "after": {n: _node_json(s) for n, s in report.after.items()},
    }


def _node_json(state) -> dict:
    return {"demote": state.demote,
            "carp": {c.name: {"state": c.state, "vhid": c.vhid, "advskew": c.advskew}
                     for c in state.carp if c.vhid is not None}}


def run(args: Namespace, out: Output) -> int:
    from carpctl import api

    pair_arg = f" {args.pair}" if args.pair else ""
    session = open_session(args, out, f"failover{pair_arg} --to {args.to}",
                           [args.pair] if args.pair else [])
    with session:
        can_confirm(args, out, "failover")   # before any node is contacted
        report = api.failover(session, args.pair, to=args.to, method=args.method,
                              timeout=args.timeout, keep_demoted=args.keep_demoted,
                              force=args.force, break_lock=args.break_lock)
        if report.already:
            summary = f"{report.target} is already MASTER on every vhid; nothing to do"
        else:
            how = f"undoing {report.target}'s parking" if report.unparked else report.method
            summary = (f"MASTER handed from {report.source} to {report.target} in "
                       f"{report.handover_seconds:.2f}s (total {report.total_seconds:.1f}s, {how})")
        session.finish(EXIT_OK, summary)
    if out.json_mode:
        out.json(to_json(report))
        return EXIT_OK
    if not report.already:
        out.table(["node", "carp", "vhid", "before", "after"], carp_rows(report))
    out.line(f"{report.pair}: {summary}", style="green")
    if report.parked:
        out.line(report.parked, style="yellow")
    for warning in report.warnings:
        out.line(f"! {warning}", style="yellow")
    return EXIT_OK
