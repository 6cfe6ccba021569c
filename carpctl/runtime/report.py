"""How flows tell a person what they are doing, without knowing who listens.

Flows call a Reporter (Nornir's processors, in small): the CLI passes its terminal
output, a Python caller passes its own or none, and then a library call is silent.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class Progress(Protocol):
    def update(self, text: str) -> None: ...


class Reporter(Protocol):
    """What a flow may say: progress notes, warnings, diffs, and a live progress line."""

    def note(self, text: str) -> None: ...

    def warn(self, text: str) -> None: ...

    def diff(self, text: str) -> None: ...

    def status(self, text: str) -> AbstractContextManager[Progress]: ...


class Silent:
    """The reporter of a library call that was given none: says nothing."""

    def note(self, text: str) -> None:
        return None

    def warn(self, text: str) -> None:
        return None

    def diff(self, text: str) -> None:
        return None

    def status(self, text: str) -> Silent:
        return self

    def update(self, text: str) -> None:
        return None

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None
