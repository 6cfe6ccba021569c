"""What changed between two reads of a pair, as events a person or a script acts on.

`carpctl watch` reads the pairs again and again; printing each read would bury
the one line that matters, so it prints only these differences. Pure: two
snapshots in, events out.

A node that cannot be read says nothing about its vhids: while it is unseen,
the snapshot keeps the MASTERs last seen instead of guessing, so a crashed
MASTER gives "fw1 unreachable", then "vhid 1 MASTER moved from fw1 to fw2" once
the peer has taken over, never a MASTER that vanished and came back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carpctl.core.backends import hosts_by_name
from carpctl.core.carp import PairVerdict, vhid_table
from carpctl.core.severity import Severity, pair_severity
from carpctl.facts.state import NodeState

KINDS = ("watching", "node-unreachable", "node-back", "master-moved", "demote-changed",
         "relayd-stopped", "relayd-started", "relayd-host-down", "relayd-host-up",
         "verdict-changed")


@dataclass(frozen=True, kw_only=True)
class Event:
    kind: str
    pair: str
    message: str
    at: float                                   # Unix time of the read that saw it
    node: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def timestamp(self) -> str:
        return datetime.fromtimestamp(self.at).astimezone().isoformat(timespec="seconds")

    def to_json(self) -> dict[str, Any]:
        """One flat object (one line with --json, a hook's stdin)."""
        return {"time": self.timestamp, "event": self.kind, "pair": self.pair,
                "node": self.node, **self.details, "message": self.message}

    def line(self) -> str:
        return f"{self.timestamp} {self.pair}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class PairSnapshot:
    """One read of a pair, reduced to what events compare."""

    pair: str
    verdict: str
    severity: Severity
    master: str | None
    masters: dict[int, tuple[str, ...]]        # vhid -> MASTER nodes (kept while a node is unseen)
    nodes: dict[str, NodeState]


def snapshot(pair: str, verdict: PairVerdict, nodes: tuple[NodeState, ...] | list[NodeState],
             previous: PairSnapshot | None = None) -> PairSnapshot:
    seen = [n for n in nodes if n.reachable]
    unseen = len(seen) < len(nodes)
    table = vhid_table(seen)
    vhids = set(table) | (set(previous.masters) if previous and unseen else set())
    masters = {}
    for vhid in sorted(vhids):
        known = tuple(n for n, state in table.get(vhid, {}).items() if state == "MASTER")
        if not known and unseen:
            known = previous.masters.get(vhid, ()) if previous else ()
        masters[vhid] = known
    return PairSnapshot(pair=pair, verdict=verdict.verdict, severity=pair_severity(verdict, nodes),
                        master=verdict.master, masters=masters, nodes={n.node: n for n in nodes})


def started(snap: PairSnapshot, at: float) -> Event:
    """The first line for a pair: where the watch starts from."""
    master = f", MASTER {snap.master}" if snap.master else ""
    unseen = [n for n, s in snap.nodes.items() if not s.reachable]
    return Event(kind="watching", pair=snap.pair,
                 message=f"watching: {snap.verdict} ({snap.severity.name}){master}"
                 + (f"; unreachable: {', '.join(unseen)}" if unseen else ""), at=at,
                 details={"verdict": snap.verdict, "severity": snap.severity.name,
                          "master": snap.master, "unreachable": unseen})


def diff(before: PairSnapshot, after: PairSnapshot, at: float) -> list[Event]:
    """Every change from `before` to `after`, in the order a person reads them."""
    events: list[Event] = []
    for name, now in after.nodes.items():
        was = before.nodes.get(name)
        if was is not None:
            events.extend(_reachability(after.pair, was, now, at))
    events.extend(_masters(before, after, at))
    for name, now in after.nodes.items():
        was = before.nodes.get(name)
        if was is not None and was.reachable and now.reachable:
            events.extend(_demote(after.pair, was, now, at))
            events.extend(_relayd(after.pair, was, now, at))
    if (before.verdict, before.severity) != (after.verdict, after.severity):
        events.append(Event(
            kind="verdict-changed", pair=after.pair,
            message=f"verdict {before.verdict} -> {after.verdict} ({after.severity.name})", at=at,
            details={"from": before.verdict, "to": after.verdict,
                     "severity": after.severity.name, "was_severity": before.severity.name}))
    return events


def _reachability(pair: str, was: NodeState, now: NodeState, at: float) -> Iterator[Event]:
    if was.reachable and not now.reachable:
        yield Event(kind="node-unreachable", pair=pair,
                    message=f"{now.node} unreachable ({now.reason}): {now.error}", at=at,
                    node=now.node, details={"reason": now.reason, "error": now.error})
    elif now.reachable and not was.reachable:
        yield Event(kind="node-back", pair=pair, message=f"{now.node} reachable again", at=at,
                    node=now.node)


def _names(nodes: tuple[str, ...]) -> str:
    return " and ".join(nodes) if nodes else "none"


def _masters(before: PairSnapshot, after: PairSnapshot, at: float) -> Iterator[Event]:
    for vhid, now in after.masters.items():
        was = before.masters.get(vhid)
        if was is None or set(was) == set(now):
            continue
        if len(now) > 1:
            text = f"vhid {vhid}: MASTER on both {_names(now)} (was {_names(was)})"
        elif not now:
            text = f"vhid {vhid}: no MASTER (was {_names(was)})"
        else:
            text = f"vhid {vhid}: MASTER moved from {_names(was)} to {now[0]}"
        yield Event(kind="master-moved", pair=after.pair, message=text, at=at,
                    details={"vhid": vhid, "from": list(was), "to": list(now)})


def _demote(pair: str, was: NodeState, now: NodeState, at: float) -> Iterator[Event]:
    if was.demote is None or now.demote is None or was.demote == now.demote:
        return
    by = now.demote - was.demote
    cause = demote_cause(was, now, by)
    yield Event(kind="demote-changed", pair=pair,
                message=f"{now.node} carp demote counter {was.demote} -> {now.demote} ({by:+d}"
                + (f", {cause})" if cause else ")"), at=at, node=now.node,
                details={"from": was.demote, "to": now.demote, "by": by, "cause": cause})


def demote_cause(was: NodeState, now: NodeState, by: int) -> str | None:
    """Which part of the demote counter moved, when the node's other facts tell."""
    parts = []
    init_before = {c.name for c in was.carp if c.state == "INIT"}
    init_now = {c.name for c in now.carp if c.state == "INIT"}
    if init_now - init_before:
        parts.append(f"link down on {', '.join(sorted(init_now - init_before))}")
    if init_before - init_now:
        parts.append(f"link back on {', '.join(sorted(init_before - init_now))}")
    if bool(was.maintenance) != bool(now.maintenance):
        parts.append("maintenance " + ("entered" if now.maintenance else "left"))
    if (was.parked is None) != (now.parked is None):
        parts.append("parked by carpctl" if now.parked else "no longer parked")
    if not parts and abs(by) in (32, 160):
        parts.append("pfsync bulk update " + ("started" if by > 0 else "done"))
    if not parts and abs(by) == 128:
        parts.append("boot (/etc/rc demotes by 128 until it ends)" if by > 0
                     else "/etc/rc finished booting")
    return "; ".join(parts) or None


def _relayd(pair: str, was: NodeState, now: NodeState, at: float) -> Iterator[Event]:
    if was.relayd is None or now.relayd is None:
        return
    if was.relayd.running != now.relayd.running:
        kind = "relayd-started" if now.relayd.running else "relayd-stopped"
        yield Event(kind=kind, pair=pair, message=f"{now.node} relayd {kind.split('-')[1]}", at=at,
                    node=now.node)
        return
    if not now.relayd.running:
        return
    before, after = hosts_by_name(was.relayd), hosts_by_name(now.relayd)
    for host, up in after.items():
        if host in before and before[host] != up:
            state = "up" if up else "down"
            yield Event(kind=f"relayd-host-{state}", pair=pair,
                        message=f"{now.node} relayd host {host} {state}", at=at, node=now.node,
                        details={"host": host})
