"""The source material's failover procedure by hand, over SSH, with CARP's real timing.

advbase 1 everywhere: fw1 runs at advskew 0 (interval 1 s), fw2 at 100 (1.39 s,
master-down 4.17 s). Windows come from openbsd-reference.md section 2.7; each is
measured from just before the command that starts it, by polling the lab's truth.
"""

from __future__ import annotations

import re
import time

from sshclient import LabClient, sh, wait_until

from carpctl_lab.image import PairSpec
from carpctl_lab.lab import Lab

BOTH = {1: ["fw2"], 2: ["fw2"]}
HOME = {1: ["fw1"], 2: ["fw1"]}


def carp_states(lab, node: str, pair: str = "pair1") -> dict[str, str]:
    """carpN -> state, as `ifconfig carp` prints it over SSH."""
    out = sh(lab, "ifconfig carp", pair, node).out
    states, name = {}, None
    for line in out.splitlines():
        if not line.startswith("\t"):
            name = line.split(":", 1)[0]
        elif line.startswith("\tcarp: "):
            states[name] = line.split()[1]
    return states


def advskew_of(lab, node: str, ifname: str = "carp0") -> int:
    match = re.search(r"advskew (\d+)", sh(lab, f"ifconfig {ifname}", node=node).out)
    assert match, "no carp line"
    return int(match.group(1))


def demote_of(client: LabClient) -> int:
    return int(client.exec("ifconfig -g carp").out.split()[-1])


def seconds_until(predicate, timeout: float, start: float) -> float | None:
    """Seconds from `start` until `predicate()` held, or None if not within `timeout`."""
    if wait_until(predicate, timeout - (time.monotonic() - start), step=0.01):
        return time.monotonic() - start
    return None


