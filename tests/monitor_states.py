"""Node states built by hand for the monitoring modules' pure tests.

`node("fw1", "MASTER")` is a healthy lab-like node: two vhids in that state,
demote 0, preempt on, pfsync up, pf with 44 states, relayd with two hosts up.
Keywords change one fact at a time.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from carpctl.core.carp import assess
from carpctl.facts import CarpInterface, CarpSysctl, PfInfo, Pfsync, RelaydEntry, RelaydSummary
from carpctl.facts.state import NodeState


def carp(name: str, state: str, vhid: int, advskew: int = 0) -> CarpInterface:
    return CarpInterface(name=name, state=state, vhid=vhid, advbase=1, advskew=advskew,
                         carpdev="em0", up=state != "INIT", running=state != "INIT",
                         addresses=("192.168.1.123",), carppeer=None)


def relayd(*down: str, hosts=("192.168.1.2", "192.168.1.3"), running=True) -> RelaydSummary:
    if not running:
        return RelaydSummary(False, (), MappingProxyType({}))
    entries = [RelaydEntry(id=1, type="relay", name="www", availability=None, status="active"),
               RelaydEntry(id=2, type="table", name="webhosts:80", availability=None,
                           status="active (2 hosts)")]
    entries += [RelaydEntry(id=3 + i, type="host", name=h, availability=100.0,
                            status="down" if h in down else "up")
                for i, h in enumerate(hosts)]
    return RelaydSummary(True, tuple(entries), MappingProxyType({}))


def node(name: str, state: str = "MASTER", *, states: tuple[str, str] | None = None,
         **changes) -> NodeState:
    first, second = states or (state, state)
    skew = 0 if name == "fw1" else 100
    base = NodeState(
        node=name, reachable=True,
        carp=(carp("carp0", first, 1, skew), carp("carp1", second, 2, skew)),
        demote=0, sysctl=CarpSysctl(True, True, 2),
        pfsync=Pfsync(present=True, up=True, running=True, syncdev="em2", syncpeer=None, maxupd=128,
                      defer=False),
        pf=PfInfo(enabled=True, since="0 days 01:00:00", states=44, debug="err", hostid=None,
                  checksum=None),
        relayd_enabled=True, relayd=relayd())
    return replace(base, **changes)


def unreachable(name: str) -> NodeState:
    return NodeState(node=name, reachable=False, error="connect timed out after 0.5s",
                     reason="timeout")


class Status:
    """What flows.status returns for a pair (PairStatus), from node states."""

    def __init__(self, *nodes: NodeState, pair: str = "pair1"):
        self.pair, self.nodes = pair, tuple(nodes)
        self.verdict = assess(pair, list(nodes))


def healthy(pair: str = "pair1") -> Status:
    return Status(node("fw1", "MASTER"), node("fw2", "BACKUP"), pair=pair)
