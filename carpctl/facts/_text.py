"""Small text helpers shared by the parsers.

Every parser promises to raise only `ParseError`, whatever it is given, so the
conversions that Python would happily do loosely (`int(" 1_0 ")`, Unicode
digits, `$` matching before a trailing newline) are done strictly here, once.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NoReturn

from carpctl.errors import ParseError

_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = 20  # far beyond any counter; also keeps int() under Python's digit limit
_MAX_SHOWN = 200
_TOKEN_PAIR_KEY = re.compile(r"[a-z][a-z0-9_-]*")


def fail(what: str, line: str | None, detail: str) -> NoReturn:
    """Raise the one error a parser may raise, naming the command and the line.

    The line is cut short so that a screenful of garbage cannot bury the message.
    """
    if line is not None and len(line) > _MAX_SHOWN:
        line = line[:_MAX_SHOWN] + "..."
    raise ParseError(what, line, detail)


def lines_of(text: object, what: str) -> list[str]:
    """Split command output into lines, tolerating CRLF; refuse non-text.

    Only `\\n` separates lines: `str.splitlines` would also split on form feeds
    and other control characters that then hide inside a "line".
    """
    if not isinstance(text, str):
        fail(what, None, f"expected text, got {type(text).__name__}")
    return [line.removesuffix("\r") for line in text.split("\n")]


def content_lines(text: object, what: str) -> list[str]:
    """The non-blank lines of `text`, each with trailing whitespace removed."""
    return [line.rstrip() for line in lines_of(text, what) if line.strip()]


def single_line(text: object, what: str) -> str:
    """The one non-blank line that a one-line command prints."""
    lines = content_lines(text, what)
    if not lines:
        fail(what, None, "no output")
    if len(lines) > 1:
        fail(what, lines[1], "expected one line, got more")
    return lines[0]


def to_int(value: str, what: str, line: str, *, lo: int = 0, hi: int | None = None) -> int:
    """A decimal ASCII integer within [lo, hi]; anything else is a ParseError."""
    if not _DIGITS.fullmatch(value):
        fail(what, line, f"{value!r} is not a number")
    if len(value) > _MAX_DIGITS:
        fail(what, line, f"{value[:_MAX_DIGITS]}... is too large")
    number = int(value)
    if number < lo or (hi is not None and number > hi):
        bounds = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        fail(what, line, f"{number} is out of range {bounds}")
    return number


def to_ip(value: str, what: str, line: str, *, version: int | None = None) -> str:
    """Validate an IP address (IPv6 may carry a `%scope`) and return it as printed."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        fail(what, line, f"{value!r} is not an IP address")
    if version is not None and address.version != version:
        fail(what, line, f"{value!r} is not an IPv{version} address")
    return value


def key_value_pairs(tokens: list[str], what: str, line: str) -> dict[str, str]:
    """Read `key value key value ...` (ifconfig's carp and pfsync lines).

    Keys must be distinct words; unknown keys are kept so that a later release
    adding one does not break carpctl, and the caller checks the keys it needs.
    """
    if len(tokens) % 2:
        fail(what, line, "expected key/value pairs")
    pairs: dict[str, str] = {}
    for key, value in zip(tokens[::2], tokens[1::2]):
        if not _TOKEN_PAIR_KEY.fullmatch(key):
            fail(what, line, f"{key!r} is not a keyword")
        if key in pairs:
            fail(what, line, f"{key!r} appears twice")
        pairs[key] = value
    return pairs


def require(pairs: dict[str, str], key: str, what: str, line: str) -> str:
    """The value of a keyword the line must carry."""
    if key not in pairs:
        fail(what, line, f"missing {key!r}")
    return pairs[key]
