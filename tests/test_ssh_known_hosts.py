"""known_hosts as OpenSSH keeps it, over real SSH to the lab: a malformed line is skipped
with a warning, a missing inventory file is an inventory error, --accept-new-host-keys
records where the inventory says, in OpenSSH's words, hashed when ssh config asks."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from lab_inventories import generate_key, lab_inventory, load, public_line
from ssh_support import HOSTNAME

from carpctl.inventory import InvalidInventory
from carpctl.remote.connection import ConnectError, NodeConnection

GARBAGE = "[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ\nnot-a-line\n"


def fw1(inventory):
    return inventory.pair("pair1").node("fw1")


def test_a_malformed_known_hosts_line_is_skipped_with_a_warning_naming_file_and_line(
        lab, caplog):
    lab.known_hosts.write_text(GARBAGE + lab.known_hosts.read_text())
    with caplog.at_level(logging.WARNING, logger="carpctl"):
        with NodeConnection(fw1(load(lab))) as connection:
            assert connection.run(HOSTNAME).ok
    warnings = [r.getMessage() for r in caplog.records]
    assert f"carpctl: warning: {lab.known_hosts}:1: skipped, the key is not valid " \
           f"(Incorrect padding)" in warnings
    assert f"carpctl: warning: {lab.known_hosts}:2: skipped, not `HOST TYPE KEY`" in warnings


def test_a_malformed_hashed_name_is_skipped_and_the_other_keys_still_work(lab, caplog):
    key = lab.known_hosts.read_text().split("\n")[0].split(" ", 1)[1]
    lab.known_hosts.write_text(f"|1|abc|def {key}\n" + lab.known_hosts.read_text())
    with caplog.at_level(logging.WARNING, logger="carpctl"):
        with NodeConnection(fw1(load(lab))) as connection:
            assert connection.run(HOSTNAME).ok
    assert f"carpctl: warning: {lab.known_hosts}:1: skipped, the hashed host name is not " \
           f"`|1|SALT|HASH` in base64" in [r.getMessage() for r in caplog.records]


def test_the_command_line_reports_a_malformed_line_and_still_works(lab):
    lab.known_hosts.write_text(GARBAGE + lab.known_hosts.read_text())
    shown = subprocess.run([sys.executable, "-m", "carpctl", "-i", str(lab_inventory(lab)),
                            "status"], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert f"carpctl: warning: {lab.known_hosts}:2: skipped" in shown.stderr
    assert "internal error" not in shown.stderr


def test_a_known_hosts_file_the_inventory_names_must_exist(lab):
    with pytest.raises(InvalidInventory) as caught:
        load(lab, known_hosts=str(lab.directory / "team_known_hosts"))
    problem = caught.value.problems[0]
    assert (problem.file, problem.path) == (str(lab.directory / "inventory.yml"),
                                            "defaults.known_hosts")
    assert f"does not exist (looked for {lab.directory / 'team_known_hosts'})" in problem.problem


def test_accept_new_records_in_the_inventorys_known_hosts_in_openssh_words(
        lab, isolated_home, caplog):
    team = lab.directory / "team_known_hosts"
    team.write_text("")
    node = fw1(load(lab, known_hosts=str(team)))
    port = lab.port("pair1", "fw1")
    with caplog.at_level(logging.WARNING, logger="carpctl"):
        with NodeConnection(node, accept_new_host_keys=True) as connection:
            assert connection.run(HOSTNAME).ok
    assert [r.getMessage() for r in caplog.records] == [
        f"Warning: Permanently added '[127.0.0.1]:{port}' (ED25519) to the list of known hosts."]
    assert team.read_text().startswith(f"[127.0.0.1]:{port} ssh-ed25519 ")
    assert not (isolated_home / ".ssh" / "known_hosts").exists()
    with NodeConnection(node) as connection:   # known from now on
        assert connection.run(HOSTNAME).ok


def test_accept_new_hashes_the_entry_when_ssh_config_says_hash_known_hosts(lab, isolated_home):
    (isolated_home / ".ssh").mkdir()
    (isolated_home / ".ssh" / "config").write_text("Host *\n    HashKnownHosts yes\n")
    node = fw1(load(lab, known_hosts=None))
    with NodeConnection(node, accept_new_host_keys=True) as connection:
        assert connection.run(HOSTNAME).ok
    recorded = (isolated_home / ".ssh" / "known_hosts").read_text()
    assert recorded.startswith("|1|") and "127.0.0.1" not in recorded
    found = subprocess.run(["ssh-keygen", "-F", f"[127.0.0.1]:{lab.port('pair1', 'fw1')}",
                            "-f", str(isolated_home / ".ssh" / "known_hosts")],
                           capture_output=True, text=True)
    assert found.returncode == 0, "OpenSSH finds the hashed entry"
    with NodeConnection(node) as connection:
        assert connection.run(HOSTNAME).ok


def test_a_changed_key_is_refused_even_with_accept_new_and_a_hashed_entry(lab, isolated_home,
                                                                         tmp_path):
    (isolated_home / ".ssh").mkdir()
    (isolated_home / ".ssh" / "config").write_text("Host *\n    HashKnownHosts yes\n")
    node = fw1(load(lab, known_hosts=None))
    with NodeConnection(node, accept_new_host_keys=True) as connection:
        assert connection.run(HOSTNAME).ok
    user_file = isolated_home / ".ssh" / "known_hosts"
    hashed_name = user_file.read_text().split()[0]
    user_file.write_text(f"{hashed_name} {public_line(generate_key(tmp_path / 'other'))}\n")
    with pytest.raises(ConnectError) as refused:
        NodeConnection(node, accept_new_host_keys=True).open()
    assert refused.value.reason == "hostkey-changed"
    assert user_file.read_text().split()[0] == hashed_name
