"""Questions before a disruptive step: asked when a person types on stdin, whatever stdout is.

carpctl runs as a process whose standard input is a pseudo-terminal and whose
standard output is a pipe (`carpctl failover ... | tee log`), against the lab.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from carpctl.cli import main


def carpctl_on_a_terminal(lab, *argv: str, typed: bytes) -> subprocess.CompletedProcess:
    """carpctl with a terminal on stdin (typing `typed`) and pipes on stdout and stderr."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "carpctl", "-i", str(lab.inventory),
                                    *argv], stdin=follower, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        os.write(leader, typed)
        out, err = process.communicate(timeout=90)
    finally:
        os.close(follower)
        os.close(leader)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_a_failover_piped_into_tee_is_still_asked_and_a_yes_hands_master_over(lab):
    done = carpctl_on_a_terminal(lab, "failover", "pair1", "--to", "peer", typed=b"y\n")
    assert done.returncode == 0, done.stderr
    assert "Hand MASTER of pair1 from fw1 to fw2" in done.stderr
    assert "[y/N]" not in done.stdout             # the question is not part of the report
    assert lab.masters("pair1") == {1: ["fw2"], 2: ["fw2"]}


def test_ctrl_d_at_the_failover_question_is_no_and_exits_3_with_nothing_changed(lab):
    done = carpctl_on_a_terminal(lab, "failover", "pair1", "--to", "peer", typed=b"\x04")
    assert done.returncode == 3, done.stderr
    assert "not confirmed" in done.stderr and "Traceback" not in done.stderr
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}


def test_the_deploy_question_says_how_many_lines_each_file_gains_and_loses(lab):
    pf_before = lab.node("pair1", "fw2").fs.read_text("/etc/pf.conf")
    done = carpctl_on_a_terminal(lab, "deploy", "pair1", typed=b"\x04")
    assert done.returncode == 3, done.stderr
    question = next(line for line in done.stderr.splitlines() if "Install and apply" in line)
    assert "fw2: /etc/pf.conf +" in question and " -" in question
    assert "---" not in done.stdout                      # no diff was printed: no --diff
    assert lab.node("pair1", "fw2").fs.read_text("/etc/pf.conf") == pf_before


def test_without_a_terminal_on_stdin_a_failover_is_refused_before_any_connection(lab, capsys):
    assert main(["-i", str(lab.inventory), "failover", "pair1", "--to", "peer"]) == 3
    assert "pass --yes" in capsys.readouterr().err
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}


@pytest.mark.parametrize("argv", [
    ["failover", "pair1", "--to", "peer", "--timeout", "0"],
    ["failover", "pair1", "--to", "peer", "--timeout", "nan"],
    ["deploy", "pair1", "--confirm-timeout", "-5"],
    ["deploy", "pair1", "--parallel", "0"],
    ["history", "--limit", "-1"],
    ["lab", "up", "--pairs", "0"],
])
def test_a_numeric_option_out_of_range_is_a_usage_error_before_anything_runs(capsys, argv):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert "is not a number above 0" in capsys.readouterr().err
