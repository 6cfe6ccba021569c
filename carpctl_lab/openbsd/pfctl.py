"""The emulated pfctl(8): -nf/-f with pf.conf checking, -e/-d, -s info|rules|states, -F.

Actions run in pfctl's own order whatever the flag order (reference section 4):
-d, show, flush, rules (-f), -e. Status messages go to stderr.
"""

from __future__ import annotations

from ..conf.pf import PfSyntaxError, check_pf
from ..proc import Proc, Registry

REGISTRY = Registry()
WITH_ARGUMENT = set("afFsDtTkKxopL")
COUNTERS = ("match", "bad-offset", "fragment", "short", "normalize", "memory",
            "bad-timestamp", "congestion", "ip-option", "proto-cksum", "state-mismatch",
            "state-insert", "state-limit", "src-limit", "synproxy", "translate", "no-route")


class Usage(Exception):
    pass


def getopt(args: list[str]) -> tuple[dict[str, str], set[str]]:
    """BSD getopt for pfctl's flags: bundles (-nf FILE, -si) and -sX arguments."""
    values: dict[str, str] = {}
    flags: set[str] = set()
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        word = args[i][1:]
        i += 1
        while word:
            letter, word = word[0], word[1:]
            if letter in WITH_ARGUMENT:
                if not word:
                    if i >= len(args):
                        raise Usage(f"option requires an argument -- {letter}")
                    word = args[i]
                    i += 1
                values[letter] = word
                word = ""
            else:
                flags.add(letter)
    if i < len(args):
        raise Usage(f"unexpected argument {args[i]}")
    return values, flags


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days} days {hours:02d}:{minutes:02d}:{secs:02d}"


def show_info(node, verbose: bool) -> str:
    pf = node.pf
    uptime = max(1.0, node.now() - pf.changed)
    state = "Enabled" if pf.enabled else "Disabled"
    status = f"Status: {state} for {_duration(uptime)}"
    lines = [f"{status:<44}{'Debug: err':>15}", ""]
    if verbose:
        checksum = pf.ruleset.checksum if pf.ruleset is not None else "0" * 32
        lines += [f"Hostid:   0x{abs(hash(node.name)) & 0xffffffff:08x}",
                  f"Checksum: 0x{checksum}", ""]
    states = node.pair.pf_states(node)
    searches = int(uptime * 150) + states
    inserts = int(uptime) + states
    lines.append(f"{'State Table':<27} {'Total':>14} {'Rate':>16}")
    lines.append(f"  {'current entries':<25} {states:>14} {'':>14}")
    lines.append(f"  {'half-open tcp':<25} {0:>14} {'':>14}")
    for name, count in (("searches", searches), ("inserts", inserts),
                        ("removals", inserts - states)):
        lines.append(f"  {name:<25} {count:>14} {count / uptime:>14.1f}/s")
    lines.append("Counters")
    for name in COUNTERS:
        count = int(uptime * 5) if name == "match" else 0
        lines.append(f"  {name:<25} {count:>14} {count / uptime:>14.1f}/s")
    return "\n".join(lines) + "\n"


def show_states(node) -> str:
    address = node.pair.spec.carp[0].address
    count = node.pair.pf_states(node)
    return "".join(f"all tcp {address}:80 <- 203.0.113.{i % 250 + 1}:{40000 + i}"
                   f"       ESTABLISHED:ESTABLISHED\n" for i in range(count))


def anchor_paths(node) -> list[str]:
    """The rulesets below main, as pfctl_walk_anchors visits them (sorted, parents first).

    `anchor "a/b"` creates rulesets `a` and `a/b`; a wildcard `relayd/*` creates
    `relayd`; relayd, while it runs, keeps one `relayd/NAME` per redirect.
    A path starting with `_` is shown only with -v (pfctl_walk_show).
    """
    paths: set[str] = set()
    names = list(node.pf.ruleset.anchor_names) if node.pf.ruleset is not None else []
    if node.relayd.running and node.relayd.config is not None:
        names += [f"relayd/{r.name}" for r in node.relayd.config.redirects]
    for name in names:
        parts = [p for p in name.removesuffix("/*").split("/") if p]
        paths.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return sorted(paths, key=lambda path: path.split("/"))


def _load(proc: Proc, path: str, test_only: bool):
    """Parse a ruleset file; print pfctl's errors and return None when it is refused."""
    fs = proc.node.fs
    try:
        text = fs.read_text(fs.norm(path, proc.cwd), proc.user)
    except OSError as exc:
        proc.err(f"pfctl: pushfile: {path}: {exc.strerror}\n"
                 f"pfctl: cannot open the main config file!: {exc.strerror}\n")
        if not test_only:
            proc.err("pfctl: Syntax error in config file: pf rules not loaded\n")
        return None
    try:
        return check_pf(text, path, lambda p: fs.read_text(fs.norm(p, proc.cwd), proc.user))
    except PfSyntaxError as exc:
        proc.err("".join(line + "\n" for line in exc.errors))
        if not test_only:
            proc.err("pfctl: Syntax error in config file: pf rules not loaded\n")
        return None


@REGISTRY.command("pfctl")
def pfctl(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    node.pair.advance()
    try:
        values, flags = getopt(argv[1:])
    except Usage as exc:
        return proc.fail(f"pfctl: {exc}\nusage: pfctl [-deghNnPqrvz] [-a anchor] [-D macro=value] "
                         f"[-F modifier] [-f file] [-i interface] [-K key] [-k key] [-L statefile] "
                         f"[-o level] [-p device] [-S statefile] [-s modifier [-R id]] [-t table "
                         f"-T command [address ...]] [-V rdomain] [-x level]")
    test_only = "n" in flags
    quiet = "q" in flags
    if not proc.root and not (test_only and set(values) <= {"f"}):
        return proc.fail("pfctl: /dev/pf: Permission denied")
    status = 0
    if "d" in flags and not test_only:
        if not node.pf.enabled:
            status = proc.fail("pfctl: pf not enabled")
        else:
            node.pf.enabled, node.pf.changed = False, node.now()
            if not quiet:
                proc.err("pf disabled\n")
    show = values.get("s")
    if show:
        kind = show[0]
        if kind == "i":
            proc.out(show_info(node, "v" in flags))
        elif kind == "r":
            rules = node.pf.ruleset.rules if node.pf.ruleset is not None else ()
            proc.out("".join(rule + "\n" for rule in rules))
        elif kind == "s":
            proc.out(show_states(node))
        elif kind == "A":
            proc.out("".join(f"  {path}\n" for path in anchor_paths(node)
                             if not path.startswith("_") or "v" in flags))
        elif kind == "T":
            tables = node.pf.ruleset.tables if node.pf.ruleset is not None else ()
            proc.out("".join(f"{t.name}\n" for t in tables))
        else:
            return proc.fail(f"pfctl: Unknown show modifier '{show}'")
    flush = values.get("F")
    if flush and not test_only:
        if flush[0] in ("s", "a"):
            proc.err(f"{node.pair.pf_states(node)} states cleared\n")
        if flush[0] in ("r", "a"):
            node.pf.ruleset = None
            proc.err("rules cleared\n")
    if "f" in values:
        ruleset = _load(proc, values["f"], test_only)
        if ruleset is None:
            return 1
        if not test_only:
            node.pf.ruleset = ruleset
    if "e" in flags and not test_only:
        if node.pf.enabled:
            status = proc.fail("pfctl: pf already enabled")
        else:
            node.pf.enabled, node.pf.changed = True, node.now()
            if not quiet:
                proc.err("pf enabled\n")
    return status
