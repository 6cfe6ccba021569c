"""The emulated relayd(8) daemon and relayctl(8) (reference sections 5 and 6).

Web host health is the pair's state (a fault sets a host down); nothing is
probed over the network. Checks are counted from relayd's start at its
configured interval, so availability figures move like a real relayd's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..conf.relayctl_view import HostHealth, show_rows
from ..conf.relayd import RelaydSyntaxError, parse_relayd
from ..proc import Proc, Registry

REGISTRY = Registry()
CONF = "/etc/relayd.conf"
SOCKET = "/var/run/relayd.sock"


def _parse(node, path: str):
    """The parsed file, or the error lines relayd would print."""
    fs = node.fs
    try:
        text = fs.read_text(path)
    except OSError as exc:
        return None, [f"pushfile: {path}: {exc.strerror}"]
    try:
        return parse_relayd(text, path, lambda p: fs.read_text(p)), []
    except RelaydSyntaxError as exc:
        return None, exc.errors


def relayd_configtest(node, path: str = CONF):
    config, _ = _parse(node, path)
    return config


def relayd_start(node) -> bool:
    """rc.d/relayd start: `relayd -n` first, then the daemon (which a fault can make die)."""
    config = relayd_configtest(node)
    if config is None or node.faults.relayd_fails:
        return False
    node.relayd.running, node.relayd.config, node.relayd.started = True, config, node.now()
    return True


def relayd_stop(node) -> None:
    node.relayd.running, node.relayd.config = False, None


def health(node, config) -> Callable[[str], HostHealth]:
    """HostHealth per host name, from the pair's web host state and relayd's uptime."""
    checks = 1 + int((node.now() - node.relayd.started) / max(1, config.interval))

    def lookup(name: str) -> HostHealth:
        up = node.pair.webhosts.get(name, True)
        return HostHealth(up=up, checks=checks, passed=checks if up else 0,
                          error=None if up else "http code mismatch")
    return lookup


@REGISTRY.command("relayd")
def relayd(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    args = argv[1:]
    path, test = CONF, False
    while args:
        word = args.pop(0)
        if word == "-n":
            test = True
        elif word == "-f" and args:
            path = node.fs.norm(args.pop(0), proc.cwd)
        elif word in ("-d", "-v", "-vv"):
            continue
        else:
            return proc.fail("usage: relayd [-dnv] [-D macro=value] [-f file]")
    config, errors = _parse(node, path)
    if errors:
        proc.err("".join(line if line.endswith("\n") else line + "\n" for line in errors))
        return 1
    if not proc.root:
        return proc.fail("relayd: need root privileges")
    if test:
        proc.err("configuration OK\n")
        return 0
    if not node.relayd.running:
        node.relayd.running, node.relayd.config, node.relayd.started = True, config, node.now()
    return 0


@REGISTRY.command("relayctl")
def relayctl(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    args = argv[1:]
    if not node.relayd.running:
        return proc.fail(f"relayctl: connect: {SOCKET}: No such file or directory")
    if not proc.root:
        return proc.fail(f"relayctl: connect: {SOCKET}: Permission denied")
    config = node.relayd.config
    if len(args) == 2 and args[0] == "show" and args[1] in (
            "summary", "hosts", "relays", "redirects", "routers"):
        proc.out(show_rows(config, args[1], health(node, config)))
        return 0
    if args == ["reload"]:
        # relayd purges its configuration before parsing the file: a broken file
        # leaves it running with nothing (reference section 6)
        fresh = relayd_configtest(node)
        node.relayd.config = fresh if fresh is not None else _empty(config)
        return 0
    if args == ["poll"] or (len(args) == 3 and args[0] in ("host", "table", "redirect", "relay")
                            and args[1] in ("enable", "disable")):
        proc.out("command succeeded\n")
        return 0
    if args[:1] == ["log"] and len(args) == 2:
        proc.out("logging request sent.\n")
        return 0
    return proc.fail("usage: relayctl [-s socket] command [argument ...]")


def _empty(config):
    return replace(config, tables=(), redirects=(), relays=(), routers=())
