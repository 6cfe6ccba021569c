"""Every refusal of failover's preflight, word for word: its message, its hint and exit 3.

The operator reads these at 3 a.m. and does what the hint says, so each is pinned
exactly (pure: NodeState values built by hand, no network). A few go through the real
CLI against the lab in tests/test_failover_refusals_lab.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from pure_pair import backup, carp, master, node, pair, relayd

from carpctl.core.failover_plan import Plan, preflight
from carpctl.errors import EXIT_REFUSED, RefusedError, outcome
from carpctl.facts import CarpInterface, Pfsync
from carpctl.facts.interfaces import Interface
from carpctl.facts.parked import Parked
from carpctl.facts.state import NodeState
from carpctl.flows.failover import demote_commands

FIX_THE_PAIR = "fix the pair first (carpctl status), or --force if you know why"
LOAD_BALANCED = ("hand it over by hand (carpnodes advskews per vhid), or use one vhid per carp "
                 "interface")
PFSYNC_HINT = ("check hostname.pfsync0 and the sync link, or say `pfsync: false` for the pair "
               "in the inventory")
NO_PFSYNC = Pfsync(present=False, up=False, running=False, syncdev=None, syncpeer=None,
                   maxupd=None, defer=None)


def plan(fw1: NodeState, fw2: NodeState, *, to: str = "peer", method: str = "advskew",
         force: bool = False, the_pair=None) -> Plan:
    the_pair = the_pair or pair()
    return preflight(the_pair, {"fw1": fw1, "fw2": fw2}, to=to, method=method, force=force,
                     settings=the_pair.failover)


def refusal(fw1: NodeState, fw2: NodeState, **kw) -> RefusedError:
    with pytest.raises(RefusedError) as refused:
        plan(fw1, fw2, **kw)
    return refused.value


# (case, fw1, fw2, preflight's keywords, the message, the hint)
REFUSALS = [
    ("target unreachable", master(),
     NodeState(node="fw2", reachable=False, error="connection timed out", reason="timeout"), {},
     "p: fw2 is unreachable (timeout): connection timed out",
     "a failover needs both nodes: bring it back first"),
    ("source unreachable",
     NodeState(node="fw1", reachable=False, error="host key changed", reason="hostkey-changed"),
     backup(), {"to": "fw2"},
     "p: fw1 is unreachable (hostkey-changed): host key changed",
     "a failover needs both nodes: bring it back first"),
    ("carp.allow=0 on the backup", master(), backup(allow=False), {},
     "p: fw2 has net.inet.carp.allow=0: it drops every CARP packet, so both nodes would end "
     "MASTER (split brain)",
     "on fw2: sysctl net.inet.carp.allow=1 (and check /etc/sysctl.conf)"),
    ("carpnodes balancing", master(carp=(carp(0, "MASTER", balancing="ip"),)),
     backup(carp=(carp(0, "BACKUP", advskew=100),)), {},
     "p: fw1 runs load-balanced CARP on carp0 (carpnodes/balancing, several vhids on one "
     "interface): carpctl cannot fail it over or restore it exactly yet", LOAD_BALANCED),
    ("two load-balanced interfaces",
     master(carp=(carp(0, "MASTER", balancing="ip"), carp(1, "MASTER", balancing="arp"))),
     backup(), {},
     "p: fw1 runs load-balanced CARP on carp0, carp1 (carpnodes/balancing, several vhids on "
     "one interface): carpctl cannot fail it over or restore it exactly yet", LOAD_BALANCED),
    ("several vhids on one interface", master(),
     backup(carp=(carp(0, "BACKUP", advskew=100), carp(1, "BACKUP", name="carp0"))), {},
     "p: fw2 runs load-balanced CARP on carp0 (carpnodes/balancing, several vhids on one "
     "interface): carpctl cannot fail it over or restore it exactly yet", LOAD_BALANCED),
    ("--to peer without a single MASTER", node("fw1", "MASTER", "BACKUP"),
     node("fw2", "BACKUP", "MASTER"), {},
     "p: no single node is MASTER on every vhid, so `--to peer` is ambiguous; name the "
     "target: --to fw2", None),
    ("no vhid anywhere", node("fw1"), node("fw2"), {"to": "fw2"},
     "p: no carp interface with a vhid on either node", None),
    ("vhids that differ", master(), node("fw2", "BACKUP", advskew=100), {},
     "p: the nodes' vhids differ (fw1: [1, 2], fw2: [1])", None),
    ("split brain", master(), node("fw2", "MASTER", "BACKUP"), {"to": "fw2"},
     "p: vhid 1 is MASTER on both nodes (split brain)", FIX_THE_PAIR),
    ("a vhid without MASTER", node("fw1", "MASTER", "BACKUP"), backup(), {"to": "fw2"},
     "p: vhid 2 has no MASTER", FIX_THE_PAIR),
    ("a vhid without MASTER on a target MASTER of the rest", backup("fw1"),
     node("fw2", "MASTER", "BACKUP"), {"to": "fw2"}, "p: vhid 2 has no MASTER", FIX_THE_PAIR),
    ("MASTERs split across the nodes", node("fw1", "MASTER", "BACKUP"),
     node("fw2", "BACKUP", "MASTER"), {"to": "fw2"},
     "p: MASTERs are split across the nodes", FIX_THE_PAIR),
    ("target in maintenance", master(), backup(maintenance="since 2024-05-01 by alice"), {},
     "p: fw2 is in maintenance mode", "carpctl maintenance exit p fw2"),
    ("target INIT", master(), node("fw2", "BACKUP", "INIT", advskew=100), {},
     "p: fw2 carp1 is INIT (interface down or carpdev em1 without link): it cannot take over",
     None),
    ("target demoted by 1 (a link down)", master(), backup(demote=1), {},
     "p: fw2 is demoted (it advertises carp demote count 1): it cannot take over (still "
     "booting, pfsync bulk update, or a link down?)", None),
    ("target demoted", master(), backup(demote=32), {},
     "p: fw2 is demoted (it advertises carp demote count 32): it cannot take over (still "
     "booting, pfsync bulk update, or a link down?)", None),
    ("target demoted in another group", master(),
     backup(group_demotes={"carp": 0, "ifstated": 5}, interfaces={
         "carp0": Interface(name="carp0", groups=("carp", "ifstated"), link=True, subnets=())}),
     {},
     "p: fw2 is demoted (it advertises carp demote count 5): it cannot take over (still "
     "booting, pfsync bulk update, or a link down?)", None),
    ("pfsync down on the target", master(), backup(pfsync=NO_PFSYNC), {},
     "p: pfsync is not up on fw2: connections would not survive the failover", PFSYNC_HINT),
    ("pfsync without syncdev on the source",
     master(pfsync=replace(NO_PFSYNC, present=True, up=True, running=True)), backup(), {},
     "p: pfsync is not up on fw1: connections would not survive the failover", PFSYNC_HINT),
    ("pf states out of step", master(pf_states=5000), backup(pf_states=40), {},
     "p: pf state counts differ (fw1 5000, fw2 40): pfsync is not keeping the nodes in step",
     None),
    ("relayd on the source only", master(relayd=relayd()), backup(relayd=relayd(False)), {},
     "p: relayd runs on fw1 but not on fw2", "start it first: rcctl start relayd on fw2"),
    ("relayd unknown on the target", master(relayd=relayd()), backup(relayd=None), {},
     "p: relayd runs on fw1 but not on fw2", "start it first: rcctl start relayd on fw2"),
    ("carpdemote beyond 255", master(demote=206), backup(), {"method": "carpdemote"},
     "p: fw1's carp demote counter (206) cannot rise by 50 (the counter stops at 255)", None),
    ("advskew with preempt off on the target", master(), backup(preempt=False), {},
     "p: fw2 has net.inet.carp.preempt=0: raising fw1's advskew moves nothing (a BACKUP takes "
     "over from a slower MASTER only with preempt)",
     "use --method carpdemote, which OpenBSD honours regardless of preempt"),
    ("advskew that would move nothing", master(), backup(advskew=254), {},
     "p: vhid 1: fw2 (advbase 1, advskew 254) would not be faster than fw1 at advskew 254: "
     "nothing would move", "use --method carpdemote"),
]


@pytest.mark.parametrize(("fw1", "fw2", "kw", "message", "hint"),
                         [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
def test_each_refusal_says_what_and_what_to_do_and_exits_3(fw1, fw2, kw, message, hint):
    refused = refusal(fw1, fw2, **kw)
    assert (refused.message, refused.hint) == (message, hint)
    assert outcome(refused) == (EXIT_REFUSED, message)


def test_a_force_lets_split_brain_and_a_vhid_without_master_through():
    assert plan(master(), node("fw2", "MASTER", "BACKUP"), to="fw2", force=True).source == "fw1"
    assert plan(node("fw1", "MASTER", "BACKUP"), backup(), to="fw2", force=True).target == "fw2"
    assert plan(node("fw1", "MASTER", "BACKUP"), node("fw2", "BACKUP", "MASTER"), to="fw2",
                force=True).source == "fw1"


@pytest.mark.parametrize(("a", "b"), [(100, 90), (90, 100), (0, 10), (1000, 900), (900, 1000)])
def test_pf_state_counts_within_ten_states_or_ten_percent_are_in_step(a, b):
    assert plan(master(pf_states=a), backup(pf_states=b)).target == "fw2"


@pytest.mark.parametrize(("a", "b"), [(0, 11), (11, 0), (1000, 899), (899, 1000)])
def test_pf_state_counts_just_past_the_margin_are_refused(a, b):
    assert "pf state counts differ" in refusal(master(pf_states=a), backup(pf_states=b)).message


def test_a_pair_without_pfsync_is_not_refused_for_pfsync_or_state_counts():
    no_sync = pair(pfsync=False)
    assert plan(master(pfsync=NO_PFSYNC, pf_states=5000), backup(pfsync=NO_PFSYNC, pf_states=0),
                the_pair=no_sync).target == "fw2"


def test_relayd_stopped_on_both_nodes_or_running_only_on_the_target_is_not_refused():
    assert plan(master(relayd=relayd(False)), backup(relayd=relayd(False))).target == "fw2"
    assert plan(master(relayd=relayd(False)), backup(relayd=relayd())).target == "fw2"
    assert plan(master(relayd=None), backup(relayd=None)).target == "fw2"


def test_carpdemote_up_to_exactly_255_is_allowed():
    assert plan(master(demote=205), backup(), method="carpdemote").amount == 50


def test_the_counter_limit_is_checked_with_the_inventorys_amount():
    assert plan(master(demote=250), backup(), method="carpdemote",
                the_pair=pair(demote=5)).amount == 5
    refused = refusal(master(demote=250), backup(), method="carpdemote", the_pair=pair(demote=6))
    assert refused.message == ("p: fw1's carp demote counter (250) cannot rise by 6 (the "
                               "counter stops at 255)")


def test_a_source_that_is_demoted_too_is_not_a_demoted_target():
    """fw2 is not demoted: fw1's own counter is its own business (here: the one to raise)."""
    assert plan(master(demote=3), backup(), method="carpdemote").source == "fw1"


