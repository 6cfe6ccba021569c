"""CARP's protocol counters from `netstat -s -p carp` (usr.bin/netstat/inet.c, carp_stats()).

The output is a `carp:` line, then one TAB-indented line per counter, `N text`,
drop reasons indented twice. With one `-s` every counter prints, with `-ss` only
those that are not zero, so a counter that is missing reads 0. The words after
the number are matched without their plural `s`, so `1 packet received` and
`2 packets received` are the same counter; lines carpctl does not know are kept
by their text only and never fail the parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from carpctl.facts._text import content_lines, fail

_WHAT = "netstat -s -p carp"
_LINE = re.compile(r"\s*(?P<count>[0-9]+) (?P<text>\S.*)")

#: counter name -> its text, in the singular
_COUNTERS = {
    "received": "packet received (IPv4)",
    "received6": "packet received (IPv6)",
    "bad_interface": "packet discarded for bad interface",
    "bad_ttl": "packet discarded for wrong TTL",
    "short_header": "packet shorter than header",
    "bad_checksum": "discarded for bad checksum",
    "bad_version": "discarded packet with a bad version",
    "too_short": "discarded because packet too short",
    "bad_auth": "discarded for bad authentication",
    "bad_vhid": "discarded for unknown vhid",
    "bad_addresses": "discarded because of a bad address list",
    "sent": "packet sent (IPv4)",
    "sent6": "packet sent (IPv6)",
    "no_memory": "send failed due to mbuf memory error",
    "to_master": "transition to master",
}
_BY_TEXT = {text: name for name, text in _COUNTERS.items()}


def _singular(text: str) -> str:
    return re.sub(r"\b(packet|checksum|transition)s\b", r"\1", text)


@dataclass(frozen=True, kw_only=True)
class CarpStats:
    """The counters since boot (0 when a `-ss` listing left a line out)."""

    received: int = 0
    received6: int = 0
    bad_interface: int = 0
    bad_ttl: int = 0
    short_header: int = 0
    bad_checksum: int = 0
    bad_version: int = 0
    too_short: int = 0
    bad_auth: int = 0
    bad_vhid: int = 0
    bad_addresses: int = 0
    sent: int = 0
    sent6: int = 0
    no_memory: int = 0
    to_master: int = 0
    other: dict[str, int] = field(default_factory=dict)   # lines of a newer netstat

    @property
    def dropped(self) -> dict[str, int]:
        """The drop reasons that are not zero, by counter name."""
        reasons = ("bad_interface", "bad_ttl", "short_header", "bad_checksum", "bad_version",
                   "too_short", "bad_auth", "bad_vhid", "bad_addresses")
        return {name: getattr(self, name) for name in reasons if getattr(self, name)}


def parse_carp_stats(text: str) -> CarpStats:
    lines = content_lines(text, _WHAT)
    if not lines or lines[0].strip() != "carp:":
        fail(_WHAT, lines[0] if lines else None, "expected the `carp:` heading")
    known: dict[str, int] = {}
    other: dict[str, int] = {}
    for line in lines[1:]:
        match = _LINE.fullmatch(line)
        if not match:
            fail(_WHAT, line, "expected `COUNT text`")
        words = _singular(match["text"].strip())
        name = _BY_TEXT.get(words)
        if name is None:
            other[words] = int(match["count"])
        else:
            known[name] = int(match["count"])
    return CarpStats(**known, other=other)
