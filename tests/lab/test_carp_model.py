"""The lab's CARP model against OpenBSD's election rules and timings.

The clock is plain floats. `settled_pair` builds the usual starting point: fw1
(advskew 0) MASTER of every vhid since t=3, advertising every second, fw2
(advskew 100) BACKUP; at t=10 fw1 has just advertised, so fw2's master-down runs
until 10 + 4.171875.
"""

from __future__ import annotations

import pytest

from carpctl_lab.carp.model import (
    CarpModel,
    CarpModelError,
    NodeDown,
    NoSuchGroup,
    NoSuchInterface,
    Transition,
)
from carpctl_lab.carp.rules import interval_us, master_down_us

A, B = "fw1", "fw2"
I_A, I_B = 1.0, 1.390625            # advskew 0 and 100
MD_B = 3 * I_B                      # 4.171875


def settled_pair(*, preempt_a: bool = False, preempt_b: bool = False, skew_a: int = 0,
                 skew_b: int = 100, vhids: tuple[int, ...] = (1,)) -> CarpModel:
    model = CarpModel()
    model.add_node(A, preempt=preempt_a)
    model.add_node(B, preempt=preempt_b)
    for i, vhid in enumerate(vhids):
        model.configure(A, f"carp{i}", 0.0, vhid=vhid, advskew=skew_a, carpdev=f"em{i}")
        model.configure(B, f"carp{i}", 0.0, vhid=vhid, advskew=skew_b, carpdev=f"em{i}")
    model.advance(10.0)
    assert all(master(model, f"carp{i}") == [A] for i in range(len(vhids)))
    return model


def lone_node(*, advskew: int = 0) -> CarpModel:
    """fw1 alone on its segment, MASTER since 3 * its interval."""
    model = CarpModel()
    model.add_node(A)
    model.configure(A, "carp0", 0.0, vhid=1, advskew=advskew)
    return model


def master(model: CarpModel, ifname: str = "carp0") -> list[str]:
    return [node for node in (A, B)
            if model.powered(node) and any(v.name == ifname and v.state == "MASTER"
                                           for v in model.interfaces(node))]


def became(model: CarpModel, node: str, new: str, ifname: str = "carp0") -> float:
    """When `node`'s interface last entered `new`."""
    times = [t.time for t in model.transitions
             if (t.node, t.ifname, t.new) == (node, ifname, new)]
    assert times, f"{node} {ifname} never became {new}"
    return times[-1]


def moves_after(model: CarpModel, time: float) -> list[Transition]:
    return [t for t in model.transitions if t.time > time]


# -- timings table (section 2.7) ----------------------------------------------------------

@pytest.mark.parametrize(("advskew", "interval", "master_down"), [
    (0, 1.0, 3.0), (100, 1.390625, 4.171875), (254, 1.992187, 5.976561),
])
def test_intervals_and_master_down_follow_the_timings_table(advskew, interval, master_down):
    assert interval_us(1, advskew) == round(interval * 1e6)
    assert master_down_us(1, advskew) == round(master_down * 1e6)


def test_an_interval_of_zero_becomes_one_256th_of_a_second():
    assert interval_us(0, 0) == 3906
    assert master_down_us(0, 0) == 3 * 3906


def test_advskew_254_on_master_hands_over_at_its_next_advertisement():
    model = settled_pair(preempt_b=True)
    model.set_advskew(A, "carp0", 254, 10.5)
    model.advance(12.49)
    assert master(model) == [A]
    model.advance(13.0)
    assert master(model) == [B]
    assert became(model, B, "MASTER") == pytest.approx(10.5 + 1.992187)
    assert became(model, A, "BACKUP") == pytest.approx(10.5 + 1.992187)


def test_advskew_254_on_master_moves_nothing_when_the_peer_does_not_preempt():
    model = settled_pair(preempt_a=True, preempt_b=False)
    model.set_advskew(A, "carp0", 254, 10.5)
    model.advance(300.0)
    assert master(model) == [A]
    assert moves_after(model, 10.0) == []


def test_advskew_254_on_master_moves_nothing_when_the_peer_is_at_254_too():
    model = settled_pair(preempt_a=True, preempt_b=True, skew_b=254)
    model.set_advskew(A, "carp0", 254, 10.5)
    model.advance(300.0)
    assert master(model) == [A]
    assert moves_after(model, 10.0) == []


