"""Reading nodes: the one way every flow learns what a node looks like.

One round trip per node (the facts' commands batched), both nodes of a pair at
once, over the session's open connections. An unreachable node is a state, not an
exception, unless the caller cannot go on without it (`strict`).
"""

from __future__ import annotations

from collections.abc import Iterable

from carpctl.errors import RemoteError
from carpctl.facts.state import STATUS, NodeState, fact_commands, parse_state, unreachable
from carpctl.inventory import Node, Pair
from carpctl.runtime.session import Session


def read_node(session: Session, node: Node, facts: Iterable[str] = STATUS,
              dests: Iterable[str] = (), *, strict: bool = False) -> NodeState:
    """`facts` (names from carpctl.facts.state.FACTS) and the sha256 of `dests`, in one round
    trip. Unreachable: an unreachable NodeState, or with `strict` the RemoteError (and the node
    is marked lost for the rest of the run)."""
    named = fact_commands(facts, dests)
    try:
        results = session.connection(node).batch(list(named.values()))
    except RemoteError as exc:
        if strict:
            session.mark_lost(node.pair, node.name)
            raise
        return unreachable(node.name, exc)
    return parse_state(node.name, dict(zip(named, results)))


def read_pair(session: Session, pair: Pair, facts: Iterable[str] = STATUS,
              dests: Iterable[str] = (), *, strict: bool = False) -> dict[str, NodeState]:
    """Both nodes at once, by node name. With `strict`, nodes already lost in this run are
    left out (waiting on them again helps no one) and a node that cannot be read raises."""
    facts, dests = tuple(facts), tuple(dests)
    nodes = [n for n in pair.nodes if not (strict and session.is_lost(n))]
    states = session.parallel(lambda node: read_node(session, node, facts, dests, strict=strict),
                              nodes, len(nodes))
    return {state.node: state for state in states}
