"""What an inventory file may contain, and how each value is checked.

The tables below map every key to a converter that checks its value and
turns it into a plain one (string, number, Path, Secret, dict);
``carpctl.inventory`` merges files and layers and builds the typed objects.
"""

from __future__ import annotations

import math
import re
import shlex
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from carpctl.inventory import checks
from carpctl.inventory.secrets import Secret, resolve_secrets
from carpctl.inventory.yaml_reader import Converter, Ctx, read_mapping, show

KINDS = ("pf", "relayd", "other")
#: Destinations whose kind is fixed: carpctl's pf and relayd handling (validation
#: on the node, lockout protection) must not be bypassed by calling them "other".
KNOWN_DESTS = {"/etc/pf.conf": "pf", "/etc/relayd.conf": "relayd"}
DEFAULT_MODES = {"pf": 0o600, "relayd": 0o600, "other": 0o644}

#: Variables that hold interface names, besides every name ending in _if or _ifs.
INTERFACE_VARS = frozenset({"carpdev", "syncdev"})
#: Names the renderer puts into every template; variables may not shadow them.
RESERVED_VARS = frozenset({"pair", "node", "peer", "nodes"})
#: Names with a meaning on the command line (`select all`, `--to peer`).
RESERVED_PAIR_NAMES = frozenset({"all"})
RESERVED_NODE_NAMES = frozenset({"peer"})

_VAR_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def checked(check: Callable[[Any], None]) -> Converter:
    """A converter running one of carpctl.inventory.checks's checks, naming the value in its message."""

    def convert(value: Any, ctx: Ctx) -> object:
        try:
            check(value)
        except ValueError as exc:
            raise ValueError(f"{show(value)} {exc}") from None
        return value

    return convert


def choice(*options: str) -> Converter:
    def convert(value: Any, ctx: Ctx) -> str:
        if value not in options:
            raise ValueError(f"{show(value)} must be one of: {', '.join(options)}")
        return value

    return convert


def seconds(*, allow_zero: bool = False) -> Converter:
    def convert(value: Any, ctx: Ctx) -> float:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            bound = "0 or more" if allow_zero else "greater than 0"
            raise ValueError(f"{show(value)} must be a number of seconds {bound}")
        return float(value)

    return convert


def flag(value: object, ctx: Ctx) -> bool:
    """true or false (YAML's own booleans; a quoted "false" is a mistake, not False)."""
    if not isinstance(value, bool):
        raise ValueError(f"{show(value)} must be true or false")
    return value


def release(value: object, ctx: Ctx) -> str:
    """An OpenBSD release like 7.6 (YAML reads an unquoted 7.6 as a number: both are taken)."""
    text = repr(value) if isinstance(value, float) else value
    if not isinstance(text, str) or not re.fullmatch(r"[1-9][0-9]*\.[0-9]", text):
        raise ValueError(f"{show(value)} must be an OpenBSD release like 7.6")
    return text


def int_range(low: int, high: int) -> Converter:
    return checked(lambda value: checks.check_int_range(value, low, high))


def _paths(value: Any, ctx: Ctx, what: str, hint: str = "") -> tuple[Path, ...]:
    """One path or a list of them, each of which must exist: a typo here would only show
    later, as an authentication or host key failure far from its cause."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"must be a path or a list of paths, not {show(value)}")
    paths = tuple(ctx.local_path(item) for item in items)
    for item, path in zip(items, paths):
        if not path.is_file():
            raise ValueError(f"{what} {show(item)} does not exist (looked for {path}){hint}")
    return paths


def identity_file(value: Any, ctx: Ctx) -> tuple[Path, ...]:
    """Private keys to offer, in order (like several IdentityFile lines)."""
    return _paths(value, ctx, "key file")


def known_hosts(value: Any, ctx: Ctx) -> tuple[Path, ...]:
    """Extra known_hosts files; --accept-new-host-keys records new keys in the first.
    A team's shared file that is missing would otherwise look like "no key known"."""
    return _paths(value, ctx, "known_hosts file", "; create it (it may be empty) or remove the key")


def proxy_jump(value: Any, ctx: Ctx) -> str | None:
    """``[user@]host[:port][,...]``; ``none`` (as in ssh_config) means no jump host."""
    try:
        hops = checks.parse_proxy_jump(value)
    except ValueError as exc:
        raise ValueError(f"{show(value)} {exc}") from None
    return value if hops else None


CONNECTION_KEYS: dict[str, Converter] = {
    "user": checked(checks.check_user),
    "become": choice("none", "doas"),
    "port": checked(checks.check_port),
    "identity_file": identity_file,
    "known_hosts": known_hosts,
    "connect_timeout": seconds(),
    "proxy_jump": proxy_jump,
}

