"""gather.parse_state(): a status batch's results -> NodeState, from recorded outputs (pure)."""

from __future__ import annotations

from facts._fixtures import fixture

from carpctl.facts.state import parse_state, status_commands
from carpctl.remote.connection import Result

DESTS = ("/etc/pf.conf", "/etc/relayd.conf")
DIGEST = "a" * 64


def results(answers: dict[str, tuple[int, str, str]] | None = None) -> list[Result]:
    """A healthy node's answers to status_commands(DESTS), some replaced (by key below)."""
    normal = {
        "ifconfig carp": (0, fixture("ifconfig_carp_master_backup.txt"), ""),
        "ifconfig -g carp": (0, fixture("ifconfig_g_carp.txt"), ""),
        "sysctl net.inet.carp": (0, fixture("sysctl_net_inet_carp.txt"), ""),  # preempt=0
        "pfctl -si": (0, fixture("pfctl_si.txt"), ""),
        "rcctl get relayd": (0, fixture("rcctl_get_relayd_enabled.txt"), ""),
        "relayctl show summary": (0, fixture("relayctl_show_summary.txt"), ""),
        "marker": (1, "", "cat: marker: No such file or directory\n"),
        "parked": (1, "", "cat: parked: No such file or directory\n"),
        "/etc/pf.conf": (0, DIGEST + "\n", ""),
        "/etc/relayd.conf": (0, DIGEST + "\n", ""),
    }
    assert set(answers or {}) <= set(normal)
    normal.update(answers or {})
    return [Result("fw1", str(command), *answer, 0.0)
            for command, answer in zip(status_commands(DESTS), normal.values())]


def test_a_normal_batch_gives_every_fact():
    state = parse_state("fw1", results(), DESTS)
    assert state.problems == ()
    assert (state.demote, state.preempt, state.relayd_enabled) == (0, False, True)
    assert state.relayd.running and state.pf.enabled and state.maintenance is None
    assert state.parked is None
    assert state.files == {"/etc/pf.conf": DIGEST, "/etc/relayd.conf": DIGEST}


def test_a_disabled_relayd_is_read_from_rcctls_exit_status():
    state = parse_state("fw1", results({"rcctl get relayd": (
        1, fixture("rcctl_get_relayd_disabled.txt"), "")}), DESTS)
    assert state.relayd_enabled is False and state.problems == ()


def test_a_file_doas_cannot_read_is_unknown_while_a_missing_one_is_none():
    denied = (1, "", "doas: Operation not permitted\n")
    missing = (1, "", "sha256: /etc/relayd.conf: No such file or directory\n")
    state = parse_state("fw1", results({"/etc/pf.conf": denied, "/etc/relayd.conf": missing}),
                        DESTS)
    assert state.files == {"/etc/relayd.conf": None}
    assert state.problems == ("sha256 -q /etc/pf.conf: doas: Operation not permitted",)


def test_a_refused_doas_leaves_pf_and_relayd_unknown_and_says_why():
    denied = (1, "", "doas: Operation not permitted\n")
    answers = {"pfctl -si": denied, "relayctl show summary": denied}
    state = parse_state("fw1", results(answers), DESTS)
    assert (state.pf, state.relayd) == (None, None)
    assert state.problems == ("pfctl -si: doas: Operation not permitted",
                              "relayctl show summary: doas: Operation not permitted")


def test_a_parked_record_counts_only_while_the_node_still_carries_it():
    # the fixture's carp1 runs at advskew 100: a record parking it there still applies...
    held = "method=advskew parked=100 amount=0 carp1=0\n"
    state = parse_state("fw1", results({"parked": (0, held, "")}), DESTS)
    assert state.parked is not None and state.parked.originals == {"carp1": 0}
    # ...one that parked carp0 at 254 does not: a reboot put carp0 back to its own 0
    stale = "method=advskew parked=254 amount=0 carp0=0\n"
    assert parse_state("fw1", results({"parked": (0, stale, "")}), DESTS).parked is None
