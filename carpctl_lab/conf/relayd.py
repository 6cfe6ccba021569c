"""The lab's relayd.conf checker: what `relayd -n` accepts and what relayd loads.

parse_relayd() follows OpenBSD relayd's parse.y (7.x): its grammar, its
`FILE:LINE: MESSAGE` errors (every broken line, with yacc's recovery), then
the whole-file checks relayd makes after reading (`no actions, nothing to do`,
`global timeout exceeds interval`, parent hosts, table timeouts), printed
without a position. relayd reads the file in two passes and stops after the
first if it found errors; RelaydSyntaxError.first_pass says which pass failed,
because only the first runs before relayd's root check.

`include` files are read through the caller's reader (none: they do not
exist). Host names are accepted without a resolver; TLS keypairs are not
loaded.
"""

from __future__ import annotations

from collections.abc import Callable

from .lexer import Lexer
from .relayd_grammar import RELAYD_KEYWORDS
from .relayd_model import (
    Listener,
    Redirect,
    Relay,
    RelaydConfig,
    RelaydHost,
    RelaydTable,
    Router,
)
from .relayd_services import RelaydFile, unused_tables


class RelaydSyntaxError(Exception):
    """relayd refused the file; `errors` are its stderr lines, in order."""

    def __init__(self, errors: list[str], *, first_pass: bool = False):
        super().__init__("\n".join(errors))
        self.errors = list(errors)
        self.first_pass = first_pass


def parse_relayd(text: str, filename: str,
                 read_include: Callable[[str], str] | None = None) -> RelaydConfig:
    """Parse `text` (named `filename` in messages) as `relayd -n -f` would.

    `read_include(path)` returns another file's text or raises OSError.
    """
    first = _read(text, filename, read_include, first_pass=True)
    if first.lex.errors:
        raise RelaydSyntaxError(first.lex.errors, first_pass=True)
    parser = _read(text, filename, read_include, first_pass=False)
    errors = parser.lex.errors + _whole_file_errors(parser)
    if errors:
        raise RelaydSyntaxError(errors)
    return RelaydConfig(
        interval=parser.interval, timeout_ms=parser.timeout_ms, prefork=parser.prefork,
        log=tuple(parser.log), tables=tuple(parser.tables),
        redirects=tuple(parser.redirects), relays=tuple(parser.relays),
        routers=tuple(parser.routers), protocols=tuple(parser.protocols))


def _read(text: str, filename: str, read_include: Callable[[str], str] | None, *,
          first_pass: bool) -> RelaydFile:
    lexer = Lexer(text, filename, keywords=RELAYD_KEYWORDS, operators=False,
                  read_file=read_include, warn_prefix="")
    parser = RelaydFile(lexer, first_pass=first_pass)
    parser.parse_file(parser.statement)
    return parser


def _whole_file_errors(parser: RelaydFile) -> list[str]:
    """load_config()'s checks after the grammar, in its order."""
    errors = []
    if not (parser.redirects or parser.relays or parser.routers):
        errors.append("no actions, nothing to do")
    interval_ms = parser.interval * 1000
    if parser.timeout_ms >= interval_ms:
        errors.append("global timeout exceeds interval")
    hosts = {host.id: host for table in parser.tables for host in table.hosts}
    unused = {table.id for table in unused_tables(parser)}
    for table in parser.tables:
        for host in table.hosts:
            parent = hosts.get(host.parent)
            if host.parent and (parent is None or parent.id == host.id or parent.parent):
                errors.append(f"host parent id {host.parent} invalid")
        if table.id in unused:
            errors.append(f"unused table: {table.name}")
        if table.timeout_ms >= interval_ms:
            errors.append(f"table timeout exceeds interval: {table.name}")
    return errors


__all__ = [
    "Listener", "Redirect", "RelaydConfig", "RelaydHost", "RelaydSyntaxError",
    "RelaydTable", "Relay", "Router", "parse_relayd",
]
