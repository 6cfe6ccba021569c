"""NodeState values and a Pair built by hand, for the pure tests of failover's decisions.

Every value is given by keyword: the fields of these dataclasses grow and move, and a
test must say which one it means. The defaults are a healthy pair: fw1 MASTER at
advskew 0, fw2 BACKUP at advskew 100, preempt on, pfsync up, pf states in step.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from carpctl.facts import CarpInterface, CarpSysctl, PfInfo, Pfsync, RelaydSummary
from carpctl.facts.relayctl import RelaydEntry
from carpctl.facts.state import NodeState
from carpctl.inventory import FailoverSettings, Node, Pair


def inventory_node(name: str) -> Node:
    return Node(name=name, pair="p", host="127.0.0.1", port=22, user="root", become="none",
                identity_files=(), known_hosts=(), proxy_jump=None, connect_timeout=5.0, vars={})


def pair(*, pfsync: bool = True, **failover) -> Pair:
    return Pair(name="p", nodes=(inventory_node("fw1"), inventory_node("fw2")),
                failover=FailoverSettings(**failover), files=(), vars={},
                source_file=Path("inventory.yml"), pfsync=pfsync)


def carp(index: int, state: str, *, advskew: int | None = 0, advbase: int | None = 1,
         vhid: int | None = None, name: str | None = None,
         balancing: str | None = None) -> CarpInterface:
    return CarpInterface(name=name or f"carp{index}", state=state,
                         vhid=index + 1 if vhid is None else vhid, advbase=advbase,
                         advskew=advskew, carpdev=f"em{index}", up=state != "INIT",
                         running=state != "INIT", addresses=(), carppeer=None,
                         balancing=balancing)


def relayd(running: bool = True, *, relays: bool = False) -> RelaydSummary:
    entries = (RelaydEntry(id=1, type="relay", name="www", availability=None, status="active"),
               ) if relays else ()
    return RelaydSummary(running=running, entries=entries if running else (),
                         host_checks=MappingProxyType({}))


def node(name: str, *states: str, advskew: int = 0, advbase: int = 1, demote: int = 0,
         preempt: bool = True, allow: bool = True, pf_states: int = 100,
         **changes) -> NodeState:
    """A reachable node whose carp{i} has vhid i+1 in states[i]; `changes` replace fields."""
    state = NodeState(
        node=name, reachable=True,
        carp=tuple(carp(i, s, advskew=advskew, advbase=advbase) for i, s in enumerate(states)),
        demote=demote, sysctl=CarpSysctl(allow=allow, preempt=preempt, log=2),
        pfsync=Pfsync(present=True, up=True, running=True, syncdev="em2", syncpeer=None,
                      maxupd=128, defer=False),
        pf=PfInfo(enabled=True, since=None, states=pf_states, debug="err", hostid=None,
                  checksum=None),
        relayd=relayd(False))
    return replace(state, **changes)


def master(name: str = "fw1", **kw) -> NodeState:
    return node(name, "MASTER", "MASTER", **kw)


def backup(name: str = "fw2", **kw) -> NodeState:
    kw.setdefault("advskew", 100)
    return node(name, "BACKUP", "BACKUP", **kw)
