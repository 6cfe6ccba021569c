"""What carpctl relies on from pfctl's status, state list and error output."""

from __future__ import annotations

import pytest

from carpctl.errors import ParseError
from carpctl.facts import PfError, PfInfo, count_states, parse_pf_errors, parse_pf_info

from ._fixtures import fixture


def test_pfctl_si_says_pf_is_enabled_since_when_and_how_many_states_it_holds():
    assert parse_pf_info(fixture("pfctl_si.txt")) == PfInfo(
        enabled=True, since="0 days 02:13:55", states=42, debug="err", hostid=None, checksum=None,
    )


def test_a_disabled_pf_still_shows_how_long_it_has_been_off():
    info = parse_pf_info(fixture("pfctl_si_disabled.txt"))
    assert (info.enabled, info.since, info.states) == (False, "0 days 00:04:10", 0)


def test_a_status_line_without_a_duration_has_no_since():
    info = parse_pf_info(fixture("pfctl_si_no_runtime.txt"))
    assert (info.enabled, info.since, info.states) == (True, None, 5)


def test_pfctl_si_v_adds_hostid_and_checksum_and_the_state_count_is_the_state_tables():
    info = parse_pf_info(fixture("pfctl_si_v.txt"))
    assert info.hostid == "0x6c9e2ab1"
    assert info.checksum == "0x0f3c4dd0c0f3a1d2e5b6a7980112ac3e"
    assert info.states == 42  # not the Source Tracking Table's 3


def test_pfctl_si_from_a_non_root_user_is_refused():
    with pytest.raises(ParseError, match="Permission denied"):
        parse_pf_info(fixture("pfctl_permission_denied.txt"))


def test_pfctl_si_without_a_state_table_is_refused():
    status_only = fixture("pfctl_si.txt").split("State Table")[0]
    with pytest.raises(ParseError, match="no State Table"):
        parse_pf_info(status_only)


def test_a_malformed_hostid_line_is_refused():
    text = fixture("pfctl_si_v.txt").replace("0x6c9e2ab1", "6c9e2ab1")
    with pytest.raises(ParseError, match="Hostid"):
        parse_pf_info(text)


def test_pfctl_ss_lists_one_state_per_line():
    assert count_states(fixture("pfctl_ss.txt")) == 5


def test_an_empty_state_table_has_no_states():
    assert count_states("") == 0


def test_pfctl_ss_verbose_detail_lines_are_not_states():
    verbose = (
        "all tcp 10.0.0.1:22 <- 10.0.0.2:5000       ESTABLISHED:ESTABLISHED\n"
        "   age 00:01:02, expires in 23:59:58\n"
    )
    assert count_states(verbose) == 1


def test_an_error_in_place_of_the_state_list_is_refused():
    with pytest.raises(ParseError):
        count_states(fixture("pfctl_permission_denied.txt"))


def test_pfctl_nf_errors_keep_file_and_line_so_they_can_be_mapped_to_templates():
    errors = parse_pf_errors(fixture("pfctl_nf_errors.txt"))
    assert errors == (
        PfError("/tmp/carpctl.pf.conf", 7, "syntax error"),
        PfError("/tmp/carpctl.pf.conf", 12, "macro 'ext_if' not defined"),
        PfError(None, None, "no IP address found for webhost9"),
        PfError("/tmp/carpctl.pf.conf", 15, "could not parse host specification"),
    )


def test_pfctl_f_errors_from_stdin_and_the_rules_not_loaded_line_are_both_kept():
    assert parse_pf_errors(fixture("pfctl_f_errors.txt")) == (
        PfError("stdin", 3, "syntax error"),
        PfError(None, None, "pfctl: Syntax error in config file: pf rules not loaded"),
    )
