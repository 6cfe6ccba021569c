"""The emulated OpenBSD commands over SSH: outputs, messages and exit codes of the reference."""

from __future__ import annotations

import hashlib
import io

import pytest
from sshclient import LabClient, sh

BAD_PF = """\
ext_if = "em0"
rdr-anchor "relayd/*"
pass in on $int_if
pass out
block in on $ext_if proto tcp to port foo
"""
NEW_PF = """\
set skip on lo
block all
pass in proto tcp to port ssh
pass out
"""
BAD_RELAYD = """\
table <webhosts> { 192.168.1.2 }
relay www {
\tlisten on 192.168.1.123 port http
\tforward to <nosuch> port 80
}
"""


def upload(lab, path: str, text: str, node: str = "fw1", user: str = "root") -> None:
    with LabClient(lab, node=node, user=user) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(text.encode()), path)


def run(lab, line: str, node: str = "fw1", user: str = "root") -> tuple[int, str, str]:
    result = sh(lab, line, node=node, user=user)
    return result.status, result.out, result.err


# -- ifconfig --------------------------------------------------------------------------------
def test_ifconfig_prints_a_carp_block_in_openbsds_layout(lab):
    assert run(lab, "ifconfig carp0", node="fw2") == (0, (
        "carp0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n"
        "\tlladdr 00:00:5e:00:01:01\n"
        "\tindex 5 priority 15 llprio 3\n"
        "\tcarp: BACKUP carpdev em0 vhid 1 advbase 1 advskew 100\n"
        "\tgroups: carp\n"
        "\tstatus: backup\n"
        "\tinet 192.168.1.123 netmask 0xffffff00 broadcast 192.168.1.255\n"), "")


def test_ifconfig_carp_lists_the_group_with_pfsync0_last_and_no_secret(lab):
    status, out, _ = run(lab, "ifconfig carp")
    names = [line.split(":")[0] for line in out.splitlines() if not line.startswith("\t")]
    assert (status, names) == (0, ["carp0", "carp1", "pfsync0"])
    assert "\tpfsync: syncdev: em2 maxupd: 128 defer: off\n" in out
    assert "lab-secret" not in out
    indexes = [line.split()[1] for line in run(lab, "ifconfig")[1].splitlines()
               if line.startswith("\tindex ")]
    assert len(indexes) == len(set(indexes)), indexes


def test_the_demote_counter_is_readable_without_root(lab):
    assert run(lab, "ifconfig -g carp", user="admin") == (0, "carp: carp demote count 0\n", "")


@pytest.mark.parametrize("line, user, err", [
    ("ifconfig carp0 advskew 255", "root", "ifconfig: advskew 255: too large\n"),
    ("ifconfig carp0 advskew -1", "root", "ifconfig: advskew -1: too small\n"),
    ("ifconfig carp0 advskew abc", "root", "ifconfig: advskew abc: invalid\n"),
    ("ifconfig carp0 advbase 255", "root", "ifconfig: advbase 255: too large\n"),
    ("ifconfig carp0 vhid 0", "root", "ifconfig: vhid 0: too small\n"),
    ("ifconfig carp9", "root", "carp9: no such interface\n"),
    ("ifconfig -g foo", "root", "ifconfig: foo: SIOCGIFGATTR: No such file or directory\n"),
    ("ifconfig -g carp carpdemote 129", "root", "ifconfig: carp: invalid carp demotion: too large\n"),
    ("ifconfig -g carp -carpdemote 1", "root", "ifconfig: carp: SIOCSIFGATTR: Invalid argument\n"),
    ("ifconfig carp0 advskew 10", "admin", "ifconfig: carp0: SIOCSVH: Operation not permitted\n"),
    ("ifconfig carp0 advskew 255", "admin", "ifconfig: advskew 255: too large\n"),
    ("ifconfig carp0 down", "admin", "ifconfig: carp0: SIOCSIFFLAGS: Operation not permitted\n"),
    ("ifconfig -g carp carpdemote 1", "admin",
     "ifconfig: carp: SIOCSIFGATTR: Operation not permitted\n"),
])
def test_ifconfig_refuses_with_openbsds_message_and_exit_1(lab, line, user, err):
    assert run(lab, line, user=user) == (1, "", err)
    assert lab.truth("pair1")["nodes"]["fw1"]["demote"] == 0
    assert lab.truth("pair1")["nodes"]["fw1"]["carp"]["carp0"]["advskew"] == 0


