"""One emulated OpenBSD node: its files, runtime state, lifecycle and faults.

Runtime state (what `ifconfig`, `pfctl -si`, `relayctl` report) lives here and
in the pair's CARP model; everything a reboot must rebuild is rebuilt from the
node's own files by running its emulated commands, as /etc/rc would.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .fs import NodeFS
from .netstart import ifconfig_argvs, rc_conf_flags, sysctl_settings
from .openbsd.ifaces import physical_ifaces
from .openbsd.pf_proto import proto_passes
from .openbsd.pf_ssh import ssh_verdict
from .openbsd.sysupgrade import Upgrade, boot_loader, first_boot
from .proc import DropConnection, Proc, Registry

if TYPE_CHECKING:
    from .pair import LabPair


PFSYNC_GROUPS = ("carp", "pfsync")  # pfsync demotes the groups it belongs to (if_pfsync.c)

# /etc/rc's temporary ruleset (IPv4 part), loaded and enabled before anything else:
# it stays in force when /etc/pf.conf fails to load at boot (reference 2.5 and 10.14)
RC_TEMPORARY_RULES = """\
block all
pass on lo0
pass in proto tcp from any to any port ssh keep state
pass out proto { tcp, udp } from any to any port domain keep state
pass out inet proto icmp all icmp-type echoreq keep state
pass out inet proto udp from any port bootpc to any port bootps
pass in inet proto udp from any port bootps to any port bootpc
pass in proto carp keep state (no-sync)
pass out proto carp !received-on any keep state (no-sync)
"""


@lru_cache(maxsize=1)
def rc_temporary_ruleset() -> Any:
    from .conf.pf import check_pf

    return check_pf(RC_TEMPORARY_RULES, "stdin", lambda path: "")


@dataclass
class Faults:
    """Faults a test injects; each is plain state the node consults."""

    delay: float = 0.0                 # seconds added before matching commands
    delay_match: str | None = None     # regex on argv[0] or the command; None = every command
    drop_match: str | None = None      # regex: cut the connection on a matching command
    drop_after: bool = False           # cut after the command ran instead of before
    drop_count: int = 0                # how many more drops (0 = none)
    doas_denied: bool = False          # doas answers "Operation not permitted"
    refuse_new: bool = False           # new SSH connections get no answer (like a pf block drop)
    ssh_down: bool = False             # sshd stopped: connections are refused
    reboot_downtime: float | None = None  # how long `reboot` keeps the node off
    relayd_fails: bool = False         # relayd exits at start although its config parses


@dataclass
class PfState:
    enabled: bool = False
    ruleset: Any = None                # carpctl_lab.conf.pf.PfRuleset of the loaded rules
    changed: float = 0.0               # when pf was last enabled or disabled


@dataclass
class RelaydState:
    running: bool = False
    config: Any = None                 # carpctl_lab.conf.relayd.RelaydConfig in use
    started: float = 0.0


@dataclass(frozen=True)
class LogEntry:
    """One exec request as the node saw it (the lab's command log)."""

    time: float                        # wall clock, seconds since the epoch
    user: str
    command: str
    status: int | None                 # None when the connection was cut
    duration: float


@dataclass
class Pfsync:
    syncdev: str | None = None
    up: bool = False


class Node:
    """An emulated firewall. Its lock is the pair's: both nodes share one CARP model."""

    def __init__(self, pair: LabPair, index: int, name: str, root: Path, registry: Registry):
        self.pair = pair
        self.index = index
        self.name = name
        self.fs = NodeFS(root)
        self.lock = pair.lock
        self.registry = registry
        self.generation = 0
        self.powered = False
        self.ssh_ready_at = float("inf")
        self.faults = Faults()
        self.links: dict[str, bool] = {}     # physical links a fault took down stay down
        self.pf = PfState()
        self.relayd = RelaydState()
        self.pfsync = Pfsync()
        self.sysctl: dict[str, str] = {}
        self.ifaces: dict[str, Any] = {}   # name -> openbsd.ifaces.Iface
        self.syspatch_pending: list[str] = []
        self.upgrade = Upgrade()           # release, and what a sysupgrade of it meets
        self.booted_at = 0.0               # wall clock of the last boot (kern.boottime)
        self.kernel_build = 1              # `uname -v` GENERIC.MP#N; a relinked kernel counts up
        self.kernel_relinked = False       # syspatch relinked a kernel that a reboot will load
        self.reorder_until = 0.0           # /usr/libexec/reorder_kernel runs until then (rc)
        self.log: list[LogEntry] = []
        self._log_lock = threading.Lock()
        self._down = threading.Event()     # set while powered off: interrupts sleeps
        self._closers: set[Callable[[], None]] = set()

    # -- identity ---------------------------------------------------------------
    @property
    def hostname(self) -> str:
        try:
            return self.fs.read_text("/etc/myname").strip() or self.name
        except OSError:
            return self.name

    @property
    def peer(self) -> Node:
        return self.pair.nodes[1 - self.index]

    def now(self) -> float:
        return self.pair.now()

    # -- NodeLike hooks used by the shell -----------------------------------------
    def before_command(self, proc: Proc, argv: list[str]) -> None:
        faults = self.faults
        line = " ".join(argv)
        if faults.delay and (faults.delay_match is None or re.search(faults.delay_match, line)):
            self.sleep(faults.delay)
        self.drop_point(line, after=False)

    def after_command(self, line: str) -> None:
        """Called by sshd once an exec finished: the 'drop after' fault."""
        self.drop_point(line, after=True)

    def drop_point(self, line: str, *, after: bool) -> None:
        """The `drop` fault: cut the connection at a command or SFTP request matching it.

        SFTP requests are seen as `sftp OP PATH [PATH]` (open, rename, remove, setstat).
        """
        faults = self.faults
        if faults.drop_count and faults.drop_after == after and faults.drop_match \
                and re.search(faults.drop_match, line):
            faults.drop_count -= 1
            raise DropConnection(line)

    def sleep(self, seconds: float) -> bool:
        return not self._down.wait(max(0.0, seconds))

    def alive(self, generation: int) -> bool:
        return self.powered and generation == self.generation

    # -- connections ----------------------------------------------------------------
    def add_closer(self, closer: Callable[[], None]) -> None:
        self._closers.add(closer)

    def remove_closer(self, closer: Callable[[], None]) -> None:
        self._closers.discard(closer)

    def drop_connections(self) -> None:
        for closer in list(self._closers):
            closer()
        self._closers.clear()

    def accepts_ssh(self) -> str:
        """'accept', 'refuse' (RST) or 'blackhole' (no answer) for a new connection."""
        with self.lock:
            self.pair.advance()
            if not self.powered or self.faults.refuse_new:
                return "blackhole"
            if self.faults.ssh_down or self.now() < self.ssh_ready_at:
                return "refuse"
            return ssh_verdict(self.pf, self.ifaces.values())  # loaded pf rules may block ssh

    def pf_passes(self, proto: str, direction: str, dev: str | None) -> bool:
        """The loaded rules on a `carp` or `pfsync` packet on a physical interface."""
        if dev is None:
            return False
        iface = self.ifaces.get(dev)
        return proto_passes(self.pf, proto, direction, dev, iface.groups if iface else ())

    def carp_filter(self, direction: str, carpdev: str) -> bool:
        """What the CARP model asks about every advertisement this node sends or hears."""
        return self.pf_passes("carp", direction, carpdev)

    def record(self, entry: LogEntry) -> None:
        with self._log_lock:
            self.log.append(entry)

    # -- running the node's own commands ----------------------------------------------
    def system(self, argv: list[str]) -> tuple[int, str]:
        """Run a registered command as root, as /etc/rc would (no hooks, no log)."""
        spec = self.registry.get(argv[0])
        if spec is None:
            return 127, f"{argv[0]}: not found\n"
        proc = Proc(self, "root")
        status = spec.func(proc, argv)
        return status, (proc.stdout + proc.stderr).decode(errors="replace")

    def syslog(self, message: str) -> None:
        stamp = time.strftime("%b %e %H:%M:%S")
        try:
            self.fs.write_text("/var/log/messages",
                               f"{stamp} {self.hostname.split('.')[0]} {message}\n",
                               append=True)
        except OSError:
            pass  # a full disk loses log lines, as on a real system

    # -- lifecycle ----------------------------------------------------------------------
    def boot(self, now: float, *, settled: bool = False) -> None:
        """Power on and replay /etc/rc: demote 128, netstart, pf, pfsync, daemons, -128.

        `settled` builds the node as if it had booted long ago (the lab's start-up):
        no boot-time demotion and sshd at once, so a pair is usable immediately.
        """
        if boot_loader(self, now):         # /bsd.upgrade: the installer, not /etc/rc
            return
        timing = self.pair.timing
        self.generation += 1
        generation = self.generation
        self.powered = True
        self.booted_at = time.time() - (time.monotonic() - now)
        if self.kernel_relinked:
            self.kernel_build += 1
            self.kernel_relinked = False
        self._down.clear()
        model = self.pair.model
        if not model.powered(self.name):
            model.power_on(self.name, now)
        for dev, up in self.links.items():
            if not up:
                model.set_link(self.name, dev, False, now)
        if not settled:
            model.carpdemote(self.name, 128, now)
        self.ifaces = physical_ifaces(self.index)
        self.sysctl = {"net.inet.ip.forwarding": "0"}
        for setting in sysctl_settings(self._read("/etc/sysctl.conf")):
            self.system(["sysctl", "-q", setting])
        for ifname in self._hostname_files():
            for argv in ifconfig_argvs(ifname, self._read(f"/etc/hostname.{ifname}")):
                self.system(argv)
        self.pf = PfState(enabled=True, ruleset=rc_temporary_ruleset(), changed=now)
        self.system(["pfctl", "-f", "/etc/pf.conf"])
        self._start_pfsync(now, settled, generation)
        self.relayd = RelaydState()
        if "relayd" in rc_conf_flags(self._read("/etc/rc.conf.local")):
            self.system(["rcctl", "start", "relayd"])
        first_boot(self)                   # rc.sysmerge and rc.firsttime left by an upgrade
        if self.fs.isfile("/etc/rc.local"):  # etc/rc runs it before lowering its demotion
            self.system(["sh", "/etc/rc.local"])
        self.ssh_ready_at = now if settled else now + timing.ssh_delay
        self.reorder_until = now if settled else now + timing.reorder_time
        if not settled:
            def end_of_rc(at: float) -> None:
                if self.alive(generation):
                    try:
                        model.carpdemote(self.name, -128, at)
                    except ValueError:
                        pass  # an operator lowered the counter meanwhile: rc's ifconfig fails too
            self.pair.schedule(now + timing.rc_time, end_of_rc)

    def _start_pfsync(self, now: float, settled: bool, generation: int) -> None:
        self.pfsync = Pfsync()
        for argv in ifconfig_argvs("pfsync0", self._read("/etc/hostname.pfsync0")):
            self.system(argv)
        if not self.pfsync.up or settled:
            return
        model = self.pair.model
        model.demote_adjust(self.name, 32, now, groups=PFSYNC_GROUPS)

        def bulk_done(at: float) -> None:
            if self.alive(generation):
                model.demote_adjust(self.name, -32, at, groups=PFSYNC_GROUPS)
        self.pair.schedule(now + self.pair.timing.bulk_time, bulk_done)

    def _hostname_files(self) -> list[str]:
        """carp interfaces after physical ones, as netstart orders them; pfsync apart."""
        names = [n[len("hostname."):] for n in self.fs.listdir("/etc") if n.startswith("hostname.")]
        names = [n for n in names if n != "pfsync0"]
        return sorted(names, key=lambda n: (n.startswith("carp"), n))

    def _read(self, path: str) -> str:
        try:
            return self.fs.read_text(path)
        except OSError:
            return ""

    def _power_off(self, now: float) -> None:
        self.powered = False
        self.generation += 1
        self._down.set()
        self.ssh_ready_at = float("inf")
        self.pf = PfState()
        self.relayd = RelaydState()
        self.pfsync = Pfsync()
        self.ifaces = {}
        self.pair.on_power_off(self, now)
        self.drop_connections()

    def halt(self) -> None:
        """The lab is stopping: every command and background job ends at its next step.

        Not a power-off of the model (the pair's state stays readable); the node
        just leaves its boot generation, so nothing of it runs on.
        """
        with self.lock:
            self.generation += 1
            self._down.set()

    def crash(self, now: float) -> None:
        """Power loss or panic: nothing is sent, the peer notices by silence."""
        if self.powered:
            self.pair.model.crash(self.name, now)
            self._power_off(now)

    def shutdown(self, now: float) -> None:
        """rc shutdown: every carp interface goes down (MASTERs bow out), then off."""
        if self.powered:
            self.pair.model.shutdown(self.name, now)
            self._power_off(now)

    def reboot(self, now: float, downtime: float | None = None) -> None:
        self.shutdown(now)
        delay = self.pair.timing.reboot_downtime if downtime is None else downtime
        generation = self.generation
        def power_on(at: float) -> None:
            if not self.powered and self.generation == generation:
                self.boot(at)
        self.pair.schedule(now + delay, power_on)

    def set_link(self, dev: str, up: bool) -> None:
        """A physical link (cable, switch port) goes down or comes back."""
        self.links[dev] = up
        if self.powered:
            self.pair.model.set_link(self.name, dev, up, self.now())
            if dev == self.pfsync.syncdev:
                self.pair.model.demote_adjust(self.name, 1 if not up else -1, self.now(),
                                              groups=PFSYNC_GROUPS)
