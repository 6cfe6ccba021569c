"""The syspatch and upgrade playbooks' wall time against the sum of their unavoidable waits.

Unavoidable: for each node, the reboot's downtime plus the boot until CARP has
settled (etc/rc's demotion and pfsync's bulk update gone), and every CARP
take-over the run asks for (the journal's hand-over times). For the upgrade, each node
reboots into the installer, the installer runs, and it reboots again: the lab's timings
here are longer than the tests' (installer 8 s, reboots 3 s), still far below a real
installer's minutes. The ratio says how much carpctl adds on top (checks, polling, SSH
round trips); carpctl's share is the difference.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from importlib import resources
from pathlib import Path

from carpctl.core.playbook import load_playbook
from carpctl.flows.playbook import run_playbook
from carpctl.inventory import load_inventory
from carpctl.runtime.history import History
from carpctl.runtime.session import Session
from carpctl_lab.lab import Lab
from carpctl_lab.pair import Timing

ROUNDS = 2


TEST_TIMING = Timing()
UPGRADE_TIMING = Timing(reboot_downtime=3.0, installer_time=8.0)


def one_round(book, timing: Timing = TEST_TIMING) -> tuple[float, float]:
    upgrade = book.name == "upgrade"
    with tempfile.TemporaryDirectory() as tmp:
        with Lab(Path(tmp) / "lab", timing=timing) as lab:
            for node in ("fw1", "fw2"):
                lab.syspatch_pending("pair1", node, ["001_kernel"])
            history = History(Path(tmp) / "history.sqlite")
            with Session(load_inventory(lab.inventory), history=history) as session:
                session.begin("bench syspatch", ["pair1"])
                start = time.monotonic()
                run_playbook(session, book, session.inventory.pair())
                wall = time.monotonic() - start
                steps = history.steps(session.run.id)
            history.close()
    downtime = timing.reboot_downtime + (timing.installer_time + timing.reboot_downtime
                                         if upgrade else 0.0)
    boots = 2 * (downtime + max(timing.rc_time, timing.bulk_time))
    takeovers = sum(s["data"].get("seconds", 0.0) for s in steps if s["name"] == "handover")
    return wall, boots + takeovers


def measure(name: str, what: str, timing: Timing = TEST_TIMING) -> None:
    source = resources.files("carpctl") / "examples" / "playbooks" / f"{name}.yml"
    with resources.as_file(source) as path:
        book = load_playbook(path)
        rounds = [one_round(book, timing) for _ in range(ROUNDS)]
    wall = statistics.median(w for w, _ in rounds)
    floor = statistics.median(u for _, u in rounds)
    print(f"playbook.{name}.wall: {wall:.2f} s (median of {ROUNDS}; 2 nodes, {what})")
    print(f"playbook.{name}.unavoidable_waits: {floor:.2f} s (reboot downtimes"
          f"{' + installer' if name == 'upgrade' else ''} + boot demotion + CARP take-overs)")
    print(f"playbook.{name}.carpctl_share: {wall - floor:.2f} s")
    print(f"playbook.{name}.ratio: {wall / floor:.2f} x")


def main() -> None:
    measure("syspatch", "kernel patch, reboots")
    measure("upgrade", "sysupgrade, installer and two reboots each, sysmerge, fw_update, "
            "pkg_add", UPGRADE_TIMING)


if __name__ == "__main__":
    main()
