"""A running lab: emulated pairs on 127.0.0.1, their keys and the inventory to reach them.

Use it from Python (tests, `carpctl demo`) as a context manager, or through
`carpctl lab up`. Every fault a test needs is a method here; they are
thread-safe and take effect at once.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncssh

from .commands import REGISTRY
from .image import PairSpec
from .inventory_file import write_inventory
from .node import LogEntry, Node
from .pair import LabPair, Timing
from .shell.jobs import wait_for_jobs
from .sshd import NodeSSHD

TICK = 0.05  # how often listeners follow node state (sshd up/down after a boot)


def default_specs(count: int, **shape) -> list[PairSpec]:
    """`count` pairs named pair1..pairN; `shape` overrides PairSpec fields for all of them."""
    return [PairSpec(name=f"pair{i}", **shape) for i in range(1, count + 1)]


class Lab:
    """Emulated OpenBSD pairs served over SSH from a background event loop."""

    def __init__(self, directory: str | Path | None = None,
                 pairs: int | Iterable[PairSpec] = 1, *, timing: Timing | None = None):
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="carpctl-lab-"))
        specs = default_specs(pairs) if isinstance(pairs, int) else list(pairs)
        self.timing = timing or Timing()
        self._specs = specs
        self.pairs: dict[str, LabPair] = {}
        self._sshd: dict[tuple[str, str], NodeSSHD] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="lab-cmd")
        self._ticker: asyncio.Task | None = None

    # -- files a client needs ---------------------------------------------------------
    @property
    def inventory(self) -> Path:
        return self.directory / "inventory.yml"

    @property
    def client_key(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.directory / "known_hosts"

    # -- start and stop ---------------------------------------------------------------
    def start(self) -> Lab:
        self.directory.mkdir(parents=True, exist_ok=True)
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start())
            except BaseException as exc:  # reported to the caller of start()
                failure.append(exc)
                loop.run_until_complete(self._stop())
                self._shutdown_loop(loop)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop())
            self._shutdown_loop(loop)

        self._thread = threading.Thread(target=serve, name="carpctl-lab", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._loop = self._thread = None
            raise failure[0]
        return self

    async def _start(self) -> None:
        client_key = _load_or_create_key(self.client_key, comment="carpctl-lab-client")
        nodes_root = self.directory / "nodes"
        if nodes_root.exists():
            shutil.rmtree(nodes_root)
        for spec in self._specs:
            pair = LabPair(spec, nodes_root / spec.name, REGISTRY, self.timing)
            self.pairs[spec.name] = pair
            for node in pair.nodes:
                host_key = _load_or_create_key(
                    self.directory / "hostkeys" / f"{spec.name}-{node.name}",
                    comment=f"{node.name}.{spec.name}.lab")
                sshd = NodeSSHD(node, host_key, client_key, self._executor)
                await sshd.start()
                self._sshd[(spec.name, node.name)] = sshd
            pair.start()
        self._write_client_files()
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def _write_client_files(self) -> None:
        lines = []
        for sshd in self._sshd.values():
            key = sshd._host_key.export_public_key("openssh").decode().split()
            lines.append(f"[127.0.0.1]:{sshd.port} {key[0]} {key[1]}\n")
        self.known_hosts.write_text("".join(lines))
        write_inventory(self)

    async def _tick(self) -> None:
        while True:
            for sshd in self._sshd.values():
                sshd.refresh()
            await asyncio.sleep(TICK)

    async def _stop(self) -> None:
        if self._ticker:
            self._ticker.cancel()
        for sshd in self._sshd.values():
            await sshd.stop()
        await asyncio.sleep(0)  # let the aborts just scheduled close their sockets

    def _shutdown_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait for the commands still running (their nodes are halted, so they end
        at their next step), then cancel what is left on the loop and close it."""
        self._executor.shutdown(wait=True, cancel_futures=True)

        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await loop.shutdown_default_executor()

        loop.run_until_complete(drain())
        loop.close()

    def stop(self) -> None:
        """Stop serving and end every thread the lab started; returns when they are gone."""
        for pair in self.pairs.values():
            for node in pair.nodes:
                node.halt()
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = self._thread = None
        self._executor.shutdown(wait=True, cancel_futures=True)
        for pair in self.pairs.values():
            for node in pair.nodes:
                wait_for_jobs(node, timeout=2.0)
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- looking inside -----------------------------------------------------------------
    def node(self, pair: str, node: str) -> Node:
        return self.pairs[pair].node(node)

    def port(self, pair: str, node: str) -> int:
        return self._sshd[(pair, node)].port

    def log(self, pair: str, node: str) -> list[LogEntry]:
        return list(self.node(pair, node).log)

    def truth(self, pair: str) -> dict[str, Any]:
        """The emulated state as it really is: per node, reachability and carp."""
        lab_pair = self.pairs[pair]
        with lab_pair.lock:
            lab_pair.advance()
            model = lab_pair.model
            nodes = {}
            for node in lab_pair.nodes:
                nodes[node.name] = {
                    "powered": node.powered,
                    "demote": model.demote(node.name) if node.powered else None,
                    "preempt": model.preempt(node.name) if node.powered else None,
                    "carp": {v.name: {"state": v.state, "vhid": v.vhid,
                                      "advbase": v.advbase, "advskew": v.advskew}
                             for v in model.interfaces(node.name)},
                }
            return {"pair": pair, "nodes": nodes}

    def masters(self, pair: str) -> dict[int, list[str]]:
        """vhid -> names of the nodes that are MASTER for it, right now."""
        result: dict[int, list[str]] = {}
        for name, info in self.truth(pair)["nodes"].items():
            for carp in info["carp"].values():
                result.setdefault(carp["vhid"], [])
                if carp["state"] == "MASTER":
                    result[carp["vhid"]].append(name)
        return result

    # -- faults ---------------------------------------------------------------------------
    def _at(self, pair: str, node: str, action) -> Any:
        target = self.node(pair, node)
        with target.lock:
            target.pair.advance()
            now = time.monotonic()
            with target.pair.replaying(now):
                return action(target, now)

    def crash(self, pair: str, node: str) -> None:
        self._at(pair, node, lambda n, now: n.crash(now))

    def power_on(self, pair: str, node: str) -> None:
        self._at(pair, node, lambda n, now: None if n.powered else n.boot(now))

    def reboot(self, pair: str, node: str, downtime: float | None = None) -> None:
        self._at(pair, node, lambda n, now: n.reboot(now, downtime))

    def ssh_down(self, pair: str, node: str, down: bool = True) -> None:
        self.node(pair, node).faults.ssh_down = down

    def refuse_new(self, pair: str, node: str, refuse: bool = True) -> None:
        self.node(pair, node).faults.refuse_new = refuse

    def link(self, pair: str, node: str, dev: str, up: bool) -> None:
        self._at(pair, node, lambda n, now: n.set_link(dev, up))

    def preempt(self, pair: str, node: str, on: bool) -> None:
        self._at(pair, node, lambda n, now: n.pair.model.set_preempt(n.name, on, now))

    def allow(self, pair: str, node: str, on: bool) -> None:
        """net.inet.carp.allow: 0 makes the node deaf to its peer (split brain)."""
        self._at(pair, node, lambda n, now: n.pair.model.set_allow(n.name, on, now))

    def carp_pass(self, pair: str, node: str, key: str, *, persistent: bool = False) -> None:
        """The node's carp `pass` (HMAC key) on every carp interface, as `ifconfig carpN pass`.

        With a key the peer does not share, each side drops the other's
        advertisements (bad authentication) and becomes MASTER after its
        master-down timer: split brain. `persistent` also rewrites the `pass`
        word of the node's /etc/hostname.carpN files, so it survives a reboot.
        """
        def apply(n: Node, now: float) -> None:
            for view in n.pair.model.interfaces(n.name):
                n.pair.model.set_key(n.name, view.name, key, now)
            if persistent:
                for ifname in n._hostname_files():
                    if ifname.startswith("carp"):
                        path = f"/etc/hostname.{ifname}"
                        n.fs.write_text(path, re.sub(r"\bpass \S+", lambda _: f"pass {key}",
                                                     n.fs.read_text(path)))
        self._at(pair, node, apply)

    def carp_garbage(self, pair: str, node: str, carpdev: str, damage: str,
                     count: int = 1) -> None:
        """`count` damaged advertisements (`ttl`, `short`, `checksum`, `version`) reach the
        node on carpdev: `netstat -s -p carp` counts them received, then dropped."""
        def inject(n: Node, now: float) -> None:
            for _ in range(count):
                n.pair.model.inject_malformed(n.name, carpdev, damage, now)
        self._at(pair, node, inject)

    def webhost(self, pair: str, address: str, up: bool) -> None:
        lab_pair = self.pairs[pair]
        if address not in lab_pair.webhosts:
            raise KeyError(f"{pair} has no web host {address}")
        lab_pair.webhosts[address] = up

    def slow(self, pair: str, node: str, seconds: float, match: str | None = None) -> None:
        faults = self.node(pair, node).faults
        faults.delay, faults.delay_match = seconds, match

    def drop(self, pair: str, node: str, match: str, *, count: int = 1, after: bool = False) -> None:
        faults = self.node(pair, node).faults
        faults.drop_match, faults.drop_count, faults.drop_after = match, count, after

    def doas(self, pair: str, node: str, permitted: bool) -> None:
        self.node(pair, node).faults.doas_denied = not permitted

    def disk_full(self, pair: str, node: str, full: bool = True) -> None:
        self.node(pair, node).fs.full = full

    def syspatch_pending(self, pair: str, node: str, patches: Iterable[str]) -> None:
        self.node(pair, node).syspatch_pending = list(patches)

    def upgrade(self, pair: str, node: str, **state: Any) -> None:
        """What a release upgrade of the node meets (carpctl_lab.openbsd.sysupgrade.Upgrade):
        `mirror_ok=False`, `published=["7.6"]`, `outcome="fails"|"hangs"`,
        `conflicts=["/etc/ssh/sshd_config"]` (sysmerge leaves them; `[]`: merged by hand),
        `firmware_new=[...]`, `usr_used_percent=`, `home_avail_kb=`."""
        with self.pairs[pair].lock:
            target = self.node(pair, node).upgrade
            for key, value in state.items():
                if not hasattr(target, key):
                    raise ValueError(f"no upgrade state {key!r}")
                setattr(target, key, tuple(value) if key == "published" else value)

    def relayd_fails(self, pair: str, node: str, fails: bool = True) -> None:
        """relayd dies at start although relayd.conf parses: `rcctl start relayd` prints
        `relayd(failed)` and exits 1, at boot too. Stays until cleared."""
        self.node(pair, node).faults.relayd_fails = fails

    def reorder_kernel(self, pair: str, node: str, seconds: float) -> None:
        """rc's background reorder_kernel runs for `seconds` more: syspatch refuses meanwhile."""
        self._at(pair, node, lambda n, now: setattr(n, "reorder_until", now + seconds))

    def clear_faults(self, pair: str, node: str) -> None:
        target = self.node(pair, node)
        target.faults = type(target.faults)()
        target.fs.full = False


def _load_or_create_key(path: Path, *, comment: str) -> asyncssh.SSHKey:
    """Keys are kept in the lab directory so a restarted lab keeps its identity."""
    if path.exists():
        return asyncssh.read_private_key(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    key.write_private_key(str(path))
    os.chmod(path, 0o600)
    key.write_public_key(str(path) + ".pub")
    return key
