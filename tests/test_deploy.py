"""`carpctl deploy` against the lab over real SSH: what a user relies on when pushing files."""

from __future__ import annotations

import hashlib
import re
import threading
import time

import pytest
from deploy_support import (
    cli,
    commands_run,
    edit_template,
    file_hashes,
    leftovers,
    loaded,
    run_deploy,
)

from carpctl.flows.status import status
from carpctl.inventory import load_inventory
from carpctl.remote import commands as C
from carpctl.render.templates import render_files
from carpctl.runtime.history import History
from carpctl.runtime.lock import PairLock
from carpctl.runtime.session import Session

# what changes a node's files or running configuration (staging and backups do not)
CHANGES = r"^(mv \S+ /etc/(pf|relayd)\.conf|pfctl -f|pfctl -e|rcctl (enable|start|reload)|sh -c if)"


def test_a_first_deploy_installs_the_rendered_files_backup_first_and_status_shows_no_drift(
        lab, inventory, session):
    pair = inventory.pair("pair1")
    report = run_deploy(session)

    assert report.exit_code == 0, report.summary
    assert {n: r.state for n, r in report.nodes.items()} == {"fw1": "updated", "fw2": "updated"}
    for node in pair.nodes:
        fs = lab.node("pair1", node.name).fs
        for rendered in render_files(pair, node):
            assert fs.read_text(rendered.dest) == rendered.text
            st = fs.stat(rendered.dest)
            assert (oct(st.mode), st.owner, st.group) == ("0o600", "root", "wheel")
    installs = [s["node"] for s in session.history.steps(session.run.id) if s["name"] == "install"]
    assert installs == ["fw2", "fw1"], "the BACKUP (fw2) is updated before the MASTER"
    with Session(inventory) as fresh:
        (result,) = status(fresh, [pair])
    assert result.verdict.healthy, result.verdict.findings
    assert leftovers(lab) == []


def test_the_replaced_files_are_backed_up_on_each_node_and_the_history_names_the_sets(
        lab, session):
    before = {n.name: n.fs.read_text("/etc/pf.conf") for n in lab.pairs["pair1"].nodes}
    report = run_deploy(session)

    for name, node_report in report.nodes.items():
        fs = lab.node("pair1", name).fs
        assert fs.read_text(f"{node_report.backup}/files/etc/pf.conf") == before[name]
        assert "file\tpf\t/etc/pf.conf\t" in fs.read_text(f"{node_report.backup}/MANIFEST")
    session.finish(0, report.summary)
    details = History().run(session.run.id).details
    assert details["backups"]["pair1"] == {n: r.backup for n, r in report.nodes.items()}


def test_a_second_identical_deploy_changes_nothing_and_says_so(lab, session, inventory):
    assert run_deploy(session).exit_code == 0
    marks = {n: len(lab.log("pair1", n)) for n in ("fw1", "fw2")}
    with Session(inventory, history=History()) as again:
        report = run_deploy(again)

    assert report.exit_code == 0 and not report.changes
    assert "nothing to do" in report.summary
    for node, mark in marks.items():
        later = [line for e in lab.log("pair1", node)[mark:] for line in e.command.splitlines()]
        assert not [line for line in later if re.search(CHANGES, line)], later


def test_check_shows_the_pending_diffs_and_changes_nothing(lab, capsys):
    hashes, rules = file_hashes(lab), loaded(lab)
    code, report, _ = cli(lab, capsys, "deploy", "pair1", "--check")

    assert code == 0 and report["changes"] is True
    (pair,) = report["pairs"]
    assert pair["nodes"]["fw2"]["state"] == "pending"
    assert any("+# /etc/pf.conf of fw2 (pair1)" in diff for diff in pair["diffs"])
    assert file_hashes(lab) == hashes and loaded(lab) == rules
    assert leftovers(lab) == []
    assert not lab.node("pair1", "fw1").fs.exists("/var/carpctl/lock"), "--check takes no lock"


def test_check_after_a_deploy_reports_nothing_to_do_with_exit_0(lab, capsys):
    assert cli(lab, capsys, "deploy", "pair1", "--yes", "--confirm-timeout", "3")[0] == 0
    code, report, _ = cli(lab, capsys, "deploy", "pair1", "--check")

    assert code == 0 and report["changes"] is False
    assert report["pairs"][0]["diffs"] == []


