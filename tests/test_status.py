"""`carpctl status` against the lab over real SSH: one verdict per lab fault, exit codes,
one round trip per node, doas, and --watch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from lab_inventories import lab_inventory, load, poll

from carpctl.cli import main
from carpctl.remote import commands as C


def status(capsys, inventory, *args: str) -> tuple[int, dict]:
    """Run the CLI in-process with --json; its exit code and document."""
    code = main(["status", "-i", str(inventory), "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def pair(document: dict, name: str = "pair1") -> dict:
    return next(p for p in document["pairs"] if p["pair"] == name)


def node(document: dict, name: str) -> dict:
    return next(n for n in pair(document)["nodes"] if n["node"] == name)


def codes(document: dict) -> set[str]:
    return {f["code"] for f in pair(document)["findings"]}


@pytest.fixture
def healthy(lab):
    """The lab's inventory without `files:` (a fresh lab differs from the templates)."""
    return lab_inventory(lab, connect_timeout=0.5)


def run_on(lab, node_name: str, command) -> None:
    """Act on a lab node the way an operator would: a command over carpctl's transport."""
    from carpctl.remote.connection import NodeConnection

    with NodeConnection(load(lab).pair("pair1").node(node_name)) as connection:
        connection.run(command, check=True)


def test_a_healthy_pair_exits_0_with_every_fact_of_each_node(capsys, healthy):
    code, document = status(capsys, healthy)
    assert code == 0 and document["healthy"] is True
    assert (pair(document)["verdict"], pair(document)["master"]) == ("healthy", "fw1")
    assert pair(document)["vhids"] == {"1": {"fw1": "MASTER", "fw2": "BACKUP"},
                                       "2": {"fw1": "MASTER", "fw2": "BACKUP"}}
    fw2 = node(document, "fw2")
    assert fw2["reachable"] and fw2["demote"] == 0 and fw2["preempt"] is True
    assert [(c["name"], c["state"], c["vhid"], c["advbase"], c["advskew"]) for c in fw2["carp"]] \
        == [("carp0", "BACKUP", 1, 1, 100), ("carp1", "BACKUP", 2, 1, 100)]
    assert fw2["pfsync"] == {"present": True, "up": True, "syncdev": "em2"}
    assert fw2["pf"]["enabled"] is True
    assert fw2["relayd"] == {"enabled": True, "running": True, "hosts_up": 2, "hosts_total": 2}
    assert fw2["maintenance"] is None


