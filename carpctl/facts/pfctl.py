"""pf state from pfctl (sbin/pfctl/pfctl.c, pfctl_parser.c print_status).

`pfctl -si` starts with `Status: Enabled for D days HH:MM:SS` padded to 44
columns and `Debug: LEVEL` right-aligned in 15; the `for ...` part is missing
when pf has no start time (both forms confirmed in print_status). `-v` adds
`Hostid:` and `Checksum:` lines and more tables (Source Tracking Table, Limit
Counters, syncookie watermarks), and a loginterface adds interface stats; only
the status line, the two `-v` lines and the State Table's `current entries`
row are read. Older releases lack the `half-open tcp` row; that is fine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carpctl.facts._text import content_lines, fail, lines_of, to_int

_WHAT_INFO = "pfctl -si"
_WHAT_STATES = "pfctl -ss"
_WHAT_ERRORS = "pfctl -nf"

_STATUS = re.compile(
    r"Status: (?P<status>Enabled|Disabled)"
    r"(?: for (?P<since>[0-9]+ days [0-9]{2}:[0-9]{2}:[0-9]{2}))?"
    r" +Debug: (?P<debug>[A-Za-z]+)"
)
_HOSTID = re.compile(r"Hostid: +(?P<hostid>0x[0-9a-f]{8})")
_CHECKSUM = re.compile(r"Checksum: +(?P<checksum>0x[0-9a-f]{32})")
_CURRENT_ENTRIES = re.compile(r" +current entries +(?P<count>[0-9]+)")
_ERROR = re.compile(r"(?P<file>[^\s:][^:]*(?::[^:]+)*?):(?P<line>[0-9]{1,9}): ?(?P<message>.*)")


@dataclass(frozen=True, kw_only=True)
class PfInfo:
    """pf's status: whether it filters, for how long, and how many states it holds.

    `since` is pfctl's duration text (`0 days 02:13:55`), None when pfctl
    printed none; `hostid` and `checksum` come only from `pfctl -si -v`.
    """

    enabled: bool
    since: str | None
    states: int
    debug: str
    hostid: str | None
    checksum: str | None


@dataclass(frozen=True)
class PfError:
    """One error pfctl (or relayd -n) reported while reading a file.

    `file` and `line` are None for messages pfctl prints without a location
    (its final `pfctl: ... not loaded` line, host lookup failures); they are
    kept so that the user sees everything pfctl said.
    """

    file: str | None
    line: int | None
    message: str


def parse_pf_info(text: str) -> PfInfo:
    """`pfctl -si` or `pfctl -si -v` output as PfInfo."""
    lines = content_lines(text, _WHAT_INFO)
    if not lines:
        fail(_WHAT_INFO, None, "no output")
    status = _STATUS.fullmatch(lines[0])
    if not status:
        fail(_WHAT_INFO, lines[0], "expected 'Status: Enabled|Disabled ... Debug: LEVEL'")
    return PfInfo(
        enabled=status["status"] == "Enabled",
        since=status["since"],
        states=_state_count(lines[1:]),
        debug=status["debug"],
        hostid=_optional(lines, "Hostid:", _HOSTID, "hostid"),
        checksum=_optional(lines, "Checksum:", _CHECKSUM, "checksum"),
    )


def count_states(text: str) -> int:
    """The number of states `pfctl -ss` listed (one line each; indented lines are -v detail)."""
    count = 0
    for line in lines_of(text, _WHAT_STATES):
        if not line.strip() or line[0] in " \t":
            continue
        tokens = line.split()
        if len(tokens) < 4 or not ({"->", "<-"} & set(tokens[2:])):
            fail(_WHAT_STATES, line, "expected 'IF PROTO ADDR -> ADDR ...'")
        count += 1
    return count


def parse_pf_errors(text: str) -> tuple[PfError, ...]:
    """Every message of a failed `pfctl -nf` / `pfctl -f`, located ones as FILE:LINE.

    Nothing here is refused: error output is open-ended, and an unlocated
    message is still worth showing.
    """
    errors: list[PfError] = []
    for line in content_lines(text, _WHAT_ERRORS):
        match = _ERROR.fullmatch(line)
        if match:
            errors.append(PfError(match["file"], int(match["line"]), match["message"]))
        else:
            errors.append(PfError(None, None, line.strip()))
    return tuple(errors)


def _state_count(lines: list[str]) -> int:
    """`current entries` of the State Table (the Source Tracking Table has one too)."""
    in_state_table = False
    for line in lines:
        if line.startswith("State Table"):
            in_state_table = True
        elif in_state_table:
            match = _CURRENT_ENTRIES.fullmatch(line)
            if not match:
                fail(_WHAT_INFO, line, "expected the State Table's 'current entries' row")
            return to_int(match["count"], _WHAT_INFO, line)
    fail(_WHAT_INFO, None, "no State Table")


def _optional(lines: list[str], prefix: str, pattern: re.Pattern[str], group: str) -> str | None:
    found = [line for line in lines if line.startswith(prefix)]
    if not found:
        return None
    if len(found) > 1:
        fail(_WHAT_INFO, found[1], f"second {prefix} line")
    match = pattern.fullmatch(found[0])
    if not match:
        fail(_WHAT_INFO, found[0], f"malformed {prefix} line")
    return match[group]
