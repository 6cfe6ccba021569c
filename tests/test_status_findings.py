"""`carpctl status`'s findings from carp.assess, word for word (pure: states built by hand).

A finding is what an operator reads to know what is wrong and where: its code (the
verdict and the exit code), its message and its node are pinned exactly here, one
fault at a time. test_carp_verdicts.py has the verdicts' ranking.
"""

from __future__ import annotations

from dataclasses import replace

from pure_pair import backup, carp, master, node, relayd

from carpctl.core.carp import Finding, assess, one_master_each
from carpctl.facts import CarpSysctl, Pfsync
from carpctl.facts.carpconf import CarpConfig
from carpctl.facts.interfaces import Interface
from carpctl.facts.netstat import CarpStats
from carpctl.facts.relayctl import RelaydEntry, RelaydSummary
from carpctl.facts.state import NodeState

DOWN = NodeState(node="fw2", reachable=False, error="connection refused", reason="refused")


def findings(*states: NodeState, **kw) -> list[Finding]:
    return list(assess("p", list(states), **kw).findings)


def test_an_unreachable_node_is_named_with_its_reason():
    assert findings(master(), DOWN) == [
        Finding("unreachable", "fw2 unreachable (refused): connection refused", "fw2")]


def test_no_carp_interface_anywhere_is_no_master():
    assert findings(node("fw1"), node("fw2")) == [
        Finding("no-master", "no carp interface with a vhid on any node")]


def test_split_brain_names_the_vhid_the_nodes_and_every_likely_cause():
    deaf = CarpSysctl(allow=False, preempt=True, log=2)
    found = findings(master(sysctl=deaf), node("fw2", "MASTER", "BACKUP", advskew=100,
                                              carp_stats=CarpStats(received=0)))
    assert found[0] == Finding("split-brain", "vhid 1: MASTER on both fw1 and fw2 (likely: fw1 "
                               "has net.inet.carp.allow=0; fw2 hears no advertisement at all (pf "
                               "blocking carp, or no link?))")


def test_split_brain_without_a_known_cause_says_no_likely_cause():
    assert findings(master(), node("fw2", "MASTER", "BACKUP", advskew=100))[0] == Finding(
        "split-brain", "vhid 1: MASTER on both fw1 and fw2")


def test_a_vhid_without_master_says_which_node_may_be_its_master_unseen():
    assert findings(backup("fw1"), DOWN) == [
        Finding("unreachable", "fw2 unreachable (refused): connection refused", "fw2"),
        Finding("no-master", "vhid 1: no MASTER seen (fw1 BACKUP; fw2 not seen, may be MASTER)"),
        Finding("no-master", "vhid 2: no MASTER seen (fw1 BACKUP; fw2 not seen, may be MASTER)")]


def test_an_init_interface_says_whether_it_is_down_or_has_no_link():
    down = node("fw2", "BACKUP", "INIT", advskew=100)
    no_link = replace(down, carp=(down.carp[0], replace(down.carp[1], up=True)))
    assert Finding("carp-init", "fw2 carp1 is INIT (interface down)", "fw2") in findings(
        master(), down)
    assert Finding("carp-init", "fw2 carp1 is INIT (carpdev em1 has no link?)", "fw2") in \
        findings(master(), no_link)


def test_maintenance_is_named_on_its_node():
    assert findings(master(), backup(maintenance="yes")) == [
        Finding("maintenance", "fw2 is in maintenance mode", "fw2")]


def test_a_demotion_is_cut_into_its_known_parts():
    demoted = backup(demote=33, group_demotes={"carp": 33}, interfaces={
        "em2": Interface(name="em2", groups=(), link=False, subnets=()),
        "carp0": Interface(name="carp0", groups=("carp",), link=True, subnets=()),
        "carp1": Interface(name="carp1", groups=("carp",), link=True, subnets=())})
    assert Finding("demoted", "fw2 carp demote counter is 33 (32 pfsync bulk update, 1 em2 "
                   "without link)", "fw2") in findings(master(), demoted)


def test_preempt_off_says_how_to_fix_it_now_and_at_boot():
    off = CarpSysctl(allow=True, preempt=False, log=2)
    assert findings(master(), backup(sysctl=off, sysctl_conf={})) == [
        Finding("preempt-off", "fw2 has net.inet.carp.preempt=0: set net.inet.carp.preempt=1 in "
                "/etc/sysctl.conf and run `sysctl net.inet.carp.preempt=1`", "fw2")]
    assert findings(master(), backup(sysctl=off, sysctl_conf={"net.inet.carp.preempt": "1"})) \
        == [Finding("preempt-off", "fw2 has net.inet.carp.preempt=0: run `sysctl "
                    "net.inet.carp.preempt=1` (/etc/sysctl.conf says 1)", "fw2")]


def test_pfsync_down_and_a_syncdev_without_link_are_named_on_their_node():
    nothing = Pfsync(present=False, up=False, running=False, syncdev=None, syncpeer=None,
                     maxupd=None, defer=None)
    assert findings(master(), backup(pfsync=nothing)) == [
        Finding("pfsync-down", "fw2 pfsync0 is not up with a syncdev", "fw2")]
    cut = backup(interfaces={"em2": Interface(name="em2", groups=(), link=False, subnets=())})
    assert findings(master(), cut) == [
        Finding("pfsync-down", "fw2 pfsync's syncdev em2 has no link: pf states are not "
                "synced; check its cable and switch port (`ifconfig em2`)", "fw2")]


