"""Release upgrades, node by node: preflight, sysupgrade and the installer's reboots,
sysmerge, fw_update, pkg_add -u, and the reboot one of them asks for.

sysupgrade always runs with -n (it stages /bsd.upgrade and prints everything), then carpctl
reboots: a failed download never reboots, and the whole output is kept. Before that reboot
a record goes on the node (paths.UPGRADE_FILE: the kernel it ran, its boot time, the window);
it survives the installer, so a resumed window waits for the node instead of upgrading it a
second time, on whichever release it finds it. Each step returns Done (its note and what the
node printed) or raises StepFailed carrying the output too, for the journal.
"""

from __future__ import annotations

import hashlib
import time

from carpctl.core.playbook import Done, StepFailed
from carpctl.errors import FailedError, RefusedError, RemoteError
from carpctl.facts.release import KernVersion, next_release, parse_kern_version, parse_release
from carpctl.facts.upgrade import parse_df, parse_fw_update, parse_pkg_add, parse_sysmerge
from carpctl.flows.node_ops import POLL, reboot_node, wait_carp_settled
from carpctl.inventory import Node, Pair
from carpctl.remote import commands as C
from carpctl.remote.connection import ConnectionLost, NodeConnection
from carpctl.remote.paths import REBOOT_WANTED, UPGRADE_FILE
from carpctl.runtime.session import Session

USR_FULL = 90            # sysupgrade.sh 1.62 refuses when /usr's Capacity is 90% or more
HOME_MB = 1024           # carpctl's margin for the sets in /home/_sysupgrade (amd64: ~600 MB)
_INSTALLURL_DEFAULT = "https://cdn.openbsd.org/pub/OpenBSD"   # sysupgrade's own fallback


def _tail(text: str, size: int = 300) -> str:
    return " ".join(text.strip()[-size:].split())


def _window(session: Session) -> str:
    run = session.run
    return str(run.details.get("window", run.id)) if run is not None else "none"


def _kernel_key(kv: KernVersion) -> str:
    return hashlib.sha256(kv.line.encode()).hexdigest()[:16]


# -- preflight --------------------------------------------------------------------------------
def _mirror(text: str) -> str:
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    return next((line for line in lines if line), _INSTALLURL_DEFAULT)


def upgrade_preflight(session: Session, pair: Pair, *, snapshot: bool, home_mb: int) -> str:
    """Both nodes: room in /usr (sysupgrade's own check) and /home, and the node's mirror
    answers for the sets sysupgrade will fetch first. Refused (exit 3) before anything
    changed, with every problem of both nodes."""
    problems, notes = [], []
    for node in pair.nodes:
        conn = session.connection(node)
        release, arch, url, space = conn.batch([C.RELEASE, C.ARCH, C.INSTALLURL, C.UPGRADE_SPACE])
        current = parse_release(release.stdout)
        target = "snapshots" if snapshot else next_release(current)
        spaces = parse_df(space.stdout) if space.ok else {}
        usr, home = spaces.get("/usr"), spaces.get("/home")
        if usr is None or home is None:
            problems.append(f"{node.name}: cannot read the space in /usr and /home "
                            f"({_tail(space.output, 120)})")
        else:
            if usr.capacity >= USR_FULL:
                problems.append(f"{node.name}: /usr is {usr.capacity}% full; sysupgrade refuses "
                                f"at {USR_FULL}% (see PRUNING in sysupgrade(8))")
            if home.avail_kb < home_mb * 1024:
                problems.append(f"{node.name}: /home has {home.avail_kb // 1024} MB free; the "
                                f"sets need about {home_mb} MB in /home/_sysupgrade")
        mirror = _mirror(url.stdout if url.ok else "")
        index = f"{mirror}/{target}/{arch.stdout.strip() or 'amd64'}/SHA256.sig"
        fetched = conn.run(C.fetch_check(index))
        if not fetched.ok:
            problems.append(f"{node.name}: its mirror does not give {index} "
                            f"({_tail(fetched.output, 160) or f'ftp exit {fetched.status}'})")
        notes.append(f"{node.name} {current} -> {target}")
    if problems:
        raise RefusedError(f"{pair.name}: not ready for sysupgrade: " + "; ".join(problems))
    return "ready: " + ", ".join(notes)


