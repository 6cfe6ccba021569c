"""The lab's lockout model: which loaded pf rulesets let a new SSH connection in."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from carpctl_lab.conf.pf import check_pf
from carpctl_lab.image import PairSpec, pf_conf
from carpctl_lab.openbsd.ifaces import Address
from carpctl_lab.openbsd.pf_ssh import ssh_verdict

NODE = [SimpleNamespace(addresses=[Address("192.168.1.11", 24, None)]),
        SimpleNamespace(addresses=[Address("10.0.0.11", 24, None)])]


def verdict(pf_conf_text: str, *, enabled: bool = True) -> str:
    ruleset = check_pf(pf_conf_text, "/etc/pf.conf")
    return ssh_verdict(SimpleNamespace(enabled=enabled, ruleset=ruleset), NODE)


def test_the_lab_images_own_rules_let_ssh_in():
    assert verdict(pf_conf(PairSpec())) == "accept"


def test_no_loaded_ruleset_or_pf_disabled_lets_ssh_in():
    assert ssh_verdict(SimpleNamespace(enabled=True, ruleset=None), NODE) == "accept"
    assert verdict("block all\n", enabled=False) == "accept"


def test_an_empty_ruleset_passes_everything_as_pf_does():
    assert verdict("set skip on lo\n") == "accept"


def test_block_drop_without_an_ssh_pass_rule_blackholes_new_connections():
    assert verdict("block drop all\npass out\n") == "blackhole"


def test_block_return_answers_with_a_reset_so_the_client_sees_a_refusal():
    assert verdict("set block-policy return\nblock all\n") == "refuse"
    assert verdict("block return in proto tcp to port 22\n") == "refuse"


@pytest.mark.parametrize("rule", [
    "pass in proto tcp to self port ssh",
    "pass in on em0 proto tcp from any to any port = 22",
    "pass proto tcp to port ssh",
    "pass in to any",
    "pass in inet proto tcp to 192.168.1.11 port 22",
    "pass in inet proto tcp to 192.168.1.0/24 port ssh",
    "pass in proto tcp to (em0) port ssh",
    "pass in proto tcp to port 20:30",
    "pass in proto tcp to port 20 >< 30",
    "pass in proto tcp to port != 80",
    "pass in proto tcp to port >= 22",
    "pass in proto tcp to ! 10.9.9.9 port ssh",
])
def test_a_pass_rule_that_matches_ssh_after_block_all_lets_it_in(rule):
    assert verdict(f"block all\n{rule}\n") == "accept"


@pytest.mark.parametrize("rule", [
    "pass out proto tcp to port ssh",
    "pass in proto udp to port 22",
    "pass in proto tcp to port http",
    "pass in inet proto tcp to 192.168.9.9 port ssh",
    "pass in proto tcp to <webhosts> port ssh",
    "pass in proto tcp from any port ssh to any",
    "pass in proto tcp to port 20 <> 30",
    "pass in proto tcp to port > 22",
    "pass in proto tcp to ! self port ssh",
])
def test_a_pass_rule_that_does_not_match_ssh_leaves_it_blocked(rule):
    assert verdict(f"block drop all\n{rule}\n") == "blackhole"


def test_the_last_matching_rule_wins():
    assert verdict("pass in proto tcp to port ssh\nblock drop in all\n") == "blackhole"


def test_a_quick_rule_wins_over_later_rules():
    assert verdict("pass in quick proto tcp to port ssh\nblock drop all\n") == "accept"
    assert verdict("block drop quick all\npass in proto tcp to port ssh\n") == "blackhole"


def test_anchors_and_match_rules_decide_nothing():
    assert verdict('block drop all\nanchor "relayd/*"\nmatch in all scrub (no-df)\n') \
        == "blackhole"
