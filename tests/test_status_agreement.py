"""`carpctl status` over real SSH: the two nodes agree, and each runs what it will boot with.

Each defect is named in one line with the command that fixes it; equal advskews are
a warning that leaves the pair healthy (exit 0); the carp pass is compared by hash
computed on the nodes and never printed.
"""

from __future__ import annotations

import json

import pytest
from lab_inventories import lab_inventory, poll
from test_status import codes, pair, run_on, status

from carpctl.cli import main
from carpctl.remote import commands as C


@pytest.fixture
def healthy(lab):
    return lab_inventory(lab, connect_timeout=0.5)


def messages(document: dict, code: str) -> list[str]:
    return [f["message"] for f in pair(document)["findings"] if f["code"] == code]


def test_carp_allow_0_is_reported_with_the_sysctl_that_fixes_it(capsys, lab, healthy):
    lab.allow("pair1", "fw2", False)
    code, document = status(capsys, healthy)
    assert code == 1
    assert messages(document, "carp-disallowed") == [
        "fw2 has net.inet.carp.allow=0: it drops every advertisement and goes MASTER (split "
        "brain); run `sysctl net.inet.carp.allow=1` and remove it from /etc/sysctl.conf"]


def test_a_pass_that_differs_is_found_by_hash_and_named_as_the_split_brains_cause(
        capsys, lab, healthy):
    lab.carp_pass("pair1", "fw2", "not-the-peers", persistent=True)
    code, document = poll(lambda: (r := status(capsys, healthy))[1]
                          and "split-brain" in codes(r[1]) and r, timeout=20)
    assert code == 1
    assert "carp0: the carp pass in /etc/hostname.carp0 differs between fw1 and fw2 (compared " \
        "by hash): set the same pass on both nodes" in messages(document, "pass-mismatch")
    assert all("likely: carp pass differs between the nodes" in m
               for m in messages(document, "split-brain"))
    text = json.dumps(document)
    assert "not-the-peers" not in text and "lab-secret" not in text


def test_a_leftover_advskew_254_is_reported_with_the_command_that_puts_it_back(
        capsys, lab, healthy):
    run_on(lab, "fw2", C.set_advskew("carp0", 254))
    code, document = status(capsys, healthy)
    assert code == 1 and pair(document)["verdict"] == "runtime-drift"
    assert messages(document, "runtime-drift") == [
        "fw2 carp0 runs advskew 254 but /etc/hostname.carp0 says 100: run `ifconfig carp0 "
        "advskew 100` on fw2 (or `carpctl restore pair1 fw2`)"]


def test_equal_advskews_are_a_warning_that_leaves_the_pair_healthy(capsys, lab, healthy):
    for node in ("fw1", "fw2"):
        fs = lab.node("pair1", node).fs
        fs.write_text("/etc/hostname.carp1", fs.read_text("/etc/hostname.carp1")
                      .replace("advskew 100", "advskew 10").replace("advskew 0", "advskew 10"))
        run_on(lab, node, C.set_advskew("carp1", 10))
    code, document = status(capsys, healthy)
    assert code == 0 and pair(document)["verdict"] == "healthy"
    assert [w["code"] for w in pair(document)["warnings"]] == ["equal-advskew"]
    assert main(["status", "-i", str(healthy)]) == 0
    assert "  ! vhid 2: fw1 and fw2 both advertise advbase 1 advskew 10" \
        in capsys.readouterr().out


def test_a_second_group_counts_in_the_demotion_and_is_named(capsys, lab, healthy):
    run_on(lab, "fw2", C.cmd("ifconfig", "carp0", "group", "uplink", privileged=True))
    run_on(lab, "fw2", C.cmd("ifconfig", "-g", "uplink", "carpdemote", "5", privileged=True))
    code, document = status(capsys, healthy)
    assert code == 1
    assert messages(document, "demoted") == ["fw2 carp demote counter is 5 (5 group uplink)"]


def test_a_maintenance_demotion_the_boot_could_not_hold_is_refused_by_the_inventory(
        capsys, lab):
    inventory = lab_inventory(lab, failover={"demote": 96})
    assert main(["status", "-i", str(inventory)]) == 2
    err = capsys.readouterr().err
    assert str(inventory) in err and "defaults.failover.demote" in err
    assert "128 (rc) + 32 (pfsync bulk update) + N must stay <= 255" in err
