"""`carpctl check` against the lab over real SSH: exit codes and output, line by line."""

from __future__ import annotations

import subprocess
import sys

from lab_inventories import lab_inventory, load, poll

from carpctl.cli import main
from carpctl.remote import commands as C


def check(capsys, inventory, *args: str) -> tuple[int, list[str]]:
    code = main(["check", "-i", str(inventory), *args])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out.splitlines()


def perf(lines: list[str]) -> dict[str, str]:
    data = lines[0].partition(" | ")[2]
    return dict(item.split("=", 1) for item in data.split())


def test_a_healthy_pair_is_ok_on_one_line(capsys, lab):
    code, lines = check(capsys, lab_inventory(lab))
    assert code == 0
    assert lines == ["CARP OK - pair1 healthy, MASTER fw1 | 'pair1_fw1_demote'=0;;;0;255 "
                     "'pair1_fw1_pf_states'=44;;;0 'pair1_fw2_demote'=0;;;0;255 "
                     "'pair1_fw2_pf_states'=44;;;0 'pair1_pf_states_diff'=0;;;0 "
                     "'pair1_relayd_hosts_up'=2;;1:;0;2"]


def test_a_crashed_master_is_critical_and_names_the_node(capsys, lab):
    lab.crash("pair1", "fw1")
    code, lines = check(capsys, lab_inventory(lab, connect_timeout=0.5))
    assert code == 2
    assert lines[0].startswith("CARP CRITICAL - pair1 unreachable | 'pair1_fw2_demote'=0;;;0;255")
    assert lines[1].startswith("CRITICAL: pair1: fw1 unreachable (timeout): ")
    assert "pair1_fw1" not in lines[0]


def test_a_pair_of_which_no_node_answers_is_unknown(capsys, lab):
    lab.ssh_down("pair1", "fw1")
    lab.ssh_down("pair1", "fw2")
    code, lines = check(capsys, lab_inventory(lab))
    assert code == 3
    assert lines[0] == "CARP UNKNOWN - pair1 unreachable"
    assert [line.split(" (")[0] for line in lines[1:]] == [
        "UNKNOWN: pair1: fw1 unreachable", "UNKNOWN: pair1: fw2 unreachable"]


def test_a_link_down_is_critical_with_the_demotion_in_perfdata(capsys, lab):
    lab.link("pair1", "fw2", "em0", False)
    code, lines = check(capsys, lab_inventory(lab))
    assert code == 2
    assert perf(lines)["'pair1_fw2_demote'"] == "1;;;0;255"
    assert lines[1] == "CRITICAL: pair1: fw2 carp0 is INIT (carpdev em0 has no link?)"
    assert "WARNING: pair1: fw2 carp demote counter is 1 (1 em0 without link)" in lines[2:]


def test_a_demoted_node_is_a_warning(capsys, lab):
    from carpctl.remote.connection import NodeConnection

    with NodeConnection(load(lab).pair("pair1").node("fw2")) as connection:
        connection.run(C.carpdemote(5), check=True)
    code, lines = check(capsys, lab_inventory(lab))
    assert code == 1
    assert lines[0].split(" | ")[0] == "CARP WARNING - pair1 demoted"
    assert lines[1:] == ["WARNING: pair1: fw2 carp demote counter is 5"]
    assert perf(lines)["'pair1_fw2_demote'"] == "5;;;0;255"


def test_a_web_host_down_warns_and_none_left_is_critical(capsys, lab):
    inventory = lab_inventory(lab)
    lab.webhost("pair1", "192.168.1.3", False)
    code, lines = poll(lambda: (r := check(capsys, inventory))[0] == 1 and r)
    assert perf(lines)["'pair1_relayd_hosts_up'"] == "1;;1:;0;2"
    assert "WARNING: pair1: fw1 relayd sees hosts down: 192.168.1.3" in lines
    lab.webhost("pair1", "192.168.1.2", False)
    code, lines = poll(lambda: (r := check(capsys, inventory))[0] == 2 and r)
    assert lines[0].split(" | ")[0] == "CARP CRITICAL - pair1 no-backend"
    assert lines[1] == "CRITICAL: pair1: relayd on the MASTER fw1 has no backend host up"


def test_a_split_vhid_is_critical(capsys, lab):
    inventory = lab_inventory(lab)
    lab.carp_pass("pair1", "fw2", "not-the-peers")
    code, lines = poll(lambda: (r := check(capsys, inventory))[0] == 2 and r, timeout=20)
    assert lines[0].split(" | ")[0] == "CARP CRITICAL - pair1 split-brain"
    assert [line.split(" (likely: ")[0] for line in lines[1:]] == [
        "CRITICAL: pair1: vhid 1: MASTER on both fw1 and fw2",
        "CRITICAL: pair1: vhid 2: MASTER on both fw1 and fw2"]


def test_state_count_thresholds_decide_the_severity(capsys, lab):
    lab.link("pair1", "fw2", "em2", False)   # the pfsync link: fw2 stops getting states
    inventory = lab_inventory(lab)
    code, lines = check(capsys, inventory, "--warn", "10", "--crit", "40")
    assert code == 2 and perf(lines)["'pair1_pf_states_diff'"] == "44;10;40;0"
    assert "CRITICAL: pair1: pf state counts differ by 44 (fw1 44, fw2 0)" in lines
    code, lines = check(capsys, inventory, "--warn", "100")
    assert "pf state counts" not in "\n".join(lines)


def test_an_unknown_pair_is_unknown_on_stdout(capsys, lab):
    inventory = lab_inventory(lab)
    code, lines = check(capsys, inventory, "pair9")
    assert code == 3
    assert lines == [f"CARP UNKNOWN - no pair named 'pair9' in {inventory} (known pairs: pair1)"]


def test_a_bad_threshold_is_unknown_not_critical():
    done = subprocess.run([sys.executable, "-m", "carpctl", "check", "--warn", "many"],
                          capture_output=True, text=True)
    assert done.returncode == 3
    assert done.stdout == ("CARP UNKNOWN - carpctl check: argument --warn: "
                           "'many' is not a whole number of 0 or more\n")


def test_an_unknown_option_is_unknown_too_and_other_commands_keep_exit_2():
    done = subprocess.run([sys.executable, "-m", "carpctl", "check", "--bogus"],
                          capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (3, "CARP UNKNOWN - carpctl check: unrecognized "
                                                 "arguments: --bogus\n")
    done = subprocess.run([sys.executable, "-m", "carpctl", "status", "--bogus"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.endswith("carpctl status: error: unrecognized arguments: --bogus\n")


def test_the_check_is_not_journaled(capsys, lab):
    from carpctl.runtime.history import History

    check(capsys, lab_inventory(lab))
    assert History().runs() == []
