"""The two judgements failover makes while polling: split brain, and "heard enough".

Pure units (the reads are replaced by a list of readings): split brain is two readings
in a row with a vhid MASTER on both nodes, never one (a hand-over has a moment with
both MASTER); the old MASTER has heard every vhid of the new one once its counter has
moved by heard_enough().
"""

from __future__ import annotations

import pytest
from pure_pair import backup, carp, master, node, pair

import carpctl.flows.failover as flow
from carpctl.errors import FailedError
from carpctl.facts.state import CARP
from carpctl.flows.failover import heard_enough, wait_until

SESSION = object()
SPLIT = {"fw1": master("fw1"), "fw2": node("fw2", "MASTER", "BACKUP")}
HANDING = {"fw1": master("fw1"), "fw2": backup("fw2")}
DONE = {"fw1": backup("fw1"), "fw2": master("fw2")}


@pytest.fixture
def readings(monkeypatch):
    """Feed wait_until these readings, one per poll; returns how many were taken."""
    taken: list[int] = []

    def feed(*states):
        queue = list(states)

        def read_pair(session, the_pair, facts, *, strict):
            # only CARP state, and a node that cannot be read ends the wait (strict)
            assert (session, the_pair.name, facts, strict) == (SESSION, "p", CARP, True)
            taken.append(1)
            return queue.pop(0) if len(queue) > 1 else queue[0]
        monkeypatch.setattr(flow, "read_pair", read_pair)
        monkeypatch.setattr(flow, "POLL", 0.0)
        return taken
    return feed


def handed_over(states) -> bool:
    return states["fw2"].is_master_everywhere() and states["fw1"].is_backup_everywhere()


def wait(*, timeout: float = 30.0, progress=None, **kw):
    kw.setdefault("stop_on_split", True)
    return wait_until(SESSION, pair(), handed_over, timeout, "waiting for fw2", progress, **kw)


class Progress:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def update(self, line: str) -> None:
        self.lines.append(line)


def test_one_reading_with_both_master_is_a_hand_over_in_flight_not_split_brain(readings):
    taken = readings(HANDING, SPLIT, DONE)
    assert wait() == DONE and len(taken) == 3


def test_split_readings_that_are_not_in_a_row_are_not_split_brain(readings):
    readings(SPLIT, HANDING, SPLIT, HANDING, DONE)
    assert wait() == DONE


def test_two_readings_in_a_row_with_a_vhid_master_on_both_nodes_are_split_brain(readings):
    taken = readings(HANDING, SPLIT, SPLIT, DONE)
    with pytest.raises(FailedError) as failed:
        wait()
    assert len(taken) == 3
    assert failed.value.message == (
        "p: split brain while waiting for fw2: vhid 1 is MASTER on both nodes (the nodes do not "
        "hear each other's advertisements: pf blocking carp, a carp pass mismatch, "
        "net.inet.carp.allow=0 or a broken link?)")


def test_without_stop_on_split_a_split_pair_is_waited_for_until_the_timeout(readings):
    readings(SPLIT, SPLIT, SPLIT)
    with pytest.raises(TimeoutError, match=r"waiting for fw2: not done after 0s \(fw1 "
                                           r"MASTER/MASTER, fw2 MASTER/BACKUP\)"):
        wait(stop_on_split=False, timeout=0.0)


def test_split_brain_stops_the_wait_only_when_asked(readings):
    """The undo waits for one MASTER per vhid without stop_on_split: split readings then
    are the state to wait out, not an error."""
    readings(SPLIT, SPLIT, SPLIT, DONE)
    assert wait_until(SESSION, pair(), handed_over, 30.0, "waiting") == DONE
    readings(SPLIT, SPLIT, SPLIT, DONE)
    assert wait(stop_on_split=False) == DONE


def test_split_brain_names_every_split_vhid(readings):
    both = {"fw1": master("fw1"), "fw2": master("fw2")}
    readings(both, both)
    with pytest.raises(FailedError, match="vhid 1, 2 is MASTER on both nodes"):
        wait()


def test_the_wait_shows_what_it_waits_for_and_the_pair_as_read(readings, monkeypatch):
    clock = iter([100.0, 100.0, 101.5, 101.5, 102.5, 102.5])
    monkeypatch.setattr(flow.time, "monotonic", lambda: next(clock))
    readings(HANDING, HANDING, DONE)
    progress = Progress()
    wait(progress=progress)
    assert progress.lines == ["waiting for fw2: 1.5s (fw1 MASTER/MASTER, fw2 BACKUP/BACKUP)",
                              "waiting for fw2: 2.5s (fw1 MASTER/MASTER, fw2 BACKUP/BACKUP)"]


def test_a_reading_that_is_done_is_returned_even_on_the_deadline(readings):
    readings(DONE)
    assert wait(timeout=0.0) == DONE


# -- heard_enough --------------------------------------------------------------------------
def new_master(*timings) -> object:
    return master("fw2", carp=tuple(carp(i, "MASTER", advbase=b, advskew=k)
                                    for i, (b, k) in enumerate(timings)))


def test_one_vhid_is_heard_with_one_advertisement():
    assert heard_enough(new_master((1, 0))) == 1


def test_n_vhids_of_one_interval_need_n_advertisements():
    assert heard_enough(new_master((1, 100), (1, 100))) == 2
    assert heard_enough(new_master((1, 0), (1, 0), (1, 0))) == 3


def test_a_fast_vhid_can_be_heard_several_times_before_a_slow_one_once():
    """carp1 at 2 s: meanwhile carp0 at 1 s sends twice, so 1 + 2 = 3 prove both."""
    assert heard_enough(new_master((1, 0), (2, 0))) == 3
    assert heard_enough(new_master((1, 0), (3, 0))) == 4


def test_intervals_that_divide_exactly_do_not_count_one_more():
    assert heard_enough(new_master((2, 0), (1, 0), (1, 0))) == 5   # 1 + 2 + 2


def test_an_unprinted_advbase_is_one_second_and_interfaces_without_vhid_do_not_count():
    assert heard_enough(new_master((None, 0), (1, 0))) == 2
    assert heard_enough(new_master((1, None), (1, 0))) == 2
    assert heard_enough(new_master((1, None), (1, 1))) == 3   # 1 s and 1.0039 s
    no_vhid = master("fw2", carp=(carp(0, "MASTER"), carp(1, "MASTER", vhid=0)))
    assert heard_enough(no_vhid) == 1
    assert heard_enough(master("fw2", carp=())) == 1
