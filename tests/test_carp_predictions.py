"""carpctl's CARP predictions, each rule of carp_proto_input_c at its boundary.

openbsd-reference.md §2.1-2.2 and the §2.6 decision table, checked against
sys/netinet/ip_carp.c 1.370: a BACKUP compares the raw (advbase s, advskew*10^6/256 us)
pairs, takes over by rule 1 (preempt, sender strictly slower, sender's demote not lower),
rule 2 (sender's demote higher) or rule 3 (own advbase > 0 and (3*advbase s, own skew us)
below the sender's). Pure: no node, no clock.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from pure_pair import backup, carp, master, pair

from carpctl.core.carp import backup_takes_over, interval, moves_to, seconds, settle_time
from carpctl.core.failover_plan import _unpark_moves_all, advertised, preflight, restore_pulls_back
from carpctl.facts.interfaces import Interface
from carpctl.facts.parked import Parked


def moves(backup_timing, master_timing, *, preempt=True, backup_demote=0, master_demote=0):
    return moves_to(backup_preempt=preempt, backup_demote=backup_demote, backup=backup_timing,
                    master_demote=master_demote, master=master_timing)


# -- intervals ----------------------------------------------------------------------------
@pytest.mark.parametrize(("advbase", "advskew", "kept"), [
    (1, 0, (1, 0)), (1, 100, (1, 390625)), (1, 254, (1, 992187)), (2, 128, (2, 500000)),
    (0, 0, (0, 3906)), (0, 1, (0, 3906)), (0, 2, (0, 7812)), (3, 255, (3, 996093))])
def test_the_interval_is_kept_in_truncated_microseconds_and_never_zero(advbase, advskew, kept):
    assert interval(advbase, advskew) == kept


def test_seconds_are_the_interval_as_a_number():
    assert seconds(1, 100) == 1.390625
    assert seconds(0, 0) == 0.003906     # 1/256 s, truncated to microseconds
    assert seconds(2, 254) == 2.992187


# -- rule 1: preempt and a strictly slower sender with a demote not lower --------------------
def test_rule_1_a_faster_backup_with_preempt_takes_over():
    assert moves((1, 0), (1, 1))
    assert not moves((1, 0), (1, 1), preempt=False)


def test_rule_1_equal_intervals_never_move():
    assert not moves((1, 100), (1, 100))
    assert not moves((1, 254), (1, 254))


def test_rule_1_compares_seconds_before_microseconds():
    assert moves((1, 254), (2, 0))
    assert not moves((2, 0), (1, 254))


def test_rule_1_needs_the_senders_demote_at_least_the_backups():
    assert moves((1, 0), (1, 100), backup_demote=5, master_demote=5)
    assert not moves((1, 0), (1, 100), backup_demote=6, master_demote=5)


def test_rule_1_compares_raw_advskews_without_the_timers_1_256_floor():
    """advbase 0: advskew 0 and 1 both time at 1/256 s, yet 0 is faster on the wire."""
    assert moves((0, 0), (0, 1))
    assert not moves((0, 1), (0, 0))


def test_rule_1_truncation_makes_no_tie_where_the_kernel_has_none():
    assert moves((1, 0), (1, 1))          # 0 us < 3906 us
    assert not moves((1, 1), (1, 1))


# -- rule 2: the sender's demote higher, whatever preempt and the intervals say --------------
def test_rule_2_a_higher_sender_demote_moves_without_preempt_and_from_a_faster_master():
    assert moves((1, 254), (1, 0), preempt=False, master_demote=1)
    assert not moves((1, 254), (1, 0), preempt=False, backup_demote=1, master_demote=1)


def test_rule_2_is_by_demote_alone():
    assert moves((1, 100), (1, 0), preempt=False, backup_demote=127, master_demote=128)
    assert not moves((1, 100), (1, 0), preempt=False, backup_demote=128, master_demote=127)


# -- rule 3: a sender too slow to ever make it -----------------------------------------------
def test_rule_3_a_master_slower_than_three_backup_intervals_is_taken_without_preempt():
    assert moves((1, 0), (3, 1), preempt=False)
    assert not moves((1, 0), (3, 0), preempt=False)     # equal: not below


def test_rule_3_keeps_the_backups_own_skew_in_the_comparison():
    assert not moves((1, 100), (3, 100), preempt=False)   # (3 s, 390625 us) is not below
    assert moves((1, 100), (3, 101), preempt=False)


def test_rule_3_ignores_demote_a_bow_out_is_taken_at_once():
    assert moves((1, 0), (255, 255), preempt=False, backup_demote=200, master_demote=0)


def test_rule_3_never_applies_to_a_backup_at_advbase_0():
    assert not moves((0, 0), (255, 255), preempt=False)
    assert not moves((0, 0), (255, 255), backup_demote=1)


def test_rule_3_is_three_times_advbase_not_three_intervals():
    """3*advbase_r s with the skew once: (1, 254) gives (3 s, 992187 us), not 5.98 s."""
    assert moves((1, 254), (4, 0), preempt=False)
    assert not moves((1, 254), (3, 254), preempt=False)


def test_takes_over_is_the_three_rules_and_nothing_else():
    common = dict(own_advbase=1, own_advskew=100, own=(1, 390625))
    assert not backup_takes_over(preempt=True, own_demote=0, sender=(1, 390625), sender_demote=0,
                                 **common)
    assert backup_takes_over(preempt=True, own_demote=0, sender=(1, 390626), sender_demote=0,
                             **common)
    assert backup_takes_over(preempt=False, own_demote=0, sender=(1, 0), sender_demote=1,
                             **common)
    assert backup_takes_over(preempt=False, own_demote=9, sender=(3, 390626), sender_demote=0,
                             **common)


def test_unprinted_advbase_and_advskew_are_the_kernels_defaults():
    assert not moves((None, None), (1, 0))
    assert moves((None, None), (1, 1))
    assert moves((1, 0), (None, 1))
    assert not moves((None, 5), (1, None))


# -- settle time ---------------------------------------------------------------------------
def test_settle_time_is_three_of_the_slowest_intervals_at_advskew_254_plus_two_seconds():
    assert settle_time([master()]) == pytest.approx(3 * 1.992187 + 2.0)
    assert settle_time([master(), backup(advbase=3)]) == pytest.approx(3 * 3.992187 + 2.0)


def test_settle_time_counts_an_unknown_or_zero_advbase_as_one_second():
    unknown = master(carp=(carp(0, "MASTER", advbase=None, advskew=None),))
    zero = master(advbase=0)
    assert settle_time([unknown]) == settle_time([zero]) == pytest.approx(3 * 1.992187 + 2.0)
    assert settle_time([]) == pytest.approx(3 * 1.992187 + 2.0)


# -- what a node advertises ---------------------------------------------------------------
def groups(**demotes) -> dict:
    return dict(group_demotes=demotes, interfaces={
        "carp0": Interface(name="carp0", groups=tuple(demotes), link=True, subnets=())})


def test_advertised_demote_is_the_sum_of_the_interfaces_groups():
    state = master(demote=2, **groups(carp=2, ifstated=3))
    assert advertised(state, "carp0") == 5
    assert advertised(state, "carp1") == 2     # only in group carp


def test_advertised_demote_takes_a_polls_carp_counter_and_the_full_reads_other_groups():
    full = master(demote=2, **groups(carp=2, ifstated=3))
    poll = master(demote=52)
    assert advertised(poll, "carp0", full) == 55


def test_advertised_demote_stays_within_0_and_255():
    full = master(demote=100, **groups(carp=100, ifstated=100))
    assert advertised(master(demote=200), "carp0", full) == 255
    inconsistent = master(demote=10, **groups(carp=0))   # two reads a moment apart
    assert advertised(master(demote=3), "carp0", inconsistent) == 0


# -- restore: will putting the source's values back pull MASTER back? -------------------------
def plan_for(fw1, fw2, method="advskew", **settings):
    the_pair = pair(**settings)
    return preflight(the_pair, {"fw1": fw1, "fw2": fw2}, to="fw2", method=method, force=False,
                     settings=the_pair.failover)


def test_restore_pulls_back_a_faster_source_with_preempt_and_names_the_vhids():
    made = plan_for(master(), backup())
    after = (backup("fw1", advskew=254), master("fw2", advskew=100))
    assert restore_pulls_back(made, *after, source_preempt=True) == [1, 2]
    assert restore_pulls_back(made, *after, source_preempt=False) == []


def test_restore_uses_the_sources_original_advskew_not_the_parked_one():
    made = plan_for(master(advskew=100), backup(advskew=0))
    after = (backup("fw1", advskew=254), master("fw2", advskew=0))
    assert made.originals == {"carp0": 100, "carp1": 100}
    assert restore_pulls_back(made, *after, source_preempt=True) == []


def test_restore_of_carpdemote_lifts_exactly_the_amount_it_added():
    made = plan_for(master(), backup(), method="carpdemote", demote=7)
    after = (backup("fw1", advskew=0, demote=7), master("fw2", advskew=100))
    assert restore_pulls_back(made, *after, source_preempt=True) == [1, 2]
    still = (backup("fw1", advskew=0, demote=8), master("fw2", advskew=100))
    assert restore_pulls_back(made, *still, source_preempt=True) == []


def test_restore_of_carpdemote_pulls_back_by_demote_alone_when_the_target_is_demoted():
    made = plan_for(master(), backup(), method="carpdemote")
    after = (backup("fw1", advskew=254, demote=50), master("fw2", advskew=100, demote=1))
    assert restore_pulls_back(made, *after, source_preempt=False) == [1, 2]


def test_restore_reads_the_other_groups_counters_from_the_preflight():
    made = plan_for(master(), backup())
    after = (backup("fw1", advskew=254), master("fw2", advskew=100))
    before = {"fw1": master(**groups(carp=0, ifstated=3)), "fw2": backup()}
    assert restore_pulls_back(made, *after, source_preempt=True, before=before) == [2]


def test_restore_at_advbase_0_compares_raw_advskews():
    made = plan_for(master(advbase=0), backup(advbase=0, advskew=1))
    after = (backup("fw1", advbase=0, advskew=254), master("fw2", advbase=0, advskew=1))
    assert restore_pulls_back(made, *after, source_preempt=True) == [1, 2]


# -- unparking: does undoing the target's own parked demotion hand everything over? -----------
def test_undoing_a_parked_carpdemote_is_enough_when_the_target_is_faster_with_preempt():
    parked = Parked(method="carpdemote", amount=50)
    target = backup(advskew=0, demote=50, parked=parked)
    assert _unpark_moves_all(master(advskew=100), target, parked)
    assert not _unpark_moves_all(master(advskew=100), replace(target, sysctl=replace(
        target.sysctl, preempt=False)), parked)
    assert not _unpark_moves_all(master(advskew=0), target, parked)


def test_undoing_a_parked_advskew_restores_the_targets_originals_first():
    parked = Parked(method="advskew", originals={"carp0": 0, "carp1": 0}, parked_skew=254)
    target = backup(advskew=254, parked=parked)
    assert _unpark_moves_all(master(advskew=100), target, parked)
    some = Parked(method="advskew", originals={"carp0": 0, "carp1": 200}, parked_skew=254)
    assert not _unpark_moves_all(master(advskew=100), target, some)


def test_undoing_a_parking_that_leaves_the_target_demoted_is_not_enough():
    parked = Parked(method="carpdemote", amount=50)
    target = backup(advskew=0, demote=51, parked=parked)
    assert not _unpark_moves_all(master(advskew=100), target, parked)
    assert _unpark_moves_all(master(advskew=100, demote=1), target, parked)


def test_a_plan_whose_unparking_is_enough_says_so_and_one_that_is_not_checks_the_method():
    parked = Parked(method="carpdemote", amount=50)
    made = plan_for(master(advskew=100), backup(advskew=0, demote=50, parked=parked))
    assert made.unpark_is_enough
    slower = backup(advskew=200, demote=50, parked=parked)
    made = plan_for(master(advskew=100), slower)
    assert made.unpark == parked and not made.unpark_is_enough



def test_restore_by_advskew_lifts_no_demotion():
    """The advskew method changed no counter: a demote of 1 left on the source (its
    syncdev down) still counts, and keeps it from pulling MASTER back."""
    made = plan_for(master(), backup())
    after = (backup("fw1", advskew=254, demote=1), master("fw2", advskew=100))
    assert restore_pulls_back(made, *after, source_preempt=True) == []


def test_restore_of_carpdemote_compares_the_advskew_read_now():
    made = plan_for(master(), backup(), method="carpdemote")
    after = (backup("fw1", advskew=200, demote=50), master("fw2", advskew=100))
    assert restore_pulls_back(made, *after, source_preempt=True) == []


def test_restore_reads_the_targets_other_groups_from_the_preflight():
    made = plan_for(master(advskew=200), backup())
    after = (backup("fw1", advskew=254), master("fw2", advskew=100))
    before = {"fw1": master(advskew=200), "fw2": backup(**groups(carp=0, ifstated=3))}
    assert restore_pulls_back(made, *after, source_preempt=True) == []
    assert restore_pulls_back(made, *after, source_preempt=True, before=before) == [1]


def test_an_interface_without_vhid_listed_first_does_not_hide_the_others():
    blank = replace(carp(0, "INIT", name="carp9"), vhid=None)
    made = plan_for(master(), backup())
    after = (backup("fw1", advskew=254), master("fw2", advskew=100))
    source = replace(after[0], carp=(blank, *after[0].carp))
    assert restore_pulls_back(made, source, after[1], source_preempt=True) == [1, 2]
    parked = Parked(method="carpdemote", amount=50)
    target = backup(advskew=0, demote=50, parked=parked)
    slow = replace(target, carp=(blank, *target.carp[:1], replace(target.carp[1], advskew=200)))
    assert not _unpark_moves_all(master(advskew=100), slow, parked)


def test_undoing_a_parking_is_enough_when_the_source_advertises_another_groups_demotion():
    parked = Parked(method="carpdemote", amount=50)
    target = backup(advskew=100, demote=50, parked=parked)
    source = master(**{**groups(carp=0, ifstated=5), "interfaces": {
        name: Interface(name=name, groups=("carp", "ifstated"), link=True, subnets=())
        for name in ("carp0", "carp1")}})
    assert _unpark_moves_all(source, target, parked)
    assert not _unpark_moves_all(master(), target, parked)


def test_a_parked_advskew_records_amount_is_not_a_demotion():
    parked = Parked(method="advskew", originals={"carp0": 0, "carp1": 0}, parked_skew=254,
                    amount=50)
    target = backup(advskew=254, demote=3, parked=parked)
    assert not _unpark_moves_all(master(advskew=0, demote=3), target, parked)
