"""What a tool sees of the ruleset a boot left: rc's temporary rules or /etc/pf.conf, and anchors.

etc/rc loads a temporary ruleset first and keeps it when /etc/pf.conf fails;
`pfctl -sr` prints the loaded rules, `pfctl -sA` the anchors (pfctl.c
pfctl_show_anchors / pfctl_walk_anchors: two spaces, then the path).
"""

from __future__ import annotations

import io

from sshclient import LabClient, sh, wait_until

from carpctl_lab.node import rc_temporary_ruleset

REDIRECTING_RELAYD = """\
table <webhosts> { 192.168.1.2 192.168.1.3 }
redirect www {
\tlisten on 192.168.1.123 port http
\tforward to <webhosts> check http "/" code 200
}
"""


def upload(lab, node: str, path: str, text: str) -> None:
    with LabClient(lab, node=node) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(text.encode()), path)


def booted(lab, node: str) -> bool:
    try:
        return sh(lab, "true", node=node).status == 0
    except Exception:  # noqa: BLE001 - still booting
        return False


def test_the_relayd_anchor_of_pf_conf_is_listed_by_pfctl_sA(lab):
    assert sh(lab, "pfctl -sA").out == "  relayd\n"


def test_relayd_redirects_add_their_own_anchors_below_relayd(lab):
    upload(lab, "fw1", "/etc/relayd.conf", REDIRECTING_RELAYD)
    assert sh(lab, "rcctl restart relayd").status == 0
    assert sh(lab, "pfctl -sA").out == "  relayd\n  relayd/www\n"
    assert sh(lab, "rcctl stop relayd").status == 0
    assert sh(lab, "pfctl -sA").out == "  relayd\n"


def test_a_pf_conf_that_fails_at_boot_leaves_rcs_temporary_rules_visible(lab):
    upload(lab, "fw2", "/etc/pf.conf", "pass in on $nosuch\n")
    lab.reboot("pair1", "fw2", downtime=0.1)
    assert wait_until(lambda: booted(lab, "fw2"), timeout=5)
    rules = sh(lab, "pfctl -sr", node="fw2").out
    assert rules == "".join(rule + "\n" for rule in rc_temporary_ruleset().rules)
    assert "pass in proto tcp from any to any port = ssh flags S/SA\n" in rules
    assert sh(lab, "pfctl -sA", node="fw2").out == ""
    # the temporary rules pass carp: after rc, fw2 is BACKUP again, not a second MASTER
    assert wait_until(lambda: lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}, timeout=3)


def test_rc_local_runs_through_the_shell_at_boot(lab):
    upload(lab, "fw2", "/etc/rc.local",
           "echo booted $(hostname -s) > /var/log/boot-check\nifconfig -g carp >> /var/log/boot-check\n")
    lab.reboot("pair1", "fw2", downtime=0.1)
    assert wait_until(lambda: booted(lab, "fw2"), timeout=5)
    # rc.local runs before rc lowers its boot demotion of 128 (and pfsync holds 32)
    assert sh(lab, "cat /var/log/boot-check", node="fw2").out == \
        "booted fw2\ncarp: carp demote count 160\n"
