"""`carpctl inventory show NODE` and `carpctl init DIR`: what a node's connection will be
and where each value came from; a starter inventory that is never written over."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from carpctl.cli import main

EXAMPLE = Path(__file__).parents[1] / "inventory" / "example.yml"


def shown(capsys, *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_show_gives_the_effective_connection_with_where_each_value_came_from(
        capsys, isolated_home, tmp_path):
    key = tmp_path / "id_fw"
    key.write_text("x\n")
    (isolated_home / ".ssh").mkdir()
    (isolated_home / ".ssh" / "config").write_text(textwrap.dedent(f"""
        Host fw1-mgmt
            HostName 10.1.0.1
            Port 2222
            ProxyJump bastion
        Host bastion
            HostName 10.9.9.9
            User jumper
            IdentityFile {key}
        """))
    (tmp_path / "i.yml").write_text(textwrap.dedent("""
        defaults: {user: ops, become: doas}
        pairs:
          pair1:
            nodes:
              fw1: {host: fw1-mgmt}
              fw2: {host: 10.1.0.2, connect_timeout: 3}
        """))
    view = shown(capsys, "-i", str(tmp_path / "i.yml"), "inventory", "show", "pair1/fw1")
    inventory = str(tmp_path / "i.yml")
    assert {k: view[k] for k in ("node", "host", "ssh_alias", "port", "user", "become")} == {
        "node": "pair1/fw1", "host": "10.1.0.1", "ssh_alias": "fw1-mgmt", "port": 2222,
        "user": "ops", "become": "doas"}
    assert view["jumps"] == [{"name": "bastion", "host": "10.9.9.9", "port": 22,
                              "user": "jumper", "identity_files": [str(key)]}]
    assert view["known_hosts"] == [str(isolated_home / ".ssh" / "known_hosts")]
    assert view["origins"]["user"] == f"{inventory}: defaults.user"
    assert view["origins"]["port"] == "ssh config ~/.ssh/config (Host fw1-mgmt)"
    assert view["origins"]["host"] == "ssh config ~/.ssh/config (HostName for fw1-mgmt)"
    assert view["origins"]["connect_timeout"] == "built-in default"
    fw2 = shown(capsys, "-i", inventory, "inventory", "show", "fw2")
    assert fw2["origins"]["connect_timeout"] == f"{inventory}: pairs.pair1.nodes.fw2.connect_timeout"


def test_show_as_a_table_names_each_setting_once(capsys):
    assert main(["-i", str(EXAMPLE), "inventory", "show", "fw2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "pair1/fw2"
    settings = [line.split("  ")[0] for line in lines[2:]]
    assert settings == ["host", "port", "user", "key files", "agent", "jump chain",
                        "known_hosts", "new keys go to", "become", "connect timeout"]


@pytest.mark.parametrize("name, problem", [
    ("fw9", "no node named 'fw9'"), ("pair1/fw9", "pair pair1 has no node 'fw9'"),
    ("pair9/fw1", "no pair named 'pair9'")])
def test_show_of_an_unknown_node_is_a_usage_error(capsys, name, problem):
    assert main(["-i", str(EXAMPLE), "inventory", "show", name]) == 2
    assert problem in capsys.readouterr().err


def test_init_writes_the_example_inventory_and_templates_ready_to_check(capsys, tmp_path):
    target = tmp_path / "site"
    assert main(["init", str(target)]) == 0
    assert (target / "inventory.yml").read_text() == EXAMPLE.read_text()
    assert sorted(p.name for p in (target / "templates").iterdir()) == [
        "hostname.carp.j2", "pf.conf.j2", "relayd.conf.j2"]
    assert main(["-i", str(target), "inventory", "check"]) == 0


def test_init_never_overwrites_and_writes_nothing_when_a_file_exists(capsys, tmp_path):
    target = tmp_path / "site"
    (target / "templates").mkdir(parents=True)
    (target / "templates" / "pf.conf.j2").write_text("my edited rules\n")
    assert main(["init", str(target)]) == 2
    assert capsys.readouterr().err.startswith(
        f"carpctl: error: {target / 'templates' / 'pf.conf.j2'} already exists; nothing written")
    assert (target / "templates" / "pf.conf.j2").read_text() == "my edited rules\n"
    assert not (target / "inventory.yml").exists()
