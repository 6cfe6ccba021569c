"""pfsync over real SSH: its syncdev's own link, and a pair that says it has no pfsync.

pfsync0 looks up while its sync cable is out: status names the syncdev (and the
kernel's demotion by 1 for it, which keeps failover from choosing that node). A pair without pfsync says `pfsync: false` in the inventory: failover then
goes, and the warning that states are not synced is carpctl's to give.
"""

from __future__ import annotations

import json

import yaml
from lab_inventories import lab_inventory
from test_status import run_on, status
from test_status_agreement import messages

from carpctl.cli import main
from carpctl.core.agreement import unsynced_warning
from carpctl.errors import EXIT_OK, EXIT_REFUSED
from carpctl.inventory import load_inventory
from carpctl.remote import commands as C


def without_pfsync(lab):
    path = lab_inventory(lab, connect_timeout=0.5)
    document = yaml.safe_load(path.read_text())
    document["pairs"]["pair1"]["pfsync"] = False
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_a_syncdev_without_link_is_named_with_where_to_look(capsys, lab):
    healthy = lab_inventory(lab, connect_timeout=0.5)
    lab.link("pair1", "fw2", "em2", False)
    code, document = status(capsys, healthy)
    assert code == 1
    assert "fw2 pfsync's syncdev em2 has no link: pf states are not synced; check its cable " \
        "and switch port (`ifconfig em2`)" in messages(document, "pfsync-down")
    assert messages(document, "demoted") == ["fw2 carp demote counter is 1 (1 em2 without link)"]


def test_a_pair_without_pfsync_fails_over_when_the_inventory_says_so(capsys, lab):
    for node in ("fw1", "fw2"):
        run_on(lab, node, C.cmd("ifconfig", "pfsync0", "-syncdev", privileged=True))
    healthy = lab_inventory(lab, connect_timeout=0.5)
    assert main(["failover", "-i", str(healthy), "--to", "fw2", "--yes"]) == EXIT_REFUSED
    assert "pfsync is not up on" in capsys.readouterr().err
    path = without_pfsync(lab)
    capsys.readouterr()
    assert main(["failover", "-i", str(path), "--to", "fw2", "--yes", "--json"]) == EXIT_OK
    assert lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
    report = json.loads(capsys.readouterr().out)
    assert unsynced_warning(load_inventory(path).pair("pair1")) in report["warnings"]
    code, document = status(capsys, path)
    assert messages(document, "pfsync-down") == []   # no pfsync on purpose is not a finding


def test_pfsync_false_is_read_and_gives_the_unsynced_warning(lab):
    pair = load_inventory(without_pfsync(lab)).pair("pair1")
    assert pair.pfsync is False
    assert unsynced_warning(pair) == (
        "pair1 has no pfsync (`pfsync: false` in the inventory): pf states are not synced, so "
        "connections through the pair are dropped by the new MASTER")


def test_pfsync_must_be_true_or_false_in_the_inventory(capsys, lab):
    path = without_pfsync(lab)
    path.write_text(path.read_text().replace("pfsync: false", "pfsync: 'no'"))
    assert main(["inventory", "check", "-i", str(path)]) == 2
    assert "pfsync" in capsys.readouterr().err
