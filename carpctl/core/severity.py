"""How bad a finding is, in the four states every monitoring system understands.

The Monitoring Plugins guidelines (Nagios, Icinga, Sensu, Zabbix agents) give
OK 0, WARNING 1, CRITICAL 2, UNKNOWN 3. The table below is the one documented
in docs/monitoring.md; a finding code not in it (a check added later) is a
WARNING, so a new check can never make a broken pair look fine, nor page
someone before its severity was decided.

CRITICAL means the service is down or the next failure will take it down;
WARNING means it serves as it should but something needs a person's look.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum

from carpctl.core.carp import Finding, PairVerdict
from carpctl.facts.state import NodeState


class Severity(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def rank(self) -> int:
        """Worst-of order: a known outage outranks not knowing, which outranks a warning."""
        return _RANK[self]


_RANK = {Severity.OK: 0, Severity.WARNING: 1, Severity.UNKNOWN: 2, Severity.CRITICAL: 3}

FINDING_SEVERITY: dict[str, Severity] = {
    "unreachable": Severity.CRITICAL,     # UNKNOWN instead when no node of the pair answered
    "split-brain": Severity.CRITICAL,
    "no-master": Severity.CRITICAL,
    "carp-init": Severity.CRITICAL,       # that vhid has lost its second node
    "relayd-down": Severity.CRITICAL,     # reported only when relayd is down on the MASTER
    "relayd-anchor": Severity.CRITICAL,   # relayd's redirect rules are not evaluated by pf
    "boot-ruleset": Severity.CRITICAL,    # rc's temporary rules: only ssh, dns, dhcp, carp pass
    "no-backend": Severity.CRITICAL,      # relayd on the MASTER sees every host down
    "carp-disallowed": Severity.CRITICAL,  # net.inet.carp.allow=0: split brain ahead
    "pass-mismatch": Severity.CRITICAL,   # the nodes drop each other's advertisements
    "carp-mismatch": Severity.CRITICAL,   # vhid, advbase or subnet differ between the nodes
    "maintenance-lost": Severity.CRITICAL,  # in maintenance, but the demotion is gone
    "masters-split": Severity.WARNING,
    "demoted": Severity.WARNING,
    "maintenance": Severity.WARNING,
    "pfsync-down": Severity.WARNING,
    "preempt-off": Severity.WARNING,
    "webhosts-down": Severity.WARNING,
    "drift": Severity.WARNING,
    "restored-at-boot": Severity.WARNING,  # shown with drift: why the files are the old ones
    "runtime-drift": Severity.WARNING,    # runtime differs from hostname.carpN/sysctl.conf
    "equal-advskew": Severity.WARNING,    # a warning only: never makes status unhealthy
    "relayd-host-disabled": Severity.WARNING,   # a warning only: the operator's own choice
    "release-pin": Severity.WARNING,      # a node is not on the inventory's `release:`
    "mixed-release": Severity.WARNING,    # a warning only: the nodes run different releases
    "unparsed": Severity.UNKNOWN,
}
UNKNOWN_CODE_SEVERITY = Severity.WARNING


def finding_severity(code: str) -> Severity:
    return FINDING_SEVERITY.get(code, UNKNOWN_CODE_SEVERITY)


def worst(severities: Iterable[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank, default=Severity.OK)


def graded(verdict: PairVerdict, nodes: Sequence[NodeState]) -> list[tuple[Severity, Finding]]:
    """Each finding of a pair with its severity, plus what only monitoring adds.

    A node that cannot be reached is CRITICAL while its peer answers (the pair
    has lost a node, or we cannot see the MASTER), UNKNOWN when no node of the
    pair answered (nothing is known). relayd on the MASTER with no backend up is
    CRITICAL although each host down alone is a WARNING: clients get nothing.
    """
    read = any(n.reachable for n in nodes)
    found = [(Severity.UNKNOWN if f.code == "unreachable" and not read
              else finding_severity(f.code), f) for f in verdict.findings]
    master = next((n for n in nodes if n.node == verdict.master), None)
    relayd = master.relayd if master else None
    if relayd and relayd.running and relayd.hosts() and not relayd.hosts_up():
        found.append((FINDING_SEVERITY["no-backend"], Finding(
            "no-backend", f"relayd on the MASTER {verdict.master} has no backend host up",
            verdict.master)))
    return found


def pair_severity(verdict: PairVerdict, nodes: Sequence[NodeState]) -> Severity:
    return worst(severity for severity, _ in graded(verdict, nodes))
