"""Owners and modes: chmod chown chgrp ls stat.

carpctl keeps a file's mode and owner across an edit with `stat -f '%Lp %Su %Sg'`,
so stat follows OpenBSD's format language (usr.bin/stat/stat.c): `%[flags][width]
[D|O|U|X|S][H|M|L]field`. ls -l follows ls/print.c: `mode nlink owner  group  size
date name`, the date as `Mon dd HH:MM`, or `Mon dd  YYYY` when over six months old.
All times are UTC, the lab's time zone.
"""

from __future__ import annotations

import math
import posixpath
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..fs import USERS, Stat
from ..proc import Proc, Registry
from .common import (
    GROUP_IDS,
    Usage,
    absolute,
    failed,
    getopt,
    gid_of,
    parse_mode,
    uid_of,
    usage,
)

REGISTRY = Registry()

_S_IFDIR, _S_IFREG = 0o040000, 0o100000
_SIX_MONTHS = 365 * 86400 / 2


def strmode(st: Stat) -> str:
    """`drwxr-xr-x`, with s/S/t/T for the set-id and sticky bits (strmode(3))."""
    chars = ["d" if st.kind == "dir" else "-"]
    for shift, special, letter in ((6, 0o4000, "s"), (3, 0o2000, "s"), (0, 0o1000, "t")):
        bits = st.mode >> shift
        chars += ["r" if bits & 4 else "-", "w" if bits & 2 else "-"]
        executable = bits & 1
        if st.mode & special:
            chars.append(letter if executable else letter.upper())
        else:
            chars.append("x" if executable else "-")
    return "".join(chars)


def _blocks(st: Stat) -> int:
    """512-byte blocks on an FFS with 2 KB fragments."""
    return 4 * max(1, math.ceil(_size(st) / 2048)) if st.size or st.kind == "dir" else 0


def _size(st: Stat) -> int:
    return 512 if st.kind == "dir" else st.size


def _nlink(proc: Proc, st: Stat) -> int:
    if st.kind != "dir":
        return 1
    fs = proc.node.fs
    return 2 + sum(fs.isdir(posixpath.join(st.path, name)) for name in fs.listdir(st.path))


# -- chmod, chown, chgrp ------------------------------------------------------------
@REGISTRY.command("chmod")
@usage("chmod [-R [-H | -L | -P]] mode file ...")
def chmod(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "R")
    if len(args) < 2:
        raise Usage("")
    fs, status = proc.node.fs, 0
    for name in args[1:]:
        for path, shown in _walk(proc, name, recursive="R" in opts):
            try:
                st = fs.stat(path)
                mode = parse_mode(args[0], st.mode, is_dir=st.kind == "dir")
                if mode is None:
                    return proc.fail(f"chmod: invalid file mode: {args[0]}")
                fs.chmod(path, mode, proc.user)
            except OSError as exc:
                status = failed(proc, "chmod", shown, exc)
    return status


def _walk(proc: Proc, name: str, *, recursive: bool) -> list[tuple[str, str]]:
    """(path, shown name) of `name` and, with -R, everything below it."""
    fs = proc.node.fs
    path = absolute(proc, name)
    found = [(path, name)]
    if recursive and fs.isdir(path):
        for child in fs.listdir(path, proc.user):
            found += _walk(proc, posixpath.join(name, child), recursive=True)
    return found


def _change_owner(proc: Proc, prog: str, argv: list[str],
                  spec: Callable[[str], tuple[str | None, str | None]]) -> int:
    opts, args = getopt(argv, "hR")
    if len(args) < 2:
        raise Usage("")
    owner, group = spec(args[0])
    if owner and owner not in USERS:
        return proc.fail(f"{prog}: unknown user {owner}")
    if group and group not in GROUP_IDS:
        return proc.fail(f"{prog}: unknown group {group}")
    status = 0
    for name in args[1:]:
        for path, shown in _walk(proc, name, recursive="R" in opts):
            try:
                proc.node.fs.chown(path, owner, group, proc.user)
            except OSError as exc:
                status = failed(proc, prog, shown, exc)
    return status


