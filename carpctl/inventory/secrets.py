"""Secrets in inventory variables: read once, rendered into files, never shown.

A variable written as ``{env: NAME}`` or ``{file: PATH}`` (PATH relative to the
inventory file) becomes a :class:`Secret`. Its ``str()`` and ``repr()`` are a
mask, so it is safe in exceptions, dataclass reprs and logs by construction;
only :func:`reveal` gives the real value, and the renderer is its one caller.
Whatever carries rendered text further (diffs, history, command logs) passes
it through :func:`redact` with the secrets the renderer reports as used.

Secrets are resolved when the inventory is loaded, so a missing variable or
file is an inventory error before anything runs, not a failure halfway
through a deploy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from carpctl.errors import InventoryError

MASK = "********"

_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Secret:
    """A secret value and where it came from (``source`` may be shown, the value never).

    Deliberately not a dataclass: ``dataclasses.asdict`` on a Node would
    otherwise copy the value into a plain dict, and from there into JSON.
    """

    __slots__ = ("source", "_value")

    def __init__(self, source: str, value: str):
        self.source = source
        self._value = value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return (self.source, self._value) == (other.source, other._value)

    def __hash__(self) -> int:
        return hash((self.source, self._value))


def reveal(value: object) -> object:
    """The real value of a Secret, recursively through lists and mappings.

    Only the renderer should need this: templates must produce the real
    secret, everything else works with the masked object.
    """
    if isinstance(value, Secret):
        return value._value
    if isinstance(value, Mapping):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [reveal(item) for item in value]
    return value


def find_secrets(value: object) -> tuple[Secret, ...]:
    """Every Secret inside a value (lists and mappings searched), without repeats."""
    found: dict[Secret, None] = {}

    def walk(item: object) -> None:
        if isinstance(item, Secret):
            found[item] = None
        elif isinstance(item, Mapping):
            for sub in item.values():
                walk(sub)
        elif isinstance(item, (list, tuple)):
            for sub in item:
                walk(sub)

    walk(value)
    return tuple(found)


def redact(text: str, secrets: Iterable[Secret | str]) -> str:
    """Replace every occurrence of every secret value in ``text`` with the mask.

    Longer values go first so that a secret containing another is masked
    whole. Only literal occurrences are found: a template that transforms a
    secret (``{{ carp_pass | upper }}``) produces text this cannot recognise.
    """
    values = {s._value if isinstance(s, Secret) else s for s in secrets}
    for value in sorted(filter(None, values), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def used_in(text: str, secrets: Iterable[Secret]) -> tuple[Secret, ...]:
    """The secrets whose value appears in ``text`` (what ``redact`` must be given)."""
    return tuple(s for s in secrets if s._value in text)


def secret_reference(value: object) -> tuple[str, str] | None:
    """``('env', NAME)`` or ``('file', PATH)`` when a value is a secret reference.

    Any mapping whose only key is ``env`` or ``file`` is a reference: a plain
    variable can not have that shape, which keeps the rule easy to state.
    """
    if isinstance(value, Mapping) and len(value) == 1:
        (kind, target), = value.items()
        if kind in ("env", "file"):
            return kind, target
    return None


def resolve_secrets(
    value: object, *, file: str, path: str, base_dir: Path, environ: Mapping[str, str]
) -> object:
    """Replace every secret reference inside ``value`` with a loaded Secret.

    ``file`` and ``path`` say where the value was written, for messages;
    file references are relative to ``base_dir`` (the inventory file's
    directory). Raises InventoryError when a variable or file is missing.
    """
    reference = secret_reference(value)
    if reference is not None:
        return _load(*reference, file=file, path=path, base_dir=base_dir, environ=environ)
    where: dict[str, Any] = {"file": file, "base_dir": base_dir, "environ": environ}
    if isinstance(value, Mapping):
        return {k: resolve_secrets(item, path=f"{path}.{k}", **where) for k, item in value.items()}
    if isinstance(value, list):
        return [resolve_secrets(item, path=f"{path}[{i}]", **where) for i, item in enumerate(value)]
    return value


def _load(
    kind: str, target: object, *, file: str, path: str, base_dir: Path, environ: Mapping[str, str]
) -> Secret:
    def fail(problem: str) -> InventoryError:
        return InventoryError(file, f"{path}.{kind}", problem)

    if not isinstance(target, str) or not target:
        wanted = "variable name" if kind == "env" else "path"
        raise fail(f"a secret reference needs a non-empty {wanted}")
    if kind == "env":
        if not _ENV_NAME_RE.fullmatch(target):
            raise fail(f"{target!r} is not an environment variable name")
        if target not in environ:
            raise fail(f"environment variable {target} is not set (it holds a secret)")
        secret = Secret(f"environment variable {target}", environ[target])
    else:
        secret_file = (base_dir / Path(target).expanduser()).resolve()
        try:
            text = secret_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise fail(f"secret file {secret_file} does not exist") from None
        except OSError as exc:
            raise fail(f"cannot read secret file {secret_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise fail(f"secret file {secret_file} is not UTF-8 text") from None
        secret = Secret(f"file {secret_file}", text.removesuffix("\n").removesuffix("\r"))
    if not secret._value:
        raise fail(f"the {secret.source} is empty")
    return secret
