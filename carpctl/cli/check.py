"""`carpctl check`: a monitoring plugin (Nagios, Icinga, Sensu, Zabbix agents).

The Monitoring Plugins guidelines decide the output and the exit code, not
carpctl's own conventions: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, and a
check that could not run (bad options, inventory) is UNKNOWN with its reason
on the status line, never exit 2 (which a monitoring system reads as CRITICAL).
A check runs every minute or so, so it is not journaled.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser, ArgumentTypeError, Namespace

from carpctl.cli.options import reading
from carpctl.cli.output import Output
from carpctl.errors import CarpctlError

HELP = "a monitoring plugin: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"


def add_arguments(p: ArgumentParser) -> None:
    reading(p)
    p.add_argument("--warn", type=_count, metavar="N",
                   help="WARNING when the nodes' pf state counts differ by more than N")
    p.add_argument("--crit", type=_count, metavar="N",
                   help="CRITICAL when the nodes' pf state counts differ by more than N")
    p.error = usage_error(p)  # type: ignore[method-assign]  # a plugin exits 3, not 2


def _count(text: str) -> int:
    if not text.isdigit():
        raise ArgumentTypeError(f"{text!r} is not a whole number of 0 or more")
    return int(text)


def run(args: Namespace, out: Output) -> int:
    from carpctl.cli.session import open_session
    from carpctl.core.plugin_output import StateDiffThresholds, check_pair, check_result, unknown
    from carpctl.flows.status import status

    try:
        session = open_session(args, out, " ".join(["check", *args.pairs]), args.pairs,
                               journal=False)
        with session:
            results = status(session, session.inventory.select(args.pairs),
                             parallel=args.parallel)
    except CarpctlError as exc:
        result = unknown(exc.message.splitlines()[0])
    else:
        thresholds = StateDiffThresholds(args.warn, args.crit)
        result = check_result([check_pair(r.pair, r.verdict, r.nodes, thresholds)
                               for r in results])
    if out.json_mode:
        out.json({"state": result.severity.name, "exit_code": result.exit_code,
                  "lines": list(result.lines)})
    for line in result.lines:
        out.line(line)
    return result.exit_code


def usage_error(parser: ArgumentParser):
    """argparse's error() for the check: the guidelines want UNKNOWN (3) on stdout."""
    def error(message: str):
        print(f"CARP UNKNOWN - {parser.prog}: {message}", file=sys.stdout, flush=True)
        raise SystemExit(3)
    return error
