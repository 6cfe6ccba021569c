"""The lab's sshd, seen by paramiko: host keys, key-only auth, exec, stdin, SFTP, keepalives."""

from __future__ import annotations

import io
import stat

import asyncssh
import paramiko
import pytest
from sshclient import LabClient, sh


def host_key_of(lab, node: str) -> str:
    port = lab.port("pair1", node)
    for line in lab.known_hosts.read_text().splitlines():
        name, kind, key = line.split()
        if name == f"[127.0.0.1]:{port}":
            return f"{kind} {key}"
    raise AssertionError(f"{node} (port {port}) is not in known_hosts")


# -- who may connect ------------------------------------------------------------------------
def test_each_node_has_its_own_host_key_and_known_hosts_lists_it_under_its_port(lab):
    assert host_key_of(lab, "fw1") != host_key_of(lab, "fw2")
    with LabClient(lab, node="fw2") as client:
        offered = client.transport.get_remote_server_key()
    assert f"{offered.get_name()} {offered.get_base64()}" == host_key_of(lab, "fw2")


def test_a_client_that_does_not_know_the_host_key_is_refused_by_its_own_policy(lab):
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        client.connect("127.0.0.1", port=lab.port("pair1", "fw1"), username="root",
                       key_filename=str(lab.client_key), look_for_keys=False, allow_agent=False,
                       timeout=5)
    client.close()


def test_a_key_other_than_the_labs_client_key_is_refused(lab, tmp_path):
    stranger = tmp_path / "stranger"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(stranger))
    client = paramiko.SSHClient()
    client.load_host_keys(str(lab.known_hosts))
    with pytest.raises(paramiko.AuthenticationException):
        client.connect("127.0.0.1", port=lab.port("pair1", "fw1"), username="root",
                       key_filename=str(stranger), look_for_keys=False, allow_agent=False,
                       timeout=5)
    client.close()


def test_passwords_are_never_accepted_not_even_for_root(lab):
    client = paramiko.SSHClient()
    client.load_host_keys(str(lab.known_hosts))
    with pytest.raises(paramiko.AuthenticationException):
        client.connect("127.0.0.1", port=lab.port("pair1", "fw1"), username="root",
                       password="root", look_for_keys=False, allow_agent=False, timeout=5)
    client.close()


def test_only_the_labs_accounts_may_log_in(lab):
    with pytest.raises(paramiko.AuthenticationException):
        LabClient(lab, user="mallory")
    assert sh(lab, "id -un", user="admin").out == "admin\n"
    assert sh(lab, "id -u").out == "0\n"


# -- exec -------------------------------------------------------------------------------------
def test_exec_returns_the_exit_status_and_keeps_stdout_and_stderr_apart(lab):
    result = sh(lab, "echo to-out; echo to-err >&2; exit 3")
    assert (result.status, result.out, result.err) == (3, "to-out\n", "to-err\n")


def test_an_unknown_command_exits_127_with_kshs_not_found(lab):
    result = sh(lab, "frobnicate --now")
    assert (result.status, result.out, result.err) == (127, "", "ksh: frobnicate: not found\n")


def test_stdin_sent_by_the_client_reaches_the_command(lab):
    with LabClient(lab) as client:
        result = client.exec("cat > /tmp/in && sha256 -q /tmp/in", stdin=b"pass lab\n")
        assert result.status == 0
        assert client.exec("cat /tmp/in").out == "pass lab\n"


def test_many_commands_share_one_connection_and_each_lands_in_the_nodes_log(lab):
    before = len(lab.log("pair1", "fw2"))
    with LabClient(lab, node="fw2", user="admin") as client:
        for line in ("true", "false", "ifconfig -g carp"):
            client.exec(line)
    entries = lab.log("pair1", "fw2")[before:]
    assert [(e.user, e.command, e.status) for e in entries] == [
        ("admin", "true", 0), ("admin", "false", 1), ("admin", "ifconfig -g carp", 0)]
    assert all(0 <= e.duration < 1 for e in entries)
    assert lab.log("pair1", "fw1") == []


def test_an_interactive_shell_is_refused_with_a_message(lab):
    with LabClient(lab) as client:
        channel = client.transport.open_session()
        channel.invoke_shell()
        assert channel.recv_exit_status() == 1
        assert b"not emulated" in channel.recv_stderr(1000)


def test_client_keepalives_are_answered_and_the_connection_stays_usable(lab):
    with LabClient(lab) as client:
        for _ in range(3):
            # what paramiko's set_keepalive sends; asyncssh answers "unsupported" at once
            client.transport.global_request("keepalive@lag.net", wait=True)
        assert client.transport.is_active()
        assert client.exec("echo still here").out == "still here\n"


