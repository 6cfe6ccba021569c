"""Checks for values that end up in remote commands or on a firewall.

Every value carpctl puts into a command line on a node (a host, a user, a
destination path, an interface name, a vhid) passes one of these checks first,
and is still quoted when the command is built: the check catches mistakes
early, with a message naming the culprit, and quoting is the second wall.

Each ``check_*`` returns None or raises ValueError whose text is a short
predicate about the value ("contains ';', which is shell syntax"), so callers
can prefix it with the value and where it came from. The module is pure: no
I/O, no imports beyond the standard library.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

#: Characters that mean something to sh/ksh in an unquoted word. Nothing
#: carpctl sends needs them in a host, user, path or interface name.
SHELL_SYNTAX = frozenset(" \t\n\r\v\f;&|<>()$`\\\"'*?[]{}~#!^")

_CHAR_NAMES = {
    " ": "a space",
    "\t": "a tab",
    "\n": "a newline",
    "\r": "a carriage return",
    "\v": "a vertical tab",
    "\f": "a form feed",
}

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_NUMERIC_RE = re.compile(r"[0-9.]+")
# OpenBSD interface names: a driver name and a unit number, shorter than IFNAMSIZ (16).
_IFNAME_RE = re.compile(r"[a-z]+(?:0|[1-9][0-9]*)")
_IFNAMSIZ = 16
# POSIX portable user names; OpenBSD allows at most 31 characters (_PW_NAME_LEN).
_USER_RE = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]{0,30}")
# Pair and node names end up in file names on the nodes (locks, backups).
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_PATH_MAX = 1024


def describe_char(ch: str) -> str:
    """Name a character so that a message about it is readable (spaces, newlines)."""
    if ch in _CHAR_NAMES:
        return _CHAR_NAMES[ch]
    if ord(ch) < 32 or ord(ch) == 127:
        return f"a control character (0x{ord(ch):02x})"
    return repr(ch)


def check_no_shell_syntax(value: str) -> None:
    """Refuse any character the shell would interpret, naming the first one found."""
    for ch in value:
        if ch in SHELL_SYNTAX:
            raise ValueError(f"contains {describe_char(ch)}, which is shell syntax")
        if ord(ch) < 32 or ord(ch) == 127:
            raise ValueError(f"contains {describe_char(ch)}")


def _check_word(value: object) -> str:
    """Common start of the string checks: a non-empty string without shell syntax."""
    if not isinstance(value, str):
        raise ValueError("is not a string")
    if not value:
        raise ValueError("is empty")
    check_no_shell_syntax(value)
    return value


def check_host(value: str) -> None:
    """A hostname (or ~/.ssh/config alias) or an IPv4/IPv6 address.

    Underscores are accepted in labels because ssh config aliases often use
    them; a leading '-' never is, so a host can not become an ssh option.
    """
    _check_word(value)
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    if ":" in value:
        raise ValueError("is not a valid IPv6 address")
    if _NUMERIC_RE.fullmatch(value):
        raise ValueError("looks like an IPv4 address but is not one")
    if len(value.rstrip(".")) > 253 or not _HOSTNAME_RE.fullmatch(value):
        raise ValueError(
            "is not a hostname or IP address (labels of letters, digits, '-' and '_', "
            "not starting or ending with '-')"
        )


def check_ifname(value: str) -> None:
    """An OpenBSD interface name such as em0, carp1 or vlan100."""
    _check_word(value)
    if len(value) >= _IFNAMSIZ or not _IFNAME_RE.fullmatch(value):
        raise ValueError(
            "is not an OpenBSD interface name (a lower-case driver name and a unit "
            "number, like em0, carp1 or vlan100)"
        )


def check_remote_path(value: str) -> None:
    """An absolute, normalised path on a node: no '//', '.', '..' or trailing '/'.

    Clean paths matter because carpctl derives backup and temporary names from
    them and compares them across runs; '/etc//pf.conf' would be a second file.
    """
    _check_word(value)
    if not value.isascii():
        raise ValueError("contains a non-ASCII character")
    if not value.startswith("/"):
        raise ValueError("is not absolute (it must start with '/')")
    if len(value) >= _PATH_MAX:
        raise ValueError(f"is longer than {_PATH_MAX - 1} characters")
    if value == "/":
        raise ValueError("is the root directory, not a file")
    parts = value.split("/")[1:]
    if any(part in ("", ".", "..") for part in parts):
        clean = "/" + "/".join(p for p in parts if p not in ("", "."))
        raise ValueError(f"is not a clean path (no '//', '.', '..' or final '/'; e.g. {clean!r})")


def check_user(value: str) -> None:
    """A POSIX portable user (or group) name as OpenBSD accepts it."""
    _check_word(value)
    if not _USER_RE.fullmatch(value):
        raise ValueError(
            "is not a valid user name (letters, digits, '.', '_' and '-', not starting "
            "with '-', at most 31 characters)"
        )


def check_name(value: str) -> None:
    """A pair or node name: it becomes part of file names on the nodes."""
    _check_word(value)
    if not _NAME_RE.fullmatch(value):
        raise ValueError(
            "is not a valid name (letters, digits, '.', '_' and '-', starting with a "
            "letter or digit, at most 63 characters)"
        )


def check_int_range(value: object, low: int, high: int) -> None:
    """An integer (not a bool, which Python counts as one) within bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer from {low} to {high}")
    if not low <= value <= high:
        raise ValueError(f"is out of range (must be from {low} to {high})")


