"""The emulated doas(1): rules from the node's /etc/doas.conf, never a prompt.

The lab has no terminal, so a rule without `nopass` can never succeed: with -n
doas says `Authentication required`, without it `a tty is required`
(openbsd-reference.md section 9). The last matching rule wins, as in doas.conf(5).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..fs import USERS
from ..proc import Proc, Registry

REGISTRY = Registry()


@dataclass(frozen=True)
class Rule:
    permit: bool
    nopass: bool
    identity: str
    target: str | None
    cmd: str | None
    args: tuple[str, ...] | None


def parse_rules(text: str) -> list[Rule]:
    rules = []
    for raw in text.splitlines():
        words = shlex.split(raw.split("#", 1)[0])
        if not words or words[0] not in ("permit", "deny"):
            continue
        permit, rest = words[0] == "permit", words[1:]
        options = set()
        while rest and rest[0] in ("nopass", "nolog", "persist", "keepenv"):
            options.add(rest.pop(0))
        if rest and rest[0] == "setenv":
            rest = rest[rest.index("}") + 1:] if "}" in rest else []
        if not rest:
            continue
        identity, rest = rest[0], rest[1:]
        target = cmd = None
        args = None
        if len(rest) >= 2 and rest[0] == "as":
            target, rest = rest[1], rest[2:]
        if len(rest) >= 2 and rest[0] == "cmd":
            cmd, rest = rest[1], rest[2:]
            if rest and rest[0] == "args":
                args = tuple(rest[1:])
        rules.append(Rule(permit, "nopass" in options, identity, target, cmd, args))
    return rules


def _matches(rule: Rule, user: str, target: str, argv: list[str]) -> bool:
    if rule.identity.startswith(":"):
        groups = USERS.get(user, (0, user, frozenset()))[2]
        if rule.identity[1:] not in groups:
            return False
    elif rule.identity != user:
        return False
    if (rule.target or "root") != target:
        return False
    if rule.cmd is not None and rule.cmd != argv[0]:
        return False
    return rule.args is None or rule.args == tuple(argv[1:])


@REGISTRY.command("doas", locked=False)
def doas(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    args = argv[1:]
    interactive, target = True, "root"
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "-n":
            interactive = False
        elif flag == "-u" and args:
            target = args.pop(0)
        elif flag == "--":
            break
        else:
            return proc.fail("usage: doas [-Lns] [-a style] [-C config] [-u user] command [arg ...]")
    if not args:
        return proc.fail("usage: doas [-Lns] [-a style] [-C config] [-u user] command [arg ...]")
    try:
        text = node.fs.read_text("/etc/doas.conf")
    except OSError:
        return proc.fail("doas: doas is not enabled, /etc/doas.conf: No such file or directory")
    chosen = None
    for rule in parse_rules(text):
        if _matches(rule, proc.user, target, args):
            chosen = rule
    if chosen is None or not chosen.permit or node.faults.doas_denied:
        return proc.fail("doas: Operation not permitted")
    if not chosen.nopass:
        return proc.fail("doas: Authentication required" if not interactive
                         else "doas: a tty is required")
    if node.registry.get(args[0].rsplit("/", 1)[-1]) is None and args[0] not in ("sh", "ksh"):
        return proc.fail(f"doas: {args[0]}: command not found")
    from ..shell import run as run_shell
    status, out, err = run_shell(node, target, shlex.join(args), stdin=proc.stdin,
                                 env=dict(proc.env, USER=target, LOGNAME=target), cwd=proc.cwd)
    proc.stdout += out
    proc.stderr += err
    return status
