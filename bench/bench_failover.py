"""Failover wall time against the CARP limit and against the bare procedure, side by side.

The limit is the time the peer needs to take over: the demoted MASTER's next
advertisement, advbase + 254/256 s after the demotion for advskew (1.99 s at
advbase 1), about one advertisement exchange for carpdemote (counted as 0 here).
Targets (issue 13): hand-over <= 1.1 x limit + one poll interval; total wall time
<= the bare procedure's (bench/bare_failover.py: plain ssh, no checks) timed in
the same run on the same lab. Round trips are counted per node from the lab's
command log (one exec = one round trip), for `maintenance enter` and `exit` too.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench import bare_ansible, bare_failover
from carpctl.core.carp import seconds
from carpctl.flows.failover import POLL, failover
from carpctl.inventory import load_inventory
from carpctl.runtime.session import Session
from carpctl_lab.image import PairSpec
from carpctl_lab.lab import Lab

ROUNDS = 3
SKEWS = {"equal 10/10": (10, 10), "unequal 0/100": (0, 100)}


def _targets(lab: Lab, session: Session) -> list[bare_failover.Target]:
    return [bare_failover.Target(n.name, n.user, lab.port("pair1", n.name), lab.client_key,
                                 lab.known_hosts) for n in session.inventory.pair().nodes]


def _execs(lab: Lab) -> dict[str, int]:
    return {n: len(lab.log("pair1", n)) for n in ("fw1", "fw2")}


def _logged_handover(lab: Lab, since: dict[str, int]) -> float:
    """From the node's log: the demote exec to the end of the poll that saw the peer MASTER
    (the last exec on the other node before the restore)."""
    new = sorted(((e, n) for n in since for e in lab.log("pair1", n)[since[n]:]),
                 key=lambda en: en[0].time)
    demote, master = next((e, n) for e, n in new if "advskew 254" in e.command
                          or " carpdemote" in e.command)
    restore = next(e for e, n in new if n == master and e.time > demote.time
                   and e is not demote)
    last = max((e for e, n in new if n != master and e.time < restore.time),
               key=lambda e: e.time)
    return last.time + last.duration - demote.time


def _settle(lab: Lab) -> dict[str, int]:
    time.sleep(3.5)  # let the pair settle at its new MASTER before the next one starts
    return _execs(lab)


def _one(method: str, skews: tuple[int, int]) -> dict[str, float]:
    """One round on a fresh lab: each bare yardstick, then carpctl, one after the other."""
    found: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, \
            Lab(Path(tmp) / "lab", pairs=[PairSpec(advskew=skews)]) as lab:
        with Session(load_inventory(lab.inventory)) as session:
            for label, multiplex in (("ssh_mux", True), ("ssh", False)):
                with bare_failover.Bare(_targets(lab, session), multiplex=multiplex) as bare:
                    first = _execs(lab)
                    found[f"{label}_handover"], found[f"{label}_total"] = \
                        bare_failover.failover(bare, method=method)
                    mid = _settle(lab)
                    found["bare_rt"] = max(mid[n] - first[n] for n in mid)
            took = bare_ansible.failover(_targets(lab, session), method=method)
            if took is not None:
                found["ansible_handover"], found["ansible_total"] = _logged_handover(lab, mid), took
            settled = _settle(lab)
            start = time.monotonic()
            report = failover(session, session.inventory.pair(), to="peer", method=method)
            found["total"] = time.monotonic() - start
        end = _execs(lab)
    found["handover"] = report.handover_seconds
    found["rt_source"] = end[report.source] - settled[report.source]
    found["rt_target"] = end[report.target] - settled[report.target]
    return found


YARDSTICKS = {"ssh_mux": "plain ssh, multiplexed and warm",
              "ssh": "plain ssh, a connection per command",
              "ansible": "ansible-playbook, raw module"}


def measure(method: str, label: str, skews: tuple[int, int]) -> None:
    runs = [_one(method, skews) for _ in range(ROUNDS)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)
    limit = seconds(1, 254) if method == "advskew" else 0.0
    budget = 1.1 * limit + POLL if limit else None
    name = f"failover.{method}.{label.split()[0]}"
    print(f"{name}.skews: {label}; carp_limit {limit:.3f} s")
    verdict = "" if budget is None else (f" (budget {budget:.3f} s -> "
                                         f"{'ok' if med('handover') <= budget else 'OVER'})")
    print(f"{name}.handover: {med('handover'):.3f} s median of {ROUNDS}{verdict}")
    if limit:
        print(f"{name}.handover_ratio: {med('handover') / limit:.2f} x limit")
    print(f"{name}.total: {med('total'):.3f} s (lock, checks, hand-over, restore, settle, unlock)")
    for key, what in YARDSTICKS.items():
        if f"{key}_total" not in runs[0]:
            print(f"{name}.bare_{key}: not measured ({what}: pip install 'carpctl[bench]')")
            continue
        ratio = med("total") / med(f"{key}_total")
        print(f"{name}.bare_{key}: handover {med(f'{key}_handover'):.3f} s, total "
              f"{med(f'{key}_total'):.3f} s ({what}); carpctl/bare {ratio:.2f} "
              f"(target <= 1.00 -> {'ok' if ratio <= 1 else 'OVER'})")
    print(f"{name}.round_trips: source {med('rt_source'):.0f}, target {med('rt_target'):.0f} "
          f"(bare: {med('bare_rt'):.0f} on its busiest node)")


def maintenance_round_trips() -> None:
    """Execs per node of `maintenance enter` on the MASTER (a hand-over included) and on
    the BACKUP, and of each `exit`, from the lab's log."""
    from carpctl.flows.maintenance import enter, exit_

    for node in ("fw1", "fw2"):
        with tempfile.TemporaryDirectory() as tmp, Lab(Path(tmp) / "lab") as lab:
            with Session(load_inventory(lab.inventory)) as session:
                pair = session.inventory.pair()
                for action in (enter, exit_):
                    before = _execs(lab)
                    action(session, pair, node)
                    after = _execs(lab)
                    role = "master" if node == "fw1" else "backup"
                    print(f"maintenance.{action.__name__.strip('_')}.{role}.round_trips: "
                          f"node {after[node] - before[node]}, peer "
                          f"{sum(after.values()) - sum(before.values()) - (after[node] - before[node])}")


def main() -> None:
    for method in ("advskew", "carpdemote"):
        for label, skews in SKEWS.items():
            measure(method, label, skews)
    maintenance_round_trips()


if __name__ == "__main__":
    main()
