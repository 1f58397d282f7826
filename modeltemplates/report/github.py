"""GitHub Actions workflow commands: one ``::error file=...,line=...,col=...::`` per finding,
which the Actions runner turns into annotations on the pull request's changed files."""

from __future__ import annotations

from collections.abc import Mapping

from modeltemplates.findings import Finding, Severity
from modeltemplates.report.results import PackageResult, RenderOptions, RunResult
from modeltemplates.report.text import shown

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """A command's message: ``%``, CR and LF percent-encoded (as the runner decodes them)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command property (file, title): also ``:`` and ``,``, which delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(package: PackageResult, finding: Finding, titles: Mapping[str, str]) -> str:
    """The workflow command for one finding; ``titles`` maps rule ids to their titles."""
    props = [f"file={escape_property(shown(package.repo_path(finding.path)))}"]
    if finding.line is not None:
        props.append(f"line={finding.line}")
        if finding.column is not None:
            props.append(f"col={finding.column}")
    props.append(f"title={escape_property(f'{finding.rule} {titles.get(finding.rule, finding.rule)}')}")
    body = shown(finding.message) + (f"\nFix: {shown(finding.hint)}" if finding.hint else "")
    return f"::{_COMMAND[finding.severity]} {','.join(props)}::{escape_data(body)}"


def render_github(run: RunResult, options: RenderOptions | None = None) -> str:
    from modeltemplates.rules import all_rules

    titles = {rule.id: rule.title for rule in all_rules().values()}
    lines: list[str] = []
    for package in run.packages:
        if package.error is not None:
            lines.append(f"::error title=modeltemplates::{escape_data(shown(f'{package.path}: {package.error}'))}")
            continue
        lines.extend(annotation(package, f, titles) for f in package.findings)
    counts = run.counts()
    lines.append(f"modeltemplates: {len(run.packages)} package(s), {counts['error']} error(s), "
                 f"{counts['warning']} warning(s), {counts['info']} info, {run.suppressed} suppressed")
    return "\n".join(lines) + "\n"
