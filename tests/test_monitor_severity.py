"""The severity every finding maps to (docs/monitoring.md's table), pure."""

from __future__ import annotations

import re
from pathlib import Path

from monitor_states import Status, healthy, node, relayd, unreachable

from carpctl.core.carp import SEVERITY, Finding
from carpctl.core.severity import (
    FINDING_SEVERITY,
    Severity,
    finding_severity,
    graded,
    pair_severity,
    worst,
)

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "monitoring.md"
# codes that never make a pair unhealthy (status warnings) or that only monitoring adds
NOT_VERDICTS = {"equal-advskew", "relayd-host-disabled", "no-backend", "mixed-release"}


def test_every_verdict_code_has_a_severity_of_its_own():
    assert set(SEVERITY) == set(FINDING_SEVERITY) - NOT_VERDICTS


def test_every_finding_the_code_makes_has_a_severity_and_a_verdict_rank():
    made = {code for path in (ROOT / "carpctl").rglob("*.py")
            for code in re.findall(r'Finding\(\s*"([a-z-]+)"', path.read_text())}
    assert "restored-at-boot" in made and "equal-advskew" in made
    assert made - {"pf-states-diff"} <= set(FINDING_SEVERITY)   # graded by --warn/--crit
    assert made - NOT_VERDICTS - {"pf-states-diff"} <= set(SEVERITY)


def test_the_documented_table_is_the_one_the_code_uses():
    rows = re.findall(r"^\| `([a-z-]+)` \| (OK|WARNING|CRITICAL|UNKNOWN) \|", DOC.read_text(),
                      re.M)
    assert dict(rows) == {code: s.name for code, s in FINDING_SEVERITY.items()}


def test_a_finding_code_added_later_is_a_warning_until_decided():
    assert finding_severity("equal-skews") is Severity.WARNING


def test_split_brain_no_master_and_relayd_down_on_the_master_are_critical():
    assert {finding_severity(c) for c in ("split-brain", "no-master", "relayd-down")} \
        == {Severity.CRITICAL}


def test_drift_demotion_and_preempt_off_are_warnings():
    assert {finding_severity(c) for c in ("drift", "demoted", "preempt-off")} \
        == {Severity.WARNING}


def test_a_node_unreachable_is_critical_while_its_peer_answers():
    status = Status(node("fw1", "MASTER"), unreachable("fw2"))
    assert pair_severity(status.verdict, status.nodes) is Severity.CRITICAL


def test_a_pair_of_which_nothing_could_be_read_is_unknown():
    status = Status(unreachable("fw1"), unreachable("fw2"))
    assert [s for s, _ in graded(status.verdict, status.nodes)] == [Severity.UNKNOWN] * 2
    assert pair_severity(status.verdict, status.nodes) is Severity.UNKNOWN


def test_one_web_host_down_is_a_warning_but_none_left_on_the_master_is_critical():
    some = Status(node("fw1", relayd=relayd("192.168.1.2")), node("fw2", "BACKUP"))
    assert pair_severity(some.verdict, some.nodes) is Severity.WARNING
    none = Status(node("fw1", relayd=relayd("192.168.1.2", "192.168.1.3")), node("fw2", "BACKUP"))
    assert pair_severity(none.verdict, none.nodes) is Severity.CRITICAL
    assert graded(none.verdict, none.nodes)[-1][1] == Finding(
        "no-backend", "relayd on the MASTER fw1 has no backend host up", "fw1")


def test_a_healthy_pair_is_ok():
    status = healthy()
    assert pair_severity(status.verdict, status.nodes) is Severity.OK


def test_a_known_outage_outranks_not_knowing_which_outranks_a_warning():
    assert worst([Severity.WARNING, Severity.UNKNOWN]) is Severity.UNKNOWN
    assert worst([Severity.UNKNOWN, Severity.CRITICAL, Severity.OK]) is Severity.CRITICAL
    assert worst([]) is Severity.OK
