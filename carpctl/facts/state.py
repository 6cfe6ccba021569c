"""A node's state as carpctl reads it: named facts, each a read-only command and its parser.

Every flow starts from the same reading (carpctl.runtime.read sends the commands of
the facts it needs in one round trip). A fact is matched to its parser by name, never
by position. A parser that does not understand the output leaves that fact empty and
says so in `problems`, so one odd line never hides the rest of a node's state.

Adding a fact is one entry in REGISTRY, with its parser (a pure function in
carpctl.facts, raising ParseError on output it does not understand) and the NodeState
field of the same name:

    Fact(name="release", command=C.cmd("uname", "-r"), parse=from_stdout(parse_release)),

then name it in the tuple of facts a flow reads (STATUS, CARP, ...). `on_fail` says
what a non-zero exit means (by default the fact is unknown: None, nothing reported),
`missing` what a file that does not exist means, `fills` names the field when it is not
the fact's name (two fields read from one command's output). Rules across facts (a
parked record counts only while the node still carries it) come after the loop in
parse_state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
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


class OnFail(Enum):
    """What a non-zero exit status of a fact's command means."""

    UNKNOWN = "unknown"   # the fact is unknown (None), nothing to report
    PARSE = "parse"       # the output answers all the same (an interface that does not
    #                       exist, a disabled daemon, relayd not running); a refused doas
    #                       is a problem
    REPORT = "report"     # unknown, and what the command said goes into `problems`
    IGNORE = "ignore"     # stdout is parsed whatever the status (a listing ending in `true`)


@dataclass(frozen=True, kw_only=True)
class Fact:
    """One thing carpctl reads from a node: the command that prints it and its parser."""

    name: str                            # what flows ask for, and the key of its result
    command: C.Command
    parse: Callable[[Result], Any]       # None: nothing to say (the field keeps its default)
    on_fail: OnFail = OnFail.UNKNOWN
    missing: Callable[[], Any] | None = None   # the value when the file does not exist
    fills: str = ""                      # the NodeState field, when it is not `name`

    @property
    def field(self) -> str:
        return self.fills or self.name


def from_stdout(parser: Callable[[str], Any]) -> Callable[[Result], Any]:
    return lambda result: parser(result.stdout)


def from_output(parser: Callable[[str], Any]) -> Callable[[Result], Any]:
    """stdout and stderr: where a command says "does not exist" or "not running"."""
    return lambda result: parser(result.output)


def _last_line(text: str) -> str | None:
    lines = text.strip().splitlines()
    return lines[-1] if lines else None


