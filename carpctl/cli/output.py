"""How carpctl talks to people and scripts: rich on a terminal, plain text when piped, JSON on request.

rich is imported only when something is printed, so `carpctl --help` stays fast.
NO_COLOR is honoured (rich reads it).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any


class Output:
    """The one place that writes to the user's terminal."""

    def __init__(self, *, json_mode: bool = False, stream=None, err=None, stdin=None,
                 width: int | None = None):
        self.json_mode = json_mode
        self.stream = stream or sys.stdout
        self.err_stream = err or sys.stderr
        self.stdin = stdin or sys.stdin
        self.width = width          # None: the terminal's
        self._console: Any = None       # rich Consoles, made on first use
        self._err_console: Any = None

    @property
    def interactive(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"

    @property
    def can_ask(self) -> bool:
        """A question needs a person typing: standard input is a terminal. stdout may be a
        pipe (`carpctl failover ... | tee log` is still asked)."""
        isatty = getattr(self.stdin, "isatty", None)
        return bool(isatty and isatty())

    def ask(self, question: str) -> bool:
        """Ask on stderr (stdout stays the report); `y` or `yes` is yes, EOF (Ctrl-D) is no."""
        print(f"{question} [y/N] ", end="", file=self.err_stream, flush=True)
        answer = self.stdin.readline()
        if not answer:
            print(file=self.err_stream, flush=True)
        return answer.strip().lower() in ("y", "yes")

    def _rich(self, stderr: bool = False):
        from rich.console import Console

        if stderr:
            if self._err_console is None:
                self._err_console = Console(file=self.err_stream, highlight=False,
                                            soft_wrap=True)
            return self._err_console
        if self._console is None:
            self._console = Console(file=self.stream, highlight=False, soft_wrap=True,
                                    width=self.width)
        return self._console

    # -- lines --------------------------------------------------------------------------
    def line(self, text: str = "", style: str | None = None) -> None:
        """A line of the report (stdout); nothing in JSON mode."""
        if self.json_mode:
            return
        if self.interactive and style:
            self._rich().print(text, style=style, markup=False)
        else:
            print(text, file=self.stream, flush=True)

    def note(self, text: str) -> None:
        """Progress and explanations: stderr, so stdout stays the report."""
        print(text, file=self.err_stream, flush=True)

    def error(self, text: str) -> None:
        print(f"carpctl: error: {text}", file=self.err_stream, flush=True)

    def warn(self, text: str) -> None:
        print(f"carpctl: warning: {text}", file=self.err_stream, flush=True)

    def clear(self) -> None:
        """Clear a terminal (between `--watch` refreshes); nothing when piped or in JSON mode."""
        if self.interactive and not self.json_mode:
            self._rich().clear()

    # -- structured --------------------------------------------------------------------------
    def json(self, payload: Any) -> None:
        print(json.dumps(payload, indent=2, default=str), file=self.stream, flush=True)

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]],
              title: str | None = None, styles: Sequence[str | None] | None = None,
              compact: bool = False) -> None:
        """A table: rich with borders on a terminal, aligned plain columns when piped.

        `compact`: a rule under the header and no other lines, cells never broken, for a
        table that must stay readable on an 80-column terminal."""
        if self.json_mode:
            return
        rows = [[("" if cell is None else str(cell)) for cell in row] for row in rows]
        if self.interactive:
            from rich import box
            from rich.table import Table

            shape: dict[str, Any] = ({"box": box.SIMPLE_HEAD, "show_edge": False,
                                      "padding": (0, 1, 0, 0)} if compact else {})
            table = Table(title=title, title_justify="left", header_style="bold", **shape)
            for column in columns:
                table.add_column(column, overflow="ellipsis" if compact else "fold",
                                 no_wrap=compact)
            for i, row in enumerate(rows):
                table.add_row(*row, style=(styles[i] if styles else None))
            self._rich().print(table)
            return
        if title:
            print(title, file=self.stream)
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
        for row in [list(columns), *rows]:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip(),
                  file=self.stream)
        self.stream.flush()

    def diff(self, text: str) -> None:
        """A unified diff, coloured on a terminal."""
        if self.json_mode:
            return
        if not self.interactive:
            print(text, file=self.stream, end="" if text.endswith("\n") else "\n")
            return
        console = self._rich()
        for line in text.splitlines():
            style = None
            if line.startswith("+") and not line.startswith("+++"):
                style = "green"
            elif line.startswith("-") and not line.startswith("---"):
                style = "red"
            elif line.startswith("@@"):
                style = "cyan"
            console.print(line, style=style, markup=False)

    def status(self, text: str):
        """A live progress line on a terminal (a context manager); a plain note otherwise."""
        if self.interactive and not self.json_mode:
            return self._rich(stderr=True).status(text)
        self.note(text)
        return _NullStatus()


class _NullStatus:
    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, text: str) -> None:
        return None
