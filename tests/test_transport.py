"""The SSH transport, against the lab over real SSH: host keys, quoting, doas, batching,
retries of connection set-up (and never of commands), reasons for unreachable nodes."""

from __future__ import annotations

import threading
import time

import pytest
from lab_inventories import generate_key, load, public_line
from ssh_support import HOSTNAME

from carpctl.remote.commands import cmd
from carpctl.remote.connection import RETRY_DELAYS, ConnectError, ConnectionLost, NodeConnection


def node_of(inventory, name: str = "fw1"):
    return inventory.pair("pair1").node(name)


def commands_seen(lab, node: str = "fw1") -> list[str]:
    return [entry.command for entry in lab.log("pair1", node)]


def test_one_connection_per_node_serves_every_command_of_a_run(lab):
    from carpctl.flows.status import status
    from carpctl.runtime.session import Session

    inventory = load(lab)
    with Session(inventory) as session:
        status(session, inventory.select([]))
        status(session, inventory.select([]))
        for node in inventory.pair("pair1").nodes:
            connection = session.connection(node)
            assert (connection.connects, connection.round_trips) == (1, 2)
            assert len(commands_seen(lab, node.name)) == 2


def test_values_reach_the_node_literally_because_every_command_is_quoted(lab):
    tricky = ["a b", "$HOME", "'q'", '"dq"', "x; touch /tmp/pwned", "`id`", "$(id)", "*",
              "back\\slash", "new\nline", "%s", "-n"]
    with NodeConnection(node_of(load(lab))) as connection:
        result = connection.run(cmd("printf", "%s|", *tricky))
    assert result.stdout == "|".join(tricky) + "|"
    assert not lab.node("pair1", "fw1").fs.exists("/tmp/pwned")


def test_a_batch_is_one_round_trip_and_keeps_each_commands_output_apart(lab):
    commands = [cmd("printf", "no newline"),
                cmd("sh", "-c", "echo out; echo err >&2; exit 3"),
                cmd("cat", "/nonexistent"),
                cmd("true"),
                cmd("printf", "two\n\nlines\n\n"),
                cmd("sleep", "0", background=True),
                cmd("echo", "after the background one")]
    with NodeConnection(node_of(load(lab))) as connection:
        results = connection.batch(commands)
    assert [(r.status, r.stdout, r.stderr) for r in results] == [
        (0, "no newline", ""),
        (3, "out\n", "err\n"),
        (1, "", "cat: /nonexistent: No such file or directory\n"),
        (0, "", ""),
        (0, "two\n\nlines\n\n", ""),
        (0, "", ""),
        (0, "after the background one\n", ""),
    ]
    assert len(commands_seen(lab)) == 1


def test_privileged_commands_run_through_doas_n_for_an_unprivileged_user(lab):
    inventory = load(lab, user="admin", become="doas")
    with NodeConnection(node_of(inventory)) as connection:
        as_root = connection.run(cmd("id", "-un", privileged=True))
        as_admin = connection.run(cmd("id", "-un"))
    assert (as_root.stdout, as_admin.stdout) == ("root\n", "admin\n")
    entries = lab.log("pair1", "fw1")
    assert {entry.user for entry in entries} == {"admin"}
    assert entries[0].command.startswith("doas -n id -un")
    assert entries[1].command.startswith("id -un")


def test_a_refused_doas_fails_the_command_at_once_instead_of_prompting(lab):
    lab.doas("pair1", "fw1", False)
    inventory = load(lab, user="admin", become="doas")
    with NodeConnection(node_of(inventory)) as connection:
        start = time.monotonic()
        result = connection.run(cmd("pfctl", "-si", privileged=True))
    assert time.monotonic() - start < 2
    assert (result.status, result.stderr) == (1, "doas: Operation not permitted\n")


def test_an_unknown_host_key_is_refused_without_running_anything(lab):
    node = node_of(load(lab, known_hosts=None))
    with pytest.raises(ConnectError) as refused:
        NodeConnection(node).open()
    assert refused.value.reason == "hostkey-unknown"
    assert "SHA256:" in refused.value.message
    assert "--accept-new-host-keys" in refused.value.message
    assert commands_seen(lab) == []


def test_accept_new_records_the_key_in_the_users_known_hosts_for_later_runs(lab, isolated_home):
    node = node_of(load(lab, known_hosts=None))
    with NodeConnection(node, accept_new_host_keys=True) as connection:
        assert connection.run(HOSTNAME).ok
    user_file = isolated_home / ".ssh" / "known_hosts"
    port = lab.port("pair1", "fw1")
    assert user_file.read_text().startswith(f"[127.0.0.1]:{port} ssh-ed25519 ")
    assert user_file.stat().st_mode & 0o077 == 0
    with NodeConnection(node) as connection:
        assert connection.run(HOSTNAME).ok


