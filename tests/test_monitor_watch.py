"""`carpctl watch` as a user runs it (a process, Ctrl-C to end) against the lab over real SSH."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
from lab_inventories import lab_inventory, load, poll

from carpctl.remote import commands as C


class Watch:
    """A running `carpctl watch --json`; its stdout read line by line in the background."""

    def __init__(self, inventory, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "carpctl", "watch", "-i", str(inventory), "--json",
             "--interval", "0.2", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)

    def next(self, event: str, timeout: float = 20.0, **fields) -> dict:
        """The next event of that kind with those fields (every line must be one JSON object)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {event} {fields} within {timeout}s; seen: "
                                     f"{[e['message'] for e in self.seen]}") from None
            document = json.loads(line)
            assert line.count("\n") == 1
            self.seen.append(document)
            if document["event"] == event and all(document.get(k) == v for k, v in fields.items()):
                return document

    def seen_or_next(self, event: str, **fields) -> dict:
        """An event already read (events of one poll come in no promised order), else the next."""
        for document in self.seen:
            if document["event"] == event and all(document.get(k) == v for k, v in fields.items()):
                return document
        return self.next(event, **fields)

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=20)
        return self.process.returncode, err


@pytest.fixture
def watch(lab):
    started: list[Watch] = []

    def start(*args: str, **inventory) -> Watch:
        running = Watch(lab_inventory(lab, connect_timeout=0.5, **inventory), *args)
        started.append(running)
        running.next("watching", pair="pair1")
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.communicate()


def run_on(lab, node: str, command) -> None:
    from carpctl.remote.connection import NodeConnection

    with NodeConnection(load(lab).pair("pair1").node(node)) as connection:
        connection.run(command, check=True)


def test_a_crashed_master_is_unreachable_then_moves_and_ctrl_c_ends_cleanly(lab, watch):
    from carpctl.runtime.history import History

    running = watch()
    lab.crash("pair1", "fw1")
    gone = running.next("node-unreachable", node="fw1")
    assert gone["reason"] in ("timeout", "lost")
    running.next("verdict-changed", to="unreachable", severity="CRITICAL")
    moved = running.next("master-moved", vhid=1)
    assert (moved["from"], moved["to"]) == (["fw1"], ["fw2"])
    assert moved["message"] == "vhid 1: MASTER moved from fw1 to fw2"
    code, err = running.stop()
    assert code == 0 and "Traceback" not in err
    (run,) = History().runs()
    assert run.command == "watch" and run.exit_code == 0
    assert run.summary.startswith("stopped after ") and run.summary.endswith(" events")
    assert not any(e["event"] == "master-moved" and e["to"] == [] for e in running.seen)


def test_a_demotion_is_one_event_with_the_amount(lab, watch):
    running = watch()
    run_on(lab, "fw2", C.carpdemote(5))
    event = running.seen_or_next("demote-changed", node="fw2")
    assert (event["from"], event["to"], event["by"]) == (0, 5, 5)
    running.seen_or_next("verdict-changed", to="demoted", severity="WARNING")


def test_a_link_down_demotes_the_master_and_moves_its_vhids(lab, watch):
    running = watch()
    lab.link("pair1", "fw1", "em0", False)
    event = running.next("demote-changed", node="fw1")
    assert (event["by"], event["cause"]) == (1, "link down on carp0")
    # vhid 2 moves at once (fw1 advertises its demotion), vhid 1 when fw2's timer runs out
    assert any(e["event"] == "master-moved" and (e["vhid"], e["to"]) == (2, ["fw2"])
               for e in running.seen)
    running.next("master-moved", vhid=1, to=["fw2"])


def test_a_web_host_down_and_back_are_events(lab, watch):
    running = watch()
    lab.webhost("pair1", "192.168.1.3", False)
    running.next("relayd-host-down", node="fw1", host="192.168.1.3")
    lab.webhost("pair1", "192.168.1.3", True)
    running.next("relayd-host-up", node="fw1", host="192.168.1.3")


def test_a_split_vhid_shows_master_on_both_nodes(lab, watch):
    running = watch()
    lab.allow("pair1", "fw2", False)
    running.next("master-moved", vhid=1, to=["fw1", "fw2"])
    running.next("verdict-changed", to="split-brain", severity="CRITICAL")


def test_the_hook_gets_each_event_as_json_on_stdin(lab, watch, tmp_path):
    received = tmp_path / "events"
    running = watch("--exec", f'cat >> {received}; echo "$CARPCTL_EVENT" >> {received}.kinds')
    run_on(lab, "fw2", C.carpdemote(3))
    running.seen_or_next("demote-changed", node="fw2")
    running.seen_or_next("verdict-changed")
    poll(lambda: received.read_text().count("\n") >= 3)   # the hooks run after the print
    code, err = running.stop()
    assert code == 0, err
    documents = [json.loads(line) for line in received.read_text().splitlines()]
    printed = [e["event"] for e in running.seen]
    assert [d["event"] for d in documents][:3] == printed[:3]   # one hook per event, in order
    assert sorted(printed[1:3]) == ["demote-changed", "verdict-changed"]
    assert documents[1] == running.seen[1]
    assert (tmp_path / "events.kinds").read_text().split()[:3] == printed[:3]


def test_a_hook_that_hangs_is_killed_and_the_watch_goes_on(lab, watch, tmp_path):
    running = watch("--exec", f"sleep 30; touch {tmp_path}/finished", "--exec-timeout", "0.3")
    run_on(lab, "fw2", C.carpdemote(2))
    running.next("demote-changed", node="fw2")
    code, err = running.stop()
    assert code == 0
    assert "carpctl: warning: pair1: watching hook: the hook did not finish within 0.3s " \
           "and was killed" in err
    assert not (tmp_path / "finished").exists()