@pytest.mark.parametrize("preempt_a", [True, False])
def test_restoring_advskew_0_pulls_master_back_only_if_the_old_master_preempts(preempt_a):
    model = settled_pair(preempt_a=preempt_a, preempt_b=True)
    model.set_advskew(A, "carp0", 254, 10.5)
    model.advance(15.0)
    assert master(model) == [B]
    model.set_advskew(A, "carp0", 0, 15.0)
    model.advance(300.0)
    if preempt_a:
        assert master(model) == [A]
        assert 15.0 < became(model, A, "MASTER") <= 15.0 + I_B
    else:
        assert master(model) == [B]
        assert moves_after(model, 15.0) == []


# -- carpdemote ---------------------------------------------------------------------------

def test_carpdemote_moves_every_vhid_within_one_exchange_whatever_preempt_says():
    model = settled_pair(vhids=(1, 2))
    model.carpdemote(A, 1, 10.25)
    assert master(model, "carp0") == master(model, "carp1") == [B]
    assert became(model, B, "MASTER", "carp0") == became(model, B, "MASTER", "carp1") == 10.25
    model.advance(300.0)
    assert master(model, "carp0") == master(model, "carp1") == [B]


@pytest.mark.parametrize("preempt_a", [True, False])
def test_minus_carpdemote_of_the_same_n_restores_and_preempt_pulls_master_back(preempt_a):
    model = settled_pair(preempt_a=preempt_a, vhids=(1, 2))
    model.carpdemote(A, 5, 10.25)
    model.carpdemote(A, -5, 20.0)
    assert model.demote(A) == 0
    model.advance(300.0)
    expected = [A] if preempt_a else [B]
    assert master(model, "carp0") == master(model, "carp1") == expected
    if preempt_a:
        assert 20.0 < became(model, A, "MASTER", "carp1") <= 20.0 + I_B


def test_carpdemote_up_makes_masters_advertise_now_and_down_sends_nothing():
    model = lone_node()
    model.advance(10.25)
    assert model.next_event_time() == 11.0
    model.carpdemote(A, 1, 10.25)
    assert model.next_event_time() == 11.25
    model.carpdemote(A, -1, 10.5)
    assert model.next_event_time() == 11.25


def test_carpdemote_keeps_the_group_counter_within_0_to_255():
    model = lone_node()
    model.carpdemote(A, 128, 1.0)
    with pytest.raises(ValueError):
        model.carpdemote(A, 128, 1.0)
    assert model.demote(A) == 128
    model.carpdemote(A, 127, 1.0)
    assert model.demote(A) == 255
    model.carpdemote(A, -255, 1.0)
    with pytest.raises(ValueError):
        model.carpdemote(A, -1, 1.0)
    assert model.demote(A) == 0
    with pytest.raises(NoSuchGroup):
        model.carpdemote(A, 1, 1.0, group="nosuch")


@pytest.mark.parametrize(("delta", "takeover"), [(32, 11.0), (1, 10.25)])
def test_pfsync_demotion_advertises_at_once_only_when_a_counter_becomes_1(delta, takeover):
    model = settled_pair()
    model.demote_adjust(A, delta, 10.25, groups=("carp", "pfsync"))
    model.advance(20.0)
    assert master(model) == [B]
    assert became(model, B, "MASTER") == takeover
    assert model.demote(A, "pfsync") == delta


# -- crash, shutdown, destroy -------------------------------------------------------------

@pytest.mark.parametrize("after_last_ad", [0.0, 0.5, 0.999])
def test_crash_of_master_hands_over_between_3_ib_minus_ia_and_3_ib_later(after_last_ad):
    model = settled_pair()
    crashed_at = 10.0 + after_last_ad
    model.crash(A, crashed_at)
    model.advance(30.0)
    assert master(model) == [B]
    delay = became(model, B, "MASTER") - crashed_at
    assert MD_B - I_A <= delay <= MD_B
    assert became(model, B, "MASTER") == pytest.approx(10.0 + MD_B)


def test_clean_shutdown_of_master_hands_over_every_vhid_at_once():
    model = settled_pair(vhids=(1, 2))
    model.shutdown(A, 10.3)
    assert master(model, "carp0") == master(model, "carp1") == [B]
    assert became(model, B, "MASTER", "carp1") == 10.3
    assert became(model, A, "INIT", "carp1") == 10.3
    assert not model.powered(A)


def test_destroying_the_master_interface_is_silent_so_the_peer_waits_for_master_down():
    model = settled_pair()
    model.remove_interface(A, "carp0", 10.3)
    assert master(model) == []
    model.advance(30.0)
    assert became(model, B, "MASTER") == pytest.approx(10.0 + MD_B)


