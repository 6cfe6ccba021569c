"""Parsers of `pfctl -sr` and `pfctl -sA`, and the two facts read from them."""

from __future__ import annotations

import pytest

from carpctl.errors import ParseError
from carpctl.facts.ruleset import (
    evaluates_relayd,
    is_rc_boot_ruleset,
    parse_pf_anchors,
    parse_pf_rules,
)

RC_RULES = """\
block drop all
pass on lo0 all flags S/SA
pass in proto tcp from any to any port = ssh flags S/SA
pass out proto tcp from any to any port = domain flags S/SA
pass out proto udp from any to any port = domain
pass out inet proto icmp all icmp-type echoreq
pass out inet proto udp from any port = bootpc to any port = bootps
pass in inet proto udp from any port = bootps to any port = bootpc
pass in proto carp all keep state (no-sync)
pass out proto carp all keep state (no-sync) ! received-on any
"""


def test_rcs_temporary_ruleset_is_recognised():
    assert is_rc_boot_ruleset(parse_pf_rules(RC_RULES))


def test_a_site_ruleset_that_blocks_all_and_passes_ssh_is_not_rcs():
    rules = parse_pf_rules("block drop all\npass in proto tcp from any to any port = ssh "
                           "flags S/SA\npass proto carp all keep state (no-sync)\n")
    assert not is_rc_boot_ruleset(rules)


def test_the_relayd_anchor_rule_is_found_in_the_main_ruleset():
    assert evaluates_relayd(parse_pf_rules('block drop all\nanchor "relayd/*" all\n'))
    assert not evaluates_relayd(parse_pf_rules('block drop all\nanchor "ftp-proxy/*" all\n'))


def test_anchor_paths_are_read_below_main_parents_first():
    assert parse_pf_anchors("  relayd\n  relayd/www\n") == ("relayd", "relayd/www")
    assert parse_pf_anchors("") == ()


def test_an_error_in_place_of_the_rules_or_anchors_is_refused():
    with pytest.raises(ParseError):
        parse_pf_rules("pfctl: /dev/pf: Permission denied\n")
    with pytest.raises(ParseError):
        parse_pf_anchors("pfctl: /dev/pf: Permission denied\n")
