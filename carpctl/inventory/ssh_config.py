"""Settings from ~/.ssh/config for inventory nodes, checked like inventory values.

Users already describe their firewalls there (aliases, jump hosts, keys);
carpctl reads the same file so that ``host: fw1`` means what ``ssh fw1``
means. paramiko is imported only when the file exists: ``carpctl --help``
must stay fast.

paramiko's SSHConfig has no ``Include``; ``flatten`` adds it as a layer in
front (the included files' lines put in place, each block keeping the
condition OpenSSH gives it), so paramiko still does the matching.
"""

from __future__ import annotations

import getpass
import glob
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from carpctl.inventory import checks, schema
from carpctl.inventory.yaml_reader import Ctx, Problems

Lookup = Callable[[str], dict]

#: ssh_config keyword (as paramiko returns it) -> (our key, the keyword as users write it).
_SSH_KEYS = {
    "hostname": ("host", "HostName"),
    "user": ("user", "User"),
    "port": ("port", "Port"),
    "identityfile": ("identity_file", "IdentityFile"),
    "proxyjump": ("proxy_jump", "ProxyJump"),
    "hashknownhosts": ("hash_known_hosts", "HashKnownHosts"),
}
MAX_INCLUDE_DEPTH = 16   # readconf.c's READCONF_MAX_DEPTH
MAX_JUMP_DEPTH = 8       # a jump host whose own ProxyJump leads back would never end
_LINE_RE = re.compile(r"(\w+)(?:\s*=\s*|\s+)(.+)")   # keyword [=] arguments, as paramiko reads


def user_config() -> Path:
    return Path("~/.ssh/config").expanduser()


@dataclass(frozen=True, kw_only=True)
class Jump:
    """One ProxyJump hop, resolved as ``ssh -J`` resolves it.

    ``user@`` and ``:port`` written in the ProxyJump win; otherwise the hop's
    own ssh config applies (HostName, User, Port, IdentityFile), then ssh's
    defaults: the local user name and port 22. The node's identity files are
    not offered to a jump host (``ssh -i KEY -J HOP`` does not either).
    """

    name: str
    host: str
    port: int
    user: str
    identity_files: tuple[Path, ...] = ()
    hash_known_hosts: bool = False


def jump_chain(spec: str | None, lookup: Lookup, depth: int = 0) -> tuple[Jump, ...]:
    """The hops of a ProxyJump value, first hop first; ValueError for an endless chain.

    The first hop's own ProxyJump (from ssh config) is followed, as the ssh
    process ``-J`` starts for it would do; later hops are reached through the
    earlier ones, so theirs is ignored, as ssh does.
    """
    if not spec:
        return ()
    if depth > MAX_JUMP_DEPTH:
        raise ValueError(f"leads through more than {MAX_JUMP_DEPTH} jump hosts "
                         f"(does a jump host's ProxyJump in ssh config loop back?)")
    hops: list[Jump] = []
    for index, hop in enumerate(checks.parse_proxy_jump(spec)):
        found = lookup(hop.host)
        if index == 0:
            hops.extend(jump_chain(found.get("proxy_jump"), lookup, depth + 1))
        hops.append(Jump(name=hop.host, host=found.get("host", hop.host),
                         port=hop.port or found.get("port", 22),
                         user=hop.user or found.get("user") or getpass.getuser(),
                         identity_files=found.get("identity_file", ()),
                         hash_known_hosts=found.get("hash_known_hosts", False)))
    return tuple(hops)


