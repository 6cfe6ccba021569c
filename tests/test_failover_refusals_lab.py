"""Failover's refusals through the real CLI against the lab: the message on stderr, exit 3,
and nothing changed on either node (the lab's truth, and no setter in its command log)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from carpctl.remote.paths import MAINTENANCE_DIR, MAINTENANCE_FILE
from carpctl_lab.lab import Lab

#: what a failover would run to change a node; a refused one runs none of it
SETTER = re.compile(r"advskew \d|carpdemote|\bstate (master|backup)|sysctl net\.inet\.carp\.\w+="
                    r"|rcctl (start|stop|restart|reload|enable|disable)|pfctl -[efd]")


def on_node(lab: Lab, node: str, *argv: str) -> None:
    """A fault made on the node itself, as root at its console (not in the command log)."""
    target = lab.node("pair1", node)
    with target.lock:
        target.pair.advance()
        status, output = target.system(list(argv))
    assert status == 0, output


def in_maintenance(lab: Lab) -> None:
    fs = lab.node("pair1", "fw2").fs
    fs.mkdir(MAINTENANCE_DIR, parents=True)
    fs.write_text(MAINTENANCE_FILE, "since 2026-12-08 by alice\n")


FAULTS = {
    "target in maintenance": (in_maintenance, "pair1: fw2 is in maintenance mode",
                              "carpctl maintenance exit pair1 fw2"),
    "pf states out of step": (lambda lab: on_node(lab, "fw2", "pfctl", "-d"),
                              "pair1: pf state counts differ (fw1 44, fw2 0): pfsync is not "
                              "keeping the nodes in step", None),
    "relayd on one node only": (lambda lab: on_node(lab, "fw2", "rcctl", "stop", "relayd"),
                                "pair1: relayd runs on fw1 but not on fw2",
                                "start it first: rcctl start relayd on fw2"),
    "vhids that differ": (lambda lab: on_node(lab, "fw2", "ifconfig", "carp1", "destroy"),
                          "pair1: the nodes' vhids differ (fw1: [1, 2], fw2: [1])", None),
}


def carp_truth(lab: Lab) -> dict:
    return {name: (node["demote"], node["preempt"], node["carp"])
            for name, node in lab.truth("pair1")["nodes"].items()}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_refused_failover_says_why_exits_3_and_changes_nothing(lab, fault):
    make, message, hint = FAULTS[fault]
    make(lab)
    before = carp_truth(lab)
    logged = {node: len(lab.log("pair1", node)) for node in ("fw1", "fw2")}
    done = subprocess.run([sys.executable, "-m", "carpctl", "-i", str(lab.inventory), "failover",
                           "--to", "peer", "--yes"], capture_output=True, text=True, timeout=60,
                          env=os.environ.copy())
    assert done.returncode == 3, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert hint is None or hint in done.stderr
    assert carp_truth(lab) == before
    ran = [e.command for node in ("fw1", "fw2") for e in lab.log("pair1", node)[logged[node]:]]
    assert ran and not [command for command in ran if SETTER.search(command)]
