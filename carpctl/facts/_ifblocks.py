"""Splitting ifconfig output into per-interface blocks.

ifconfig prints one block per interface: a header line at column 0
(`NAME: flags=HEX<NAMES> [rdomain N] [metric N] mtu N`) followed by indented
detail lines. Current releases indent with one TAB (two for the per-vhid lines
of a balanced carp interface); the source material's older output, pasted from a
web page, is indented with spaces. Both are accepted: a detail line is any line
that starts with whitespace, and is recognised by its content, never by its
column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carpctl.facts._text import fail, lines_of

_HEADER = re.compile(
    r"(?P<name>[a-z][a-z0-9]*[0-9]): flags=(?P<hex>[0-9a-f]+)<(?P<names>[A-Z0-9_,]*)>(?P<rest>.*)"
)
_FLAG_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_MISSING = re.compile(r"(?P<name>[a-z][a-z0-9]*[0-9]): no such interface")

# Bit values of the two flags carpctl reads (sys/net/if.h); checked against the
# names so that a garbled header cannot pass for a healthy interface.
_IFF_UP = 0x1
_IFF_RUNNING = 0x40


@dataclass(frozen=True)
class IfBlock:
    """One interface's header facts and its detail lines (leading blanks removed)."""

    name: str
    up: bool
    running: bool
    details: tuple[tuple[str, str], ...]  # (stripped text, raw line) for error messages


def missing_interface(text: object, what: str) -> str | None:
    """The interface name if `text` is ifconfig's `NAME: no such interface` message.

    ifconfig prints it on stderr without its program name and exits 1; the
    transport hands the parsers that text when the command failed.
    """
    lines = [line.strip() for line in lines_of(text, what) if line.strip()]
    if len(lines) == 1:
        match = _MISSING.fullmatch(lines[0])
        if match:
            return match["name"]
    return None


def split_blocks(text: object, what: str) -> list[IfBlock]:
    """Parse every header and group the detail lines under it."""
    blocks: list[IfBlock] = []
    pending: list[tuple[str, str]] = []
    header: tuple[str, bool, bool] | None = None
    for raw in lines_of(text, what):
        if not raw.strip():
            continue
        if raw[0] in " \t":
            if header is None:
                fail(what, raw, "detail line before any interface header")
            pending.append((raw.strip(), raw))
            continue
        if header is not None:
            blocks.append(IfBlock(*header, tuple(pending)))
        header = _parse_header(raw, what)
        pending = []
    if header is not None:
        blocks.append(IfBlock(*header, tuple(pending)))
    seen: set[str] = set()
    for block in blocks:
        if block.name in seen:
            fail(what, None, f"interface {block.name} is listed twice")
        seen.add(block.name)
    return blocks


def _parse_header(raw: str, what: str) -> tuple[str, bool, bool]:
    line = raw.rstrip()
    match = _HEADER.fullmatch(line)
    if not match:
        fail(what, raw, "expected an interface header 'NAME: flags=HEX<...>'")
    if match["rest"] and not match["rest"].startswith(" "):
        fail(what, raw, "unexpected text after the flags")
    names = match["names"].split(",") if match["names"] else []
    if not all(_FLAG_NAME.fullmatch(name) for name in names):
        fail(what, raw, "malformed flag names")
    if len(match["hex"]) > 16:
        fail(what, raw, "flags value too long")
    bits = int(match["hex"], 16)
    up = "UP" in names
    running = "RUNNING" in names
    if up != bool(bits & _IFF_UP) or running != bool(bits & _IFF_RUNNING):
        fail(what, raw, "flag names do not match the flags value")
    return match["name"], up, running
