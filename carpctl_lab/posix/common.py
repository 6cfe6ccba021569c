"""Helpers every emulated utility needs: paths, permissions, options, messages.

Messages follow BSD err(3): `prog: operand: strerror(errno)`. Options follow
getopt(3): clustered flags, `--`, parsing stops at the first operand, and an
unknown flag prints `prog: unknown option -- x` and the usage line, exit 1.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable

from ..fs import USERS, NodeFS
from ..proc import Command, Proc

READ, WRITE, EXECUTE = 4, 2, 1


def access(fs: NodeFS, path: str, user: str, bit: int) -> bool:
    """Whether `user` may read/write/search `path` (fs.py keeps the rule private)."""
    return fs._allowed(fs.norm(path), user, bit)  # noqa: SLF001 - no public check in fs.py yet


def absolute(proc: Proc, path: str) -> str:
    return proc.node.fs.norm(path, proc.cwd)


def decode(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def failed(proc: Proc, prog: str, operand: str, exc: OSError) -> int:
    """Print `prog: operand: strerror` and return 1."""
    return proc.fail(f"{prog}: {operand}: {os.strerror(exc.errno)}")


class Usage(Exception):
    """Bad options or operands; the message (if any) precedes the usage line."""


def getopt(argv: list[str], optstring: str) -> tuple[dict[str, str], list[str]]:
    """Flags of argv[1:] as {flag: argument or ""} (the last one wins) and operands."""
    pairs, args = getopt_all(argv, optstring)
    return dict(pairs), args


def getopt_all(argv: list[str], optstring: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Every flag of argv[1:] in order, for options that may repeat (diff -L)."""
    opts: list[tuple[str, str]] = []
    args = argv[1:]
    while args and args[0].startswith("-") and args[0] != "-":
        arg = args.pop(0)
        if arg == "--":
            break
        for i, flag in enumerate(arg[1:], 1):
            spec = optstring.find(flag)
            if flag == ":" or spec < 0:
                raise Usage(f"unknown option -- {flag}")
            if optstring[spec + 1:spec + 2] != ":":
                opts.append((flag, ""))
                continue
            value = arg[i + 1:] or (args.pop(0) if args else None)
            if value is None:
                raise Usage(f"option requires an argument -- {flag}")
            opts.append((flag, value))
            break
    return opts, args


def usage(synopsis: str, status: int = 1) -> Callable[[Command], Command]:
    """Turn a Usage raised by the command into its message and `usage: synopsis`."""
    def wrap(func: Command) -> Command:
        @functools.wraps(func)
        def run(proc: Proc, argv: list[str]) -> int:
            try:
                return func(proc, argv)
            except Usage as exc:
                if str(exc):
                    proc.err(f"{os.path.basename(argv[0])}: {exc}\n")
                return proc.fail(f"usage: {synopsis}", status)
        return run
    return wrap


def read_input(proc: Proc, prog: str, operand: str) -> bytes | None:
    """The bytes of a file operand (`-` is stdin); None after printing the error."""
    if operand == "-":
        return proc.stdin
    try:
        return proc.node.fs.read_bytes(absolute(proc, operand), proc.user)
    except OSError as exc:
        failed(proc, prog, operand, exc)
        return None


# Group ids of the groups in fs.USERS, as in OpenBSD's /etc/group.
GROUP_IDS = {"wheel": 0, "daemon": 1, "kmem": 2, "operator": 5, "admin": 1000}


def uid_of(user: str) -> int:
    return USERS[user][0] if user in USERS else -1


def gid_of(group: str) -> int:
    return GROUP_IDS.get(group, -1)


def parse_mode(spec: str, current: int, *, is_dir: bool = False) -> int | None:
    """A chmod(1) mode: octal, or symbolic clauses like u+x,go-rwx; None if invalid."""
    if re.fullmatch(r"[0-7]{1,4}", spec):
        return int(spec, 8)
    mode = current
    for clause in spec.split(","):
        match = re.fullmatch(r"([ugoa]*)((?:[-+=][rwxXst]*)+)", clause)
        if not match:
            return None
        who = match.group(1) or "a"
        for op, perms in re.findall(r"([-+=])([rwxXst]*)", match.group(2)):
            bits = _symbolic_bits(who, perms, mode, is_dir)
            if op == "+":
                mode |= bits
            elif op == "-":
                mode &= ~bits
            else:
                mode = (mode & ~_symbolic_bits(who, "rwxst", 0o7777, is_dir)) | bits
    return mode


def _symbolic_bits(who: str, perms: str, mode: int, is_dir: bool) -> int:
    classes = {"u": 0o4700, "g": 0o2070, "o": 0o0007}
    mask = sum(classes[c] for c in set(who.replace("a", "ugo")))
    bits = 0
    for perm in perms:
        if perm == "X":
            perm = "x" if mode & 0o111 or is_dir else ""
        bits |= {"r": 0o444, "w": 0o222, "x": 0o111, "s": 0o6000, "t": 0o1000, "": 0}[perm]
    return bits & (mask | (0o1000 if "t" in perms else 0))