def test_a_powered_off_node_refuses_commands_and_shows_nothing():
    model = settled_pair(preempt_a=True)
    model.carpdemote(A, 3, 10.1)
    model.crash(A, 10.2)
    with pytest.raises(NodeDown):
        model.set_advskew(A, "carp0", 10, 10.3)
    with pytest.raises(NodeDown):
        model.carpdemote(A, 1, 10.3)
    with pytest.raises(NoSuchInterface):
        model.state(A, "carp0")
    assert model.interfaces(A) == []
    assert model.demote(A) == 0
    model.power_on(A, 11.0)
    assert (model.interfaces(A), model.demote(A), model.preempt(A), model.allow(A)) == \
        ([], 0, False, True)
    with pytest.raises(CarpModelError):
        model.power_on(A, 11.0)


# -- boot ---------------------------------------------------------------------------------

def test_pfsync_demote_32_keeps_a_booting_node_from_taking_master_until_bulk_is_done():
    model = settled_pair(preempt_a=True, preempt_b=True)
    model.shutdown(A, 10.3)
    assert master(model) == [B]
    model.power_on(A, 20.0)
    model.set_preempt(A, True, 20.0)            # sysctl.conf, replayed early in rc
    model.carpdemote(A, 128, 20.0)
    model.configure(A, "carp0", 20.1, vhid=1)
    model.demote_adjust(A, 32, 20.2, groups=("carp", "pfsync"))
    model.schedule(25.0, lambda m, t: m.carpdemote(A, -128, t), node=A)
    model.schedule(40.0, lambda m, t: m.demote_adjust(A, -32, t, groups=("carp", "pfsync")),
                   node=A)
    model.advance(39.9)
    assert model.demote(A) == 32
    assert master(model) == [B]
    assert model.state(A, "carp0") == "BACKUP"
    model.advance(60.0)
    assert master(model) == [A]
    assert 40.0 < became(model, A, "MASTER") <= 40.0 + I_B


def test_a_node_that_boots_alone_becomes_master_after_master_down_even_at_demote_128():
    model = settled_pair()
    model.crash(A, 10.5)
    model.crash(B, 10.5)
    model.power_on(B, 20.0)
    model.carpdemote(B, 128, 20.0)
    model.configure(B, "carp0", 20.5, vhid=1, advskew=100)
    model.advance(60.0)
    assert master(model) == [B]
    assert became(model, B, "MASTER") == pytest.approx(20.5 + MD_B)


def test_identical_nodes_elect_the_first_configured_one_every_time():
    def run() -> list[Transition]:
        model = CarpModel()
        for node in (A, B):
            model.add_node(node, preempt=True)
        for node in (A, B):
            model.configure(node, "carp0", 0.0, vhid=1)
        model.advance(60.0)
        assert master(model) == [A]
        return model.transitions
    assert run() == run()


# -- links, allow, forced states ----------------------------------------------------------

def test_link_down_on_the_masters_carpdev_moves_its_other_vhids_at_once():
    model = settled_pair(vhids=(1, 2))
    model.set_link(A, "em0", False, 10.3)
    assert model.state(A, "carp0") == "INIT"
    assert model.demote(A) == 1
    assert master(model, "carp1") == [B]
    assert became(model, B, "MASTER", "carp1") == 10.3
    assert model.state(B, "carp0") == "BACKUP"
    model.advance(20.0)
    assert became(model, B, "MASTER", "carp0") == pytest.approx(10.0 + MD_B)
    model.set_link(A, "em0", True, 20.0)
    assert (model.state(A, "carp0"), model.demote(A)) == ("BACKUP", 0)
    model.advance(300.0)
    assert master(model, "carp0") == master(model, "carp1") == [B]


def test_allow_0_on_both_nodes_gives_two_masters_until_they_hear_each_other_again():
    model = settled_pair()
    model.set_allow(A, False, 10.2)
    model.set_allow(B, False, 10.2)
    model.advance(20.0)
    assert master(model) == [A, B]
    model.set_allow(A, True, 20.0)
    model.set_allow(B, True, 20.0)
    model.advance(21.0)
    assert master(model) == [A]
    assert became(model, B, "BACKUP") == 21.0