FAILOVER_KEYS: dict[str, Converter] = {
    "method": choice("advskew", "carpdemote"),
    "timeout": seconds(),
    "settle": seconds(allow_zero=True),
    "advskew": int_range(1, 254),
    "demote": checked(checks.check_boot_demotion),
}

DEPLOY_KEYS: dict[str, Converter] = {
    "backups_keep": int_range(1, 1000),
    "confirm_timeout": seconds(),
}


def section(keys: Mapping[str, Converter]) -> Converter:
    return lambda value, ctx: read_mapping(value, keys, ctx)


# -- variables -------------------------------------------------------------


def _special_check(key: str) -> tuple[str, Callable[[Any], None]] | None:
    """The check a variable's name calls for, with the naming rule for messages."""
    if key in INTERFACE_VARS or key.endswith(("_if", "_ifs")):
        names = " or ".join(sorted(INTERFACE_VARS))
        return f"variables named *_if, *_ifs, {names} hold interface names", checks.check_ifname
    if key == "vhid" or key.endswith("_vhid"):
        return "variables named vhid or *_vhid hold CARP vhids", checks.check_vhid
    if key in ("advskew", "advbase") or key.endswith(("_advskew", "_advbase")):
        rule = "variables named advskew, advbase, *_advskew or *_advbase hold CARP timing values"
        return rule, checks.check_advskew
    return None


def _check_special_vars(value: Any, ctx: Ctx) -> None:
    """Walk a variable and check every key whose name says what it holds.

    These values go into ifconfig/pf lines and into commands carpctl runs, so
    they are checked wherever they sit (``carp: [{vhid: 1, carpdev: em0}]``).
    A special variable may hold one value or a list of them.
    """
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_special_vars(item, ctx.at(index))
        return
    if not isinstance(value, Mapping):
        return
    for key, item in value.items():
        here = ctx.at(key)
        special = _special_check(key) if isinstance(key, str) else None
        if special is None:
            _check_special_vars(item, here)
            continue
        rule, check = special
        for index, single in enumerate(item if isinstance(item, list) else [item]):
            spot = here.at(index) if isinstance(item, list) else here
            if isinstance(single, Secret):
                spot.fail(f"can not be a secret ({rule})")
                continue
            try:
                check(single)
            except ValueError as exc:
                spot.fail(f"{show(single)} {exc} ({rule})")


def variables(value: Any, ctx: Ctx) -> dict[str, Any]:
    """Template variables: names usable in Jinja2, secrets resolved, special names checked."""
    value = {} if value is None else value
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a mapping of variable names to values, not {show(value)}")
    result: dict[str, Any] = {}
    for name, item in value.items():
        here = ctx.at(str(name))
        if not isinstance(name, str) or not _VAR_NAME_RE.fullmatch(name):
            here.fail("is not a usable variable name (letters, digits and '_', not a digit first)")
            continue
        if name in RESERVED_VARS:
            here.fail(f"{name!r} is set by carpctl for every template; choose another name")
            continue
        with ctx.problems.collect():
            result[name] = resolve_secrets(
                item, file=ctx.shown, path=here.path, base_dir=ctx.file.parent, environ=ctx.environ
            )
    _check_special_vars(result, ctx)
    return result


# -- files -----------------------------------------------------------------


