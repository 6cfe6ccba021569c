"""`carpctl demo`: carpctl's main jobs on an emulated pair, each step explained in a line.

It runs the real commands, in-process, against a lab started for the occasion
(its own inventory and history in a temporary directory), so what it shows is
exactly what a user gets on a pair of their own.
"""

from __future__ import annotations

import os
import time
from argparse import ArgumentParser, Namespace
from pathlib import Path

from carpctl.cli.output import Output
from carpctl.errors import EXIT_OK, FailedError

HELP = "start a lab pair and show carpctl on it, step by step"


def add_arguments(p: ArgumentParser) -> None:
    """No arguments of its own."""


PATCHES = ["001_kernel", "002_relayd"]


def _steps(inventory: Path, syspatch: Path) -> list[tuple[str, list[str]]]:
    i = ["-i", str(inventory)]
    return [
        ("The pair as found: fw1 MASTER (advskew 0), fw2 BACKUP (advskew 100), preempt on. Its "
         "pf.conf and relayd.conf differ from the inventory's templates, so status reports drift.",
         [*i, "status"]),
        ("Deploy the example inventory: render the templates, validate them on each node "
         "(pfctl -nf, relayd -n), back up, install atomically, apply, prove access over a new "
         "SSH connection; the BACKUP first.", [*i, "deploy", "pair1", "--yes"]),
        ("Status again: healthy, no drift.", [*i, "status"]),
        ("Fail over to the peer: advskew 254 on the MASTER, wait until fw2 is MASTER on every "
         "vhid. Restoring fw1's advskew 0 would pull MASTER back (preempt), so fw1 stays "
         "parked.", [*i, "failover", "--to", "peer", "--yes"]),
        ("Hand MASTER back: undoing fw1's parking is enough, it preempts at fw2's next "
         "advertisement.", [*i, "failover", "--to", "fw1", "--yes"]),
        ("A maintenance window from a playbook: both nodes have pending patches (one kernel "
         "patch). One node at a time: maintenance (demoted, persistently), syspatch, reboot, "
         "wait until healthy, back; the MASTER hands over first; MASTER back at the end.",
         [*i, "run", str(syspatch), "pair1", "--yes"]),
        ("What carpctl did, from its journal.", ["history", "--limit", "8"]),
    ]


def run(args: Namespace, out: Output) -> int:
    import tempfile
    from importlib import resources

    from carpctl.cli import main
    from carpctl.cli.lab import lab_extra

    with lab_extra():
        from carpctl_lab.lab import Lab

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="carpctl-demo-") as tmp:
        os.environ["CARPCTL_STATE_DIR"] = str(Path(tmp) / "state")   # the demo's own history
        out.note("Starting an emulated OpenBSD pair on 127.0.0.1 (carpctl's lab: real SSH, "
                 "emulated ifconfig/pfctl/relayd/rcctl/syspatch, CARP with real timing)...")
        with Lab(Path(tmp) / "lab") as lab:
            for node in ("fw1", "fw2"):
                lab.syspatch_pending("pair1", node, PATCHES)
            source = resources.files("carpctl") / "examples" / "playbooks" / "syspatch.yml"
            with resources.as_file(source) as syspatch:
                for number, (why, argv) in enumerate(_steps(lab.inventory, syspatch), 1):
                    out.line()
                    out.line(f"== {number}. {why}", style="bold cyan")
                    out.line(f"$ carpctl {' '.join(argv)}", style="bold")
                    code = main(argv)
                    expected = 1 if number == 1 else 0     # drift before the first deploy
                    if code != expected:
                        raise FailedError(f"demo step {number} exited {code}, not {expected}")
    out.line()
    out.line(f"Demo done in {time.monotonic() - started:.0f}s. Your own lab: `carpctl lab up "
             f"--detach` then `carpctl -i lab/inventory.yml status`; `carpctl docs` has the "
             f"user guide.",
             style="green")
    return EXIT_OK
