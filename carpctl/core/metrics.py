"""The Prometheus metrics of a read of the pairs, as plain data.

The exporter and `status --format prometheus` hand these families to
prometheus_client (which formats them); keeping them plain data here keeps the
choice of names, labels and values pure and testable, and this module free of
the library. A fact carpctl could not read is left out rather than reported
as 0: an absent series alerts through `absent()`, a fake 0 would lie. Enums
(CARP state, verdict) are one series per possible value, 1 for the current one,
as Prometheus' naming guidelines recommend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from carpctl.core.backends import hosts_by_name
from carpctl.core.carp import SEVERITY, PairVerdict
from carpctl.core.severity import pair_severity
from carpctl.facts import CARP_STATES
from carpctl.facts.state import NodeState

PREFIX = "carpctl_"
VERDICTS = ("healthy", *SEVERITY)


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


@dataclass(kw_only=True)
class Family:
    name: str
    help: str
    labels: tuple[str, ...]
    samples: list[Sample] = field(default_factory=list)
    kind: str = "gauge"                     # or "counter" (name ends in _total)

    def add(self, value: float, *labels: str) -> None:
        self.samples.append(Sample(dict(zip(self.labels, labels)), float(value)))


NODE = ("pair", "node")
VHID = ("pair", "node", "interface", "vhid")
SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "node_reachable": ("1 if carpctl could read the node over SSH", NODE),
    "carp_state": ("1 for the vhid's current CARP state (INIT, BACKUP, MASTER)",
                   (*VHID, "state")),
    "carp_advskew": ("advskew of the vhid", VHID),
    "carp_advbase": ("advbase of the vhid, in seconds", VHID),
    "carp_demote": ("carp demote counter of the interface group", (*NODE, "group")),
    "carp_preempt": ("net.inet.carp.preempt", NODE),
    "carp_allow": ("net.inet.carp.allow (0: CARP packets dropped, split brain ahead)", NODE),
    "pfsync_up": ("1 if pfsync0 is up with a syncdev", NODE),
    "pf_enabled": ("1 if pf is enabled", NODE),
    "pf_states": ("pf state table entries", NODE),
    "relayd_running": ("1 if relayd is running", NODE),
    "relayd_hosts_up": ("backend hosts relayd sees up", NODE),
    "relayd_hosts_total": ("backend hosts relayd checks", NODE),
    "relayd_host_up": ("1 if relayd sees this backend host up", (*NODE, "host")),
    "maintenance": ("1 if the node is in carpctl maintenance mode", NODE),
    "parked": ("1 if carpctl keeps the node demoted on purpose (parked)", NODE),
    "pair_verdict": ("1 for the pair's current verdict (its worst finding, or healthy)",
                     ("pair", "verdict")),
    "pair_severity": ("the pair's plugin severity: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
                      ("pair",)),
    "pair_findings": ("findings of the pair, by code", ("pair", "code")),
    "scrape_duration_seconds": ("how long reading every selected node took (the read this "
                                "scrape serves)", ()),
    "scrape_timestamp_seconds": ("when that read started (Unix time)", ()),
}


def _families() -> dict[str, Family]:
    return {name: Family(name=PREFIX + name, help=help, labels=labels)
            for name, (help, labels) in SPECS.items()}


def families(statuses: Iterable, *, duration: float, timestamp: float) -> list[Family]:
    """Every metric family for one read; `statuses` are flows.status.PairStatus values."""
    out = _families()
    for status in statuses:
        for node in status.nodes:
            _node(out, status.pair, node)
        _pair(out, status.pair, status.verdict, status.nodes)
    out["scrape_duration_seconds"].add(duration)
    out["scrape_timestamp_seconds"].add(timestamp)
    return list(out.values())


def _flag(out: dict[str, Family], name: str, value: bool | int | None, *labels: str) -> None:
    if value is not None:
        out[name].add(int(value), *labels)


def _node(out: dict[str, Family], pair: str, node: NodeState) -> None:
    labels = (pair, node.node)
    out["node_reachable"].add(int(node.reachable), *labels)
    if not node.reachable:
        return
    for carp in node.carp:
        if carp.vhid is None:
            continue
        vhid = (*labels, carp.name, str(carp.vhid))
        for state in CARP_STATES:
            out["carp_state"].add(int(carp.state == state), *vhid, state)
        _flag(out, "carp_advskew", carp.advskew, *vhid)
        _flag(out, "carp_advbase", carp.advbase, *vhid)
    _flag(out, "carp_demote", node.demote, *labels, "carp")
    if node.sysctl is not None:
        _flag(out, "carp_preempt", node.sysctl.preempt, *labels)
        _flag(out, "carp_allow", node.sysctl.allow, *labels)
    if node.pfsync is not None:
        sync = node.pfsync
        _flag(out, "pfsync_up", sync.present and sync.up and sync.syncdev is not None, *labels)
    if node.pf is not None:
        _flag(out, "pf_enabled", node.pf.enabled, *labels)
        _flag(out, "pf_states", node.pf.states, *labels)
    if node.relayd is not None:
        _relayd(out, labels, node)
    _flag(out, "maintenance", bool(node.maintenance), *labels)
    _flag(out, "parked", node.parked is not None, *labels)


def _relayd(out: dict[str, Family], labels: tuple[str, str], node: NodeState) -> None:
    relayd = node.relayd
    _flag(out, "relayd_running", bool(relayd and relayd.running), *labels)
    if relayd is None or not relayd.running:
        return
    up = hosts_by_name(relayd)
    out["relayd_hosts_up"].add(sum(up.values()), *labels)
    out["relayd_hosts_total"].add(len(up), *labels)
    for name, is_up in up.items():
        out["relayd_host_up"].add(int(is_up), *labels, name)


def _pair(out: dict[str, Family], pair: str, verdict: PairVerdict,
          nodes: Sequence[NodeState]) -> None:
    current = verdict.verdict
    for name in (*VERDICTS, *(() if current in VERDICTS else (current,))):
        out["pair_verdict"].add(int(name == current), pair, name)
    out["pair_severity"].add(int(pair_severity(verdict, nodes)), pair)
    counts: dict[str, int] = {}
    for finding in verdict.findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    for code, count in sorted(counts.items()):
        out["pair_findings"].add(count, pair, code)
