"""Field splitting and pathname expansion, the last steps of expanding a word.

The executor resolves each part of a word to text and feeds it here with its
quoting: quoted text joins the current field as is, unquoted expansion results
are split on IFS, and unquoted `*`, `?` and `[` make the field a glob pattern
that is matched against the node's files (no match leaves the word as written).
"""

from __future__ import annotations

import fnmatch
import re

from ..fs import NodeFS

DEFAULT_IFS = " \t\n"
_GLOB_CHARS = "*?["


def _escape(text: str) -> str:
    """Text as an fnmatch pattern that matches only itself."""
    return re.sub(r"([*?\[])", r"[\1]", text)


class Fields:
    """Builds the fields of one word."""

    def __init__(self, ifs: str = DEFAULT_IFS):
        self.ifs = ifs
        self.done: list[tuple[str, str | None]] = []  # (text, glob pattern or None)
        self._text: str | None = None  # None until something (even "") starts a field
        self._pattern = ""
        self._glob = False

    def add(self, text: str, *, quoted: bool) -> None:
        """Text that is not split: literals, quoted expansions."""
        if self._text is None:
            self._text, self._pattern, self._glob = "", "", False
        self._text += text
        self._pattern += _escape(text) if quoted else text
        self._glob = self._glob or (not quoted and any(c in text for c in _GLOB_CHARS))

    def split(self, value: str) -> None:
        """The result of an unquoted expansion: split on IFS characters."""
        if not value:
            return
        pieces = re.split(f"[{re.escape(self.ifs)}]+", value) if self.ifs else [value]
        for i, piece in enumerate(pieces):
            if i:
                self.end()
            if piece:
                self.add(piece, quoted=False)

    def end(self) -> None:
        if self._text is not None:
            self.done.append((self._text, self._pattern if self._glob else None))
        self._text = None


def glob(fs: NodeFS, user: str, cwd: str, pattern: str) -> list[str]:
    """Paths matching `pattern`, sorted; relative patterns give relative paths."""
    paths = ["/" if pattern.startswith("/") else ""]
    for component in (c for c in pattern.split("/") if c):
        if not any(c in component for c in _GLOB_CHARS):
            paths = [_join(base, component) for base in paths]
            continue
        matched = []
        for base in paths:
            try:
                names = fs.listdir(fs.norm(base or ".", cwd), user)
            except OSError:
                continue
            matched += [_join(base, name) for name in names
                        if fnmatch.fnmatchcase(name, component)
                        and (component.startswith(".") or not name.startswith("."))]
        paths = matched
    return sorted(p for p in paths if fs.exists(fs.norm(p, cwd)))


def _join(base: str, name: str) -> str:
    if not base:
        return name
    return base + name if base.endswith("/") else f"{base}/{name}"
