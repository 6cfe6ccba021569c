"""`deploy --handoff [--hand-back]`: the MASTER is never updated while it carries the traffic."""

from __future__ import annotations

import dataclasses

import pytest
from deploy_support import run_deploy

from carpctl.errors import UsageError


def quick_failover(session) -> None:
    """The lab pair with a short settle watch, so the two failovers stay fast."""
    inventory = session.inventory
    pair = inventory.pair("pair1")
    pair = dataclasses.replace(pair, failover=dataclasses.replace(pair.failover, settle=0.5))
    session.inventory = dataclasses.replace(inventory, pairs={"pair1": pair})


def record_masters(lab, session) -> list[tuple[str, str | None, dict]]:
    """(step, node, vhid -> MASTERs) as each step of the run is journaled."""
    seen = []
    journal = session.step

    def step(name, status, *, node=None, **data):
        seen.append((name, node, {v: tuple(m) for v, m in lab.masters("pair1").items()}))
        journal(name, status, node=node, **data)
    session.step = step
    return seen


def test_handoff_updates_the_backup_moves_master_to_it_updates_the_old_master_and_hands_back(
        lab, session):
    quick_failover(session)
    seen = record_masters(lab, session)
    report = run_deploy(session, handoff=True, hand_back=True)

    assert report.exit_code == 0, report.summary
    fw1, fw2 = {1: ("fw1",), 2: ("fw1",)}, {1: ("fw2",), 2: ("fw2",)}
    moments = [(name, node, masters) for name, node, masters in seen
               if name in ("install", "handoff", "hand-back")]
    assert moments == [("install", "fw2", fw1), ("handoff", None, fw2),
                       ("install", "fw1", fw2), ("hand-back", None, fw1)]
    assert report.master == "fw1"
    assert {n: r.state for n, r in report.nodes.items()} == {"fw1": "updated",
                                                             "fw2": "updated"}


def test_handoff_without_hand_back_leaves_master_on_the_updated_peer(lab, session):
    quick_failover(session)
    report = run_deploy(session, handoff=True)

    assert report.exit_code == 0, report.summary
    assert report.master == "fw2"
    assert lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}


def test_hand_back_without_handoff_or_a_zero_confirm_timeout_is_a_usage_error(session):
    with pytest.raises(UsageError, match="--hand-back needs --handoff"):
        run_deploy(session, hand_back=True)
    with pytest.raises(UsageError, match="--confirm-timeout must be more than 0"):
        run_deploy(session, confirm_timeout=0)


def test_a_refused_handoff_stops_the_rollout_with_the_master_still_on_its_old_files(
        lab, session):
    quick_failover(session)
    lab.preempt("pair1", "fw2", False)     # the advskew method cannot move MASTER then
    report = run_deploy(session, handoff=True)

    assert report.exit_code == 1
    assert "handoff to fw2 failed" in report.summary
    assert "fw1 still has the previous files and is MASTER" in report.summary
    assert {n: r.state for n, r in report.nodes.items()} == {"fw2": "updated",
                                                             "fw1": "untouched"}
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
