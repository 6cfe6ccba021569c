"""The options every command shares, and the argparse pieces several commands use.

Each command module (carpctl.cli.<command>) declares its own arguments with these;
argparse only, so building the parser for `carpctl --help` stays fast.
"""

from __future__ import annotations

import argparse


def common() -> argparse.ArgumentParser:
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


def positive(kind: type):
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


def reading(p: argparse.ArgumentParser) -> None:
    """The pairs to read, and how many nodes at once: status, check, exporter, watch."""
    p.add_argument("pairs", nargs="*", metavar="PAIR", help="pair names, or `all` (default)")
    p.add_argument("--parallel", type=positive(int), default=16, metavar="N",
                   help="nodes queried at once (default 16)")


def lock_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--break-lock", action="store_true",
                   help="remove a stale lock left by a run that died")
