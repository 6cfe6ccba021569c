"""Nothing of a failed deploy is left on the nodes, and the pair ends on one configuration
(issue 14), over real SSH against the lab."""

from __future__ import annotations

import time

from deploy_support import FILES, edit_template, file_hashes, leftovers, loaded, run_deploy

from carpctl.inventory import load_inventory


def test_a_cut_right_after_the_staging_mkdir_leaves_no_staged_copy_on_the_node(lab, session):
    lab.drop("pair1", "fw2", r"^mkdir -m 700 /tmp/carpctl-", after=True)
    hashes = file_hashes(lab)
    report = run_deploy(session)

    assert report.exit_code == 1, report.summary
    assert "connection lost" in report.summary
    assert file_hashes(lab) == hashes
    assert leftovers(lab) == []


def test_a_cut_while_staging_on_the_master_leaves_nothing_on_either_node(lab, session):
    lab.drop("pair1", "fw1", r"^install -m", after=True)
    report = run_deploy(session)

    assert report.exit_code == 1, report.summary
    assert leftovers(lab) == []


def test_a_cut_while_uploading_to_the_master_leaves_nothing_on_either_node(lab, session):
    lab.drop("pair1", "fw1", r"^sftp open /tmp/carpctl-")
    report = run_deploy(session)

    assert report.exit_code == 1, report.summary
    assert leftovers(lab) == []


def test_a_later_deploy_removes_what_dead_runs_staged_and_spares_a_running_check(
        lab, session):
    fw2 = lab.node("pair1", "fw2").fs
    dead = ["/etc/.pf.conf.carpctl-20200101-000000-abcd",
            "/etc/.relayd.conf.carpctl-20200101-000000-abcd-restore",
            "/tmp/carpctl-20200101-000000-abcd-0badf00d"]
    fw2.write_text(dead[0], "pass\n")
    fw2.write_text(dead[1], "relay\n")
    fw2.mkdir(dead[2])
    fw2.write_text(f"{dead[2]}/0", "pass\n")
    checking = f"/tmp/carpctl-{time.strftime('%Y%m%d-%H%M%S')}-beef-check-12345678"
    fw2.mkdir(checking)
    report = run_deploy(session)

    assert report.exit_code == 0, report.summary
    assert leftovers(lab) == [f"fw2:{checking}"], "a --check of another operator goes on"
    sweeps = [s for s in session.history.steps(session.run.id) if s["name"] == "sweep"]
    assert [(s["node"], sorted(s["data"]["removed"])) for s in sweeps] == [("fw2", sorted(dead))]


def test_when_the_master_fails_after_the_backup_was_updated_both_nodes_end_restored(
        lab, session):
    lab.drop("pair1", "fw1", r"^mv /etc/\.relayd\.conf")
    hashes, rules = file_hashes(lab), loaded(lab)
    report = run_deploy(session)

    assert report.exit_code == 1, report.summary
    assert "fw2, updated before, was restored too" in report.summary
    assert {n: r.state for n, r in report.nodes.items()} == {"fw1": "restored",
                                                             "fw2": "restored"}
    assert file_hashes(lab) == hashes and loaded(lab) == rules
    assert leftovers(lab) == []
    for node in lab.pairs["pair1"].nodes:
        assert not node.fs.exists("/var/carpctl/backups") or \
            node.fs.listdir("/var/carpctl/backups") == [], node.name


def test_a_master_that_fails_before_installing_is_reported_untouched_not_restored(
        lab, session):
    lab.drop("pair1", "fw1", r"^mkdir -p /var/carpctl/backups")
    hashes = file_hashes(lab)
    report = run_deploy(session)

    assert report.exit_code == 1, report.summary
    assert "nothing was installed" in report.summary
    assert {n: r.state for n, r in report.nodes.items()} == {"fw1": "untouched",
                                                             "fw2": "restored"}
    assert file_hashes(lab) == hashes
    assert leftovers(lab) == []


