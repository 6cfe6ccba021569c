"""Failover wall time against the CARP limit, and round trips beyond polling.

The limit is the time the peer needs to take over: the demoted MASTER's next
advertisement, advbase + advskew/256 after the demotion (1.99 s at advbase 1,
advskew 254), or one packet exchange for carpdemote. Target: hand-over within
1.3x the limit + 0.5 s; at most 8 round trips beyond polling.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

from carpctl.core.carp import seconds
from carpctl.flows.failover import failover
from carpctl.inventory import load_inventory
from carpctl.runtime.session import Session
from carpctl_lab.lab import Lab

ROUNDS = 3
POLL = re.compile(r"ifconfig carp </dev/null.*ifconfig -g carp", re.S)


def _round_trips(lab: Lab) -> tuple[int, int]:
    commands = [e.command for n in ("fw1", "fw2") for e in lab.log("pair1", n)]
    polls = [c for c in commands if POLL.search(c) and "sysctl" not in c]
    return len(commands) - len(polls), len(polls)


def measure(method: str) -> None:
    handovers, totals, extra, polls = [], [], [], []
    limit = seconds(1, 254) if method == "advskew" else 0.0
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as tmp, Lab(Path(tmp) / "lab") as lab:
            with Session(load_inventory(lab.inventory)) as session:
                start = time.monotonic()
                report = failover(session, session.inventory.pair(), to="peer", method=method)
                totals.append(time.monotonic() - start)
            handovers.append(report.handover_seconds)
            beyond, polled = _round_trips(lab)
            extra.append(beyond)
            polls.append(polled)
    handover = statistics.median(handovers)
    budget = 1.3 * limit + 0.5
    print(f"failover.{method}.carp_limit: {limit:.3f} s")
    print(f"failover.{method}.handover: {handover:.3f} s (median of {ROUNDS}; budget {budget:.3f} s"
          f" -> {'ok' if handover <= budget else 'OVER'})")
    if limit:
        print(f"failover.{method}.handover_ratio: {handover / limit:.2f} x limit")
    print(f"failover.{method}.total: {statistics.median(totals):.3f} s (lock, checks, hand-over, "
          f"park or restore, unlock)")
    print(f"failover.{method}.round_trips_beyond_polling: {max(extra)} (target <= 8)")
    print(f"failover.{method}.poll_round_trips: {statistics.median(polls):.0f}")


def main() -> None:
    for method in ("advskew", "carpdemote"):
        measure(method)


if __name__ == "__main__":
    main()
