"""carpctl's command line: parse, dispatch, map errors to exit codes. Nothing else.

argparse rather than invoke's parser: the contract's command lines (`status
PAIR...`, `maintenance enter PAIR NODE`, options after positionals) need variadic
positionals and nested sub-commands, which invoke's task parser does not express.
The work is done by flows (carpctl.flows), plain functions usable from Python;
each command is the module carpctl.cli.<command>: its HELP, its `add_arguments(parser)`
and its `run(args, out)`. Heavy libraries (paramiko, fabric, jinja2, rich, asyncssh)
are imported only inside `run`, so `carpctl --help` stays fast.
"""

from __future__ import annotations

import argparse
import os

from carpctl import __version__
from carpctl.cli import (
    check,
    demo,
    deploy,
    docs,
    exporter,
    failover,
    history,
    init,
    inventory,
    lab,
    maintenance,
    restore,
    rollback,
    run,
    status,
    watch,
)
from carpctl.cli.options import common
from carpctl.errors import EXIT_FAILED, CarpctlError, outcome

#: every command, in the order `carpctl --help` lists them: its module declares its
#: arguments (add_arguments), its one-line HELP and does the work (run)
COMMANDS = {"status": status, "check": check, "exporter": exporter, "watch": watch,
            "failover": failover, "deploy": deploy, "rollback": rollback,
            "maintenance": maintenance, "restore": restore, "run": run, "demo": demo,
            "docs": docs, "inventory": inventory, "init": init, "history": history, "lab": lab}

EPILOG = """exit codes: 0 done; 1 failed (and undone); 2 bad usage or inventory;
3 refused by a preflight check, nothing changed; 4 failed and could not be fully
undone (a person must look). `status` exits 1 when any pair is not healthy.
docs: `carpctl docs` lists the user guide's pages, `carpctl docs TOPIC` prints one;
`carpctl demo` shows everything on an emulated pair."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carpctl", parents=[common()], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Safe orchestration of OpenBSD CARP firewall pairs over SSH.")
    parser.add_argument("--version", action="version", version=f"carpctl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, parents=[common()], help=module.HELP,
                                            description=module.HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:   # said by the command's own parser: `check` has its own error (exit 3)
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    for name in ("inventory", "json", "yes", "accept_new_host_keys"):
        if not hasattr(args, name):
            setattr(args, name, None if name == "inventory" else False)
    from carpctl.cli.output import Output

    out = Output(json_mode=args.json)
    from carpctl.runtime.signals import install, settle

    program = argv is None   # the carpctl process itself, not a caller of main([...])
    if program:
        install()
    code = EXIT_FAILED
    try:
        code = _dispatch(args, out)
    except KeyboardInterrupt:
        pass   # a late Ctrl-C while the outcome was being reported: the outcome stands
    finally:
        if program:
            settle()
    return code


def _dispatch(args: argparse.Namespace, out) -> int:
    """Run the command's handler; every error becomes one line and its exit code."""
    try:
        return COMMANDS[args.command].run(args, out)
    except BrokenPipeError:
        return EXIT_FAILED
    except (Exception, KeyboardInterrupt) as exc:  # a bug: one line, the traceback on request
        if not isinstance(exc, (CarpctlError, KeyboardInterrupt)) \
                and os.environ.get("CARPCTL_DEBUG"):
            raise
        code, message = outcome(exc)
        for line in message.splitlines():  # several inventory mistakes: one line each
            out.error(line)
        if isinstance(exc, CarpctlError) and exc.hint:
            out.note(exc.hint)
        return code
