"""The human-readable report: grouped by package, one line per finding, one summary line.

Many findings of one rule in one file (a dozen ``//`` comments, say) are folded into one line
with their count and first lines unless ``verbosity`` > 0; JSON and SARIF keep every one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from modeltemplates.findings import Finding, Severity
from modeltemplates.report.results import PackageResult, RenderOptions, RunResult
from modeltemplates.safetext import MAX_SHOWN, shown

__all__ = ["MAX_SHOWN", "render_text", "shown"]

#: More findings than this of one rule in one file are folded into one line.
FOLD_AFTER = 3
#: How many line numbers a folded line lists.
FOLD_LINES = 5

_LOCATED = {
    "given": "the folder itself",
    "child": "its `model` subfolder",
    "unnamed": "the folder itself (not named `model`)",
    "marked": "the folder itself: it holds the package's files (not named `model`)",
    "top": "the top level of {path}, as the `model` folder it unpacks into",
}

_DIGITS = re.compile(r"\d+")

_STYLE = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[33m",
    "info": "\x1b[36m",
    "path": "\x1b[1m",
    "ok": "\x1b[1;32m",
    "failed": "\x1b[1;31m",
    "dim": "\x1b[2m",
}
_RESET = "\x1b[0m"


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        return f"{_STYLE[style]}{text}{_RESET}" if self.color else text


def render_text(run: RunResult, options: RenderOptions | None = None) -> str:
    """Every package's block, then (for several packages) one line summing them up."""
    options = options or RenderOptions()
    paint = _Painter(options.color)
    lines: list[str] = []
    several = len(run.packages) != 1
    for package in run.packages:
        lines.extend(_package_lines(package, options, paint, several=several))
    if several:
        lines.append(_run_summary(run, paint))
    return "\n".join(lines) + "\n"


def _package_lines(package: PackageResult, options: RenderOptions, paint: _Painter, *, several: bool) -> list[str]:
    """One package's block. Quiet: its errors only, under its folder's name when the run has
    several packages (whose one summary line then ends the run)."""
    quiet = options.verbosity < 0
    root = shown(package.root or package.path)
    lines: list[str] = []
    if package.error is not None:
        return [f"{paint('path', shown(package.path))}: {paint('error', 'error')}: {shown(package.error)}"]
    if not quiet:
        how = package.located and _LOCATED.get(package.located, package.located).replace("{path}", shown(package.path))
        where = f" ({how})" if how else ""
        detected = f" [{shown(package.detected)}]" if package.detected else ""
        lines.append(f"{shown(package.title)}: checking {root}{where}{detected}")
    findings = [f for f in package.findings if not quiet or f.severity is Severity.ERROR]
    if quiet and several:
        if not findings:
            return []
        body = [line for group in _groups(findings, fold=True) for line in _finding_lines(group, paint, hints=False)]
        return [f"{paint('path', root)}:", *body]
    for group in _groups(findings, fold=options.verbosity <= 0):
        lines.extend(_finding_lines(group, paint, hints=not quiet))
    if options.verbosity > 0:
        for f in package.suppressed:
            lines.append(f"{paint('dim', f'{shown(f.location())}: suppressed {f.rule}: {shown(f.message)}')}")
    lines.append(_package_summary(package, paint))
    return lines


def _groups(findings: Iterable[Finding], *, fold: bool) -> list[list[Finding]]:
    """Findings in report order; with ``fold``, findings of one rule in one file that say the same
    (numbers aside) form one group when there are more than :data:`FOLD_AFTER` of them."""
    ordered = list(findings)
    if not fold:
        return [[f] for f in ordered]
    by_key: dict[tuple[str, str, str], list[Finding]] = {}
    for f in ordered:
        by_key.setdefault(_fold_key(f), []).append(f)
    out: list[list[Finding]] = []
    seen: set[tuple[str, str, str]] = set()
    for f in ordered:
        key = _fold_key(f)
        group = by_key[key]
        if len(group) <= FOLD_AFTER:
            out.append([f])
        elif key not in seen:
            seen.add(key)
            out.append(group)
    return out


def _fold_key(f: Finding) -> tuple[str, str, str]:
    """Findings fold together when file, rule and message (numbers aside) are the same."""
    return f.path, f.rule, _DIGITS.sub("#", f.message)


def _finding_lines(group: list[Finding], paint: _Painter, *, hints: bool) -> list[str]:
    first = group[0]
    sev = first.severity.value
    line = f"{paint('path', shown(first.location()))}: {paint(sev, sev)} {first.rule}: {shown(first.message)}"
    if len(group) > 1:
        numbers = [str(f.line) for f in group if f.line is not None][:FOLD_LINES]
        more = f", first on lines {', '.join(numbers)}" if numbers else ""
        line += f" [{len(group)} times in this file{more}; --verbose lists each]"
    out = [line]
    if hints and first.hint:
        out.append(f"    fix: {shown(first.hint)}")
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts_text(counts: dict[str, int], suppressed: int) -> str:
    """``2 errors, 1 warning``: errors always, warnings and infos only when there are some."""
    parts = [_plural(counts["error"], "error")]
    parts += [_plural(counts[s.value], s.value) for s in (Severity.WARNING, Severity.INFO) if counts[s.value]]
    if suppressed:
        parts.append(f"{suppressed} suppressed")
    return ", ".join(parts)


def _package_summary(package: PackageResult, paint: _Painter) -> str:
    counts = {s.value: 0 for s in Severity}
    for f in package.findings:
        counts[f.severity.value] += 1
    verdict = paint("failed", "FAILED") if package.failed else paint("ok", "OK")
    return f"{verdict}: {_counts_text(counts, len(package.suppressed))}"


def _run_summary(run: RunResult, paint: _Painter) -> str:
    total = len(run.packages)
    failed = sum(1 for p in run.packages if p.failed or p.error is not None)
    verdict = paint("failed", "FAILED") if failed else paint("ok", "OK")
    which = f"{failed} of {_plural(total, 'package')} failed" if failed else f"{_plural(total, 'package')} checked"
    return f"{verdict}: {which}; {_counts_text(run.counts(), run.suppressed)}"


def color_wanted(stream: object, environ: Mapping[str, str]) -> bool:
    """Colour for ``stream``: never with ``NO_COLOR`` set, always with ``FORCE_COLOR`` set (and
    not ``0``), else only when the stream is a terminal."""
    if environ.get("NO_COLOR"):
        return False
    force = environ.get("FORCE_COLOR")
    if force is not None and force not in ("", "0", "false"):
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False
