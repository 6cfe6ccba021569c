"""The shared value checks: what may reach a command line on a firewall."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carpctl.inventory import checks
from carpctl.inventory.checks import JumpHost

STRING_CHECKS = [
    checks.check_no_shell_syntax,
    checks.check_host,
    checks.check_ifname,
    checks.check_remote_path,
    checks.check_user,
    checks.check_name,
]


@given(
    st.text(),
    st.sampled_from(sorted(checks.SHELL_SYNTAX)),
    st.text(),
    st.sampled_from(STRING_CHECKS),
)
def test_a_shell_metacharacter_anywhere_is_rejected_by_every_check(before, meta, after, check):
    with pytest.raises(ValueError):
        check(before + meta + after)


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), min_size=1))
def test_control_characters_are_rejected(text):
    with pytest.raises(ValueError):
        checks.check_no_shell_syntax("em" + text + "0")


@pytest.mark.parametrize(
    ("value", "named"),
    [("fw1; rm -rf /", "';'"), ("/etc/pf.conf$(reboot)", "'$'"), ("a`b`", "'`'"),
     ("fw1 fw2", "a space"), ("fw1\nreboot", "a newline"), ("a|b", "'|'")],
)
def test_the_message_names_the_shell_character(value, named):
    with pytest.raises(ValueError, match="shell syntax") as caught:
        checks.check_no_shell_syntax(value)
    assert named in str(caught.value)


@pytest.mark.parametrize(
    "host",
    ["fw1", "fw1.example.net", "fw1.example.net.", "FW-1", "fw_dmz", "192.0.2.11", "2001:db8::1",
     "fe80::1%em0", "::1", "a" * 63 + ".example"],
)
def test_hostnames_and_addresses_are_accepted(host):
    checks.check_host(host)


@pytest.mark.parametrize(
    ("host", "reason"),
    [("-oProxyCommand=reboot", "not a hostname"), ("192.168.1.300", "IPv4"), ("1234", "IPv4"),
     ("fw1..example", "not a hostname"), ("fw1-", "not a hostname"), ("2001:db8::zz", "IPv6"),
     ("a" * 64, "not a hostname"), ("", "empty"), ("fw1;reboot", "';'")],
)
def test_bad_hosts_are_rejected_with_a_reason(host, reason):
    with pytest.raises(ValueError, match=reason):
        checks.check_host(host)


@pytest.mark.parametrize("name", ["em0", "carp1", "vlan100", "pfsync0", "lo0", "bwfm0", "carp255"])
def test_openbsd_interface_names_are_accepted(name):
    checks.check_ifname(name)


@pytest.mark.parametrize(
    "name", ["em", "0", "em00", "Em0", "em0.1", "em-0", "carp 1", "averylongdriver0"]
)
def test_other_interface_names_are_rejected(name):
    with pytest.raises(ValueError):
        checks.check_ifname(name)


@given(st.from_regex(r"[a-z]{1,8}(0|[1-9][0-9]{0,3})", fullmatch=True))
def test_every_driver_and_unit_name_is_an_interface_name(name):
    checks.check_ifname(name)


@pytest.mark.parametrize("path", ["/etc/pf.conf", "/etc/hostname.carp0", "/var/db/carpctl/x_y-z.1"])
def test_clean_absolute_paths_are_accepted(path):
    checks.check_remote_path(path)


@pytest.mark.parametrize(
    ("path", "reason"),
    [("etc/pf.conf", "absolute"), ("/etc//pf.conf", "clean"), ("/etc/./pf.conf", "clean"),
     ("/etc/../pf.conf", "clean"), ("/etc/", "clean"), ("/", "root"), ("/etc/pf.cönf", "ASCII"),
     ("/etc/pf conf", "a space"), ("/" + "a" * 1100, "longer")],
)
def test_unclean_or_relative_paths_are_rejected(path, reason):
    with pytest.raises(ValueError, match=reason):
        checks.check_remote_path(path)


def test_an_unclean_path_message_suggests_the_clean_form():
    with pytest.raises(ValueError, match="'/etc/pf.conf'"):
        checks.check_remote_path("/etc//pf.conf")


@pytest.mark.parametrize("user", ["root", "admin", "_carpctl", "ops.team", "a-b"])
def test_posix_user_names_are_accepted(user):
    checks.check_user(user)


@pytest.mark.parametrize("user", ["-oops", "ad min", "a" * 32, "", "rööt", "a:b"])
def test_other_user_names_are_rejected(user):
    with pytest.raises(ValueError):
        checks.check_user(user)


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [(checks.check_port, [1, 22, 65535], [0, 65536, True, "22", 2.0]),
     (checks.check_vhid, [1, 255], [0, 256, False]),
     (checks.check_advskew, [0, 254], [-1, 255, None])],
)
def test_numbers_must_be_integers_in_range(check, good, bad):
    for value in good:
        check(value)
    for value in bad:
        with pytest.raises(ValueError, match="integer|range"):
            check(value)


@pytest.mark.parametrize(
    ("value", "hops"),
    [("bastion", (JumpHost("bastion"),)),
     ("admin@bastion.example.net:2222", (JumpHost("bastion.example.net", "admin", 2222),)),
     ("a@[2001:db8::1]:22,b", (JumpHost("2001:db8::1", "a", 22), JumpHost("b"))),
     ("ssh://jump@gw", (JumpHost("gw", "jump"),)),
     ("none", ())],
)
def test_proxy_jump_lists_are_parsed(value, hops):
    assert checks.parse_proxy_jump(value) == hops


@pytest.mark.parametrize(
    "value", ["gw;reboot", "-oProxyCommand=x@gw", "gw:0", "gw:ssh", "a@@b", "gw,,gw2", "", "[gw"]
)
def test_bad_proxy_jumps_are_rejected(value):
    with pytest.raises(ValueError):
        checks.parse_proxy_jump(value)


@pytest.mark.parametrize("name", ["pair1", "fw1", "dmz-fw.a", "FW_2"])
def test_pair_and_node_names_are_accepted(name):
    checks.check_name(name)


@pytest.mark.parametrize("name", ["../fw1", "fw/1", ".hidden", "-x", "a" * 64])
def test_names_that_would_escape_a_file_name_are_rejected(name):
    with pytest.raises(ValueError):
        checks.check_name(name)
