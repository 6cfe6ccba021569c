"""`run --resume RUN`: continues the window RUN belongs to, once, and never a finished one."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from lab_inventories import poll

from carpctl.cli import main
from carpctl.remote.paths import LOCK_OWNER

THREE_STEPS = ("steps:\n"
               "  - {run: touch /var/db/one, node: fw1}\n"
               "  - {run: touch /var/db/two, node: fw1}\n"
               "  - {run: touch /var/db/three, node: fw1}\n")


def book(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "window.yml"
    path.write_text(text)
    return path


def resume_id(err: str) -> str:
    return err.split(" run --resume ")[1].split()[0]


def ran(lab, text: str) -> int:
    return sum(1 for e in lab.log("pair1", "fw1") if f"'touch {text}'" in e.command)


def test_resuming_a_finished_window_is_refused_and_runs_nothing(lab, tmp_path, capsys):
    path = book(tmp_path, THREE_STEPS)
    assert main(["-i", str(lab.inventory), "run", str(path), "--yes"]) == 0
    first = next(line for line in capsys.readouterr().err.splitlines() if "1/3" in line)
    from carpctl.runtime.history import History

    (window,) = [r.id for r in History().runs(5) if r.command.startswith("run ")]
    commands = len(lab.log("pair1", "fw1"))

    assert main(["-i", str(lab.inventory), "run", "--resume", window, "--yes"]) == 3
    err = capsys.readouterr().err
    assert f"run {window} finished at " in err and ": nothing to resume" in err, first
    assert len(lab.log("pair1", "fw1")) == commands       # not one command: not even the lock


def test_a_resume_of_a_resume_continues_the_original_window(lab, tmp_path, capsys):
    inventory = str(lab.inventory)
    path = book(tmp_path, THREE_STEPS)
    lab.drop("pair1", "fw1", r"^touch /var/db/two", count=1)
    assert main(["-i", inventory, "run", str(path), "--yes"]) == 1
    first = resume_id(capsys.readouterr().err)

    lab.drop("pair1", "fw1", r"^touch /var/db/three", count=1)
    assert main(["-i", inventory, "run", "--resume", first, "--yes"]) == 1
    second = resume_id(capsys.readouterr().err)

    assert main(["-i", inventory, "run", "--resume", second, "--yes"]) == 0, capsys.readouterr()
    assert (ran(lab, "/var/db/one"), ran(lab, "/var/db/three") >= 1) == (1, True)
    for name in ("one", "two", "three"):
        assert lab.node("pair1", "fw1").fs.exists(f"/var/db/{name}")

    capsys.readouterr()
    assert main(["-i", inventory, "run", "--resume", first, "--yes"]) == 3
    assert "nothing to resume" in capsys.readouterr().err      # the window is done
    assert ran(lab, "/var/db/one") == 1


def test_a_resume_takes_over_the_lock_its_interrupted_run_left_on_an_unreachable_node(
        lab, tmp_path, capsys):
    """The window is interrupted while fw2 is down: the lock stays on fw2, the summary
    says fw2's maintenance is unknown, and the printed resume command just works."""
    path = book(tmp_path, "steps:\n  - {run: hostname, node: fw1}\n")
    lab.slow("pair1", "fw1", 60, r"sh -c hostname")   # the step, not the status read of /etc/hostname.carp*
    process = subprocess.Popen([sys.executable, "-m", "carpctl", "-i", str(lab.inventory),
                                "run", str(path), "--yes"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = process.stderr.readline()        # "[pair1 1/1] fw1: run hostname ..."
        assert "run hostname ..." in started, started
        lab.crash("pair1", "fw2")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=90)
    finally:
        process.kill()
    assert process.returncode in (1, 4), err
    assert "in maintenance: fw2 unknown (unreachable)" in err
    assert lab.node("pair1", "fw2").fs.exists(LOCK_OWNER)         # left on the crashed node

    lab.clear_faults("pair1", "fw1")
    lab.power_on("pair1", "fw2")
    poll(lambda: main(["-i", str(lab.inventory), "status"]) in (0, 1) and
         "NO SSH" not in capsys.readouterr().out, timeout=60, every=0.5)
    assert main(["-i", str(lab.inventory), "run", "--resume", resume_id(err), "--yes"]) == 0
    assert "fw2: took over the lock of" in capsys.readouterr().err
    assert not lab.node("pair1", "fw2").fs.exists(LOCK_OWNER)


def test_a_stale_lock_of_another_run_still_needs_break_lock(lab, tmp_path, capsys):
    from carpctl.runtime.lock import Owner

    stale = Owner(run="20000101-000000-dead", user="someone", host="elsewhere", pid=1, since=0.0,
                  command="run x pair1")
    lab.node("pair1", "fw2").fs.mkdir(LOCK_OWNER.rsplit("/", 1)[0], parents=True)
    lab.node("pair1", "fw2").fs.write_text(LOCK_OWNER, stale.line() + "\n")
    path = book(tmp_path, "steps:\n  - {run: hostname, node: fw1}\n")
    assert main(["-i", str(lab.inventory), "run", str(path), "--yes"]) == 3
    assert "rerun with --break-lock" in capsys.readouterr().err


def test_a_window_whose_process_was_killed_resumes_after_its_last_finished_step(lab, tmp_path):
    """SIGKILL leaves no time to write anything at the end: what the resume needs is in the
    journal from the start, and the lock the dead run left is taken over."""
    from carpctl.runtime.history import History

    path = book(tmp_path, THREE_STEPS)
    lab.slow("pair1", "fw1", 60, r"touch /var/db/two")
    process = subprocess.Popen([sys.executable, "-m", "carpctl", "-i", str(lab.inventory),
                                "run", str(path), "--yes"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:   # "[pair1 2/3] fw1: run touch /var/db/two ..."
            if "2/3" in line:
                break
        process.kill()
        process.wait(timeout=30)
    finally:
        process.kill()
    (killed,) = [r for r in History().runs(5) if r.command.startswith("run ")]
    assert killed.exit_code is None and lab.node("pair1", "fw1").fs.exists(LOCK_OWNER)
    lab.clear_faults("pair1", "fw1")

    assert main(["-i", str(lab.inventory), "run", "--resume", killed.id, "--yes"]) == 0
    assert (ran(lab, "/var/db/one"), ran(lab, "/var/db/three")) == (1, 1)
    assert lab.node("pair1", "fw1").fs.exists("/var/db/two")
    assert not lab.node("pair1", "fw1").fs.exists(LOCK_OWNER)
