"""Render a pair's files for one node with Jinja2.

Undefined variables are errors (StrictUndefined): a typo in a template must
stop a deploy on the laptop, not produce a pf.conf with an empty macro on a
firewall. Every error names the template, the line and what was wrong.

Templates see the node's variables (defaults, then pair, then node), plus
``pair`` (its name), ``node`` (this node's name), ``peer`` (the other node as
``{name, host, vars}``) and ``nodes`` (both, in inventory order, same shape).
Secrets render with their real value; the result records which secrets it
contains so that diffs and logs can be redacted. Blocks are trimmed
(``trim_blocks``), as Ansible users expect, and a final newline is kept.
"""

from __future__ import annotations

import functools
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from carpctl.errors import UsageError
from carpctl.inventory import FileSpec, Node, Pair
from carpctl.inventory.secrets import Secret, redact, reveal, used_in

# Jinja2's two wordings: a missing variable, and a missing key of a mapping (peer.vars.x).
_UNDEFINED_RE = re.compile(r"^'([^']+)' is undefined$|has no attribute '([^']+)'$")


class RenderError(UsageError):
    """A template could not be rendered: a mistake in the inventory or template (exit 2)."""

    def __init__(
        self, template: str, line: int | None, problem: str, *, variable: str | None = None
    ):
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {problem}", hint="fix the template or the inventory's vars")
        self.template = template
        self.line = line
        self.problem = problem
        self.variable = variable


@dataclass(frozen=True)
class RenderedFile:
    """A file ready to upload. ``text`` holds secrets in clear and is kept out of repr."""

    spec: FileSpec
    dest: str
    text: str = field(repr=False)
    secrets_used: tuple[Secret, ...] = ()

    @property
    def redacted(self) -> str:
        """The text with every secret masked: the form to show, diff or record."""
        return redact(self.text, self.secrets_used)


def template_context(pair: Pair, node: Node) -> dict[str, object]:
    """The variables a template sees, secrets still masked (see module docstring)."""

    def describe(n: Node) -> dict[str, object]:
        return {"name": n.name, "host": n.host, "vars": n.vars}

    return {
        **node.vars,
        "pair": pair.name,
        "node": node.name,
        "peer": describe(pair.peer_of(node.name)),
        "nodes": [describe(n) for n in pair.nodes],
    }


def render_files(pair: Pair, node: Node) -> list[RenderedFile]:
    """Render every file of ``pair`` for ``node``; raise RenderError on the first failure."""
    context = reveal(template_context(pair, node))
    secrets = pair.secrets
    target = f"{pair.name}/{node.name}"
    rendered = []
    for spec in pair.files:
        text = _render(spec.template, pair.source_file.parent, context, secrets, target)
        used = used_in(text, secrets)
        rendered.append(RenderedFile(spec=spec, dest=spec.dest, text=text, secrets_used=used))
    return rendered


@functools.lru_cache(maxsize=32)
def environment(*search: Path):
    """The Jinja2 environment for templates in `search` (beside the template, then the
    inventory's directory). Cached, so each template compiles once per run, not per node;
    template_lines renders with the very same settings."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        autoescape=False,
    )


def _render(
    template: Path, root: Path, context: object, secrets: tuple[Secret, ...], target: str
) -> str:
    """Render one template; includes are looked up beside it, then in the inventory directory.

    ``target`` (pair/node) goes into messages: the same template may render
    for one node and not the other when node vars differ.
    """
    import jinja2

    search = [template.parent, root]
    env = environment(template.parent, root)
    try:
        return env.get_template(template.name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        shown = shown_path(Path(exc.filename) if exc.filename else template)
        problem = f"template syntax error: {redact(exc.message or '', secrets)}"
        raise RenderError(shown, exc.lineno, problem) from None
    except Exception as exc:  # noqa: BLE001 - any failure inside a template is the template's
        shown, line = _where(exc, search, template)
        if isinstance(exc, jinja2.UndefinedError):
            message = exc.message or "undefined"
            match = _UNDEFINED_RE.search(message)
            variable = (match[1] or match[2]) if match else None
            problem = f"undefined variable {variable!r}" if match and match[1] else message
            problem = f"{problem} (rendering for {target})"
            raise RenderError(shown, line, problem, variable=variable) from None
        if isinstance(exc, jinja2.TemplateNotFound):
            raise RenderError(shown, line, f"included template {exc.name!r} not found") from None
        problem = redact(f"{type(exc).__name__}: {exc}", secrets)
        raise RenderError(shown, line, f"{problem} (rendering for {target})") from None


def _where(exc: BaseException, search: list[Path], template: Path) -> tuple[str, int | None]:
    """The innermost template frame of a traceback (Jinja2 maps frames to template lines)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if path.suffix != ".py" and any(path.is_relative_to(p) for p in search):
            return shown_path(path), frame.lineno
    return shown_path(template), None


def shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
