"""carpctl for Fabric users: inventory nodes as fabric Connections, read with carpctl's facts.

    from carpctl.fabric import connect, node_state, session
    from carpctl import api

    c = connect("pair1/fw1", "lab/inventory.yml")   # strict host keys, jump chain
    c.run("uptime")
    print(node_state(c).demote)                     # any Connection: carpctl's parsers

    with session([c, connect("pair1/fw2", "lab/inventory.yml")], confirm=True) as s:
        api.failover(s, "pair1", to="peer")         # over the Connections you opened

A Connection made by hand with fabric.Connection accepts unknown host keys (Fabric's
default AutoAddPolicy); `connect` verifies them against known_hosts like carpctl does.
Every function here takes the Connection first (patchwork's style).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from carpctl.facts.state import STATUS, NodeState, fact_commands, parse_state
from carpctl.inventory import Inventory, Node, load_inventory
from carpctl.remote.batch import batch_script, new_nonce, results
from carpctl.remote.connection import NodeConnection
from carpctl.runtime.session import Confirm, Session

if TYPE_CHECKING:
    from fabric import Connection

__all__ = ["connect", "node_state", "session"]


def _inventory(inventory: str | Path | Inventory | None) -> Inventory:
    return inventory if isinstance(inventory, Inventory) else load_inventory(inventory)


def _node(inventory: Inventory, name: str | Node) -> Node:
    """A node by `PAIR/NODE`, or `NODE` when the name is unique in the inventory."""
    if isinstance(name, Node):
        return name
    pair, _, node = name.rpartition("/")
    if pair:
        return inventory.pair(pair).node(node)
    return inventory.pair(None).node(node)


def connect(node: str | Node, inventory: str | Path | Inventory | None = None, *,
            accept_new_host_keys: bool = False) -> Connection:
    """An open fabric Connection to an inventory node, set up as carpctl connects: host
    keys checked against known_hosts (unknown ones refused unless accept_new_host_keys,
    a changed one always), its key files and agent, its jump hosts. `c.carpctl_node` is
    the inventory Node (node_state uses its doas setting), `c.carpctl_inventory` the
    inventory (session() uses it)."""
    loaded = _inventory(inventory)
    target = _node(loaded, node)
    conn = NodeConnection(target, accept_new_host_keys=accept_new_host_keys).fabric_connection()
    # plain attributes: a Connection turns attribute sets into config keys, and the config
    # object is shared by every connection carpctl opens
    object.__setattr__(conn, "carpctl_node", target)
    object.__setattr__(conn, "carpctl_inventory", loaded)
    return conn


def node_state(c: Connection, *, become: str | None = None, facts: Iterable[str] = STATUS,
               dests: Iterable[str] = ()) -> NodeState:
    """Read a node through any fabric Connection, in one round trip: CARP, demotion, pf,
    relayd, maintenance... (carpctl.facts.state.FACTS). `become`: `doas` to read the facts
    that need root as an unprivileged user (default: the inventory node's setting)."""
    node = getattr(c, "carpctl_node", None)
    become = become or (node.become if node is not None else "none")
    named = fact_commands(facts, dests)
    commands = list(named.values())
    nonce = new_nonce()
    shown = c.run(batch_script(commands, become, nonce), hide=True, warn=True, in_stream=False)
    name = node.name if node is not None else c.host
    read = results(name, commands, become, nonce, shown.stdout, shown.stderr, 0.0)
    return parse_state(name, dict(zip(named, read)))


@contextmanager
def session(connections: Iterable[Connection], inventory: str | Path | Inventory | None = None,
            *, confirm: bool | Confirm = False, **options) -> Iterator[Session]:
    """An api session whose nodes run over `connections` (made by connect(), or your own:
    matched to an inventory node by host and port). Nodes without one are dialled as
    usual. `options` are carpctl.api.open_session's."""
    from carpctl import api

    given = list(connections)
    loaded = _inventory(inventory if inventory is not None else _inventory_of(given))
    with api.open_session(loaded, confirm=confirm, **options) as opened:
        for conn in given:
            opened.connection(_owner(loaded, conn)).adopt(conn)
        yield opened


def _inventory_of(connections: list[Connection]) -> Inventory | None:
    """The inventory the first connect()ed node came from (None: the default one)."""
    return next((c.carpctl_inventory for c in connections if hasattr(c, "carpctl_inventory")),
                None)


def _owner(inventory: Inventory, conn: Connection) -> Node:
    node = getattr(conn, "carpctl_node", None)
    if node is not None:
        return inventory.pair(node.pair).node(node.name)
    for pair in inventory.pairs.values():
        for candidate in pair.nodes:
            if (candidate.host, candidate.port) == (conn.host, conn.port):
                return candidate
    from carpctl.errors import UsageError

    raise UsageError(f"no node of the inventory is {conn.host}:{conn.port}")
