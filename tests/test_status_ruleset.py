"""The loaded pf ruleset over real SSH: rc's temporary boot rules, and relayd's anchor.

A pf.conf that fails at boot leaves rc's temporary rules (ssh in, carp, no service
traffic): status names it with the commands that find and fix the error. relayd
redirects only work when the loaded rules call `anchor "relayd/*"`.
"""

from __future__ import annotations

from lab_inventories import lab_inventory, poll
from test_status import run_on, status
from test_status_agreement import messages

from carpctl.remote import commands as C

REDIRECTING_RELAYD = """\
table <webhosts> { 192.168.1.2 192.168.1.3 }
redirect www {
\tlisten on 192.168.1.123 port http
\tforward to <webhosts> check http "/" code 200
}
"""


def test_a_node_left_on_rcs_temporary_boot_ruleset_is_named_with_the_fix(capsys, lab):
    healthy = lab_inventory(lab, connect_timeout=0.5)
    lab.node("pair1", "fw2").fs.write_text("/etc/pf.conf", "pass in on $nosuch\n")
    lab.reboot("pair1", "fw2", downtime=0.1)

    def booted() -> dict | None:
        document = status(capsys, healthy)[1]
        return document if messages(document, "boot-ruleset") else None

    document = poll(booted, timeout=20)
    assert messages(document, "boot-ruleset") == [
        "fw2 runs rc's temporary boot ruleset (only ssh, dns, dhcp and carp pass): /etc/pf.conf "
        "did not load at boot; see why with `pfctl -nf /etc/pf.conf` on fw2, fix it, then "
        "`pfctl -f /etc/pf.conf`"]


def test_the_running_pairs_rules_are_not_mistaken_for_the_boot_ruleset(capsys, lab):
    healthy = lab_inventory(lab, connect_timeout=0.5)
    code, document = status(capsys, healthy)
    assert code == 0 and not messages(document, "boot-ruleset")


def test_relayd_redirects_without_the_relayd_anchor_in_pf_are_reported(capsys, lab):
    healthy = lab_inventory(lab, connect_timeout=0.5)
    fs = lab.node("pair1", "fw1").fs
    fs.write_text("/etc/relayd.conf", REDIRECTING_RELAYD)
    run_on(lab, "fw1", C.cmd("rcctl", "restart", "relayd", privileged=True))
    code, document = status(capsys, healthy)
    assert not messages(document, "relayd-anchor")   # the lab's pf.conf calls the anchor
    pf_conf = fs.read_text("/etc/pf.conf")
    assert 'anchor "relayd/*"' in pf_conf
    fs.write_text("/etc/pf.conf", "\n".join(line for line in pf_conf.splitlines()
                                            if "relayd" not in line) + "\n")
    run_on(lab, "fw1", C.pf_load("/etc/pf.conf"))
    code, document = status(capsys, healthy)
    assert code == 1
    assert messages(document, "relayd-anchor") == [
        "fw1 relayd has redirects (www) but the loaded pf rules have no `anchor \"relayd/*\"`: "
        "their rules are never evaluated; add the anchor to /etc/pf.conf"]
