"""What carpctl relies on from sysctl."""

from __future__ import annotations

import pytest

from carpctl.errors import ParseError
from carpctl.facts import CarpSysctl, carp_sysctl, parse_carp_sysctl, parse_sysctl

from ._fixtures import fixture


def test_sysctl_net_inet_carp_gives_allow_preempt_and_log():
    assert parse_carp_sysctl(fixture("sysctl_net_inet_carp.txt")) == CarpSysctl(
        allow=True, preempt=False, log=2,
    )
    assert parse_carp_sysctl(fixture("sysctl_net_inet_carp_preempt.txt")).preempt is True


def test_sysctl_values_are_kept_verbatim_by_name():
    text = "kern.version=OpenBSD 7.6 (GENERIC.MP) #338: Mon Sep 30\nkern.securelevel=1\n"
    assert parse_sysctl(text) == {
        "kern.version": "OpenBSD 7.6 (GENERIC.MP) #338: Mon Sep 30",
        "kern.securelevel": "1",
    }


def test_carp_settings_can_come_from_a_batched_sysctl_reading():
    values = parse_sysctl(fixture("sysctl_net_inet_carp.txt") + "kern.securelevel=1\n")
    assert carp_sysctl(values).allow is True


def test_the_output_of_setting_a_value_is_not_a_reading():
    with pytest.raises(ParseError, match="expected 'name=value'"):
        parse_sysctl(fixture("sysctl_set_preempt.txt"))


def test_a_missing_carp_setting_is_refused_by_name():
    with pytest.raises(ParseError, match="net.inet.carp.log is missing"):
        parse_carp_sysctl("net.inet.carp.allow=1\nnet.inet.carp.preempt=1\n")


def test_a_non_numeric_carp_setting_is_refused():
    with pytest.raises(ParseError, match="not a number"):
        parse_carp_sysctl("net.inet.carp.allow=yes\nnet.inet.carp.preempt=1\nnet.inet.carp.log=2\n")


def test_a_name_listed_twice_is_refused():
    with pytest.raises(ParseError, match="twice"):
        parse_sysctl("net.inet.carp.allow=1\nnet.inet.carp.allow=0\n")
