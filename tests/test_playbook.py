"""Playbooks: validated before anything runs, run node by node, stopped safely, resumed."""

from __future__ import annotations

from pathlib import Path

import pytest

from carpctl.cli import main
from carpctl.core.playbook import PlaybookError, load_playbook
from carpctl.errors import FailedError
from carpctl.flows.playbook import plan, run_playbook
from carpctl.runtime.session import Session

SHIPPED = Path(__file__).resolve().parent.parent / "playbooks"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ("steps:\n  - reboot: {timout: 5}\n", "steps[0] (reboot) unknown option 'timout'"),
    ("serial: true\nsteps:\n  - maintenance: enter\n  - reboto: {}\n", "steps[1] unknown step 'reboto'"),
    ("steps:\n  - run: ls\n", "steps[0] (run) needs `node: NAME|master|backup`"),
    ("serial: true\nsteps:\n  - run: ls\n    node: fw1\n", "`node` is not used with serial"),
    ("steps:\n  - wait: forever\n", "steps[0] (wait) is `healthy`"),
    ("steps:\n  - pause: -1\n", "steps[0] (pause) pause must be a number"),
    ("stepz: []\n", "unknown key(s) stepz"),
    ("steps:\n  - {reboot: {}, node: fw1, pause: 1}\n", "has 2 step kinds"),
])
def test_a_playbook_mistake_is_reported_with_the_step_before_anything_runs(tmp_path, text, message):
    with pytest.raises(PlaybookError) as error:
        load_playbook(write(tmp_path, text))
    assert message in str(error.value) and str(tmp_path / "book.yml") in str(error.value)
    assert error.value.exit_code == 2


def test_every_shipped_playbook_is_valid():
    names = sorted(p.name for p in SHIPPED.glob("*.yml"))
    assert names == ["deploy-handoff.yml", "reboot.yml", "syspatch.yml", "upgrade.yml"]
    for path in SHIPPED.glob("*.yml"):
        load_playbook(path)


def test_serial_runs_the_backup_first_and_the_master_after_handing_over(inventory):
    book = load_playbook(SHIPPED / "syspatch.yml")
    tasks = plan(book, inventory.pair(), master="fw1")
    nodes = [t.node for t in tasks if t.step.kind == "syspatch"]
    assert nodes == ["fw2", "fw1"]
    first_on_master = next(t for t in tasks if t.node == "fw1")
    assert first_on_master.describe() == "fw1: maintenance enter"   # it hands over itself
    assert tasks[-2].describe() == "failover back"


def test_a_serial_playbook_without_its_own_hand_over_gets_one(inventory, tmp_path):
    book = load_playbook(write(tmp_path, "serial: true\nsteps:\n  - run: uptime\n"))
    described = [t.describe() for t in plan(book, inventory.pair(), master="fw1")]
    assert described == ["fw2: run uptime", "fw1: failover away", "fw1: run uptime"]


def test_check_prints_the_plan_and_changes_nothing(lab, capsys):
    code = main(["-i", str(lab.inventory), "run", str(SHIPPED / "syspatch.yml"), "--check"])
    out = capsys.readouterr().out
    assert code == 0 and "1. fw2: maintenance enter" in out and "6. fw1: syspatch" in out
    commands = [e.command for n in ("fw1", "fw2") for e in lab.log("pair1", n)]
    assert not any("carpdemote" in c or "syspatch" in c or "lock" in c for c in commands)


def master_gaps(lab, pair: str = "pair1") -> float:
    """The longest time any vhid had no MASTER, from the lab's CARP transitions."""
    model = lab.pairs[pair].model
    masters: dict[str, set[str]] = {}
    since: dict[str, float] = {}
    longest = 0.0
    for t in model.transitions:
        holders = masters.setdefault(t.ifname, set())
        if t.new == "MASTER":
            if not holders and t.ifname in since:
                longest = max(longest, t.time - since.pop(t.ifname))
            holders.add(t.node)
        elif t.old == "MASTER":
            holders.discard(t.node)
            if not holders:
                since[t.ifname] = t.time
    return longest


def test_the_syspatch_window_patches_both_nodes_and_never_drops_the_shared_addresses(lab, session):
    for node in ("fw1", "fw2"):
        lab.syspatch_pending("pair1", node, ["001_kernel", "002_relayd"])
    book = load_playbook(SHIPPED / "syspatch.yml")
    result = run_playbook(session, book, session.inventory.pair())
    assert len(result.done) == len(result.tasks) == 10
    for node in ("fw1", "fw2"):
        installed = lab.node("pair1", node).fs.listdir("/var/syspatch")
        assert installed == ["76-001_kernel", "76-002_relayd"]
        assert lab.node("pair1", node).kernel_build == 2   # rebooted into the new kernel
    assert master_gaps(lab) < 1.0      # a hand-over by demotion, never a master-down wait
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    assert main(["-i", str(lab.inventory), "status"]) in (0, 1)   # drift of the lab's files only


def test_a_failing_step_stops_with_the_pair_safe_and_resume_finishes_it(lab, tmp_path, capsys):
    book = write(tmp_path, "serial: true\nsteps:\n  - maintenance: enter\n"
                           "  - run: touch /var/db/patched\n  - maintenance: exit\n"
                           "after:\n  - failover: back\n")
    lab.drop("pair1", "fw2", r"^touch /var/db/patched", count=1)   # cut in the middle of the step
    code = main(["-i", str(lab.inventory), "run", str(book), "--yes"])
    err = capsys.readouterr().err
    assert code == 1 and "The pair is safe" in err and "--resume" in err
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    assert lab.truth("pair1")["nodes"]["fw2"]["demote"] == 50     # left in maintenance
    run_id = err.split(" run --resume ")[1].split()[0]

    code = main(["-i", str(lab.inventory), "run", "--resume", run_id, "--yes"])
    assert code == 0, capsys.readouterr().err
    assert lab.node("pair1", "fw2").fs.exists("/var/db/patched")
    assert lab.node("pair1", "fw1").fs.exists("/var/db/patched")
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    for node in ("fw1", "fw2"):
        assert lab.truth("pair1")["nodes"][node]["demote"] == 0


def test_a_declined_confirmation_stops_the_run(lab, session, tmp_path):
    book = load_playbook(write(tmp_path, "steps:\n  - confirm: go on?\n  - pause: 0\n"))
    with pytest.raises(FailedError, match="not confirmed"):
        run_playbook(session, book, session.inventory.pair())


def test_the_deploy_handoff_playbook_deploys_and_ends_with_master_back(lab, inventory):
    book = load_playbook(SHIPPED / "deploy-handoff.yml")
    with Session(inventory, confirm=True) as session:   # yes to its confirm step
        result = run_playbook(session, book, inventory.pair())
    assert len(result.done) == len(result.tasks)
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    for node in ("fw1", "fw2"):
        assert 'anchor "relayd/*"' in lab.node("pair1", node).fs.read_text("/etc/pf.conf")
    assert main(["-i", str(lab.inventory), "status"]) == 0      # deployed: no drift left


def test_check_finds_an_unknown_node_in_a_failover_step(lab, tmp_path, capsys):
    book = write(tmp_path, "steps:\n  - failover: {to: fw9}\n")
    assert main(["-i", str(lab.inventory), "run", str(book), "--check"]) == 2
    assert "no node 'fw9'" in capsys.readouterr().err
