"""What travels between the nodes: CARP's counters, the shared `pass`, and pf on CARP/pfsync.

Over real SSH against the lab; formats from usr.bin/netstat/inet.c carp_stats(),
counting points from sys/netinet/ip_carp.c (carp_proto_input, carp_send_ad).
"""

from __future__ import annotations

import io
import re

from sshclient import LabClient, sh, wait_until

from carpctl_lab.carp.stats import CarpStats
from carpctl_lab.openbsd.netstat import carp_stats

SPLIT = {1: ["fw1", "fw2"], 2: ["fw1", "fw2"]}
MASTER_DOWN_FW2 = 4.2 + 2.0   # 3 x 1.390625 s, and slack for a loaded machine


def counters(lab, node: str) -> dict[str, int]:
    """`netstat -s -p carp` as {line text without its number: number}."""
    result = sh(lab, "netstat -s -p carp", node=node)
    assert result.status == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "carp:"
    parsed = {}
    for line in lines[1:]:
        number, _, text = line.strip().partition(" ")
        parsed[re.sub(r"^(packet|transition)s? ", r"\1 ", text)] = int(number)
    return parsed


def upload(lab, node: str, path: str, text: str) -> None:
    with LabClient(lab, node=node) as client, client.sftp() as sftp:
        sftp.putfo(io.BytesIO(text.encode()), path)


# -- netstat -s -p carp ------------------------------------------------------------------------
def test_netstat_prints_every_carp_counter_in_the_kernels_order_with_plurals():
    stats = CarpStats(ipackets=1, opackets=12, badauth=1, preempt=1)
    assert carp_stats(stats, sflag=1) == (
        "carp:\n"
        "\t1 packet received (IPv4)\n"
        "\t0 packets received (IPv6)\n"
        "\t\t0 packets discarded for bad interface\n"
        "\t\t0 packets discarded for wrong TTL\n"
        "\t\t0 packets shorter than header\n"
        "\t\t0 discarded for bad checksums\n"
        "\t\t0 discarded packets with a bad version\n"
        "\t\t0 discarded because packet too short\n"
        "\t\t1 discarded for bad authentication\n"
        "\t\t0 discarded for unknown vhid\n"
        "\t\t0 discarded because of a bad address list\n"
        "\t12 packets sent (IPv4)\n"
        "\t0 packets sent (IPv6)\n"
        "\t\t0 send failed due to mbuf memory error\n"
        "\t1 transition to master\n")


def test_netstat_ss_prints_only_the_counters_that_moved(lab):
    result = sh(lab, "netstat -ss -p carp", node="fw2")
    texts = [line.strip().split(" ", 1)[1] for line in result.out.splitlines()[1:]]
    assert result.status == 0
    assert texts == ["packets received (IPv4)"], texts


def test_an_unknown_protocol_is_refused_like_netstat(lab):
    result = sh(lab, "netstat -s -p nosuch")
    assert (result.status, result.err) == (1, "netstat: nosuch: unknown or uninstrumented protocol\n")


def test_the_backup_counts_each_advertisement_of_the_master_when_it_arrives(lab):
    before_sent = counters(lab, "fw1")["packet sent (IPv4)"]
    before_heard = counters(lab, "fw2")["packet received (IPv4)"]
    assert wait_until(lambda: counters(lab, "fw2")["packet received (IPv4)"]
                      >= before_heard + 2, timeout=5)
    assert counters(lab, "fw1")["packet sent (IPv4)"] >= before_sent + 1
    assert counters(lab, "fw1")["packet received (IPv4)"] == 0   # fw2 never advertises


def test_the_old_master_counts_the_new_masters_advertisements_after_a_handover(lab):
    assert counters(lab, "fw1")["packet received (IPv4)"] == 0
    assert sh(lab, "ifconfig carp0 advskew 254").status == 0
    assert wait_until(lambda: lab.masters("pair1")[1] == ["fw2"], timeout=5)
    after = counters(lab, "fw1")
    assert after["packet received (IPv4)"] >= 1
    assert counters(lab, "fw2")["transition to master"] == 1


def test_no_carrier_on_the_carpdev_means_nothing_is_received_there(lab):
    lab.link("pair1", "fw2", "em0", False)
    lab.link("pair1", "fw2", "em1", False)
    frozen = counters(lab, "fw2")["packet received (IPv4)"]
    assert counters(lab, "fw1")["packet received (IPv4)"] == 0
    assert not wait_until(lambda: counters(lab, "fw2")["packet received (IPv4)"] > frozen,
                          timeout=1.5)


def test_damaged_advertisements_are_counted_received_and_then_dropped_by_their_check(lab):
    lab.carp_garbage("pair1", "fw2", "em0", "ttl", count=2)
    lab.carp_garbage("pair1", "fw2", "em0", "checksum")
    seen = counters(lab, "fw2")
    assert (seen["packet discarded for wrong TTL"], seen["discarded for bad checksum"]) == (2, 1)


