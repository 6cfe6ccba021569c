"""The shipped Prometheus alert rules parse and use only metrics carpctl exports."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from carpctl.core.metrics import PREFIX, SPECS

RULES = Path(__file__).parents[1] / "docs" / "prometheus-alerts.yml"
EXPORTER_ONLY = {"carpctl_scrape_age_seconds", "carpctl_reads_total"}


def rules() -> list[dict]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_is_a_named_alert_with_an_expression_severity_and_summary():
    for rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"])
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
        assert rule["expr"].count("(") == rule["expr"].count(")")


def test_the_rules_cover_the_failures_the_issue_names():
    names = {rule["alert"] for rule in rules()}
    assert {"CarpMasterMoved", "CarpSplitBrain", "CarpNodeDemoted", "CarpRelaydHostDown"} <= names


def test_every_metric_a_rule_uses_is_exported():
    exported = {PREFIX + name for name in SPECS} | EXPORTER_ONLY
    used = {name for rule in rules() for name in re.findall(r"carpctl_[a-z_]+", rule["expr"])}
    assert used and used <= exported, used - exported


def test_every_verdict_a_rule_names_is_a_real_one():
    from carpctl.core.metrics import VERDICTS

    named = {v for rule in rules() for v in re.findall(r'verdict="([a-z-]+)"', rule["expr"])}
    assert named <= set(VERDICTS)
