"""Text utilities: wc head tail grep sort uniq cut tr basename dirname.

Output formats follow OpenBSD: wc prints each count as " %7d", uniq -c as "%4d ".
grep takes POSIX basic regular expressions (extended with -E, fixed with -F),
translated to Python's re.
"""

from __future__ import annotations

import posixpath
import re
import string
from collections.abc import Iterator

from ..proc import Proc, Registry
from .common import Usage, decode, encode, getopt, read_input, usage
from .printing import unescape

REGISTRY = Registry()


def _lines(data: bytes) -> list[str]:
    text = decode(data)
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n") if text else []


def _inputs(proc: Proc, prog: str, names: list[str]) -> Iterator[tuple[str, bytes | None]]:
    for name in names or ["-"]:
        yield name, read_input(proc, prog, name)


@REGISTRY.command("wc")
@usage("wc [-c | -m] [-hlw] [file ...]")
def wc(proc: Proc, argv: list[str]) -> int:
    opts, names = getopt(argv, "chlmw")
    wanted = [flag for flag in "lwc" if flag in opts or (flag == "c" and "m" in opts)] or list("lwc")
    totals, status, shown = [0, 0, 0], 0, 0
    for name, data in _inputs(proc, "wc", names):
        if data is None:
            status = 1
            continue
        counts = [data.count(b"\n"), len(data.split()), len(data)]
        totals = [t + c for t, c in zip(totals, counts)]
        proc.out(_counts(counts, wanted, name if names else None))
        shown += 1
    if shown > 1:
        proc.out(_counts(totals, wanted, "total"))
    return status


def _counts(counts: list[int], wanted: list[str], name: str | None) -> str:
    fields = "".join(f" {count:7d}" for flag, count in zip("lwc", counts) if flag in wanted)
    return fields + (f" {name}\n" if name else "\n")


def _count_option(argv: list[str]) -> list[str]:
    """Historic `head -5` / `tail -5` as `-n 5`."""
    return [f"-n{arg[1:]}" if re.fullmatch(r"-\d+", arg) else arg for arg in argv]


@REGISTRY.command("head")
@usage("head [-count | -n count] [file ...]")
def head(proc: Proc, argv: list[str]) -> int:
    opts, names = getopt(_count_option(argv), "n:")
    count = opts.get("n", "10")
    if not count.isdigit():
        return proc.fail(f"head: count is invalid: {count}")
    status = 0
    for i, (name, data) in enumerate(_inputs(proc, "head", names)):
        if data is None:
            status = 1
            continue
        if len(names) > 1:
            proc.out(("\n" if i else "") + f"==> {name} <==\n")
        proc.stdout += b"".join(data.splitlines(keepends=True)[:int(count)])
    return status


@REGISTRY.command("tail")
@usage("tail [-f | -r] [-b number | -c number | -n number | -number] [file ...]")
def tail(proc: Proc, argv: list[str]) -> int:
    opts, names = getopt(_count_option(argv), "n:")
    count = opts.get("n", "10")
    if not re.fullmatch(r"[+-]?\d+", count):
        return proc.fail(f"tail: {count}: illegal offset")
    status = 0
    for _name, data in _inputs(proc, "tail", names[:1]):
        if data is None:
            status = 1
            continue
        lines = data.splitlines(keepends=True)
        number = int(count.lstrip("+-"))
        proc.stdout += b"".join(lines[number - 1:] if count.startswith("+")
                                else lines[-number:] if number else [])
    return status


_CLASSES = {"[:alpha:]": string.ascii_letters, "[:digit:]": string.digits,
            "[:alnum:]": string.ascii_letters + string.digits,
            "[:upper:]": string.ascii_uppercase, "[:lower:]": string.ascii_lowercase,
            "[:space:]": " \t\n\r\f\v", "[:blank:]": " \t", "[:xdigit:]": string.hexdigits,
            "[:punct:]": string.punctuation}


