"""Findings and reports: order, de-duplication, JSON round trips."""

from __future__ import annotations

import json

from modeltemplates.findings import REPORT_SCHEMA_VERSION, Finding, Report, Rule, Severity

RULE = Rule("XXX001", "Title", Severity.WARNING, what="w", why="y", fix="do this")


def test_rule_makes_findings_with_defaults() -> None:
    f = RULE.finding("a.py", "msg", line=3)
    assert (f.rule, f.severity, f.hint, f.line, f.column) == ("XXX001", Severity.WARNING, "do this", 3, None)
    assert RULE.finding("a", "m", severity=Severity.ERROR, hint="h").severity is Severity.ERROR
    assert f.location() == "a.py:3"
    assert RULE.finding("", "m").location() == "<package>"


def test_report_orders_and_dedupes() -> None:
    a = RULE.finding("b.py", "m", line=10)
    b = RULE.finding("b.py", "m", line=2)
    c = RULE.finding("a.py", "m")
    e = RULE.finding("a.py", "m", severity=Severity.ERROR)
    report = Report(template="t", root="model", findings=[a, b, c, a, e])
    assert report.findings == (e, c, b, a)
    assert not report.ok
    assert report.counts() == {"error": 1, "warning": 3, "info": 0}
    assert Report(template="t", root="model", findings=[a]).ok


def test_report_json_round_trip_is_exact() -> None:
    findings = [
        RULE.finding("m.py", "non-ASCII “quote” ✓", line=1, column=4),
        Finding("ABC002", Severity.INFO, "", "package-level"),
    ]
    report = Report(template="pytorch-py27", root="model", findings=findings, facts={"b": [1, 2], "a": {"z": None}})
    text = report.to_json()
    data = json.loads(text)
    assert data["schema_version"] == REPORT_SCHEMA_VERSION
    assert list(data) == sorted(data)
    again = Report.from_json(text)
    assert again == report
    assert again.to_json() == text
