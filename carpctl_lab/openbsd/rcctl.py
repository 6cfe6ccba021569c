"""The emulated rcctl(8) and its rc.d scripts (reference section 7).

relayd is emulated in full (it is what carpctl deploys); the other base
daemons exist so `rcctl ls` and `get` look right, and are always running.
/etc/rc.conf.local is read and rewritten like rcctl does: sorted, duplicates
removed, deleted when empty.
"""

from __future__ import annotations

from ..proc import Proc, Registry
from .relayd import relayd_configtest, relayd_start, relayd_stop

REGISTRY = Registry()
DAEMONS = {"relayd": False, "sshd": True, "syslogd": True, "cron": True, "ntpd": True,
           "pflogd": True, "smtpd": True}             # name -> on by default
SPECIAL = ("accounting", "check_quotas", "ipsec", "library_aslr", "multicast", "pf",
           "spamd_black")
SPECIAL_ON = {"check_quotas", "library_aslr", "pf"}
VARIABLES = ("class", "execdir", "flags", "logger", "rtable", "timeout", "user")
USAGE = ("usage:\trcctl get|getdef|set service | daemon [variable [arguments]]\n"
         "\trcctl [-df] ls|order|start|stop|restart|reload|check|configtest daemon ...\n"
         "\trcctl disable|enable|order [daemon ...]\n"
         "\trcctl ls all|failed|off|on|rogue|started|stopped")
RC_CONF = "/etc/rc.conf.local"


def _lines(node) -> list[str]:
    try:
        return [line for line in node.fs.read_text(RC_CONF).splitlines() if line.strip()]
    except OSError:
        return []


def _write(node, lines: list[str]) -> None:
    unique = sorted(set(lines))
    if unique:
        node.fs.write_text(RC_CONF, "".join(line + "\n" for line in unique))
    elif node.fs.exists(RC_CONF):
        node.fs.unlink(RC_CONF)


def _defaults(daemon: str) -> dict[str, str]:
    return {"class": "daemon", "execdir": "", "flags": "" if DAEMONS[daemon] else "NO",
            "logger": "", "rtable": "0", "timeout": "30", "user": "root"}


def configured(node, daemon: str) -> dict[str, str]:
    """The daemon's variables as rc.conf(.local) leaves them."""
    values = _defaults(daemon)
    prefix = f"{daemon}_"
    for line in _lines(node):
        key, _, value = line.partition("=")
        if key.startswith(prefix) and key[len(prefix):] in VARIABLES:
            values[key[len(prefix):]] = value.strip().strip('"')
    return values


def enabled(node, daemon: str) -> bool:
    if daemon in SPECIAL:
        return daemon in SPECIAL_ON
    return configured(node, daemon)["flags"] != "NO"


def running(node, daemon: str) -> bool:
    return node.relayd.running if daemon == "relayd" else True


def _enable(node, daemon: str) -> None:
    lines = _lines(node)
    if DAEMONS[daemon]:
        _write(node, [line for line in lines if line != f"{daemon}_flags=NO"])
    elif not enabled(node, daemon):
        _write(node, [*(line for line in lines if not line.startswith(f"{daemon}_flags=")),
                      f"{daemon}_flags="])


def _disable(node, daemon: str) -> None:
    keep = [line for line in _lines(node)
            if line.partition("=")[0] not in {f"{daemon}_{v}" for v in VARIABLES}]
    if DAEMONS[daemon]:
        keep.append(f"{daemon}_flags=NO")
    _write(node, keep)


def _get(proc: Proc, daemon: str, variable: str | None, defaults: bool) -> int:
    node = proc.node
    if daemon in SPECIAL:
        on = daemon in SPECIAL_ON
        if variable != "status":
            proc.out(f"{daemon}={'YES' if on else 'NO'}\n")
        return 0 if on else 1
    values = _defaults(daemon) if defaults else configured(node, daemon)
    is_on = values["flags"] != "NO"
    if variable == "status":
        return 0 if is_on else 1
    if variable is not None:
        if variable not in VARIABLES:
            return proc.fail(USAGE)
        proc.out(values[variable] + "\n")
        return 0
    proc.out("".join(f"{daemon}_{v}={values[v]}\n" for v in VARIABLES))
    return 0 if is_on else 1


