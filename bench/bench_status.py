"""`carpctl status` costs: round trips per node, wall time for 1/10/50 pairs, --help start-up.

The lab runs in its own process (`carpctl lab up --detach`), as firewalls would be
other machines: in-process, its SSH server would share carpctl's interpreter
lock and the numbers would measure the lab. The status flow is timed in-process
(a fresh Session each time, so connection set-up is included), then the CLI once.
Targets: 1 exec per node after connecting; 50 pairs within 3x the time of 1;
`carpctl --help` under 0.3 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SIZES = (1, 10, 50)
REPEAT = 5
PARALLEL = (16, 64)


def _carpctl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "carpctl", *args], capture_output=True,
                          text=True, env=env)


def _without_files(source: Path) -> Path:
    """A fresh lab differs from the templates (drift); status should find it healthy."""
    document = yaml.safe_load(source.read_text())
    for pair in document["pairs"].values():
        pair.pop("files", None)
    target = source.with_name("bench.yml")
    target.write_text(yaml.safe_dump(document))
    return target


def _round_trips() -> int:
    """Execs the lab logged per node for one status, after the connection was made."""
    from carpctl.flows.status import status
    from carpctl.inventory import load_inventory
    from carpctl.runtime.session import Session
    from carpctl_lab.lab import Lab

    with Lab() as lab:
        inventory = load_inventory(_without_files(lab.inventory))
        with Session(inventory) as session:
            status(session, inventory.select([]))
        return max(len(lab.log("pair1", name)) for name in ("fw1", "fw2"))


def _status_seconds(inventory, names: list[str], parallel: int) -> float:
    """Median wall time of the status flow over fresh sessions (connections included)."""
    from carpctl.flows.status import status
    from carpctl.runtime.session import Session

    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        with Session(inventory) as session:
            results = status(session, inventory.select(names), parallel=parallel)
        times.append(time.perf_counter() - start)
        assert all(r.verdict.healthy for r in results), [r.verdict for r in results]
    return statistics.median(times)


def _cpu_per_node(inventory, directory: Path) -> None:
    """Where 50 pairs' time goes: CPU per node in carpctl and in the lab's one process.

    Against the lab everything is CPU on this machine; with real firewalls the
    round-trip latency, which --parallel overlaps, dominates instead.
    """
    lab_stat = Path(f"/proc/{(directory / 'lab.pid').read_text().strip()}/stat")

    def lab_cpu() -> float:
        fields = lab_stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    nodes = 2 * len(inventory.pairs)
    client, server = time.process_time(), lab_cpu() if lab_stat.exists() else None
    _status_seconds(inventory, [], max(PARALLEL))
    runs = nodes * REPEAT
    print(f"status_cpu_per_node_carpctl: {1000 * (time.process_time() - client) / runs:.1f} ms")
    if server is not None:
        print(f"status_cpu_per_node_lab: {1000 * (lab_cpu() - server) / runs:.1f} ms "
              f"({os.cpu_count()} CPUs)")


def _help_seconds() -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        _carpctl("--help").check_returncode()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    from carpctl.inventory import load_inventory

    print(f"status_round_trips_per_node: {_round_trips()} execs (target 1)", flush=True)
    with tempfile.TemporaryDirectory(prefix="carpctl-bench-") as tmp:
        directory = Path(tmp) / "lab"
        env = {**os.environ, "CARPCTL_STATE_DIR": str(Path(tmp) / "state")}
        _carpctl("lab", "up", "--detach", "--dir", str(directory), "--pairs", str(max(SIZES)),
                 env=env).check_returncode()
        try:
            path = _without_files(directory / "inventory.yml")
            inventory = load_inventory(path)
            _status_seconds(inventory, ["pair1"], 1)  # warm up: imports, first handshakes
            seconds = {}
            for parallel in PARALLEL:
                for size in SIZES:
                    names = [f"pair{i}" for i in range(1, size + 1)]
                    seconds[size, parallel] = _status_seconds(inventory, names, parallel)
                    print(f"status_wall_{size}_pairs_parallel_{parallel}: "
                          f"{seconds[size, parallel]:.3f} s", flush=True)
            best = min(seconds[max(SIZES), p] / seconds[1, p] for p in PARALLEL)
            print(f"status_50_vs_1_pairs: {best:.1f} x (target <= 3)")
            _cpu_per_node(inventory, directory)
            cli = {}
            for size in (1, max(SIZES)):   # what a user waits for, start-up included
                names = [f"pair{i}" for i in range(1, size + 1)]
                start = time.perf_counter()
                done = _carpctl("-i", str(path), "status", *names,
                                "--parallel", str(max(PARALLEL)), env=env)
                cli[size] = time.perf_counter() - start
                print(f"status_cli_{size}_pairs: {cli[size]:.3f} s (exit {done.returncode})")
            print(f"status_cli_{max(SIZES)}_vs_1_pairs: {cli[max(SIZES)] / cli[1]:.1f} x "
                  f"(target <= 3)")
        finally:
            _carpctl("lab", "down", "--dir", str(directory), env=env)
    print(f"help_startup: {_help_seconds():.3f} s (target < 0.3)")
