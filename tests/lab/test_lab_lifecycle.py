"""Starting and stopping labs: fast, many pairs in one process, nothing left behind."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sshclient import LabClient, wait_until

from carpctl_lab.image import PairSpec
from carpctl_lab.lab import Lab

LAB_THREADS = ("carpctl-lab", "lab-cmd", "asyncio_", "-job-")


def refuses(port: int) -> bool:
    """Whether 127.0.0.1:port answers a connection with RST (nothing listens)."""
    with socket.socket() as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        return False


def lab_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if any(p in t.name for p in LAB_THREADS)]


def test_a_pair_starts_in_under_half_a_second(tmp_path):
    start = time.monotonic()
    with Lab(tmp_path / "lab") as lab:
        elapsed = time.monotonic() - start
        with LabClient(lab, node="fw2") as client:
            assert client.exec("hostname").out == "fw2.pair1.lab\n"
    assert elapsed < 0.5


def test_stopping_a_lab_ends_its_threads_jobs_and_connections_and_frees_its_ports(tmp_path):
    before = set(threading.enumerate())
    lab = Lab(tmp_path / "lab").start()
    ports = [lab.port("pair1", name) for name in ("fw1", "fw2")]
    lingering = LabClient(lab)               # left open across the stop
    assert lingering.exec("true").status == 0
    # a background loop that would spin forever, and a command still sleeping
    assert lingering.exec("nohup sh -c 'while true; do sleep 1; done' >/dev/null 2>&1 &").status == 0
    sleeper = LabClient(lab, node="fw2")
    channel = sleeper.transport.open_session()
    channel.exec_command("sleep 30")
    assert wait_until(lambda: any("-job-" in name for name in lab_threads()), 1.0)

    started = time.monotonic()
    lab.stop()
    assert time.monotonic() - started < 2.0
    assert lab_threads() == []
    assert all(refuses(port) for port in ports)
    # the server closed the sessions it held: the clients see the end, their threads stop
    assert channel.recv_exit_status() == -1
    assert wait_until(lambda: set(threading.enumerate()) <= before, 2.0), \
        [t.name for t in set(threading.enumerate()) - before]
    lingering.close()
    sleeper.close()


def test_fifty_pairs_run_in_one_process_each_node_on_its_own_port(tmp_path):
    with Lab(tmp_path / "lab", pairs=50) as lab:
        ports = {lab.port(f"pair{i}", node) for i in range(1, 51) for node in ("fw1", "fw2")}
        assert len(ports) == 100
        with LabClient(lab, "pair50", "fw2") as client:
            assert client.exec("hostname").out == "fw2.pair50.lab\n"
        known = lab.known_hosts.read_text().splitlines()
        assert len(known) == 100


def test_pairs_built_from_specs_are_separate_worlds(tmp_path):
    specs = [PairSpec(name="north"), PairSpec(name="south", nodes=("a", "b"), advskew=(50, 0))]
    with Lab(tmp_path / "lab", pairs=specs) as lab:
        assert lab.masters("north") == {1: ["fw1"], 2: ["fw1"]}
        assert lab.masters("south") == {1: ["b"], 2: ["b"]}
        with LabClient(lab, "north", "fw1") as client:
            assert client.exec("ifconfig carp0 advskew 254").status == 0
        # a change on north/fw1 is not seen on south
        with LabClient(lab, "south", "a") as client:
            assert "advskew 50" in client.exec("ifconfig carp0").out


def test_a_restarted_lab_in_the_same_directory_keeps_its_host_keys(tmp_path):
    with Lab(tmp_path / "lab") as lab:
        first = {line.split()[2] for line in lab.known_hosts.read_text().splitlines()}
    with Lab(tmp_path / "lab") as lab:
        second = {line.split()[2] for line in lab.known_hosts.read_text().splitlines()}
        with LabClient(lab) as client:
            assert client.exec("true").status == 0
    assert first == second and len(first) == 2


def test_a_lab_without_a_directory_removes_its_temporary_one(tmp_path):
    lab = Lab().start()
    directory = lab.directory
    assert (directory / "inventory.yml").exists()
    lab.stop()
    assert not directory.exists()


@pytest.mark.parametrize("count", [1, 3])
def test_the_inventory_names_every_node_with_its_port_and_the_lab_keys(tmp_path, count):
    import yaml

    with Lab(tmp_path / "lab", pairs=count) as lab:
        doc = yaml.safe_load(lab.inventory.read_text())
        assert doc["defaults"]["identity_file"] == str(lab.client_key)
        assert doc["defaults"]["known_hosts"] == str(lab.known_hosts)
        assert list(doc["pairs"]) == [f"pair{i}" for i in range(1, count + 1)]
        for pair, body in doc["pairs"].items():
            for node, conn in body["nodes"].items():
                assert conn == {"host": "127.0.0.1", "port": lab.port(pair, node)}
