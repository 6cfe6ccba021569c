"""Reading inventory YAML: syntax errors, located mistakes, the generic mapping check.

Each value read from an inventory carries a Ctx (its file and dotted path,
``pairs.pair1.nodes.fw2.host``); a mistake is recorded there and reading goes
on, so one run shows the user every mistake, not just the first.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from carpctl.errors import InventoryError


class InvalidInventory(InventoryError):
    """Every mistake found in an inventory; ``str()`` starts with the first.

    ``file``, ``path`` and ``problem`` are the first mistake's, ``problems``
    holds all of them, each an InventoryError, in the order of the files.
    """

    def __init__(self, problems: Sequence[InventoryError]):
        first = problems[0]
        super().__init__(first.file, first.path, first.problem)
        self.problems = tuple(problems)
        if len(problems) > 1:
            self.message = "\n".join(p.message for p in problems)
            self.hint = f"{len(problems)} problems found in the inventory"


@dataclass
class Problems:
    """The mistakes found so far while reading an inventory."""

    errors: list[InventoryError] = field(default_factory=list)

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Record an InventoryError raised inside the block and carry on."""
        try:
            yield
        except InventoryError as exc:
            self.errors.append(exc)

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInventory(self.errors)


@dataclass(frozen=True, kw_only=True)
class Ctx:
    """Where a value is: its file (absolute and as shown), its dotted path."""

    file: Path
    shown: str
    path: str
    environ: Mapping[str, str]
    problems: Problems

    def at(self, key: str | int) -> Ctx:
        if isinstance(key, int):
            path = f"{self.path}[{key}]"
        else:
            path = f"{self.path}.{key}" if self.path else key
        return Ctx(file=self.file, shown=self.shown, path=path, environ=self.environ,
                   problems=self.problems)

    def fail(self, problem: str) -> None:
        self.problems.errors.append(InventoryError(self.shown, self.path, problem))

    def local_path(self, text: str) -> Path:
        """A path on this machine: ``~`` expanded, relative to the inventory file."""
        return (self.file.parent / Path(text).expanduser()).resolve()


Converter = Callable[[Any, Ctx], Any]   # YAML values in, checked values out (any type)


def show(value: object) -> str:
    """A value as a message shows it: strings quoted and shortened, others by type."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return "an empty value"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def unknown_key(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r} (known keys: {', '.join(sorted(known))})"


def read_mapping(
    value: object,
    keys: Mapping[str, Converter],
    ctx: Ctx,
    *,
    required: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Check a mapping against its known keys; ``required`` maps a key to why.

    An empty value counts as an empty mapping: a section whose lines were
    all commented out is not a mistake.
    """
    value = {} if value is None else value
    if not isinstance(value, Mapping):
        ctx.fail(f"must be a mapping, not {show(value)}")
        return {}
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            ctx.fail(f"key {show(key)} must be a string")
            continue
        here = ctx.at(key)
        convert = keys.get(key)
        if convert is None:
            here.fail(unknown_key(key, list(keys)))
            continue
        try:
            result[key] = convert(item, here)
        except ValueError as exc:
            here.fail(str(exc))
    for key, why in (required or {}).items():
        if key not in value:
            ctx.at(key).fail(f"missing ({why})")
    return result


@cache
def _yaml_loader() -> type:
    """A safe loader that refuses duplicate keys, which plain YAML silently overwrites."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key, Hashable):
                continue
            if key in seen:
                problem = f"duplicate key {key!r} (first at line {seen[key] + 1})"
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return loader.construct_mapping(node, deep=True)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def read_yaml(path: Path, shown: str) -> object:
    """Parse one inventory file; syntax errors name the line and column."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(shown, "", f"cannot read: {exc}") from None
    try:
        return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        context = f" ({exc.context})" if exc.context else ""
        raise InventoryError(shown, "", f"YAML error at {where}: {exc.problem}{context}") from None
    except yaml.YAMLError as exc:
        raise InventoryError(shown, "", f"YAML error: {exc}") from None
