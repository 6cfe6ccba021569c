"""The shipped `upgrade` window over real SSH: both nodes on the next release one at a time,
MASTER always somewhere, and every way it stops leaving the node in maintenance, the other
node MASTER, and a resume that continues at the right step on whichever release it finds.

Timings come from the lab's model (installer, reboots), never the wall clock.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest
from lab_inventories import poll

from carpctl.cli import main
from carpctl.runtime.history import History

UPGRADE = ["run", "upgrade", "pair1", "--yes"]


def releases(lab) -> dict[str, str]:
    return {n.name: n.upgrade.release for n in lab.pairs["pair1"].nodes}


def window_steps(status: str | None = None) -> list[dict]:
    run = next(r for r in History().runs(10) if r.command.startswith("run "))
    return [s for s in History().steps(run.id) if s["name"].startswith("task ")
            and (status is None or s["status"] == status)]


def resume_id(err: str) -> str:
    return err.split(" run --resume ")[1].split()[0]


class MasterWatch:
    """Polls the lab's CARP model during a run: how many MASTERs each vhid had, each time."""

    def __init__(self, lab):
        self.lab, self.seen, self._stop = lab, [], threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            self.seen.append({v: len(n) for v, n in self.lab.masters("pair1").items()})

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def test_the_upgrade_window_takes_both_nodes_to_the_next_release_one_master_at_every_poll(
        lab, capsys):
    with MasterWatch(lab) as watch:
        assert main(["-i", str(lab.inventory), *UPGRADE]) == 0, capsys.readouterr()
    assert releases(lab) == {"fw1": "7.7", "fw2": "7.7"}
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}          # MASTER back at the end
    assert watch.seen and all(set(counts.values()) == {1} for counts in watch.seen)
    notes = {s["data"]["step"]: s["data"] for s in window_steps()}
    assert notes["fw2: sysupgrade"]["note"].startswith("7.6 -> 7.7: SSH back after")
    assert "Will upgrade on next reboot" in notes["fw2: sysupgrade"]["output"]
    assert "rsync-3.3.0->3.3.1" in notes["fw1: pkg_add"]["output"]   # what pkg_add printed
    fw2 = [e.command for e in lab.log("pair1", "fw2")]
    assert fw2.index(next(c for c in fw2 if "sysupgrade -n" in c)) < \
        fw2.index(next(c for c in fw2 if c.startswith("reboot")))


def test_a_file_sysmerge_cannot_merge_stops_the_window_with_the_node_in_maintenance(
        lab, capsys):
    lab.upgrade("pair1", "fw2", conflicts=["/etc/ssh/sshd_config"])
    assert main(["-i", str(lab.inventory), *UPGRADE]) == 1
    err = capsys.readouterr().err
    assert "sysmerge could not merge /etc/ssh/sshd_config" in err and "run --resume" in err
    assert releases(lab) == {"fw1": "7.6", "fw2": "7.7"}
    assert lab.node("pair1", "fw2").fs.isfile("/var/carpctl/maintenance/state")
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}
    (failed,) = window_steps("failed")
    assert "left for comparison" in failed["data"]["output"]

    lab.upgrade("pair1", "fw2", conflicts=[])          # merged by hand at the console
    assert main(["-i", str(lab.inventory), "run", "--resume", resume_id(err), "--yes"]) == 0
    assert releases(lab) == {"fw1": "7.7", "fw2": "7.7"}
    assert lab.node("pair1", "fw2").upgrade.upgrades == 1       # not upgraded a second time


def test_an_upgrade_that_boots_the_old_kernel_stops_the_window_and_says_so(lab, capsys):
    lab.upgrade("pair1", "fw2", outcome="fails")
    assert main(["-i", str(lab.inventory), *UPGRADE]) == 1
    err = capsys.readouterr().err
    assert "came back on its old kernel (7.6)" in err and "run --resume" in err
    assert releases(lab) == {"fw1": "7.6", "fw2": "7.6"}
    assert lab.node("pair1", "fw2").fs.isfile("/var/carpctl/maintenance/state")
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}


def test_a_node_that_never_comes_back_stops_the_window_with_the_other_node_master(
        lab, tmp_path, capsys):
    book = tmp_path / "short.yml"
    book.write_text("serial: true\nsteps:\n  - maintenance: enter\n"
                    "  - sysupgrade: {timeout: 12}\n  - maintenance: exit\n")
    lab.upgrade("pair1", "fw2", outcome="hangs")
    assert main(["-i", str(lab.inventory), "run", str(book), "pair1", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "fw2: not back on 7.7 after 12s" in err and "console" in err
    assert "run --resume" in err and "fw2 unknown (unreachable)" in err
    assert lab.masters("pair1") == {1: ["fw1"], 2: ["fw1"]}


@pytest.mark.parametrize("back_first", [True, False], ids=["back-on-new", "still-installing"])
def test_a_window_killed_during_the_installer_resumes_at_sysupgrade_on_either_release(
        lab, capsys, back_first):
    process = subprocess.Popen([sys.executable, "-m", "carpctl", "-i", str(lab.inventory),
                                *UPGRADE], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    fw2 = lab.node("pair1", "fw2")
    poll(lambda: not fw2.powered, timeout=60)              # the first reboot: into bsd.upgrade
    process.send_signal(signal.SIGKILL)
    process.wait()
    (window,) = [r.id for r in History().runs(5) if r.command.startswith("run ")]
    if back_first:
        poll(lambda: fw2.upgrade.release == "7.7", timeout=30)   # came back meanwhile, on 7.7
    else:
        assert fw2.upgrade.release == "7.6"                      # resumed while installing
    assert main(["-i", str(lab.inventory), "run", "--resume", window, "--yes"]) == 0, \
        capsys.readouterr()
    assert releases(lab) == {"fw1": "7.7", "fw2": "7.7"}
    assert fw2.upgrade.upgrades == 1
    assert [c for c in (e.command for e in lab.log("pair1", "fw2")) if "sysupgrade" in c] == \
        [next(c for c in (e.command for e in lab.log("pair1", "fw2")) if "sysupgrade" in c)]


def test_no_room_in_usr_and_a_mirror_that_does_not_answer_refuse_before_anything(lab, capsys):
    lab.upgrade("pair1", "fw1", usr_used_percent=93)
    lab.upgrade("pair1", "fw2", mirror_ok=False)
    assert main(["-i", str(lab.inventory), *UPGRADE]) == 3
    err = capsys.readouterr().err
    assert "fw1: /usr is 93% full; sysupgrade refuses at 90%" in err
    assert "fw2: its mirror does not give https://cdn.openbsd.org/pub/OpenBSD/7.7/amd64/" \
           "SHA256.sig" in err
    assert not any(n.fs.isfile("/var/carpctl/maintenance/state") for n in lab.pairs["pair1"].nodes)


def test_status_warns_of_a_mixed_release_pair_and_a_pin_makes_it_a_finding(lab, capsys):
    lab.upgrade("pair1", "fw2", release="7.7")
    assert main(["-i", str(lab.inventory), "status", "--json"]) in (0, 1)
    out = capsys.readouterr().out
    assert "fw1 runs 7.6, fw2 runs 7.7, outside a maintenance window: upgrade fw1" in out
    text = lab.inventory.read_text().replace("  pair1:\n", "  pair1:\n    release: '7.7'\n", 1)
    lab.inventory.write_text(text)
    main(["-i", str(lab.inventory), "status"])
    assert "fw1 runs 7.6, the inventory pins release 7.7" in capsys.readouterr().out
