"""The pure half of failover: preflight refusals and restore predictions, without a network."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from carpctl.core.failover_plan import preflight, restore_pulls_back
from carpctl.errors import RefusedError
from carpctl.facts import CarpInterface, CarpSysctl, Pfsync
from carpctl.facts.parked import Parked
from carpctl.facts.state import NodeState
from carpctl.inventory import FailoverSettings, Node, Pair

SETTINGS = FailoverSettings()


def node(name: str) -> Node:
    return Node(name=name, pair="p", host="127.0.0.1", port=22, user="root", become="none",
                identity_files=None, known_hosts=(), proxy_jump=None, connect_timeout=5.0, vars={})


PAIR = Pair(name="p", nodes=(node("fw1"), node("fw2")), failover=SETTINGS, files=(), vars={},
            source_file=Path("inventory.yml"))


def state(name: str, states: tuple[str, ...], skew: int, *, preempt: bool = True,
          demote: int = 0, advbase: int = 1) -> NodeState:
    carp = tuple(CarpInterface(name=f"carp{i}", state=s, vhid=i + 1, advbase=advbase, advskew=skew,
                               carpdev=f"em{i}", up=True, running=s != "INIT", addresses=(),
                               carppeer=None) for i, s in enumerate(states))
    return NodeState(node=name, reachable=True, carp=carp, demote=demote,
                     sysctl=CarpSysctl(True, preempt, 2),
                     pfsync=Pfsync(present=True, up=True, running=True, syncdev="em2",
                                   syncpeer=None, maxupd=128, defer=False))


def plan_for(fw1: NodeState, fw2: NodeState, *, to="fw2", method="advskew", force=False):
    return preflight(PAIR, {"fw1": fw1, "fw2": fw2}, to=to, method=method, force=force,
                     settings=SETTINGS)


def test_peer_means_the_node_that_is_not_master():
    plan = plan_for(state("fw1", ("MASTER", "MASTER"), 0), state("fw2", ("BACKUP", "BACKUP"), 100),
                    to="peer")
    assert (plan.source, plan.target) == ("fw1", "fw2")
    assert plan.originals == {"carp0": 0, "carp1": 0}


def test_a_target_already_master_is_reported_as_nothing_to_do():
    plan = plan_for(state("fw1", ("MASTER", "MASTER"), 0), state("fw2", ("BACKUP", "BACKUP"), 100),
                    to="fw1")
    assert plan.already


def test_masters_split_across_nodes_are_refused_unless_forced():
    fw1, fw2 = state("fw1", ("MASTER", "BACKUP"), 0), state("fw2", ("BACKUP", "MASTER"), 100)
    with pytest.raises(RefusedError, match="split across"):
        plan_for(fw1, fw2)
    assert plan_for(fw1, fw2, force=True).source == "fw1"


def test_an_init_interface_on_the_target_is_refused():
    with pytest.raises(RefusedError, match="carp1 is INIT"):
        plan_for(state("fw1", ("MASTER", "MASTER"), 0), state("fw2", ("BACKUP", "INIT"), 100))


def test_a_demoted_target_is_refused():
    with pytest.raises(RefusedError, match="demote count 32"):
        plan_for(state("fw1", ("MASTER", "MASTER"), 0),
                 state("fw2", ("BACKUP", "BACKUP"), 100, demote=32))


def test_a_target_at_advskew_254_would_not_move_for_the_advskew_method():
    with pytest.raises(RefusedError, match="nothing would move"):
        plan_for(state("fw1", ("MASTER", "MASTER"), 0), state("fw2", ("BACKUP", "BACKUP"), 254))


def test_restore_pulls_back_only_a_faster_source_with_preempt():
    after = (state("fw1", ("BACKUP", "BACKUP"), 254), state("fw2", ("MASTER", "MASTER"), 100))
    plan = plan_for(state("fw1", ("MASTER", "MASTER"), 0), state("fw2", ("BACKUP", "BACKUP"), 100))
    assert restore_pulls_back(plan, *after, source_preempt=True) == [1, 2]
    assert restore_pulls_back(plan, *after, source_preempt=False) == []


def test_equal_skews_never_pull_back():
    plan = plan_for(state("fw1", ("MASTER", "MASTER"), 10), state("fw2", ("BACKUP", "BACKUP"), 10))
    after = (state("fw1", ("BACKUP", "BACKUP"), 254), state("fw2", ("MASTER", "MASTER"), 10))
    assert restore_pulls_back(plan, *after, source_preempt=True) == []


def test_a_parked_target_is_handed_back_by_undoing_its_parking_alone():
    parked = Parked("advskew", {"carp0": 0, "carp1": 0}, 254, 0)
    fw1 = replace(state("fw1", ("BACKUP", "BACKUP"), 254), parked=parked)
    plan = plan_for(fw1, state("fw2", ("MASTER", "MASTER"), 100), to="fw1")
    assert plan.unpark == parked and plan.unpark_is_enough


def test_a_parked_record_no_longer_applies_after_a_reboot_reset_the_skews():
    parked = Parked("advskew", {"carp0": 0, "carp1": 0}, 254, 0)
    fw1 = state("fw1", ("BACKUP", "BACKUP"), 0)
    assert not parked.still_applies(fw1.carp, fw1.demote)
    assert Parked.parse(parked.line()) == parked
    assert Parked.parse("garbage") is None


def test_a_pair_without_relays_is_not_warned_that_relay_sessions_reset():
    plan = plan_for(state("fw1", ("MASTER", "MASTER"), 0), state("fw2", ("BACKUP", "BACKUP"), 100))
    assert plan.relays is False   # the lab's relay www is the True case (test_python_faces)