def test_a_deploy_without_a_terminal_or_yes_is_refused_before_anything(lab, capsys):
    hashes = file_hashes(lab)
    code, _, err = cli(lab, capsys, "deploy", "pair1")

    assert code == 3 and "--yes" in err
    assert file_hashes(lab) == hashes


@pytest.mark.parametrize("bad", ["this is not pf syntax", 'rdr-anchor "relayd/*"'])
def test_an_invalid_pf_conf_changes_nothing_on_either_node_and_names_the_template_line(
        lab, session, bad):
    line = edit_template(lab, "pf.conf.j2", 'anchor "relayd/*"\n',
                         f'anchor "relayd/*"\n{bad}\n') + 1
    session.inventory = load_inventory(lab.inventory)
    hashes, rules = file_hashes(lab), loaded(lab)
    report = run_deploy(session)

    assert report.exit_code == 1
    assert f"pf.conf.j2:{line}: syntax error" in report.summary
    pair = session.inventory.pair()
    rendered = next(f.text for f in render_files(pair, pair.node("fw2")) if f.dest == "/etc/pf.conf")
    assert f"[rendered line {rendered.splitlines().index(bad) + 1}: {bad}]" in report.summary
    assert "/etc/pf.conf is invalid (pfctl -nf /etc/pf.conf)" in report.summary
    assert file_hashes(lab) == hashes and loaded(lab) == rules
    assert leftovers(lab) == []
    assert not commands_run(lab, "fw1", CHANGES) and not commands_run(lab, "fw2", CHANGES)


def test_a_relayd_conf_error_inside_a_loop_is_traced_to_its_template_line(lab, session):
    line = edit_template(lab, "relayd.conf.j2", 'webhost{{ loop.index }}="{{ host }}"\n',
                         'webhost{{ loop.index }}="{{ host }}" oops\n')
    session.inventory = load_inventory(lab.inventory)
    hashes = file_hashes(lab)
    report = run_deploy(session)

    assert report.exit_code == 1
    assert f"relayd.conf.j2:{line}: syntax error [rendered line 5: " in report.summary
    assert "(relayd -n -f /etc/relayd.conf)" in report.summary
    assert file_hashes(lab) == hashes and leftovers(lab) == []


def test_relayd_that_fails_to_start_is_rolled_back_and_the_master_is_untouched(
        lab, session, monkeypatch):
    from carpctl_lab.openbsd import rcctl

    real_start = rcctl.relayd_start
    monkeypatch.setattr(rcctl, "relayd_start", lambda node: False if "cannot-start" in
                        node.fs.read_text("/etc/relayd.conf") else real_start(node))
    lab.node("pair1", "fw2").system(["rcctl", "stop", "relayd"])
    edit_template(lab, "relayd.conf.j2", "relay www {", "# cannot-start\nrelay www {")
    session.inventory = load_inventory(lab.inventory)
    hashes, rules = file_hashes(lab), loaded(lab)
    report = run_deploy(session)

    assert report.exit_code == 1
    assert "relayd(failed)" in report.summary and "restored its previous files" in \
        report.summary
    assert {n: r.state for n, r in report.nodes.items()} == {"fw2": "restored",
                                                             "fw1": "untouched"}
    assert file_hashes(lab) == hashes and loaded(lab) == rules
    assert not lab.node("pair1", "fw2").relayd.running, "stopped before, stopped again"
    assert leftovers(lab) == []
    assert not commands_run(lab, "fw1", CHANGES)


def test_a_connection_dropped_mid_install_leaves_no_half_written_file(lab, session):
    lab.drop("pair1", "fw2", r"^mv /etc/\.relayd\.conf")   # after pf.conf, before relayd.conf
    hashes, rules = file_hashes(lab), loaded(lab)
    report = run_deploy(session)

    assert report.exit_code == 1, report.summary
    assert "connection lost" in report.summary and "restored" in report.summary
    assert file_hashes(lab) == hashes and loaded(lab) == rules
    assert leftovers(lab) == []
    backups = lab.node("pair1", "fw2").fs
    assert not backups.exists("/var/carpctl/backups") or \
        backups.listdir("/var/carpctl/backups") == [], "an undone run leaves no backup set"


