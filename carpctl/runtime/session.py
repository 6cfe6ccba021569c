"""What one carpctl run shares: the inventory, the journal, connections, locks, reporting.

Flows take a Session instead of globals, so a Python caller can run them with
its own inventory and without a terminal (silently, unless it passes a reporter),
and tests can inspect the journal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from carpctl.errors import outcome
from carpctl.inventory.secrets import redact
from carpctl.remote.connection import NodeConnection
from carpctl.runtime.report import Reporter, Silent

if TYPE_CHECKING:
    from carpctl.inventory import Inventory, Node, Pair
    from carpctl.runtime.history import History, Run
    from carpctl.runtime.lock import Held

T = TypeVar("T")
R = TypeVar("R")


Confirm = Callable[[str], bool]


class Session:
    """`confirm` answers a question before a disruptive step: True/False for every question,
    or a function of the question (the CLI asks on the terminal)."""

    def __init__(self, inventory: Inventory, *, report: Reporter | None = None,
                 history: History | None = None, accept_new_host_keys: bool = False,
                 confirm: bool | Confirm = False):
        self.inventory = inventory
        self.report: Reporter = report or Silent()
        self.history = history
        self.run: Run | None = None
        self.accept_new_host_keys = accept_new_host_keys
        self._confirm = confirm
        self._secrets = inventory.secrets
        self._connections: dict[tuple[str, str], NodeConnection] = {}
        self._lock = threading.Lock()
        self._locked: set[str] = set()            # pairs whose lock this run holds
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
                self.finish(*outcome(exc))
        finally:
            self.close()

    # -- the pair lock -----------------------------------------------------------------------
    @contextmanager
    def lock(self, pair: Pair, what: str, *, break_stale: bool = False,
             facts: tuple[str, ...] = (), resuming: frozenset[str] = frozenset()
             ) -> Iterator[Held]:
        """Hold the pair's lock on both nodes for the block (carpctl.runtime.lock), taken in
        one exec per node with a first read of `facts` (Held.states).

        Re-entrant: a flow run by another flow that holds the lock (a playbook's failover,
        a deploy's hand-off) goes on under it instead of taking it again. `resuming`: the
        runs a `run --resume` continues, whose lock it takes over once their process is gone.
        """
        from carpctl.runtime.lock import Held, PairLock

        if pair.name in self._locked:
            from carpctl.runtime.read import read_pair

            yield Held(self, pair, None, read_pair(self, pair, facts) if facts else {})
            return
        lock = PairLock(self, pair, what, break_stale=break_stale, resuming=resuming).take(facts)
        self._locked.add(pair.name)
        try:
            yield Held(self, pair, lock, lock.states)
        finally:
            self._locked.discard(pair.name)
            lock.release()

    # -- helpers ---------------------------------------------------------------------------------
    def parallel(self, func: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
        """func over items on up to `workers` threads, results in the items' order."""
        items = list(items)
        if len(items) <= 1 or workers <= 1:
            return [func(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
            return list(pool.map(func, items))

    def confirm(self, question: str) -> bool:
        """The answer to `question` asked before a disruptive step."""
        return self._confirm(question) if callable(self._confirm) else bool(self._confirm)