def _action(proc: Proc, action: str, daemon: str, force: bool) -> int:
    """What /etc/rc.d/DAEMON ACTION prints and returns."""
    node = proc.node
    if action != "check" and not proc.root:
        return proc.fail(f"/etc/rc.d/{daemon}: need root privileges")
    if daemon != "relayd":  # always running: start says nothing, the rest succeed
        proc.out(f"{daemon}(ok)\n" * {"start": 0, "restart": 2}.get(action, 1))
        return 0
    if action == "check":
        ok = node.relayd.running
    elif action == "configtest":
        ok = relayd_configtest(node) is not None
    elif action == "start":
        if node.relayd.running:
            return 0
        if not enabled(node, daemon) and not force:
            return proc.fail(f"/etc/rc.d/{daemon}: need -f to force start since "
                             f"{daemon}_flags=NO")
        ok = relayd_start(node)
    elif action == "stop":
        if not node.relayd.running:
            return 0
        relayd_stop(node)
        ok = True
    elif action == "reload":
        config = relayd_configtest(node) if node.relayd.running else None
        ok = config is not None
        if ok:
            node.relayd.config = config
    else:  # restart
        if node.relayd.running:
            relayd_stop(node)
            proc.out(f"{daemon}(ok)\n")
        ok = relayd_start(node)
    proc.out(f"{daemon}({'ok' if ok else 'failed'})\n")
    return 0 if ok else 1


@REGISTRY.command("rcctl")
def rcctl(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    args = argv[1:]
    force = False
    while args and args[0] in ("-f", "-d", "-q", "-df", "-fd"):
        force = force or "f" in args.pop(0)
    if not args:
        return proc.fail(USAGE)
    action, names = args[0], args[1:]
    if action == "ls":
        return _ls(proc, names[0] if names else "")
    if action == "order":
        if names and not proc.root:
            return proc.fail('rcctl: "order" needs root privileges')
        proc.out("pkg_scripts\n" if not names else "")
        return 0
    if not names and action not in ("enable", "disable"):
        return proc.fail(USAGE)
    if action not in ("get", "getdef", "set", "enable", "disable", "start", "stop", "restart",
                      "reload", "check", "configtest"):
        return proc.fail(USAGE)
    services = names[:1] if action in ("get", "getdef", "set") else names  # then variables
    for name in services:
        if name not in DAEMONS and name not in SPECIAL:
            proc.err(f"rcctl: service {name} does not exist\n")
            return 2
    if action in ("get", "getdef"):
        variable = names[1] if len(names) > 1 else None
        return _get(proc, names[0], variable, action == "getdef")
    if action in ("enable", "disable", "set"):
        if not proc.root:
            return proc.fail(f'rcctl: "{action}" needs root privileges')
        if action == "set":
            return _set(proc, names)
        for name in names:
            (_enable if action == "enable" else _disable)(node, name)
        return 0
    status = 0
    for name in names:
        status = _action(proc, action, name, force) or status
    return status


def _set(proc: Proc, names: list[str]) -> int:
    node = proc.node
    if len(names) < 3:
        return proc.fail(USAGE)
    daemon, variable, value = names[0], names[1], " ".join(names[2:])
    if variable == "status":
        (_enable if value == "on" else _disable)(node, daemon)
        return 0
    if variable == "flags" and value == "NO":
        return proc.fail('rcctl: "flags NO" contradicts "set"')
    if variable not in VARIABLES:
        return proc.fail(USAGE)
    if variable == "flags" and not enabled(node, daemon):
        return proc.fail(f"rcctl: {daemon} is not enabled")
    key = f"{daemon}_{variable}"
    _write(node, [*(line for line in _lines(node) if not line.startswith(key + "=")), f"{key}={value}"])
    return 0


def _ls(proc: Proc, which: str) -> int:
    node = proc.node
    if which in ("started", "stopped", "failed", "rogue") and not proc.root:
        return proc.fail(f'rcctl: "ls {which}" needs root privileges')
    names = sorted([*DAEMONS, *SPECIAL])
    selected = {
        "all": names,
        "on": [n for n in names if enabled(node, n)],
        "off": [n for n in names if not enabled(node, n)],
        "started": [n for n in DAEMONS if running(node, n)],
        "stopped": [n for n in DAEMONS if not running(node, n)],
        "failed": [n for n in DAEMONS if enabled(node, n) and not running(node, n)],
        "rogue": [n for n in DAEMONS if running(node, n) and not enabled(node, n)],
    }.get(which)
    if selected is None:
        return proc.fail(USAGE)
    proc.out("".join(f"{n}\n" for n in sorted(selected)))
    return 0