def test_a_full_disk_refuses_the_deploy_before_anything_is_touched(lab, session):
    lab.disk_full("pair1", "fw2")
    hashes, rules = file_hashes(lab), loaded(lab)
    report = run_deploy(session)

    assert report.exit_code == 3
    assert "fw2" in report.summary and "No space left on device" in report.summary
    assert file_hashes(lab) == hashes and loaded(lab) == rules
    lab.disk_full("pair1", "fw2", False)
    assert leftovers(lab) == []


def test_a_disk_that_fills_before_the_upload_installs_nothing_and_leaves_nothing(lab, session):
    lab.slow("pair1", "fw2", 0.5, r"^mkdir -m 700")
    watcher = _fill_disk_when(lab, "fw2", r"mkdir /var/carpctl/lock")
    hashes, rules = file_hashes(lab), loaded(lab)
    report = run_deploy(session)
    watcher.join()

    assert report.exit_code == 1
    assert "No space left on device" in report.summary
    assert file_hashes(lab) == hashes and loaded(lab) == rules
    lab.disk_full("pair1", "fw2", False)
    assert leftovers(lab) == []


def test_a_disk_that_fills_while_backing_up_installs_nothing(lab, session):
    lab.slow("pair1", "fw2", 0.5, r"^mkdir -p /var/carpctl/backups")
    watcher = _fill_disk_when(lab, "fw1", r"^pfctl -nf")   # both nodes validated
    hashes, rules = file_hashes(lab), loaded(lab)
    report = run_deploy(session)
    watcher.join()

    assert report.exit_code == 1
    assert "backing up failed" in report.summary and "nothing was installed" in report.summary
    assert file_hashes(lab) == hashes and loaded(lab) == rules
    lab.disk_full("pair1", "fw2", False)
    assert leftovers(lab) == []
    assert not commands_run(lab, "fw2", CHANGES)


def _fill_disk_when(lab, node: str, pattern: str) -> threading.Thread:
    """Fill fw2's disk as soon as `node` has run a command matching `pattern`."""
    def watch() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not commands_run(lab, node, pattern):
            time.sleep(0.01)
        lab.disk_full("pair1", "fw2")
    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_only_pf_deploys_pf_conf_alone(lab, session):
    hashes = file_hashes(lab)
    report = run_deploy(session, only=("pf",))

    assert report.exit_code == 0
    after = file_hashes(lab)
    for node in ("fw1", "fw2"):
        assert after[node]["/etc/pf.conf"] != hashes[node]["/etc/pf.conf"]
        assert after[node]["/etc/relayd.conf"] == hashes[node]["/etc/relayd.conf"]
    assert not commands_run(lab, "fw1", r"rcctl (enable|start|reload)")


def test_a_pair_locked_by_another_operator_is_refused(lab, inventory, session):
    hashes = file_hashes(lab)
    with Session(inventory) as other, PairLock(other, inventory.pair("pair1"), "failover"):
        report = run_deploy(session)

    assert report.exit_code == 3 and "locked" in report.summary
    assert file_hashes(lab) == hashes


def test_a_node_whose_sshd_is_down_refuses_the_deploy_and_the_other_node_is_untouched(lab, session):
    lab.ssh_down("pair1", "fw1")
    before = file_hashes(lab)["fw2"]
    report = run_deploy(session)

    assert report.exit_code == 3
    assert "fw1" in report.summary
    fs = lab.node("pair1", "fw2").fs
    assert {d: hashlib.sha256(fs.read_bytes(d)).hexdigest() for d in before} == before


def test_pf_is_enabled_by_a_deploy_only_when_it_was_disabled(lab, session):
    """Trap 15: `pfctl -e` exits 1 on a running pf and `pfctl -ef` fails after loading; carpctl
    loads with `pfctl -f` and runs `pfctl -e` alone, only where pf was off."""
    fw2 = session.connection(session.inventory.pair().node("fw2"))
    assert fw2.run(C.cmd("pfctl", "-d", privileged=True)).ok
    report = run_deploy(session)
    assert report.exit_code == 0, report.summary
    assert commands_run(lab, "fw2", r"^pfctl -e$") == ["pfctl -e"]
    assert commands_run(lab, "fw1", r"^pfctl -e") == []   # fw1's pf was running
    assert all("-ef" not in c for node in ("fw1", "fw2") for c in commands_run(lab, node, "^pfctl"))
    for node in session.inventory.pair().nodes:
        assert session.connection(node).run(C.PF_INFO).stdout.startswith("Status: Enabled")
