"""Settings from ~/.ssh/config for inventory nodes, checked like inventory values.

Users already describe their firewalls there (aliases, jump hosts, keys);
carpctl reads the same file so that ``host: fw1`` means what ``ssh fw1``
means. paramiko is imported only when the file exists: ``carpctl --help``
must stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from carpctl.inventory import schema
from carpctl.inventory.yaml_reader import Ctx, Problems

Lookup = Callable[[str], dict]

#: ssh_config keyword (as paramiko returns it) -> (our key, the keyword as users write it).
_SSH_KEYS = {
    "hostname": ("host", "HostName"),
    "user": ("user", "User"),
    "port": ("port", "Port"),
    "identityfile": ("identity_file", "IdentityFile"),
    "proxyjump": ("proxy_jump", "ProxyJump"),
}


def ssh_config_lookup(path: Path | None, problems: Problems) -> Lookup:
    """A function giving the settings ~/.ssh/config has for a host, checked like inventory values.

    Only HostName, User, Port, IdentityFile and ProxyJump are taken. Of
    several IdentityFile lines the first existing file is used (ssh skips
    missing ones too). Mistakes are added to ``problems``, naming the file.
    """
    path = Path("~/.ssh/config").expanduser() if path is None else path
    if not path.is_file():
        return lambda host: {}
    import paramiko

    where = Ctx(path.resolve(), str(path), "", {}, problems)
    try:
        config = paramiko.SSHConfig.from_path(str(path))
    except (paramiko.SSHException, OSError, UnicodeDecodeError) as exc:
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


def _from_ssh(key: str, value: object, ctx: Ctx) -> object:
    if key == "host":
        return schema.NODE_KEYS["host"](value, ctx)
    if key == "port":
        return schema.CONNECTION_KEYS["port"](int(value) if str(value).isdigit() else value, ctx)
    if key == "identity_file":
        existing = [p for p in (Path(text).expanduser() for text in value) if p.is_file()]
        return existing[0] if existing else None
    return schema.CONNECTION_KEYS[key](value, ctx)
