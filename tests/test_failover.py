"""`carpctl failover` against the lab over real SSH, with real CARP timing (advbase 1)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from lab_inventories import poll

from carpctl.errors import FailedError, RefusedError
from carpctl.flows.failover import failover
from carpctl.inventory import load_inventory
from carpctl.runtime.history import History
from carpctl.runtime.lock import PairLock
from carpctl.runtime.session import Session
from carpctl_lab.image import PairSpec
from carpctl_lab.lab import Lab


def masters(lab: Lab) -> dict[int, list[str]]:
    return lab.masters("pair1")


def skews(lab: Lab, node: str) -> dict[str, int]:
    return {name: carp["advskew"] for name, carp in
            lab.truth("pair1")["nodes"][node]["carp"].items()}


def demoted_by_advskew(lab: Lab) -> bool:
    return any("advskew 254" in e.command for e in lab.log("pair1", "fw1"))


def quick(pair, **changes):
    """The pair with a shorter settle watch, so tests stay fast."""
    return dataclasses.replace(pair, failover=dataclasses.replace(pair.failover, settle=1.0,
                                                                  **changes))


def when_logged(lab: Lab, node: str, pattern: str, action) -> threading.Thread:
    """Run `action()` as soon as `node` has run a command matching `pattern`."""
    def watch():
        poll(lambda: any(re.search(pattern, e.command) for e in lab.log("pair1", node)),
             timeout=15, every=0.01)
        action()
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def lab_of(tmp_path):
    """A lab built from a PairSpec (equal skews, preempt off, ...)."""
    labs = []

    def make(**spec):
        lab = Lab(tmp_path / f"lab{len(labs)}", pairs=[PairSpec(**spec)]).start()
        labs.append(lab)
        return lab
    yield make
    for lab in labs:
        lab.stop()


def session_for(lab: Lab) -> Session:
    return Session(load_inventory(lab.inventory), history=History())


def test_advskew_failover_hands_every_vhid_to_the_peer_within_the_carp_timing(lab, session):
    pair = session.inventory.pair("pair1")
    report = failover(session, pair, to="peer")
    assert masters(lab) == {1: ["fw2"], 2: ["fw2"]}
    assert (report.source, report.target, report.method) == ("fw1", "fw2", "advskew")
    # fw1's next advertisement, 1.99 s after advskew 254, lets fw2 preempt
    assert 1.2 < report.handover_seconds < 1.99 * 1.3 + 0.5


def test_restoring_would_pull_master_back_so_the_old_master_stays_parked(lab, session):
    report = failover(session, session.inventory.pair(), to="fw2")
    assert not report.restored
    assert "fw1 stays demoted" in report.parked and "--to fw1" in report.parked
    assert skews(lab, "fw1") == {"carp0": 254, "carp1": 254}
    time.sleep(1.6)  # one advertisement of fw2 later, MASTER is still on fw2
    assert masters(lab) == {1: ["fw2"], 2: ["fw2"]}


def test_failover_back_to_a_parked_node_undoes_its_parking_exactly(lab, session):
    pair = session.inventory.pair()
    failover(session, pair, to="fw2")
    report = failover(session, pair, to="fw1")
    assert masters(lab) == {1: ["fw1"], 2: ["fw1"]}
    assert skews(lab, "fw1") == {"carp0": 0, "carp1": 0}
    assert skews(lab, "fw2") == {"carp0": 100, "carp1": 100}
    assert report.restored and report.parked is None
    assert not lab.node("pair1", "fw1").fs.exists("/var/carpctl/parked")


def test_equal_skews_restore_the_original_advskew_and_the_node_stays_backup(lab_of):
    lab = lab_of(advskew=(10, 10))
    with session_for(lab) as session:
        report = failover(session, quick(session.inventory.pair()), to="fw2")
    assert report.restored and report.parked is None
    assert skews(lab, "fw1") == {"carp0": 10, "carp1": 10}
    assert masters(lab) == {1: ["fw2"], 2: ["fw2"]}


def test_a_target_with_preempt_off_is_refused_for_advskew_and_nothing_changes(lab, session):
    lab.preempt("pair1", "fw2", False)
    with pytest.raises(RefusedError) as refused:
        failover(session, session.inventory.pair(), to="peer")
    assert "preempt=0" in str(refused.value) and "carpdemote" in refused.value.hint
    assert refused.value.exit_code == 3
    assert skews(lab, "fw1") == {"carp0": 0, "carp1": 0}
    assert not any("advskew" in e.command for e in lab.log("pair1", "fw1"))


def test_carpdemote_moves_master_even_when_the_target_has_preempt_off(lab, session):
    lab.preempt("pair1", "fw2", False)
    report = failover(session, session.inventory.pair(), to="fw2", method="carpdemote")
    assert masters(lab) == {1: ["fw2"], 2: ["fw2"]}
    assert report.handover_seconds < 1.0   # one packet exchange, no advertisement interval to wait
    assert lab.truth("pair1")["nodes"]["fw1"]["demote"] == 50


def test_a_crashed_target_is_refused_before_anything_changes(lab, session):
    lab.crash("pair1", "fw2")
    inventory = session.inventory
    pair = dataclasses.replace(inventory.pair(), nodes=tuple(
        dataclasses.replace(n, connect_timeout=1.0) for n in inventory.pair().nodes))
    with pytest.raises(RefusedError) as refused:
        failover(session, pair, to="fw2")
    assert "fw2" in str(refused.value)
    assert skews(lab, "fw1") == {"carp0": 0, "carp1": 0}


def test_a_split_brain_is_refused(lab, session):
    lab.allow("pair1", "fw1", False)
    lab.allow("pair1", "fw2", False)
    poll(lambda: masters(lab) == {1: ["fw1", "fw2"], 2: ["fw1", "fw2"]})
    with pytest.raises(RefusedError, match="split brain"):
        failover(session, session.inventory.pair(), to="fw2")


def test_the_target_crashing_during_the_wait_is_undone(lab, session):
    watcher = when_logged(lab, "fw1", r"advskew 254", lambda: lab.crash("pair1", "fw2"))
    with pytest.raises(FailedError) as failed:
        failover(session, session.inventory.pair(), to="fw2", timeout=6)
    watcher.join()
    assert "undone" in str(failed.value)
    assert skews(lab, "fw1") == {"carp0": 0, "carp1": 0}
    assert masters(lab) == {1: ["fw1"], 2: ["fw1"]}


def test_a_dropped_connection_to_the_old_master_is_reopened_to_undo(lab, session):
    watcher = when_logged(lab, "fw1", r"advskew 254",
                          lambda: lab.drop("pair1", "fw1", r"^ifconfig carp$", count=1))
    with pytest.raises(FailedError) as failed:
        failover(session, session.inventory.pair(), to="fw2", timeout=5)
    watcher.join()
    assert "undone" in str(failed.value)
    cut = [e for e in lab.log("pair1", "fw1") if e.status is None]
    assert cut, "the lab never cut the connection"
    assert skews(lab, "fw1") == {"carp0": 0, "carp1": 0}
    poll(lambda: masters(lab) == {1: ["fw1"], 2: ["fw1"]}, timeout=8)


def test_a_second_operator_is_refused_by_the_lock(lab, session):
    pair = session.inventory.pair()
    with session_for(lab) as other, PairLock(other, pair, "deploy pair1"):
        with pytest.raises(RefusedError, match="locked on fw1 by"):
            failover(session, pair, to="fw2")
    assert skews(lab, "fw1") == {"carp0": 0, "carp1": 0}


def test_a_failover_started_while_another_runs_is_refused_by_the_lock(lab):
    first = _cli(lab, "failover", "--to", "fw2", "--yes")
    poll(lambda: demoted_by_advskew(lab), every=0.01)
    with session_for(lab) as session, pytest.raises(RefusedError, match="locked on fw1 by"):
        failover(session, session.inventory.pair(), to="fw2")
    assert first.wait(timeout=30) == 0
    assert masters(lab) == {1: ["fw2"], 2: ["fw2"]}


def test_a_target_already_master_everywhere_changes_nothing(lab, session):
    report = failover(session, session.inventory.pair(), to="fw1")
    assert report.already
    assert not any("ifconfig carp0" in e.command for e in lab.log("pair1", "fw1"))


def test_failover_costs_at_most_eight_round_trips_beyond_polling(lab, session):
    failover(session, session.inventory.pair(), to="fw2")
    commands = [e.command for n in ("fw1", "fw2") for e in lab.log("pair1", n)]
    polls = [c for c in commands if re.search(r"ifconfig carp </dev/null.*ifconfig -g carp", c, re.S)
             and "sysctl" not in c]
    assert len(commands) - len(polls) <= 8, commands


def _cli(lab: Lab, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "carpctl", "-i", str(lab.inventory), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def test_the_json_report_has_the_documented_shape(lab):
    proc = _cli(lab, "failover", "--to", "peer", "--yes", "--json")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert doc["source"] == "fw1" and doc["target"] == "fw2" and doc["method"] == "advskew"
    assert doc["before"]["fw1"] == {"demote": 0, "carp": {
        "carp0": {"state": "MASTER", "vhid": 1, "advskew": 0},
        "carp1": {"state": "MASTER", "vhid": 2, "advskew": 0}}}
    assert doc["after"]["fw2"]["carp"]["carp1"]["state"] == "MASTER"
    assert doc["unparked"] is False
    assert isinstance(doc["handover_seconds"], float) and doc["restored"] is False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_during_the_wait_undoes_the_demotion_and_exits_1(lab, signum):
    proc = _cli(lab, "failover", "--to", "fw2", "--yes")
    poll(lambda: demoted_by_advskew(lab), every=0.01)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert "interrupted" in err and "undone" in err and "Traceback" not in err
    assert skews(lab, "fw1") == {"carp0": 0, "carp1": 0}
    assert masters(lab) == {1: ["fw1"], 2: ["fw1"]}


def test_without_a_terminal_or_yes_the_failover_is_refused(lab):
    proc = _cli(lab, "failover", "--to", "fw2")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3 and "--yes" in err
    assert masters(lab) == {1: ["fw1"], 2: ["fw1"]}


def test_a_stale_lock_is_reported_and_broken_only_when_asked(lab, session):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()                                   # a pid that no longer runs on this host
    owner = (f"run=old user=ops host={os.uname().nodename} pid={dead.pid} since={time.time():.0f} "
             f"command=failover pair1 --to fw2\n")
    lab.node("pair1", "fw1").fs.install("/var/carpctl/lock/owner", owner)
    pair = session.inventory.pair()
    with pytest.raises(RefusedError, match="looks stale: rerun with --break-lock"):
        failover(session, pair, to="fw2")
    assert masters(lab) == {1: ["fw1"], 2: ["fw1"]}
    failover(session, pair, to="fw2", break_lock=True)
    assert masters(lab) == {1: ["fw2"], 2: ["fw2"]}
    assert not lab.node("pair1", "fw1").fs.exists("/var/carpctl/lock")


def test_an_undo_that_cannot_reach_the_node_exits_4_and_prints_the_fix(lab, session, monkeypatch):
    import carpctl.runtime.undo as undo
    from carpctl.errors import UndoFailedError

    monkeypatch.setattr(undo, "UNDO_GRACE", 1.0)
    inventory = session.inventory
    pair = dataclasses.replace(inventory.pair(), nodes=tuple(
        dataclasses.replace(n, connect_timeout=0.5) for n in inventory.pair().nodes))

    def cut_off_both():
        lab.crash("pair1", "fw2")                     # the wait fails...
        lab.refuse_new("pair1", "fw1")                # ...and the old MASTER cannot be reached
        lab.node("pair1", "fw1").drop_connections()
    watcher = when_logged(lab, "fw1", r"advskew 254", cut_off_both)
    with pytest.raises(UndoFailedError) as failed:
        failover(session, pair, to="fw2", timeout=5)
    watcher.join()
    message = str(failed.value)
    assert failed.value.exit_code == 4
    assert "fw1 is still demoted" in message
    assert "ifconfig carp0 advskew 0; ifconfig carp1 advskew 0" in message
    assert skews(lab, "fw1") == {"carp0": 254, "carp1": 254}   # exactly what it says is left


def test_a_second_ctrl_c_does_not_stop_the_undo(lab):
    proc = _cli(lab, "failover", "--to", "fw2", "--yes")
    poll(lambda: demoted_by_advskew(lab), every=0.01)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)                   # impatient operator
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert "undone" in err and "Traceback" not in err
    assert skews(lab, "fw1") == {"carp0": 0, "carp1": 0}


def test_an_unknown_target_is_a_usage_error_before_any_node_is_contacted(lab, session):
    from carpctl.errors import UsageError

    with pytest.raises(UsageError, match="no node 'fw9'"):
        failover(session, session.inventory.pair(), to="fw9")
    assert lab.log("pair1", "fw1") == [] and lab.log("pair1", "fw2") == []