# -- the upgrade record on the node -------------------------------------------------------------
def _read_record(conn: NodeConnection, window: str) -> dict[str, str] | None:
    result = conn.run(C.read_marker(UPGRADE_FILE))
    if not result.ok:
        return None
    fields = dict(w.partition("=")[::2] for w in result.stdout.split())
    return fields if fields.get("window") == window else None   # another window's: stale


def _write_record(conn: NodeConnection, fields: dict[str, str]) -> None:
    conn.run(C.write_marker(UPGRADE_FILE, " ".join(f"{k}={v}" for k, v in fields.items())),
             check=True)


def _probe(session: Session, node: Node) -> tuple[KernVersion, str] | None:
    """kern.version and kern.boottime over a NEW connection; None while the node is away."""
    conn = session.fresh_connection(node)
    try:
        version, booted = conn.batch([C.KERN_VERSION, C.BOOTTIME])
        if not (version.ok and booted.ok):
            return None
        return parse_kern_version(version.stdout), booted.stdout.strip()
    except RemoteError:
        return None
    finally:
        conn.close()


# -- sysupgrade ----------------------------------------------------------------------------------
def sysupgrade_node(session: Session, pair: Pair, node: Node, *, snapshot: bool, reboot: bool,
                    timeout: float) -> Done:
    """Stage with `sysupgrade -n`, reboot, wait (the installer reboots twice) until the node
    is back on a new kernel and CARP has settled. Resumable: see the module docstring."""
    window = _window(session)
    conn = session.connection(node)
    record = _read_record(conn, window)
    if record is not None and record.get("state") == "done":
        return Done(f"already upgraded to {record['target']} in this window")
    output = ""
    if record is None:
        version, booted = conn.batch([C.KERN_VERSION, C.BOOTTIME])
        if not (version.ok and booted.ok):
            raise FailedError(f"{node.name}: cannot read kern.version and kern.boottime: "
                              f"{_tail(version.output + booted.output)}")
        before = parse_kern_version(version.stdout)
        staged = conn.run(C.sysupgrade(snapshot))
        output = staged.output
        if not staged.ok:
            raise StepFailed(f"{node.name}: sysupgrade failed (exit {staged.status}): "
                             f"{_tail(staged.output)}; nothing was staged, the node runs "
                             f"{before.name} as before", output)
        if "Already on latest" in output:
            return Done(f"already on the latest {'snapshot' if snapshot else 'release'} "
                        f"({before.name}): nothing to upgrade", output)
        target = "snapshot" if snapshot else next_release(before.release)
        if not reboot:
            return Done(f"staged {target}: /bsd.upgrade installs it at the next reboot", output)
        record = {"window": window, "state": "rebooting", "from": before.name, "target": target,
                  "kernel": _kernel_key(before), "boottime": booted.stdout.strip()}
        _write_record(conn, record)
        _reboot(conn)
    else:
        output = "(resumed: sysupgrade had staged the upgrade in an earlier run)"
        probe = _probe(session, node)
        if probe is not None and probe[1] == record["boottime"]:
            _reboot(session.connection(node))   # killed before the reboot took: reboot now
    started = time.monotonic()
    kv, back = _wait_back(session, node, record, started + timeout, timeout)
    if _kernel_key(kv) == record["kernel"]:
        session.connection(node).run(C.remove_marker(UPGRADE_FILE))
        raise StepFailed(f"{node.name}: came back on its old kernel ({kv.name}) after {back:.0f}s:"
                         f" the upgrade to {record['target']} did not complete (the installer "
                         f"failed; its log went with the ramdisk: look at the console, then "
                         f"run sysupgrade again or resume)", output)
    with session.report.status(f"{node.name}: waiting for CARP to settle") as progress:
        wait_carp_settled(session, pair, node, started + timeout, progress)
    _write_record(session.connection(node), {**record, "state": "done"})
    return Done(f"{record['from']} -> {kv.name}: SSH back after {back:.0f}s (installer and "
                f"its reboots), CARP settled after {time.monotonic() - started:.0f}s", output)


