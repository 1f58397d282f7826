"""The rule catalogue: unique ids, complete documentation, platform messages for real rules."""

from __future__ import annotations

import re
from pathlib import Path

from modeltemplates.platform import PLATFORM_REPORTS
from modeltemplates.rules import all_rules

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_every_rule_is_documented_with_what_why_and_fix() -> None:
    rules = all_rules()
    assert len(rules) > 80
    text = DOCS.read_text(encoding="utf-8")
    for rule in rules.values():
        assert re.fullmatch(r"[A-Z]{3}\d{3}", rule.id)
        assert rule.what and rule.why and rule.fix, rule.id
        assert f"## {rule.id}\n" in text


def test_platform_reports_name_real_rules() -> None:
    assert set(PLATFORM_REPORTS) <= set(all_rules())


def test_every_rule_says_why_it_has_its_severity_and_names_the_evidence() -> None:
    from modeltemplates.findings import Basis, Severity

    text = DOCS.read_text(encoding="utf-8")
    for rule in all_rules().values():
        assert rule.basis is not None and len(rule.evidence) > 20, rule.id
        if rule.severity is Severity.ERROR:
            # An error only where the platform rejects the package, the service fails, or safety is at stake.
            assert rule.basis in (Basis.PLATFORM_REJECTS, Basis.SERVICE_FAILS, Basis.SAFETY), rule.id
        if rule.basis is Basis.NOT_CHECKED:
            assert rule.severity is not Severity.ERROR, rule.id
        entry = text.split(f"## {rule.id}\n", 1)[1].split("\n## ", 1)[0]
        assert f"- **Severity because:** {rule.basis.meaning}." in entry
        assert f"- **Evidence:** {rule.evidence}" in entry


def test_every_cfg_rule_names_the_spec_passage_or_says_it_is_a_tool_limit() -> None:
    from modeltemplates.findings import Basis

    for rule in all_rules().values():
        if rule.id.startswith("CFG") and rule.basis in (Basis.PLATFORM_REJECTS, Basis.SERVICE_FAILS):
            assert "modelarts_23_0092" in rule.evidence or "ModelArts.30" in rule.evidence, rule.id
