"""A node boots from its own files, as /etc/rc and netstart would build it."""

from __future__ import annotations

import io

from sshclient import LabClient, sh, wait_until


def reboot_and_wait(lab, node: str = "fw1") -> None:
    lab.reboot("pair1", node, downtime=0.1)

    def back() -> bool:
        try:
            LabClient(lab, node=node, timeout=0.3).close()
        except Exception:  # noqa: BLE001 - not back yet
            return False
        return True
    assert wait_until(back, 3.0, step=0.05), f"{node} did not come back"


def upload(lab, path: str, text: str, node: str = "fw1") -> None:
    with LabClient(lab, node=node) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(text.encode()), path)


def test_a_rebooted_node_rebuilds_carp_sysctls_daemons_and_pfsync_from_its_files(lab):
    upload(lab, "/etc/hostname.carp0",
           "vhid 1 carpdev em0 advbase 2 advskew 50 pass lab-secret\ninet 192.168.1.123/24\n")
    upload(lab, "/etc/sysctl.conf", "net.inet.carp.preempt=0 # no preempt\n")
    assert sh(lab, "rcctl disable relayd && rm /etc/hostname.pfsync0").status == 0
    reboot_and_wait(lab)
    assert "carp: BACKUP carpdev em0 vhid 1 advbase 2 advskew 50\n" in sh(lab, "ifconfig carp0").out
    assert "advbase 1 advskew 0\n" in sh(lab, "ifconfig carp1").out
    assert sh(lab, "sysctl -n net.inet.carp.preempt").out == "0\n"
    assert sh(lab, "relayctl show summary").err.startswith("relayctl: connect:")
    assert sh(lab, "ifconfig pfsync0").err == "pfsync0: no such interface\n"
    # the untouched peer is as it was
    assert sh(lab, "rcctl check relayd", node="fw2").out == "relayd(ok)\n"


def test_a_pf_conf_that_fails_at_boot_leaves_rcs_temporary_ruleset_with_ssh_open(lab):
    upload(lab, "/etc/pf.conf", 'ext_if = "em0"\nrdr-anchor "relayd/*"\npass out\n')
    reboot_and_wait(lab)                     # reachable: rc's rules pass ssh in
    rules = sh(lab, "pfctl -sr").out.splitlines()
    assert rules[0] == "block drop all"
    assert "pass in proto tcp from any to any port = ssh flags S/SA" in rules
    assert not any("relayd" in rule for rule in rules)
    assert sh(lab, "pfctl -si | head -1").out.startswith("Status: Enabled")


def test_boot_demotes_by_128_until_rc_ends_and_pfsync_adds_32_until_its_bulk_update(lab):
    lab.reboot("pair1", "fw1", downtime=0.1)
    seen = set()

    def settled() -> bool:
        try:
            with LabClient(lab, timeout=0.3) as client:
                seen.add(int(client.exec("ifconfig -g carp").out.split()[-1]))
        except Exception:  # noqa: BLE001 - still booting
            return False
        return 0 in seen
    assert wait_until(settled, 4.0, step=0.05)
    # 160 while rc runs (sshd already answers), 32 after rc, 0 once pfsync is in sync
    assert {160, 32, 0} <= seen, seen
    assert seen <= {160, 32, 0}
