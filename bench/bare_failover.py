"""The bare failover procedure over plain OpenSSH, with no checks: the yardstick for carpctl.

What an admin (or an Ansible `raw` playbook) does by hand: read the MASTER's carp
interfaces and remember their advskews, set advskew 254 on each (or raise the carp
group's demote counter), poll the peer until it is MASTER on every vhid, then
restore. No lock, no preflight, no undo, no settle watch. Two flavours:
multiplexed (ControlMaster/ControlPersist, warm, as Ansible does by default), where
each step costs one exec round trip, the fastest the bare steps can go; and one
connection per command, what `ssh fw1 ifconfig carp` lines in a shell script cost.

`failover(bare, method=...)` returns (hand-over, total) in seconds. Used by
bench/bench_failover.py, side by side with carpctl.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

POLL = 0.1          # the same poll interval as carpctl's
DEMOTE = 50
_CARP = re.compile(r"^(carp\d+): .*?\n(?:\t.*\n)*?\tcarp: (\w+) (?:carpdev \S+ )?vhid \d+ advbase \d+ "
                   r"advskew (\d+)", re.M)


@dataclass(frozen=True)
class Target:
    name: str
    user: str
    port: int
    identity: Path
    known_hosts: Path


class Bare:
    """ssh to the nodes: one multiplexed master per node for the length of the
    `with` block, or (multiplex=False) a new connection for every command."""

    def __init__(self, nodes: list[Target], *, multiplex: bool = True):
        self.nodes = {n.name: n for n in nodes}
        self.multiplex = multiplex
        self._dir = tempfile.TemporaryDirectory(prefix="bare-ssh-")

    def _argv(self, node: Target, *extra: str) -> list[str]:
        shared = (["-o", "ControlMaster=auto", "-o", f"ControlPath={self._dir.name}/%p",
                   "-o", "ControlPersist=60"] if self.multiplex else [])
        return ["ssh", "-q", "-p", str(node.port), "-i", str(node.identity),
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", f"UserKnownHostsFile={node.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                *shared, *extra, f"{node.user}@127.0.0.1"]

    def run(self, name: str, line: str) -> str:
        done = subprocess.run([*self._argv(self.nodes[name]), line], capture_output=True,
                              text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"{name}: `{line}` exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    def __enter__(self) -> Bare:
        for name in self.nodes if self.multiplex else ():
            self.run(name, "true")          # open the master connection (like a warm Ansible)
        return self

    def __exit__(self, *exc: object) -> None:
        for node in self.nodes.values() if self.multiplex else ():
            subprocess.run([*self._argv(node, "-O", "exit")], capture_output=True, timeout=10)
        self._dir.cleanup()


def carp(text: str) -> dict[str, tuple[str, int]]:
    """ifconfig carp -> {carpN: (state, advskew)}."""
    return {m[1]: (m[2], int(m[3])) for m in _CARP.finditer(text + "\n")}


def failover(bare: Bare, *, method: str = "advskew") -> tuple[float, float]:
    started = time.monotonic()
    seen = {name: carp(bare.run(name, "ifconfig carp")) for name in bare.nodes}
    master = next(n for n, ifs in seen.items() if all(s == "MASTER" for s, _ in ifs.values()))
    peer = next(n for n in bare.nodes if n != master)
    skews = {ifname: skew for ifname, (_, skew) in seen[master].items()}
    if method == "advskew":
        demote = "; ".join(f"ifconfig {i} advskew 254" for i in skews)
        restore = "; ".join(f"ifconfig {i} advskew {s}" for i, s in skews.items())
    else:
        demote, restore = f"ifconfig -g carp carpdemote {DEMOTE}", f"ifconfig -g carp -carpdemote {DEMOTE}"
    demoted = time.monotonic()
    bare.run(master, demote)
    while not all(s == "MASTER" for s, _ in carp(bare.run(peer, "ifconfig carp")).values()):
        time.sleep(POLL)
    handover = time.monotonic() - demoted
    bare.run(master, restore)
    return handover, time.monotonic() - started
