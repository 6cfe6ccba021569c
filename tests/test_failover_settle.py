"""How a failover decides it is over, and when it stops early: against the lab over real SSH."""

from __future__ import annotations

import threading

import pytest
from lab_inventories import poll

from carpctl.errors import FailedError, RefusedError
from carpctl.flows.failover import failover
from carpctl.inventory import load_inventory
from carpctl.runtime.history import History
from carpctl.runtime.session import Session
from carpctl_lab.image import PairSpec
from carpctl_lab.proc import Registry


class _Without(Registry):
    """A node's command registry with one command gone: the shell answers `not found`."""

    def __init__(self, base: Registry, name: str):
        super().__init__()
        self._base, self._gone = base, name

    def get(self, name: str):
        return None if name == self._gone else self._base.get(name)


def _equal_skews(lab_factory):
    lab = lab_factory([PairSpec(advskew=(10, 10))])
    return lab, Session(load_inventory(lab.inventory), history=History())


def test_the_pair_counts_as_settled_only_after_the_old_master_heard_the_new_one(lab_factory):
    lab, session = _equal_skews(lab_factory)
    with session:
        report = failover(session, session.inventory.pair(), to="peer")
    assert report.restored and lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
    settled = [e for e in lab.log("pair1", "fw1") if "netstat -s -p carp" in e.command]
    assert len(settled) >= 2   # the read sent with the restore, and at least one after it
    restore = next(e for e in lab.log("pair1", "fw1") if "advskew 10" in e.command)
    assert "netstat -s -p carp" in restore.command   # the counter read travels with the restore
    heard = lab.node("pair1", "fw1").pair.model.stats("fw1").ipackets
    assert heard > 0 and settled[-1].time > restore.time


def test_a_node_without_netstat_falls_back_to_the_settle_watch(lab_factory):
    lab, session = _equal_skews(lab_factory)
    node = lab.node("pair1", "fw1")
    node.registry = _Without(node.registry, "netstat")
    with session:
        report = failover(session, session.inventory.pair(), to="peer")
    assert report.restored and lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
    after_restore = [e for e in lab.log("pair1", "fw1") if "advskew 10" in e.command]
    polls = lab.log("pair1", "fw1")[lab.log("pair1", "fw1").index(after_restore[-1]) + 1:]
    assert polls and all("netstat" not in e.command for e in polls[:-1])
    assert all(e.status is not None for e in polls)


def test_a_failover_stops_at_split_brain_and_undoes(lab, session):
    pair = session.inventory.pair()

    def deafen():   # once demoted, fw1 stops hearing fw2: both end MASTER
        poll(lambda: any("advskew 254" in e.command for e in lab.log("pair1", "fw1")),
             timeout=15, every=0.01)
        lab.allow("pair1", "fw1", False)
    threading.Thread(target=deafen, daemon=True).start()
    with pytest.raises(FailedError) as failed:
        failover(session, pair, to="peer", timeout=30)
    assert "split brain" in str(failed.value) and "undone" in str(failed.value)
    assert {e for e in lab.truth("pair1")["nodes"]["fw1"]["carp"].values()
            if e["advskew"] == 254} == set()


def test_carp_allow_off_on_either_node_is_refused_with_its_reason(lab, session):
    lab.allow("pair1", "fw2", False)
    with pytest.raises(RefusedError) as refused:
        failover(session, session.inventory.pair(), to="peer")
    assert "net.inet.carp.allow=0" in str(refused.value) and "fw2" in str(refused.value)
    assert not any("advskew 254" in e.command for e in lab.log("pair1", "fw1"))


def test_a_relayd_host_down_on_the_new_master_is_a_warning_of_the_report(lab_factory):
    lab, session = _equal_skews(lab_factory)
    lab.webhost("pair1", "192.168.1.3", False)
    with session:
        report = failover(session, session.inventory.pair(), to="peer")
    assert report.restored
    assert any("down" in w and "fw2" in w for w in report.warnings), report.warnings
