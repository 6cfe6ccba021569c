"""An emulated pair: two nodes, one CARP model, the web hosts they balance.

The pair owns the clock the model runs on. Time is real (monotonic), except
while the model replays a scheduled action (a boot step at time T): then
commands run by that action see T, so every event lands at its own time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .carp import CarpModel
from .image import PairSpec, write_image
from .node import Node
from .proc import Registry


@dataclass(frozen=True)
class Timing:
    """Boot timings, short by default so tests stay fast (OpenBSD takes longer)."""

    ssh_delay: float = 0.3       # power-on to sshd accepting logins
    rc_time: float = 1.0         # power-on to the end of /etc/rc (-carpdemote 128)
    bulk_time: float = 1.5       # pfsync0 up to its bulk update being done (-32)
    reorder_time: float = 0.0    # power-on to the end of rc's background reorder_kernel
    reboot_downtime: float = 2.0
    installer_time: float = 2.0  # bsd.upgrade booted to the installer's own reboot (sysupgrade)
    watchdog_time: float = 3.0   # a failed unattended upgrade until install.sub's watchdog reboots


class LabPair:
    def __init__(self, spec: PairSpec, root: Path, registry: Registry,
                 timing: Timing = Timing()):
        self.spec = spec
        self.name = spec.name
        self.timing = timing
        self.lock = threading.RLock()
        self.model = CarpModel()
        self._replay_time: float | None = None
        self.webhosts: dict[str, bool] = {host: True for host in spec.webhosts}
        self.traffic_states = 40 + 2 * len(spec.webhosts)
        self.nodes = tuple(
            Node(self, i, name, root / name, registry) for i, name in enumerate(spec.nodes))
        for i, node in enumerate(self.nodes):
            self.model.add_node(node.name, preempt=spec.preempt[i])
            self.model.set_filter(node.name, node.carp_filter)
            write_image(node.fs, spec, i)
            node.syspatch_pending = list(spec.syspatch_pending)

    # -- clock ------------------------------------------------------------------
    def now(self) -> float:
        return self._replay_time if self._replay_time is not None else time.monotonic()

    @contextmanager
    def replaying(self, at: float) -> Iterator[None]:
        previous, self._replay_time = self._replay_time, at
        try:
            yield
        finally:
            self._replay_time = previous

    def advance(self) -> None:
        """Bring the CARP model (and scheduled boot steps) up to now."""
        with self.lock:
            if self._replay_time is None:
                self.model.advance(time.monotonic())

    def schedule(self, at: float, action) -> None:
        """Run `action(at)` inside the model's timeline, with the clock set to `at`."""
        def run(model, when: float) -> None:
            with self.replaying(when):
                action(when)
        self.model.schedule(at, run)

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        """Boot both nodes as if they had been up for long: primary MASTER, no demotion."""
        with self.lock:
            now = time.monotonic()
            with self.replaying(now):
                for node in self.nodes:
                    node.boot(now, settled=True)
                for carp in self.spec.carp:
                    first = min(range(2), key=lambda i: (self.spec.advskew[i], i))
                    self.model.set_state(self.nodes[first].name, carp.ifname, "master", now)

    def on_power_off(self, node: Node, now: float) -> None:
        """A node went down: nothing to do yet (states and health are pair-level)."""

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in {self.name}")

    # -- shared emulated facts ----------------------------------------------------------
    def pfsync_synced(self) -> bool:
        """Both nodes up with pfsync running on a live sync link."""
        return all(n.powered and n.pfsync.up and n.links.get(n.pfsync.syncdev or "", True)
                   for n in self.nodes)

    def pfsync_flows(self, sender: Node, receiver: Node) -> bool:
        """pf lets sender's pfsync packets out of its syncdev and into receiver's."""
        return (sender.pf_passes("pfsync", "out", sender.pfsync.syncdev)
                and receiver.pf_passes("pfsync", "in", receiver.pfsync.syncdev))

    def pf_states(self, node: Node) -> int:
        """States a node holds: the MASTER's traffic, mirrored while pfsync reaches it.

        Kept simple: a node that is MASTER of nothing holds the peer's states only
        while pfsync runs on both and pf lets the peer's updates through; else its
        states have expired (0), so the two counts stop following each other.
        """
        if not node.pf.enabled:
            return 0
        is_master = any(v.state == "MASTER" for v in self.model.interfaces(node.name))
        synced = self.pfsync_synced() and self.pfsync_flows(node.peer, node)
        return self.traffic_states if is_master or synced else 0
