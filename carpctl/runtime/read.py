"""Reading nodes: the one way every flow learns what a node looks like.

One round trip per node (the facts' commands batched), both nodes of a pair at
once, over the session's open connections. An unreachable node is a state, not an
exception, unless the caller cannot go on without it (`strict`).

A change can travel in the same round trip as a read (`exchange`): the commands
sent along run first (or last), so the read shows the node just after the change
(or the change happens right after the read, as the unlock does). Every round trip
saved is a node's latency off the failover.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from carpctl.errors import RemoteError
from carpctl.facts.state import STATUS, NodeState, fact_commands, parse_state, unreachable
from carpctl.inventory import Node, Pair
from carpctl.remote.batch import Result
from carpctl.remote.commands import Command
from carpctl.runtime.session import Session

_NONE: Mapping[str, Sequence[Command]] = {}


@dataclass(frozen=True)
class Exchange:
    """Both nodes' states, and the results of the commands sent along, by node name."""

    states: dict[str, NodeState]
    before: dict[str, list[Result]]
    after: dict[str, list[Result]]


def _exchange_node(session: Session, node: Node, facts: tuple[str, ...], dests: tuple[str, ...],
                   before: Sequence[Command], after: Sequence[Command],
                   strict: bool) -> tuple[NodeState, list[Result], list[Result]]:
    named = fact_commands(facts, dests)
    try:
        results = session.connection(node).batch([*before, *named.values(), *after])
    except RemoteError as exc:
        if strict:
            session.mark_lost(node.pair, node.name)
            raise
        return unreachable(node.name, exc), [], []
    reads = results[len(before):len(before) + len(named)]
    state = parse_state(node.name, dict(zip(named, reads))) if named else NodeState(node=node.name,
                                                                                    reachable=True)
    return (state, results[:len(before)],
            results[len(before) + len(named):])


def read_node(session: Session, node: Node, facts: Iterable[str] = STATUS,
              dests: Iterable[str] = (), *, strict: bool = False) -> NodeState:
    """`facts` (names from carpctl.facts.state.FACTS) and the sha256 of `dests`, in one round
    trip. Unreachable: an unreachable NodeState, or with `strict` the RemoteError (and the node
    is marked lost for the rest of the run)."""
    return _exchange_node(session, node, tuple(facts), tuple(dests), (), (), strict)[0]


def exchange(session: Session, pair: Pair, facts: Iterable[str] = STATUS, *,
             before: Mapping[str, Sequence[Command]] = _NONE,
             after: Mapping[str, Sequence[Command]] = _NONE,
             strict: bool = False) -> Exchange:
    """read_pair, with commands sent along per node name: `before` runs ahead of the reads in
    the same exec, `after` behind them. With `strict`, lost nodes are left out, as in read_pair."""
    facts = tuple(facts)
    nodes = [n for n in pair.nodes if not (strict and session.is_lost(n))]
    done = session.parallel(
        lambda node: _exchange_node(session, node, facts, (), before.get(node.name, ()),
                                    after.get(node.name, ()), strict), nodes, len(nodes))
    return Exchange({s.node: s for s, _, _ in done},
                    {s.node: b for s, b, _ in done}, {s.node: a for s, _, a in done})


def read_pair(session: Session, pair: Pair, facts: Iterable[str] = STATUS,
              dests: Iterable[str] = (), *, strict: bool = False) -> dict[str, NodeState]:
    """Both nodes at once, by node name. With `strict`, nodes already lost in this run are
    left out (waiting on them again helps no one) and a node that cannot be read raises."""
    facts, dests = tuple(facts), tuple(dests)
    nodes = [n for n in pair.nodes if not (strict and session.is_lost(n))]
    states = session.parallel(
        lambda node: _exchange_node(session, node, facts, dests, (), (), strict)[0],
        nodes, len(nodes))
    return {state.node: state for state in states}