def test_a_syncdev_with_link_or_unknown_link_is_no_finding():
    for link in (True, None):
        fine = backup(interfaces={"em2": Interface(name="em2", groups=(), link=link, subnets=())})
        assert findings(master(), fine) == []
    assert findings(master(), backup(pfsync=None, interfaces={
        "em2": Interface(name="em2", groups=(), link=False, subnets=())})) == []


def test_a_pair_without_pfsync_drops_only_the_pfsync_findings():
    cut = backup(maintenance="yes", interfaces={
        "em2": Interface(name="em2", groups=(), link=False, subnets=())})
    assert findings(master(), cut, pfsync=False) == [
        Finding("maintenance", "fw2 is in maintenance mode", "fw2")]


def test_pf_state_counts_out_of_step_are_a_pair_finding():
    assert findings(master(pf_states=5000), backup(pf_states=40)) == [
        Finding("pfsync-down", "pf state counts differ (fw1 5000, fw2 40): pfsync is not "
                "keeping the nodes in step")]


def test_relayd_enabled_but_stopped_on_the_master_is_relayd_down():
    assert findings(master(relayd_enabled=True), backup(relayd_enabled=True)) == [
        Finding("relayd-down", "relayd is not running on the MASTER fw1", "fw1")]


def test_hosts_relayd_sees_down_are_listed():
    hosts = RelaydSummary(running=True, entries=tuple(
        RelaydEntry(id=i, type="host", name=f"10.0.0.{i}", availability=0.0, status="down")
        for i in (1, 2)), host_checks=relayd().host_checks)
    assert Finding("webhosts-down", "fw1 relayd sees hosts down: 10.0.0.1, 10.0.0.2", "fw1") in \
        findings(master(relayd=hosts), backup(relayd=relayd()))


def test_drift_is_checked_for_every_readable_file():
    expected = {"fw1": {"/etc/relayd.conf": "aa", "/etc/pf.conf": "bb", "/etc/x": "cc"}}
    drifted = master(files={"/etc/pf.conf": "00", "/etc/x": None})   # relayd.conf unreadable
    assert findings(drifted, backup(), expected_files=expected) == [
        Finding("drift", "fw1 /etc/pf.conf differs from the inventory", "fw1"),
        Finding("drift", "fw1 /etc/x is missing", "fw1")]


def test_files_put_back_at_boot_are_explained_only_beside_their_drift():
    restored = master(files={"/etc/pf.conf": "00"}, boot_restored="deploy 12 at 03:00")
    assert findings(restored, backup(), expected_files={"fw1": {"/etc/pf.conf": "bb"}}) == [
        Finding("drift", "fw1 /etc/pf.conf differs from the inventory", "fw1"),
        Finding("restored-at-boot", "fw1 put back its previous files at boot (deploy 12 at "
                "03:00): it went down before that deploy was confirmed; deploy again once the "
                "node is healthy", "fw1")]
    in_step = replace(restored, files={"/etc/pf.conf": "bb"})
    assert findings(in_step, backup(), expected_files={"fw1": {"/etc/pf.conf": "bb"}}) == []


def test_an_unparsed_output_is_named_with_its_node():
    assert findings(master(problems=("pfctl -si: cannot parse",)), backup()) == [
        Finding("unparsed", "fw1: pfctl -si: cannot parse", "fw1")]


def test_runtime_drift_names_the_pair_in_its_restore_command():
    config = {"carp0": CarpConfig(name="carp0", vhid=1, advskew=0)}
    assert findings(master(advskew=254, carp_config=config), backup())[0] == Finding(
        "runtime-drift", "fw1 carp0 runs advskew 254 but /etc/hostname.carp0 says 0: run "
        "`ifconfig carp0 advskew 0` on fw1 (or `carpctl restore p fw1`)", "fw1")


def test_the_verdict_names_its_pair_and_warns_only_with_both_nodes_seen():
    equal = assess("p", [master(advskew=100), backup(advskew=100)])
    assert equal.pair == "p" and equal.warnings
    assert assess("p", [master(advskew=100), DOWN]).warnings == ()


def test_a_carp_interface_without_vhid_is_not_judged():
    blank = replace(carp(0, "INIT", name="carp9"), vhid=None)
    assert findings(master(carp=(*master().carp, blank)), backup()) == []


def test_a_disabled_host_is_warned_about_only_when_both_nodes_are_seen():
    disabled = RelaydSummary(running=True, entries=(
        RelaydEntry(id=3, type="host", name="10.0.0.3", availability=None, status="disabled"),),
        host_checks=relayd().host_checks)
    assert assess("p", [master(relayd=disabled), backup()]).warnings
    assert assess("p", [master(relayd=disabled), DOWN]).warnings == ()


def test_one_master_each_is_exactly_one_master_on_every_vhid_seen():
    assert one_master_each([master(), backup()])
    assert one_master_each(iter([node("fw1", "MASTER", "BACKUP"), node("fw2", "BACKUP", "MASTER")]))
    assert not one_master_each([master(), node("fw2", "MASTER", "BACKUP")])
    assert not one_master_each([backup("fw1"), backup()])
    assert not one_master_each([node("fw1"), node("fw2")])
    assert one_master_each([master(), node("fw2", "BACKUP")])   # vhid 2 seen on fw1 only
