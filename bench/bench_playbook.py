"""The syspatch playbook's wall time against the sum of its unavoidable waits.

Unavoidable: for each node, the reboot's downtime plus the boot until CARP has
settled (etc/rc's demotion and pfsync's bulk update gone), and every CARP
take-over the run asks for (the journal's hand-over times). The ratio says how
much carpctl adds on top (checks, polling, SSH round trips).
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


def one_round(book) -> tuple[float, float]:
    timing = Timing()
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
    boots = 2 * (timing.reboot_downtime + max(timing.rc_time, timing.bulk_time))
    takeovers = sum(s["data"].get("seconds", 0.0) for s in steps if s["name"] == "handover")
    return wall, boots + takeovers


def main() -> None:
    source = resources.files("carpctl") / "examples" / "playbooks" / "syspatch.yml"
    with resources.as_file(source) as path:
        book = load_playbook(path)
        rounds = [one_round(book) for _ in range(ROUNDS)]
    wall = statistics.median(w for w, _ in rounds)
    floor = statistics.median(u for _, u in rounds)
    print(f"playbook.syspatch.wall: {wall:.2f} s (median of {ROUNDS}; 2 nodes, kernel patch, "
          f"reboots)")
    print(f"playbook.syspatch.unavoidable_waits: {floor:.2f} s (reboot downtimes + boot "
          f"demotion + CARP take-overs)")
    print(f"playbook.syspatch.ratio: {wall / floor:.2f} x")


if __name__ == "__main__":
    main()
