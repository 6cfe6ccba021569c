"""relayd in the verdict: a host an operator disabled is disabled, not down.

Pure units over the parsed `relayctl show summary` of a node (the lab's relayctl
does not act on `host disable`): the verdict stays healthy and says so as a warning.
"""

from __future__ import annotations

from dataclasses import replace

from facts._fixtures import fixture
from test_carp_verdicts import backup, master

from carpctl.core.carp import assess
from carpctl.facts import parse_relayctl


def test_a_disabled_host_is_a_warning_not_a_host_down():
    summary = parse_relayctl(fixture("relayctl_show_summary_disabled_host.txt"))
    verdict = assess("pair1", [replace(master(), relayd=summary), backup()])
    assert verdict.healthy
    assert [(w.code, w.message) for w in verdict.warnings] == [(
        "relayd-host-disabled", "fw1: relayd host 192.168.1.3 is disabled: no traffic is "
        "forwarded to it until `relayctl host enable 4`")]


def test_a_host_down_next_to_a_disabled_one_is_still_reported_alone():
    text = fixture("relayctl_show_summary_disabled_host.txt").replace(
        "100.00%\tup", "0.00%  \tdown")
    verdict = assess("pair1", [replace(master(), relayd=parse_relayctl(text)), backup()])
    assert [f.message for f in verdict.findings if f.code == "webhosts-down"] == [
        "fw1 relayd sees hosts down: 192.168.1.2"]
