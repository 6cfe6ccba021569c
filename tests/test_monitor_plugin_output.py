"""The plugin's lines and perfdata, from hand-built pair states (pure)."""

from __future__ import annotations

from dataclasses import replace

from monitor_states import Status, healthy, node, unreachable

from carpctl.core.plugin_output import (
    PerfDatum,
    StateDiffThresholds,
    check_pair,
    check_result,
    unknown,
)
from carpctl.core.severity import Severity
from carpctl.facts import PfInfo


def result(*statuses, thresholds=None):
    return check_result([check_pair(s.pair, s.verdict, s.nodes, thresholds) for s in statuses])


def states(count: int) -> PfInfo:
    return PfInfo(enabled=True, since=None, states=count, debug="err", hostid=None, checksum=None)


def test_a_healthy_pair_gives_one_ok_line_with_its_perfdata():
    checked = result(healthy())
    assert checked.exit_code == 0
    assert checked.lines == (
        "CARP OK - pair1 healthy, MASTER fw1 | 'pair1_fw1_demote'=0;;;0;255 "
        "'pair1_fw1_pf_states'=44;;;0 'pair1_fw2_demote'=0;;;0;255 'pair1_fw2_pf_states'=44;;;0 "
        "'pair1_pf_states_diff'=0;;;0 'pair1_relayd_hosts_up'=2;;1:;0;2",)


def test_split_brain_is_critical_with_one_line_per_finding():
    checked = result(Status(node("fw1"), node("fw2")))
    assert checked.exit_code == 2
    assert checked.lines[0].startswith("CARP CRITICAL - pair1 split-brain | ")
    assert "relayd_hosts_up" not in checked.lines[0]   # no MASTER: no relayd to count on
    assert checked.lines[1:] == ("CRITICAL: pair1: vhid 1: MASTER on both fw1 and fw2",
                                 "CRITICAL: pair1: vhid 2: MASTER on both fw1 and fw2")


def test_the_status_line_names_the_worst_pairs_first_and_counts_the_healthy_ones():
    demoted = Status(node("fw1"), node("fw2", "BACKUP", demote=5), pair="pair2")
    split = Status(node("fw1"), node("fw2"), pair="pair3")
    checked = result(healthy(), demoted, split)
    assert checked.exit_code == 2
    assert checked.lines[0].split(" | ")[0] == \
        "CARP CRITICAL - pair3 split-brain, pair2 demoted; 1 of 3 pairs healthy"
    assert checked.lines[1:] == ("WARNING: pair2: fw2 carp demote counter is 5",
                                 "CRITICAL: pair3: vhid 1: MASTER on both fw1 and fw2",
                                 "CRITICAL: pair3: vhid 2: MASTER on both fw1 and fw2")


def test_an_unread_node_has_no_perfdata_rather_than_zeros():
    checked = result(Status(node("fw1"), unreachable("fw2")))
    assert checked.exit_code == 2
    assert "pair1_fw2" not in checked.lines[0] and "pf_states_diff" not in checked.lines[0]
    assert checked.lines[1] == \
        "CRITICAL: pair1: fw2 unreachable (timeout): connect timed out after 0.5s"


def test_nothing_read_is_unknown():
    checked = result(Status(unreachable("fw1"), unreachable("fw2")))
    assert checked.exit_code == 3
    assert checked.lines[0] == "CARP UNKNOWN - pair1 unreachable"


def test_state_count_thresholds_replace_the_built_in_rule():
    apart = Status(node("fw1", pf=states(1000)), node("fw2", "BACKUP", pf=states(800)))
    assert result(apart).exit_code == 1          # built-in: more than 10 and 10 % apart
    relaxed = result(apart, thresholds=StateDiffThresholds(warn=300, crit=500))
    assert relaxed.exit_code == 0
    assert "'pair1_pf_states_diff'=200;300;500;0" in relaxed.lines[0]
    strict = result(apart, thresholds=StateDiffThresholds(warn=20, crit=50))
    assert strict.exit_code == 2
    assert strict.lines[1] == "CRITICAL: pair1: pf state counts differ by 200 (fw1 1000, fw2 800)"
    assert result(apart, thresholds=StateDiffThresholds(warn=150)).exit_code == 1


def test_a_perfdata_label_with_a_quote_is_escaped_and_empty_trailing_fields_dropped():
    assert str(PerfDatum(label="it's", value=3)) == "'it''s'=3"
    assert str(PerfDatum(label="x", value=1, crit="1:", max=2)) == "'x'=1;;1:;;2"


def test_a_check_that_cannot_run_is_unknown_on_one_line():
    assert unknown("no pair named 'x'").lines == ("CARP UNKNOWN - no pair named 'x'",)
    assert unknown("x").severity is Severity.UNKNOWN


def test_several_healthy_pairs_are_counted():
    assert result(healthy(), healthy("pair2")).lines[0].startswith("CARP OK - 2 pairs healthy | ")


def test_relayd_stopped_on_the_master_is_critical():
    stopped = replace(node("fw1"), relayd=replace(node("fw1").relayd, running=False))
    checked = result(Status(stopped, node("fw2", "BACKUP")))
    assert checked.exit_code == 2
    assert checked.lines[1] == "CRITICAL: pair1: relayd is not running on the MASTER fw1"
