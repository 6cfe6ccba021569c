"""Read a node's state in one round trip: the facts every flow starts from.

The commands are read-only and batched; each output goes to its pure parser. A
parser that does not understand the output leaves that fact empty and says so
in `problems`, so one odd line never hides the rest of a node's state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
from carpctl.facts.parked import PARKED_FILE, Parked
from carpctl.remote import commands as C
from carpctl.remote.connection import NodeConnection, Result

MAINTENANCE_FILE = "/var/carpctl/maintenance/state"  # kept by `carpctl maintenance`


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
    pfsync: Pfsync | None = None
    pf: PfInfo | None = None
    relayd_enabled: bool | None = None
    relayd: RelaydSummary | None = None
    maintenance: str | None = None     # the marker's text when the node is in maintenance
    parked: Parked | None = None       # a demotion carpctl keeps on purpose (still in force)
    files: dict[str, str | None] = field(default_factory=dict)  # dest -> sha256, None: missing
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


def unreachable(node: str, exc: RemoteError) -> NodeState:
    return NodeState(node, False, error=exc.message.removeprefix(f"{exc.node}: "),
                     reason=exc.reason)


def carp_commands() -> list[C.Command]:
    """The minimum for CARP decisions (polling during a failover)."""
    return [C.IFCONFIG_CARP, C.CARP_DEMOTE]


def status_commands(dests: tuple[str, ...] = ()) -> list[C.Command]:
    return [C.IFCONFIG_CARP, C.CARP_DEMOTE, C.CARP_SYSCTL, C.PF_INFO, C.RELAYD_ENABLED,
            C.RELAYD_SUMMARY, C.read_marker(MAINTENANCE_FILE), C.read_marker(PARKED_FILE),
            *(C.sha256(dest) for dest in dests)]


def read_state(conn: NodeConnection, *, full: bool = True, dests: tuple[str, ...] = ()) -> NodeState:
    """One round trip; raises RemoteError only if the node cannot be reached at all."""
    cmds = status_commands(dests) if full else carp_commands()
    results = conn.batch(cmds)
    return parse_state(conn.node.name, results, dests if full else ())


def _missing(result: Result) -> bool:
    return "No such file or directory" in result.stderr


def parse_state(node: str, results: list[Result], dests: tuple[str, ...] = ()) -> NodeState:
    """Results of carp_commands() or status_commands(dests), in that order -> NodeState."""
    problems: list[str] = []

    def parsed(result: Result, parser: Callable, text: str | None = None):
        if not result.ok and result.stderr.startswith("doas: "):
            problems.append(f"{result.command}: {result.stderr.strip()[:200]}")
            return None
        try:
            return parser(result.stdout if text is None else text)
        except ParseError as exc:
            problems.append(f"{result.command}: {exc}")
            return None

    ifconfig, demote = results[0], results[1]
    carp = parsed(ifconfig, parse_carp_interfaces, ifconfig.output) or ()
    pfsync = parsed(ifconfig, parse_pfsync, ifconfig.output)
    values = {
        "node": node, "reachable": True, "carp": tuple(carp), "pfsync": pfsync,
        "demote": parsed(demote, parse_group_demote) if demote.ok else None,
    }
    if len(results) > 2:
        sysctl, pf, enabled, relayctl, marker, parked = results[2:8]
        values["sysctl"] = parsed(sysctl, parse_carp_sysctl) if sysctl.ok else None
        values["pf"] = parsed(pf, parse_pf_info) if pf.ok else None
        if not pf.ok:
            problems.append(f"{pf.command}: {pf.output.strip()[:200]}")
        config = parsed(enabled, lambda text: parse_rcctl_get(text, enabled.status),
                        enabled.output)
        values["relayd_enabled"] = config.enabled if config else None
        values["relayd"] = parsed(relayctl, parse_relayctl, relayctl.output)
        values["maintenance"] = marker.stdout.strip() or "yes" if marker.ok else None
        record = Parked.parse(parked.stdout) if parked.ok else None
        values["parked"] = record if record and record.still_applies(carp, values["demote"]) \
            else None   # a reboot resets the runtime values: then the record is stale
        files = {}
        for dest, result in zip(dests, results[8:]):
            if result.ok:
                files[dest] = parsed(result, parse_sha256)
            elif _missing(result):
                files[dest] = None
            else:  # unreadable (doas refused?): unknown, which is not "missing"
                problems.append(f"{result.command}: {result.output.strip()[:200]}")
        values["files"] = files
    return NodeState(**values, problems=tuple(problems))
