"""`carpctl maintenance enter|exit` against the lab: persistent, exact, and safe."""

from __future__ import annotations

import time

import pytest
from lab_inventories import poll

from carpctl.errors import RefusedError
from carpctl.flows.failover import failover
from carpctl.flows.maintenance import enter, exit_
from carpctl.flows.status import status

ORIGINAL_RC_LOCAL = "# site-specific start-up\necho started >/dev/null\n"


def truth(lab, node):
    return lab.truth("pair1")["nodes"][node]


def test_entering_maintenance_on_the_master_hands_over_and_demotes_it(lab, session):
    report = enter(session, session.inventory.pair(), "fw1")
    assert report.changed and report.handed_over
    assert lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
    assert truth(lab, "fw1")["demote"] == 50
    assert "carpdemote 50" in lab.node("pair1", "fw1").fs.read_text("/etc/rc.local")


def test_entering_maintenance_on_the_backup_moves_nothing(lab, session):
    report = enter(session, session.inventory.pair(), "fw2")
    assert report.changed and not report.handed_over
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    assert truth(lab, "fw2")["demote"] == 50


def test_a_reboot_during_maintenance_leaves_the_node_backup_and_demoted(lab, session):
    enter(session, session.inventory.pair(), "fw1")
    lab.reboot("pair1", "fw1", downtime=0.5)
    # boot: demote 128 (rc) + 32 (pfsync) + 50 (rc.local); then -128 and the bulk update
    poll(lambda: truth(lab, "fw1")["powered"] and truth(lab, "fw1")["demote"] == 50, timeout=12)
    assert lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
    time.sleep(1.5)   # fw2's advertisements do not bring MASTER back to the faster fw1
    assert lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}


def test_exit_restores_an_existing_rc_local_byte_for_byte(lab, session):
    fs = lab.node("pair1", "fw1").fs
    fs.install("/etc/rc.local", ORIGINAL_RC_LOCAL, mode=0o644)
    pair = session.inventory.pair()
    enter(session, pair, "fw1")
    exit_(session, pair, "fw1")
    assert fs.read_bytes("/etc/rc.local") == ORIGINAL_RC_LOCAL.encode()
    assert fs.stat("/etc/rc.local").mode == 0o644
    assert not fs.exists("/var/carpctl/maintenance/state")


def test_exit_removes_an_rc_local_that_did_not_exist(lab, session):
    pair = session.inventory.pair()
    enter(session, pair, "fw2")
    exit_(session, pair, "fw2")
    assert not lab.node("pair1", "fw2").fs.exists("/etc/rc.local")
    assert truth(lab, "fw2")["demote"] == 0


def test_exit_keeps_master_where_it_is_and_says_how_to_hand_back(lab, session):
    pair = session.inventory.pair()
    enter(session, pair, "fw1")
    report = exit_(session, pair, "fw1")
    assert "carpctl failover pair1 --to fw1" in report.note
    time.sleep(1.5)
    assert lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
    failover(session, pair, to="fw1")
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    assert truth(lab, "fw1")["demote"] == 0


def test_exit_with_failback_hands_master_back(lab, session):
    pair = session.inventory.pair()
    enter(session, pair, "fw1")
    report = exit_(session, pair, "fw1", failback=True)
    assert report.handed_over
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    assert truth(lab, "fw1")["demote"] == 0


def test_the_only_healthy_node_cannot_enter_maintenance(lab, session):
    pair = session.inventory.pair()
    enter(session, pair, "fw2")
    with pytest.raises(RefusedError, match="fw2 is in maintenance itself"):
        enter(session, pair, "fw1")
    assert truth(lab, "fw1")["demote"] == 0


def test_status_shows_a_node_in_maintenance(lab, session):
    pair = session.inventory.pair()
    enter(session, pair, "fw1")
    (result,) = status(session, [pair])
    fw1 = next(s for s in result.nodes if s.node == "fw1")
    assert fw1.maintenance and "amount=50" in fw1.maintenance
    assert "maintenance" in {f.code for f in result.verdict.findings}


def test_the_cli_asks_before_moving_master_and_a_script_needs_yes(lab, capsys):
    from carpctl.cli import main

    inventory = str(lab.inventory)
    assert main(["-i", inventory, "maintenance", "enter", "pair1", "fw1"]) == 3
    assert "--yes" in capsys.readouterr().err
    assert truth(lab, "fw1")["demote"] == 0
    assert main(["-i", inventory, "maintenance", "enter", "pair1", "fw1", "--yes"]) == 0
    assert main(["-i", inventory, "maintenance", "exit", "pair1", "fw1"]) == 0  # moves nothing


def test_exit_counts_every_group_the_carp_interfaces_advertise_not_only_carp(lab_factory):
    """fw1's carp interfaces are also in group `ha`, demoted by 1 (an ifstated script, say):
    once maintenance's 50 is off the `carp` group it still advertises 1, so it cannot take
    MASTER back and exit lifts the demotion instead of keeping it parked."""
    from carpctl.inventory import load_inventory
    from carpctl.runtime.history import History
    from carpctl.runtime.session import Session
    from carpctl_lab.image import CarpSpec, PairSpec

    carp = tuple(CarpSpec(c.ifname, c.vhid, c.carpdev, c.address, groups=("ha",))
                 for c in PairSpec().carp)
    lab = lab_factory([PairSpec(carp=carp)])
    with Session(load_inventory(lab.inventory), history=History()) as session:
        pair = session.inventory.pair()
        enter(session, pair, "fw1")
        node = lab.node("pair1", "fw1")
        with node.lock:
            node.pair.advance()
            assert node.system(["ifconfig", "-g", "ha", "carpdemote", "1"])[0] == 0
        report = exit_(session, pair, "fw1")
    assert report.changed and report.note is None, report.note
    assert truth(lab, "fw1")["demote"] == 0            # the `carp` group: maintenance is off
    assert lab.node("pair1", "fw1").pair.model.demote("fw1", "ha") == 1
    assert lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
