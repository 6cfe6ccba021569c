"""`carpctl status`: read every node of the chosen pairs (in parallel) and judge each pair."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from carpctl.core.carp import Finding, PairVerdict, assess
from carpctl.core.releases import release_findings, release_warnings
from carpctl.errors import UsageError
from carpctl.facts.state import NodeState
from carpctl.inventory import Pair
from carpctl.runtime.read import read_node
from carpctl.runtime.session import Session


@dataclass(frozen=True)
class PairStatus:
    pair: str
    nodes: tuple[NodeState, ...]
    verdict: PairVerdict


def expected_hashes(pair: Pair) -> tuple[dict[str, dict[str, str]], list[Finding]]:
    """sha256 of what the inventory would deploy on each node (drift detection)."""
    from carpctl.render.templates import render_files

    expected: dict[str, dict[str, str]] = {}
    problems: list[Finding] = []
    for node in pair.nodes:
        try:
            files = render_files(pair, node)
        except UsageError as exc:
            problems.append(Finding("drift", f"cannot render the inventory's files: {exc}",
                                    node.name))
            continue
        expected[node.name] = {f.dest: hashlib.sha256(f.text.encode()).hexdigest() for f in files}
    return expected, problems


def status(session: Session, pairs: list[Pair], *, parallel: int = 16) -> list[PairStatus]:
    """Every node of every pair in one round trip each, `parallel` at a time."""
    jobs = [(pair, node.name) for pair in pairs for node in pair.nodes]
    states = session.parallel(
        lambda job: read_node(session, job[0].node(job[1]), dests=[f.dest for f in job[0].files]),
        jobs, parallel)
    by_pair: dict[str, list[NodeState]] = {}
    for (pair, _), state in zip(jobs, states):
        by_pair.setdefault(pair.name, []).append(state)
    results = []
    for pair in pairs:
        expected, problems = expected_hashes(pair) if pair.files else ({}, [])
        verdict = assess(pair.name, by_pair[pair.name], expected, pfsync=pair.pfsync)
        states = by_pair[pair.name]
        problems += release_findings(states, pair.release)
        verdict = replace(verdict, findings=verdict.findings + tuple(problems),
                          warnings=verdict.warnings + tuple(release_warnings(states)))
        results.append(PairStatus(pair.name, tuple(by_pair[pair.name]), verdict))
    return results