def test_a_setter_naming_a_missing_carp_interface_creates_it_as_root(lab):
    assert run(lab, "ifconfig carp9 advskew 10") == (0, "", "")
    assert run(lab, "ifconfig carp9")[1].startswith("carp9: flags=8802<BROADCAST,SIMPLEX,MULTICAST>")


# -- pfctl ---------------------------------------------------------------------------------------
def test_pfctl_nf_reports_every_error_with_its_line_and_loads_nothing(lab):
    upload(lab, "/tmp/pf.conf", BAD_PF)
    before = run(lab, "pfctl -sr")[1]
    expected = ("/tmp/pf.conf:2: syntax error\n"          # the source material's rdr-anchor
                "/tmp/pf.conf:3: macro 'int_if' not defined\n"
                "/tmp/pf.conf:3: syntax error\n"
                "/tmp/pf.conf:5: unknown port foo\n")
    assert run(lab, "pfctl -nf /tmp/pf.conf") == (1, "", expected)
    assert run(lab, "pfctl -f /tmp/pf.conf") == (
        1, "", expected + "pfctl: Syntax error in config file: pf rules not loaded\n")
    assert run(lab, "pfctl -sr")[1] == before
    assert "anchor \"relayd/*\" all\n" in before


def test_pfctl_names_a_missing_file_twice_and_says_not_loaded_only_without_n(lab):
    missing = ("pfctl: pushfile: /etc/nope: No such file or directory\n"
               "pfctl: cannot open the main config file!: No such file or directory\n")
    assert run(lab, "pfctl -nf /etc/nope") == (1, "", missing)
    assert run(lab, "pfctl -f /etc/nope") == (
        1, "", missing + "pfctl: Syntax error in config file: pf rules not loaded\n")


def test_pfctl_f_loads_new_rules_at_once_and_ef_on_a_running_pf_loads_then_exits_1(lab):
    upload(lab, "/tmp/pf.conf", NEW_PF)
    assert run(lab, "pfctl -nf /tmp/pf.conf") == (0, "", "")
    assert run(lab, "pfctl -ef /tmp/pf.conf") == (1, "", "pfctl: pf already enabled\n")
    assert run(lab, "pfctl -sr")[1] == ("block drop all\n"
                                        "pass in proto tcp from any to any port = ssh flags S/SA\n"
                                        "pass out all flags S/SA\n")


def test_pfctl_enable_and_disable_say_so_on_stderr_and_fail_when_already_done(lab):
    assert run(lab, "pfctl -e") == (1, "", "pfctl: pf already enabled\n")
    assert run(lab, "pfctl -d") == (0, "", "pf disabled\n")
    assert run(lab, "pfctl -d") == (1, "", "pfctl: pf not enabled\n")
    assert run(lab, "pfctl -si")[1].startswith("Status: Disabled for 0 days 00:00:0")
    assert run(lab, "pfctl -q -e") == (0, "", "")


def test_pfctl_needs_root_except_to_check_a_readable_file(lab):
    assert run(lab, "pfctl -si", user="admin") == (1, "", "pfctl: /dev/pf: Permission denied\n")
    upload(lab, "/home/admin/pf.conf", NEW_PF, user="admin")
    assert run(lab, "pfctl -nf /home/admin/pf.conf", user="admin") == (0, "", "")
    assert run(lab, "pfctl -nf /etc/pf.conf", user="admin")[2].startswith(
        "pfctl: pushfile: /etc/pf.conf: Permission denied\n")


