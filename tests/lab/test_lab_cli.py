"""`carpctl lab up --detach`, then status, fault, log and down against it, from the CLI."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import yaml
from sshclient import LabClient, wait_until

from carpctl.cli import main


class DetachedLab:
    """What LabClient needs, read from the files a detached lab writes."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.known_hosts = directory / "known_hosts"
        self.client_key = directory / "id_ed25519"
        self.inventory = yaml.safe_load((directory / "inventory.yml").read_text())

    def port(self, pair: str, node: str) -> int:
        return self.inventory["pairs"][pair]["nodes"][node]["port"]


def carpctl(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def refuses(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_a_detached_lab_is_driven_and_stopped_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    directory = tmp_path / "lab"
    status, out, _ = carpctl(capsys, "lab", "up", "--detach", "--dir", str(directory))
    assert status == 0, out
    try:
        assert f"inventory: {directory / 'inventory.yml'}" in out
        pid = int((directory / "lab.pid").read_text())
        assert pid != os.getpid()
        lab = DetachedLab(directory)
        ports = [lab.port("pair1", "fw1"), lab.port("pair1", "fw2")]

        assert carpctl(capsys, "lab", "up", "--detach", "--dir", str(directory))[0] == 1

        with LabClient(lab, node="fw2") as fw2:
            assert fw2.exec("ifconfig carp0 advskew 7").status == 0
        status, out, _ = carpctl(capsys, "lab", "log", "pair1/fw2", "--dir", str(directory),
                                 "--json")
        assert status == 0
        assert [(e["user"], e["command"], e["status"]) for e in json.loads(out)] == [
            ("root", "ifconfig carp0 advskew 7", 0)]

        status, out, _ = carpctl(capsys, "lab", "fault", "crash", "pair1/fw1",
                                 "--dir", str(directory))
        assert status == 0
        status, out, _ = carpctl(capsys, "lab", "status", "--dir", str(directory), "--json")
        nodes = json.loads(out)["pair1"]["nodes"]
        assert status == 0
        assert nodes["fw1"]["powered"] is False
        assert nodes["fw2"]["carp"]["carp0"]["advskew"] == 7

        status, out, _ = carpctl(capsys, "lab", "status", "--dir", str(directory))
        assert status == 0 and "fw1" in out and "off" in out

        status, out, err = carpctl(capsys, "lab", "fault", "melt", "pair1/fw1",
                                   "--dir", str(directory))
        assert status == 2 and "unknown fault 'melt'" in out + err
    finally:
        status, out, _ = carpctl(capsys, "lab", "down", "--dir", str(directory))
    assert status == 0
    assert not (directory / "lab.pid").exists()
    assert not (directory / "control.sock").exists()
    assert all(refuses(port) for port in ports)
    # the lab process is this test's child (a shell's `carpctl` would have exited): reap it
    assert wait_until(lambda: os.waitpid(pid, os.WNOHANG)[0] == pid, 3.0)
    status, out, err = carpctl(capsys, "lab", "status", "--dir", str(directory))
    assert status == 2 and "no lab is running" in out + err
    status, out, _ = carpctl(capsys, "lab", "down", "--dir", str(directory))
    assert status == 0 and "nothing to stop" in out   # stopping a stopped lab is done


@pytest.mark.parametrize("words, name, args, kwargs", [
    (["crash", "pair1/fw1"], "crash", ["pair1", "fw1"], {}),
    (["reboot", "pair1/fw1", "1.5"], "reboot", ["pair1", "fw1", 1.5], {}),
    (["ssh-down", "pair1/fw1", "off"], "ssh-down", ["pair1", "fw1", False], {}),
    (["refuse-ssh", "pair1/fw2"], "refuse-ssh", ["pair1", "fw2", True], {}),
    (["link", "pair1/fw1", "em2", "down"], "link", ["pair1", "fw1", "em2", False], {}),
    (["preempt", "pair1/fw2", "off"], "preempt", ["pair1", "fw2", False], {}),
    (["webhost", "pair1", "192.168.1.3", "down"], "webhost", ["pair1", "192.168.1.3", False], {}),
    (["slow", "pair1/fw1", "0.5", "pfctl"], "slow", ["pair1", "fw1", 0.5], {"match": "pfctl"}),
    (["drop", "pair1/fw1", "pfctl -f", "2", "after"], "drop", ["pair1", "fw1", "pfctl -f"],
     {"count": 2, "after": True}),
    (["doas", "pair1/fw1", "deny"], "doas", ["pair1", "fw1", False], {}),
    (["disk-full", "pair1/fw1"], "disk-full", ["pair1", "fw1", True], {}),
])
def test_fault_words_become_the_labs_fault_calls(monkeypatch, tmp_path, words, name, args, kwargs):
    from carpctl_lab import cli as lab_cli

    sent = []
    monkeypatch.setattr(lab_cli.control, "request", lambda directory, payload: sent.append(payload))
    lab_cli.fault(tmp_path, words[0], words[1], words[2:])
    assert sent == [{"op": "fault", "name": name, "args": args, "kwargs": kwargs}]


def test_lab_fault_help_names_every_fault_the_lab_knows(capsys):
    """The help is written by hand (carpctl's CLI does not import the lab): it must not fall behind."""
    from carpctl_lab.control import FAULTS

    with pytest.raises(SystemExit):
        main(["lab", "fault", "--help"])
    named = {word.strip(",") for word in " ".join(capsys.readouterr().out.split()).split()}
    assert set(FAULTS) - named == set()


def test_fault_words_are_understood_by_the_labs_fault_methods(lab):
    """Every fault the CLI sends reaches a real Lab method that accepts its arguments."""
    from carpctl_lab import control

    control.handle(lab, {"op": "fault", "name": "slow", "args": ["pair1", "fw1", 0.5],
                         "kwargs": {"match": "pfctl"}})
    control.handle(lab, {"op": "fault", "name": "drop", "args": ["pair1", "fw1", "x"],
                         "kwargs": {"count": 2, "after": True}})
    control.handle(lab, {"op": "fault", "name": "link", "args": ["pair1", "fw2", "em2", False]})
    faults = lab.node("pair1", "fw1").faults
    assert (faults.delay, faults.delay_match) == (0.5, "pfctl")
    assert (faults.drop_match, faults.drop_count, faults.drop_after) == ("x", 2, True)
    assert lab.node("pair1", "fw2").links == {"em2": False}
    with pytest.raises(ValueError, match="unknown fault"):
        control.handle(lab, {"op": "fault", "name": "melt", "args": []})