# -- SFTP --------------------------------------------------------------------------------------
def test_an_sftp_upload_lands_in_that_nodes_root_only(lab):
    with LabClient(lab) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(b"block all\n"), "/tmp/pf.conf.new")
        assert client.exec("cat /tmp/pf.conf.new").out == "block all\n"
    assert (lab.directory / "nodes/pair1/fw1/tmp/pf.conf.new").read_bytes() == b"block all\n"
    assert not (lab.directory / "nodes/pair1/fw2/tmp/pf.conf.new").exists()
    assert sh(lab, "test -e /tmp/pf.conf.new", node="fw2").status == 1


def test_sftp_cannot_climb_out_of_the_node_root_or_plant_links(lab):
    with LabClient(lab) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(b"x"), "/../../../fw2/../../escaped")
        with pytest.raises(IOError):
            sftp.symlink("/etc/pf.conf", "/tmp/link")
    # `..` stops at the node's /: the file is fw1's /escaped, nowhere else
    assert (lab.directory / "nodes/pair1/fw1/escaped").exists()
    assert not (lab.directory / "escaped").exists()
    assert not (lab.directory / "nodes/escaped").exists()
    assert not (lab.directory / "nodes/pair1/fw2/escaped").exists()


def test_sftp_as_admin_cannot_write_etc_but_root_can(lab):
    with LabClient(lab, user="admin") as client, client.sftp() as sftp:
        with pytest.raises(PermissionError):
            sftp.putfo(io.BytesIO(b"block all\n"), "/etc/pf.conf")
        with pytest.raises(PermissionError):
            sftp.putfo(io.BytesIO(b"x\n"), "/etc/new.conf")
        with pytest.raises(PermissionError):
            sftp.open("/etc/pf.conf").read()          # mode 0600 root:wheel
        with pytest.raises(PermissionError):
            sftp.remove("/etc/relayd.conf")
        with pytest.raises(PermissionError):
            sftp.listdir("/root")
        sftp.putfo(io.BytesIO(b"mine\n"), "/home/admin/pf.conf")
        assert sftp.stat("/home/admin/pf.conf").st_uid == 1000
    assert "pass quick on $sync_if" in sh(lab, "cat /etc/pf.conf").out
    assert sh(lab, "ls -l /home/admin/pf.conf").out.split()[2:4] == ["admin", "admin"]
    assert sh(lab, "test -e /etc/new.conf").status == 1
    with LabClient(lab) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(b"# empty\n"), "/etc/new.conf")
        sftp.chmod("/etc/new.conf", 0o600)
        attrs = sftp.stat("/etc/new.conf")
    assert (attrs.st_uid, stat.S_IMODE(attrs.st_mode)) == (0, 0o600)
    assert sh(lab, "ls -l /etc/new.conf").out.split()[:4] == ["-rw-------", "1", "root", "wheel"]


def test_sftp_rename_over_an_existing_file_needs_posix_rename_as_openssh_does(lab):
    with LabClient(lab) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(b"new\n"), "/etc/relayd.conf.new")
        with pytest.raises(IOError):
            sftp.rename("/etc/relayd.conf.new", "/etc/relayd.conf")
        sftp.posix_rename("/etc/relayd.conf.new", "/etc/relayd.conf")
    assert sh(lab, "cat /etc/relayd.conf; ls /etc/relayd.conf.new").out == "new\n"


def test_sftp_uploads_fail_with_no_space_left_while_the_disk_is_full(lab):
    lab.disk_full("pair1", "fw1")
    with LabClient(lab) as client, client.sftp() as sftp:
        with pytest.raises(OSError, match="No space left on device"):
            with sftp.open("/tmp/upload", "w") as remote:
                remote.write(b"x" * 100)
    lab.disk_full("pair1", "fw1", False)
    with LabClient(lab) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(b"x" * 100), "/tmp/upload")
        assert sftp.stat("/tmp/upload").st_size == 100


def test_sftp_chown_is_for_root_only_and_sets_the_owner_ls_shows(lab):
    with LabClient(lab) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(b"x\n"), "/tmp/handover")
        sftp.chown("/tmp/handover", 1000, 1000)
    assert sh(lab, "ls -l /tmp/handover").out.split()[2:4] == ["admin", "admin"]
    with LabClient(lab, user="admin") as client, client.sftp() as sftp:
        with pytest.raises(OSError):
            sftp.chown("/tmp/handover", 0, 0)
    assert sh(lab, "ls -l /tmp/handover").out.split()[2:4] == ["admin", "admin"]
