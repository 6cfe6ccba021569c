"""A node that reboots inside the confirm window boots, finds the unconfirmed change on its
own disk and restores it from /etc/rc.local (issue 14 item 6), over real SSH: the client is
a real carpctl process, killed while the node is down."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time

from deploy_support import FILES, leftovers, run_deploy

RESTORED_AT_BOOT = "/var/carpctl/restored-at-boot"


def armed(fs) -> bool:
    root = "/var/carpctl/backups"
    return fs.exists(root) and any(fs.exists(f"{root}/{name}/confirm.armed")
                                   for name in fs.listdir(root))


def rc_local(fs) -> bytes | None:
    return fs.read_bytes("/etc/rc.local") if fs.exists("/etc/rc.local") else None


def findings(lab, code: str) -> list[str]:
    """`carpctl status --json`'s messages with that code, from a real carpctl process."""
    done = subprocess.run([sys.executable, "-m", "carpctl", "-i", str(lab.inventory), "status",
                           "--json"], capture_output=True, text=True, timeout=60)
    assert done.stdout, done.stderr
    return [f["message"] for p in json.loads(done.stdout)["pairs"] for f in p["findings"]
            if f["code"] == code]


def test_a_reboot_inside_the_confirm_window_restores_the_previous_files_at_boot(lab, session):
    fw2 = lab.node("pair1", "fw2")
    before = {dest: hashlib.sha256(fw2.fs.read_bytes(dest)).hexdigest() for dest in FILES}
    rc_before = rc_local(fw2.fs)
    lab.drop("pair1", "fw2", r"^rm /var/carpctl/backups/.*/confirm\.armed", count=5)
    client = subprocess.Popen([sys.executable, "-m", "carpctl", "deploy", "pair1", "--yes",
                               "--confirm-timeout", "600", "-i", str(lab.inventory)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):   # until fw2 runs the new files, unconfirmed
            if armed(fw2.fs) and any(hashlib.sha256(fw2.fs.read_bytes(d)).hexdigest()
                                     != before[d] for d in FILES):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the deploy never installed on fw2")
        lab.reboot("pair1", "fw2", downtime=0.2)
    finally:
        client.kill()
        client.wait()
    for _ in range(200):
        if lab.truth("pair1")["nodes"]["fw2"]["powered"]:
            break
        time.sleep(0.05)

    after = {dest: hashlib.sha256(fw2.fs.read_bytes(dest)).hexdigest() for dest in FILES}
    assert after == before
    assert "unconfirmed at boot, restored" in fw2.fs.read_text(RESTORED_AT_BOOT)
    assert rc_local(fw2.fs) == rc_before, "the boot check leaves rc.local as it was"
    assert not armed(fw2.fs)
    # status says why fw2 runs the old files, until a deploy makes them match again
    (told,) = findings(lab, "restored-at-boot")
    assert told.startswith("fw2 put back its previous files at boot (") and \
        "unconfirmed at boot, restored" in told
    lab.clear_faults("pair1", "fw2")
    again = run_deploy(session, break_lock=True)   # the killed client left its lock
    assert again.exit_code == 0, again.summary
    assert findings(lab, "restored-at-boot") == []


def test_a_confirmed_deploy_leaves_rc_local_byte_for_byte_as_it_was(lab, session):
    before = {n.name: rc_local(n.fs) for n in lab.pairs["pair1"].nodes}
    report = run_deploy(session)

    assert report.exit_code == 0, report.summary
    assert {n.name: rc_local(n.fs) for n in lab.pairs["pair1"].nodes} == before
    assert leftovers(lab) == []
