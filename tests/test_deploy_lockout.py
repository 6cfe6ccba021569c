"""Lockout protection: pf rules that cut SSH are undone by the node itself (commit confirmed)."""

from __future__ import annotations

import time

import yaml
from deploy_support import (
    QUICK,
    edit_template,
    file_hashes,
    leftovers,
    loaded,
    run_deploy,
)

from carpctl.inventory import load_inventory

SSH_RULE = "pass in proto tcp to self port ssh\n"


def test_pf_rules_that_cut_ssh_are_restored_by_the_node_itself_and_reported(lab, session):
    edit_template(lab, "pf.conf.j2", SSH_RULE, "# (ssh rule removed by mistake)\n")
    session.inventory = load_inventory(lab.inventory)
    hashes, rules = file_hashes(lab), loaded(lab)
    started = time.monotonic()
    report = run_deploy(session)

    assert report.exit_code == 1
    assert "locked carpctl out" in report.summary
    assert "restored its previous files itself at" in report.summary
    assert "verified over a new SSH connection" in report.summary
    assert time.monotonic() - started >= QUICK, "it waited for the node's timer"
    assert file_hashes(lab) == hashes and loaded(lab) == rules
    assert lab.node("pair1", "fw2").accepts_ssh() == "accept"
    assert {n: r.state for n, r in report.nodes.items()} == {"fw2": "restored",
                                                             "fw1": "untouched"}
    assert leftovers(lab) == []
    steps = [(s["name"], s["status"]) for s in session.history.steps(session.run.id)]
    assert ("lockout", "waiting") in steps and ("lockout", "self-restored") in steps


def test_the_confirm_timer_is_cancelled_after_a_good_deploy_and_never_fires(lab, session):
    report = run_deploy(session, confirm_timeout=1)
    assert report.exit_code == 0
    deployed = file_hashes(lab)
    time.sleep(1.5)

    fs = lab.node("pair1", "fw2").fs
    path = report.nodes["fw2"].backup
    assert not fs.exists(f"{path}/confirm.armed") and not fs.exists(f"{path}/confirm.fired")
    assert file_hashes(lab) == deployed, "the new files stay after the timeout"


def test_rules_that_silently_drop_ssh_are_restored_too(lab, session):
    """`block drop`: no answer at all, the new connection times out (here after 1 s)."""
    document = yaml.safe_load(lab.inventory.read_text())
    document["defaults"]["connect_timeout"] = 1
    lab.inventory.write_text(yaml.safe_dump(document))
    edit_template(lab, "pf.conf.j2", SSH_RULE, "")
    edit_template(lab, "pf.conf.j2", "set block-policy return", "set block-policy drop")
    session.inventory = load_inventory(lab.inventory)
    hashes, rules = file_hashes(lab), loaded(lab)
    report = run_deploy(session)

    assert report.exit_code == 1
    assert "timed out" in report.summary and "restored its previous files itself" in \
        report.summary
    assert file_hashes(lab) == hashes and loaded(lab) == rules
