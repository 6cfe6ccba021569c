"""Which template line produced each line of a rendered file.

pfctl and relayd report errors as `FILE:LINE: message` about the rendered
copy on the node; the user edits the template, whose line numbers differ
(loops repeat lines, `{% if %}` blocks vanish, trim_blocks eats newlines).

How: the template is rendered a second time with an invisible marker (two
private-use characters around the line number) put at the start of every
template line that begins outside a Jinja tag or comment. Each rendered line
then starts with the marker of the template line it came from, or carries no
marker (a multi-line value, an included file) and belongs to the line of the
last marker seen. With the markers taken out, the text must be exactly the
text that was deployed; if it is not (a filter that counted or reordered
characters, whitespace control that the markers stopped), there is no mapping
and callers show the rendered line alone. So a mapping is either right or
absent, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from carpctl.inventory import Node, Pair
from carpctl.inventory.secrets import reveal
from carpctl.render.templates import RenderedFile, environment, shown_path, template_context

_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKER = re.compile(f"{_OPEN}([0-9]+){_CLOSE}")
_STRIP_BEFORE = re.compile(r"^\s*(\{%-|\{\{-|\{#-)")   # this line's tag strips the newline
_STRIP_AFTER = re.compile(r"(-%\}|-\}\}|-#\})\s*$")     # the previous line's tag strips ours
_SPANS = {"block_begin": "block_end", "variable_begin": "variable_end",
          "comment_begin": "comment_end"}


@dataclass(frozen=True)
class Origin:
    """Where rendered line `rendered_line` of a file came from."""

    template: str            # as the user would type it (relative to the working directory)
    line: int | None         # None: no reliable mapping; show the rendered line instead
    rendered_line: int
    rendered_text: str       # redacted

    @property
    def location(self) -> str:
        return f"{self.template}:{self.line}" if self.line else f"{self.template} (line unknown)"


def origin(pair: Pair, node: Node, rendered: RenderedFile, line: int) -> Origin:
    """The template line behind rendered line `line` (1-based) of `rendered`."""
    template = rendered.spec.template
    lines = rendered.redacted.splitlines()
    origins = line_origins(pair, node, rendered, template.read_text())
    mapped = origins[line - 1] if origins and 0 < line <= len(origins) else None
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return Origin(shown_path(template), mapped, line, text)


def line_origins(pair: Pair, node: Node, rendered: RenderedFile,
                 source: str) -> list[int] | None:
    """Template line per rendered line, or None when the markers changed the output."""
    marked = _render_marked(pair, node, rendered.spec.template, mark_lines(source))
    if marked is None or _MARKER.sub("", marked) != rendered.text:
        return None
    origins: list[int] = []
    current = 1
    for text in marked.splitlines():
        head = re.match(f"(?:{_MARKER.pattern})+", text)
        if head:
            current = int(_MARKER.findall(head.group(0))[-1])
        origins.append(current)
        for found in _MARKER.findall(text[head.end() if head else 0:]):
            current = int(found)
    return origins


def mark_lines(source: str) -> str:
    """The template with a marker at the start of every line that starts outside a tag.

    After a `-%}` (which strips the following whitespace) the marker goes after the
    line's indentation; a line opening with `{%-` gets none: its output joins the
    line before, which is where that output line starts.
    """
    inside = _lines_inside_tags(source)
    lines = source.splitlines(keepends=True)
    marked = []
    for number, text in enumerate(lines, 1):
        if number in inside or _STRIP_BEFORE.match(text):
            marked.append(text)
            continue
        previous = lines[number - 2] if number > 1 else ""
        indent = len(text) - len(text.lstrip(" \t")) if _STRIP_AFTER.search(previous) else 0
        marked.append(f"{text[:indent]}{_OPEN}{number}{_CLOSE}{text[indent:]}")
    return "".join(marked)


def _lines_inside_tags(source: str) -> set[int]:
    """Lines whose first character lies inside a `{% %}`, `{{ }}` or `{# #}` (raw blocks'
    contents are data: a marker there is printed as it is, like the rest of the block)."""
    import jinja2

    inside: set[int] = set()
    opened: tuple[int, str] | None = None
    try:
        for lineno, token, _ in jinja2.Environment().lexer.tokeniter(source, "template"):
            if opened is None and token in _SPANS:
                opened = (lineno, _SPANS[token])
            elif opened is not None and token == opened[1]:
                inside.update(range(opened[0] + 1, lineno + 1))
                opened = None
    except jinja2.TemplateSyntaxError:
        return set(range(1, source.count("\n") + 2))
    return inside


def _render_marked(pair: Pair, node: Node, template: Path, marked: str) -> str | None:
    """Render the marked source with render.py's settings; None if it does not render."""
    env = environment(template.parent, pair.source_file.parent)
    try:
        return env.from_string(marked).render(reveal(template_context(pair, node)))
    except Exception:  # noqa: BLE001 - no mapping, never a crash: the caller shows the raw line
        return None