def test_pfctl_si_prints_the_status_table_openbsd_prints(lab):
    status, out, _ = run(lab, "pfctl -si")
    lines = out.splitlines()
    assert status == 0
    assert len(lines[0]) == 59 and lines[0].endswith("Debug: err")
    assert lines[0].startswith("Status: Enabled for 0 days 00:00:")
    assert lines[1] == ""
    assert lines[2] == "State Table                          Total             Rate"
    assert lines[3].startswith("  current entries    ") and lines[3].endswith(" " * 15)
    assert lines[8] == "Counters"


# -- relayd, relayctl ------------------------------------------------------------------------------
def test_relayd_n_reports_errors_with_line_numbers_and_ok_on_stderr(lab):
    upload(lab, "/tmp/relayd.conf", BAD_RELAYD)
    status, out, err = run(lab, "relayd -n -f /tmp/relayd.conf")
    assert (status, out) == (1, "")
    assert err.splitlines()[0] == "/tmp/relayd.conf:4: unknown table nosuch"
    assert run(lab, "relayd -n") == (0, "", "configuration OK\n")


def test_relayd_checks_the_file_before_it_says_it_needs_root(lab):
    upload(lab, "/tmp/relayd.conf", BAD_RELAYD)
    sh(lab, "cp /etc/relayd.conf /tmp/good.conf; chmod 644 /tmp/good.conf /tmp/relayd.conf")
    assert run(lab, "relayd -n -f /tmp/good.conf", user="admin") == (
        1, "", "relayd: need root privileges\n")
    assert run(lab, "relayd -n -f /tmp/relayd.conf", user="admin")[2].startswith(
        "/tmp/relayd.conf:4: unknown table nosuch\n")


def test_relayctl_show_summary_lists_the_relay_its_table_and_hosts_in_columns(lab):
    status, out, _ = run(lab, "relayctl show summary")
    rows = [line.split("\t") for line in out.splitlines()]
    assert status == 0
    assert rows[0] == ["Id  ", "Type    ", "Name                    ", "Avlblty", "Status"]
    assert [(r[1].strip(), r[2].strip(), r[4]) for r in rows[1:]] == [
        ("relay", "www", "active"), ("table", "webhosts:80", "active (2 hosts)"),
        ("host", "192.168.1.2", "up"), ("host", "192.168.1.3", "up")]


def test_relayctl_needs_a_running_relayd_and_root(lab):
    assert run(lab, "relayctl show summary", user="admin") == (
        1, "", "relayctl: connect: /var/run/relayd.sock: Permission denied\n")
    assert run(lab, "rcctl stop relayd") == (0, "relayd(ok)\n", "")
    assert run(lab, "relayctl show hosts") == (
        1, "", "relayctl: connect: /var/run/relayd.sock: No such file or directory\n")


def test_relayctl_reload_of_a_broken_file_exits_0_and_leaves_relayd_empty(lab):
    upload(lab, "/etc/relayd.conf", BAD_RELAYD)
    assert run(lab, "relayctl reload") == (0, "", "")
    header = "Id  \tType    \tName                    \tAvlblty\tStatus\n"
    assert run(lab, "relayctl show summary")[1] == header


# -- rcctl ------------------------------------------------------------------------------------------
def test_rcctl_get_prints_seven_lines_and_its_status_says_enabled_or_not(lab):
    status, out, _ = run(lab, "rcctl get relayd")
    assert status == 0
    assert out.splitlines() == ["relayd_class=daemon", "relayd_execdir=", "relayd_flags=",
                                "relayd_logger=", "relayd_rtable=0", "relayd_timeout=30",
                                "relayd_user=root"]
    assert run(lab, "rcctl get relayd status") == (0, "", "")
    assert run(lab, "rcctl get relayd flags") == (0, "\n", "")
    assert run(lab, "rcctl get pf") == (0, "pf=YES\n", "")


