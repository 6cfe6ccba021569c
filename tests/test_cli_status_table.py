"""The status table on a terminal: readable at 80 columns, the same facts at 200.

Rendered by rich as on a terminal (a stream that says it is one), NO_COLOR, at a
fixed width, from a real read of the lab over SSH.
"""

from __future__ import annotations

import io
import re

import pytest

from carpctl.cli.output import Output
from carpctl.cli.status import report


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def table_lines(lines: list[str]) -> list[str]:
    """The table, without the verdict and findings under it (prose the terminal wraps)."""
    return lines[:next(i for i, line in enumerate(lines) if line.startswith("pair1:"))]


def rendered(session, width: int, monkeypatch) -> list[str]:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm")
    screen = Terminal()
    out = Output(stream=screen, width=width)
    report(session, session.inventory.select([]), 4, out)
    text = re.sub(r"\x1b\[[0-9;]*m", "", screen.getvalue())   # NO_COLOR keeps bold
    return [line.rstrip() for line in text.splitlines()]


@pytest.mark.parametrize("width", [80, 200])
def test_the_status_table_keeps_every_cell_whole_at_80_and_200_columns(session, width,
                                                                       monkeypatch):
    lines = rendered(session, width, monkeypatch)
    assert max(len(line) for line in table_lines(lines)) <= width
    rows = [line.split() for line in lines]
    assert rows[0] == ["pair1"]
    assert rows[1] == ["node", "carp", "vhid", "state", "skew", "demote", "preempt", "pfsync",
                       "pf", "relayd", "maint"]
    table = [row for row in rows[3:] if row and not row[0].startswith("pair1")]
    assert [row[:5] for row in table if row[0].startswith("fw")] == [
        ["fw1", "carp0", "1", "MASTER", "0"], ["fw2", "carp0", "1", "BACKUP", "100"]]
    assert [row for row in table if row[0] == "carp1"] == [
        ["carp1", "2", "MASTER", "0"], ["carp1", "2", "BACKUP", "100"]]
    assert all("…" not in line for line in lines)          # nothing cut short
    assert "2/2 up" in lines[3] and "pair1: drift, MASTER fw1" in lines


def test_an_unreachable_node_is_one_short_row_and_its_reason_is_a_finding(session, lab,
                                                                          monkeypatch):
    lab.crash("pair1", "fw2")
    lines = rendered(session, 80, monkeypatch)
    assert max(len(line) for line in table_lines(lines)) <= 80
    fw2 = next(line.split() for line in lines if line.startswith("fw2"))
    assert fw2[:4] == ["fw2", "-", "-", "NO"]
    assert any("fw2" in line and "timeout" in line for line in lines if line.startswith("  - "))
