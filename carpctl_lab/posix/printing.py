"""Printing: echo and printf.

echo behaves as ksh's builtin (bin/ksh/c_ksh.c): -n, -e, -E, and backslash
escapes interpreted by default, \\c ending all output. printf reuses its
format while arguments remain, as printf(1) does.
"""

from __future__ import annotations

import re

from ..proc import Proc, Registry
from .common import Usage, usage

REGISTRY = Registry()

_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n", "r": "\r",
            "t": "\t", "v": "\v", "\\": "\\"}


def unescape(text: str, *, octal_needs_zero: bool) -> tuple[str, bool]:
    """Backslash escapes of echo/%b (\\0NNN) or of a printf format (\\NNN).

    Returns the text and whether a \\c asked to stop all further output.
    """
    out: list[str] = []
    digits = r"0([0-7]{0,3})" if octal_needs_zero else r"([0-7]{1,3})"
    pattern = re.compile(r"\\(?:" + digits + r"|(.))", re.S)
    pos = 0
    for match in pattern.finditer(text):
        out.append(text[pos:match.start()])
        pos = match.end()
        octal, char = match.groups()
        if octal is not None:
            out.append(chr(int(octal or "0", 8)))
        elif char == "c":
            return "".join(out), True
        else:
            out.append(_ESCAPES.get(char, "\\" + char))
    out.append(text[pos:])
    return "".join(out), False



@REGISTRY.command("echo")
def echo(proc: Proc, argv: list[str]) -> int:
    args, newline, escapes = argv[1:], True, True
    while args and re.fullmatch(r"-[neE]+", args[0]):
        flags = args.pop(0)
        newline = newline and "n" not in flags
        escapes = flags.rfind("E") < flags.rfind("e") if "E" in flags else escapes
    text = " ".join(args)
    stop = False
    if escapes:
        text, stop = unescape(text, octal_needs_zero=True)
    proc.out(text + ("\n" if newline and not stop else ""))
    return 0


@REGISTRY.command("printf")
@usage("printf format [argument ...]")
def printf(proc: Proc, argv: list[str]) -> int:
    if len(argv) < 2:
        raise Usage("")
    fmt, args = argv[1], argv[2:]
    status = 0
    conversion = re.compile(r"%([-+ #0]*)(\*|\d*)(?:\.(\*|\d*))?([diouxXcsbfeEgG%])")
    while True:
        used = 0
        pieces: list[str] = []
        pos = 0
        for match in conversion.finditer(fmt):
            literal, stop = unescape(fmt[pos:match.start()], octal_needs_zero=False)
            pieces.append(literal)
            if stop:
                proc.out("".join(pieces))
                return status
            pos = match.end()
            flags, width, precision, kind = match.groups()
            if kind == "%":
                pieces.append("%")
                continue

            def take(args: list[str] = args) -> str:
                nonlocal used
                value = args[used] if used < len(args) else ""
                used += 1 if used < len(args) else 0
                return value

            if width == "*":
                width = take()
            if precision == "*":
                precision = take()
            text, stop, ok = _convert(kind, flags, width, precision, take())
            if not ok:
                status = proc.fail(f"printf: {text}: invalid number") if text else 1
                text = "0"
            pieces.append(text)
            if stop:
                proc.out("".join(pieces))
                return status
        literal, stop = unescape(fmt[pos:], octal_needs_zero=False)
        proc.out("".join(pieces) + literal)
        if stop or not used or used >= len(args):
            return status
        args = args[used:]


def _convert(kind: str, flags: str, width: str, precision: str | None,
             arg: str) -> tuple[str, bool, bool]:
    """One printf conversion: (text, stop output, argument was valid)."""
    spec = f"%{flags}{width}{'.' + precision if precision is not None else ''}"
    if kind == "b":
        text, stop = unescape(arg, octal_needs_zero=True)
        return (spec + "s") % text, stop, True
    if kind in "sc":
        return (spec + "s") % (arg[:1] if kind == "c" else arg), False, True
    try:
        if arg[:1] in ("'", '"'):
            number: float = ord(arg[1]) if len(arg) > 1 else 0
        elif kind in "feEgG":
            number = float(arg or 0)
        else:
            number = int(arg or "0", 0) if not re.fullmatch(r"-?0[0-7]+", arg) else int(arg, 8)
    except ValueError:
        return arg, False, False
    kind = "d" if kind in "iu" else kind
    return (spec + kind) % number, False, True
