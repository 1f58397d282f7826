"""The rule catalogue: every rule of every check, by id, and its Markdown reference."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from modeltemplates.findings import Rule

#: The modules that declare ``RULES``, in the order the reference lists them.
RULE_MODULES: tuple[str, ...] = (
    "modeltemplates.checks.layout",
    "modeltemplates.checks.textfiles",
    "modeltemplates.checks.modelfile",
    "modeltemplates.checks.datafiles",
    "modeltemplates.engines.mxnet.checks",
    "modeltemplates.engines.caffe.checks",
    "modeltemplates.detect",
    "modeltemplates.deepcheck",
    "modeltemplates.checks.syntax",
    "modeltemplates.checks.further",
    "modeltemplates.checks.service",
    "modeltemplates.checks.configfile",
    "modeltemplates.checks.internal",
    "modeltemplates.engines.tensorflow.checks",
    "modeltemplates.policy",
    "modeltemplates.sources.archive_rules",
    "modeltemplates.sources.remote_rules",
)


def builtin_rules() -> Mapping[str, Rule]:
    """Every rule of the built-in checks by id (ids are unique across modules; a clash is a
    programming error)."""
    import importlib

    rules: dict[str, Rule] = {}
    for name in RULE_MODULES:
        module = importlib.import_module(name)
        for rule in module.RULES:
            if rule.id in rules:
                raise RuntimeError(f"rule id {rule.id} is declared twice")
            rules[rule.id] = rule
    return MappingProxyType(rules)


def all_rules() -> Mapping[str, Rule]:
    """The built-in rules, then the rules registered templates declare (:attr:`Template.rules`,
    e.g. a plugin's), by id. The registry refuses a template whose rule id is taken."""
    from modeltemplates._registry import REGISTRY

    rules = dict(builtin_rules())
    for template in REGISTRY.all():
        for rule in template.rules:
            rules.setdefault(rule.id, rule)
    return MappingProxyType(rules)


def _reported(rule_id: str) -> tuple[str, ...]:
    """The platform's own words for this rule, as Markdown list items."""
    from modeltemplates.platform import PLATFORM_REPORTS

    out = []
    for text in PLATFORM_REPORTS.get(rule_id, ()):
        where, _, said = text.partition(": ")
        out.append(f"- **The platform says** ({where}): {said}")
    return tuple(out)


def rules_markdown() -> str:
    """``docs/rules.md``: one entry per rule, generated from the rules themselves."""
    lines = [
        "# Rule reference",
        "",
        "Every finding names one of these rules. Severity is the rule's default; a few rules raise or",
        "lower it for a particular case (the finding says so). This page is generated from the code:",
        "`modeltemplates rules --markdown > docs/rules.md`.",
        "",
    ]
    rules = all_rules()
    lines.append("| id | severity | title |")
    lines.append("|---|---|---|")
    for rule in rules.values():
        lines.append(f"| [{rule.id}](#{rule.id.lower()}) | {rule.severity.value} | {rule.title} |")
    lines.append("")
    for rule in rules.values():
        lines.extend([
            f"## {rule.id}",
            "",
            f"**{rule.title}** ({rule.severity.value})",
            "",
            f"- **What it checks:** {rule.what}",
            f"- **Why:** {rule.why}",
            f"- **How to fix:** {rule.fix}",
        ])
        if rule.basis is not None:
            lines.append(f"- **Severity because:** {rule.basis.meaning}.")
        if rule.evidence:
            lines.append(f"- **Evidence:** {rule.evidence}")
        lines.extend(_reported(rule.id))
        lines.append("")
    return "\n".join(lines)