def test_rcctl_disable_then_start_needs_f_and_enable_writes_rc_conf_local(lab):
    assert run(lab, "rcctl stop relayd") == (0, "relayd(ok)\n", "")
    assert run(lab, "rcctl stop relayd") == (0, "", "")
    assert run(lab, "rcctl disable relayd") == (0, "", "")
    assert run(lab, "test -e /etc/rc.conf.local")[0] == 1      # emptied, so deleted
    assert run(lab, "rcctl get relayd status")[0] == 1
    assert run(lab, "rcctl get relayd")[0] == 1
    assert run(lab, "rcctl start relayd") == (
        1, "", "/etc/rc.d/relayd: need -f to force start since relayd_flags=NO\n")
    assert run(lab, "rcctl set relayd flags -v") == (1, "", "rcctl: relayd is not enabled\n")
    assert run(lab, "rcctl -f start relayd") == (0, "relayd(ok)\n", "")
    assert run(lab, "rcctl start relayd") == (0, "", "")
    assert run(lab, "rcctl enable relayd") == (0, "", "")
    assert run(lab, "cat /etc/rc.conf.local")[1] == "relayd_flags=\n"
    assert run(lab, "rcctl set relayd flags -v") == (0, "", "")
    assert run(lab, "rcctl get relayd flags") == (0, "-v\n", "")
    assert run(lab, "rcctl restart relayd") == (0, "relayd(ok)\nrelayd(ok)\n", "")


def test_rcctl_keeps_the_running_relayd_when_the_new_file_is_broken(lab):
    upload(lab, "/etc/relayd.conf", BAD_RELAYD)
    assert run(lab, "rcctl reload relayd") == (1, "relayd(failed)\n", "")
    assert run(lab, "rcctl check relayd") == (0, "relayd(ok)\n", "")
    assert "www" in run(lab, "relayctl show summary")[1]
    assert run(lab, "rcctl restart relayd") == (1, "relayd(ok)\nrelayd(failed)\n", "")
    assert run(lab, "rcctl check relayd") == (1, "relayd(failed)\n", "")


@pytest.mark.parametrize("line, user, expected", [
    ("rcctl get foo", "root", (2, "", "rcctl: service foo does not exist\n")),
    ("rcctl start foo", "root", (2, "", "rcctl: service foo does not exist\n")),
    ("rcctl enable relayd", "admin", (1, "", 'rcctl: "enable" needs root privileges\n')),
    ("rcctl ls started", "admin", (1, "", 'rcctl: "ls started" needs root privileges\n')),
    ("rcctl stop relayd", "admin", (1, "", "/etc/rc.d/relayd: need root privileges\n")),
    ("rcctl check relayd", "admin", (0, "relayd(ok)\n", "")),
    ("rcctl set relayd flags NO", "root", (1, "", 'rcctl: "flags NO" contradicts "set"\n')),
])
def test_rcctl_refuses_with_its_own_messages_and_exit_codes(lab, line, user, expected):
    assert run(lab, line, user=user) == expected


def test_rcctl_with_a_bad_action_prints_its_usage_and_exits_1(lab):
    status, out, err = run(lab, "rcctl frobnicate relayd")
    assert (status, out) == (1, "") and err.startswith("usage:\trcctl get|getdef|set")


