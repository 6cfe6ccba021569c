"""Base-system facts: release, file checksums, pending patches.

carpctl runs `uname -srm` (not `uname -a`): three fixed fields, no hostname or
kernel build string whose spacing could vary. Checksums come from `sha256 -q
FILE` (bare hex) or `sha256 FILE` (`SHA256 (FILE) = HEX`, bin/md5/md5.c), and
patches from `syspatch -c` (still to install) or `syspatch -l` (installed), one
`NNN_name` per line with the release prefix stripped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carpctl.facts._text import content_lines, fail, single_line

_WHAT_UNAME = "uname -srm"
_WHAT_SHA = "sha256"
_WHAT_SYSPATCH = "syspatch"

_UNAME = re.compile(r"(?P<sysname>\S+) (?P<release>[0-9]+\.[0-9]+\S*) (?P<machine>[a-z0-9]+)")
_HEX = r"(?P<hex>[0-9a-f]{64})"
_SHA_QUIET = re.compile(_HEX)
_SHA_TAGGED = re.compile(rf"SHA256 \((?P<file>.+)\) = {_HEX}")
_PATCH = re.compile(r"[0-9]{3}_[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Uname:
    """What the node runs: `OpenBSD 7.6 amd64` (sysname, release, machine)."""

    sysname: str
    release: str
    machine: str


def parse_uname(text: str) -> Uname:
    """`uname -srm` output as Uname."""
    line = single_line(text, _WHAT_UNAME).strip()
    match = _UNAME.fullmatch(line)
    if not match:
        fail(_WHAT_UNAME, line, "expected 'SYSNAME RELEASE MACHINE'")
    return Uname(match["sysname"], match["release"], match["machine"])


def parse_sha256(text: str) -> str:
    """The lower-case hex digest from `sha256 -q FILE` or `sha256 FILE`."""
    line = single_line(text, _WHAT_SHA).strip()
    match = _SHA_QUIET.fullmatch(line) or _SHA_TAGGED.fullmatch(line)
    if not match:
        fail(_WHAT_SHA, line, "expected a SHA256 digest")
    return match["hex"]


def parse_syspatch(text: str) -> tuple[str, ...]:
    """Patch names from `syspatch -c` or `syspatch -l`; empty when there are none."""
    names = [line.strip() for line in content_lines(text, _WHAT_SYSPATCH)]
    for name in names:
        if not _PATCH.fullmatch(name):
            fail(_WHAT_SYSPATCH, name, "expected a patch name like '002_wifi'")
    return tuple(names)
