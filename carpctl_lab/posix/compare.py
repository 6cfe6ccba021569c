"""Comparing and fingerprinting files: cmp diff sha256.

diff prints OpenBSD's unified header (`--- file<TAB>ctime(mtime)`, diffreg.c
print_header) and hunk ranges (uni_range); the hunks come from difflib, which
may pick a different but equally valid alignment than OpenBSD's Stone algorithm.
Exit statuses: 0 same, 1 different, 2 trouble.
"""

from __future__ import annotations

import difflib
import hashlib
import time
from collections.abc import Iterator

from ..proc import Proc, Registry
from .common import Usage, absolute, decode, getopt, getopt_all, read_input, usage

REGISTRY = Registry()


@REGISTRY.command("cmp")
@usage("cmp [-l | -s] file1 file2 [skip1 [skip2]]", status=2)
def cmp(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "ls")
    if len(args) != 2:
        raise Usage("")
    silent = "s" in opts
    contents = []
    for name in args:
        data = read_input(proc, "cmp", name) if not silent else _quiet_read(proc, name)
        if data is None:
            return 2
        contents.append(data)
    first, second = contents
    if first == second:
        return 0
    common = next((i for i, (a, b) in enumerate(zip(first, second)) if a != b), None)
    if silent:
        return 1
    if common is None:
        return proc.fail(f"cmp: EOF on {args[0] if len(first) < len(second) else args[1]}")
    line = first[:common].count(b"\n") + 1
    proc.out(f"{args[0]} {args[1]} differ: char {common + 1}, line {line}\n")
    return 1


def _quiet_read(proc: Proc, name: str) -> bytes | None:
    if name == "-":
        return proc.stdin
    try:
        return proc.node.fs.read_bytes(absolute(proc, name), proc.user)
    except OSError:
        return None


@REGISTRY.command("diff")
@usage("diff [-q | -u | -U number] [-L label] file1 file2", status=2)
def diff(proc: Proc, argv: list[str]) -> int:
    pairs, args = getopt_all(argv, "quU:L:")
    opts = dict(pairs)
    labels = [value for flag, value in pairs if flag == "L"]
    if len(args) != 2:
        raise Usage("")
    contents = [read_input(proc, "diff", name) for name in args]
    if None in contents:
        return 2
    old, new = (decode(data).splitlines(keepends=True) for data in contents)  # type: ignore[arg-type]
    if old == new:
        return 0
    if "q" in opts:
        proc.out(f"Files {args[0]} and {args[1]} differ\n")
        return 1
    if "u" in opts or "U" in opts:
        context = int(opts["U"]) if opts.get("U", "").isdigit() else 3
        headers = [labels[i] if i < len(labels) else f"{name}\t{_ctime(proc, name)}"
                   for i, name in enumerate(args)]
        proc.out(f"--- {headers[0]}\n+++ {headers[1]}\n")
        proc.out("".join(_unified(old, new, context)))
    else:
        proc.out("".join(_normal(old, new)))
    return 1


def _ctime(proc: Proc, name: str) -> str:
    mtime = time.time() if name == "-" else proc.node.fs.stat(absolute(proc, name)).mtime
    return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(mtime))


def _line(prefix: str, line: str) -> str:
    if line.endswith("\n"):
        return prefix + line
    return f"{prefix}{line}\n\\ No newline at end of file\n"


def _range(start: int, stop: int) -> str:
    """A hunk range as OpenBSD's uni_range prints it (1-based, ",count" if not 1)."""
    count = stop - start
    if count == 0:
        return f"{start},0"
    return f"{start + 1}" if count == 1 else f"{start + 1},{count}"


def _unified(old: list[str], new: list[str], context: int) -> Iterator[str]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        yield (f"@@ -{_range(group[0][1], group[-1][2])} "
               f"+{_range(group[0][3], group[-1][4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (_line(" ", line) for line in old[i1:i2])
                continue
            yield from (_line("-", line) for line in old[i1:i2])
            yield from (_line("+", line) for line in new[j1:j2])


_NORMAL_LETTERS = {"replace": "c", "delete": "d", "insert": "a"}


def _normal(old: list[str], new: list[str]) -> Iterator[str]:
    def span(start: int, stop: int) -> str:
        return f"{start + 1}" if stop - start == 1 else f"{start + 1},{stop}"

    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        left = span(i1, i2) if i2 > i1 else str(i1)
        right = span(j1, j2) if j2 > j1 else str(j1)
        yield f"{left}{_NORMAL_LETTERS[tag]}{right}\n"
        yield from (_line("< ", line) for line in old[i1:i2])
        if tag == "replace":
            yield "---\n"
        yield from (_line("> ", line) for line in new[j1:j2])


@REGISTRY.command("sha256")
@usage("sha256 [-bchpqrtx] [-C checklist] [-s string] [file ...]")
def sha256(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "qr")
    status = 0
    for name in args or ["-"]:
        data = read_input(proc, "sha256", name)
        if data is None:
            status = 1
            continue
        digest = hashlib.sha256(data).hexdigest()
        if "q" in opts or not args:
            proc.out(f"{digest}\n")
        elif "r" in opts:
            proc.out(f"{digest} {name}\n")
        else:
            proc.out(f"SHA256 ({name}) = {digest}\n")
    return status