def test_the_table_shows_each_node_and_the_pairs_verdict(capsys, healthy):
    assert main(["status", "-i", str(healthy)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "pair1"
    assert lines[1].split() == ["node", "carp", "vhid", "state", "skew", "demote", "preempt",
                                "pfsync", "pf", "relayd", "maint"]
    assert lines[2].split() == ["fw1", "carp0", "1", "MASTER", "0", "0", "1", "em2", "on",
                                lines[2].split()[8 + 1], "2/2", "up"]
    assert lines[3].split() == ["carp1", "2", "MASTER", "0"]
    assert "2/2 up" in lines[4] and lines[5].split() == ["carp1", "2", "BACKUP", "100"]
    assert lines[6] == "pair1: healthy, MASTER fw1"


def test_status_costs_one_exec_per_node_after_connecting(capsys, lab, healthy):
    status(capsys, healthy)
    assert [len(lab.log("pair1", n)) for n in ("fw1", "fw2")] == [1, 1]


def test_a_fresh_lab_differs_from_the_inventory_templates_and_reports_drift(capsys, lab):
    code, document = status(capsys, lab.inventory)
    assert code == 1 and pair(document)["verdict"] == "drift"
    assert sorted(f["message"] for f in pair(document)["findings"]) == [
        f"{n} {dest} differs from the inventory"
        for n in ("fw1", "fw2") for dest in ("/etc/pf.conf", "/etc/relayd.conf")]


def test_a_crashed_node_is_unreachable_with_reason_timeout(capsys, lab, healthy):
    lab.crash("pair1", "fw2")
    code, document = status(capsys, healthy)
    assert code == 1 and pair(document)["verdict"] == "unreachable"
    assert node(document, "fw2")["reachable"] is False
    assert node(document, "fw2")["reason"] == "timeout"
    assert node(document, "fw1")["reachable"] is True


def test_a_node_with_sshd_down_is_unreachable_with_reason_refused(capsys, lab, healthy):
    lab.ssh_down("pair1", "fw2")
    code, document = status(capsys, healthy)
    assert code == 1 and pair(document)["verdict"] == "unreachable"
    assert node(document, "fw2")["reason"] == "refused"


def test_two_masters_are_reported_as_split_brain(capsys, lab, healthy):
    lab.allow("pair1", "fw1", False)
    lab.allow("pair1", "fw2", False)
    poll(lambda: lab.masters("pair1") == {1: ["fw1", "fw2"], 2: ["fw1", "fw2"]})
    code, document = status(capsys, healthy)
    assert code == 1 and pair(document)["verdict"] == "split-brain"
    assert pair(document)["master"] is None


def test_preempt_off_is_reported_on_the_node_that_has_it(capsys, lab, healthy):
    lab.preempt("pair1", "fw2", False)
    code, document = status(capsys, healthy)
    assert code == 1 and pair(document)["verdict"] == "preempt-off"
    assert [f["node"] for f in pair(document)["findings"]] == ["fw2"]


def test_relayd_stopped_on_the_master_is_reported(capsys, lab, healthy):
    run_on(lab, "fw1", C.cmd("rcctl", "stop", "relayd", privileged=True))
    code, document = status(capsys, healthy)
    assert code == 1 and pair(document)["verdict"] == "relayd-down"
    assert node(document, "fw1")["relayd"]["running"] is False


def test_a_web_host_down_is_reported(capsys, lab, healthy):
    lab.webhost("pair1", "192.168.1.3", False)

    def reported() -> dict | None:  # once relayd's next health check has run
        document = status(capsys, healthy)[1]
        return document if codes(document) == {"webhosts-down"} else None

    document = poll(reported)
    assert all("192.168.1.3" in f["message"] for f in pair(document)["findings"])
    assert node(document, "fw1")["relayd"]["hosts_up"] == 1


def test_a_demoted_node_is_reported(capsys, lab, healthy):
    run_on(lab, "fw2", C.carpdemote(5))
    code, document = status(capsys, healthy)
    assert code == 1 and pair(document)["verdict"] == "demoted"
    assert node(document, "fw2")["demote"] == 5


def test_an_unprivileged_user_reads_everything_through_doas_n(capsys, lab):
    inventory = lab_inventory(lab, user="admin", become="doas")
    code, document = status(capsys, inventory)
    assert code == 0, document
    (entry,) = lab.log("pair1", "fw1")
    assert entry.user == "admin"
    lines = entry.command.splitlines()
    assert {"doas -n pfctl -si </dev/null", "doas -n relayctl show summary </dev/null",
            "ifconfig carp </dev/null"} <= set(lines)


def test_a_refused_doas_is_reported_and_not_mistaken_for_relayd_down(capsys, lab):
    lab.doas("pair1", "fw1", False)
    code, document = status(capsys, lab_inventory(lab, user="admin", become="doas"))
    assert code == 1
    assert "relayd-down" not in codes(document)
    assert any("doas: Operation not permitted" in f["message"]
               for f in pair(document)["findings"])


def test_status_names_pairs_and_refuses_unknown_ones(capsys, tmp_path):
    from carpctl_lab.lab import Lab

    with Lab(tmp_path / "two", 2) as lab:
        inventory = lab_inventory(lab)
        code, document = status(capsys, inventory, "pair2")
        assert code == 0 and [p["pair"] for p in document["pairs"]] == ["pair2"]
        assert lab.log("pair1", "fw1") == []
        assert main(["status", "-i", str(inventory), "pair3"]) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"carpctl: error: no pair named 'pair3' in {inventory} (known pairs: pair1, pair2)"]


def test_watch_refreshes_until_ctrl_c_and_exits_with_the_last_verdict(lab, healthy):
    process = subprocess.Popen(
        [sys.executable, "-m", "carpctl", "status", "-i", str(healthy), "--watch", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
    # a 4th round reaching the node means the first three were printed
    poll(lambda: len(lab.log("pair1", "fw1")) >= 4, timeout=20)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert out.count("pair1: healthy, MASTER fw1") >= 3
    assert "Traceback" not in err


def test_a_dead_sync_link_shows_as_pfsync_down_although_pfsync0_is_up(lab, healthy, capsys):
    lab.link("pair1", "fw2", "em2", False)   # the crossover cable of pfsync
    code, doc = status(capsys, healthy)
    findings = doc["pairs"][0]["findings"]
    # pfsync0 itself stays up; the MASTER keeps its states and the BACKUP's stop being synced
    assert code == 1 and "pfsync-down" in {f["code"] for f in findings}
    assert "pf state counts differ (fw1 44, fw2 0)" in " ".join(f["message"] for f in findings)