@REGISTRY.command("chown")
@usage("chown [-h] [-R [-H | -L | -P]] owner[:group] file ...\n"
       "       chown [-h] [-R [-H | -L | -P]] :group file ...")
def chown(proc: Proc, argv: list[str]) -> int:
    def owner_and_group(spec: str) -> tuple[str | None, str | None]:
        owner, _, group = spec.partition(":")
        return owner or None, group or None

    return _change_owner(proc, "chown", argv, owner_and_group)


@REGISTRY.command("chgrp")
@usage("chgrp [-h] [-R [-H | -L | -P]] group file ...")
def chgrp(proc: Proc, argv: list[str]) -> int:
    return _change_owner(proc, "chgrp", argv, lambda group: (None, group))


# -- ls ---------------------------------------------------------------------------------
@REGISTRY.command("ls")
@usage("ls [-1AadFlp] [file ...]")
def ls(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "1AadFlp")
    fs, status = proc.node.fs, 0
    files: list[tuple[str, Stat]] = []
    dirs: list[tuple[str, Stat]] = []
    for name in sorted(args or ["."]):
        try:
            st = fs.stat(absolute(proc, name))
        except OSError as exc:
            status = failed(proc, "ls", name, exc)
            continue
        (dirs if st.kind == "dir" and "d" not in opts else files).append((name, st))
    blocks = [_render(proc, files, opts)] if files else []
    for name, st in dirs:
        try:
            entries = _entries(proc, st.path, opts)
        except OSError as exc:
            status = failed(proc, "ls", name, exc)
            continue
        header = f"{name}:\n" if len(args) > 1 else ""
        total = f"total {sum(_blocks(e) for _, e in entries)}\n" if "l" in opts else ""
        blocks.append(header + total + _render(proc, entries, opts))
    proc.out("\n".join(blocks))
    return status


def _entries(proc: Proc, path: str, opts: dict[str, str]) -> list[tuple[str, Stat]]:
    fs = proc.node.fs
    names = fs.listdir(path, proc.user)
    if "a" in opts:
        names = sorted([".", "..", *names])
    elif "A" not in opts:
        names = [n for n in names if not n.startswith(".")]
    return [(name, fs.stat(fs.norm(name, path))) for name in names]


def _render(proc: Proc, entries: list[tuple[str, Stat]], opts: dict[str, str]) -> str:
    def suffix(st: Stat) -> str:
        if st.kind == "dir" and ("F" in opts or "p" in opts):
            return "/"
        return "*" if "F" in opts and st.kind == "file" and st.mode & 0o111 else ""

    if "l" not in opts:
        return "".join(f"{name}{suffix(st)}\n" for name, st in entries)
    links = [_nlink(proc, st) for _, st in entries]
    widths = [max(len(str(v)) for v in column) for column in (
        links, [st.owner for _, st in entries], [st.group for _, st in entries],
        [_size(st) for _, st in entries])]
    now = time.time()
    lines = []
    for (name, st), nlink in zip(entries, links):
        recent = now - _SIX_MONTHS < st.mtime < now + _SIX_MONTHS
        when = time.strftime("%b %e %H:%M" if recent else "%b %e  %Y", time.gmtime(st.mtime))
        lines.append(f"{strmode(st)}  {nlink:>{widths[0]}} {st.owner:<{widths[1]}}  "
                     f"{st.group:<{widths[2]}}  {_size(st):>{widths[3]}} {when} "
                     f"{name}{suffix(st)}\n")
    return "".join(lines)


# -- stat ---------------------------------------------------------------------------------
_DEFAULT_FORMAT = '%d %i %Sp %l %Su %Sg %r %z "%Sa" "%Sm" "%Sc" %k %b %#Xf %N'
_TIME_FORMAT = "%b %e %T %Y"


