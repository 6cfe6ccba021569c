"""Node-level operations of a maintenance window: run, reboot and wait, syspatch, wait healthy.

Each returns a one-line note for the journal and raises FailedError with what
and where when it does not reach its end state.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from carpctl.core.carp import assess, one_master_each
from carpctl.errors import FailedError, RemoteError
from carpctl.facts import parse_syspatch
from carpctl.facts.parked import Parked
from carpctl.inventory import Node, Pair
from carpctl.remote import commands as C
from carpctl.remote.connection import ConnectionLost
from carpctl.runtime.read import read_node, read_pair
from carpctl.runtime.session import Session

POLL = 1.0                           # seconds between two checks of a rebooting node
EXCUSED = {"drift", "maintenance"}   # not operational health: files, deliberate states


def run_command(session: Session, node: Node, line: str) -> str:
    result = session.connection(node).run(C.shell(line))
    if not result.ok:
        raise FailedError(f"{node.name}: `{line}` exited {result.status}: "
                          f"{result.output.strip()[-300:]}")
    return result.stdout.strip().splitlines()[-1][:200] if result.stdout.strip() else ""


def _boottime(session: Session, node: Node) -> str | None:
    """kern.boottime over a NEW connection (a rebooting node drops the old one)."""
    conn = session.fresh_connection(node)
    try:
        result = conn.run(C.BOOTTIME)
        return result.stdout.strip() if result.ok else None
    except RemoteError:
        return None
    finally:
        conn.close()


def reboot_node(session: Session, pair: Pair, node: Node, *, timeout: float) -> str:
    """Reboot, then wait until SSH is back, CARP is BACKUP and the pair has one MASTER each."""
    before = session.connection(node).run(C.BOOTTIME, check=True).stdout.strip()
    started = time.monotonic()
    try:
        session.connection(node).run(C.REBOOT)
    except ConnectionLost:
        pass  # reboot cuts the session: expected
    session.connection(node).close()
    deadline = started + timeout
    with session.report.status(f"{node.name}: rebooting") as progress:
        while True:
            booted = _boottime(session, node)
            if booted is not None and booted != before:
                break
            if time.monotonic() > deadline:
                raise FailedError(f"{node.name}: not back after {timeout:g}s of reboot")
            progress.update(f"{node.name}: rebooting ({time.monotonic() - started:.0f}s)")
            time.sleep(POLL)
        back = time.monotonic() - started
        wait_carp_settled(session, pair, node, deadline, progress)
    return f"rebooted: SSH back after {back:.1f}s, CARP settled after {time.monotonic() - started:.1f}s"


def _expected_demote(states, node: Node) -> int:
    """What the counter should read once boot is over (maintenance keeps its own)."""
    state = states[node.name]
    if state.maintenance:
        fields = dict(w.partition("=")[::2] for w in state.maintenance.split())
        return int(fields.get("amount", 0) or 0)
    record: Parked | None = state.parked
    if record is not None and record.method == "carpdemote":
        return record.amount
    return 0


SETTLE_FACTS = ("carp", "demote", "maintenance", "parked")   # what the settle wait compares


def wait_carp_settled(session: Session, pair: Pair, node: Node, deadline: float, progress) -> None:
    """Boot demotion gone (rc's 128, pfsync's 32), node BACKUP, one MASTER per vhid.

    Polls only the rebooted node, with only the facts compared, until its own part holds;
    then one read of both nodes for the pair's part (the peer is not asked every round)."""
    while True:
        mine = read_node(session, node, SETTLE_FACTS)
        ok = (mine.reachable and mine.demote == _expected_demote({node.name: mine}, node)
              and all(c.state != "INIT" for c in mine.carp if c.vhid is not None))
        if ok and one_master_each(read_pair(session, pair, SETTLE_FACTS).values()):
            return
        if time.monotonic() > deadline:
            raise FailedError(f"{node.name}: CARP did not settle after the reboot (demote "
                              f"{mine.demote}, carp "
                              f"{'/'.join(c.state for c in mine.carp if c.vhid) or '?'})")
        progress.update(f"{node.name}: waiting for CARP to settle (demote {mine.demote})")
        time.sleep(POLL / 2)


# a patch touches a daemon when the errata name it (OpenBSD 7.6 `008_relayd`, `011_sshd`)
PATCHED_DAEMONS = {"relayd": "relayd", "ssh": "sshd"}
_REORDER = "reorder_kernel is running"
_AGAIN = "run it again"


def syspatch_node(session: Session, pair: Pair, node: Node, *, timeout: float) -> str:
    """Install pending patches; reboot when any run asked for it, else restart the daemons
    the patches touched.

    syspatch may first update itself and stop ("run it again"): the Relinking ...
    reboot line can come in that first run, so every run's output counts. Right after
    a boot rc's reorder_kernel still runs and syspatch refuses: that is waited out."""
    conn = session.connection(node)
    pending = parse_syspatch(conn.run(C.SYSPATCH_PENDING, check=True).stdout)
    if not pending:
        return "no patches pending"
    deadline = time.monotonic() + timeout
    outputs: list[str] = []
    while True:
        result = conn.run(C.SYSPATCH_APPLY)
        if _REORDER in result.output and time.monotonic() < deadline:
            time.sleep(POLL)
            continue
        outputs.append(result.output)
        if not (result.status == 2 and _AGAIN in result.output) or len(outputs) > 3:
            break
    if result.status not in (0, 2) or _AGAIN in result.output:
        raise FailedError(f"{node.name}: syspatch failed (exit {result.status}): "
                          f"{result.output.strip()[-300:]}")
    note = f"installed {', '.join(pending)}"
    if any("reboot" in output for output in outputs):
        note += "; " + reboot_node(session, pair, node, timeout=timeout)
    else:
        note += _restart_patched(session, node, pending)
    left = parse_syspatch(session.connection(node).run(C.SYSPATCH_PENDING, check=True).stdout)
    if left:
        raise FailedError(f"{node.name}: patches still pending after syspatch: {', '.join(left)}")
    return note


def _restart_patched(session: Session, node: Node, patches: Sequence[str]) -> str:
    daemons = sorted({d for p in patches for word, d in PATCHED_DAEMONS.items() if word in p})
    if not daemons:
        return ""
    results = session.connection(node).batch([C.rcctl_restart(d) for d in daemons])
    failed = [d for d, r in zip(daemons, results) if not r.ok]
    if failed:
        raise FailedError(f"{node.name}: patched {', '.join(failed)} did not restart: "
                          + "; ".join(r.output.strip()[-200:] for r in results if not r.ok))
    return f"; restarted {', '.join(daemons)}"


def wait_healthy(session: Session, pair: Pair, *, timeout: float) -> str:
    """Until status finds nothing wrong but deliberate states (maintenance, drift); a parked
    node is not a finding in the first place."""
    started = time.monotonic()
    while True:
        states = read_pair(session, pair)
        verdict = assess(pair.name, list(states.values()), pfsync=pair.pfsync)
        left = [f for f in verdict.findings if f.code not in EXCUSED]
        if not left:
            return f"healthy after {time.monotonic() - started:.1f}s"
        if time.monotonic() - started > timeout:
            raise FailedError(f"{pair.name}: not healthy after {timeout:g}s: "
                              + "; ".join(f.message for f in left))
        time.sleep(POLL)
