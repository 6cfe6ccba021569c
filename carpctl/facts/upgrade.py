"""What the upgrade tools print: df -P, sysmerge -b, fw_update, pkg_add -u.

Formats, from the sources read (docs/playbooks.md "Release upgrades" says which revision):
- `df -Pk /usr /home`: a header, then `FS 1024-blocks Used Available Capacity Mounted-on`.
- `sysmerge -b` (sysmerge.sh 1.216): `===> Updating /etc/X` per file installed on its own;
  a file the release changed and the admin changed too stays, announced as
  `---- Info: /tmp/sysmerge.XXXXXXXXXX/etc/X left for comparison`. Its exit status is 0 even
  then, so the left-over lines, not the status, say the merge is incomplete.
- `fw_update` (fw_update.sh 1.56): one status line `fw_update: add A,B; update none; keep C`
  (`; unregister D` possibly); `fw_update: failed.` and exit 1 when the firmware index cannot
  be fetched.
- `pkg_add -u`: `quirks-N signed on DATE`, then a line per package changed (`OLD->NEW`);
  only the `->` lines are relied on, and the exit status is the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carpctl.facts._text import content_lines, fail, to_int

_WHAT_DF = "df -Pk"
_WHAT_FW = "fw_update"
_LEFT = re.compile(r"(?:---- \w+: )?(?P<path>/\S+) left for comparison")
_TMPROOT = re.compile(r"^/tmp/sysmerge\.[A-Za-z0-9]+")
_UPDATED = re.compile(r"===> (?:Updating|Installing|Linking) (?P<path>/\S+)")
_FW_PART = re.compile(r"(?P<verb>add|update|keep|unregister|delete) (?P<names>\S+)")
_PKG = re.compile(r"(?P<old>\S+)->(?P<new>\S+?)(?::.*)?")


@dataclass(frozen=True)
class Space:
    """One filesystem in `df -Pk`: kilobytes, Capacity as printed (percent used)."""

    mount: str
    size_kb: int
    used_kb: int
    avail_kb: int
    capacity: int


def parse_df(text: str) -> dict[str, Space]:
    """`df -Pk PATH...` -> mount point -> Space (header line required)."""
    lines = content_lines(text, _WHAT_DF)
    if not lines or not lines[0].startswith("Filesystem"):
        fail(_WHAT_DF, lines[0] if lines else None, "expected the 'Filesystem ...' header")
    spaces = {}
    for line in lines[1:]:
        words = line.split()
        if len(words) < 6 or not words[4].endswith("%"):
            fail(_WHAT_DF, line, "expected 'FS BLOCKS USED AVAIL N% MOUNT'")
        size, used, avail = (to_int(w, _WHAT_DF, line) for w in words[1:4])
        mount = " ".join(words[5:])
        spaces[mount] = Space(mount, size, used, avail,
                              to_int(words[4][:-1], _WHAT_DF, line, hi=100))
    return spaces


@dataclass(frozen=True)
class Sysmerge:
    updated: tuple[str, ...]      # installed by sysmerge itself
    left: tuple[str, ...]         # for a person to merge (as /etc/... paths)


def parse_sysmerge(text: str) -> Sysmerge:
    updated, left = [], []
    for line in content_lines(text, "sysmerge -b"):
        if match := _UPDATED.fullmatch(line.strip()):
            updated.append(match["path"])
        elif match := _LEFT.fullmatch(line.strip()):
            left.append(_TMPROOT.sub("", match["path"]) or match["path"])
    return Sysmerge(tuple(updated), tuple(left))


@dataclass(frozen=True)
class Firmware:
    added: tuple[str, ...]
    updated: tuple[str, ...]
    kept: tuple[str, ...]
    failed: bool

    @property
    def changed(self) -> tuple[str, ...]:
        return self.added + self.updated


def parse_fw_update(text: str) -> Firmware:
    """The status line of `fw_update` (no -v): which drivers' firmware it added/updated/kept."""
    lines = [line for line in content_lines(text, _WHAT_FW) if line.startswith("fw_update:")]
    if not lines:
        fail(_WHAT_FW, None, "no 'fw_update:' status line")
    line = lines[-1]
    parts: dict[str, tuple[str, ...]] = {}
    for part in line.removeprefix("fw_update:").split(";"):
        if match := _FW_PART.fullmatch(part.strip()):
            names = match["names"].split(",")
            parts[match["verb"]] = () if names == ["none"] else tuple(n for n in names if n)
    return Firmware(parts.get("add", ()), parts.get("update", ()), parts.get("keep", ()),
                    line.rstrip().endswith("failed.") or "failed (" in line)


def parse_pkg_add(text: str) -> tuple[tuple[str, str], ...]:
    """(old, new) of each package `pkg_add -u` changed."""
    changed = []
    for line in content_lines(text, "pkg_add -u"):
        if match := _PKG.fullmatch(line.strip()):
            changed.append((match["old"], match["new"]))
    return tuple(changed)