def command_template(value: Any, ctx: Ctx) -> str:
    """A command run on the node; ``{file}`` is the only placeholder.

    It is split into words before ``{file}`` is substituted (see
    ``FileSpec.validate_argv``), so a path can never add words to it.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a command, not {show(value)}")
    operator = _shell_operator(value)
    if operator:
        raise ValueError(f"{show(value)} uses the shell operator {operator!r}: carpctl runs one "
                         f"command without a shell (every word is quoted); put a pipeline or "
                         f"a sequence in a script on the node and name that script here")
    try:
        fields = {
            name
            for word in shlex.split(value)
            for _, name, _, _ in string.Formatter().parse(word)
            if name is not None
        }
    except ValueError as exc:
        raise ValueError(f"{show(value)} is not a valid command: {exc}") from None
    unknown = sorted(fields - {"file"})
    if unknown:
        raise ValueError(f"{show(value)} uses {{{unknown[0]}}}; the only placeholder is {{file}}")
    return value


def _shell_operator(value: str) -> str | None:
    """The first shell operator outside quotes (`;` `&&` `|` `>` `(`...), or a command
    substitution anywhere: the node would take it as a literal word, and the mistake
    would only show after a real install."""
    for marker in ("$(", "`"):
        if marker in value:
            return marker
    lexer = shlex.shlex(value, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return next((word for word in lexer if word and set(word) <= set("();<>|&")), None)
    except ValueError:
        return None   # unbalanced quotes: reported by the caller's own split


def file_mode(value: Any, ctx: Ctx) -> int:
    """Octal permissions. YAML reads ``0640`` as octal already; ``'0640'`` is accepted too."""
    mode = value
    if isinstance(value, str):
        try:
            mode = int(value.removeprefix("0o"), 8)
        except ValueError:
            mode = None
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o777:
        raise ValueError(f"{show(value)} is not a file mode; write it in octal: 0640 or '0640'")
    return mode


def template_path(value: Any, ctx: Ctx) -> Path:
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a path to a template, not {show(value)}")
    path = ctx.local_path(value)
    if not path.is_file():
        raise ValueError(f"template {value!r} does not exist (looked for {path})")
    return path


FILE_KEYS: dict[str, Converter] = {
    "template": template_path,
    "dest": checked(checks.check_remote_path),
    "kind": choice(*KINDS),
    "mode": file_mode,
    "owner": checked(checks.check_user),
    "group": checked(checks.check_user),
    "validate": command_template,
    "apply": command_template,
}


def _file_entry(value: Any, ctx: Ctx) -> dict[str, Any] | None:
    why = {"template": "the Jinja2 template to render", "dest": "the absolute path on the node"}
    before = len(ctx.problems.errors)
    entry = read_mapping(value, FILE_KEYS, ctx, required=why)
    if len(ctx.problems.errors) > before:
        return None
    dest = entry["dest"]
    fixed = KNOWN_DESTS.get(dest)
    kind = entry.get("kind", fixed or "other")
    if fixed and kind != fixed:
        ctx.at("kind").fail(f"{dest} is always kind {fixed}: carpctl validates and applies it")
        return None
    if kind != "other":
        for key in sorted(entry.keys() & {"validate", "apply"}):
            ctx.at(key).fail(
                f"kind {kind} is validated and applied by carpctl's deploy; "
                "validate/apply are for kind other only"
            )
    if "validate" in entry and "{file}" not in entry["validate"]:
        ctx.at("validate").fail("must use {file}, the uploaded copy to check")
    entry.setdefault("mode", DEFAULT_MODES[kind])
    defaults = {"owner": "root", "group": "wheel", "validate": None, "apply": None}
    return {**defaults, **entry, "kind": kind}


def files(value: Any, ctx: Ctx) -> list[dict[str, Any]]:
    """The files to deploy, each with its kind, mode and owner settled."""
    value = [] if value is None else value
    if not isinstance(value, list):
        raise ValueError(f"must be a list of {{template, dest}} entries, not {show(value)}")
    result = []
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        entry = _file_entry(item, ctx.at(index))
        if entry is None:
            continue
        dest = entry["dest"]
        if dest in seen:
            ctx.at(index).at("dest").fail(f"{dest} is already deployed by files[{seen[dest]}]")
        seen.setdefault(dest, index)
        result.append(entry)
    return result


# -- sections --------------------------------------------------------------

DEFAULTS_KEYS: dict[str, Converter] = {
    **CONNECTION_KEYS,
    "failover": section(FAILOVER_KEYS),
    "deploy": section(DEPLOY_KEYS),
    "files": files,
    "vars": variables,
}

NODE_KEYS: dict[str, Converter] = {
    "host": checked(checks.check_host),
    **CONNECTION_KEYS,
    "vars": variables,
}


def valid_name(name: Any, what: str, reserved: frozenset[str], ctx: Ctx) -> bool:
    """Check a pair or node name (it ends up in file names on the nodes)."""
    if not isinstance(name, str):
        ctx.fail(f"{what} name {show(name)} must be a string")
        return False
    try:
        checks.check_name(name)
    except ValueError as exc:
        ctx.at(name).fail(f"{what} name {show(name)} {exc}")
        return False
    if name in reserved:
        ctx.at(name).fail(f"{name!r} can not be a {what} name: it means something to the CLI")
        return False
    return True


def nodes(value: Any, ctx: Ctx) -> dict[str, dict[str, Any]]:
    value = {} if value is None else value
    if not isinstance(value, Mapping):
        raise ValueError(f"must be a mapping of two node names to settings, not {show(value)}")
    if len(value) != 2:
        names = ", ".join(map(str, value)) or "none"
        ctx.fail(f"a pair has exactly two nodes, found {len(value)} ({names})")
    result = {}
    for name, item in value.items():
        if valid_name(name, "node", RESERVED_NODE_NAMES, ctx):
            why = "an address, a hostname or a ~/.ssh/config alias"
            result[name] = read_mapping(item, NODE_KEYS, ctx.at(name), required={"host": why})
    return result


PAIR_KEYS: dict[str, Converter] = {
    "nodes": nodes,
    # false: the pair runs without pfsync; failover goes on, warning that states are not synced
    "pfsync": flag,
    "release": release,     # the release both nodes should run: another one is a status finding
    **DEFAULTS_KEYS,
}

TOP_KEYS = ("defaults", "pairs")


