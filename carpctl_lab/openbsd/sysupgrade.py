"""Emulated release upgrades: sysupgrade, the installer's two reboots, sysmerge -b, fw_update,
pkg_add -u, and the ftp and df they lean on.

Written from usr.sbin/sysupgrade/sysupgrade.sh (1.58, and 1.62 for the /usr check),
distrib/miniroot/install.sub (check_unattendedupgrade, do_upgrade, finish_up,
do_autoinstall, the watchdog), etc/rc (run_upgrade_script sysmerge before sshd, firsttime
after the network daemons), usr.sbin/sysmerge/sysmerge.sh 1.216 (batch mode),
usr.sbin/fw_update/fw_update.sh 1.56 (its status line); docs/lab.md "Release upgrades" says
what is emulated and what is a lab convention. Nothing here connects anywhere: whether the
mirror answers is state (`Upgrade.mirror_ok`, `Upgrade.published`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..proc import Proc, Registry

if TYPE_CHECKING:
    from ..node import Node

REGISTRY = Registry()
DEFAULT_MIRROR = "https://cdn.openbsd.org/pub/OpenBSD"
SETS_KB = 620_000                   # lab convention: what the amd64 sets take in /home
USAGE = "usage: sysupgrade [-fkn] [-A | -s] [-b base-directory] [-R version] [installurl | path]"
BUILD_DATES = {"7.6": "Mon Sep 30 08:55:35 MDT 2024", "7.7": "Sun Apr 13 08:05:14 MDT 2025"}


def next_release(release: str) -> str:
    major, minor = (int(p) for p in release.split("."))
    return f"{major + 1}.0" if minor == 9 else f"{major}.{minor + 1}"


@dataclass
class Upgrade:
    """A node's release and everything an upgrade of it depends on (state, and faults)."""

    release: str = "7.6"
    tag: str = ""                      # -current after a snapshot upgrade
    build_date: str = ""
    mirror_ok: bool = True             # /etc/installurl's mirror answers (state, never traffic)
    published: tuple[str, ...] | None = None   # releases on the mirror; None: this one and next
    outcome: str = "ok"                # ok | fails (installer error, watchdog, old kernel) | hangs
    conflicts: list[str] = field(default_factory=lambda: [])   # /etc files sysmerge must leave
    auto_merged: list[str] = field(default_factory=list)        # /etc files sysmerge installs
    firmware: list[str] = field(default_factory=lambda: ["vmm"])  # installed firmware
    firmware_new: list[str] = field(default_factory=list)         # on the mirror, not installed
    packages: dict[str, str] = field(default_factory=lambda: {"rsync": "3.3.0"})
    package_updates: dict[str, str] = field(default_factory=dict)  # name -> newer version
    usr_used_percent: int = 44
    home_avail_kb: int = 9_677_872
    upgrades: int = 0                  # completed upgrades (tests count them)

    @property
    def kern_version(self) -> str:
        return self.build_date or BUILD_DATES.get(self.release, "Mon Jan  6 10:00:00 MST 2025")


def kern_version(node: Node) -> str:
    up = node.upgrade
    return (f"OpenBSD {up.release}{up.tag} (GENERIC.MP) #{node.kernel_build}: {up.kern_version}\n"
            f"    deraadt@amd64.openbsd.org:/usr/src/sys/arch/amd64/compile/GENERIC.MP\n")


def _mirror(node: Node) -> str:
    try:
        lines = [line.split("#")[0].strip() for line in node.fs.read_text("/etc/installurl").splitlines()]
    except OSError:
        return DEFAULT_MIRROR
    return next((line for line in lines if line), DEFAULT_MIRROR)


def _published(node: Node) -> tuple[str, ...]:
    up = node.upgrade
    return up.published if up.published is not None else (up.release, next_release(up.release))


def _fetch(proc: Proc, url: str) -> int:
    """What the node's ftp(1) would get for `url`, decided from state (lab convention for
    the error wording)."""
    node = proc.node
    mirror = _mirror(node)
    if not node.upgrade.mirror_ok or not url.startswith(mirror + "/"):
        return proc.fail("ftp: connect: Connection refused")
    release = url[len(mirror) + 1:].split("/")[0]
    if release != "snapshots" and release not in _published(node):
        return proc.fail(f"ftp: Error retrieving {url}: 404 Not Found")
    return 0


@REGISTRY.command("ftp")
def ftp(proc: Proc, argv: list[str]) -> int:
    args = [a for a in argv[1:] if a not in ("-V", "-M", "-m")]
    if len(args) != 3 or args[0] != "-o" or args[1] != "/dev/null":
        return proc.fail("ftp: the lab answers only `ftp [-V] -o /dev/null URL`")
    return _fetch(proc, args[2])


