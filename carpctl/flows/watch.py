"""`carpctl watch`: follow the pairs and report each change as an event.

Each poll is one `status` read (one round trip per node, nodes in parallel)
over the session's connections, which are kept for the watch's life; a node
that dropped reads as unreachable once and is reconnected on the next poll.
The caller journals the watch once; polls are not journaled (the session has
no history), so following pairs all night costs the journal nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from carpctl.core.events import Event, PairSnapshot, diff, snapshot, started
from carpctl.flows.status import status
from carpctl.inventory import Pair
from carpctl.runtime.session import Session


def watch(session: Session, pairs: list[Pair], *, interval: float,
          parallel: int = 16) -> Iterator[list[Event]]:
    """The events of each poll, forever: a `watching` event per pair first, then changes.

    Polls start `interval` seconds apart (sooner never; a slow read delays the next).
    """
    snaps: dict[str, PairSnapshot] = {}
    while True:
        begun = time.monotonic()
        results = status(session, pairs, parallel=parallel)
        at = time.time()   # when it was seen: a node that timed out took the read this long
        events: list[Event] = []
        for result in results:
            previous = snaps.get(result.pair)
            snap = snapshot(result.pair, result.verdict, result.nodes, previous)
            events.extend([started(snap, at)] if previous is None else diff(previous, snap, at))
            snaps[result.pair] = snap
        yield events
        time.sleep(max(0.0, interval - (time.monotonic() - begun)))


def run_hook(command: str, event: Event, timeout: float) -> str | None:
    """Run the user's hook with the event as JSON on stdin; what went wrong, or None.

    The command goes to /bin/sh (it is the user's own command line, pipes and
    all). Its stdout joins carpctl's stderr so a --json stream stays clean. It
    runs in its own process group, so a timeout ends everything it started.
    """
    env = {**os.environ, "CARPCTL_EVENT": event.kind, "CARPCTL_PAIR": event.pair}
    payload = (json.dumps(event.to_json()) + "\n").encode()
    hooks: list[subprocess.Popen] = []
    try:
        with _interrupts_held():   # a Ctrl-C mid-fork must not leave a hook we cannot kill
            hooks.append(subprocess.Popen(command, shell=True, stdin=subprocess.PIPE,
                                            stdout=2, env=env, start_new_session=True))
        hooks[0].communicate(payload, timeout=timeout)
    except OSError as exc:
        return f"cannot run the hook: {exc.strerror}"
    except subprocess.TimeoutExpired:
        return f"the hook did not finish within {timeout:g}s and was killed"
    finally:
        for proc in hooks:
            if proc.poll() is None:
                _kill_group(proc)
    if hooks[0].returncode:
        return f"the hook exited with status {hooks[0].returncode}"
    return None


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is over (main thread only): one that lands
    while the hook is being started would otherwise leave it running with no pid to kill."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            raise KeyboardInterrupt


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
