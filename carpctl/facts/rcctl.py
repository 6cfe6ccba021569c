"""Service configuration and state from rcctl (usr.sbin/rcctl/rcctl.sh, etc/rc.d/rc.subr).

The exit status is part of rcctl's answer: `rcctl get NAME` exits 1 for a
disabled daemon, `rcctl check NAME` exits 1 when it is not running, and an
unknown service exits 2. So these parsers take the exit status with the text
and refuse combinations rcctl never produces.

`rcctl get NAME` prints `NAME_VAR=VALUE` lines: seven in current releases
(class, execdir, flags, logger, rtable, timeout, user), five in older ones
(no execdir, logger; both forms confirmed in rcctl.sh history). Variables a
later release adds are ignored. Special services (pf, ipsec, ...) print one
`NAME=YES|NO` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carpctl.facts._text import content_lines, fail, single_line, to_int

_WHAT_GET = "rcctl get"
_WHAT_CHECK = "rcctl check"

_SERVICE = r"[_A-Za-z][_A-Za-z0-9]*"  # rc.subr's _rc_check_name
_FLAGS_LINE = re.compile(rf"(?P<name>{_SERVICE}?)_flags=(?P<value>.*)")
_VARIABLE = re.compile(r"[a-z]+")
_SPECIAL_LINE = re.compile(rf"(?P<name>{_SERVICE})=(?P<value>.*)")
_CHECK = re.compile(rf"(?P<name>{_SERVICE})\((?P<result>ok|failed)\)")
_NO_SUCH = re.compile(rf"rcctl: service (?P<name>{_SERVICE}) does not exist")
_NEEDS_ROOT = re.compile(r"/etc/rc\.d/\S+: need root privileges")


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    """How rc starts a service at boot.

    `flags` is None when the service is disabled (rcctl prints `NO`) and for
    special services (`pf=YES` is a switch, not flags), else the flags it
    starts with (possibly ""). The remaining variables are None when rcctl did
    not print them (special services, older releases) or printed an empty value.
    """

    name: str
    enabled: bool
    flags: str | None
    login_class: str | None = None
    execdir: str | None = None
    logger: str | None = None
    rtable: int | None = None
    timeout: int | None = None
    user: str | None = None
    special: bool = False


def parse_rcctl_get(text: str, exit_status: int) -> ServiceConfig:
    """`rcctl get NAME` output and exit status as ServiceConfig."""
    lines = content_lines(text, _WHAT_GET)
    if _missing_service(lines, exit_status):
        fail(_WHAT_GET, lines[0], "the service does not exist")
    if exit_status not in (0, 1):
        fail(_WHAT_GET, None, f"unexpected exit status {exit_status}")
    flags_lines = [m for m in map(_FLAGS_LINE.fullmatch, lines) if m]
    config = _daemon(lines, flags_lines) if flags_lines else _special(lines)
    if config.enabled != (exit_status == 0):
        fail(_WHAT_GET, None, f"exit status {exit_status} contradicts the flags printed")
    return config


def parse_rcctl_check(text: str, exit_status: int) -> bool | None:
    """Whether `rcctl check NAME` found the daemon running.

    None when rcctl could not tell: the service does not exist, or its rc.d
    script insists on root for `check`.
    """
    lines = content_lines(text, _WHAT_CHECK)
    if _missing_service(lines, exit_status) or (
        exit_status == 1 and len(lines) == 1 and _NEEDS_ROOT.fullmatch(lines[0].strip())
    ):
        return None
    match = _CHECK.fullmatch(single_line(text, _WHAT_CHECK).strip())
    if not match:
        fail(_WHAT_CHECK, lines[0], "expected 'NAME(ok)' or 'NAME(failed)'")
    running = match["result"] == "ok"
    if exit_status != (0 if running else 1):
        fail(_WHAT_CHECK, lines[0], f"exit status {exit_status} contradicts the result")
    return running


def _missing_service(lines: list[str], exit_status: int) -> bool:
    return exit_status == 2 and len(lines) == 1 and bool(_NO_SUCH.fullmatch(lines[0].strip()))


def _daemon(lines: list[str], flags_lines: list[re.Match[str]]) -> ServiceConfig:
    """The NAME_VAR=VALUE form; NAME comes from the flags line."""
    if len(flags_lines) > 1:
        fail(_WHAT_GET, flags_lines[1].string, "second flags line")
    name = flags_lines[0]["name"]
    values: dict[str, str] = {}
    for line in lines:
        var, sep, value = line.removeprefix(name + "_").partition("=")
        if not line.startswith(name + "_") or not sep or not _VARIABLE.fullmatch(var):
            fail(_WHAT_GET, line, f"expected '{name}_VARIABLE=VALUE'")
        if var in values:
            fail(_WHAT_GET, line, f"{name}_{var} is listed twice")
        values[var] = value
    flags = values["flags"]
    return ServiceConfig(
        name=name,
        enabled=flags != "NO",
        flags=None if flags == "NO" else flags,
        login_class=values.get("class") or None,
        execdir=values.get("execdir") or None,
        logger=values.get("logger") or None,
        rtable=_optional_int(values, name, "rtable"),
        timeout=_optional_int(values, name, "timeout"),
        user=values.get("user") or None,
    )


def _special(lines: list[str]) -> ServiceConfig:
    """The one-line `pf=YES` form of rcctl's special services."""
    if len(lines) != 1:
        fail(_WHAT_GET, None, "expected NAME_flags=... lines or one special NAME=VALUE line")
    match = _SPECIAL_LINE.fullmatch(lines[0])
    if not match:
        fail(_WHAT_GET, lines[0], "expected 'NAME=VALUE'")
    return ServiceConfig(name=match["name"], enabled=match["value"] != "NO", flags=None,
                         special=True)


def _optional_int(values: dict[str, str], name: str, var: str) -> int | None:
    if not values.get(var):
        return None
    return to_int(values[var], _WHAT_GET, f"{name}_{var}={values[var]}")
