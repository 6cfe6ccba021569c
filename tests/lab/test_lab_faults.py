"""Every fault a test can inject, seen from a real SSH client."""

from __future__ import annotations

import re
import socket
import threading
import time

import paramiko
import pytest
from sshclient import LabClient, Result, sh, wait_until

BOTH = {1: ["fw2"], 2: ["fw2"]}
HOME = {1: ["fw1"], 2: ["fw1"]}


def connect_error(lab, node: str = "fw1", timeout: float = 0.5) -> type[Exception] | None:
    """The exception class a new connection fails with, or None if it works."""
    try:
        LabClient(lab, node=node, timeout=timeout).close()
    except Exception as exc:  # noqa: BLE001 - the class is the answer
        return type(exc)
    return None


def is_refused(error) -> bool:
    return error is not None and issubclass(
        error, (ConnectionRefusedError, paramiko.ssh_exception.NoValidConnectionsError))


def is_unanswered(error) -> bool:
    """A TCP connect that succeeds but never sees sshd's banner, as behind `block drop`."""
    return error is not None and issubclass(error, (paramiko.SSHException, socket.timeout,
                                                    TimeoutError)) and not is_refused(error)


def run_in_background(client: LabClient, line: str) -> tuple[threading.Thread, list[Result]]:
    results: list[Result] = []
    thread = threading.Thread(target=lambda: results.append(client.exec(line, timeout=10)))
    thread.start()
    return thread, results


# -- power -----------------------------------------------------------------------------------
def test_a_crash_cuts_every_session_and_the_node_answers_nothing_until_powered_on(lab):
    client = LabClient(lab)
    thread, results = run_in_background(client, "sleep 5")
    time.sleep(0.1)
    start = time.monotonic()
    lab.crash("pair1", "fw1")
    thread.join(2)
    assert results and results[0].status == -1          # cut, no exit status
    assert time.monotonic() - start < 1.0
    assert is_unanswered(connect_error(lab))
    assert lab.truth("pair1")["nodes"]["fw1"]["powered"] is False
    assert lab.log("pair1", "fw1")[-1].status is None
    client.close()

    lab.power_on("pair1", "fw1")
    back = wait_until(lambda: connect_error(lab) is None, 2.0, step=0.05)
    assert back
    assert sh(lab, "hostname").out == "fw1.pair1.lab\n"


def test_a_reboot_with_a_chosen_downtime_keeps_the_node_away_that_long(lab):
    start = time.monotonic()
    lab.reboot("pair1", "fw1", downtime=1.0)
    assert wait_until(lambda: lab.masters("pair1") == BOTH, 0.3)   # rc shutdown bows out
    assert connect_error(lab, timeout=0.3) is not None
    assert wait_until(lambda: connect_error(lab, timeout=0.3) is None, 3.0, step=0.05)
    took = time.monotonic() - start
    # the downtime, then sshd after the boot's first steps (0.3 s in the lab)
    assert 1.2 <= took <= 2.0, took


# -- sshd --------------------------------------------------------------------------------------
def test_ssh_down_refuses_new_connections_while_sessions_and_carp_go_on(lab):
    with LabClient(lab) as fw1:
        lab.ssh_down("pair1", "fw1")
        assert wait_until(lambda: is_refused(connect_error(lab)), 1.0)
        assert connect_error(lab, "fw2") is None
        # the session already open still works, and fw1's CARP still advertises:
        # a demotion sent now moves both vhids at once
        assert fw1.exec("ifconfig -g carp carpdemote 1").status == 0
        assert wait_until(lambda: lab.masters("pair1") == BOTH, 0.3)
        lab.ssh_down("pair1", "fw1", False)
        assert wait_until(lambda: connect_error(lab) is None, 1.0)


def test_refusing_new_connections_leaves_them_unanswered_but_keeps_open_sessions(lab):
    with LabClient(lab) as fw1:
        lab.refuse_new("pair1", "fw1")
        start = time.monotonic()
        assert is_unanswered(connect_error(lab, timeout=0.5))
        assert time.monotonic() - start >= 0.45         # it waited for an answer
        assert fw1.exec("echo alive").out == "alive\n"
        lab.refuse_new("pair1", "fw1", False)
        assert wait_until(lambda: connect_error(lab) is None, 1.0)


# -- commands ----------------------------------------------------------------------------------
def test_slow_commands_take_the_extra_time_only_when_they_match(lab):
    lab.slow("pair1", "fw1", 0.5, "pfctl")
    with LabClient(lab) as fw1:
        start = time.monotonic()
        assert fw1.exec("true").status == 0
        fast = time.monotonic() - start
        start = time.monotonic()
        assert fw1.exec("pfctl -si").status == 0
        slow = time.monotonic() - start
    assert fast < 0.2 and 0.5 <= slow < 1.0, (fast, slow)
    assert lab.log("pair1", "fw1")[-1].duration >= 0.5


def test_a_connection_dropped_in_the_middle_of_a_command_line_runs_only_what_came_before(lab):
    lab.drop("pair1", "fw1", r"^pfctl -d")
    with LabClient(lab) as fw1:
        result = fw1.exec("touch /tmp/before; pfctl -d; touch /tmp/after")
    assert result.status == -1
    assert lab.log("pair1", "fw1")[-1].status is None
    check = sh(lab, "ls /tmp/before /tmp/after; pfctl -si | head -1")
    assert "/tmp/before" in check.out and "/tmp/after: No such file" in check.err
    assert check.out.splitlines()[-1].startswith("Status: Enabled")
    # one drop was asked for: the next pfctl -d runs
    assert sh(lab, "pfctl -d").err == "pf disabled\n"


