"""relayd's view of its relays, redirects, tables and hosts (usr.sbin/relayctl/relayctl.c).

`relayctl show summary` and `show hosts` print a header and one row per object,
`ID<TAB>TYPE<TAB>NAME<TAB>AVLBLTY<TAB>STATUS`, each column padded with spaces
before its TAB. Rows are split on TAB and stripped, never cut at fixed
columns: a name longer than its column simply pushes the rest along.

Lines starting `TAB 8-spaces TAB` continue the row above: `show hosts` adds
`total: UP/CHECKS checks[, N retries][, error: TEXT]` under each checked host;
`show relays`/`show redirects`/`show routers` add session statistics and route
lines, which carpctl does not need and skips.

Object IDs come from relayd (template tables and hosts consume IDs too) and a
table shared by two relays is listed under each, so the helpers return each
object once, by ID, and nothing assumes IDs run 1..n.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from carpctl.facts._text import content_lines, fail, to_int

_WHAT = "relayctl"
_HEADER = ["Id", "Type", "Name", "Avlblty", "Status"]
_STATUS = {
    "redirect": re.compile(r"active|active \(using backup table\)|down|disabled"),
    "table": re.compile(r"active \([0-9]+ hosts\)|empty|disabled"),
    "host": re.compile(r"up|down|unknown|disabled"),
    "relay": re.compile(r"active|disabled"),
    "router": re.compile(r"active|disabled"),
}
_AVAILABILITY = re.compile(r"(?P<percent>[0-9]{1,3}\.[0-9]{2})%")
_PARENT = re.compile(r"(?P<name>.+) parent (?P<parent>[0-9]+)")
_TOTAL = re.compile(
    r"total: (?P<up>[0-9]+)/(?P<checks>[0-9]+) checks"
    r"(?:, (?P<retries>[0-9]+) retries)?(?:, error: (?P<error>.+))?"
)
_NOT_RUNNING = re.compile(
    r"relayctl: connect: \S+: (?:No such file or directory|Connection refused)"
)
_DENIED = re.compile(r"relayctl: connect: \S+: Permission denied")


@dataclass(frozen=True, kw_only=True)
class RelaydEntry:
    """One row: a redirect, table, host, relay or router.

    `availability` is the percentage of passed checks (hosts only; None before
    the first check); `parent` is the ID of the host this one follows in a
    parent/child set.
    """

    id: int
    type: str
    name: str
    availability: float | None
    status: str
    parent: int | None = None


@dataclass(frozen=True)
class HostCheck:
    """A host's check history from `show hosts`: why a host is down."""

    up: int
    checks: int
    retries: int
    error: str | None


@dataclass(frozen=True)
class RelaydSummary:
    """relayd's objects, or `running=False` (and nothing else) when relayd is not running.

    `host_checks` maps host IDs to their check line (only `show hosts` prints them).
    """

    running: bool
    entries: tuple[RelaydEntry, ...]
    host_checks: Mapping[int, HostCheck] = field(hash=False)

    def hosts(self) -> tuple[RelaydEntry, ...]:
        return self._of_type("host")

    def hosts_up(self) -> tuple[RelaydEntry, ...]:
        """The backends relayd would forward to now (on the MASTER, what clients reach)."""
        return tuple(host for host in self.hosts() if host.status == "up")

    def relays(self) -> tuple[RelaydEntry, ...]:
        return self._of_type("relay")

    def redirects(self) -> tuple[RelaydEntry, ...]:
        return self._of_type("redirect")

    def _of_type(self, kind: str) -> tuple[RelaydEntry, ...]:
        """Each object of one type once, in first-listed order."""
        seen: dict[int, RelaydEntry] = {}
        for entry in self.entries:
            if entry.type == kind:
                seen.setdefault(entry.id, entry)
        return tuple(seen.values())


def parse_relayctl(text: str) -> RelaydSummary:
    """`relayctl show summary` / `show hosts` output, or relayctl's "cannot connect" error."""
    lines = content_lines(text, _WHAT)
    if not lines:
        fail(_WHAT, None, "no output")
    first = lines[0].strip()
    if len(lines) == 1 and _NOT_RUNNING.fullmatch(first):
        return RelaydSummary(False, (), MappingProxyType({}))
    if _DENIED.fullmatch(first):
        fail(_WHAT, first, "relayd's control socket needs root (use doas)")
    if _fields(lines[0]) != _HEADER:
        fail(_WHAT, lines[0], "expected the 'Id Type Name Avlblty Status' header")
    entries: list[RelaydEntry] = []
    checks: dict[int, HostCheck] = {}
    checked_rows: set[int] = set()
    for line in lines[1:]:
        fields = _fields(line)
        if len(fields) == 5 and fields[0]:
            entries.append(_entry(fields, line))
        elif len(fields) == 3 and fields[:2] == ["", ""] and fields[2]:
            if not entries:
                fail(_WHAT, line, "continuation line before any row")
            row = entries[-1]
            if row.type == "host":
                if len(entries) in checked_rows:
                    fail(_WHAT, line, "second check line for one host")
                checked_rows.add(len(entries))
                _add_check(checks, row.id, _host_check(fields[2], line), line)
        else:
            fail(_WHAT, line, "expected five TAB-separated columns")
    return RelaydSummary(True, tuple(entries), MappingProxyType(checks))


def _fields(line: str) -> list[str]:
    return [field.strip() for field in line.split("\t")]


def _entry(fields: list[str], line: str) -> RelaydEntry:
    ident, kind, name, availability, status = fields
    if kind not in _STATUS:
        fail(_WHAT, line, f"unknown type {kind!r}")
    if not _STATUS[kind].fullmatch(status):
        fail(_WHAT, line, f"unknown {kind} status {status!r}")
    parent = None
    percent = None
    if kind == "host":
        match = _PARENT.fullmatch(name)
        if match:
            name = match["name"]
            parent = to_int(match["parent"], _WHAT, line)
        if availability:
            percent = _availability(availability, line)
    elif availability:
        fail(_WHAT, line, f"a {kind} has no availability")
    if not name:
        fail(_WHAT, line, "empty name")
    return RelaydEntry(id=to_int(ident, _WHAT, line), type=kind, name=name, availability=percent,
                       status=status, parent=parent)


def _availability(value: str, line: str) -> float:
    match = _AVAILABILITY.fullmatch(value)
    if not match or float(match["percent"]) > 100:
        fail(_WHAT, line, f"availability {value!r} is not a percentage")
    return float(match["percent"])


def _host_check(text: str, line: str) -> HostCheck:
    match = _TOTAL.fullmatch(text)
    if not match:
        fail(_WHAT, line, "expected 'total: UP/CHECKS checks[, N retries][, error: TEXT]'")
    return HostCheck(
        up=to_int(match["up"], _WHAT, line),
        checks=to_int(match["checks"], _WHAT, line),
        retries=to_int(match["retries"], _WHAT, line) if match["retries"] else 0,
        error=match["error"],
    )


def _add_check(checks: dict[int, HostCheck], host_id: int, check: HostCheck, line: str) -> None:
    """A host listed under two relays prints the same check line twice; anything else is garbage."""
    if checks.setdefault(host_id, check) != check:
        fail(_WHAT, line, f"conflicting check lines for host {host_id}")
