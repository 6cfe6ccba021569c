"""Which release each node runs, against its peer and the inventory's `release:` pin.

Two nodes on different releases still serve (CARP and pfsync do not change between
releases), so a mix is a warning: expected while an upgrade window has one node in
maintenance (the warning says since when), a leftover otherwise. A node that is not on
the release the inventory pins is a finding: the pair is not what its owner declared.
"""

from __future__ import annotations

import time

from carpctl.core.carp import Finding
from carpctl.facts.state import NodeState


def _name(state: NodeState) -> str | None:
    return state.kern_version.name if state.kern_version else state.release


def _since(marker: str | None) -> float | None:
    fields = dict(w.partition("=")[::2] for w in (marker or "").split())
    try:
        return float(fields["since"])
    except (KeyError, ValueError):
        return None


def release_findings(states: list[NodeState], pinned: str | None) -> list[Finding]:
    if pinned is None:
        return []
    return [Finding("release-pin", f"{s.node} runs {s.release}, the inventory pins release "
                    f"{pinned}: upgrade it (carpctl run upgrade) or change the pin", s.node)
            for s in states if s.reachable and s.release is not None and s.release != pinned]


def release_warnings(states: list[NodeState], now: float | None = None) -> list[Finding]:
    known = [(s, _name(s)) for s in states if s.reachable and _name(s)]
    if len(known) != 2 or known[0][1] == known[1][1]:
        return []
    (a, ra), (b, rb) = known
    mix = f"{a.node} runs {ra}, {b.node} runs {rb}"
    windows = [(s.node, _since(s.maintenance)) for s in (a, b) if s.maintenance]
    if windows:
        node, since = windows[0]
        age = f" for {((now or time.time()) - since) / 60:.0f} min" if since else ""
        return [Finding("mixed-release", f"{mix}: an upgrade window is under way ({node} in "
                        f"maintenance{age}); CARP and pfsync still agree across releases")]
    older = a if (a.release or "") < (b.release or "") else b
    return [Finding("mixed-release", f"{mix}, outside a maintenance window: upgrade "
                    f"{older.node} (carpctl run upgrade)")]