def holds_for(predicate, seconds: float) -> bool:
    """Whether `predicate()` stays true, polled, for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not predicate():
            return False
        time.sleep(0.05)
    return bool(predicate())


def masters_are(lab, wanted, pair: str = "pair1"):
    return lambda: lab.masters(pair) == wanted


def hand_over_quickly(lab, fw1: LabClient) -> None:
    """fw1 at advskew 254 and BACKUP, without waiting for its next advertisement:
    a demotion moves both vhids at once, undoing it leaves fw1 the slower node."""
    assert fw1.exec("ifconfig carp0 advskew 254; ifconfig carp1 advskew 254; "
                    "ifconfig -g carp carpdemote 1; ifconfig -g carp -carpdemote 1").status == 0
    assert wait_until(masters_are(lab, BOTH), 0.5)


def test_advskew_254_on_the_master_moves_master_to_the_peer(lab):
    assert lab.masters("pair1") == HOME
    with LabClient(lab) as fw1:
        start = time.monotonic()
        result = fw1.exec("ifconfig carp0 advskew 254 && ifconfig carp1 advskew 254")
        assert (result.status, result.out, result.err) == (0, "", "")
        took = seconds_until(masters_are(lab, BOTH), 4.0, start)
    # fw1's next advertisement, 1.99 s after the command, is the one fw2 preempts on
    assert took is not None and 1.5 <= took <= 3.0, took
    assert carp_states(lab, "fw2") == {"carp0": "MASTER", "carp1": "MASTER"}
    assert carp_states(lab, "fw1") == {"carp0": "BACKUP", "carp1": "BACKUP"}


def test_restoring_a_lower_advskew_pulls_master_back_when_preempt_is_on(lab):
    with LabClient(lab) as fw1:
        hand_over_quickly(lab, fw1)
        assert holds_for(masters_are(lab, BOTH), 0.5)
        start = time.monotonic()
        fw1.exec("ifconfig carp0 advskew 0; ifconfig carp1 advskew 0")
        took = seconds_until(masters_are(lab, HOME), 3.0, start)
    # at fw2's next advertisement, at most one of its intervals (1.39 s) later
    assert took is not None and took <= 1.6, took
    assert carp_states(lab, "fw1") == {"carp0": "MASTER", "carp1": "MASTER"}


def test_restoring_the_original_advskew_keeps_the_node_backup_when_the_skews_are_equal(tmp_path):
    with Lab(tmp_path / "lab", pairs=[PairSpec(advskew=(100, 100))]) as lab:
        assert lab.masters("pair1") == HOME
        with LabClient(lab) as fw1:
            hand_over_quickly(lab, fw1)
            fw1.exec("ifconfig carp0 advskew 100; ifconfig carp1 advskew 100")
            # two of fw2's advertisements (1.39 s apart): equal is not "strictly slower"
            assert holds_for(masters_are(lab, BOTH), 3.0)
        assert carp_states(lab, "fw1") == {"carp0": "BACKUP", "carp1": "BACKUP"}
        assert advskew_of(lab, "fw1") == 100


def test_nothing_moves_when_the_peer_has_preempt_off(tmp_path):
    with Lab(tmp_path / "lab", pairs=[PairSpec(preempt=(True, False))]) as lab:
        assert sh(lab, "sysctl net.inet.carp.preempt", node="fw2").out == \
            "net.inet.carp.preempt=0\n"
        with LabClient(lab) as fw1:
            fw1.exec("ifconfig carp0 advskew 254; ifconfig carp1 advskew 254")
            # past fw1's next advertisement (1.99 s) and the one after: fw2 never takes over
            assert holds_for(masters_are(lab, HOME), 3.0)
        assert carp_states(lab, "fw2") == {"carp0": "BACKUP", "carp1": "BACKUP"}


def test_carpdemote_moves_every_vhid_at_once_even_without_preempt_and_undoing_it_gives_back(
        tmp_path):
    with Lab(tmp_path / "lab", pairs=[PairSpec(preempt=(True, False))]) as lab:
        with LabClient(lab) as fw1:
            start = time.monotonic()
            assert fw1.exec("ifconfig -g carp carpdemote 50").status == 0
            took = seconds_until(masters_are(lab, BOTH), 1.0, start)
            assert took is not None and took < 0.3, took
            assert demote_of(fw1) == 50
            assert fw1.exec("ifconfig -g carp -carpdemote 50").status == 0
            assert demote_of(fw1) == 0
            # fw1 (preempt on, faster) takes both back at fw2's next advertisement
            start = time.monotonic()
            took = seconds_until(masters_are(lab, HOME), 2.0, start)
        assert took is not None and took <= 1.5, took


def test_a_crashed_master_is_replaced_after_about_three_of_the_backups_intervals(lab):
    start = time.monotonic()
    lab.crash("pair1", "fw1")
    took = seconds_until(masters_are(lab, BOTH), 5.0, start)
    # 3 x 1.39 s after fw1's last advertisement: 3.17 to 4.17 s after the crash
    assert took is not None and 3.0 <= took <= 4.4, took
    assert carp_states(lab, "fw2") == {"carp0": "MASTER", "carp1": "MASTER"}


def test_a_clean_reboot_hands_over_at_once_and_loses_the_runtime_advskew(lab):
    with LabClient(lab) as fw1:
        fw1.exec("ifconfig carp0 advskew 200; ifconfig carp1 advskew 200")
        start = time.monotonic()
        assert fw1.exec("reboot").status == -1          # the session is cut
    took = seconds_until(masters_are(lab, BOTH), 1.0, start)
    assert took is not None and took < 0.3, took       # bow-out: no waiting for timers
    # back after the reboot downtime; sshd answers while rc still demotes by 128
    client = wait_until(lambda: _connect(lab), 4.0, step=0.1)
    assert client, "fw1 did not come back"
    with client:
        assert demote_of(client) >= 128
        assert "advskew 0" in client.exec("ifconfig carp0").out
        assert lab.masters("pair1") == BOTH
        # rc ends (-128), pfsync's bulk update ends (-32): preempt takes MASTER back
        assert wait_until(lambda: demote_of(client) == 0, 3.0)
    assert wait_until(masters_are(lab, HOME), 2.0)


def _connect(lab) -> LabClient | None:
    try:
        return LabClient(lab, timeout=0.5)
    except Exception:
        return None


def test_ifconfig_down_on_the_master_bows_out_and_the_peer_takes_over_at_once(lab):
    with LabClient(lab) as fw1:
        start = time.monotonic()
        fw1.exec("ifconfig carp0 down")
        took = seconds_until(masters_are(lab, {1: ["fw2"], 2: ["fw1"]}), 1.0, start)
        assert took is not None and took < 0.3, took
        out = fw1.exec("ifconfig carp0").out
    assert "flags=8802<BROADCAST,SIMPLEX,MULTICAST>" in out and "carp: INIT" in out
    assert "status: invalid" in out


def test_a_dead_link_demotes_the_node_and_moves_the_other_vhids_at_once(lab):
    start = time.monotonic()
    lab.link("pair1", "fw1", "em1", False)                # carp1's carpdev
    took = seconds_until(lambda: lab.masters("pair1")[1] == ["fw2"], 1.0, start)
    assert took is not None and took < 0.3, took       # the demoted MASTER advertised
    with LabClient(lab) as fw1:
        assert demote_of(fw1) == 1
        assert "carp: INIT carpdev em1" in fw1.exec("ifconfig carp1").out
        assert "status: no carrier" in fw1.exec("ifconfig em1").out
    # vhid 2 itself moves only when fw2's master-down timer (4.17 s after fw1's last
    # advertisement for it, sent up to 1 s before the link died) runs out
    took = seconds_until(masters_are(lab, BOTH), 5.0, start)
    assert took is not None and 3.1 <= took <= 4.5, took
    lab.link("pair1", "fw1", "em1", True)
    with LabClient(lab) as fw1:
        assert demote_of(fw1) == 0
    assert wait_until(masters_are(lab, HOME), 2.0)


def test_pf_state_counts_stay_in_step_across_the_pair_while_pfsync_is_up(lab):
    def entries(node: str) -> int:
        out = sh(lab, "pfctl -si", node=node).out
        return int(re.search(r"current entries\s+(\d+)", out).group(1))

    assert entries("fw1") == entries("fw2") > 0
    assert sh(lab, "pfctl -ss | wc -l", node="fw2").out.strip() == str(entries("fw2"))
    lab.link("pair1", "fw2", "em2", False)                # the sync link, on the BACKUP
    assert entries("fw2") == 0 < entries("fw1")
    with LabClient(lab, node="fw2") as fw2:
        assert demote_of(fw2) == 1                         # pfsync's link demotion
    assert lab.masters("pair1") == HOME                    # a demoted BACKUP moves nothing
    lab.link("pair1", "fw2", "em2", True)
    assert entries("fw1") == entries("fw2") > 0
