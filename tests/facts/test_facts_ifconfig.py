"""What carpctl relies on from ifconfig's carp, pfsync and demote output."""

from __future__ import annotations

import pytest

from carpctl.errors import ParseError
from carpctl.facts import (
    CarpInterface,
    Pfsync,
    parse_carp_interfaces,
    parse_group_demote,
    parse_pfsync,
)

from ._fixtures import fixture


def test_the_group_listing_gives_each_carp_interface_with_its_state_and_timers():
    carp0, carp1 = parse_carp_interfaces(fixture("ifconfig_carp_master_backup.txt"))
    assert carp0 == CarpInterface(
        name="carp0", state="MASTER", vhid=1, advbase=1, advskew=0, carpdev="em0",
        up=True, running=True, addresses=("192.168.1.123",), carppeer=None,
    )
    assert (carp1.name, carp1.state, carp1.vhid, carp1.advskew, carp1.carpdev) == (
        "carp1", "BACKUP", 2, 100, "em1",
    )


def test_pfsync0_in_the_carp_group_listing_is_not_a_carp_interface():
    names = [i.name for i in parse_carp_interfaces(fixture("ifconfig_carp_master_backup.txt"))]
    assert names == ["carp0", "carp1"]


def test_a_carp_interface_that_lost_link_is_init_even_though_it_has_an_address():
    (carp0,) = parse_carp_interfaces(fixture("ifconfig_carp_init_linkdown.txt"))
    assert carp0.state == "INIT"
    assert carp0.addresses == ("192.168.1.123",)
    assert carp0.up and not carp0.running


def test_a_carp_interface_taken_down_is_init_and_not_up():
    (carp0,) = parse_carp_interfaces(fixture("ifconfig_carp0_down.txt"))
    assert (carp0.state, carp0.up, carp0.running) == ("INIT", False, False)


def test_a_carp_interface_without_a_vhid_is_init_with_no_vhid():
    (carp2,) = parse_carp_interfaces(fixture("ifconfig_carp_unconfigured.txt"))
    assert (carp2.state, carp2.vhid, carp2.advbase, carp2.advskew) == ("INIT", None, None, None)


def test_a_balancing_interface_gives_one_entry_per_vhid_sharing_carpdev_and_advbase():
    first, second = parse_carp_interfaces(fixture("ifconfig_carp_balancing.txt"))
    assert [(i.name, i.vhid, i.state, i.advskew) for i in (first, second)] == [
        ("carp0", 1, "MASTER", 0),
        ("carp0", 2, "BACKUP", 100),
    ]
    assert {(i.carpdev, i.advbase, i.balancing) for i in (first, second)} == {("em0", 1, "ip")}


def test_carpdev_none_and_a_unicast_carppeer_are_read():
    (carp3,) = parse_carp_interfaces(fixture("ifconfig_carp_carppeer.txt"))
    assert (carp3.carpdev, carp3.carppeer, carp3.advbase) == (None, "192.0.2.12", 2)


def test_unknown_detail_lines_are_ignored_and_every_address_is_kept():
    (carp0,) = parse_carp_interfaces(fixture("ifconfig_carp_extra_lines.txt"))
    assert carp0.carpdev == "vlan100"
    assert carp0.addresses == (
        "192.168.1.123", "192.168.1.124", "fe80::200:5eff:fe00:101%carp0", "2001:db8::123",
    )


def test_the_source_materials_older_format_without_carpdev_parses():
    carp0, carp1 = parse_carp_interfaces(fixture("ifconfig_old_master.txt"))
    assert (carp0.state, carp0.vhid, carp0.advbase, carp0.advskew, carp0.carpdev) == (
        "MASTER", 1, 0, 10, None,
    )
    assert carp1.vhid == 99
    assert carp1.addresses == ("198.51.1.101", "198.51.1.102", "198.51.1.103")


def test_the_source_materials_advskew_254_demotion_reads_as_backup():
    interfaces = parse_carp_interfaces(fixture("ifconfig_old_backup.txt"))
    states = {(i.name, i.state, i.advskew) for i in interfaces}
    assert states == {("carp0", "BACKUP", 254), ("carp1", "BACKUP", 254)}


