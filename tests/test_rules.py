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