#: what rc and pfsync hold while /etc/rc.local runs at boot (openbsd-reference.md 2.5, 10.4)
BOOT_DEMOTION = 128
PFSYNC_BULK_DEMOTION = 32
DEMOTE_MAX = 255


def check_boot_demotion(value: object) -> None:
    """A maintenance/failover demotion N that rc.local can still apply at boot.

    rc.local runs while rc's 128 and pfsync's bulk-update 32 are held; the kernel
    refuses a counter above 255, so a bigger N is refused there and the node would
    boot undemoted (out of maintenance without anyone noticing).
    """
    high = DEMOTE_MAX - BOOT_DEMOTION - PFSYNC_BULK_DEMOTION
    check_int_range(value, 1, 128)
    assert isinstance(value, int)   # check_int_range refused anything else
    if value > high:
        raise ValueError(f"is too large: at boot 128 (rc) + 32 (pfsync bulk update) + N must "
                         f"stay <= 255, or the kernel refuses the carpdemote in /etc/rc.local "
                         f"and the node boots undemoted; use 1 to {high}")


def check_port(value: int) -> None:
    """A TCP port number."""
    check_int_range(value, 1, 65535)


def check_vhid(value: int) -> None:
    """A CARP virtual host id, as ``ifconfig carpN vhid`` accepts it."""
    check_int_range(value, 1, 255)


def check_advskew(value: int) -> None:
    """A CARP advskew or advbase: ifconfig refuses 255 ('too large')."""
    check_int_range(value, 0, 254)


@dataclass(frozen=True)
class JumpHost:
    """One hop of an ssh ProxyJump list."""

    host: str
    user: str | None = None
    port: int | None = None


_JUMP_RE = re.compile(
    r"(?:(?P<user>[^@]+)@)?"  # user@
    r"(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:]+))"  # [IPv6] or host
    r"(?::(?P<port>[^:]+))?"  # :port
)


def parse_proxy_jump(value: str) -> tuple[JumpHost, ...]:
    """Parse ``[user@]host[:port][,...]`` (IPv6 in brackets), checking every part.

    Returns an empty tuple for ``none``, which in ssh_config disables jumping.
    The brackets around an IPv6 address are the only shell syntax allowed: each
    user and host inside is checked on its own.
    """
    if not isinstance(value, str):
        raise ValueError("is not a string")
    if not value:
        raise ValueError("is empty")
    if value.lower() == "none":
        return ()
    hops = []
    for hop in value.split(","):
        text = hop.removeprefix("ssh://")
        match = _JUMP_RE.fullmatch(text)
        if not match:
            raise ValueError(f"has a hop {hop!r} that is not [user@]host[:port]")
        host = match["v6"] or match["host"]
        for check, part in ((check_user, match["user"]), (check_host, host)):
            if part is not None:
                try:
                    check(part)
                except ValueError as exc:
                    raise ValueError(f"has a hop {hop!r} whose {part!r} {exc}") from None
        port = None
        if match["port"] is not None:
            if not match["port"].isdigit() or not 1 <= int(match["port"]) <= 65535:
                raise ValueError(f"has a hop {hop!r} with a port that is not 1-65535")
            port = int(match["port"])
        hops.append(JumpHost(host=host, user=match["user"], port=port))
    return tuple(hops)