#: every fact carpctl reads from a node, in the order parse_state reads them
REGISTRY: tuple[Fact, ...] = (
    # carp interfaces, and pfsync0 (a member of group carp) from the same output
    Fact(name="carp", command=C.IFCONFIG_CARP, on_fail=OnFail.PARSE,
         parse=lambda result: tuple(parse_carp_interfaces(result.output))),
    Fact(name="demote", command=C.CARP_DEMOTE, parse=from_stdout(parse_group_demote)),
    Fact(name="carp", fills="pfsync", command=C.IFCONFIG_CARP, on_fail=OnFail.PARSE,
         parse=from_output(parse_pfsync)),
    Fact(name="sysctl", command=C.CARP_SYSCTL, parse=from_stdout(parse_carp_sysctl)),
    # counters: advertisements heard, and why some were dropped
    Fact(name="carp_stats", command=C.CARP_STATS, parse=from_stdout(parse_carp_stats)),
    Fact(name="pf", command=C.PF_INFO, on_fail=OnFail.REPORT, parse=from_stdout(parse_pf_info)),
    # rcctl get exits 0 for an enabled daemon, 1 for a disabled one
    Fact(name="relayd_enabled", command=C.RELAYD_ENABLED, on_fail=OnFail.PARSE,
         parse=lambda result: parse_rcctl_get(result.output, result.status).enabled),
    Fact(name="relayd", command=C.RELAYD_SUMMARY, on_fail=OnFail.PARSE,
         parse=from_output(parse_relayctl)),
    Fact(name="maintenance", command=C.read_marker(MAINTENANCE_FILE),
         parse=from_stdout(lambda text: text.strip() or "yes")),
    Fact(name="parked", command=C.read_marker(PARKED_FILE), parse=from_stdout(Parked.parse)),
    # deploys put back at boot, unconfirmed: the last one
    Fact(name="boot_restored", command=C.read_marker(BOOT_RESTORED_FILE),
         parse=from_stdout(_last_line)),
    Fact(name="backups", command=C.LIST_BACKUP_SETS, on_fail=OnFail.IGNORE,
         parse=lambda result: tuple(parse_sets(result.stdout))),
    # groups, link and subnet of every interface
    Fact(name="interfaces", command=C.IFCONFIG_ALL, parse=from_stdout(parse_interfaces)),
    # the counter of every group of a carp interface
    Fact(name="group_demotes", command=C.GROUP_DEMOTES, parse=from_stdout(parse_group_demotes)),
    # /etc/hostname.carpN, pass replaced by its hash
    Fact(name="carp_config", command=C.HOSTNAME_CARP, parse=from_stdout(parse_hostname_carp)),
    # rc's temporary boot ruleset? relayd's anchor called?
    Fact(name="pf_rules", command=C.PF_RULES, parse=from_stdout(parse_pf_rules)),
    Fact(name="pf_anchors", command=C.PF_ANCHORS, parse=from_stdout(parse_pf_anchors)),
    Fact(name="sysctl_conf", command=C.SYSCTL_CONF, missing=dict,
         parse=from_stdout(parse_sysctl_conf)),
    Fact(name="release", command=C.RELEASE, parse=from_stdout(parse_release)),   # uname -r
    # the running kernel (carpctl.facts.release)
    Fact(name="kern_version", command=C.KERN_VERSION, parse=from_stdout(parse_kern_version)),
)
#: every fact by name: the command that prints it
FACTS: dict[str, C.Command] = {fact.name: fact.command for fact in REGISTRY}
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


@dataclass(frozen=True, kw_only=True)
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
    return NodeState(node=node, reachable=False, error=exc.message.removeprefix(f"{exc.node}: "),
                     reason=exc.reason)


def _missing(result: Result) -> bool:
    return "No such file or directory" in result.stderr


def parse_state(node: str, results: Mapping[str, Result]) -> NodeState:
    """Named results (see fact_commands) -> NodeState; facts not in `results` stay None."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for fact in REGISTRY:
        result = results.get(fact.name)
        value = None if result is None else _read(fact, result, problems)
        if value is not None:
            values[fact.field] = value
    parked = values.get("parked")
    # a reboot resets the runtime values: then the record is stale
    if parked is not None and not parked.still_applies(values.get("carp", ()),
                                                       values.get("demote")):
        del values["parked"]
    return NodeState(node=node, reachable=True, **values, files=_files(results, problems),
                     problems=tuple(problems))


def _read(fact: Fact, result: Result, problems: list[str]) -> Any:
    """One fact's value from its command's result; None when unknown."""
    if fact.missing is not None and _missing(result):
        return fact.missing()
    if not result.ok:
        if fact.on_fail is OnFail.UNKNOWN:
            return None
        if fact.on_fail is OnFail.REPORT:
            problems.append(f"{result.command}: {result.output.strip()[:200]}")
            return None
        if fact.on_fail is OnFail.PARSE and result.stderr.startswith("doas: "):
            problems.append(f"{result.command}: {result.stderr.strip()[:200]}")
            return None
    return _parsed(fact.parse, result, problems)


def _parsed(parse: Callable[[Result], Any], result: Result, problems: list[str]) -> Any:
    try:
        return parse(result)
    except ParseError as exc:
        problems.append(f"{result.command}: {exc}")
        return None


def _files(results: Mapping[str, Result], problems: list[str]) -> dict[str, str | None]:
    """dest -> sha256, None when missing; a file that could not be read is left out."""
    files: dict[str, str | None] = {}
    for name, result in results.items():
        if not name.startswith(_FILE):
            continue
        dest = name.removeprefix(_FILE)
        if result.ok:
            files[dest] = _parsed(from_stdout(parse_sha256), result, problems)
        elif _missing(result):
            files[dest] = None
        else:  # unreadable (doas refused?): unknown, which is not "missing"
            problems.append(f"{result.command}: {result.output.strip()[:200]}")
    return files