def test_a_restore_redials_a_node_that_dropped_instead_of_giving_up_at_once(lab, session):
    lab.drop("pair1", "fw2", r"^mv /etc/\.relayd\.conf|^cp -p /var/carpctl/backups", count=2)
    hashes = file_hashes(lab)
    report = run_deploy(session)

    assert report.exit_code == 1, report.summary
    assert "restored its previous files and verified them" in report.summary
    assert file_hashes(lab) == hashes
    assert leftovers(lab) == []


def test_rules_that_stop_carp_on_one_carpdev_are_restored_byte_for_byte_naming_the_vhid(
        lab, session):
    edit_template(lab, "pf.conf.j2", "pass on $carp_ifs proto carp keep state",
                  "pass on { $ext_if $sync_if } proto carp keep state")
    session.inventory = load_inventory(lab.inventory)
    before = {n.name: {d: n.fs.read_bytes(d) for d in FILES} for n in lab.pairs["pair1"].nodes}
    rules = loaded(lab)
    report = run_deploy(session, carp_window=None)

    assert report.exit_code == 1, report.summary
    assert "CARP changed after applying: vhid 2: split brain" in report.summary
    assert "restored its previous files and verified them" in report.summary
    assert {n: r.state for n, r in report.nodes.items()} == {"fw2": "restored",
                                                             "fw1": "untouched"}
    after = {n.name: {d: n.fs.read_bytes(d) for d in FILES} for n in lab.pairs["pair1"].nodes}
    assert after == before and loaded(lab) == rules
    assert leftovers(lab) == []


def test_a_good_deploy_watches_carp_for_three_advertisement_intervals_and_succeeds(
        lab, session):
    report = run_deploy(session, carp_window=None)

    assert report.exit_code == 0, report.summary
    watched = [s for s in session.history.steps(session.run.id) if s["name"] == "carp"]
    assert len(watched) == 2, "once per node committed"
    assert all(s["data"]["seconds"] >= 3 * (1 + 100 / 256) for s in watched)


def test_a_failed_first_deploy_puts_relayd_back_disabled_and_stopped_as_it_was(lab, session):
    fw2 = lab.node("pair1", "fw2")
    fw2.system(["rcctl", "stop", "relayd"])
    fw2.system(["rcctl", "disable", "relayd"])
    fw2.fs.unlink("/etc/relayd.conf")
    rc_conf = fw2.fs.read_bytes("/etc/rc.conf.local") if fw2.fs.exists("/etc/rc.conf.local") \
        else None
    lab.relayd_fails("pair1", "fw2")
    report = run_deploy(session)

    assert report.exit_code == 1, report.summary
    assert "restored its previous files and verified them" in report.summary
    assert not fw2.fs.exists("/etc/relayd.conf"), "the file the deploy created is gone"
    assert (fw2.fs.read_bytes("/etc/rc.conf.local") if fw2.fs.exists("/etc/rc.conf.local")
            else None) == rc_conf
    assert not fw2.relayd.running
    assert fw2.system(["rcctl", "get", "relayd", "status"])[0] == 1, "disabled"
    assert leftovers(lab) == []


def test_when_the_updated_backup_cannot_be_restored_the_exit_is_4_naming_what_differs(
        lab, session):
    lab.drop("pair1", "fw1", r"^mv /etc/\.relayd\.conf")
    lab.drop("pair1", "fw2", r"^cp -p /var/carpctl/backups", count=1000)   # its restore only
    fw1_before = {d: lab.node("pair1", "fw1").fs.read_bytes(d) for d in FILES}
    report = run_deploy(session)

    assert report.exit_code == 4, report.summary
    assert "fw2 keeps the new files" in report.summary
    assert {n: r.state for n, r in report.nodes.items()} == {"fw1": "restored",
                                                             "fw2": "updated"}
    assert f"`carpctl rollback pair1 --node fw2 --to {session.run.id}`" in report.summary
    assert {d: lab.node("pair1", "fw1").fs.read_bytes(d) for d in FILES} == fw1_before
