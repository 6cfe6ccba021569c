"""Release facts in the status verdict: a mixed pair warns (naming a window under way and for
how long), and only the inventory's `release:` pin makes a node's release a finding."""

from __future__ import annotations

from facts._fixtures import fixture

from carpctl.core.releases import release_findings, release_warnings
from carpctl.facts.release import parse_kern_version
from carpctl.facts.state import NodeState


def node(name: str, text: str, maintenance: str | None = None) -> NodeState:
    kv = parse_kern_version(fixture(text))
    return NodeState(node=name, reachable=True, release=kv.release, kern_version=kv, maintenance=maintenance)


def test_a_pair_on_one_release_has_neither_warning_nor_finding():
    states = [node("fw1", "sysctl_kern_version.txt"), node("fw2", "sysctl_kern_version.txt")]
    assert release_warnings(states) == [] and release_findings(states, "7.6") == []


def test_a_mixed_pair_in_an_upgrade_window_warns_with_the_time_in_maintenance():
    marker = "run=r1 since=1000 amount=50 rc_local=absent"
    states = [node("fw1", "sysctl_kern_version.txt"),
              node("fw2", "sysctl_kern_version_current.txt", marker)]
    (warning,) = release_warnings(states, now=1000 + 12 * 60)
    assert warning.code == "mixed-release"
    assert "fw1 runs 7.6, fw2 runs 7.7-current: an upgrade window is under way (fw2 in " \
           "maintenance for 12 min)" in warning.message


def test_only_a_pin_makes_a_release_a_finding():
    states = [node("fw1", "sysctl_kern_version.txt"),
              node("fw2", "sysctl_kern_version_current.txt")]
    assert release_findings(states, None) == []
    (finding,) = release_findings(states, "7.7")
    assert (finding.code, finding.node) == ("release-pin", "fw1")
