"""~/.ssh/config as ssh reads it, over real SSH to the lab: Include (relative to ~/.ssh,
globs, inside Host blocks), ProxyJump through an ssh config alias, a failing jump named
as the jump host, and ssh config's User/Port beating carpctl's built-in defaults."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest
import yaml
from ssh_support import HOSTNAME, JumpHost, new_key

from carpctl.inventory import InvalidInventory, load_inventory
from carpctl.remote.connection import ConnectError, NodeConnection

EXAMPLE = Path(__file__).parents[1] / "inventory" / "example.yml"


def ssh_file(home: Path, name: str, text: str) -> Path:
    path = home / ".ssh" / name
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def alias_inventory(lab, nodes: dict, **defaults) -> Path:
    """An inventory whose nodes are given as written (no port, user or key of their own)."""
    document = {"defaults": {"known_hosts": str(lab.known_hosts), **defaults},
                "pairs": {"pair1": {"nodes": nodes}}}
    path = lab.directory / "aliases.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_hosts_from_an_included_file_are_reached_with_its_settings(lab, isolated_home):
    ssh_file(isolated_home, "config", "Include conf.d/*.conf\n")
    for name in ("fw1", "fw2"):
        ssh_file(isolated_home, f"conf.d/{name}.conf", f"""
            Host {name}-lab
                HostName 127.0.0.1
                Port {lab.port("pair1", name)}
                IdentityFile {lab.client_key}
            """)
    inventory = load_inventory(alias_inventory(lab, {"fw1": {"host": "fw1-lab"},
                                                     "fw2": {"host": "fw2-lab"}}))
    fw1 = inventory.pair().node("fw1")
    assert (fw1.host, fw1.port, fw1.ssh_alias) == ("127.0.0.1", lab.port("pair1", "fw1"),
                                                   "fw1-lab")
    with NodeConnection(fw1) as connection:
        assert connection.run(HOSTNAME).ok


def test_an_include_inside_a_host_block_applies_only_to_that_host(isolated_home, tmp_path):
    ssh_file(isolated_home, "config", """
        Host fw1
            Include fw1.conf
            User ops
        Host *
            Port 2201
        """)
    ssh_file(isolated_home, "fw1.conf", """
        HostName 127.0.0.11
        Host *
            Port 2222
        """)
    (tmp_path / "i.yml").write_text("pairs: {p: {nodes: {fw1: {host: fw1}, fw2: {host: fw2}}}}")
    fw1, fw2 = load_inventory(tmp_path / "i.yml", environ={}).pair().nodes
    assert (fw1.host, fw1.port, fw1.user) == ("127.0.0.11", 2222, "ops")
    assert (fw2.host, fw2.port, fw2.user) == ("fw2", 2201, "root")


def test_an_include_that_matches_nothing_is_no_error_and_an_endless_one_is(isolated_home,
                                                                             tmp_path):
    (tmp_path / "i.yml").write_text("pairs: {p: {nodes: {fw1: {host: a}, fw2: {host: b}}}}")
    ssh_file(isolated_home, "config", "Include nothing-here/*\nInclude config\n")
    with pytest.raises(InvalidInventory) as caught:
        load_inventory(tmp_path / "i.yml", environ={})
    assert "Include nested more than 16 deep" in str(caught.value)
    ssh_file(isolated_home, "config", "Include nothing-here/*\n")
    assert load_inventory(tmp_path / "i.yml", environ={}).pair().nodes[0].host == "a"


@pytest.fixture
def jump(lab, tmp_path):
    key = new_key(tmp_path / "id_jump")
    running = JumpHost(tmp_path, key)
    (tmp_path / "jump_known_hosts").write_text(running.known_hosts_line)
    yield running, key
    running.stop()


def test_a_proxy_jump_alias_is_reached_with_the_jump_hosts_own_ssh_config(
        lab, jump, isolated_home, tmp_path):
    server, key = jump
    ssh_file(isolated_home, "config", f"""
        Host bastion
            HostName 127.0.0.1
            Port {server.port}
            User jumper
            IdentityFile {key}
        """)
    nodes = {name: {"host": "127.0.0.1", "port": lab.port("pair1", name)}
             for name in ("fw1", "fw2")}
    path = alias_inventory(lab, nodes, proxy_jump="bastion", identity_file=str(lab.client_key),
                           known_hosts=[str(lab.known_hosts), str(tmp_path / "jump_known_hosts")])
    fw1 = load_inventory(path).pair().node("fw1")
    with NodeConnection(fw1) as connection:
        assert connection.run(HOSTNAME).ok
    assert server.forwarded == [("jumper", "127.0.0.1", lab.port("pair1", "fw1"))]


def test_a_jump_host_that_refuses_is_named_as_the_jump_host(lab, isolated_home):
    with socket.socket() as probe:   # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    ssh_file(isolated_home, "config", f"Host bastion\n    HostName 127.0.0.1\n    Port {closed}\n")
    nodes = {name: {"host": "127.0.0.1", "port": lab.port("pair1", name)}
             for name in ("fw1", "fw2")}
    fw1 = load_inventory(alias_inventory(lab, nodes, proxy_jump="bastion")).pair().node("fw1")
    with pytest.raises(ConnectError) as failed:
        NodeConnection(fw1).open()
    assert failed.value.message == (f"fw1: connection to jump host bastion (127.0.0.1:{closed}) "
                                    f"refused")


def test_ssh_configs_user_and_port_win_over_carpctls_built_in_defaults(isolated_home):
    ssh_file(isolated_home, "config", """
        Host 192.0.2.11
            User admin
            Port 2222
        """)
    fw1, fw2 = load_inventory(EXAMPLE, environ={}).pair().nodes
    assert (fw1.user, fw1.port) == ("admin", 2222)
    assert (fw2.user, fw2.port) == ("root", 22)
    assert fw1.origins["user"] == "ssh config ~/.ssh/config (Host 192.0.2.11)"
    assert fw2.origins["port"] == "built-in default"


def test_settings_after_an_include_apply_where_they_would_without_it(isolated_home, tmp_path):
    ssh_file(isolated_home, "config", "Include fw1.conf\nUser ops\n")
    ssh_file(isolated_home, "fw1.conf", "Host fw1\n    Port 2222\n")
    (tmp_path / "i.yml").write_text("pairs: {p: {nodes: {fw1: {host: fw1}, fw2: {host: fw2}}}}")
    fw1, fw2 = load_inventory(tmp_path / "i.yml", environ={}).pair().nodes
    assert (fw1.port, fw1.user) == (2222, "ops")
    assert (fw2.port, fw2.user) == (22, "ops")
