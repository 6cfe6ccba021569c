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
from carpctl_lab.proc import CommandSpec, Registry


class _Without(Registry):
    """A node's command registry with one command gone: the shell answers `not found`."""

    def __init__(self, base: Registry, name: str):
        super().__init__()
        self._base, self._gone = base, name

    def get(self, name: str):
        return None if name == self._gone else self._base.get(name)


class _DeafAfterRestore(Registry):
    """fw1's commands, with two additions: every `netstat` records the carp `received`
    counter the node answered with, and the restore of fw1's advskew makes fw1 deaf to
    CARP (pf drops every advertisement before carp counts it) for DEAF seconds, shorter
    than its master-down time (3 x 1.04 s), so the pair stays as it is meanwhile."""

    DEAF = 1.0

    def __init__(self, base: Registry, node, restored_skew: int):
        super().__init__()
        self._base, self._node, self._skew = base, node, restored_skew
        self.heard: list[int] = []           # the counter at each netstat, in order
        self.restore_at: int | None = None   # index in `heard` of the restore's own read
        self.hearing_again: int | None = None   # len(heard) when fw1 could hear again
        self._demoted = False

    def _received(self) -> int:
        return self._node.pair.model.stats(self._node.name).ipackets

    def _hear(self, on: bool) -> None:
        model, name = self._node.pair.model, self._node.name
        model.set_filter(name, self._node.carp_filter if on else
                         (lambda direction, dev: direction == "out"))

    def _hear_again(self) -> None:
        with self._node.lock:
            self._node.pair.advance()
            self._hear(True)
            self.hearing_again = len(self.heard)

    def get(self, name: str):
        spec = self._base.get(name)
        if spec is None or name not in ("netstat", "ifconfig"):
            return spec

        def netstat(proc, argv):
            status = spec.func(proc, argv)
            self.heard.append(self._received())
            return status

        def ifconfig(proc, argv):
            status = spec.func(proc, argv)
            if "advskew" in argv and status == 0:
                skew = int(argv[argv.index("advskew") + 1])
                if skew == 254:
                    self._demoted = True
                elif self._demoted and skew == self._skew and self.restore_at is None:
                    self.restore_at = len(self.heard)   # the netstat of this very exec
                    self._hear(False)
                    threading.Timer(self.DEAF, self._hear_again).start()
            return status
        return CommandSpec(netstat if name == "netstat" else ifconfig, spec.locked)


def _equal_skews(lab_factory):
    lab = lab_factory([PairSpec(advskew=(10, 10))])
    session = Session(load_inventory(lab.inventory), history=History())
    session.begin("failover pair1 --to peer", ["pair1"])
    return lab, session


def test_the_pair_counts_as_settled_only_once_the_old_master_counted_the_new_ones_adverts(
        lab_factory):
    lab, session = _equal_skews(lab_factory)
    node = lab.node("pair1", "fw1")
    watch = node.registry = _DeafAfterRestore(node.registry, node, 10)
    with session:
        report = failover(session, session.inventory.pair(), to="peer")
        settled = [s for s in session.history.steps(session.run.id) if s["name"] == "settled"]
    assert report.restored and lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
    assert watch.restore_at is not None and watch.hearing_again is not None
    baseline = watch.heard[watch.restore_at]
    polls = watch.heard[watch.restore_at + 1:-1]     # the last netstat is the final read
    assert polls, "no read between the restore and the end"
    # deaf: nothing counted, and the failover kept polling instead of declaring it settled
    deaf = polls[:watch.hearing_again - watch.restore_at - 1]
    assert deaf and all(count == baseline for count in deaf)
    # settled at the first read with an advertisement per vhid counted, not before
    assert polls[-1] - baseline >= 2 and all(count - baseline < 2 for count in polls[:-1])
    assert [s["data"]["heard"] for s in settled] == [polls[-1] - baseline]


def test_a_node_without_netstat_falls_back_to_the_settle_watch(lab_factory):
    lab, session = _equal_skews(lab_factory)
    node = lab.node("pair1", "fw1")
    node.registry = _Without(node.registry, "netstat")
    with session:
        report = failover(session, session.inventory.pair(), to="peer")
        settled = [s for s in session.history.steps(session.run.id) if s["name"] == "settled"]
    assert report.restored and lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
    log = lab.log("pair1", "fw1")
    restore = max(i for i, e in enumerate(log) if "advskew 10" in e.command)
    polls = log[restore + 1:-1]                    # the last exec is the final read + unlock
    assert polls and all("netstat" not in e.command for e in polls)
    watch = session.inventory.pair().failover.settle
    assert [s["data"]["watched"] for s in settled] == [watch]
    assert settled[0]["data"]["polls"] == len(polls)
    # the watch lasts failover.settle: its last poll is at least that long after the restore
    assert polls[-1].time - log[restore].time >= watch - 0.2


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
    assert "unknown" not in str(failed.value)   # the undo saw one MASTER per vhid again
    assert all(len(masters) == 1 for masters in lab.masters("pair1").values()), \
        lab.masters("pair1")
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