def ssh_config_lookup(path: Path | None, problems: Problems) -> Lookup:
    """A function giving the settings ~/.ssh/config has for a host, checked like inventory values.

    Only HostName, User, Port, IdentityFile, ProxyJump and HashKnownHosts are
    taken. IdentityFile lines naming missing files are skipped (ssh skips
    them too). Mistakes are added to ``problems``, naming the file.
    """
    path = user_config() if path is None else path
    if not path.is_file():
        return lambda host: {}
    import paramiko

    where = Ctx(file=path.resolve(), shown=str(path), path="", environ={}, problems=problems)
    try:
        config = paramiko.SSHConfig.from_text(flatten(path))
    except (paramiko.SSHException, OSError, UnicodeDecodeError, ValueError) as exc:
        where.fail(f"cannot read ssh config: {exc}")
        return lambda host: {}

    @cache
    def lookup(host: str) -> dict:
        try:
            found = config.lookup(host)
        except (paramiko.SSHException, OSError) as exc:
            where.at(f"Host {host}").fail(f"cannot use ssh config: {exc}")
            return {}
        result = {}
        for key, (ours, keyword) in _SSH_KEYS.items():
            if key in found:
                ctx = where.at(f"{keyword} (for {host})")
                try:
                    result[ours] = _from_ssh(ours, found[key], ctx)
                except ValueError as exc:
                    ctx.fail(str(exc))
        return result

    return lookup


def _from_ssh(key: str, value: Any, ctx: Ctx) -> object:
    if key == "host":
        return schema.NODE_KEYS["host"](value, ctx)
    if key == "port":
        return schema.CONNECTION_KEYS["port"](int(value) if str(value).isdigit() else value, ctx)
    if key == "identity_file":
        return tuple(p for p in (Path(text).expanduser() for text in value) if p.is_file())
    if key == "hash_known_hosts":
        return str(value).lower() == "yes"
    return schema.CONNECTION_KEYS[key](value, ctx)


# -- Include ---------------------------------------------------------------------------------


def flatten(path: Path) -> str:
    """The config's text with each ``Include`` replaced by the lines of the files it names.

    As in OpenSSH: relative paths are under ~/.ssh, ``~`` and globs are
    expanded (in lexical order), a pattern matching nothing is no error, and
    an Include inside a Host or Match block applies only where that block
    does. paramiko cannot nest blocks, so a block of an included file gets the
    condition of the block around the Include added to its own (as a Match),
    and the including block is reopened after the included lines.
    """
    lines: list[str] = []
    _inline(path, None, lines, 0)
    return "\n".join(lines) + "\n"


def _inline(path: Path, outer: list[str] | None, lines: list[str], depth: int) -> bool:
    """Append `path`'s lines; `outer` is the Match condition around it (None: everywhere).

    True if a block header was appended (then the includer's block must be reopened)."""
    current = outer
    opened = False
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        match = _LINE_RE.fullmatch(line)
        if match is None or line.startswith("#"):
            lines.append(line)
            continue
        keyword = match[1].lower()
        if keyword in ("host", "match"):
            current = _condition(outer, keyword, match[2])
            lines.append(line if outer is None else _header(current))
            opened = True
        elif keyword == "include":
            if depth >= MAX_INCLUDE_DEPTH:
                raise ValueError(f"{path}:{number}: Include nested more than "
                                 f"{MAX_INCLUDE_DEPTH} deep")
            reopen = [_inline(f, current, lines, depth + 1) for f in _included_files(match[2])]
            if any(reopen):
                lines.append(_header(current))
                opened = True
        else:
            lines.append(line)
    return opened


def _condition(outer: list[str] | None, keyword: str, arguments: str) -> list[str]:
    """A block's condition as Match criteria, with the enclosing block's added (AND)."""
    words = shlex.split(arguments)
    own = ["originalhost", ",".join(words)] if keyword == "host" else words
    return [word for word in [*(outer or []), *own] if word != "all"]


def _header(condition: list[str] | None) -> str:
    return f"Match {shlex.join(condition)}" if condition else "Host *"


def _included_files(arguments: str) -> list[Path]:
    found: list[Path] = []
    for word in shlex.split(arguments):
        pattern = Path(word).expanduser()
        if not pattern.is_absolute():
            pattern = user_config().parent / pattern
        found.extend(Path(p) for p in sorted(glob.glob(str(pattern))) if Path(p).is_file())
    return found