# -- sysctl, doas, the rest ------------------------------------------------------------------------
def test_sysctl_reads_sets_and_refuses_like_openbsd(lab):
    assert run(lab, "sysctl net.inet.carp") == (
        0, "net.inet.carp.allow=1\nnet.inet.carp.preempt=1\nnet.inet.carp.log=2\n", "")
    assert run(lab, "sysctl net.inet.carp.preempt=0") == (0, "net.inet.carp.preempt: 1 -> 0\n", "")
    assert lab.truth("pair1")["nodes"]["fw1"]["preempt"] is False
    assert run(lab, "sysctl -n net.inet.carp.preempt") == (0, "0\n", "")
    assert run(lab, "sysctl net.inet.carp.preempt=1", user="admin") == (
        1, "", "sysctl: net.inet.carp.preempt: Operation not permitted\n")
    assert run(lab, "sysctl net.foo") == (1, "", "sysctl: second level name foo in net.foo is invalid\n")


@pytest.mark.parametrize("doas_conf, user, line, expected", [
    (None, "admin", "doas -n ifconfig carp0 advskew 10", (0, "", "")),
    (None, "operator", "doas -n true", (1, "", "doas: Operation not permitted\n")),
    ("permit admin as root\n", "admin", "doas -n true", (1, "", "doas: Authentication required\n")),
    ("permit admin as root\n", "admin", "doas true", (1, "", "doas: a tty is required\n")),
    ("deny admin\npermit nopass admin cmd pfctl\n", "admin", "doas -n pfctl -d",
     (0, "", "pf disabled\n")),
    ("permit nopass admin cmd pfctl\n", "admin", "doas -n ifconfig carp0 advskew 1",
     (1, "", "doas: Operation not permitted\n")),
    ("", "admin", "doas -n nosuch", (1, "", "doas: Operation not permitted\n")),
    (None, "admin", "doas -n nosuch", (1, "", "doas: nosuch: command not found\n")),
])
def test_doas_runs_permitted_commands_and_refuses_the_rest_without_a_prompt(
        lab, doas_conf, user, line, expected):
    if doas_conf is not None:
        upload(lab, "/etc/doas.conf", doas_conf)
    assert run(lab, line, user=user) == expected


def test_doas_without_a_config_is_not_enabled(lab):
    sh(lab, "rm /etc/doas.conf")
    assert run(lab, "doas -n true", user="admin") == (
        1, "", "doas: doas is not enabled, /etc/doas.conf: No such file or directory\n")


@pytest.mark.parametrize("line, err", [
    ("syspatch -c", "syspatch: need root privileges\n"),
    ("reboot", "reboot: Operation not permitted\n"),
    ("sh /etc/netstart carp0", "netstart: need root privileges\n"),
])
def test_root_only_tools_refuse_an_ordinary_user(lab, line, err):
    assert run(lab, line, user="admin") == (1, "", err)
    assert lab.truth("pair1")["nodes"]["fw1"]["powered"] is True


def test_sha256_prints_the_three_formats(lab):
    digest = hashlib.sha256(b"fw1.pair1.lab\n").hexdigest()
    assert run(lab, "sha256 /etc/myname")[1] == f"SHA256 (/etc/myname) = {digest}\n"
    assert run(lab, "sha256 -r /etc/myname")[1] == f"{digest} /etc/myname\n"
    assert run(lab, "sha256 -q /etc/myname")[1] == f"{digest}\n"
    assert run(lab, "sha256 -q /etc/nope") == (1, "", "sha256: /etc/nope: No such file or directory\n")


def test_netstart_fixes_an_insecure_hostname_file_and_reapplies_it(lab):
    sh(lab, "chmod 644 /etc/hostname.carp0")
    assert run(lab, "sh /etc/netstart carp0") == (
        0, "WARNING: /etc/hostname.carp0 is insecure, fixing permissions.\n", "")
    assert run(lab, "ls -l /etc/hostname.carp0")[1].startswith("-rw-r-----")
    assert "advskew 0" in run(lab, "ifconfig carp0")[1]


def test_uname_names_the_release_and_the_node(lab):
    assert run(lab, "uname -srm", node="fw2") == (0, "OpenBSD 7.6 amd64\n", "")
    assert run(lab, "uname -n", node="fw2")[1] == "fw2.pair1.lab\n"