def _regex(pattern: str, *, extended: bool) -> str:
    """A POSIX BRE/ERE as a Python regex (bracket classes, BRE's \\( \\) \\{ \\})."""
    for name, chars in _CLASSES.items():
        pattern = pattern.replace(name, re.escape(chars))
    if extended:
        return pattern
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(nxt if nxt in "(){}|+?" else c + nxt)
            i += 2
            continue
        out.append("\\" + c if c in "(){}|+?" else c)
        i += 1
    return "".join(out)


@REGISTRY.command("grep")
@usage("grep [-abcEFGHhIiLlnoqRsUVvwxZ] [-e pattern] [pattern] [file ...]", status=2)
def grep(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "cEFhilnqsvwxe:")
    if "e" in opts:
        patterns = opts["e"]
    elif args:
        patterns = args.pop(0)
    else:
        raise Usage("")
    sources = [p if "F" in opts else _regex(p, extended="E" in opts) for p in patterns.split("\n")]
    if "F" in opts:
        sources = [re.escape(p) for p in sources]
    if "w" in opts:
        sources = [rf"\b(?:{p})\b" for p in sources]
    try:
        regex = re.compile("|".join(f"(?:{p})" for p in sources), re.I if "i" in opts else 0)
    except re.error as exc:
        return proc.fail(f"grep: {exc}", 2)
    search = regex.fullmatch if "x" in opts else regex.search
    matched, trouble = False, False
    for name, data in _inputs(proc, "grep", args):
        if data is None:
            trouble = True
            continue
        hits = [(n, line) for n, line in enumerate(_lines(data), 1)
                if bool(search(line)) != ("v" in opts)]
        matched = matched or bool(hits)
        if "q" in opts and matched:
            return 0
        shown = name if name != "-" else "(standard input)"
        prefix = f"{shown}:" if len(args) > 1 and "h" not in opts else ""
        if "l" in opts:
            proc.out(f"{shown}\n" if hits else "")
        elif "c" in opts:
            proc.out(f"{prefix}{len(hits)}\n")
        elif "q" not in opts:
            proc.stdout += encode("".join(f"{prefix}{f'{n}:' if 'n' in opts else ''}{line}\n"
                                          for n, line in hits))
    return 2 if trouble else 0 if matched else 1


def _numeric_key(line: str) -> float:
    match = re.match(r"\s*(-?(?:\d+\.?\d*|\.\d+))", line)
    return float(match.group(1)) if match else 0.0


@REGISTRY.command("sort")
@usage("sort [-nru] [file ...]")
def sort(proc: Proc, argv: list[str]) -> int:
    opts, names = getopt(argv, "nru")
    lines, status = [], 0
    for _, data in _inputs(proc, "sort", names):
        if data is None:
            status = 2
        else:
            lines += _lines(data)
    key = _numeric_key if "n" in opts else None
    lines.sort(key=key, reverse="r" in opts)
    if "u" in opts:
        keyed = key or (lambda line: line)
        lines = [line for i, line in enumerate(lines) if i == 0 or keyed(lines[i - 1]) != keyed(line)]
    proc.stdout += encode("".join(line + "\n" for line in lines))
    return status


@REGISTRY.command("uniq")
@usage("uniq [-c] [-d | -u] [-f fields] [-s chars] [input_file [output_file]]")
def uniq(proc: Proc, argv: list[str]) -> int:
    opts, names = getopt(argv, "cdu")
    data = read_input(proc, "uniq", names[0] if names else "-")
    if data is None:
        return 1
    runs: list[list[str]] = []
    for line in _lines(data):
        if runs and runs[-1][0] == line:
            runs[-1].append(line)
        else:
            runs.append([line])
    for run in runs:
        if ("d" in opts and len(run) == 1) or ("u" in opts and len(run) > 1):
            continue
        proc.stdout += encode(f"{len(run):4d} {run[0]}\n" if "c" in opts else f"{run[0]}\n")
    return 0