@dataclass(frozen=True)
class _Datum:
    number: int
    text: str | None  # what the S output format prints
    default: str  # D, O, U or X


@REGISTRY.command("stat")
@usage("stat [-FLnq] [-f format | -l | -r | -s | -x] [-t timefmt] [file ...]")
def stat(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "Lnqf:t:")
    if not args:
        raise Usage("")
    fmt = opts.get("f", _DEFAULT_FORMAT)
    timefmt = opts.get("t", _TIME_FORMAT)
    status = 0
    for name in args:
        try:
            st = proc.node.fs.stat(absolute(proc, name))
        except OSError as exc:
            status = 1 if "q" in opts else failed(proc, "stat", name, exc)
            continue
        try:
            text = _format(proc, st, name, fmt, timefmt)
        except ValueError as exc:
            return proc.fail(f"stat: {exc}: bad format")
        newline = "" if "n" in opts or text.endswith("\n") else "\n"
        proc.out(text + newline)
    return status


_FORMAT = r"%(?P<flags>[-#+ 0]*)(?P<width>\d*)(?:\.\d*)?(?P<out>[DOUXFS]?)(?P<piece>[HML]?)(?P<field>.)"


def _format(proc: Proc, st: Stat, name: str, fmt: str, timefmt: str) -> str:
    def one(match: re.Match[str]) -> str:
        field = match["field"]
        simple = {"n": "\n", "t": "\t", "%": "%"}
        if field in simple and match.group(0) == "%" + field:
            return simple[field]
        datum = _datum(proc, st, name, field, match["piece"], timefmt)
        if datum is None:
            raise ValueError(match.group(0))
        return _render_datum(datum, match["flags"], match["width"], match["out"])

    return re.sub(_FORMAT, one, fmt)


def _datum(proc: Proc, st: Stat, name: str, field: str, piece: str,
           timefmt: str) -> _Datum | None:
    host = proc.node.fs.host(st.path).stat()
    if field == "p":
        full = (_S_IFDIR if st.kind == "dir" else _S_IFREG) | st.mode
        text = strmode(st)
        number, text = {"H": (full >> 12, text[:1]), "M": ((full >> 9) & 0o7, text[1:4]),
                        "L": (full & 0o777, text[1:])}.get(piece, (full, text))
        return _Datum(number, text, "O")
    if field in "amc":
        seconds = int({"a": host.st_atime, "m": st.mtime, "c": host.st_ctime}[field])
        return _Datum(seconds, time.strftime(timefmt, time.gmtime(seconds)), "D")
    values = {
        "d": _Datum(host.st_dev & 0xFFFF, None, "U"),
        "i": _Datum(host.st_ino, None, "U"),
        "l": _Datum(_nlink(proc, st), None, "U"),
        "u": _Datum(uid_of(st.owner), st.owner, "U"),
        "g": _Datum(gid_of(st.group), st.group, "U"),
        "r": _Datum(0, None, "U"),
        "z": _Datum(_size(st), None, "U"),
        "k": _Datum(16384, None, "U"),
        "b": _Datum(_blocks(st), None, "U"),
        "f": _Datum(0, None, "U"),
        "N": _Datum(0, name, "S"),
    }
    return values.get(field)


def _render_datum(datum: _Datum, flags: str, width: str, out: str) -> str:
    out = out or datum.default
    if out == "S" and datum.text is not None:
        text = datum.text
    elif out == "O":
        text = ("0" if "#" in flags and datum.number else "") + format(datum.number, "o")
    elif out == "X":
        text = ("0x" if "#" in flags else "") + format(datum.number, "x")
    else:
        text = str(datum.number)
    if not width:
        return text
    if "-" in flags:
        return text.ljust(int(width))
    return text.rjust(int(width), "0" if "0" in flags and out != "S" else " ")
