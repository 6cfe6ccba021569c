"""`carpctl lab ...`: the emulated lab, from a shell."""

from __future__ import annotations

import importlib
import time
from argparse import Namespace
from types import ModuleType

from carpctl.cli.output import Output
from carpctl.errors import EXIT_OK, UsageError


def lab_module(name: str) -> ModuleType:
    """carpctl_lab.NAME, or a usage error saying how to install the `lab` extra."""
    try:
        return importlib.import_module(f"carpctl_lab.{name}")
    except ImportError as exc:
        if exc.name not in ("asyncssh", "carpctl_lab") and not (exc.name or "").startswith(
                ("asyncssh.", "carpctl_lab.")):
            raise
        raise UsageError("the lab is not installed: it comes with the `lab` extra "
                         "(pip install 'carpctl[lab]')") from None


def run(args: Namespace, out: Output) -> int:
    lab_cli = lab_module("cli")

    directory = args.dir
    try:
        if args.action == "up":
            shape = lab_cli.shape_options(args.advskew, args.preempt, args.advbase)
            return lab_cli.up(directory, args.pairs, detach=args.detach, shape=shape,
                              out=out.line)
        if args.action == "down":
            return lab_cli.down(directory, out=out.line)
        if args.action == "status":
            truth = lab_cli.truth(directory)
            if out.json_mode:
                out.json(truth)
            else:
                out.table(["pair", "node", "power", "demote", "preempt", "carp"],
                          lab_cli.status_rows(truth), title=f"lab {directory}")
            return EXIT_OK
        if args.action == "fault":
            lab_cli.fault(directory, args.fault, args.target, args.values)
            out.line(f"{args.fault} {args.target} {' '.join(args.values)}".rstrip())
            return EXIT_OK
        entries = lab_cli.log(directory, args.target)
        if out.json_mode:
            out.json(entries)
        else:
            out.table(["time", "user", "exit", "ms", "command"],
                      [[time.strftime("%H:%M:%S", time.localtime(e["time"])), e["user"],
                        "cut" if e["status"] is None else e["status"],
                        f"{e['duration'] * 1000:.0f}", e["command"]] for e in entries])
        return EXIT_OK
    except (ValueError, IndexError, KeyError, lab_cli.control.LabNotRunning) as exc:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc  # no repr quotes
        raise UsageError(f"lab {args.action}: {text}") from None
