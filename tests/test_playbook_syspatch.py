"""`syspatch` steps over real SSH: a needed reboot seen in any run, patched daemons
restarted, and rc's reorder_kernel waited out.

syspatch can update itself first and stop ("run it again"); the Relinking ... reboot
line of a kernel patch installed before that comes in the first run, so a reboot
decided from the last run alone would leave the node on its old kernel.
"""

from __future__ import annotations

from carpctl.flows.node_ops import syspatch_node


def fw2(session):
    pair = session.inventory.pair()
    return pair, pair.node("fw2")


def commands(lab, node: str) -> list[str]:
    return [entry.command for entry in lab.log("pair1", node)]


def test_a_reboot_asked_for_before_syspatch_updated_itself_is_still_done(lab, session):
    lab.syspatch_pending("pair1", "fw2", ["001_kernel", "002_syspatch", "003_relayd"])
    pair, node = fw2(session)
    note = syspatch_node(session, pair, node, timeout=30)
    assert note.startswith("installed 001_kernel, 002_syspatch, 003_relayd; rebooted")
    assert lab.node("pair1", "fw2").fs.listdir("/var/syspatch") == [
        "76-001_kernel", "76-002_syspatch", "76-003_relayd"]
    assert lab.node("pair1", "fw2").kernel_build == 2   # runs the new kernel


def test_a_patched_daemon_is_restarted_when_no_reboot_is_needed(lab, session):
    lab.syspatch_pending("pair1", "fw2", ["004_relayd"])
    pair, node = fw2(session)
    assert syspatch_node(session, pair, node, timeout=30) == \
        "installed 004_relayd; restarted relayd"
    assert any("rcctl restart relayd" in c for c in commands(lab, "fw2"))
    assert lab.node("pair1", "fw2").kernel_build == 1


def test_the_reorder_kernel_refusal_after_a_boot_is_waited_out_and_retried(lab, session):
    lab.syspatch_pending("pair1", "fw2", ["005_libc"])
    lab.reorder_kernel("pair1", "fw2", 1.5)
    pair, node = fw2(session)
    assert syspatch_node(session, pair, node, timeout=30) == "installed 005_libc"
    applied = [c for c in commands(lab, "fw2") if c.startswith("syspatch") and "-c" not in c]
    assert len(applied) >= 2   # refused while reorder_kernel ran, then installed
    assert lab.node("pair1", "fw2").fs.listdir("/var/syspatch") == ["76-005_libc"]
