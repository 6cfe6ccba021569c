"""carpctl's command line: parse, dispatch, map errors to exit codes. Nothing else.

argparse rather than invoke's parser: the contract's command lines (`status
PAIR...`, `maintenance enter PAIR NODE`, options after positionals) need variadic
positionals and nested sub-commands, which invoke's task parser does not express.
The work is done by flows (carpctl.flows), plain functions usable from Python;
each command's handler is the module carpctl.cli.<command> with a `run(args, out)`.
Heavy libraries (paramiko, fabric, jinja2, rich, asyncssh) are imported only by
the command that needs them, so `carpctl --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from carpctl import __version__
from carpctl.errors import EXIT_FAILED, CarpctlError, outcome

EPILOG = """exit codes: 0 done; 1 failed (and undone); 2 bad usage or inventory;
3 refused by a preflight check, nothing changed; 4 failed and could not be fully
undone (a person must look). `status` exits 1 when any pair is not healthy.
docs: `carpctl docs` lists the user guide's pages, `carpctl docs TOPIC` prints one;
`carpctl demo` shows everything on an emulated pair."""


def _common() -> argparse.ArgumentParser:
    """Options every command accepts, before or after its own arguments."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-i", "--inventory", metavar="PATH", default=argparse.SUPPRESS,
                        help="inventory file or directory (default: $CARPCTL_INVENTORY or inventory/)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print a JSON report on stdout")
    common.add_argument("--yes", "-y", action="store_true", default=argparse.SUPPRESS,
                        help="do not ask for confirmation (for scripts)")
    common.add_argument("--accept-new-host-keys", action="store_true", default=argparse.SUPPRESS,
                        help="trust and record host keys not yet in known_hosts (never a changed one)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="carpctl", parents=[common], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Safe orchestration of OpenBSD CARP firewall pairs over SSH.")
    parser.add_argument("--version", action="version", version=f"carpctl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str, **kw) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help, description=help, **kw)

    p = command("status", "health of every node and a verdict per pair")
    _reading(p)
    p.add_argument("--watch", nargs="?", type=_positive(float), const=2.0, metavar="SECONDS",
                   help="refresh every SECONDS (default 2) until Ctrl-C")

    # -- monitoring (docs/monitoring.md): status --format prometheus, check, exporter, watch
    from carpctl.cli.check import usage_error

    def count(text: str) -> int:
        if not text.isdigit():
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 0 or more")
        return int(text)

    monitored = sub.choices["status"]
    monitored.add_argument("--format", choices=("table", "prometheus"), default="table",
                           help="prometheus: the metrics `carpctl exporter` serves")
    monitored.add_argument("--output", metavar="FILE", help="with --format prometheus: write "
                           "FILE atomically (for node_exporter's textfile collector)")
    p = command("check", "a monitoring plugin: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN")
    _reading(p)
    p.add_argument("--warn", type=count, metavar="N",
                   help="WARNING when the nodes' pf state counts differ by more than N")
    p.add_argument("--crit", type=count, metavar="N",
                   help="CRITICAL when the nodes' pf state counts differ by more than N")
    p.error = usage_error(p)  # type: ignore[method-assign]  # a plugin exits 3, not 2
    p = command("exporter", "serve the pairs' metrics to Prometheus (/metrics) until Ctrl-C")
    _reading(p)
    p.add_argument("--listen", default="127.0.0.1:9732", metavar="HOST:PORT",
                   help="address to serve on (default 127.0.0.1:9732, loopback only)")
    p.add_argument("--max-age", type=_positive(float), default=5.0, metavar="S",
                   help="serve a read to every scrape for S seconds (default 5)")
    p = command("watch", "follow the pairs and print one event per change until Ctrl-C")
    _reading(p)
    p.add_argument("--interval", type=_positive(float), default=5.0, metavar="S",
                   help="seconds between reads (default 5)")
    p.add_argument("--exec", metavar="CMD",
                   help="run CMD (with /bin/sh) for each event, the event as JSON on its stdin")
    p.add_argument("--exec-timeout", type=_positive(float), default=10.0, metavar="S",
                   help="kill the hook after S seconds (default 10)")

    p = command("failover", "hand MASTER to the other node, verified, undone on failure")
    p.add_argument("pair", nargs="?", metavar="PAIR", help="may be omitted with one pair")
    p.add_argument("--to", required=True, metavar="peer|NODE",
                   help="`peer`: the node that is not MASTER now; or a node's name")
    p.add_argument("--method", choices=("advskew", "carpdemote"),
                   help="default: the pair's failover.method (advskew)")
    p.add_argument("--timeout", type=_positive(float), metavar="S",
                   help="seconds to wait for the take-over")
    p.add_argument("--keep-demoted", action="store_true",
                   help="leave the old MASTER demoted (do not restore its advskew/demote counter)")
    p.add_argument("--force", action="store_true", help="go on despite a split or double MASTER")
    _lock_options(p)

    p = command("deploy", "render, validate, install and apply the pair's files, BACKUP first")
    p.add_argument("pairs", nargs="+", metavar="PAIR")
    p.add_argument("--check", action="store_true", help="validate and show diffs, change nothing")
    p.add_argument("--diff", action="store_true", help="show diffs and go on")
    p.add_argument("--only", action="append", metavar="pf|relayd|FILE",
                   help="deploy only these files (repeatable)")
    p.add_argument("--handoff", action="store_true",
                   help="hand MASTER to the updated BACKUP before updating the MASTER")
    p.add_argument("--hand-back", action="store_true",
                   help="with --handoff: give MASTER back to the original node at the end")
    p.add_argument("--confirm-timeout", type=_positive(float), metavar="S",
                   help="seconds before a node restores its old pf rules unless confirmed")
    p.add_argument("--parallel", type=_positive(int), default=1, metavar="N",
                   help="pairs deployed at once")
    p.add_argument("--fail-fast", action="store_true", help="stop other pairs after a failure")
    _lock_options(p)

    p = command("rollback", "put back the configuration a deploy replaced")
    p.add_argument("pair", metavar="PAIR")
    p.add_argument("--node", metavar="NODE", help="only this node (default: both)")
    p.add_argument("--to", metavar="RUN", help="the deploy run whose backups to restore "
                   "(default: the last deploy)")
    _lock_options(p)

    p = command("maintenance", "keep a node out of MASTER, persistently, until exit")
    p.add_argument("action", choices=("enter", "exit"))
    p.add_argument("pair", metavar="PAIR")
    p.add_argument("node", metavar="NODE")
    p.add_argument("--failback", action="store_true", help="on exit: hand MASTER back to NODE")
    _lock_options(p)

    p = command("restore", "put a node back to its /etc/hostname.carpN and /etc/sysctl.conf")
    p.add_argument("pair", metavar="PAIR")
    p.add_argument("node", metavar="NODE")
    p.add_argument("--check", action="store_true", help="print the commands, change nothing")
    _lock_options(p)

    p = command("run", "run a maintenance window from a playbook")
    p.add_argument("playbook", nargs="?", metavar="PLAYBOOK")
    p.add_argument("pairs", nargs="*", metavar="PAIR")
    p.add_argument("--check", action="store_true", help="print the plan, change nothing")
    p.add_argument("--resume", metavar="RUN", help="resume a failed or interrupted run")
    p.add_argument("--list", action="store_true", help="list the playbooks shipped with carpctl")
    _lock_options(p)

    command("demo", "start a lab pair and show carpctl on it, step by step")

    p = command("docs", "print a page of the user guide (without TOPIC: the list of pages)")
    p.add_argument("topic", nargs="?", metavar="TOPIC", help="e.g. failover, playbooks, guide")

    p = command("inventory", "check, list or show the inventory")
    inv = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    inv.add_parser("check", parents=[common], help="validate the inventory and render every file")
    inv.add_parser("list", parents=[common], help="pairs, nodes and how each is reached")
    q = inv.add_parser("show", parents=[common],
                       help="how one node is reached, and where each setting came from")
    q.add_argument("node", metavar="NODE", help="NODE, or PAIR/NODE")

    p = command("init", "write a starter inventory and templates to edit")
    p.add_argument("directory", type=Path, metavar="DIR", help="where to write them")

    p = command("history", "what carpctl did, when, by whom, with what result")
    p.add_argument("run", nargs="?", metavar="RUN", help="show one run in detail")
    p.add_argument("--limit", type=_positive(int), default=30,
                   help="how many runs to list (default 30)")

    p = command("lab", "the emulated OpenBSD lab on 127.0.0.1")
    lab = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = lab.add_parser("up", parents=[common], help="start a lab and write its inventory")
    up.add_argument("--pairs", type=_positive(int), default=1, help="how many pairs (default 1)")
    up.add_argument("--detach", action="store_true", help="run in the background")
    up.add_argument("--advskew", metavar="A,B", help="the two nodes' advskew (default 0,100)")
    up.add_argument("--preempt", metavar="on|off,on|off",
                    help="net.inet.carp.preempt of the two nodes (default on,on)")
    up.add_argument("--advbase", type=int, metavar="N", help="advbase of every vhid (default 1)")
    for name, help in (("down", "stop a detached lab"), ("status", "the emulated truth"),
                       ("fault", "inject a fault"), ("log", "commands a node ran")):
        q = lab.add_parser(name, parents=[common], help=help)
        if name == "fault":
            q.add_argument("fault", help="crash, power-on, reboot [DOWNTIME], ssh-down [off], "
                           "refuse-ssh [off], link DEV up|down, preempt on|off, allow on|off, "
                           "webhost ADDR up|down, slow SECONDS [REGEX], drop REGEX [COUNT [after]], "
                           "doas permit|deny, disk-full [off], syspatch NAME..., clear, "
                           "relayd-fail [off], reorder-kernel [SECONDS], carp-pass KEY "
                           "[persistent], carp-garbage DEV ttl|short|checksum|version [COUNT]")
            q.add_argument("target", help="PAIR/NODE (PAIR for webhost)")
            q.add_argument("values", nargs="*")
        if name == "log":
            q.add_argument("target", help="PAIR/NODE")
    for q in lab.choices.values():
        q.add_argument("--dir", type=Path, default=Path("lab"),
                       help="the lab's directory (default ./lab)")
    return parser


def _positive(kind: type):
    """An argparse type: a number above 0 (a usage error, exit 2, otherwise)."""
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
        return value
    return convert


def _reading(p: argparse.ArgumentParser) -> None:
    """The pairs to read, and how many nodes at once: status, check, exporter, watch."""
    p.add_argument("pairs", nargs="*", metavar="PAIR", help="pair names, or `all` (default)")
    p.add_argument("--parallel", type=_positive(int), default=16, metavar="N",
                   help="nodes queried at once (default 16)")


def _lock_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--break-lock", action="store_true",
                   help="remove a stale lock left by a run that died")


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
        import importlib

        handler = importlib.import_module(f"carpctl.cli.{args.command}")
        return handler.run(args, out)
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
