"""Interface groups besides `carp`: membership, their own demote counters, and the sum CARP sends.

ifconfig.c setifgroup/unsetifgroup and the `-g` group attribute; ip_carp.c
carp_group_demote_count sums every group of a carp interface.
"""

from __future__ import annotations

from sshclient import sh, wait_until

from carpctl_lab.image import CarpSpec, PairSpec

HOME = {1: ["fw1"], 2: ["fw1"]}


def groups_line(lab, ifname: str, node: str = "fw1") -> str:
    return next(line for line in sh(lab, f"ifconfig {ifname}", node=node).out.splitlines()
                if line.startswith("\tgroups: "))


def test_a_group_joins_after_carp_and_has_its_own_demote_counter(lab):
    assert sh(lab, "ifconfig carp0 group wan && ifconfig carp0 group edge").status == 0
    assert groups_line(lab, "carp0") == "\tgroups: carp wan edge"
    assert sh(lab, "ifconfig -g wan").out == "wan: carp demote count 0\n"
    assert [line.split(":")[0] for line in sh(lab, "ifconfig wan").out.splitlines()
            if not line.startswith("\t")] == ["carp0"]


def test_demoting_a_group_moves_only_its_members_vhids_at_once(lab):
    assert sh(lab, "ifconfig carp0 group wan && ifconfig -g wan carpdemote 5").status == 0
    assert wait_until(lambda: lab.masters("pair1") == {1: ["fw2"], 2: ["fw1"]}, timeout=1.0)
    assert sh(lab, "ifconfig -g carp").out == "carp: carp demote count 0\n"
    assert sh(lab, "ifconfig -g wan").out == "wan: carp demote count 5\n"


def test_leaving_the_last_group_member_removes_the_group(lab):
    assert sh(lab, "ifconfig carp0 group wan && ifconfig carp0 -group wan").status == 0
    assert groups_line(lab, "carp0") == "\tgroups: carp"
    assert sh(lab, "ifconfig -g wan").err == \
        "ifconfig: wan: SIOCGIFGATTR: No such file or directory\n"


def test_group_names_are_checked_like_ifconfig_does(lab):
    assert sh(lab, "ifconfig carp0 group wan1").err == \
        "ifconfig: setifgroup: group names may not end in a digit\n"
    assert sh(lab, "ifconfig carp0 -group nosuch").err == \
        "ifconfig: nosuch: SIOCDIFGROUP: No such file or directory\n"


def test_a_group_given_at_setup_is_in_the_hostname_file_and_survives_a_reboot(lab_factory):
    carp = (CarpSpec("carp0", 1, "em0", "192.168.1.123", groups=("wan",)),
            CarpSpec("carp1", 2, "em1", "10.0.0.1"))
    lab = lab_factory([PairSpec(carp=carp)])
    assert groups_line(lab, "carp0", node="fw2") == "\tgroups: carp wan"
    lab.reboot("pair1", "fw2", downtime=0.1)
    assert wait_until(lambda: reachable(lab, "fw2"), timeout=5)
    assert groups_line(lab, "carp0", node="fw2") == "\tgroups: carp wan"


def reachable(lab, node: str) -> bool:
    try:
        return sh(lab, "true", node=node).status == 0
    except Exception:  # noqa: BLE001 - still booting: refused or no banner yet
        return False