@pytest.mark.parametrize(("preempt_a", "carp0_master"), [(False, B), (True, A)])
def test_without_preempt_masters_stay_split_after_a_single_interface_bow_out(preempt_a,
                                                                             carp0_master):
    model = settled_pair(preempt_a=preempt_a, vhids=(1, 2))
    model.if_down(A, "carp0", 10.3)
    assert master(model, "carp0") == [B]
    assert became(model, B, "MASTER") == 10.3
    model.if_up(A, "carp0", 11.0)
    model.advance(300.0)
    assert master(model, "carp0") == [carp0_master]
    assert master(model, "carp1") == [A]


def test_forcing_master_on_the_slower_node_lasts_until_the_faster_one_advertises():
    model = settled_pair()
    model.set_state(B, "carp0", "Master", 10.3)
    assert master(model) == [A, B]
    model.advance(11.0)
    assert master(model) == [A]
    assert became(model, B, "BACKUP") == 11.0


def test_interface_views_follow_admin_state_and_carpdev_link():
    model = settled_pair(vhids=(1, 2))
    view = model.interfaces(A)[0]
    assert (view.name, view.vhid, view.advbase, view.advskew, view.carpdev) == \
        ("carp0", 1, 1, 0, "em0")
    assert (view.state, view.up, view.running) == ("MASTER", True, True)
    model.if_down(A, "carp0", 10.1)
    model.set_link(A, "em1", False, 10.1)
    down, no_link = model.interfaces(A)
    assert (down.state, down.up, down.running) == ("INIT", False, False)
    assert (no_link.state, no_link.up, no_link.running) == ("INIT", True, False)
    assert not model.link_up(A, "em1")


def test_setters_refuse_values_ifconfig_refuses():
    model = lone_node()
    for bad in (-1, 255):
        with pytest.raises(ValueError):
            model.set_advskew(A, "carp0", bad, 1.0)
        with pytest.raises(ValueError):
            model.set_advbase(A, "carp0", bad, 1.0)
    with pytest.raises(ValueError):
        model.set_state(A, "carp0", "init", 1.0)
    with pytest.raises(ValueError):
        model.configure(A, "carp1", 1.0, vhid=1)      # vhid 1 already on em0
    with pytest.raises(NoSuchInterface):
        model.set_advskew(A, "carp9", 10, 1.0)


# -- time ---------------------------------------------------------------------------------

def test_scheduled_actions_interleave_with_carp_timers_in_time_order():
    model = settled_pair()
    seen: list[tuple[float, list[str]]] = []

    def look(m: CarpModel, t: float) -> None:
        seen.append((t, master(m)))

    model.schedule(16.0, look)
    model.schedule(13.0, lambda m, t: m.carpdemote(A, 1, t))
    model.schedule(12.0, look)
    model.advance(20.0)
    assert seen == [(12.0, [A]), (16.0, [B])]
    assert became(model, B, "MASTER") == 13.0


def test_a_scheduled_boot_step_dies_with_the_boot_it_belongs_to():
    model = settled_pair()
    ran: list[float] = []
    model.schedule(12.0, lambda m, t: ran.append(t), node=A)
    model.crash(A, 11.0)
    model.power_on(A, 11.5)
    model.advance(20.0)
    assert ran == []


def test_advance_is_idempotent_and_never_goes_backwards():
    model = settled_pair()
    before = (list(model.transitions), model.next_event_time())
    model.advance(10.0)
    model.advance(5.0)
    assert (model.transitions, model.next_event_time()) == before
    model.set_advskew(A, "carp0", 254, 5.0)     # an old clock reading acts at t=10
    assert model.next_event_time() == pytest.approx(10.0 + 1.992187)


def test_a_failing_action_propagates_and_leaves_the_model_usable():
    model = settled_pair()

    def fail(m: CarpModel, t: float) -> None:
        m.carpdemote(A, -1, t)                  # counter is 0: EINVAL

    model.schedule(12.0, fail)
    with pytest.raises(ValueError):
        model.advance(20.0)
    model.advance(20.0)
    assert master(model) == [A]
    assert model.next_event_time() == 21.0


def test_a_peer_with_advbase_0_does_not_take_a_bow_out_at_once():
    model = CarpModel()
    model.add_node(A)
    model.add_node(B)
    model.configure(A, "carp0", 0.0, vhid=1, advbase=0, advskew=10)
    model.configure(B, "carp0", 0.0, vhid=1, advbase=0, advskew=100)
    model.advance(10.0)
    assert master(model) == [A]
    model.if_down(A, "carp0", 10.0)
    assert master(model) == []
    model.advance(12.0)
    assert became(model, B, "MASTER") == pytest.approx(10.0 + master_down_us(0, 100) / 1e6,
                                                       abs=1e-6)
