"""Which release a node runs: `uname -r` and `sysctl -n kern.version`.

`uname -r` prints kern.osrelease (`7.6`). kern.version is two lines and a blank one:
`OpenBSD 7.6 (GENERIC.MP) #338: Mon Sep 30 08:55:35 MDT 2024` then the builder's
`user@host:/usr/src/sys/arch/amd64/compile/GENERIC.MP`. sysupgrade.sh reads its
first line with `^OpenBSD ([1-9][0-9]*\\.[0-9])([^ ]*)`: the second group is the tag
(`-current`, `-beta`, `-stable`), empty on a release. A snapshot upgrade keeps
`uname -r` and changes kern.version, so "did the node come back on a new system" is
kern.version's first line changing, not the release number alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carpctl.facts._text import content_lines, fail, single_line

_WHAT_RELEASE = "uname -r"
_WHAT_VERSION = "sysctl -n kern.version"
_RELEASE = re.compile(r"[1-9][0-9]*\.[0-9]")
_VERSION = re.compile(r"(?P<sys>\S+) (?P<release>[1-9][0-9]*\.[0-9])(?P<tag>[^ ]*) "
                      r"\((?P<kernel>[^)]+)\) #(?P<build>[0-9]+): (?P<date>.+)")


@dataclass(frozen=True)
class KernVersion:
    """The running kernel, from the first line of kern.version."""

    release: str        # 7.6
    tag: str            # "" on a release, -current on a snapshot, -beta, -stable
    kernel: str         # GENERIC.MP
    build: int
    date: str           # Mon Sep 30 08:55:35 MDT 2024
    line: str           # the whole first line: what "a new kernel booted" compares

    @property
    def name(self) -> str:
        return f"{self.release}{self.tag}"


def parse_release(text: str) -> str:
    """`uname -r` -> `7.6`."""
    line = single_line(text, _WHAT_RELEASE).strip()
    if not _RELEASE.fullmatch(line):
        fail(_WHAT_RELEASE, line, "expected a release like 7.6")
    return line


def parse_kern_version(text: str) -> KernVersion:
    """`sysctl -n kern.version` -> KernVersion (the builder line is not needed)."""
    lines = content_lines(text, _WHAT_VERSION)
    if not lines:
        fail(_WHAT_VERSION, None, "no output")
    match = _VERSION.fullmatch(lines[0].strip())
    if not match:
        fail(_WHAT_VERSION, lines[0], "expected 'OpenBSD 7.6 (GENERIC.MP) #338: DATE'")
    return KernVersion(match["release"], match["tag"], match["kernel"], int(match["build"][:9]),
                       match["date"], lines[0].strip())


def next_release(release: str) -> str:
    """What sysupgrade without -s moves to: `uname -r` + 0.1 (7.9 -> 8.0)."""
    if not _RELEASE.fullmatch(release):
        fail(_WHAT_RELEASE, release, "expected a release like 7.6")
    major, minor = (int(part) for part in release.split("."))
    return f"{major + 1}.0" if minor == 9 else f"{major}.{minor + 1}"