def test_the_plan_carries_the_inventorys_demote_amount_and_advskew():
    custom = pair(demote=7, advskew=200)
    made = plan(master(), backup(), method="carpdemote", the_pair=custom)
    assert (made.amount, made.advskew) == (7, 200)
    assert [str(c) for c in demote_commands(made)] == [str(c) for c in demote_commands(
        replace(made, amount=7))]
    assert "carpdemote 7" in str(demote_commands(made)[0])
    assert "advskew 200" in str(demote_commands(replace(made, method="advskew"))[0])


def test_a_target_parked_by_carpdemote_is_not_refused_as_demoted():
    parked = Parked(method="carpdemote", amount=50)
    made = plan(master(advskew=100), backup(advskew=0, demote=50, parked=parked))
    assert made.unpark == parked and made.unpark_is_enough


def test_a_target_demoted_beyond_its_parking_is_refused_with_its_whole_count():
    refused = refusal(master(), backup(demote=51, parked=Parked(method="carpdemote", amount=50)))
    assert refused.message.startswith("p: fw2 is demoted (it advertises carp demote count 51)")


def test_a_target_already_master_everywhere_is_nothing_to_do_even_when_it_is_in_maintenance():
    made = plan(master(maintenance="yes"), backup(), to="fw1")
    assert made.already and (made.source, made.target) == ("fw2", "fw1")


