"""What a node is configured to be after its next boot: /etc/hostname.carpN and /etc/sysctl.conf.

Runtime values (advskew 254 left by a killed run, a manual `sysctl`) are lost on
reboot and rebuilt from these files (openbsd-reference.md 2.5, 8, 10.5), so they
are the reference `status` holds the runtime against and `restore` puts back.

hostname.carpN (etc/netstart): one command per line, `#` comments. On an `inet`
line the word after the address is the netmask and the next the broadcast
(`NONE` for none); the words after those are ifconfig options. `inet6`, `dhcp`
and `!command` lines carry no carp option; any other line is an ifconfig
argument list. A later option wins, as ifconfig applies them in order.

The node sends each file with every `pass WORD` taken out and an `@@pass HASH`
line (sha256 of the pass words, computed there: see remote.commands.HOSTNAME_CARP),
so the secret never reaches carpctl; nodes are compared by that hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from carpctl.facts._text import content_lines, fail, to_int

_WHAT = "cat /etc/hostname.carpN"
_WHAT_SYSCTL = "cat /etc/sysctl.conf"
_FILE = re.compile(r"@@file /etc/hostname\.(?P<name>carp[0-9]+)")
_PASS = re.compile(r"@@pass (?P<hash>[0-9a-f]{64})")
_SYSCTL_LINE = re.compile(r"(?P<name>[A-Za-z0-9_.]+)\s*=\s*(?P<value>\S*)")
_NOT_CARP = ("inet6", "dhcp", "autoconf", "up", "down", "description")
_NUMBERS = {"vhid": (1, 255), "advbase": (0, 254), "advskew": (0, 254)}


@dataclass(frozen=True, kw_only=True)
class CarpConfig:
    """The carp settings one /etc/hostname.carpN gives its interface at boot.

    Missing values are None (ifconfig's defaults then apply: advbase 1,
    advskew 0). `balancing` is True when the file uses `carpnodes`/`balancing`,
    which carpctl does not restore. `pass_hash` is the sha256 the node computed
    over the file's pass words (None: no pass).
    """

    name: str
    vhid: int | None = None
    advbase: int | None = None
    advskew: int | None = None
    carpdev: str | None = None
    balancing: bool = False
    pass_hash: str | None = None

    @property
    def configured_advbase(self) -> int:
        return 1 if self.advbase is None else self.advbase

    @property
    def configured_advskew(self) -> int:
        return 0 if self.advskew is None else self.advskew


def parse_hostname_carp(text: str) -> dict[str, CarpConfig]:
    """The node's redacted hostname.carpN listing -> CarpConfig by interface name."""
    configs: dict[str, CarpConfig] = {}
    name: str | None = None
    values: dict[str, Any] = {}
    for line in content_lines(text, _WHAT):
        stripped = line.strip()
        header = _FILE.fullmatch(stripped)
        if header:
            if name is not None:
                configs[name] = CarpConfig(name=name, **values)
            name, values = header["name"], {}
            continue
        if name is None:
            fail(_WHAT, line, "expected an `@@file /etc/hostname.carpN` line first")
        digest = _PASS.fullmatch(stripped)
        if digest:
            values["pass_hash"] = digest["hash"]
            continue
        _apply(_options(stripped.split("#", 1)[0].split()), values, line)
    if name is not None:
        configs[name] = CarpConfig(name=name, **values)
    return configs


def _options(words: list[str]) -> list[str]:
    """The ifconfig options of one netstart line (the address words of `inet` dropped)."""
    if not words or words[0] in _NOT_CARP or words[0].startswith("!"):
        return []
    if words[0] == "inet":
        return words[4:]   # netstart takes MASK and BCAST positionally, even after a CIDR
    return words


def _apply(words: list[str], values: dict[str, Any], line: str) -> None:
    for i, word in enumerate(words):
        if word in _NUMBERS and i + 1 < len(words):
            low, high = _NUMBERS[word]
            values[word] = to_int(words[i + 1], _WHAT, line, lo=low, hi=high)
        elif word == "carpdev" and i + 1 < len(words):
            values["carpdev"] = words[i + 1]
        elif word in ("carpnodes", "balancing"):
            values["balancing"] = True


def parse_sysctl_conf(text: str) -> dict[str, str]:
    """/etc/sysctl.conf's `name=value` lines (comments and blank lines skipped), by name."""
    values: dict[str, str] = {}
    for line in content_lines(text, _WHAT_SYSCTL):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        match = _SYSCTL_LINE.fullmatch(body)
        if not match:
            fail(_WHAT_SYSCTL, line, "expected 'name=value'")
        values[match["name"]] = match["value"]
    return values
