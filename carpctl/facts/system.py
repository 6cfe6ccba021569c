"""Base-system facts: file checksums, pending patches.

Checksums come from `sha256 -q FILE` (bare hex) or `sha256 FILE` (`SHA256 (FILE)
= HEX`, bin/md5/md5.c), and patches from `syspatch -c` (still to install) or
`syspatch -l` (installed), one `NNN_name` per line with the release prefix stripped.
"""

from __future__ import annotations

import re

from carpctl.facts._text import content_lines, fail, single_line

_WHAT_SHA = "sha256"
_WHAT_SYSPATCH = "syspatch"

_HEX = r"(?P<hex>[0-9a-f]{64})"
_SHA_QUIET = re.compile(_HEX)
_SHA_TAGGED = re.compile(rf"SHA256 \((?P<file>.+)\) = {_HEX}")
_PATCH = re.compile(r"[0-9]{3}_[A-Za-z0-9_-]+")


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
