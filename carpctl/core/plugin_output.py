"""What `carpctl check` prints: the Monitoring Plugins format, from pair states.

One status line `CARP STATE - summary | perfdata`, then one line per finding
(the long text Nagios and Icinga show under the status), and the exit code is
the state's number. Perfdata follows the guidelines' `'label'=value;warn;crit;min;max`
with Nagios ranges (`N` alerts above N, `N:` below N), so graphs and thresholds
work in any tool that reads plugin output. Pure: states in, lines out.

Kept small rather than built on nagiosplugin: the whole format is this module,
and nagiosplugin's resource/context model would wrap one read in three classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from carpctl.core.carp import SEVERITY, Finding, PairVerdict
from carpctl.core.severity import Severity, graded, worst
from carpctl.facts.state import NodeState

SERVICE = "CARP"


@dataclass(frozen=True)
class StateDiffThresholds:
    """--warn/--crit for the pf state-count difference between the two nodes.

    None: the verdict's own rule (carp.states_in_step) decides, as in `status`.
    """

    warn: int | None = None
    crit: int | None = None

    @property
    def given(self) -> bool:
        return self.warn is not None or self.crit is not None

    def grade(self, diff: int) -> Severity:
        if self.crit is not None and diff > self.crit:
            return Severity.CRITICAL
        if self.warn is not None and diff > self.warn:
            return Severity.WARNING
        return Severity.OK


@dataclass(frozen=True, kw_only=True)
class PerfDatum:
    label: str
    value: int
    warn: str = ""
    crit: str = ""
    min: int | None = None
    max: int | None = None

    def __str__(self) -> str:
        label = self.label.replace("'", "''")
        fields = [f"'{label}'={self.value}", self.warn, self.crit,
                  "" if self.min is None else str(self.min),
                  "" if self.max is None else str(self.max)]
        while fields[-1] == "":
            fields.pop()
        return ";".join(fields)


@dataclass(frozen=True, kw_only=True)
class PairCheck:
    """One pair's contribution to the check: severity, graded findings and perfdata."""

    pair: str
    verdict: str
    master: str | None
    severity: Severity
    findings: tuple[tuple[Severity, Finding], ...]
    perfdata: tuple[PerfDatum, ...]


@dataclass(frozen=True)
class CheckResult:
    severity: Severity
    lines: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return int(self.severity)


def state_diff(nodes: Sequence[NodeState]) -> int | None:
    """The pf state-count difference, when both nodes filter and were read."""
    counted = [n.pf.states for n in nodes if n.reachable and n.pf is not None and n.pf.enabled]
    return abs(counted[0] - counted[1]) if len(counted) == 2 else None


def _is_state_count_finding(finding: Finding) -> bool:
    """carp.assess reports the state-count gap as a pair-wide pfsync-down (no node)."""
    return finding.code == "pfsync-down" and finding.node is None


def check_pair(pair: str, verdict: PairVerdict, nodes: Sequence[NodeState],
               thresholds: StateDiffThresholds | None = None) -> PairCheck:
    thresholds = thresholds or StateDiffThresholds()
    findings = graded(verdict, nodes)
    diff = state_diff(nodes)
    if thresholds.given:   # the user's numbers replace the built-in rule
        findings = [(s, f) for s, f in findings if not _is_state_count_finding(f)]
        if diff is not None and thresholds.grade(diff) is not Severity.OK:
            (a, a_states), (b, b_states) = [(n.node, n.pf.states) for n in nodes
                                            if n.pf is not None and n.pf.enabled]
            findings.append((thresholds.grade(diff), Finding(
                "pf-states-diff", f"pf state counts differ by {diff} ({a} {a_states}, "
                f"{b} {b_states})")))
    return PairCheck(pair=pair, verdict=_headline(findings), master=verdict.master,
                     severity=worst(s for s, _ in findings), findings=tuple(findings),
                     perfdata=_perfdata(pair, verdict, nodes, diff, thresholds))


def _headline(findings: Sequence[tuple[Severity, Finding]]) -> str:
    """The code of the worst finding by severity (then by the verdict order), or healthy."""
    def order(item: tuple[Severity, Finding]) -> tuple[int, int]:
        code = item[1].code
        return (-item[0].rank, SEVERITY.index(code) if code in SEVERITY else len(SEVERITY))
    return min(findings, key=order)[1].code if findings else "healthy"


def _perfdata(pair: str, verdict: PairVerdict, nodes: Sequence[NodeState], diff: int | None,
              thresholds: StateDiffThresholds) -> tuple[PerfDatum, ...]:
    data: list[PerfDatum] = []
    for node in nodes:
        if not node.reachable:
            continue   # no value is better than a made-up 0 on a graph
        prefix = f"{pair}_{node.node}"
        if node.demote is not None:
            data.append(PerfDatum(label=f"{prefix}_demote", value=node.demote, min=0, max=255))
        if node.pf is not None:
            data.append(PerfDatum(label=f"{prefix}_pf_states", value=node.pf.states, min=0))
    if diff is not None:
        warn, crit = thresholds.warn, thresholds.crit
        data.append(PerfDatum(label=f"{pair}_pf_states_diff", value=diff,
                              warn="" if warn is None else str(warn),
                              crit="" if crit is None else str(crit), min=0))
    master = next((n for n in nodes if n.node == verdict.master), None)
    if master is not None and master.relayd is not None and master.relayd.running:
        hosts = master.relayd.hosts()
        data.append(PerfDatum(label=f"{pair}_relayd_hosts_up", value=len(master.relayd.hosts_up()),
                              crit="1:" if hosts else "", min=0, max=len(hosts)))
    return tuple(data)


def _summary(checks: Sequence[PairCheck], severity: Severity) -> str:
    if severity is Severity.OK:
        if len(checks) == 1:
            master = checks[0].master
            return f"{checks[0].pair} healthy" + (f", MASTER {master}" if master else "")
        return f"{len(checks)} pairs healthy"
    bad = sorted((c for c in checks if c.severity is not Severity.OK),
                 key=lambda c: -c.severity.rank)
    text = ", ".join(f"{c.pair} {c.verdict}" for c in bad)
    healthy = len(checks) - len(bad)
    return f"{text}; {healthy} of {len(checks)} pairs healthy" if healthy else text


def check_result(checks: Sequence[PairCheck]) -> CheckResult:
    """The whole plugin output: status line with perfdata, then a line per finding."""
    if not checks:
        return unknown("no pair selected")
    severity = worst(c.severity for c in checks)
    perf = " ".join(str(p) for c in checks for p in c.perfdata)
    status = f"{SERVICE} {severity.name} - {_summary(checks, severity)}"
    lines = [f"{status} | {perf}" if perf else status]
    for check in checks:
        for finding_severity, finding in sorted(check.findings, key=lambda sf: -sf[0].rank):
            lines.append(f"{finding_severity.name}: {check.pair}: {finding.message}")
    return CheckResult(severity, tuple(lines))


def unknown(reason: str) -> CheckResult:
    """The check could not run (bad usage, inventory): UNKNOWN, as the guidelines say."""
    return CheckResult(Severity.UNKNOWN, (f"{SERVICE} UNKNOWN - {reason}",))