@pytest.mark.parametrize("accept_new", [False, True])
@pytest.mark.parametrize("other_type", ["ssh-ed25519", "ecdsa-sha2-nistp256"])
def test_a_changed_host_key_is_always_refused(lab, tmp_path, accept_new, other_type):
    port = lab.port("pair1", "fw1")
    other = public_line(generate_key(tmp_path / "impostor", other_type))
    lines = lab.known_hosts.read_text().splitlines()
    forged = [f"[127.0.0.1]:{port} {other}" if line.startswith(f"[127.0.0.1]:{port} ")
              else line for line in lines]
    lab.known_hosts.write_text("\n".join(forged) + "\n")
    with pytest.raises(ConnectError) as refused:
        NodeConnection(node_of(load(lab)), accept_new_host_keys=accept_new).open()
    assert refused.value.reason == "hostkey-changed"
    assert "CHANGED" in refused.value.message
    assert f"ssh-keygen -R '[127.0.0.1]:{port}'" in refused.value.message
    assert commands_seen(lab) == []
    assert lab.known_hosts.read_text().splitlines() == forged


def test_a_key_the_node_does_not_accept_fails_as_authentication(lab, tmp_path):
    stranger = generate_key(tmp_path / "stranger")
    node = node_of(load(lab, identity_file=str(stranger)))
    start = time.monotonic()
    with pytest.raises(ConnectError) as refused:
        NodeConnection(node).open()
    assert time.monotonic() - start < sum(RETRY_DELAYS)  # not retried
    assert refused.value.reason == "authentication"
    assert "authentication as root" in refused.value.message
    assert str(stranger) in refused.value.message


def test_a_crashed_node_times_out_after_the_connect_timeout_without_retrying(lab):
    lab.crash("pair1", "fw1")
    node = node_of(load(lab, connect_timeout=0.5))
    start = time.monotonic()
    with pytest.raises(ConnectError) as failed:
        NodeConnection(node).open()
    assert 0.4 < time.monotonic() - start < 0.5 + RETRY_DELAYS[0]
    assert failed.value.reason == "timeout"


def test_connection_set_up_is_retried_while_sshd_refuses(lab):
    lab.ssh_down("pair1", "fw1")
    threading.Timer(0.4, lab.ssh_down, ("pair1", "fw1", False)).start()
    with NodeConnection(node_of(load(lab))) as connection:
        assert connection.run(HOSTNAME).ok
        assert connection.connects == 1


def test_a_node_that_keeps_refusing_is_reported_refused_after_the_retries(lab):
    lab.ssh_down("pair1", "fw1")
    start = time.monotonic()
    with pytest.raises(ConnectError) as failed:
        NodeConnection(node_of(load(lab))).open()
    assert time.monotonic() - start >= sum(RETRY_DELAYS)
    assert failed.value.reason == "refused"


def test_a_command_is_never_retried_when_the_connection_drops(lab):
    lab.drop("pair1", "fw1", "hostname")
    with NodeConnection(node_of(load(lab))) as connection:
        with pytest.raises(ConnectionLost) as lost:
            connection.run(HOSTNAME)
        assert "hostname" in lost.value.message
        assert [c for c in commands_seen(lab) if "hostname" in c] == ["hostname </dev/null"]
        assert connection.run(cmd("true")).ok  # the next command reconnects
        assert connection.connects == 2


def test_a_batch_cut_by_a_dropped_connection_is_named_in_one_line(lab):
    """The lock-and-read batch holds a dozen commands, multi-line scripts among them: the
    error names it in one line, not as a page of shell printed as errors."""
    script = cmd("sh", "-c", "for f in a b; do\necho \"$f\"\ndone")
    lab.drop("pair1", "fw1", "^hostname$", count=2)
    with NodeConnection(node_of(load(lab))) as connection:
        with pytest.raises(ConnectionLost) as short:
            connection.batch([script, HOSTNAME])
        with pytest.raises(ConnectionLost) as long:
            connection.batch([cmd("true"), script, *(cmd("echo", n) for n in range(30)),
                              HOSTNAME])
    assert short.value.message == ("fw1: connection lost while running: "
                                   "sh -c 'for f in a b; do ...; hostname")
    assert long.value.message == ("fw1: connection lost while running: "
                                  "true and 32 more commands in one round trip")