def test_a_missing_carp_interface_means_no_carp_interfaces():
    assert parse_carp_interfaces(fixture("ifconfig_carp9_missing.txt")) == ()


def test_an_empty_carp_group_means_no_carp_interfaces():
    assert parse_carp_interfaces("") == ()


@pytest.mark.parametrize(
    "line",
    [
        "\tcarp: MASTER carpdev em0 vhid 1 advbase 1",  # advskew missing
        "\tcarp: <UNKNOWN> carpdev em0 vhid 1 advbase 1 advskew 0",
        "\tcarp: master carpdev em0 vhid 1 advbase 1 advskew 0",
        "\tcarp: MASTER carpdev em0 vhid 0 advbase 1 advskew 0",
        "\tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew 256",
        "\tcarp: MASTER carpdev em0 vhid one advbase 1 advskew 0",
        "\tcarp: MASTER carpdev em0 vhid 1 vhid 2 advbase 1 advskew 0",
        "\tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew",
        "\tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0 carppeer 10.0.0",
        "\tstate MASTER vhid 1 advskew 0",
        "\tinet 192.168.1.300 netmask 0xffffff00",
    ],
)
def test_a_damaged_carp_or_address_line_is_refused(line):
    text = "carp0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n" + line + "\n"
    with pytest.raises(ParseError) as caught:
        parse_carp_interfaces(text)
    assert caught.value.what == "ifconfig carp"


def test_a_second_carp_line_in_one_block_is_refused():
    block = fixture("ifconfig_carp_init_linkdown.txt")
    with pytest.raises(ParseError, match="second carp line"):
        parse_carp_interfaces(block + "\tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0\n")


def test_flag_names_that_contradict_the_flags_value_are_refused():
    text = fixture("ifconfig_carp_init_linkdown.txt").replace("flags=8803", "flags=8843")
    with pytest.raises(ParseError, match="flag names do not match"):
        parse_carp_interfaces(text)


def test_text_before_the_first_header_is_refused_and_the_line_is_named():
    with pytest.raises(ParseError) as caught:
        parse_carp_interfaces("ifconfig: socket: Operation not permitted\n")
    assert caught.value.line == "ifconfig: socket: Operation not permitted"


def test_pfsync_settings_are_read_from_ifconfig_pfsync0():
    assert parse_pfsync(fixture("ifconfig_pfsync0.txt")) == Pfsync(
        present=True, up=True, running=True, syncdev="em2", syncpeer="10.10.10.2",
        maxupd=255, defer=True,
    )


def test_pfsync_is_also_found_in_the_carp_group_listing():
    pfsync = parse_pfsync(fixture("ifconfig_carp_master_backup.txt"))
    assert (pfsync.present, pfsync.syncdev, pfsync.syncpeer, pfsync.maxupd, pfsync.defer) == (
        True, "em2", None, 128, False,
    )


def test_pfsync_without_a_syncdev_is_present_but_has_no_pfsync_line():
    pfsync = parse_pfsync(fixture("ifconfig_pfsync0_no_syncdev.txt"))
    assert (pfsync.present, pfsync.up, pfsync.syncdev) == (True, False, None)


def test_a_missing_pfsync0_is_reported_absent():
    assert parse_pfsync(fixture("ifconfig_pfsync0_missing.txt")).present is False


def test_a_missing_carp_interface_is_not_mistaken_for_pfsync():
    with pytest.raises(ParseError):
        parse_pfsync(fixture("ifconfig_carp9_missing.txt"))


def test_a_pfsync_line_with_a_bad_defer_value_is_refused():
    text = fixture("ifconfig_pfsync0.txt").replace("defer: on", "defer: maybe")
    with pytest.raises(ParseError, match="defer"):
        parse_pfsync(text)


def test_the_demote_counter_is_read_from_ifconfig_g_carp():
    assert parse_group_demote(fixture("ifconfig_g_carp.txt")) == 0
    assert parse_group_demote(fixture("ifconfig_g_carp_booting.txt")) == 160


def test_an_unknown_group_error_is_not_a_demote_counter():
    with pytest.raises(ParseError) as caught:
        parse_group_demote(fixture("ifconfig_g_unknown_group.txt"))
    assert "SIOCGIFGATTR" in str(caught.value)
