"""Kernel settings from sysctl (sbin/sysctl/sysctl.c).

`sysctl NAME...` prints one `name=value` line per variable. carpctl reads
`sysctl net.inet.carp`, which lists allow, preempt and log (the statistics node
is skipped when listing; confirmed in sysctl.c). The set form's
`name: old -> new` output is not a reading and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from carpctl.facts._text import content_lines, fail, to_int

_WHAT = "sysctl"
_LINE = re.compile(r"(?P<name>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+)=(?P<value>.*)")


@dataclass(frozen=True)
class CarpSysctl:
    """The CARP knobs carpctl's safety checks depend on.

    `allow` False means received CARP packets are dropped (split brain ahead);
    `preempt` decides whether a BACKUP takes MASTER from a slower peer, which
    the advskew failover method needs on the peer.
    """

    allow: bool
    preempt: bool
    log: int


def parse_sysctl(text: str) -> dict[str, str]:
    """Every `name=value` line, by name; values are kept verbatim."""
    values: dict[str, str] = {}
    for line in content_lines(text, _WHAT):
        match = _LINE.fullmatch(line)
        if not match:
            fail(_WHAT, line, "expected 'name=value'")
        if match["name"] in values:
            fail(_WHAT, line, f"{match['name']} is listed twice")
        values[match["name"]] = match["value"]
    return values


def carp_sysctl(values: Mapping[str, str]) -> CarpSysctl:
    """The typed CARP settings out of already parsed sysctl values.

    allow and preempt are tested for non-zero, as the kernel does (older
    kernels did not bound them to 0/1).
    """
    return CarpSysctl(
        allow=_number(values, "net.inet.carp.allow") != 0,
        preempt=_number(values, "net.inet.carp.preempt") != 0,
        log=_number(values, "net.inet.carp.log"),
    )


def parse_carp_sysctl(text: str) -> CarpSysctl:
    """`sysctl net.inet.carp` output as CarpSysctl."""
    return carp_sysctl(parse_sysctl(text))


def _number(values: Mapping[str, str], name: str) -> int:
    if name not in values:
        fail(_WHAT, None, f"{name} is missing")
    return to_int(values[name], _WHAT, f"{name}={values[name]}")
