"""`carpctl lab ...`: the emulated lab, from a shell."""

from __future__ import annotations

import time
from argparse import ArgumentParser, Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from carpctl.cli.options import common, positive
from carpctl.cli.output import Output
from carpctl.errors import EXIT_OK, UsageError

HELP = "the emulated OpenBSD lab on 127.0.0.1"
FAULTS = ("crash, power-on, reboot [DOWNTIME], ssh-down [off], refuse-ssh [off], link DEV "
          "up|down, preempt on|off, allow on|off, webhost ADDR up|down, slow SECONDS [REGEX], "
          "drop REGEX [COUNT [after]], doas permit|deny, disk-full [off], syspatch NAME..., "
          "clear, relayd-fail [off], reorder-kernel [SECONDS], carp-pass KEY [persistent], "
          "carp-garbage DEV ttl|short|checksum|version [COUNT]")


def add_arguments(p: ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser("up", parents=[common()], help="start a lab and write its inventory")
    up.add_argument("--pairs", type=positive(int), default=1, help="how many pairs (default 1)")
    up.add_argument("--detach", action="store_true", help="run in the background")
    up.add_argument("--advskew", metavar="A,B", help="the two nodes' advskew (default 0,100)")
    up.add_argument("--preempt", metavar="on|off,on|off",
                    help="net.inet.carp.preempt of the two nodes (default on,on)")
    up.add_argument("--advbase", type=int, metavar="N", help="advbase of every vhid (default 1)")
    actions.add_parser("down", parents=[common()], help="stop a detached lab")
    actions.add_parser("status", parents=[common()], help="the emulated truth")
    fault = actions.add_parser("fault", parents=[common()], help="inject a fault")
    fault.add_argument("fault", help=FAULTS)
    fault.add_argument("target", help="PAIR/NODE (PAIR for webhost)")
    fault.add_argument("values", nargs="*")
    log = actions.add_parser("log", parents=[common()], help="commands a node ran")
    log.add_argument("target", help="PAIR/NODE")
    for action in actions.choices.values():
        action.add_argument("--dir", type=Path, default=Path("lab"),
                            help="the lab's directory (default ./lab)")


@contextmanager
def lab_extra() -> Iterator[None]:
    """Around an import of carpctl_lab (inside a function: the product imports it nowhere
    else): without the `lab` extra, a usage error saying how to install it."""
    try:
        yield
    except ImportError as exc:
        if exc.name not in ("asyncssh", "carpctl_lab") and not (exc.name or "").startswith(
                ("asyncssh.", "carpctl_lab.")):
            raise
        raise UsageError("the lab is not installed: it comes with the `lab` extra "
                         "(pip install 'carpctl[lab]')") from None


def run(args: Namespace, out: Output) -> int:
    with lab_extra():
        from carpctl_lab import cli as lab_cli

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
