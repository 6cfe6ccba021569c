"""Parsers of what a node boots with (hostname.carpN as the node sends it, sysctl.conf) and of
the interface listing and group counters that the demotion accounting adds up."""

from __future__ import annotations

import pytest

from carpctl.errors import ParseError
from carpctl.facts.carpconf import parse_hostname_carp, parse_sysctl_conf
from carpctl.facts.interfaces import parse_group_demotes, parse_interfaces

HASH = "a" * 64


def test_the_one_line_and_the_two_line_forms_give_the_same_carp_settings():
    text = (f"@@file /etc/hostname.carp0\n inet 192.168.1.123 255.255.255.0 NONE vhid 1 "
            f"carpdev em0 advbase 1 advskew 0\n@@pass {HASH}\n"
            f"@@file /etc/hostname.carp1\n vhid 2 carpdev em1 advskew 100 # backup\n"
            f" inet 10.0.0.1/24\n")
    configs = parse_hostname_carp(text)
    assert (configs["carp0"].vhid, configs["carp0"].carpdev, configs["carp0"].pass_hash) \
        == (1, "em0", HASH)
    carp1 = configs["carp1"]
    assert (carp1.vhid, carp1.configured_advbase, carp1.configured_advskew, carp1.pass_hash) \
        == (2, 1, 100, None)


def test_carpnodes_marks_a_config_carpctl_will_not_restore():
    text = "@@file /etc/hostname.carp2\n carpnodes 5:0,6:100 balancing ip carpdev em0\n"
    assert parse_hostname_carp(text)["carp2"].balancing


def test_an_advskew_ifconfig_would_refuse_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_hostname_carp("@@file /etc/hostname.carp0\n vhid 1 advskew 255\n")


def test_sysctl_conf_skips_comments_and_keeps_values():
    assert parse_sysctl_conf("# x\nnet.inet.carp.preempt=1  # on\n\nnet.inet.ip.forwarding=1\n") \
        == {"net.inet.carp.preempt": "1", "net.inet.ip.forwarding": "1"}


def test_group_counters_are_read_per_group_and_repeats_collapse():
    assert parse_group_demotes("carp: carp demote count 128\ncarp: carp demote count 128\n"
                               "uplink: carp demote count 5\n") == {"carp": 128, "uplink": 5}


def test_the_interface_listing_gives_groups_link_and_subnets():
    text = ("em0: flags=8943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 1500\n"
            "\tgroups: egress\n\tstatus: no carrier\n"
            "\tinet 192.168.1.11 netmask 0xffffff00 broadcast 192.168.1.255\n"
            "carp0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n"
            "\tgroups: carp uplink\n\tstatus: master\n")
    found = parse_interfaces(text)
    assert (found["em0"].link, found["em0"].subnets) == (False, ("192.168.1.0/24",))
    assert found["carp0"].groups == ("carp", "uplink") and found["carp0"].link is True
