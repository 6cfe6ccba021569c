"""`carpctl deploy`: confirm, run the flow for every pair, show a summary, exit with the worst code.

`--check` exits 0 whether changes are pending or not (1 if a file is invalid):
scripts read `"changes": true|false` from `--json`. See docs/deploy.md.
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace

from carpctl.cli.options import lock_options, positive
from carpctl.cli.output import Output
from carpctl.cli.session import can_confirm, open_session

HELP = "render, validate, install and apply the pair's files, BACKUP first"


def add_arguments(p: ArgumentParser) -> None:
    p.add_argument("pairs", nargs="+", metavar="PAIR")
    p.add_argument("--check", action="store_true", help="validate and show diffs, change nothing")
    p.add_argument("--diff", action="store_true", help="show diffs and go on")
    p.add_argument("--only", action="append", metavar="pf|relayd|FILE",
                   help="deploy only these files (repeatable)")
    p.add_argument("--handoff", action="store_true",
                   help="hand MASTER to the updated BACKUP before updating the MASTER")
    p.add_argument("--hand-back", action="store_true",
                   help="with --handoff: give MASTER back to the original node at the end")
    p.add_argument("--confirm-timeout", type=positive(float), metavar="S",
                   help="seconds before a node restores its old pf rules unless confirmed")
    p.add_argument("--parallel", type=positive(int), default=1, metavar="N",
                   help="pairs deployed at once")
    p.add_argument("--fail-fast", action="store_true", help="stop other pairs after a failure")
    lock_options(p)


RESULTS = {0: "ok", 1: "failed", 2: "bad inventory", 3: "refused", 4: "NEEDS A PERSON"}


def run(args: Namespace, out: Output) -> int:
    from carpctl import api
    from carpctl.flows.deploy import worst

    flags = " ".join(f"--{name.replace('_', '-')}" for name in
                     ("check", "diff", "handoff", "hand_back") if getattr(args, name))
    session = open_session(args, out, f"deploy {' '.join(args.pairs)} {flags}".strip(),
                           args.pairs)
    with session:
        session.inventory.select(args.pairs)   # an unknown pair: a usage error first
        if not args.check:
            can_confirm(args, out, "deploy")
        reports = api.deploy(session, *args.pairs, check=args.check, diff=args.diff,
                             only=tuple(args.only or ()), handoff=args.handoff,
                             hand_back=args.hand_back, confirm_timeout=args.confirm_timeout,
                             break_lock=args.break_lock, parallel=args.parallel,
                             fail_fast=args.fail_fast)
        code = worst([r.exit_code for r in reports])
        session.finish(code, " | ".join(r.summary for r in reports))
    if out.json_mode:
        out.json({"check": args.check, "changes": any(r.changes for r in reports),
                  "exit_code": code, "pairs": [to_json(r) for r in reports]})
        return code
    out.table(["pair", "result", "nodes", "MASTER"],
              [[r.pair, _result(r, args.check), _nodes(r), r.master or "?"] for r in reports],
              styles=["red" if r.exit_code else None for r in reports])
    for report in reports:
        if report.exit_code:
            out.error(report.summary)
        else:
            out.line(report.summary, style="green")
    return code


def _result(report, check: bool) -> str:
    if report.exit_code == 0:
        if not report.changes:
            return "nothing to do"
        return "changes pending" if check else "deployed"
    return RESULTS.get(report.exit_code, f"exit {report.exit_code}")


def _nodes(report) -> str:
    return ", ".join(f"{n.node} {n.state}" for n in report.nodes.values())


def to_json(report) -> dict:
    return {
        "pair": report.pair, "exit_code": report.exit_code, "summary": report.summary,
        "changes": report.changes, "master": report.master,
        "nodes": {n.node: {"state": n.state, "changed": list(n.changed), "backup": n.backup}
                  for n in report.nodes.values()},
        "diffs": report.diffs,
    }
