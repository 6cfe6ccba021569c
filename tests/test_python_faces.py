"""carpctl from Python: docs/python.md's examples run against the lab, SIGTERM under a script
and under `inv` undoes a failover, and errors keep the command line's exit codes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carpctl import api

DOCS = Path(__file__).parents[1] / "docs" / "python.md"
INV = Path(sys.executable).parent / "inv"


def example(name: str) -> str:
    """The fenced Python block after `<!-- example: NAME -->` in docs/python.md."""
    match = re.search(rf"<!-- example: {name} -->\n```python\n(.*?)```", DOCS.read_text(), re.S)
    assert match, name
    return match.group(1)


def run(lab, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CARPCTL_INVENTORY": str(lab.inventory),
           "INVOKE_CARPCTL_INVENTORY": str(lab.inventory)}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def skews(lab, node: str) -> dict[str, int]:
    carp = lab.truth("pair1")["nodes"][node]["carp"]
    return {name: info["advskew"] for name, info in carp.items()}


def test_the_api_example_fails_over_and_back(lab, tmp_path):
    (tmp_path / "script.py").write_text(example("api"))
    shown = run(lab, [sys.executable, "script.py"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    there, back, verdict = shown.stdout.splitlines()
    assert re.fullmatch(r"MASTER fw1 -> fw2 in \d+\.\d\ds", there)
    assert re.fullmatch(r"MASTER fw2 -> fw1 in \d+\.\d\ds", back)
    assert verdict == "pair1 drift MASTER fw1"   # the lab starts with files of its own
    assert shown.stderr == ""   # a library call says nothing of its own


def test_the_fabric_example_reads_both_nodes_and_fails_over_over_their_connections(lab, tmp_path):
    (tmp_path / "script.py").write_text(example("fabric"))
    shown = run(lab, [sys.executable, "script.py"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].startswith("fw1 [('carp0', 'MASTER'), ('carp1', 'MASTER')] demote 0")
    assert lines[2].startswith("fw2 [('carp0', 'BACKUP'), ('carp1', 'BACKUP')] demote 0")
    assert lines[3:] == ["fw2", "fw1"]
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}


def test_the_tasks_example_runs_carpctl_commands_through_inv(lab, tmp_path):
    (tmp_path / "tasks.py").write_text(example("tasks"))
    shown = run(lab, [str(INV), "carp.failover", "--pair", "pair1", "--to", "peer", "--yes"],
                tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}
    assert "MASTER handed from fw1 to fw2" in shown.stdout
    listed = run(lab, [str(INV), "--list"], tmp_path).stdout
    for name in ("carp.status", "carp.deploy", "carp.rollback", "carp.failover",
                 "carp.maintenance.enter", "carp.maintenance.exit", "carp.run", "hello"):
        assert name in listed


def test_a_failing_task_prints_one_line_and_exits_with_carpctls_code(lab, tmp_path):
    (tmp_path / "tasks.py").write_text(example("tasks"))
    shown = run(lab, [str(INV), "carp.failover", "--pair", "nope", "--to", "peer", "--yes"],
                tmp_path)
    assert shown.returncode == 2
    assert shown.stderr.splitlines()[0].startswith("carpctl: error: ")
    assert "nope" in shown.stderr and "Traceback" not in shown.stderr


def sigterm_once_demoted(lab, argv: list[str], cwd: Path) -> tuple[int, str]:
    """Start argv, SIGTERM it right after it sent the demotion to fw1; its exit code, stderr."""
    env = {**os.environ, "CARPCTL_INVENTORY": str(lab.inventory),
           "INVOKE_CARPCTL_INVENTORY": str(lab.inventory)}
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any("advskew 254" in e.command for e in lab.log("pair1", "fw1")):
        assert time.monotonic() < deadline and process.poll() is None, "no demotion was sent"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    return process.returncode, err


def assert_undone(lab) -> None:
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    assert skews(lab, "fw1") == {"carp0": 0, "carp1": 0}
    for node in ("fw1", "fw2"):
        fs = lab.node("pair1", node).fs
        assert not fs.exists("/var/carpctl/lock") and not fs.exists("/var/carpctl/parked")


def test_sigterm_under_inv_undoes_the_failover(lab, tmp_path):
    (tmp_path / "tasks.py").write_text(example("tasks"))
    code, err = sigterm_once_demoted(
        lab, [str(INV), "carp.failover", "--pair", "pair1", "--to", "peer", "--yes"], tmp_path)
    assert code == 1, err
    assert "interrupted" in err and "undone" in err and "Traceback" not in err
    assert_undone(lab)


def test_sigterm_under_an_api_script_undoes_the_failover(lab, tmp_path):
    (tmp_path / "script.py").write_text(
        "from carpctl import api\n"
        "with api.open_session(confirm=True) as session:\n"
        "    try:\n"
        "        api.failover(session, 'pair1', to='peer')\n"
        "    except api.CarpctlError as exc:\n"
        "        raise SystemExit(f'{exc.exit_code} {exc.message}')\n")
    code, err = sigterm_once_demoted(lab, [sys.executable, "script.py"], tmp_path)
    assert code == 1 and err.startswith("1 pair1: failover to fw2 failed (interrupted); undone")
    assert_undone(lab)


def test_api_errors_carry_the_command_lines_exit_codes(lab):
    with api.open_session(lab.inventory) as session:
        with pytest.raises(api.UsageError) as unknown:
            api.failover(session, "nope")
        assert unknown.value.exit_code == 2
        with pytest.raises(api.RefusedError) as declined:   # confirm=False: every answer is no
            api.failover(session, "pair1", to="peer")
        assert declined.value.exit_code == 3 and "nothing changed" in declined.value.message
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}


def test_confirm_may_be_a_function_of_the_question(lab):
    asked: list[str] = []
    with api.open_session(lab.inventory, confirm=lambda q: asked.append(q) or True) as session:
        report = api.failover(session, "pair1", to="fw2")
    assert report.target == "fw2" and report.handover_seconds > 0
    assert asked == ["Hand MASTER of pair1 from fw1 to fw2 (advskew)? Relay sessions will be "
                     "reset."]


def test_connect_refuses_a_node_whose_host_key_is_unknown(lab, tmp_path):
    from carpctl.errors import RemoteError
    from carpctl.fabric import connect

    lab.known_hosts.write_text("")
    with pytest.raises(RemoteError, match="accept-new-host-keys"):
        connect("pair1/fw1", lab.inventory)
