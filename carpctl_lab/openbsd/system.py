"""Emulated base tools: sysctl, uname, hostname, sha256, syspatch, reboot/halt, netstart.

Formats and messages follow openbsd-reference.md sections 3, 8 and 9.
"""

from __future__ import annotations

import hashlib
import time

from ..netstart import ifconfig_argvs
from ..proc import Proc, Registry
from .sysupgrade import kern_version

REGISTRY = Registry()
RELEASE = "7.6"
CARP_SYSCTLS = ("net.inet.carp.allow", "net.inet.carp.preempt", "net.inet.carp.log")


# -- sysctl -----------------------------------------------------------------------------------
def _sysctl_values(node) -> dict[str, str]:
    model = node.pair.model
    values = {
        "kern.ostype": "OpenBSD",
        "kern.osrelease": node.upgrade.release,
        "kern.version": kern_version(node),
        "kern.hostname": node.hostname,
        "kern.boottime": str(int(node.booted_at)),
        "hw.machine": "amd64",
        "hw.ncpu": "2",
        "net.inet.carp.allow": str(int(model.allow(node.name))),
        "net.inet.carp.preempt": str(int(model.preempt(node.name))),
        "net.inet.carp.log": node.sysctl.get("net.inet.carp.log", "2"),
    }
    values.update({k: v for k, v in node.sysctl.items() if k not in CARP_SYSCTLS})
    return values


def _unknown_sysctl(name: str) -> str:
    parts = name.split(".")
    levels = ("top", "second", "third", "fourth")
    depth = min(len(parts), len(levels)) - 1
    return f"sysctl: {levels[depth]} level name {parts[depth]} in {name} is invalid"


def _set_sysctl(proc: Proc, name: str, value: str, quiet: bool) -> int:
    node = proc.node
    values = _sysctl_values(node)
    if name not in values:
        return proc.fail(_unknown_sysctl(name))
    if not proc.root:
        return proc.fail(f"sysctl: {name}: Operation not permitted")
    if name in ("net.inet.carp.allow", "net.inet.carp.preempt"):
        if value not in ("0", "1"):
            return proc.fail(f"sysctl: {name}: Invalid argument")
        setter = node.pair.model.set_allow if name.endswith("allow") else node.pair.model.set_preempt
        setter(node.name, value == "1", node.now())
    elif name.startswith("kern.") or name.startswith("hw."):
        return proc.fail(f"sysctl: {name}: Operation not permitted")
    else:
        node.sysctl[name] = value
    if not quiet:
        proc.out(f"{name}: {values[name]} -> {value}\n")
    return 0