def _positions(spec: str) -> list[tuple[int, int | None]]:
    """A cut list (1,3-5,7-) as 1-based inclusive ranges."""
    ranges = []
    for item in spec.split(","):
        match = re.fullmatch(r"(\d*)-?(\d*)", item)
        if not item or not match or (not match.group(1) and not match.group(2)):
            raise Usage("[-bcf] list: illegal list value")
        low = int(match.group(1) or 1)
        high = None if "-" in item and not match.group(2) else int(match.group(2) or low)
        ranges.append((low, high))
    return ranges


@REGISTRY.command("cut")
@usage("cut -b list [-n] [file ...]\n       cut -c list [file ...]\n"
       "       cut -f list [-s] [-d delim] [file ...]")
def cut(proc: Proc, argv: list[str]) -> int:
    opts, names = getopt(argv, "b:c:d:f:s")
    spec = opts.get("f") or opts.get("c") or opts.get("b")
    if not spec:
        raise Usage("")
    ranges = _positions(spec)
    delim = opts.get("d", "\t")[:1] or "\t"

    def wanted(n: int) -> bool:
        return any(low <= n and (high is None or n <= high) for low, high in ranges)

    status, out = 0, []
    for _, data in _inputs(proc, "cut", names):
        if data is None:
            status = 1
            continue
        for line in _lines(data):
            if "f" not in opts:
                out.append("".join(c for n, c in enumerate(line, 1) if wanted(n)))
            elif delim in line:
                out.append(delim.join(f for n, f in enumerate(line.split(delim), 1) if wanted(n)))
            elif "s" not in opts:
                out.append(line)
    proc.stdout += encode("".join(line + "\n" for line in out))
    return status


def _tr_set(spec: str) -> str:
    spec, _ = unescape(spec, octal_needs_zero=False)
    spec = re.sub(r"(.)-(.)", lambda m: "".join(map(chr, range(ord(m[1]), ord(m[2]) + 1))), spec)
    for name, chars in _CLASSES.items():
        spec = spec.replace(name, chars)
    return spec


@REGISTRY.command("tr")
@usage("tr [-cs] string1 string2\n       tr [-c] -d string1\n       tr [-c] -s string1\n"
       "       tr [-c] -ds string1 string2")
def tr(proc: Proc, argv: list[str]) -> int:
    opts, args = getopt(argv, "ds")
    if not args or len(args) > 2 or ("d" not in opts and "s" not in opts and len(args) != 2):
        raise Usage("")
    first = _tr_set(args[0])
    second = _tr_set(args[1]) if len(args) > 1 else ""
    text = decode(proc.stdin)
    if "d" in opts:
        text = "".join(c for c in text if c not in first)
    elif second:
        padded = second + second[-1] * max(0, len(first) - len(second))
        text = text.translate({ord(a): b for a, b in zip(first, padded)})
    if "s" in opts:
        squeeze = second if second else first
        text = re.sub("([" + re.escape(squeeze) + "])\\1+", r"\1", text) if squeeze else text
    proc.stdout += encode(text)
    return 0


@REGISTRY.command("basename")
@usage("basename string [suffix]")
def basename(proc: Proc, argv: list[str]) -> int:
    _, args = getopt(argv, "")
    if not args or len(args) > 2:
        raise Usage("")
    stripped = args[0].rstrip("/")
    name = posixpath.basename(stripped) if stripped else "/" if args[0] else ""
    if len(args) == 2 and name != args[1] and name.endswith(args[1]):
        name = name[:-len(args[1])]
    proc.out(name + "\n")
    return 0


@REGISTRY.command("dirname")
@usage("dirname string")
def dirname(proc: Proc, argv: list[str]) -> int:
    _, args = getopt(argv, "")
    if len(args) != 1:
        raise Usage("")
    stripped = args[0].rstrip("/")
    if not stripped:
        parent = "/" if args[0] else "."
    else:
        parent = posixpath.dirname(stripped).rstrip("/") or ("/" if "/" in stripped else ".")
    proc.out(parent + "\n")
    return 0
