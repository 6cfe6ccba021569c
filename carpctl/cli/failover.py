"""`carpctl failover`: confirm, run the flow, show before/after, exit with its code."""

from __future__ import annotations

from argparse import Namespace

from ..errors import EXIT_OK
from ..output import Output
from .session import can_confirm, open_session


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
        "handover_seconds": round(report.handover, 3), "total_seconds": round(report.total, 3),
        "restored": report.restored, "parked": report.parked,
        "before": {n: {c.name: {"state": c.state, "advskew": c.advskew} for c in s.carp}
                   for n, s in report.before.items()},
        "after": {n: {c.name: {"state": c.state, "advskew": c.advskew} for c in s.carp}
                  for n, s in report.after.items()},
    }


def run(args: Namespace, out: Output) -> int:
    from ..flows.failover import failover

    session = open_session(args, out, f"failover {args.pair or ''} --to {args.to}".replace("  ", " "),
                           [args.pair] if args.pair else [])
    code, summary = 1, "failed"
    with session:
        pair = session.inventory.pair(args.pair)

        def confirm(plan) -> bool:
            question = (f"Hand MASTER of {pair.name} from {plan.source} to {plan.target} "
                        f"({plan.method})? Relay sessions will be reset.")
            can_confirm(args, out, "failover")
            return session.confirm(question)

        try:
            report = failover(session, pair, to=args.to, method=args.method, timeout=args.timeout,
                              keep_demoted=args.keep_demoted, force=args.force,
                              break_lock=args.break_lock, confirm=confirm)
        except Exception as exc:
            session.finish(getattr(exc, "exit_code", 1), str(exc))
            raise
        if report.already:
            summary = f"{report.target} is already MASTER on every vhid; nothing to do"
        else:
            summary = (f"MASTER handed from {report.source} to {report.target} in "
                       f"{report.handover:.2f}s (total {report.total:.1f}s, {report.method})")
        code = EXIT_OK
        session.finish(code, summary)
    if out.json_mode:
        out.json(to_json(report))
        return code
    if not report.already:
        out.table(["node", "carp", "vhid", "before", "after"], carp_rows(report))
    out.line(f"{report.pair}: {summary}", style="green")
    if report.parked:
        out.line(report.parked, style="yellow")
    return code
