"""The pure parts of deploy: plans, rollout order, backup manifests, the confirm timer."""

from __future__ import annotations

import pytest

from carpctl.core.backups import beside, restore_commands, to_prune
from carpctl.core.confirm import cancel_command, script
from carpctl.errors import RefusedError, UsageError
from carpctl.facts import CarpInterface
from carpctl.facts.backups import BackupSet, Entry, parse_sets
from carpctl.facts.state import NodeState
from carpctl.flows.deploy import worst
from carpctl.flows.deploy.plan import rollout_order, select_files


def carp(state: str, vhid: int) -> CarpInterface:
    return CarpInterface(name=f"carp{vhid - 1}", state=state, vhid=vhid, advbase=1, advskew=0,
                         carpdev="em0", up=True, running=True, addresses=(), carppeer=None)


def test_the_backup_is_updated_first_and_the_master_last(inventory):
    pair = inventory.pair("pair1")
    states = [NodeState(node="fw1", reachable=True, carp=(carp("MASTER", 1), carp("MASTER", 2))),
              NodeState(node="fw2", reachable=True, carp=(carp("BACKUP", 1), carp("BACKUP", 2)))]
    assert rollout_order(pair, states) == ["fw2", "fw1"]


def test_without_a_single_master_a_deploy_is_refused_but_check_goes_on(inventory):
    pair = inventory.pair("pair1")
    split = [NodeState(node="fw1", reachable=True, carp=(carp("MASTER", 1), carp("BACKUP", 2))),
             NodeState(node="fw2", reachable=True, carp=(carp("BACKUP", 1), carp("MASTER", 2)))]
    with pytest.raises(RefusedError, match="no single node is MASTER"):
        rollout_order(pair, split)
    assert rollout_order(pair, split, strict=False) == ["fw1", "fw2"]


def test_only_selects_by_kind_dest_or_template_and_rejects_unknown_names(inventory):
    pair = inventory.pair("pair1")
    assert [s.dest for s in select_files(pair, ("relayd",))] == ["/etc/relayd.conf"]
    assert [s.dest for s in select_files(pair, ("/etc/pf.conf",))] == ["/etc/pf.conf"]
    assert [s.dest for s in select_files(pair, ("pf.conf.j2",))] == ["/etc/pf.conf"]
    with pytest.raises(UsageError, match="--only carp matches none"):
        select_files(pair, ("carp",))


def test_a_manifest_reads_back_as_the_set_it_describes():
    backup = BackupSet("20250101-120000-abcd", "deploy",
                       (Entry("/etc/pf.conf", "pf", "a" * 64), Entry("/etc/new", "other", None)))
    assert parse_sets(backup.manifest() + backup.manifest().replace("deploy", "rollback")
                      .replace("20250101", "20250102")) == [
        backup, BackupSet("20250102-120000-abcd", "rollback", backup.entries)]


def test_restoring_copies_beside_then_renames_and_removes_created_files():
    backup = BackupSet("r", "deploy", (Entry("/etc/pf.conf", "pf", "a" * 64),
                                       Entry("/etc/new", "other", None)))
    lines = [str(c) for c in restore_commands(backup, "r")]
    temp = "/etc/.pf.conf.carpctl-r-restore"
    assert lines == [f"cp -p /var/carpctl/backups/r/files/etc/pf.conf {temp}",
                     f"mv {temp} /etc/pf.conf", "rm -f /etc/new"]
    assert beside("/etc/pf.conf", "t") == "/etc/.pf.conf.carpctl-t"


def test_only_the_newest_sets_are_kept_and_foreign_directories_are_never_pruned():
    sets = [BackupSet(f"2025010{i}-120000-abcd", "deploy", ()) for i in range(1, 6)]
    sets.append(BackupSet("keep-me", "deploy", ()))
    new = BackupSet("20250109-120000-abcd", "deploy", ())
    assert to_prune(sets, new, 3) == ["/var/carpctl/backups/20250101-120000-abcd",
                                      "/var/carpctl/backups/20250102-120000-abcd",
                                      "/var/carpctl/backups/20250103-120000-abcd"]


def test_the_timer_sleeps_unless_run_at_boot_claims_its_marker_once_then_restores():
    backup = BackupSet("r", "deploy", (Entry("/etc/pf.conf", "pf", "a" * 64),))
    text = script(backup, 2.5, restore_commands(backup, "r"))
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines[0] == '[ "$1" = boot ] || sleep 2.5'
    assert lines[1] == ("mv /var/carpctl/backups/r/confirm.armed /var/carpctl/backups/r/"
                        "confirm.fired 2>/dev/null || exit 0")
    assert lines[2].startswith("cp -p ") and lines[3].startswith("mv /etc/.pf.conf")
    assert str(cancel_command(backup)) == "rm /var/carpctl/backups/r/confirm.armed"


def test_the_worst_exit_code_wins_and_a_person_is_needed_above_all():
    assert worst([0, 3, 1]) == 1
    assert worst([1, 4, 0]) == 4
    assert worst([0, 2, 3]) == 3
    assert worst([]) == 0
