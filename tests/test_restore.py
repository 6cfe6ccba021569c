"""`carpctl restore PAIR NODE` over real SSH: a node put back to the files it boots with.

Configured skews from /etc/hostname.carpN, preempt from /etc/sysctl.conf, carpctl's
own parking undone exactly; maintenance and load-balanced CARP refused with nothing
changed; a restore that moves MASTER says so before and after.
"""

from __future__ import annotations

import json

import pytest
from lab_inventories import lab_inventory, load
from test_status import run_on, status

from carpctl import api
from carpctl.cli import main
from carpctl.errors import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from carpctl.flows.failover import failover
from carpctl.remote import commands as C
from carpctl.remote.paths import PARKED_FILE


@pytest.fixture
def healthy(lab):
    return lab_inventory(lab, connect_timeout=0.5)


def carp(lab, node: str) -> dict:
    return lab.truth("pair1")["nodes"][node]["carp"]


def restore(healthy, *args: str) -> int:
    return main(["restore", "-i", str(healthy), "pair1", *args])


def test_a_leftover_advskew_254_is_put_back_and_status_is_healthy_again(capsys, lab, healthy):
    run_on(lab, "fw2", C.set_advskew("carp0", 254))
    assert restore(healthy, "fw2", "--yes") == EXIT_OK
    out = capsys.readouterr().out
    assert "carp0 advbase 1 advskew 254 -> advbase 1 advskew 100 (/etc/hostname.carp0)" in out
    assert carp(lab, "fw2")["carp0"]["advskew"] == 100
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    code, document = status(capsys, healthy)
    assert code == 0, document


def test_check_prints_the_commands_and_changes_nothing(capsys, lab, healthy):
    run_on(lab, "fw2", C.set_advskew("carp0", 254))
    run_on(lab, "fw2", C.set_preempt(False))
    assert restore(healthy, "fw2", "--check") == EXIT_OK
    out = capsys.readouterr().out
    assert "fw2: ifconfig carp0 advskew 100" in out
    assert "fw2: sysctl net.inet.carp.preempt=1" in out
    assert carp(lab, "fw2")["carp0"]["advskew"] == 254
    assert lab.truth("pair1")["nodes"]["fw2"]["preempt"] is False


def test_runtime_preempt_off_is_put_back_from_sysctl_conf(capsys, lab, healthy):
    run_on(lab, "fw2", C.set_preempt(False))
    assert restore(healthy, "fw2", "--yes", "--json") == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document["changes"] == ["net.inet.carp.preempt 0 -> 1 (/etc/sysctl.conf)"]
    assert lab.truth("pair1")["nodes"]["fw2"]["preempt"] is True


def test_a_node_that_runs_its_configuration_is_left_alone(capsys, lab, healthy):
    assert restore(healthy, "fw2", "--yes") == EXIT_OK
    assert "fw2 already runs its configuration; nothing to do" in capsys.readouterr().out
    assert not [e for e in lab.log("pair1", "fw2") if "advskew" in str(e)]


def test_restoring_a_parked_old_master_says_master_moves_back_and_removes_the_record(lab):
    inventory = load(lab, connect_timeout=0.5)
    asked: list[str] = []
    with api.open_session(inventory, confirm=lambda q: asked.append(q) or True) as session:
        failover(session, inventory.pair(), to="fw2", keep_demoted=True)
        assert lab.node("pair1", "fw1").fs.exists(PARKED_FILE)
        report = api.restore(session, None, "fw1")
    assert report.moves == "MASTER moves to fw1 on vhid 1, 2"
    assert "MASTER moves to fw1 on vhid 1, 2: relay sessions will be reset" in asked[-1]
    assert "the parked record removed" in report.changes
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    assert {c["advskew"] for c in carp(lab, "fw1").values()} == {0}
    assert not lab.node("pair1", "fw1").fs.exists(PARKED_FILE)


def test_a_parked_carpdemote_is_undone_exactly(lab):
    inventory = load(lab, connect_timeout=0.5)
    with api.open_session(inventory, confirm=True) as session:
        failover(session, inventory.pair(), to="fw2", method="carpdemote", keep_demoted=True)
        demoted = lab.truth("pair1")["nodes"]["fw1"]["demote"]
        assert demoted > 0
        report = api.restore(session, None, "fw1")
    assert report.commands[0] == f"ifconfig -g carp -carpdemote {demoted}"
    assert lab.truth("pair1")["nodes"]["fw1"]["demote"] == 0
    assert not lab.node("pair1", "fw1").fs.exists(PARKED_FILE)


def test_a_node_in_maintenance_is_refused_and_pointed_to_maintenance_exit(capsys, lab, healthy):
    assert main(["maintenance", "enter", "-i", str(healthy), "pair1", "fw2", "--yes"]) == 0
    capsys.readouterr()
    assert restore(healthy, "fw2", "--yes") == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "fw2 is in maintenance: `carpctl maintenance exit pair1 fw2` undoes it" in err
    assert lab.node("pair1", "fw2").fs.exists("/var/carpctl/maintenance")


def test_load_balanced_carp_is_refused_and_nothing_is_changed(capsys, lab, healthy):
    fs = lab.node("pair1", "fw2").fs
    fs.write_text("/etc/hostname.carp0", fs.read_text("/etc/hostname.carp0").rstrip("\n")
                  + " carpnodes 1:0,2:100\n")
    run_on(lab, "fw2", C.set_advskew("carp0", 254))
    assert restore(healthy, "fw2", "--yes") == EXIT_REFUSED
    assert "fw2 uses load-balanced CARP (carp0: carpnodes/balancing): carpctl does not " \
        "restore it" in capsys.readouterr().err
    assert carp(lab, "fw2")["carp0"]["advskew"] == 254


def test_without_a_terminal_or_yes_a_restore_is_refused_before_any_node_is_contacted(
        capsys, lab, healthy):
    run_on(lab, "fw2", C.set_advskew("carp0", 254))
    before = len(lab.log("pair1", "fw2"))
    assert restore(healthy, "fw2") == EXIT_REFUSED
    assert "no terminal to confirm the restore on; nothing changed" in capsys.readouterr().err
    assert len(lab.log("pair1", "fw2")) == before
    assert carp(lab, "fw2")["carp0"]["advskew"] == 254


def test_a_connection_cut_while_restoring_is_undone_and_exits_1(capsys, lab, healthy):
    run_on(lab, "fw2", C.set_advskew("carp0", 254))
    lab.drop("pair1", "fw2", r"ifconfig carp0 advskew 100", after=True)
    assert restore(healthy, "fw2", "--yes") == EXIT_FAILED
    err = capsys.readouterr().err
    assert "pair1: restore of fw2 failed (" in err and "); undone" in err
    assert carp(lab, "fw2")["carp0"]["advskew"] == 254   # as it was before the run
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
