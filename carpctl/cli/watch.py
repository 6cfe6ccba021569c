"""`carpctl watch`: one line (or one JSON object) per change, a hook per event, until Ctrl-C.

The watch is one journal row for its whole life (started, then finished with
how many polls and events); its polls are not journaled. Ctrl-C (or SIGTERM,
as under a service manager) is how it ends, so it ends with 0.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser, Namespace

from carpctl.cli.options import positive, reading
from carpctl.cli.output import Output
from carpctl.errors import EXIT_FAILED, EXIT_OK

HELP = "follow the pairs and print one event per change until Ctrl-C"


def add_arguments(p: ArgumentParser) -> None:
    reading(p)
    p.add_argument("--interval", type=positive(float), default=5.0, metavar="S",
                   help="seconds between reads (default 5)")
    p.add_argument("--exec", metavar="CMD",
                   help="run CMD (with /bin/sh) for each event, the event as JSON on its stdin")
    p.add_argument("--exec-timeout", type=positive(float), default=10.0, metavar="S",
                   help="kill the hook after S seconds (default 10)")


def run(args: Namespace, out: Output) -> int:
    from carpctl.cli.session import open_session
    from carpctl.flows.watch import run_hook, watch
    from carpctl.runtime.history import History

    command = " ".join(["watch", *args.pairs])
    session = open_session(args, out, command, args.pairs, journal=False)
    with session:
        pairs = session.inventory.select(args.pairs)
        journal = History().start_run(command, args.pairs, session.redact)
        polls = events = 0
        code, summary = EXIT_FAILED, "ended by an error"
        try:
            for batch in watch(session, pairs, interval=args.interval, parallel=args.parallel):
                polls += 1
                for event in batch:
                    events += 1
                    _emit(out, event)
                    if args.exec:
                        problem = run_hook(args.exec, event, args.exec_timeout)
                        if problem:
                            out.warn(f"{event.pair}: {event.kind} hook: {problem}")
        except KeyboardInterrupt:
            code, summary = EXIT_OK, "stopped"
        finally:
            journal.finish(code, f"{summary} after {polls} polls, {events} events")
        return code


def _emit(out: Output, event) -> None:
    if out.json_mode:   # one object per line, whatever the terminal
        print(json.dumps(event.to_json(), default=str), file=out.stream, flush=True)
        return
    severity = event.details.get("severity")
    style = {"CRITICAL": "bold red", "WARNING": "yellow", "OK": "green"}.get(severity or "")
    out.line(event.line(), style=style if event.kind == "verdict-changed" else None)