@REGISTRY.command("sysctl")
def sysctl(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    node.pair.advance()
    args = argv[1:]
    flags = set()
    while args and args[0].startswith("-") and args[0] != "-":
        flags.update(args.pop(0)[1:])
    status = 0
    values = _sysctl_values(node)
    names = args or sorted(values)
    for name in names:
        if "=" in name:
            key, value = name.split("=", 1)
            status |= _set_sysctl(proc, key, value, quiet="q" in flags)
            continue
        matches = [k for k in values if k == name or k.startswith(name + ".")]
        if not matches:
            status = proc.fail(_unknown_sysctl(name))
            continue
        for key in sorted(matches, key=lambda k: (k not in CARP_SYSCTLS, CARP_SYSCTLS.index(k)
                                                 if k in CARP_SYSCTLS else 0, k)):
            value = values[key]
            if key == "kern.boottime" and "n" not in flags:  # sysctl.c prints it with ctime()
                value = time.ctime(int(value))
            proc.out(f"{value}\n" if "n" in flags else f"{key}={value}\n")
    return status


# -- identity -----------------------------------------------------------------------------------
@REGISTRY.command("uname")
def uname(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    fields = {"s": "OpenBSD", "n": node.hostname, "r": node.upgrade.release,
              "v": f"GENERIC.MP#{node.kernel_build}", "m": "amd64", "p": "amd64"}
    wanted = "".join(a[1:] for a in argv[1:] if a.startswith("-")) or "s"
    if "a" in wanted:
        wanted = "snrvm"
    unknown = [c for c in wanted if c not in fields]
    if unknown:
        return proc.fail(f"uname: unknown option -- {unknown[0]}\nusage: uname [-amnprsv]")
    proc.out(" ".join(fields[c] for c in "snrvmp" if c in wanted) + "\n")
    return 0


@REGISTRY.command("hostname")
def hostname(proc: Proc, argv: list[str]) -> int:
    if len(argv) > 1 and not argv[1].startswith("-"):
        if not proc.root:
            return proc.fail("hostname: sethostname: Operation not permitted")
        proc.node.fs.write_text("/etc/myname", argv[1] + "\n")
        return 0
    name = proc.node.hostname
    proc.out((name.split(".")[0] if "-s" in argv else name) + "\n")
    return 0


@REGISTRY.command("sha256")
def sha256(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    mode = ""
    while args and args[0] in ("-q", "-r"):
        mode = args.pop(0)
    if not args:
        proc.out(hashlib.sha256(proc.stdin).hexdigest() + "\n")
        return 0
    status = 0
    for path in args:
        try:
            digest = hashlib.sha256(proc.node.fs.read_bytes(_abspath(proc, path), proc.user)).hexdigest()
        except OSError as exc:
            status = proc.fail(f"sha256: {path}: {exc.strerror}")
            continue
        if mode == "-q":
            proc.out(digest + "\n")
        elif mode == "-r":
            proc.out(f"{digest} {path}\n")
        else:
            proc.out(f"SHA256 ({path}) = {digest}\n")
    return status


def _abspath(proc: Proc, path: str) -> str:
    """A command's path argument made absolute against the working directory."""
    return proc.node.fs.norm(path, proc.cwd)


# -- syspatch ---------------------------------------------------------------------------------------
def _installed(node) -> list[str]:
    try:
        names = node.fs.listdir("/var/syspatch")
    except OSError:
        return []
    prefix = RELEASE.replace(".", "") + "-"
    return sorted(n[len(prefix):] for n in names if n.startswith(prefix))


def is_kernel_patch(name: str) -> bool:
    """Lab convention: a patch whose name mentions `kern` patches the kernel."""
    return "kern" in name


def is_self_patch(name: str) -> bool:
    """Lab convention: a patch whose name mentions `syspatch` updates syspatch itself."""
    return "syspatch" in name


@REGISTRY.command("syspatch")
def syspatch(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    if flags == "l":
        proc.out("".join(f"{n}\n" for n in _installed(node)))
        return 0
    if not proc.root:
        return proc.fail("syspatch: need root privileges")
    if flags in ("", "r", "R") and node.now() < node.reorder_until:
        return proc.fail("syspatch: cannot apply patches while reorder_kernel is running")
    pending = [p for p in node.syspatch_pending if p not in _installed(node)]
    if flags == "c":
        proc.out("".join(f"{p}\n" for p in pending))
        return 0
    tag = RELEASE.replace(".", "")
    if flags in ("r", "R"):
        installed = _installed(node)
        for name in reversed(installed if flags == "R" else installed[-1:]):
            proc.out(f"Reverting patch {name}\n")
            node.fs.rmdir(f"/var/syspatch/{tag}-{name}")
        return 0
    if flags:
        return proc.fail("usage: syspatch [-c | -l | -R | -r]")
    if not pending:
        return 2
    node.fs.mkdir("/var/syspatch", parents=True)
    installed, status = [], 0
    for name in pending:
        proc.out(f"Get/Verify syspatch{tag}-{name}.tgz\n")
        proc.out(f"Installing patch {name}\n")
        node.fs.mkdir(f"/var/syspatch/{tag}-{name}")
        installed.append(name)
        if is_self_patch(name):  # install_patch ends the run; the exit trap still relinks
            status = proc.fail("syspatch: updated itself, run it again to install missing patches",
                               2)
            break
    if any(is_kernel_patch(p) for p in installed):
        node.kernel_relinked = True
        proc.out("Relinking to create unique kernel... done; reboot to load the new kernel\n")
    return status


# -- power --------------------------------------------------------------------------------------------
def _power(proc: Proc, program: str, reboot: bool) -> int:
    node = proc.node
    if not proc.root:
        return proc.fail(f"{program}: Operation not permitted" if program != "shutdown"
                         else "shutdown: NOT super-user")
    now = node.now()
    if reboot:
        node.reboot(now, node.faults.reboot_downtime)
    else:
        node.shutdown(now)
    return 0


@REGISTRY.command("reboot")
def reboot(proc: Proc, argv: list[str]) -> int:
    return _power(proc, "reboot", True)


@REGISTRY.command("halt")
def halt(proc: Proc, argv: list[str]) -> int:
    return _power(proc, "halt", False)


@REGISTRY.command("shutdown")
def shutdown(proc: Proc, argv: list[str]) -> int:
    args = argv[1:]
    if "now" not in args or not any(a in ("-r", "-h", "-p") for a in args):
        return proc.fail("usage: shutdown [-] [-dfhknpr] time [warning-message ...]")
    return _power(proc, "shutdown", "-r" in args)


# -- netstart ----------------------------------------------------------------------------------------
@REGISTRY.command("/etc/netstart")
def netstart(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    if not proc.root:
        return proc.fail("netstart: need root privileges")
    names = argv[1:] or node._hostname_files()
    for name in names:
        path = f"/etc/hostname.{name}"
        if not node.fs.isfile(path):
            continue
        stat = node.fs.stat(path)
        if stat.mode & 0o077 & ~0o040 or (stat.owner, stat.group) != ("root", "wheel"):
            proc.out(f"WARNING: {path} is insecure, fixing permissions.\n")
            node.fs.chmod(path, 0o640)
            node.fs.chown(path, "root", "wheel")
        for args in ifconfig_argvs(name, node.fs.read_text(path)):
            sub = proc.child()
            spec = node.registry.get("ifconfig")
            spec.func(sub, args)  # netstart goes on after a failing line, like the real one
            proc.stdout += sub.stdout
            proc.stderr += sub.stderr
    return 0
