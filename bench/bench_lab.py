"""The lab's numbers: start-up, SSH set-up, exec round trips, memory of 50 pairs.

Clients are paramiko, as carpctl's transport uses it. `exec` round trips set
TCP_NODELAY on the client socket (as carpctl does); the `_nagle` figure shows
what happens without it. Connection set-up is measured both ways carpctl could
do it: TCP_NODELAY set after connect() (carpctl's transport today) and on the
socket before the handshake (paramiko's `sock=` argument).

Targets (issue 2): one pair starts in under 0.5 s; 50 pairs (100 nodes) in one
process. Run with `.venv/bin/python -m bench lab`.
"""

from __future__ import annotations

import gc
import socket
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko

from carpctl_lab.lab import Lab

ROUND_TRIPS = 200
NAGLE_ROUND_TRIPS = 20
CONNECTS = 30


def say(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.{0 if unit in ('MiB', 'nodes') and value >= 100 else 1}f} {unit}",
          flush=True)


def rss_mib() -> float:
    """Resident set size of this process, from /proc (Linux) or getrusage's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def connect(lab: Lab, pair: str, node: str, *, nodelay: str = "after") -> paramiko.SSHClient:
    """nodelay: 'after' (set on the transport's socket once connected), 'before', or 'off'."""
    client = paramiko.SSHClient()
    client.load_host_keys(str(lab.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    sock = None
    if nodelay == "before":
        sock = socket.create_connection(("127.0.0.1", lab.port(pair, node)), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.connect("127.0.0.1", port=lab.port(pair, node), username="root", sock=sock,
                   key_filename=str(lab.client_key), look_for_keys=False, allow_agent=False,
                   timeout=10)
    if nodelay == "after":
        client.get_transport().sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client


def exec_once(client: paramiko.SSHClient, line: str) -> int:
    channel = client.get_transport().open_session()
    channel.exec_command(line)
    channel.shutdown_write()
    channel.makefile("rb").read()
    channel.makefile_stderr("rb").read()
    status = channel.recv_exit_status()
    channel.close()
    return status


def timed(action, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def p95(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1]


def bench_start(root: Path) -> None:
    for count in (1, 50):
        gc.collect()
        start = time.perf_counter()
        lab = Lab(root / f"start{count}", pairs=count).start()
        started = time.perf_counter() - start
        start = time.perf_counter()
        lab.stop()
        stopped = time.perf_counter() - start
        say(f"lab_start_{count}_pair{'s' if count > 1 else ''}", started * 1000, "ms")
        say(f"lab_stop_{count}_pair{'s' if count > 1 else ''}", stopped * 1000, "ms")


def bench_ssh(root: Path) -> None:
    with Lab(root / "ssh") as lab:
        for mode in ("after", "before"):
            samples = timed(lambda mode=mode: connect(lab, "pair1", "fw1", nodelay=mode).close(),
                            CONNECTS)
            say(f"ssh_connect_nodelay_{mode}_median", statistics.median(samples) * 1000, "ms")
        client = connect(lab, "pair1", "fw1")
        for line, name in (("true", "true"), ("ifconfig carp", "ifconfig_carp"),
                           ("pfctl -si", "pfctl_si")):
            exec_once(client, line)
            samples = timed(lambda line=line: exec_once(client, line), ROUND_TRIPS)
            say(f"exec_rtt_{name}_median", statistics.median(samples) * 1000, "ms")
            say(f"exec_rtt_{name}_p95", p95(samples) * 1000, "ms")
        client.close()
        client = connect(lab, "pair1", "fw1", nodelay="off")
        samples = timed(lambda: exec_once(client, "true"), NAGLE_ROUND_TRIPS)
        say("exec_rtt_true_nagle_median", statistics.median(samples) * 1000, "ms")
        client.close()


def bench_fifty_pairs(root: Path) -> None:
    gc.collect()
    before = rss_mib()
    started = time.perf_counter()
    with Lab(root / "fifty", pairs=50) as lab:
        say("lab_start_50_pairs_first_in_a_fresh_directory",
            (time.perf_counter() - started) * 1000, "ms")
        say("lab_50_pairs_rss_added", rss_mib() - before, "MiB")
        nodes = [(f"pair{i}", node) for i in range(1, 51) for node in ("fw1", "fw2")]

        def status_of(target: tuple[str, str]) -> paramiko.SSHClient:
            client = connect(lab, *target, nodelay="before")
            exec_once(client, "ifconfig carp; ifconfig -g carp; pfctl -si; relayctl show summary")
            return client

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            clients = list(pool.map(status_of, nodes))
        say("connect_and_status_100_nodes_16_threads", (time.perf_counter() - start) * 1000, "ms")
        say("lab_50_pairs_rss_added_with_100_sessions", rss_mib() - before, "MiB")
        say("process_rss_with_50_pairs", rss_mib(), "MiB")
        for client in clients:
            client.close()
        start = time.perf_counter()
        for target in nodes:
            status_of(target).close()
        say("connect_and_status_100_nodes_one_by_one", (time.perf_counter() - start) * 1000, "ms")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="carpctl-bench-") as tmp:
        root = Path(tmp)
        bench_fifty_pairs(root)   # first, so its memory figure is not hidden by earlier labs
        bench_start(root)
        bench_ssh(root)


if __name__ == "__main__":
    main()
