"""parse_state(): a status read's named results -> NodeState, from recorded outputs (pure)."""

from __future__ import annotations

import dataclasses

from facts._fixtures import fixture

from carpctl.facts.state import FACTS, REGISTRY, STATUS, NodeState, fact_commands, parse_state
from carpctl.remote.batch import Result

DESTS = ("/etc/pf.conf", "/etc/relayd.conf")
DIGEST = "a" * 64


def results(answers: dict[str, tuple[int, str, str]] | None = None) -> dict[str, Result]:
    """A healthy node's answers to the status facts and DESTS, some replaced (by fact name)."""
    normal = {
        "carp": (0, fixture("ifconfig_carp_master_backup.txt"), ""),
        "demote": (0, fixture("ifconfig_g_carp.txt"), ""),
        "sysctl": (0, fixture("sysctl_net_inet_carp.txt"), ""),  # preempt=0
        "carp_stats": (0, fixture("netstat_s_p_carp.txt"), ""),
        "pf": (0, fixture("pfctl_si.txt"), ""),
        "relayd_enabled": (0, fixture("rcctl_get_relayd_enabled.txt"), ""),
        "relayd": (0, fixture("relayctl_show_summary.txt"), ""),
        "maintenance": (1, "", "cat: marker: No such file or directory\n"),
        "parked": (1, "", "cat: parked: No such file or directory\n"),
        "boot_restored": (1, "", "cat: restored-at-boot: No such file or directory\n"),
        "interfaces": (0, fixture("ifconfig_carp_master_backup.txt"), ""),
        "group_demotes": (0, fixture("ifconfig_g_carp.txt"), ""),
        "carp_config": (0, "", ""),
        "sysctl_conf": (0, "net.inet.carp.preempt=0\n", ""),
        "pf_rules": (0, 'pass in on em0 all flags S/SA\nanchor "relayd/*" all\n', ""),
        "pf_anchors": (0, "  relayd\n", ""),
        "release": (0, "7.6\n", ""),
        "kern_version": (0, fixture("sysctl_kern_version.txt"), ""),
        "sha256 /etc/pf.conf": (0, DIGEST + "\n", ""),
        "sha256 /etc/relayd.conf": (0, DIGEST + "\n", ""),
    }
    assert set(answers or {}) <= set(normal)
    normal.update(answers or {})
    commands = fact_commands(STATUS, DESTS)
    assert list(commands) == list(normal)
    return {name: Result(node="fw1", command=str(commands[name]), status=status, stdout=stdout,
                         stderr=stderr, duration=0.0)
            for name, (status, stdout, stderr) in normal.items()}


def test_a_normal_batch_gives_every_fact():
    state = parse_state("fw1", results())
    assert state.problems == ()
    assert (state.demote, state.preempt, state.relayd_enabled) == (0, False, True)
    assert state.relayd.running and state.pf.enabled and state.maintenance is None
    assert state.parked is None and state.carp_stats.bad_auth == 12
    assert state.boot_restored is None and state.release == "7.6"
    assert state.kern_version is not None and state.kern_version.release == "7.6"
    assert state.files == {"/etc/pf.conf": DIGEST, "/etc/relayd.conf": DIGEST}


def test_a_disabled_relayd_is_read_from_rcctls_exit_status():
    state = parse_state("fw1", results({"relayd_enabled": (
        1, fixture("rcctl_get_relayd_disabled.txt"), "")}))
    assert state.relayd_enabled is False and state.problems == ()


def test_a_file_doas_cannot_read_is_unknown_while_a_missing_one_is_none():
    denied = (1, "", "doas: Operation not permitted\n")
    missing = (1, "", "sha256: /etc/relayd.conf: No such file or directory\n")
    state = parse_state("fw1", results({"sha256 /etc/pf.conf": denied,
                                        "sha256 /etc/relayd.conf": missing}))
    assert state.files == {"/etc/relayd.conf": None}
    assert state.problems == ("sha256 -q /etc/pf.conf: doas: Operation not permitted",)


def test_a_refused_doas_leaves_pf_and_relayd_unknown_and_says_why():
    denied = (1, "", "doas: Operation not permitted\n")
    answers = {"pf": denied, "relayd": denied}
    state = parse_state("fw1", results(answers))
    assert (state.pf, state.relayd) == (None, None)
    assert state.problems == ("pfctl -si: doas: Operation not permitted",
                              "relayctl show summary: doas: Operation not permitted")


def test_a_parked_record_counts_only_while_the_node_still_carries_it():
    # the fixture's carp1 runs at advskew 100: a record parking it there still applies...
    held = "method=advskew parked=100 amount=0 carp1=0\n"
    state = parse_state("fw1", results({"parked": (0, held, "")}))
    assert state.parked is not None and state.parked.originals == {"carp1": 0}
    # ...one that parked carp0 at 254 does not: a reboot put carp0 back to its own 0
    stale = "method=advskew parked=254 amount=0 carp0=0\n"
    assert parse_state("fw1", results({"parked": (0, stale, "")})).parked is None


def test_the_last_deploy_put_back_at_boot_is_the_last_line_of_the_log():
    log = ("Mon Nov 30 10:00:00 UTC 2026 run 20261130-095900-aaaa: unconfirmed at boot, restored\n"
           "Tue Dec  1 03:12:09 UTC 2026 run 20261201-031000-bbbb: unconfirmed at boot, restored\n")
    state = parse_state("fw1", results({"boot_restored": (0, log, "")}))
    assert state.boot_restored == ("Tue Dec  1 03:12:09 UTC 2026 run 20261201-031000-bbbb: "
                                   "unconfirmed at boot, restored")


def test_every_fact_fills_a_field_of_the_node_state_and_one_name_is_one_command():
    fields = {f.name for f in dataclasses.fields(NodeState)}
    assert [fact.field for fact in REGISTRY if fact.field not in fields] == []
    assert all(fact.command == FACTS[fact.name] for fact in REGISTRY)
