"""Events between two reads of a pair (pure): what `carpctl watch` prints."""

from __future__ import annotations

import json

from monitor_states import Status, healthy, node, relayd, unreachable

from carpctl.core.events import diff, snapshot, started
from carpctl.facts.parked import Parked


def snap(status: Status, previous=None):
    return snapshot(status.pair, status.verdict, status.nodes, previous)


def events(*statuses: Status) -> list[tuple[str, str]]:
    """(kind, message) of every event along a sequence of reads."""
    found, previous = [], snap(statuses[0])
    for status in statuses[1:]:
        current = snap(status, previous)
        found += [(e.kind, e.message) for e in diff(previous, current, 0.0)]
        previous = current
    return found


def test_nothing_changed_gives_no_event():
    assert events(healthy(), healthy()) == []


def test_a_failover_moves_master_on_each_vhid_and_nothing_else():
    moved = Status(node("fw1", "BACKUP"), node("fw2", "MASTER"))
    assert events(healthy(), moved) == [
        ("master-moved", "vhid 1: MASTER moved from fw1 to fw2"),
        ("master-moved", "vhid 2: MASTER moved from fw1 to fw2")]


def test_a_crashed_master_is_unreachable_first_then_moves_without_vanishing():
    crashed = Status(unreachable("fw1"), node("fw2", "BACKUP"))
    taken = Status(unreachable("fw1"), node("fw2", "MASTER"))
    assert events(healthy(), crashed, taken) == [
        ("node-unreachable", "fw1 unreachable (timeout): connect timed out after 0.5s"),
        ("verdict-changed", "verdict healthy -> unreachable (CRITICAL)"),
        ("master-moved", "vhid 1: MASTER moved from fw1 to fw2"),
        ("master-moved", "vhid 2: MASTER moved from fw1 to fw2")]


def test_a_node_coming_back_is_reported():
    crashed = Status(unreachable("fw1"), node("fw2", "MASTER"))
    back = Status(node("fw1", "BACKUP"), node("fw2", "MASTER"))
    assert events(crashed, back) == [("node-back", "fw1 reachable again"),
                                     ("verdict-changed", "verdict unreachable -> healthy (OK)")]


def test_a_split_vhid_shows_master_on_both_and_the_verdict():
    split = Status(node("fw1"), node("fw2", states=("MASTER", "BACKUP")))
    assert events(healthy(), split) == [
        ("master-moved", "vhid 1: MASTER on both fw1 and fw2 (was fw1)"),
        ("verdict-changed", "verdict healthy -> split-brain (CRITICAL)")]


def test_a_demotion_says_by_how_much_and_the_link_that_caused_it():
    link_down = Status(node("fw1", states=("INIT", "BACKUP"), demote=1), node("fw2", "MASTER"))
    found = events(healthy(), link_down)
    assert ("demote-changed", "fw1 carp demote counter 0 -> 1 (+1, link down on carp0)") in found
    assert ("master-moved", "vhid 1: MASTER moved from fw1 to fw2") in found


def test_a_demotion_by_carpctl_parking_names_it():
    parked = Parked("carpdemote", amount=50)
    before = Status(node("fw1", "BACKUP"), node("fw2", "MASTER"))
    after = Status(node("fw1", "BACKUP", demote=50, parked=parked), node("fw2", "MASTER"))
    assert events(before, after) == [
        ("demote-changed", "fw1 carp demote counter 0 -> 50 (+50, parked by carpctl)")]


def test_a_demotion_without_a_known_cause_gives_the_amount_only():
    demoted = Status(node("fw1"), node("fw2", "BACKUP", demote=5))
    assert events(healthy(), demoted)[0] == ("demote-changed", "fw2 carp demote counter 0 -> 5 (+5)")


def test_relayd_hosts_going_down_and_up_are_events_per_node():
    down = Status(node("fw1", relayd=relayd("192.168.1.3")), node("fw2", "BACKUP"))
    found = events(healthy(), down, healthy())
    assert found == [("relayd-host-down", "fw1 relayd host 192.168.1.3 down"),
                     ("verdict-changed", "verdict healthy -> webhosts-down (WARNING)"),
                     ("relayd-host-up", "fw1 relayd host 192.168.1.3 up"),
                     ("verdict-changed", "verdict webhosts-down -> healthy (OK)")]


def test_relayd_stopping_is_one_event_not_one_per_host():
    stopped = Status(node("fw1", relayd=relayd(running=False)), node("fw2", "BACKUP"))
    assert events(healthy(), stopped) == [
        ("relayd-stopped", "fw1 relayd stopped"),
        ("verdict-changed", "verdict healthy -> relayd-down (CRITICAL)")]


def test_the_first_read_is_a_watching_event_and_json_is_one_flat_object():
    event = started(snap(Status(node("fw1"), unreachable("fw2"))), 1_700_000_000.0)
    assert event.message == "watching: unreachable (CRITICAL), MASTER fw1; unreachable: fw2"
    document = event.to_json()
    assert json.loads(json.dumps(document)) == document
    assert {k: document[k] for k in ("event", "pair", "verdict", "master", "unreachable")} == {
        "event": "watching", "pair": "pair1", "verdict": "unreachable", "master": "fw1",
        "unreachable": ["fw2"]}
    assert document["time"].startswith("2023-11-1")


def test_master_moved_json_lists_the_nodes_it_moved_from_and_to():
    moved = Status(node("fw1", "BACKUP"), node("fw2", "MASTER"))
    first = diff(snap(healthy()), snap(moved), 0.0)[0].to_json()
    assert {k: first[k] for k in ("event", "vhid", "from", "to")} == {
        "event": "master-moved", "vhid": 1, "from": ["fw1"], "to": ["fw2"]}
