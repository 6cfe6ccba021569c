"""What the lab's `relayctl show summary|hosts|relays|redirects|routers` prints.

relayd's pfe sends one message per object in a fixed order (pfe.c show()):
each redirect, then, unless it is disabled, its table and that table's hosts
and its backup table and hosts; each relay and, whatever its state, its
tables and their hosts; each router, then, unless it is disabled, its routes
and its gateway table and hosts. A disabled table's hosts are not sent.
relayctl prints the messages the chosen `show` wants (relayctl.c
show_summary_msg()) under one header, in columns padded with printf's `%-4u`,
`%-8s`, `%-24s` and `%-7s` before their TABs. Session statistics are left out:
the lab's relays carry no sessions, and relayctl prints none for a relay that
has had none.

Host health is the lab's state, looked up by host name; a table or service
disabled at run time (`relayctl table disable`) is a config with that object
marked disabled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .relayd_model import RelaydConfig, RelaydTable

_SHOWS = {
    "summary": {"redirect", "table", "host", "relay", "router"},
    "hosts": {"table", "host"},
    "redirects": {"redirect"},
    "relays": {"relay"},
    "routers": {"router", "route"},
}


@dataclass(frozen=True)
class HostHealth:
    """A host's check record: `up` None until its first check (relayd's unknown).

    `passed` of `checks` checks succeeded; `error` is the last check's failure
    (`http code mismatch`), shown while the host is down; `disabled` is
    `relayctl host disable`.
    """

    up: bool | None
    checks: int = 0
    passed: int = 0
    error: str | None = None
    retries: int = 0
    disabled: bool = False


Health = Callable[[str], "HostHealth | None"]
_UNCHECKED = HostHealth(up=None)


def show_rows(config: RelaydConfig, what: str, health: Health) -> str:
    """The complete output of `relayctl show WHAT`, header included."""
    if what not in _SHOWS:
        raise ValueError(f"relayctl cannot show {what!r}")
    lines = [_row("Id", "Type", "Name", "Avlblty", "Status")]
    for kind, text, extra in _messages(config, lambda name: health(name) or _UNCHECKED):
        if kind in _SHOWS[what]:
            lines.append(text)
            if what in ("hosts", "routers"):
                lines += extra
    return "\n".join(lines) + "\n"


def _row(ident: object, kind: str, name: str, availability: str, status: str) -> str:
    return f"{ident!s:<4}\t{kind:<8}\t{name:<24}\t{availability:<7}\t{status}"


def _detail(text: str) -> str:
    return f"\t{'':8}\t{text}"


def _messages(config: RelaydConfig, health: Callable[[str], HostHealth]
              ) -> Iterator[tuple[str, str, list[str]]]:
    """(message kind, row, detail lines) in pfe's order."""
    for rdr in config.redirects:
        yield "redirect", _row(rdr.id, "redirect", rdr.name, "",
                               _redirect_status(rdr.disabled, rdr.tables, health)), []
        if not rdr.disabled:
            for table in rdr.tables:
                yield from _table(table, health)
    for relay in config.relays:
        yield "relay", _row(relay.id, "relay", relay.name, "",
                            "disabled" if relay.disabled else "active"), []
        for table in relay.tables:
            yield from _table(table, health)
    for router in config.routers:
        extra = ([_detail(f"rtable: {router.rtable}")] if router.rtable else []) + (
            [_detail(f"rtlabel: {router.rtlabel}")] if router.rtlabel else [])
        yield "router", _row(router.id, "router", router.name, "",
                             "disabled" if router.disabled else "active"), extra
        if not router.disabled:
            for route in router.routes:
                yield "route", _detail(f"route: {route}"), []
            if router.table is not None:
                yield from _table(router.table, health)


def _hosts_up(table: RelaydTable, health: Callable[[str], HostHealth]) -> int:
    if table.disabled:
        return 0
    return sum(1 for host in table.hosts
               if health(host.name).up and not health(host.name).disabled)


def _redirect_status(disabled: bool, tables: tuple[RelaydTable, ...],
                     health: Callable[[str], HostHealth]) -> str:
    if disabled:
        return "disabled"
    main = _hosts_up(tables[0], health) if tables else 0
    backup = _hosts_up(tables[1], health) if len(tables) > 1 else 0
    if main:
        return "active"
    return "active (using backup table)" if backup else "down"


def _table(table: RelaydTable, health: Callable[[str], HostHealth]
           ) -> Iterator[tuple[str, str, list[str]]]:
    up = _hosts_up(table, health)
    status = "disabled" if table.disabled else f"active ({up} hosts)" if up else "empty"
    yield "table", _row(table.id, "table", table.name, "", status), []
    if table.disabled:
        return
    for host in table.hosts:
        state = health(host.name)
        name = f"{host.name} parent {host.parent}" if host.parent else host.name
        yield "host", _row(host.id, "host", name, _availability(state),
                           _host_status(state)), _totals(state)


def _availability(state: HostHealth) -> str:
    return f"{state.passed / state.checks * 100:.2f}%" if state.checks else ""


def _host_status(state: HostHealth) -> str:
    if state.disabled:
        return "disabled"
    return {True: "up", False: "down", None: "unknown"}[state.up]


def _totals(state: HostHealth) -> list[str]:
    if not state.checks:
        return []
    text = f"total: {state.passed}/{state.checks} checks"
    if state.retries:
        text += f", {state.retries} retries"
    if state.error and state.up is False:
        text += f", error: {state.error}"
    return [_detail(text)]
