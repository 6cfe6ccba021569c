"""Deploy wall time and round trips against the lab.

One pair: a first deploy (both nodes change), a second identical deploy (nothing
to do) and a --check. Then 1, 10 and 50 pairs at --parallel 10. Round trips are
the exec requests the lab's nodes logged (each batch is one); SFTP uploads, one
per changed file and node, come on top (`uploads`).
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from carpctl.cli.output import Output
from carpctl.flows.deploy import DeployOptions, deploy
from carpctl.inventory import load_inventory
from carpctl.runtime.session import Session
from carpctl_lab.lab import Lab

CONFIRM = 5.0


def _exec_count(lab: Lab) -> int:
    return sum(len(lab.log(p, n.name)) for p, pair in lab.pairs.items() for n in pair.nodes)


def _run(lab: Lab, options: DeployOptions, parallel: int = 10) -> tuple[float, int, int]:
    """(seconds, exec round trips, worst exit code) of one deploy of every pair."""
    before = _exec_count(lab)
    quiet = Output(stream=io.StringIO(), err=io.StringIO())
    with Session(load_inventory(lab.inventory), report=quiet) as session:
        start = time.monotonic()
        reports = deploy(session, list(session.inventory.pairs.values()), options,
                         parallel=parallel)
        elapsed = time.monotonic() - start
    return elapsed, _exec_count(lab) - before, max(r.exit_code for r in reports)


def one_pair() -> None:
    with tempfile.TemporaryDirectory() as tmp, Lab(Path(tmp) / "lab") as lab:
        for name, options in (("check", DeployOptions(check=True, diff=True)),
                              ("first", DeployOptions(confirm_timeout=CONFIRM)),
                              ("unchanged", DeployOptions(confirm_timeout=CONFIRM))):
            elapsed, trips, code = _run(lab, options, parallel=1)
            print(f"deploy.one_pair.{name}.wall: {elapsed:.3f} s (exit {code})")
            print(f"deploy.one_pair.{name}.exec_round_trips: {trips} (both nodes)")
        print("deploy.one_pair.first.uploads: 4 (2 files x 2 nodes, SFTP)")


def many(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, Lab(Path(tmp) / "lab", pairs=count) as lab:
        elapsed, trips, code = _run(lab, DeployOptions(confirm_timeout=CONFIRM))
    print(f"deploy.pairs_{count}.parallel_10.wall: {elapsed:.3f} s (exit {code})")
    print(f"deploy.pairs_{count}.parallel_10.per_pair: {elapsed / count:.3f} s")
    print(f"deploy.pairs_{count}.parallel_10.exec_round_trips: {trips} "
          f"({trips / count:.1f} per pair)")


def main() -> None:
    one_pair()
    for count in (1, 10, 50):
        many(count)