def test_a_relay_on_either_node_is_announced_in_the_plan():
    assert plan(master(relayd=relayd(relays=True)), backup(relayd=relayd())).relays
    assert not plan(master(relayd=relayd()), backup(relayd=relayd())).relays


def without_vhid(name: str) -> CarpInterface:
    """A carp interface with no vhid configured yet: listed by ifconfig, part of nothing."""
    return replace(carp(0, "INIT", name=name), vhid=None)


def test_a_carp_interface_without_vhid_listed_first_does_not_hide_the_others():
    fw1 = master(carp=(without_vhid("carp9"), *master().carp))
    refused = refusal(fw1, backup(advskew=254))
    assert refused.message.startswith("p: vhid 1: fw2 (advbase 1, advskew 254) would not be")


def test_the_plan_names_its_pair():
    assert plan(master(), backup()).pair == "p"


def test_a_target_parked_by_advskew_is_judged_at_its_original_advskews():
    """Undoing the parking is not enough here (equal advskews), but raising the source's
    advskew then moves everything: the target's own 254 is about to go."""
    parked = Parked(method="advskew", originals={"carp0": 0, "carp1": 0}, parked_skew=254)
    made = plan(master(), backup(advskew=254, parked=parked))
    assert made.unpark == parked and not made.unpark_is_enough


def test_a_source_already_advertising_a_demotion_in_another_group_moves_by_it():
    demoted = dict(group_demotes={"carp": 0, "ifstated": 5}, interfaces={
        name: Interface(name=name, groups=("carp", "ifstated"), link=True, subnets=())
        for name in ("carp0", "carp1")})
    assert plan(master(**demoted), backup(advskew=254)).target == "fw2"


def test_an_unprinted_target_advskew_is_0():
    low = carp(0, "BACKUP", advskew=None), carp(1, "BACKUP", advskew=None)
    assert plan(master(), backup(carp=low), the_pair=pair(advskew=1)).advskew == 1
