"""Process ids and background jobs of the lab shell, kept per node.

A background job (`cmd &`) is a daemon thread that outlives the SSH request that
started it, as `nohup cmd >/dev/null 2>&1 &` does on a real firewall. Stopping is
cooperative: the shell asks `Job.stopped()` before every command, and `sleep`
polls it, so `kill PID` or a crash/reboot of the node (its generation changing)
ends a job between two commands. The job table is per node and shared by all
connections, so one SSH session can kill what another started.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..proc import NodeLike

_FIRST_PID = 20000


@dataclass(eq=False)
class Job:
    """One shell process: the foreground shell of a request, or a background job."""

    pid: int
    node: NodeLike
    user: str
    generation: int
    background: bool
    signal: int = 0  # the signal `kill` sent, 0 while none
    killed: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    status: int | None = None

    def stopped(self) -> bool:
        return self.killed.is_set() or not self.node.alive(self.generation)

    def kill(self, signo: int) -> None:
        self.signal = signo
        self.killed.set()


class _Table:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_pid = _FIRST_PID
        self.running: dict[int, Job] = {}
        self.threads: list[threading.Thread] = []  # of jobs started, pruned as they end


_tables: dict[int, _Table] = {}
_tables_lock = threading.Lock()
_local = threading.local()


def _table(node: NodeLike) -> _Table:
    with _tables_lock:
        table = _tables.get(id(node))
        if table is None:
            table = _tables[id(node)] = _Table()
            weakref.finalize(node, _tables.pop, id(node), None)
        return table


def new_pid(node: NodeLike) -> int:
    table = _table(node)
    with table.lock:
        table.last_pid += 1
        return table.last_pid


def new_job(node: NodeLike, user: str, *, background: bool) -> Job:
    return Job(new_pid(node), node, user, node.generation, background)


def start(job: Job, body: Callable[[], int]) -> None:
    """Run `body` in a daemon thread as background job `job`."""
    table = _table(job.node)
    with table.lock:
        table.running[job.pid] = job

    def main() -> None:
        with running(job):
            try:
                job.status = body()
            finally:
                with table.lock:
                    table.running.pop(job.pid, None)
                job.finished.set()

    thread = threading.Thread(target=main, name=f"{job.node.name}-job-{job.pid}", daemon=True)
    with table.lock:
        table.threads = [t for t in table.threads if t.is_alive()] + [thread]
    thread.start()


def find(node: NodeLike, pid: int) -> Job | None:
    """A background job of `node` that is still running."""
    table = _table(node)
    with table.lock:
        return table.running.get(pid)


def wait_for_jobs(node: NodeLike, timeout: float) -> bool:
    """Wait until the threads of `node`'s background jobs have ended (stop them first:
    kill them or take the node down); False if some still ran at the deadline."""
    deadline = time.monotonic() + timeout
    table = _table(node)
    with table.lock:
        threads = list(table.threads)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in threads)


def current() -> Job | None:
    """The job the calling thread works for, if it runs inside the shell."""
    return getattr(_local, "job", None)


def interrupted() -> bool:
    """Whether the calling thread's job was killed or its node went down."""
    job = current()
    return job is not None and job.stopped()


def killed_status(job: Job) -> int:
    """Exit status of a process ended by a signal (128 + number); a crash is a KILL."""
    return 128 + (job.signal or signal.SIGKILL)


@contextlib.contextmanager
def running(job: Job) -> Iterator[Job]:
    previous = current()
    _local.job = job
    try:
        yield job
    finally:
        _local.job = previous
