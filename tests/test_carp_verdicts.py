"""carp.assess(): the verdict of a pair from two NodeStates built by hand (pure units)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest

from carpctl.core.carp import SEVERITY, assess
from carpctl.facts import CarpInterface, CarpSysctl, Pfsync, RelaydEntry, RelaydSummary
from carpctl.facts.state import NodeState

SYNCED = Pfsync(present=True, up=True, running=True, syncdev="em2", syncpeer=None,
                maxupd=128, defer=False)


def relayd(*hosts: str, running: bool = True) -> RelaydSummary:
    entries = tuple(RelaydEntry(id=i, type="host", name=f"10.0.0.{i}", availability=100.0,
                                status=status)
                    for i, status in enumerate(hosts, 1))
    return RelaydSummary(running, entries if running else (), MappingProxyType({}))


def node(name: str, *states: str, advskew: int = 0, preempt: bool = True, **changes) -> NodeState:
    """A healthy node whose carpN has vhid N+1 in the given state."""
    carp = tuple(CarpInterface(name=f"carp{i}", state=state, vhid=i + 1, advbase=1, advskew=advskew,
                               carpdev=f"em{i}", up=True, running=state != "INIT",
                               addresses=(f"192.0.2.{i + 1}",), carppeer=None)
                 for i, state in enumerate(states))
    state = NodeState(node=name, reachable=True, carp=carp, demote=0,
                      sysctl=CarpSysctl(True, preempt, 2), pfsync=SYNCED, relayd_enabled=True,
                      relayd=relayd("up", "up"))
    return replace(state, **changes)


def master(**changes) -> NodeState:
    return node("fw1", "MASTER", "MASTER", **changes)


def backup(**changes) -> NodeState:
    return node("fw2", "BACKUP", "BACKUP", advskew=100, **changes)


def verdict_of(*states: NodeState, expected_files=None):
    return assess("pair1", list(states), expected_files)


def codes(verdict) -> list[str]:
    return [f.code for f in verdict.findings]


def test_one_master_on_every_vhid_and_nothing_wrong_is_healthy():
    verdict = verdict_of(master(), backup())
    assert (verdict.verdict, verdict.healthy, verdict.master) == ("healthy", True, "fw1")
    assert verdict.vhids == {1: {"fw1": "MASTER", "fw2": "BACKUP"},
                             2: {"fw1": "MASTER", "fw2": "BACKUP"}}


def test_two_masters_on_a_vhid_is_split_brain():
    verdict = verdict_of(master(), node("fw2", "MASTER", "BACKUP"))
    assert (verdict.verdict, verdict.master) == ("split-brain", None)
    assert verdict.findings[0].message == "vhid 1: MASTER on both fw1 and fw2"


def test_a_vhid_nobody_is_master_of_is_no_master():
    verdict = verdict_of(node("fw1", "MASTER", "BACKUP"), node("fw2", "BACKUP", "BACKUP"))
    assert verdict.verdict == "no-master"
    assert verdict.findings[0].message == "vhid 2: no MASTER seen (fw1 BACKUP, fw2 BACKUP)"


def test_a_pair_without_any_carp_interface_is_not_healthy():
    assert verdict_of(node("fw1"), node("fw2")).verdict == "no-master"


def test_masters_on_different_nodes_are_split_across_nodes():
    verdict = verdict_of(node("fw1", "MASTER", "BACKUP"), node("fw2", "BACKUP", "MASTER"))
    assert (verdict.verdict, verdict.master) == ("masters-split", None)
    assert verdict.findings[0].message == "MASTERs split across nodes: vhid 1 on fw1; vhid 2 on fw2"


def test_an_unreachable_node_is_reported_with_its_reason_and_the_other_is_still_judged():
    lost = NodeState(node="fw2", reachable=False, error="connection to 192.0.2.12:22 refused",
                     reason="refused")
    verdict = verdict_of(master(preempt=False), lost)
    assert codes(verdict) == ["unreachable", "preempt-off"]
    assert verdict.findings[0].message == \
        "fw2 unreachable (refused): connection to 192.0.2.12:22 refused"
    assert verdict.master == "fw1"


@pytest.mark.parametrize("fault, code", [
    (dict(demote=32), "demoted"),
    (dict(demote=128, maintenance="since 2024-05-01 by alice"), "maintenance"),
    (dict(preempt=False), "preempt-off"),
    (dict(pfsync=replace(SYNCED, up=False)), "pfsync-down"),
    (dict(pfsync=replace(SYNCED, syncdev=None)), "pfsync-down"),
    (dict(pfsync=replace(SYNCED, present=False, up=False)), "pfsync-down"),
    (dict(relayd=relayd("up", "down")), "webhosts-down"),
    (dict(problems=("pfctl -si: doas: Operation not permitted",)), "unparsed"),
])
def test_a_problem_on_the_backup_names_the_node(fault, code):
    verdict = verdict_of(master(), backup(**fault))
    assert [(f.code, f.node) for f in verdict.findings] == [(code, "fw2")]


def test_an_interface_in_init_is_reported():
    verdict = verdict_of(node("fw1", "MASTER", "INIT"), node("fw2", "BACKUP", "MASTER"))
    assert "carp-init" in codes(verdict)


def test_relayd_down_matters_on_the_master_only():
    stopped = relayd(running=False)
    assert verdict_of(master(relayd=stopped), backup()).verdict == "relayd-down"
    assert verdict_of(master(), backup(relayd=stopped)).healthy


def test_relayd_not_used_by_the_pair_is_not_down():
    unused = dict(relayd=relayd(running=False), relayd_enabled=False)
    assert verdict_of(master(**unused), backup(**unused)).healthy


def test_relayd_that_could_not_be_read_is_not_called_down():
    verdict = verdict_of(master(relayd=None, problems=("relayctl: doas refused",)), backup())
    assert codes(verdict) == ["unparsed"]


def test_files_are_compared_with_what_the_inventory_renders():
    expected = {"fw1": {"/etc/pf.conf": "aa", "/etc/relayd.conf": "bb"},
                "fw2": {"/etc/pf.conf": "aa", "/etc/relayd.conf": "bb"}}
    fw1 = master(files={"/etc/pf.conf": "aa", "/etc/relayd.conf": "cc"})
    fw2 = backup(files={"/etc/pf.conf": None})  # relayd.conf unreadable: left out
    verdict = verdict_of(fw1, fw2, expected_files=expected)
    assert [f.message for f in verdict.findings] == [
        "fw1 /etc/relayd.conf differs from the inventory", "fw2 /etc/pf.conf is missing"]


def test_the_verdict_is_the_worst_finding():
    verdict = verdict_of(node("fw1", "MASTER", "MASTER", preempt=False, demote=1),
                         node("fw2", "MASTER", "BACKUP", relayd=relayd("down")))
    assert set(codes(verdict)) == {"split-brain", "demoted", "preempt-off", "webhosts-down"}
    assert verdict.verdict == "split-brain"


def test_every_verdict_code_has_a_rank():
    assert len(set(SEVERITY)) == len(SEVERITY)
    assert {"unreachable", "split-brain", "no-master", "masters-split", "demoted",
            "preempt-off", "pfsync-down", "relayd-down", "webhosts-down", "drift"} <= set(SEVERITY)
