"""Monitoring costs: exporter scrape time (cached and not), CPU per node per read, and
memory over many watch rounds, on lab pairs.

The lab runs in its own process (`carpctl lab up --detach`), as in bench_status, so
the numbers measure carpctl, not the emulator. Defaults keep the run short
(10 pairs, 50 watch rounds); BENCH_MONITOR_PAIRS=50 BENCH_MONITOR_ROUNDS=1000 is
the issue's target run. Targets: one exec per node per read; a cached scrape
costs no read; memory flat over the rounds (growth after the first 10 rounds
well under 1 MiB per 100 rounds).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.bench_status import _without_files

PAIRS = int(os.environ.get("BENCH_MONITOR_PAIRS", "10"))
ROUNDS = int(os.environ.get("BENCH_MONITOR_ROUNDS", "50"))
SCRAPES = 5


def _carpctl(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "carpctl", *args], capture_output=True, text=True,
                   env=env).check_returncode()


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _scrapes(url: str) -> float:
    times = []
    for _ in range(SCRAPES):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _exporter(inventory, nodes: int) -> None:
    from carpctl.flows.exporter import CachedReader, serve, served_address
    from carpctl.runtime.session import Session

    with Session(inventory) as session:
        reader = CachedReader(session, inventory.select([]), max_age=0.0, parallel=64)
        server = serve(reader, ("127.0.0.1", 0))
        url = f"http://{served_address(server)}/metrics"
        try:
            _scrapes(url)   # connections opened, imports done
            cpu, reads = time.process_time(), reader.reads
            uncached = _scrapes(url)
            per_node = (time.process_time() - cpu) / ((reader.reads - reads) * nodes)
            reader.max_age = 3600.0
            cached = _scrapes(url)
        finally:
            server.shutdown()
            server.server_close()
    print(f"monitor_scrape_uncached_{PAIRS}_pairs: {uncached:.3f} s (median of {SCRAPES})")
    print(f"monitor_scrape_cached_{PAIRS}_pairs: {1000 * cached:.1f} ms")
    print(f"monitor_cpu_per_node_per_read: {1000 * per_node:.2f} ms (carpctl side)")


def _watch_memory(inventory) -> None:
    from carpctl.flows.watch import watch
    from carpctl.runtime.session import Session

    samples: dict[int, float] = {}
    start = time.perf_counter()
    with Session(inventory) as session:
        for done, _ in enumerate(watch(session, inventory.select([]), interval=0.0,
                                       parallel=64), start=1):
            if done in (10, ROUNDS) or done % max(1, ROUNDS // 5) == 0:
                samples[done] = _rss_mib()
            if done == ROUNDS:
                break
    seconds = time.perf_counter() - start
    print(f"monitor_watch_rounds: {ROUNDS} rounds of {PAIRS} pairs in {seconds:.1f} s "
          f"({1000 * seconds / ROUNDS:.0f} ms per round)")
    print("monitor_watch_rss: " + ", ".join(f"{n}: {mib:.1f} MiB" for n, mib in samples.items()))
    if ROUNDS > 10:
        growth = (samples[ROUNDS] - samples[10]) / (ROUNDS - 10) * 100
        print(f"monitor_watch_rss_growth: {growth:.2f} MiB per 100 rounds after round 10 "
              f"(target: flat)")


def _execs_per_node(directory: Path) -> None:
    """The lab's command log, read through its control socket: execs per node per read."""
    from carpctl_lab.control import request

    logged = request(directory, {"op": "log", "pair": "pair1", "node": "fw1"})
    print(f"monitor_execs_logged_pair1_fw1: {len(logged)} (one per read: scrapes + rounds)")


def main() -> None:
    from carpctl.inventory import load_inventory

    with tempfile.TemporaryDirectory(prefix="carpctl-bench-") as tmp:
        directory = Path(tmp) / "lab"
        env = {**os.environ, "CARPCTL_STATE_DIR": str(Path(tmp) / "state")}
        _carpctl("lab", "up", "--detach", "--dir", str(directory), "--pairs", str(PAIRS),
                 env=env)
        try:
            inventory = load_inventory(_without_files(directory / "inventory.yml"))
            _exporter(inventory, 2 * PAIRS)
            _watch_memory(inventory)
            _execs_per_node(directory)
        finally:
            _carpctl("lab", "down", "--dir", str(directory), env=env)
