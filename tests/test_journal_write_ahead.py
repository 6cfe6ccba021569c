"""A run killed mid-change (SIGKILL) leaves its changes in the journal, written before
they were sent, and the next run's --break-lock says what it left and how to undo it
(issue 14 item 4); over real SSH against the lab, the dead run a real process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

from carpctl.cli import main

DEMOTE_THEN_DIE = textwrap.dedent("""
    import os, signal, sys
    from carpctl.inventory import load_inventory
    from carpctl.remote import commands as C
    from carpctl.runtime.history import History
    from carpctl.runtime.session import Session
    from carpctl.runtime.undo import Changes

    inventory = load_inventory(sys.argv[1])
    pair = inventory.pair("pair1")
    session = Session(inventory, history=History())
    session.begin("failover pair1 --to fw2", ["pair1"])
    with session.lock(pair, "failover pair1 --to fw2"):
        fw1 = pair.node("fw1")
        changes = Changes(session)
        changes.made("demote", fw1, [C.set_advskew("carp0", 0)],
                     "fw1 is still demoted; fix on fw1: ifconfig carp0 advskew 0")
        session.connection(fw1).run(C.set_advskew("carp0", 254))
        print(session.run.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_killed_run_shows_its_pending_change_and_break_lock_names_it_with_the_undo(
        lab, capsys):
    dead = subprocess.run([sys.executable, "-c", DEMOTE_THEN_DIE, str(lab.inventory)],
                          capture_output=True, text=True)
    assert dead.returncode == -signal.SIGKILL, dead.stderr
    run_id = dead.stdout.strip()
    assert lab.truth("pair1")["nodes"]["fw1"]["carp"]["carp0"]["advskew"] == 254

    assert main(["history", run_id, "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert [(s["name"], s["node"], s["status"]) for s in steps] == \
        [("demote", "fw1", "pending")], "journaled before it was sent, never resolved"

    code = main(["deploy", "pair1", "--break-lock", "--yes", "-i", str(lab.inventory)])
    err = capsys.readouterr().err
    assert f"pair1/fw1: demote from run {run_id} (failover pair1 --to fw2), never restored: " \
        "fw1 is still demoted; fix on fw1: ifconfig carp0 advskew 0; undo: " \
        "`carpctl restore pair1 fw1`" in err
    assert err.count(f"demote from run {run_id}") == 1, "said once, not once per node"
    assert code in (0, 1, 3), err