@REGISTRY.command("df")
def df(proc: Proc, argv: list[str]) -> int:
    up = proc.node.upgrade
    usr_size, home_size = 2_643_442, 10_313_790
    rows = {"/usr": ("/dev/sd0d", usr_size, usr_size * up.usr_used_percent // 100),
            "/home": ("/dev/sd0h", home_size, max(0, home_size - up.home_avail_kb))}
    paths = [a for a in argv[1:] if not a.startswith("-")] or list(rows)
    proc.out("Filesystem  1024-blocks       Used      Avail Capacity  Mounted on\n")
    for path in paths:
        mount = "/usr" if path.startswith("/usr") else "/home" if path.startswith("/home") else None
        if mount is None:
            return proc.fail(f"df: {path}: the lab knows /usr and /home only")
        dev, size, used = rows[mount]
        avail = size - used
        capacity = -(-100 * used // (used + avail)) if used + avail else 100
        proc.out(f"{dev:<10} {size:>12} {used:>10} {avail:>10} {capacity:>7}%    {mount}\n")
    return 0


@REGISTRY.command("sysupgrade")
def sysupgrade(proc: Proc, argv: list[str]) -> int:
    node = proc.node
    up = node.upgrade
    flags = set()
    for arg in argv[1:]:
        if not arg.startswith("-") or set(arg[1:]) - set("fknrs"):
            return proc.fail(USAGE)
        flags.update(arg[1:])
    if not proc.root:
        return proc.fail("sysupgrade: need root privileges")
    if "f" in flags and "s" not in flags:
        return proc.fail("sysupgrade: incompatible options: -f without -s")
    if up.usr_used_percent >= 90 and "f" not in flags:
        return proc.fail("sysupgrade: /usr appears too small. See sysupgrade(8) manpage about PRUNING.")
    mirror = _mirror(node)
    target = next_release(up.release)
    url = f"{mirror}/snapshots/amd64/" if "s" in flags else f"{mirror}/{target}/amd64/"
    proc.out(f"Fetching from {url}\n")
    if _fetch(proc, url + "SHA256.sig"):
        if "s" in flags:
            return 1
        proc.out(f"Fetching from {mirror}/{up.release}/amd64/\n")
        if _fetch(proc, f"{mirror}/{up.release}/amd64/SHA256.sig"):
            return 1
        proc.out("Already on latest release.\n")   # the installed sets are this release's
        return 0
    if up.home_avail_kb < SETS_KB:
        return proc.fail(f"ftp: Writing base{target.replace('.', '')}.tgz: No space left on device")
    node.fs.mkdir("/home/_sysupgrade", parents=True)
    node.fs.write_text("/home/_sysupgrade/SHA256", f"sets of {target}\n")
    proc.out("Verifying sets.\n")
    node.fs.write_text("/auto_upgrade.conf", "Location of sets = disk\n"
                       "Pathname to the sets = /home/_sysupgrade/\n")
    node.fs.write_text("/etc/rc.firsttime", "rm -f /home/_sysupgrade/{SHA256}\n")
    proc.out("Fetching updated firmware.\n")
    proc.out(f"fw_update: add none; update none; keep {','.join(up.firmware) or 'none'}\n")
    node.fs.write_text("/bsd.upgrade", f"bsd.rd of {'snapshots' if 's' in flags else target}\n")
    node.fs.chmod("/bsd.upgrade", 0o700)
    node.fs.write_text("/var/carpctl-lab-upgrade", "snapshot\n" if "s" in flags else "release\n")
    node.syslog("sysupgrade: installed new /bsd.upgrade. Old kernel version: "
                + kern_version(node).splitlines()[0])
    if "n" in flags:
        proc.out("Will upgrade on next reboot\n")
        return 0
    proc.out("Upgrading.\n")
    node.reboot(node.now(), node.faults.reboot_downtime)
    return 0


def boot_loader(node: Node, now: float) -> bool:
    """The boot loader at power-on: an executable /bsd.upgrade is booted instead of /bsd,
    its u+x cleared first (a second boot takes /bsd). True: the installer runs, the node
    stays off for SSH and CARP until it reboots."""
    fs = node.fs
    if not fs.isfile("/bsd.upgrade") or not fs.stat("/bsd.upgrade").mode & 0o100:
        return False
    fs.chmod("/bsd.upgrade", 0o600)
    node.generation += 1
    generation = node.generation
    timing, up = node.pair.timing, node.upgrade
    if up.outcome == "hangs":
        return True                    # stays in the installer (a question on the console)

    def installer_done(at: float) -> None:
        if node.powered or node.generation != generation:
            return
        if up.outcome == "ok":
            _install(node)             # then `exec reboot`: the second reboot
            node.pair.schedule(at + timing.reboot_downtime, lambda t: _power_on(node, generation))
        else:                          # err_exit: the installer waits; its watchdog reboots
            node.pair.schedule(at + timing.watchdog_time, lambda t: _power_on(node, generation))
    node.pair.schedule(now + timing.installer_time, installer_done)
    return True


def _power_on(node: Node, generation: int) -> None:
    if not node.powered and node.generation == generation:
        node.boot(node.now())


def _install(node: Node) -> None:
    """do_upgrade + finish_up: sets extracted, bsd.upgrade and auto_upgrade.conf removed,
    rc.sysmerge and rc.firsttime told to run sysmerge -b and fw_update at first boot."""
    fs, up = node.fs, node.upgrade
    kind = fs.read_text("/var/carpctl-lab-upgrade").strip() if fs.isfile(
        "/var/carpctl-lab-upgrade") else "release"
    for path in ("/bsd.upgrade", "/auto_upgrade.conf", "/var/carpctl-lab-upgrade"):
        if fs.isfile(path):
            fs.unlink(path)
    if kind == "snapshot":
        up.tag, up.build_date = "-current", time.strftime("%a %b %e %H:%M:%S MST %Y")
    else:
        up.release, up.tag, up.build_date = next_release(up.release), "", ""
    node.kernel_build = 1
    up.upgrades += 1
    up.auto_merged = ["/etc/daily", "/etc/services"]
    up.package_updates = {name: _bumped(version) for name, version in up.packages.items()}
    fs.write_text("/etc/rc.sysmerge", "/usr/sbin/sysmerge -b\n", append=True)
    fs.write_text("/etc/rc.firsttime", "/usr/sbin/fw_update\n", append=True)


def _bumped(version: str) -> str:
    head, _, last = version.rpartition(".")
    return f"{head}.{int(last) + 1}" if last.isdigit() else version + "p0"


def first_boot(node: Node) -> None:
    """etc/rc's run_upgrade_script: rc.sysmerge (before sshd), rc.firsttime (after the network
    daemons), each run once and removed, its output mailed to root."""
    for script in ("sysmerge", "firsttime"):
        path = f"/etc/rc.{script}"
        if not node.fs.isfile(path):
            continue
        output = []
        for line in node.fs.read_text(path).splitlines():
            words = line.split()
            if words and words[0] in ("/usr/sbin/sysmerge", "/usr/sbin/fw_update"):
                output.append(node.system([words[0].rsplit("/", 1)[1], *words[1:]])[1])
        node.fs.unlink(path)
        node.fs.mkdir("/var/mail", parents=True)
        node.fs.write_text("/var/mail/root", f"Subject: rc.{script} output\n\n{''.join(output)}\n",
                           append=True)


@REGISTRY.command("sysmerge")
def sysmerge(proc: Proc, argv: list[str]) -> int:
    if argv[1:] not in ([], ["-b"]):
        return proc.fail("usage: sysmerge [-bdp]")
    if not proc.root:
        proc.out("sysmerge: need root privileges\n")
        return proc.fail("usage: sysmerge [-bdp]")
    if argv[1:] != ["-b"]:
        return proc.fail("sysmerge: the lab runs batch mode (-b) only")
    up = proc.node.upgrade
    for path in up.auto_merged:
        proc.out(f"===> Updating {path}\n")
    up.auto_merged = []
    for path in up.conflicts:
        proc.out(f"---- Info: /tmp/sysmerge.Xx3kPq9Tbn{path} left for comparison\n")
    return 0


@REGISTRY.command("fw_update")
def fw_update(proc: Proc, argv: list[str]) -> int:
    if not proc.root:
        return proc.fail("need root privileges")
    up = proc.node.upgrade
    proc.out("fw_update:")
    if not up.mirror_ok:
        proc.out(" failed.\n")
        return proc.fail("Cannot fetch http://firmware.openbsd.org/firmware/"
                         f"{up.release}/SHA256.sig")
    added, up.firmware_new = up.firmware_new, []
    kept = list(up.firmware)
    up.firmware += added
    proc.out(f" add {','.join(added) or 'none'}; update none"
             + (f"; keep {','.join(kept)}" if kept else "") + "\n")
    return 0


@REGISTRY.command("pkg_add")
def pkg_add(proc: Proc, argv: list[str]) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    if "u" not in flags or any(not a.startswith("-") for a in argv[1:]):
        return proc.fail("pkg_add: the lab emulates `pkg_add -u` (with -I, -v) only")
    if not proc.root:
        return proc.fail("pkg_add: need root privileges")
    up = proc.node.upgrade
    if not up.mirror_ok:
        return proc.fail(f"{_mirror(proc.node)}/{up.release}/packages/amd64/: ftp: connect: "
                         f"Connection refused")
    proc.out(f"quirks-{up.release.replace('.', '')}00 signed on 2025-04-27T14:12:35Z\n")
    for name, new in sorted(up.package_updates.items()):
        proc.out(f"{name}-{up.packages[name]}->{new}: ok\n")
        up.packages[name] = new
    up.package_updates = {}
    return 0