def _reboot(conn: NodeConnection) -> None:
    try:
        conn.run(C.REBOOT)
    except ConnectionLost:
        pass   # reboot cuts the session: expected
    conn.close()


def _wait_back(session: Session, node: Node, record: dict[str, str], deadline: float,
               timeout: float) -> tuple[KernVersion, float]:
    """Until the node answers with another boot time than the record's."""
    started = time.monotonic()
    with session.report.status(f"{node.name}: upgrading to {record['target']}") as progress:
        while True:
            probe = _probe(session, node)
            if probe is not None and probe[1] != record["boottime"]:
                return probe[0], time.monotonic() - started
            if time.monotonic() > deadline:
                raise FailedError(
                    f"{node.name}: not back on {record['target']} after {timeout:g}s of "
                    f"sysupgrade (the installer may wait at a question, or the node did not "
                    f"boot): go to {node.name}'s console; the window stops here with "
                    f"{node.name} in maintenance")
            progress.update(f"{node.name}: upgrading to {record['target']}: "
                            f"{'SSH down' if probe is None else 'not rebooted yet'} "
                            f"{time.monotonic() - started:.0f}s (installer + 2 reboots; "
                            f"up to {timeout:g}s)")
            time.sleep(POLL)


# -- after the upgrade ---------------------------------------------------------------------------
def _want_reboot(conn: NodeConnection, why: str) -> None:
    conn.run(C.append_marker(REBOOT_WANTED, why), check=True)


def sysmerge_node(session: Session, node: Node) -> Done:
    """`sysmerge -b`; files it leaves for a person stop the window (the node stays in
    maintenance)."""
    result = session.connection(node).run(C.SYSMERGE)
    merged = parse_sysmerge(result.output)
    if not result.ok:
        raise StepFailed(f"{node.name}: sysmerge -b failed (exit {result.status}): "
                         f"{_tail(result.output)}", result.output)
    if merged.left:
        raise StepFailed(f"{node.name}: sysmerge could not merge {', '.join(merged.left)}: "
                         f"merge by hand on {node.name} (run `sysmerge` there, it asks per "
                         f"file)", result.output)
    return Done(f"merged {', '.join(merged.updated)}" if merged.updated
                else "nothing to merge", result.output)


def fw_update_node(session: Session, node: Node) -> Done:
    """fw_update; new or updated firmware asks for a reboot (drivers load it at attach)."""
    conn = session.connection(node)
    result = conn.run(C.FW_UPDATE)
    firmware = parse_fw_update(result.output) if "fw_update:" in result.output else None
    if not result.ok or firmware is None or firmware.failed:
        raise StepFailed(f"{node.name}: fw_update failed (exit {result.status}): "
                         f"{_tail(result.output)}", result.output)
    if firmware.changed:
        _want_reboot(conn, f"fw_update: {','.join(firmware.changed)}")
        return Done(f"firmware {', '.join(firmware.changed)}: a reboot loads it", result.output)
    return Done("firmware up to date", result.output)


def pkg_add_node(session: Session, node: Node) -> Done:
    result = session.connection(node).run(C.PKG_UPDATE)
    if not result.ok:
        raise StepFailed(f"{node.name}: pkg_add -u failed (exit {result.status}): "
                         f"{_tail(result.output)}", result.output)
    changed = parse_pkg_add(result.output)
    return Done(f"updated {', '.join(f'{a}->{b}' for a, b in changed)}" if changed
                else "packages up to date", result.output)


def reboot_if_needed(session: Session, pair: Pair, node: Node, *, timeout: float) -> str:
    """Reboot only when an earlier step asked for it (the reasons are kept on the node, so a
    resumed window still knows); the reasons are cleared once the reboot is done."""
    asked = session.connection(node).run(C.read_marker(REBOOT_WANTED))
    reasons = asked.stdout.split("\n") if asked.ok else []
    reasons = [r for r in reasons if r.strip()]
    if not reasons:
        return "no reboot needed"
    note = reboot_node(session, pair, node, timeout=timeout)
    session.connection(node).run(C.remove_marker(REBOOT_WANTED), check=True)
    return f"{'; '.join(reasons)}: {note}"
