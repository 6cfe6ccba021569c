"""A node's state as carpctl reads it: named facts, each a read-only command and its parser.

Every flow starts from the same reading (carpctl.runtime.read sends the commands of
the facts it needs in one round trip). A fact is matched to its parser by name, never
by position. A parser that does not understand the output leaves that fact empty and
says so in `problems`, so one odd line never hides the rest of a node's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from carpctl.errors import ParseError, RemoteError
from carpctl.facts import (
    CarpInterface,
    CarpSysctl,
    PfInfo,
    Pfsync,
    RelaydSummary,
    parse_carp_interfaces,
    parse_carp_sysctl,
    parse_group_demote,
    parse_pf_info,
    parse_pfsync,
    parse_rcctl_get,
    parse_relayctl,
    parse_sha256,
)
from carpctl.facts.backups import BackupSet, parse_sets
from carpctl.facts.carpconf import CarpConfig, parse_hostname_carp, parse_sysctl_conf
from carpctl.facts.interfaces import Interface, parse_group_demotes, parse_interfaces
from carpctl.facts.netstat import CarpStats, parse_carp_stats
from carpctl.facts.parked import Parked
from carpctl.facts.release import KernVersion, parse_kern_version, parse_release
from carpctl.facts.ruleset import parse_pf_anchors, parse_pf_rules
from carpctl.remote import commands as C
from carpctl.remote.batch import Result
from carpctl.remote.paths import BOOT_RESTORED_FILE, MAINTENANCE_FILE, PARKED_FILE

#: every fact carpctl reads from a node, by name: the command that prints it
FACTS: dict[str, C.Command] = {
    "carp": C.IFCONFIG_CARP,            # carp interfaces, and pfsync0 (a member of group carp)
    "demote": C.CARP_DEMOTE,
    "sysctl": C.CARP_SYSCTL,
    "carp_stats": C.CARP_STATS,      # counters: advertisements heard, and why some were dropped
    "pf": C.PF_INFO,
    "relayd_enabled": C.RELAYD_ENABLED,
    "relayd": C.RELAYD_SUMMARY,
    "maintenance": C.read_marker(MAINTENANCE_FILE),
    "parked": C.read_marker(PARKED_FILE),
    "boot_restored": C.read_marker(BOOT_RESTORED_FILE),  # deploys put back at boot, unconfirmed
    "backups": C.LIST_BACKUP_SETS,
    "interfaces": C.IFCONFIG_ALL,          # groups, link and subnet of every interface
    "group_demotes": C.GROUP_DEMOTES,      # the counter of every group of a carp interface
    "carp_config": C.HOSTNAME_CARP,        # /etc/hostname.carpN, pass replaced by its hash
    "sysctl_conf": C.SYSCTL_CONF,
    "pf_rules": C.PF_RULES,                # rc's temporary boot ruleset? relayd's anchor called?
    "pf_anchors": C.PF_ANCHORS,
    "release": C.RELEASE,                  # uname -r
    "kern_version": C.KERN_VERSION,        # the running kernel (carpctl.facts.release)
}
CARP = ("carp", "demote")               # enough for CARP decisions (polls during a failover)
CONFIG = ("interfaces", "group_demotes", "carp_config", "sysctl_conf")  # what boot rebuilds
STATUS = (*CARP, "sysctl", "carp_stats", "pf", "relayd_enabled", "relayd", "maintenance", "parked",
          "boot_restored", *CONFIG, "pf_rules", "pf_anchors", "release", "kern_version")
_FILE = "sha256 "                       # a deployed file's fact is named "sha256 DEST"


def fact_commands(facts: Iterable[str], dests: Iterable[str] = ()) -> dict[str, C.Command]:
    """The commands to send for `facts` and the sha256 of each file in `dests`, by name."""
    named = {name: FACTS[name] for name in facts}
    named.update({_FILE + dest: C.sha256(dest) for dest in dests})
    return named


@dataclass(frozen=True)
class NodeState:
    """What one node looked like at one moment (None: not read or not understood).

    A file that could not be read (doas refused) is left out of `files` rather
    than set to None, so it is not mistaken for a missing one; `problems` says why.
    """

    node: str
    reachable: bool
    error: str | None = None
    reason: str | None = None          # timeout, refused, auth, hostkey-changed, ...
    carp: tuple[CarpInterface, ...] = ()
    demote: int | None = None
    sysctl: CarpSysctl | None = None
    carp_stats: CarpStats | None = None
    pfsync: Pfsync | None = None
    pf: PfInfo | None = None
    relayd_enabled: bool | None = None
    relayd: RelaydSummary | None = None
    maintenance: str | None = None     # the marker's text when the node is in maintenance
    parked: Parked | None = None       # a demotion carpctl keeps on purpose (still in force)
    boot_restored: str | None = None   # the last deploy the node put back at boot, unconfirmed
    files: dict[str, str | None] = field(default_factory=dict)  # dest -> sha256, None: missing
    backups: tuple[BackupSet, ...] | None = None   # carpctl's backup sets kept there, if read
    interfaces: dict[str, Interface] | None = None
    group_demotes: dict[str, int] | None = None    # group -> its demote counter
    carp_config: dict[str, CarpConfig] | None = None   # ifname -> its /etc/hostname.carpN
    sysctl_conf: dict[str, str] | None = None      # /etc/sysctl.conf ({} when missing)
    pf_rules: tuple[str, ...] | None = None        # the loaded main ruleset (pfctl -sr)
    pf_anchors: tuple[str, ...] | None = None      # anchor paths below main (pfctl -sA)
    release: str | None = None                     # uname -r
    kern_version: KernVersion | None = None
    problems: tuple[str, ...] = ()

    @property
    def carp_by_vhid(self) -> dict[int, CarpInterface]:
        return {c.vhid: c for c in self.carp if c.vhid is not None}

    def is_master_everywhere(self) -> bool:
        return bool(self.carp) and all(c.state == "MASTER" for c in self.carp if c.vhid)

    def is_backup_everywhere(self) -> bool:
        return bool(self.carp) and all(c.state == "BACKUP" for c in self.carp if c.vhid)

    @property
    def preempt(self) -> bool | None:
        return self.sysctl.preempt if self.sysctl else None

    def groups_of(self, ifname: str) -> tuple[str, ...]:
        known = self.interfaces.get(ifname) if self.interfaces else None
        return known.groups if known and known.groups else ("carp",)

    def advertised_demote(self, ifname: str) -> int | None:
        """What the kernel advertises for `ifname`: the sum over all its groups (max 255)."""
        if self.group_demotes is None:
            return self.demote
        groups = self.groups_of(ifname)
        if any(g not in self.group_demotes for g in groups):
            return self.demote
        return min(255, sum(self.group_demotes[g] for g in groups))

    @property
    def demote_sum(self) -> int | None:
        """The highest count any carp interface advertises: what CARP predictions compare."""
        counts = [self.advertised_demote(c.name) for c in self.carp if c.vhid is not None]
        known = [c for c in counts if c is not None]
        return max(known) if known else self.demote

    @property
    def configured_preempt(self) -> bool | None:
        """preempt after the next boot (/etc/sysctl.conf; the kernel default is 0)."""
        if self.sysctl_conf is None:
            return None
        return self.sysctl_conf.get("net.inet.carp.preempt", "0") not in ("0", "")


def unreachable(node: str, exc: RemoteError) -> NodeState:
    return NodeState(node, False, error=exc.message.removeprefix(f"{exc.node}: "),
                     reason=exc.reason)


def _missing(result: Result) -> bool:
    return "No such file or directory" in result.stderr


def parse_state(node: str, results: Mapping[str, Result]) -> NodeState:
    """Named results (see fact_commands) -> NodeState; facts not in `results` stay None."""
    problems: list[str] = []

    def parsed(name: str, parser: Callable[[str], Any], *, text: str | None = None,
               when_ok: bool = False) -> Any:
        result = results.get(name)
        if result is None or (when_ok and not result.ok):
            return None
        if not result.ok and result.stderr.startswith("doas: "):
            problems.append(f"{result.command}: {result.stderr.strip()[:200]}")
            return None
        try:
            return parser(result.stdout if text is None else text)
        except ParseError as exc:
            problems.append(f"{result.command}: {exc}")
            return None

    ifconfig = results["carp"]
    carp = tuple(parsed("carp", parse_carp_interfaces, text=ifconfig.output) or ())
    demote = parsed("demote", parse_group_demote, when_ok=True)
    values: dict[str, Any] = {
        "carp": carp, "demote": demote,
        "pfsync": parsed("carp", parse_pfsync, text=ifconfig.output),
        "sysctl": parsed("sysctl", parse_carp_sysctl, when_ok=True),
        "carp_stats": parsed("carp_stats", parse_carp_stats, when_ok=True),
        "pf": parsed("pf", parse_pf_info, when_ok=True),
    }
    pf = results.get("pf")
    if pf is not None and not pf.ok:
        problems.append(f"{pf.command}: {pf.output.strip()[:200]}")
    enabled = results.get("relayd_enabled")
    if enabled is not None:
        config = parsed("relayd_enabled", lambda text: parse_rcctl_get(text, enabled.status),
                        text=enabled.output)
        values["relayd_enabled"] = config.enabled if config else None
    if "relayd" in results:
        values["relayd"] = parsed("relayd", parse_relayctl, text=results["relayd"].output)
    marker = results.get("maintenance")
    if marker is not None:
        values["maintenance"] = (marker.stdout.strip() or "yes") if marker.ok else None
    parked = results.get("parked")
    if parked is not None:
        record = Parked.parse(parked.stdout) if parked.ok else None
        # a reboot resets the runtime values: then the record is stale
        values["parked"] = record if record and record.still_applies(carp, demote) else None
    restored = results.get("boot_restored")
    if restored is not None and restored.ok and restored.stdout.strip():
        values["boot_restored"] = restored.stdout.strip().splitlines()[-1]
    values["interfaces"] = parsed("interfaces", parse_interfaces, when_ok=True)
    values["group_demotes"] = parsed("group_demotes", parse_group_demotes, when_ok=True)
    values["carp_config"] = parsed("carp_config", parse_hostname_carp, when_ok=True)
    values["pf_rules"] = parsed("pf_rules", parse_pf_rules, when_ok=True)
    values["pf_anchors"] = parsed("pf_anchors", parse_pf_anchors, when_ok=True)
    values["release"] = parsed("release", parse_release, when_ok=True)
    values["kern_version"] = parsed("kern_version", parse_kern_version, when_ok=True)
    conf = results.get("sysctl_conf")
    if conf is not None:
        values["sysctl_conf"] = {} if _missing(conf) else parsed(
            "sysctl_conf", parse_sysctl_conf, when_ok=True)
    if "backups" in results:
        values["backups"] = tuple(parse_sets(results["backups"].stdout))
    values["files"] = _files(results, problems, parsed)
    return NodeState(node, True, **values, problems=tuple(problems))


def _files(results: Mapping[str, Result], problems: list[str],
           parsed: Callable[..., Any]) -> dict[str, str | None]:
    """dest -> sha256, None when missing; a file that could not be read is left out."""
    files: dict[str, str | None] = {}
    for name, result in results.items():
        if not name.startswith(_FILE):
            continue
        dest = name.removeprefix(_FILE)
        if result.ok:
            files[dest] = parsed(name, parse_sha256)
        elif _missing(result):
            files[dest] = None
        else:  # unreadable (doas refused?): unknown, which is not "missing"
            problems.append(f"{result.command}: {result.output.strip()[:200]}")
    return files
