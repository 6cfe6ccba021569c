"""Keys as ssh offers them, over real SSH to the lab with the system's ssh-agent and
ssh-keygen: a passphrase-protected key file works through the agent, nothing prompts,
and a refusal lists every key that was tried."""

from __future__ import annotations

import pytest
from lab_inventories import load
from ssh_support import HOSTNAME, Agent, fingerprint, locked_copy, new_key

from carpctl.remote.connection import ConnectError, NodeConnection


@pytest.fixture
def agent(monkeypatch):
    running = Agent()
    monkeypatch.setenv("SSH_AUTH_SOCK", str(running.socket))
    yield running
    running.stop()


def fw1(inventory):
    return inventory.pair("pair1").node("fw1")


def test_a_passphrase_protected_key_file_loaded_in_ssh_agent_connects(lab, agent, tmp_path):
    locked = locked_copy(lab.client_key, tmp_path / "id_locked")
    agent.add(lab.client_key)   # what `ssh-add ~/.ssh/id_locked` + the passphrase leaves
    with NodeConnection(fw1(load(lab, identity_file=str(locked)))) as connection:
        assert connection.run(HOSTNAME).ok


def test_when_no_key_works_the_error_names_every_file_and_agent_key_tried(lab, agent, tmp_path):
    locked = locked_copy(lab.client_key, tmp_path / "id_locked")
    stranger = new_key(tmp_path / "id_stranger")
    agent.add(stranger)
    with pytest.raises(ConnectError) as refused:
        NodeConnection(fw1(load(lab, identity_file=str(locked)))).open()
    message = refused.value.message
    assert refused.value.reason == "authentication"
    assert "\n" not in message
    assert f"key file {locked} (passphrase-protected" in message
    assert f"ssh-agent keys {fingerprint(stranger)}" in message


def test_without_an_agent_a_protected_key_fails_at_once_instead_of_prompting(lab, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("carpctl prompted"))
    monkeypatch.setattr("getpass.getpass", lambda *a: pytest.fail("carpctl prompted"))
    locked = locked_copy(lab.client_key, tmp_path / "id_locked")
    with pytest.raises(ConnectError) as refused:
        NodeConnection(fw1(load(lab, identity_file=str(locked)))).open()
    assert refused.value.message.endswith(
        f"tried key file {locked} (passphrase-protected: usable only once loaded with "
        f"ssh-add); no ssh-agent key")


def test_an_agent_key_is_used_when_no_key_file_is_named(lab, agent):
    agent.add(lab.client_key)
    with NodeConnection(fw1(load(lab, identity_file=None))) as connection:
        assert connection.run(HOSTNAME).ok
