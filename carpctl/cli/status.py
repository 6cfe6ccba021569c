"""`carpctl status`: the table, the verdicts, the exit code."""

from __future__ import annotations

import time
from argparse import Namespace

from ..errors import EXIT_OK
from ..output import Output
from .session import open_session


def run(args: Namespace, out: Output) -> int:
    from ..flows.status import status
    from ..views import STATUS_COLUMNS, node_row, pair_status_json

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
