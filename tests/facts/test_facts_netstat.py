"""parse_carp_stats(): `netstat -s -p carp` and its `-ss` form (only non-zero counters)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carpctl.errors import ParseError
from carpctl.facts.netstat import parse_carp_stats

from ._fixtures import fixture


def test_every_counter_is_read_by_its_words_whatever_the_plural():
    stats = parse_carp_stats(fixture("netstat_s_p_carp.txt"))
    assert (stats.received, stats.sent, stats.bad_auth, stats.to_master) == (1041, 1, 12, 3)
    assert stats.dropped == {"bad_auth": 12} and stats.other == {}


def test_a_counter_that_ss_leaves_out_reads_zero():
    stats = parse_carp_stats(fixture("netstat_ss_p_carp.txt"))
    assert (stats.received, stats.bad_auth, stats.sent, stats.bad_vhid) == (1, 1, 0, 0)


def test_a_line_of_a_newer_netstat_is_kept_by_its_text():
    stats = parse_carp_stats("carp:\n\t7 packets received (IPv4)\n\t\t2 discarded for gremlins\n")
    assert stats.received == 7 and stats.other == {"discarded for gremlins": 2}


@pytest.mark.parametrize("text", ["", "tcp:\n\t1 packet sent\n", "carp:\n\tmany packets\n"])
def test_other_output_is_a_parse_error(text):
    with pytest.raises(ParseError):
        parse_carp_stats(text)


@given(st.text())
def test_no_input_escapes_as_anything_but_a_parse_error(text):
    try:
        parse_carp_stats(text)
    except ParseError:
        pass
