"""After applying new rules, CARP must still elect the MASTER it had (issue 10 §1).

A pf.conf that forgets `pass proto carp` on one carpdev does not lock anyone out:
SSH still gets in, the files verify, and yet the BACKUP stops hearing that vhid's
advertisements (or the MASTER's are dropped on the way out). After master-down,
3 x advbase + advskew/256 (openbsd-reference.md §2.1), the BACKUP becomes MASTER
too. So the deploy watches both nodes for 3 x the slowest advertisement interval
of the pair, counted from the apply, and fails (the caller restores, as after a
lockout) the moment a vhid has no single MASTER or another one than before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from carpctl.core.carp import masters, seconds, vhid_table
from carpctl.errors import FailedError
from carpctl.facts.state import CARP, NodeState
from carpctl.inventory import Pair
from carpctl.runtime.read import read_pair
from carpctl.runtime.session import Session

POLL = 1.0
MARGIN = 0.5   # a poll's own round trip, so the last read sees the window's end


@dataclass(frozen=True)
class Expected:
    """What the deploy must still see after each node's apply, and for how long."""

    masters: dict[int, str]
    length: float


def expect(states: list[NodeState], length: float | None = None) -> Expected:
    """`length` None: the pair's own window; 0 watches nothing."""
    return Expected(expected_masters(states) if length != 0 else {},
                    window(states) if length is None else length)


def can_change_carp(kinds: set[str]) -> bool:
    """pf rules filter advertisements; an `other` file may be a hostname.carpN. relayd
    cannot touch CARP: a relayd.conf alone needs no window."""
    return bool(kinds & {"pf", "other"})


def expected_masters(states: list[NodeState]) -> dict[int, str]:
    """vhid -> its only MASTER; vhids without exactly one are not the deploy's to judge."""
    return {vhid: nodes[0] for vhid, nodes in masters(vhid_table(states)).items()
            if len(nodes) == 1}


def window(states: list[NodeState]) -> float:
    """3 x the slowest advertisement interval of the pair: long enough for a BACKUP that
    no longer hears its MASTER to declare it down and take over."""
    slowest = max((seconds(c.advbase, c.advskew or 0) for s in states for c in s.carp
                   if c.vhid is not None and c.advbase is not None), default=1.0)
    return 3 * slowest + MARGIN


def broken(expected: dict[int, str], states: list[NodeState]) -> list[str]:
    """Each vhid whose election changed, as a sentence naming what each node says."""
    table = vhid_table(states)
    problems = []
    for vhid, master in expected.items():
        seen = table.get(vhid, {})
        now = [node for node, state in seen.items() if state == "MASTER"]
        if now != [master]:
            shown = ", ".join(f"{node} {state}" for node, state in sorted(seen.items()))
            what = "split brain" if len(now) > 1 else "no MASTER" if not now else \
                f"MASTER moved to {now[0]}"
            problems.append(f"vhid {vhid}: {what} ({shown or 'not seen'}; {master} was the "
                            f"only MASTER before)")
    return problems


def watch(session: Session, pair: Pair, expected: dict[int, str], since: float,
          length: float) -> None:
    """Poll both nodes until `since + length`; FailedError naming the broken vhids."""
    until = since + length
    while True:
        states = list(read_pair(session, pair, CARP, strict=True).values())
        problems = broken(expected, states)
        if problems:
            raise FailedError(f"CARP changed after applying: {'; '.join(problems)}",
                              hint="the new rules probably block `proto carp` on a carpdev")
        if time.monotonic() >= until:
            session.step("carp", "ok", pair=pair.name, seconds=round(length, 2))
            return
        time.sleep(min(POLL, max(0.0, until - time.monotonic())))
