"""What one carpctl run shares: the inventory, the journal, connections, output.

Flows take a Session instead of globals, so a Python caller can run them with
its own inventory and without a terminal, and tests can inspect the journal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from carpctl.cli.output import Output
from carpctl.errors import EXIT_FAILED, CarpctlError
from carpctl.inventory.secrets import redact
from carpctl.remote.connection import NodeConnection

if TYPE_CHECKING:
    from carpctl.inventory import Inventory, Node
    from carpctl.runtime.history import History, Run

T = TypeVar("T")
R = TypeVar("R")


class Session:
    def __init__(self, inventory: Inventory, *, out: Output | None = None,
                 history: History | None = None, accept_new_host_keys: bool = False,
                 assume_yes: bool = False):
        self.inventory = inventory
        self.out = out or Output()
        self.history = history
        self.run: Run | None = None
        self.accept_new_host_keys = accept_new_host_keys
        self.assume_yes = assume_yes
        self._secrets = inventory.secrets
        self._connections: dict[tuple[str, str], NodeConnection] = {}
        self._lock = threading.Lock()
        self.lost: set[tuple[str, str]] = set()   # nodes that dropped out during this run

    def redact(self, text: str) -> str:
        return redact(text, self._secrets) if self._secrets else text

    # -- the journal -----------------------------------------------------------------------
    def begin(self, command: str, pairs: list[str]) -> None:
        if self.history is not None:
            self.run = self.history.start_run(command, pairs, self.redact)

    def finish(self, exit_code: int, summary: str) -> None:
        if self.run is not None:
            self.run.finish(exit_code, summary)

    def step(self, name: str, status: str, *, node: str | None = None, **data) -> None:
        if self.run is not None:
            self.run.step(name, status, node=node, data=data)

    # -- connections -------------------------------------------------------------------------
    def connection(self, node: Node) -> NodeConnection:
        """The node's one connection for this run (opened on first use)."""
        key = (node.pair, node.name)
        with self._lock:
            conn = self._connections.get(key)
            if conn is None:
                conn = NodeConnection(node, accept_new_host_keys=self.accept_new_host_keys,
                                      recorder=self.run.record if self.run else None,
                                      redact=self.redact)
                self._connections[key] = conn
            return conn

    def mark_lost(self, pair: str, node: str) -> None:
        """A node failed mid-run: cleanup steps should not wait on it again."""
        self.lost.add((pair, node))

    def is_lost(self, node: Node) -> bool:
        return (node.pair, node.name) in self.lost

    def fresh_connection(self, node: Node) -> NodeConnection:
        """A NEW connection, not shared (the lockout check must not reuse one)."""
        return NodeConnection(node, accept_new_host_keys=self.accept_new_host_keys,
                              recorder=self.run.record if self.run else None, redact=self.redact)

    def close(self) -> None:
        with self._lock:
            connections = list(self._connections.values())
            self._connections.clear()
        for conn in connections:
            conn.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """Close connections; a run an error ended is journaled with that error's exit code."""
        try:
            if exc is not None and self.run is not None and not self.run.finished:
                if isinstance(exc, CarpctlError):
                    self.finish(exc.exit_code, exc.message)
                elif isinstance(exc, KeyboardInterrupt):
                    self.finish(EXIT_FAILED, "interrupted")
                elif isinstance(exc, BrokenPipeError):
                    self.finish(EXIT_FAILED, "output closed before the report was printed")
                else:
                    self.finish(EXIT_FAILED, f"internal error ({type(exc).__name__}: {exc})")
        finally:
            self.close()

    # -- helpers ---------------------------------------------------------------------------------
    def parallel(self, func: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
        """func over items on up to `workers` threads, results in the items' order."""
        items = list(items)
        if len(items) <= 1 or workers <= 1:
            return [func(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
            return list(pool.map(func, items))

    def confirm(self, question: str) -> bool:
        """Ask on a terminal before a disruptive step; --yes or no terminal means yes/refuse."""
        if self.assume_yes:
            return True
        if not self.out.interactive:
            return False
        answer = input(f"{question} [y/N] ")
        return answer.strip().lower() in ("y", "yes")
