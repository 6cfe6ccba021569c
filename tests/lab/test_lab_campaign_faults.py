"""Faults a fault campaign needs: relayd that will not start, cuts at a chosen point, syspatch traps.

syspatch's messages come from usr.sbin/syspatch/syspatch.sh (err -> `syspatch: MESSAGE`
on stderr); rcctl's `relayd(failed)` from etc/rc.d/rc.subr.
"""

from __future__ import annotations

import io
import time

import paramiko
import pytest
from sshclient import LabClient, sh, wait_until

from carpctl_lab.pair import Timing


def booted(lab, node: str) -> bool:
    try:
        return sh(lab, "true", node=node).status == 0
    except Exception:  # noqa: BLE001 - still booting
        return False


# -- relayd that fails to start ---------------------------------------------------------------
def test_relayd_can_fail_to_start_although_its_config_parses(lab):
    assert sh(lab, "rcctl stop relayd").status == 0
    lab.relayd_fails("pair1", "fw1")
    assert sh(lab, "relayd -n").err == "configuration OK\n"
    result = sh(lab, "rcctl start relayd")
    assert (result.status, result.out) == (1, "relayd(failed)\n")
    assert sh(lab, "rcctl check relayd").out == "relayd(failed)\n"
    lab.clear_faults("pair1", "fw1")
    assert sh(lab, "rcctl start relayd").out == "relayd(ok)\n"


# -- cuts at a chosen point ---------------------------------------------------------------------
def test_a_cut_at_a_chosen_command_leaves_a_detached_script_running(lab):
    script = "for i in 1 2 3 4 5 6; do echo $i >> /tmp/progress; sleep 0.1; done\n"
    with LabClient(lab) as client:
        client.sftp().putfo(io.BytesIO(script.encode()), "/tmp/window.sh")
        lab.drop("pair1", "fw1", r"^ifconfig carp0")
        started = client.exec("nohup sh /tmp/window.sh >/dev/null 2>&1 & echo started")
        assert started.out == "started\n"
        assert client.exec("ifconfig carp0 advskew 254").status == -1   # cut before it ran
    assert wait_until(lambda: sh(lab, "cat /tmp/progress").out.split()[-1:] == ["6"], timeout=5)
    assert "advskew 0" in sh(lab, "ifconfig carp0").out


def test_a_cut_at_an_sftp_rename_can_happen_before_or_after_the_rename(lab):
    lab.drop("pair1", "fw1", r"^sftp rename /etc/pf\.conf\.new")
    with LabClient(lab) as client:
        sftp = client.sftp()
        sftp.putfo(io.BytesIO(b"pass\n"), "/etc/pf.conf.new")
        with pytest.raises((OSError, EOFError, paramiko.SSHException)):
            sftp.posix_rename("/etc/pf.conf.new", "/etc/pf.conf")
    assert sh(lab, "cat /etc/pf.conf.new").out == "pass\n"            # not renamed
    lab.drop("pair1", "fw1", r"^sftp rename /etc/pf\.conf\.new", after=True)
    with LabClient(lab) as client:
        with pytest.raises((OSError, EOFError, paramiko.SSHException)):
            client.sftp().posix_rename("/etc/pf.conf.new", "/etc/pf.conf")
    assert sh(lab, "cat /etc/pf.conf").out == "pass\n"                # renamed, answer lost


# -- syspatch ---------------------------------------------------------------------------------------
def test_a_self_updating_syspatch_may_relink_a_kernel_in_its_first_run(lab):
    lab.syspatch_pending("pair1", "fw1", ["001_kernel", "002_syspatch", "003_relayd"])
    first = sh(lab, "syspatch")
    assert first.status == 2
    assert first.err == "syspatch: updated itself, run it again to install missing patches\n"
    assert first.out.splitlines()[-1] == \
        "Relinking to create unique kernel... done; reboot to load the new kernel"
    assert "Installing patch 003_relayd" not in first.out
    second = sh(lab, "syspatch")
    assert (second.status, second.out) == (0, "Get/Verify syspatch76-003_relayd.tgz\n"
                                              "Installing patch 003_relayd\n")
    assert sh(lab, "syspatch -l").out == "001_kernel\n002_syspatch\n003_relayd\n"


def test_syspatch_refuses_while_reorder_kernel_runs_after_boot(lab_factory):
    lab = lab_factory(timing=Timing(reorder_time=1.5))
    lab.syspatch_pending("pair1", "fw1", ["001_relayd"])
    lab.reboot("pair1", "fw1", downtime=0.1)
    assert wait_until(lambda: booted(lab, "fw1"), timeout=5)
    lab.syspatch_pending("pair1", "fw1", ["001_relayd"])
    refused = sh(lab, "syspatch")
    assert (refused.status, refused.err) == \
        (1, "syspatch: cannot apply patches while reorder_kernel is running\n")
    assert sh(lab, "syspatch -c").out == "001_relayd\n"     # listing still works
    time.sleep(1.5)
    assert sh(lab, "syspatch").status == 0


def test_reorder_kernel_can_be_started_on_a_running_node(lab):
    lab.syspatch_pending("pair1", "fw2", ["001_relayd"])
    lab.reorder_kernel("pair1", "fw2", 30)
    assert sh(lab, "syspatch", node="fw2").status == 1