def test_with_carp_allow_off_packets_are_still_counted_received_but_go_no_further(lab):
    lab.allow("pair1", "fw2", False)
    assert wait_until(lambda: lab.masters("pair1") == SPLIT, timeout=MASTER_DOWN_FW2)
    seen = counters(lab, "fw2")
    assert seen["packet received (IPv4)"] > 0
    assert seen["discarded for bad authentication"] == seen["discarded for unknown vhid"] == 0


# -- carp pass ------------------------------------------------------------------------------------
def test_a_pass_the_peer_does_not_share_splits_the_pair_and_counts_bad_authentication(lab):
    lab.carp_pass("pair1", "fw2", "not-the-lab-secret")
    assert wait_until(lambda: lab.masters("pair1") == SPLIT, timeout=MASTER_DOWN_FW2)
    assert counters(lab, "fw2")["discarded for bad authentication"] >= 1
    assert wait_until(lambda: counters(lab, "fw1")["discarded for bad authentication"] >= 1,
                      timeout=3)


def test_setting_the_same_pass_again_over_ssh_heals_the_split(lab):
    lab.carp_pass("pair1", "fw2", "other")
    assert wait_until(lambda: lab.masters("pair1") == SPLIT, timeout=MASTER_DOWN_FW2)
    line = "ifconfig carp0 pass lab-secret && ifconfig carp1 pass lab-secret"
    assert sh(lab, line, node="fw2").status == 0
    assert wait_until(lambda: lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}, timeout=4)


def test_ifconfig_never_prints_the_pass_and_needs_root_to_set_it(lab):
    assert sh(lab, "ifconfig carp0 pass hunter2").status == 0
    assert "hunter2" not in sh(lab, "ifconfig carp0").out
    assert sh(lab, "ifconfig carp0 pass x", user="admin").err == \
        "ifconfig: carp0: SIOCSVH: Operation not permitted\n"


def test_a_persistent_pass_survives_a_reboot(lab):
    lab.carp_pass("pair1", "fw2", "other", persistent=True)
    assert "pass other" in lab.node("pair1", "fw2").fs.read_text("/etc/hostname.carp0")
    lab.reboot("pair1", "fw2", downtime=0.1)
    assert wait_until(lambda: lab.masters("pair1") == SPLIT, timeout=MASTER_DOWN_FW2 + 2)


# -- pf decides CARP and pfsync ------------------------------------------------------------------
BLOCK_CARP_EM0 = """\
set skip on lo
pass
block quick on em0 proto carp
"""
BLOCK_PFSYNC_IN = """\
set skip on lo
block in on em2 proto pfsync
pass out
"""


def test_rules_that_block_carp_on_a_carpdev_split_that_vhid_only(lab):
    upload(lab, "fw2", "/etc/pf.test", BLOCK_CARP_EM0)
    heard = counters(lab, "fw2")["packet received (IPv4)"]
    assert sh(lab, "pfctl -f /etc/pf.test", node="fw2").status == 0
    assert wait_until(lambda: lab.masters("pair1")[1] == ["fw1", "fw2"], timeout=MASTER_DOWN_FW2)
    assert lab.masters("pair1")[2] == ["fw1"]
    assert counters(lab, "fw1")["packet received (IPv4)"] == 0   # fw2's ads never leave em0
    # only em1's advertisements still arrive: about one a second, not two
    assert counters(lab, "fw2")["packet received (IPv4)"] - heard < 2 * MASTER_DOWN_FW2


def test_the_source_materials_rules_pass_carp_and_pf_disabled_passes_everything(lab):
    assert sh(lab, "pfctl -f /etc/pf.conf", node="fw2").status == 0
    upload(lab, "fw1", "/etc/pf.test", BLOCK_CARP_EM0)
    assert sh(lab, "pfctl -f /etc/pf.test && pfctl -d").status == 0
    assert not wait_until(lambda: len(lab.masters("pair1")[1]) > 1, timeout=MASTER_DOWN_FW2)


def test_rules_that_block_pfsync_on_the_syncdev_stop_the_state_counts_following(lab):
    def states(node: str) -> int:
        out = sh(lab, "pfctl -si", node=node).out
        return int(re.search(r"current entries\s+(\d+)", out).group(1))
    assert states("fw1") == states("fw2") > 0
    upload(lab, "fw2", "/etc/pf.test", BLOCK_PFSYNC_IN)
    assert sh(lab, "pfctl -f /etc/pf.test", node="fw2").status == 0
    assert states("fw1") > 0 and states("fw2") == 0
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}   # carp still passes