def test_a_connection_dropped_after_a_command_loses_the_answer_but_not_the_effect(lab):
    lab.drop("pair1", "fw1", r"pfctl -d", after=True, count=2)
    with LabClient(lab) as fw1:
        assert fw1.exec("pfctl -d").status == -1
    with LabClient(lab) as fw1:
        assert fw1.exec("pfctl -e").status == 0
        assert fw1.exec("pfctl -d").status == -1
    assert sh(lab, "pfctl -si | head -1").out.startswith("Status: Disabled")
    assert [e.status for e in lab.log("pair1", "fw1")[-4:]] == [None, 0, None, 0]


def test_doas_can_be_forbidden_and_allowed_again(lab):
    assert sh(lab, "doas -n pfctl -si | head -1", user="admin").out.startswith("Status: Enabled")
    lab.doas("pair1", "fw1", False)
    result = sh(lab, "doas -n ifconfig carp0 advskew 254", user="admin")
    assert (result.status, result.err) == (1, "doas: Operation not permitted\n")
    assert lab.truth("pair1")["nodes"]["fw1"]["carp"]["carp0"]["advskew"] == 0
    lab.doas("pair1", "fw1", True)
    assert sh(lab, "doas -n ifconfig carp0 advskew 10", user="admin").status == 0
    assert lab.truth("pair1")["nodes"]["fw1"]["carp"]["carp0"]["advskew"] == 10


def test_a_full_disk_fails_writes_but_not_reads(lab):
    lab.disk_full("pair1", "fw1")
    result = sh(lab, "cp /etc/pf.conf /etc/pf.conf.bak")
    assert result.status == 1 and "No space left on device" in result.err
    result = sh(lab, "echo x > /tmp/x")
    assert result.status == 1 and "No space left on device" in result.err
    assert sh(lab, "cat /etc/pf.conf | wc -l").status == 0
    assert sh(lab, "echo x > /tmp/x", node="fw2").status == 0     # fw2's disk is fine
    lab.clear_faults("pair1", "fw1")
    assert sh(lab, "cp /etc/pf.conf /etc/pf.conf.bak").status == 0


def test_clearing_faults_restores_a_healthy_node(lab):
    lab.slow("pair1", "fw1", 2.0)
    lab.doas("pair1", "fw1", False)
    lab.drop("pair1", "fw1", "true", count=5)
    lab.disk_full("pair1", "fw1")
    lab.clear_faults("pair1", "fw1")
    start = time.monotonic()
    assert sh(lab, "true && doas -n true && echo ok > /tmp/ok", user="admin").status == 0
    assert time.monotonic() - start < 1.0


# -- CARP and services -------------------------------------------------------------------------
def test_preempt_off_keeps_a_faster_node_from_taking_master_back_until_it_is_on_again(lab):
    lab.preempt("pair1", "fw1", False)
    assert sh(lab, "sysctl -n net.inet.carp.preempt").out == "0\n"
    assert sh(lab, "ifconfig -g carp carpdemote 1; ifconfig -g carp -carpdemote 1").status == 0
    assert wait_until(lambda: lab.masters("pair1") == BOTH, 0.3)
    # fw1 is faster (advskew 0 vs 100) but without preempt it waits forever
    deadline = time.monotonic() + 1.6                    # past fw2's next advertisement
    while time.monotonic() < deadline:
        assert lab.masters("pair1") == BOTH
        time.sleep(0.05)
    lab.preempt("pair1", "fw1", True)
    assert wait_until(lambda: lab.masters("pair1") == HOME, 1.6)


def test_allow_off_makes_the_node_deaf_to_carp(lab):
    lab.allow("pair1", "fw2", False)
    assert sh(lab, "sysctl net.inet.carp.allow", node="fw2").out == "net.inet.carp.allow=0\n"
    assert lab.truth("pair1")["nodes"]["fw2"]["preempt"] is True


def test_a_web_host_down_shows_in_relayctl_on_both_nodes(lab):
    lab.webhost("pair1", "192.168.1.3", False)
    for node in ("fw1", "fw2"):
        out = sh(lab, "relayctl show summary", node=node).out
        rows = [line.split("\t") for line in out.splitlines()[1:]]
        status = {row[2].strip(): row[4] for row in rows}
        assert status["webhosts:80"] == "active (1 hosts)"
        assert status["192.168.1.2"] == "up" and status["192.168.1.3"] == "down"
    hosts = sh(lab, "relayctl show hosts").out
    assert re.search(r"192\.168\.1\.3\s*\t0\.00%\s*\tdown\n\t {8}\ttotal: 0/\d+ checks, "
                     r"error: http code mismatch\n", hosts), hosts
    lab.webhost("pair1", "192.168.1.3", True)
    assert "down" not in sh(lab, "relayctl show summary").out
    with pytest.raises(KeyError):
        lab.webhost("pair1", "192.0.2.99", False)


def test_pending_syspatches_install_and_a_kernel_patch_needs_a_reboot(lab):
    lab.syspatch_pending("pair1", "fw1", ["001_pf", "002_kernel"])
    assert sh(lab, "syspatch -c").out == "001_pf\n002_kernel\n"
    result = sh(lab, "syspatch")
    assert result.status == 0
    assert "Installing patch 002_kernel\n" in result.out
    assert "Relinking to create unique kernel... done" in result.out
    assert sh(lab, "syspatch -c").out == ""
    assert sh(lab, "syspatch -l").out == "001_pf\n002_kernel\n"
    assert sh(lab, "syspatch").status == 2               # nothing left to install
    assert sh(lab, "uname -v").out == "GENERIC.MP#1\n"
    lab.reboot("pair1", "fw1", downtime=0.1)
    assert wait_until(lambda: connect_error(lab, timeout=0.3) is None, 2.0, step=0.05)
    assert sh(lab, "uname -v").out == "GENERIC.MP#2\n"
