"""SARIF 2.1.0 for code-scanning services (GitHub code scanning and others).

One run; the tool's rules are the whole catalogue (help text, and a docs URL when the installed
distribution declares a ``Documentation`` project URL). Results point at files relative to the
repository root (``%SRCROOT%``); ``partialFingerprints`` hash the rule, file and message (not the
line) so a finding keeps its identity when code above it moves. Suppressed findings are included
with a ``suppressions`` entry, as SARIF consumers expect.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote

from modeltemplates import __version__
from modeltemplates.findings import Finding, Rule, Severity, dumps_canonical
from modeltemplates.report.results import PackageResult, RenderOptions, RunResult

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
#: The partialFingerprints key; bump the suffix if the hashed fields ever change.
FINGERPRINT_KEY = "modeltemplatesFinding/v1"

_DIGITS = re.compile(r"\d+")
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def docs_url() -> str | None:
    """The ``Documentation`` project URL of the installed distribution, if it declares one."""
    from importlib import metadata

    try:
        urls = metadata.metadata("modeltemplates").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for item in urls:
        label, _, url = str(item).partition(",")
        if label.strip().lower() == "documentation" and url.strip():
            return url.strip().rstrip("/")
    return None


def _rule_descriptor(rule: Rule, base: str | None) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(w[:1].upper() + w[1:] for w in rule.title.replace("-", " ").split() if w.isalnum()),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.what},
        "help": {
            "text": f"{rule.what}\nWhy: {rule.why}\nHow to fix: {rule.fix}",
            "markdown": f"**What it checks:** {rule.what}\n\n**Why:** {rule.why}\n\n**How to fix:** {rule.fix}",
        },
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": [rule.id[:3]]},
    }
    if base:
        descriptor["helpUri"] = f"{base}/rules.md#{rule.id.lower()}"
    return descriptor


def _identity(package: PackageResult, finding: Finding) -> tuple[str, str, str]:
    """Rule, repository-relative file and message with its numbers blanked (messages quote line
    numbers and offsets, which move when code above them changes)."""
    return finding.rule, package.repo_path(finding.path), _DIGITS.sub("#", finding.message)


def fingerprint(package: PackageResult, finding: Finding, occurrence: int) -> str:
    """A stable hash of :func:`_identity` and which repeat of that identity this is."""
    key = "\0".join((*_identity(package, finding), str(occurrence)))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _location(package: PackageResult, finding: Finding) -> dict[str, Any]:
    where = package.repo_path(finding.path)
    scheme, sep, rest = where.partition("://")
    # A package in a bucket is named by its absolute URL; a local one relative to the checkout.
    artifact = ({"uri": f"{scheme}://{quote(rest, safe='/')}"} if sep and scheme.isalnum()
                else {"uri": quote(where, safe="/"), "uriBaseId": "%SRCROOT%"})
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if finding.line is not None:
        region: dict[str, Any] = {"startLine": max(1, finding.line)}
        if finding.column is not None:
            region["startColumn"] = max(1, finding.column)
        physical["region"] = region
    return {"physicalLocation": physical}


def _result(
    package: PackageResult, finding: Finding, index: dict[str, int], seen: dict[tuple[str, str, str], int],
    *, suppressed: str | None,
) -> dict[str, Any]:
    triple = _identity(package, finding)
    occurrence = seen.get(triple, 0)
    seen[triple] = occurrence + 1
    message = finding.message + (f"\nFix: {finding.hint}" if finding.hint else "")
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [_location(package, finding)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(package, finding, occurrence)},
        "properties": {"template": package.template, "package": package.base or "."},
    }
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    if suppressed:
        result["suppressions"] = [{"kind": suppressed, "status": "accepted"}]
    return result


def sarif_log(run: RunResult) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict."""
    from modeltemplates.rules import all_rules

    base = docs_url()
    rules = list(all_rules().values())
    index = {rule.id: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for package in run.packages:
        if package.error is not None:
            notifications.append({"level": "error", "message": {"text": f"{package.path}: {package.error}"}})
            continue
        seen: dict[tuple[str, str, str], int] = {}
        for finding in package.findings:
            results.append(_result(package, finding, index, seen, suppressed=None))
        for i, finding in enumerate(package.suppressed):
            how = package.suppressed_how[i] if i < len(package.suppressed_how) else "external"
            results.append(_result(package, finding, index, seen, suppressed=how))
    driver: dict[str, Any] = {
        "name": "modeltemplates",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [_rule_descriptor(rule, base) for rule in rules],
    }
    if base:
        driver["informationUri"] = base
    invocation: dict[str, Any] = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render_sarif(run: RunResult, options: RenderOptions | None = None) -> str:
    return dumps_canonical(sarif_log(run))
