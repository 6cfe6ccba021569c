"""Signals while carpctl holds a pair in a changed state.

SIGTERM is turned into KeyboardInterrupt so every flow undoes its change the
same way on Ctrl-C and on `kill`. While an undo runs, further signals are
noted and ignored: a second Ctrl-C must not leave a node half-demoted.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carpctl.runtime.report import Reporter


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def install() -> None:
    """SIGTERM behaves like Ctrl-C (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


@contextmanager
def terminating() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C for the block, then as before (a library's session:
    carpctl must not keep a handler its caller did not ask for). Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def settle() -> None:
    """The outcome is decided: further Ctrl-C or SIGTERM cannot change it, only cut the
    report short. Ignored from here until the process exits (main thread only)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


@contextmanager
def shielded(report: Reporter) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def ignore(signum, frame) -> None:
        report.warn("still undoing the change; carpctl stops when the pair is safe")

    previous = {sig: signal.signal(sig, ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
