"""What the lab's relayd loaded from relayd.conf: tables, redirects, relays, routers.

The shapes follow relayd after it has read its file, not the file itself: a
`table <webhosts>` block is only a template, and each `forward to <webhosts>
port 80` makes a table of its own, `webhosts:80`, with its own copies of the
hosts. IDs are relayd's: one counter each for redirects, relays, tables,
hosts and routers, counted in file order from 1 (templates and their hosts
get none), so `relayctl` can show them as a real relayd would.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RelaydHost:
    """A host of a table; `parent` is the ID of the host whose checks it follows."""

    id: int
    name: str
    retry: int = 0
    parent: int = 0
    priority: int = 0
    ttl: int = 0


@dataclass(frozen=True)
class RelaydTable:
    """A table a service forwards to: `name` is `TEMPLATE:PORT`, as relayctl shows it.

    `check` is none, icmp, tcp, tls, http, https, send-expect,
    binary-send-expect or script; `check_spec` is the check as written.
    """

    id: int
    name: str
    template: str
    port: int
    hosts: tuple[RelaydHost, ...] = ()
    check: str = "none"
    check_spec: str = ""
    mode: str = "roundrobin"
    timeout_ms: int = 200
    disabled: bool = False


@dataclass(frozen=True)
class Listener:
    """`listen on ADDRESS port PORT`, with the redirect/relay options that apply."""

    address: str
    port: int
    tls: bool = False
    interface: str | None = None
    protocol: str = "tcp"


@dataclass(frozen=True)
class Redirect:
    """A redirection: pf rdr-to rules relayd keeps in anchor `relayd/NAME`.

    `tables` holds the table and, when configured, the backup table.
    """

    id: int
    name: str
    listeners: tuple[Listener, ...] = ()
    tables: tuple[RelaydTable, ...] = ()
    mode: str = "roundrobin"
    disabled: bool = False
    sticky: bool = False
    tag: str | None = None
    session_timeout: int = 600


@dataclass(frozen=True)
class Relay:
    """A layer-7 relay; each extra `listen on` becomes a relay of its own.

    `tables` are forward tables in order (later ones are backups); `target` is
    a forward address (`ADDR:PORT`), `nat lookup` or `destination` instead.
    """

    id: int
    name: str
    listener: Listener | None = None
    tables: tuple[RelaydTable, ...] = ()
    target: str | None = None
    protocol: str | None = None
    disabled: bool = False
    session_timeout: int = 600


@dataclass(frozen=True)
class Router:
    """A router: routes relayd installs via the gateways of its table."""

    id: int
    name: str
    routes: tuple[str, ...] = ()
    table: RelaydTable | None = None
    rtable: int = 0
    rtlabel: str | None = None
    disabled: bool = False


@dataclass(frozen=True)
class RelaydConfig:
    """A relayd.conf relayd accepted. Tables no service uses are not kept."""

    interval: int = 10
    timeout_ms: int = 200
    prefork: int = 3
    log: tuple[str, ...] = ()
    tables: tuple[RelaydTable, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    relays: tuple[Relay, ...] = ()
    routers: tuple[Router, ...] = ()
    protocols: tuple[str, ...] = field(default=())

    def table(self, name: str) -> RelaydTable | None:
        """The first table called `name` (`webhosts:80`), as relayctl finds it."""
        return next((t for t in self.tables if t.name == name), None)
