"""The shipped example names documentation addresses: a run against one is refused before
anything is dialled (exit 2), while the inventory commands still work on it."""

from __future__ import annotations

import ipaddress
import json
import shutil
from pathlib import Path

import pytest
import yaml

from carpctl.cli import main

EXAMPLE = Path(__file__).parents[1] / "inventory" / "example.yml"
REFUSAL = ("carpctl: error: pair1/fw1 is 192.0.2.11, a documentation address: this is the "
           "example inventory; copy it and put your firewalls' addresses")


@pytest.fixture
def dialled(mocker):
    """Every TCP connection carpctl opens (the first hop of each chain)."""
    return mocker.spy(__import__("carpctl.remote.connection").remote.connection, "_dial")


@pytest.mark.parametrize("argv", [
    ["status"], ["deploy", "pair1", "--check"], ["failover", "--to", "peer", "--yes"],
    ["maintenance", "enter", "pair1", "fw1", "--yes"],
])
def test_a_run_against_the_example_is_refused_before_any_connection(capsys, dialled, argv):
    code = main(["-i", str(EXAMPLE), *argv])
    assert (code, capsys.readouterr().err.splitlines()[0]) == (2, REFUSAL)
    assert dialled.call_count == 0


def example_copy(tmp_path: Path, fw1: dict, fw2: dict, **defaults) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["pairs"]["pair1"]["nodes"] = {"fw1": fw1, "fw2": fw2}
    document["defaults"].update(defaults)
    shutil.copytree(EXAMPLE.parent / "templates", tmp_path / "templates")
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(document))
    return tmp_path


@pytest.mark.parametrize("host", ["198.51.100.7", "203.0.113.1", "2001:db8::11"])
def test_every_documentation_network_is_refused(capsys, dialled, tmp_path, host):
    second = str(ipaddress.ip_address(host) + 1)
    inventory = example_copy(tmp_path, {"host": host}, {"host": second})
    assert main(["-i", str(inventory), "status", "--json"]) == 2
    assert f"pair1/fw1 is {host}, a documentation address" in capsys.readouterr().err
    assert dialled.call_count == 0


def test_a_jump_host_at_a_documentation_address_is_refused_too(capsys, dialled, tmp_path):
    inventory = example_copy(tmp_path, {"host": "127.0.0.1", "port": 2201},
                             {"host": "127.0.0.1", "port": 2202}, proxy_jump="ops@192.0.2.1")
    assert main(["-i", str(inventory), "status"]) == 2
    assert "pair1/fw1's jump host is 192.0.2.1, a documentation address" \
        in capsys.readouterr().err
    assert dialled.call_count == 0


@pytest.mark.parametrize("argv", [["inventory", "check"], ["inventory", "list"],
                                  ["inventory", "show", "pair1/fw1"]])
def test_the_inventory_commands_still_work_on_the_example(capsys, argv):
    assert main(["-i", str(EXAMPLE), "--json", *argv]) == 0
    assert json.loads(capsys.readouterr().out)


def test_a_lab_on_loopback_is_not_refused(lab):
    assert main(["-i", str(lab.inventory), "inventory", "check"]) == 0
    from lab_inventories import lab_inventory

    assert main(["-i", str(lab_inventory(lab)), "status"]) == 0


def test_a_pair_with_one_real_node_and_one_documentation_address_dials_neither(lab, capsys,
                                                                               dialled):
    document = yaml.safe_load(lab.inventory.read_text())
    document["pairs"]["pair1"]["nodes"]["fw2"]["host"] = "192.0.2.12"
    lab.inventory.write_text(yaml.safe_dump(document))

    assert main(["-i", str(lab.inventory), "status"]) == 2
    assert "pair1/fw2 is 192.0.2.12, a documentation address" in capsys.readouterr().err
    assert dialled.call_count == 0 and lab.log("pair1", "fw1") == []
