"""What a project accepts: rule selection, severity overrides and suppressions a reviewer can see.

A :class:`~modeltemplates.config.Config` turns a report's findings into what the project wants
to hear about: rules left out by ``select``/``ignore`` are dropped (as ruff does, the most
specific code wins, and ``ignore`` wins a tie); ``severity`` changes a rule's level; a finding on
a line of a ``.py`` file whose trailing comment says ``# modeltemplates: ignore[SVC010]``, or in
a file a ``per-file-ignores`` glob names, is *suppressed*: kept aside, counted in every report.
A suppression that hides nothing is itself reported (``SUP001``), like ruff's RUF100, and so
are comments naming unknown rules (``SUP002``) or no rule at all (``SUP003``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from modeltemplates.config import Config
from modeltemplates.findings import Basis, Finding, Rule, Severity

if TYPE_CHECKING:
    from modeltemplates.pipeline import Inspection, Settings
    from modeltemplates.report.results import PackageResult

W = Severity.WARNING
_BASIS = Basis.ADVICE

UNUSED = Rule(
    "SUP001", "Unused suppression comment", W,
    what="A `# modeltemplates: ignore[...]` comment names a rule that has no finding on that line.",
    why="Stale suppressions hide the next real problem on that line and mislead reviewers.",
    fix="Remove the rule id from the comment (or the whole comment).",
    basis=_BASIS,
    evidence="The comment itself: this tool found nothing of that rule on the line (as ruff's RUF100).",
)
UNKNOWN = Rule(
    "SUP002", "Suppression of an unknown rule", W,
    what="A `# modeltemplates: ignore[...]` comment names a rule id this tool does not have.",
    why="A misspelt id suppresses nothing, so the finding it was meant for still shows (or never did).",
    fix="Use an id from `modeltemplates rules` (the finding names it).",
    basis=_BASIS,
    evidence="The rule catalogue (`modeltemplates rules`).",
)
MALFORMED = Rule(
    "SUP003", "Suppression comment without rule ids", W,
    what="A `# modeltemplates: ignore` comment without `[RULE, ...]`: blanket suppressions are not "
    "accepted, so a reviewer always sees which rule was silenced.",
    why="The comment suppresses nothing; it probably meant to.",
    fix="Name the rules: `# modeltemplates: ignore[SVC010]`.",
    basis=_BASIS,
    evidence="This tool's suppression syntax (docs/cli.md).",
)

RULES: tuple[Rule, ...] = (UNUSED, UNKNOWN, MALFORMED)

_COMMENT = re.compile(r"#\s*modeltemplates:\s*ignore\b(\[(?P<codes>[^\]]*)\])?")


@attrs.frozen
class Suppression:
    """One ``# modeltemplates: ignore[...]`` comment."""

    line: int
    column: int
    codes: tuple[str, ...]


@attrs.frozen
class Outcome:
    """Findings kept, findings suppressed (with how: ``inSource`` or ``external``)."""

    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    how: tuple[str, ...]


def comment_start(line: str) -> int:
    """Where the comment of a source line starts (-1: none), skipping ``#`` inside quotes."""
    quote = ""
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif ch in "'\"":
            quote = ch * 3 if line.startswith(ch * 3, i) else ch
            i += len(quote)
            continue
        elif ch == "#":
            return i
        i += 1
    return -1


def suppressions(source: bytes) -> list[Suppression]:
    """Every suppression comment of a Python source, by line (1-based)."""
    out: list[Suppression] = []
    if b"modeltemplates" not in source:
        return out
    for number, raw in enumerate(source.split(b"\n"), start=1):
        if b"modeltemplates" not in raw:
            continue
        line = raw.decode("utf-8", "replace")
        start = comment_start(line)
        if start < 0:
            continue
        match = _COMMENT.search(line, start)
        if match is None:
            continue
        codes = match.group("codes")
        parsed = tuple(c.strip().upper() for c in (codes or "").split(",") if c.strip())
        out.append(Suppression(number, match.start() + 1, parsed))
    return out


def selection(config: Config) -> tuple[tuple[str, bool], ...]:
    """The configuration's rule choices: (code or prefix, wanted) pairs."""
    chosen = [(code, True) for code in (*config.select, *config.extend_select)]
    return (*chosen, *((code, False) for code in config.ignore))


def selects(choices: tuple[tuple[str, bool], ...], rule_id: str) -> bool:
    """Whether ``choices`` keep ``rule_id``: the most specific code wins, ``ignore`` wins a tie."""
    best, keep = -1, False
    for code, wanted in choices:
        length = 0 if code == "ALL" else len(code)
        if (code == "ALL" or rule_id.startswith(code)) and (length > best or (length == best and not wanted)):
            best, keep = length, wanted
    return keep


def _selector(config: Config) -> Callable[[str], bool]:
    choices = selection(config)
    return lambda rule_id: selects(choices, rule_id)


def _per_file(config: Config) -> Callable[[str, str], bool]:
    if not config.per_file_ignores:
        return lambda path, rule: False
    import pathspec

    specs = [(pathspec.GitIgnoreSpec.from_lines([glob]), codes)
             for glob, codes in config.per_file_ignores.items()]

    def ignored(path: str, rule: str) -> bool:
        return bool(path) and any(spec.match_file(path) and any(rule.startswith(c) or c == "ALL" for c in codes)
                                  for spec, codes in specs)

    return ignored


def apply(
    findings: Iterable[Finding],
    config: Config,
    read_source: Callable[[str], bytes | None],
    python_files: Iterable[str] = (),
    known_rules: Mapping[str, Rule] | None = None,
) -> Outcome:
    """``findings`` as ``config`` wants them. ``read_source(path)`` gives a ``.py`` file's bytes
    (``None`` if unreadable); ``python_files`` are scanned for suppression comments."""
    selected = _selector(config)
    per_file = _per_file(config)
    comments: dict[str, dict[int, Suppression]] = {}
    for path in sorted(set(python_files)):
        data = read_source(path)
        if data is not None:
            comments[path] = {s.line: s for s in suppressions(data)}
    used: set[tuple[str, int, str]] = set()
    kept: list[Finding] = []
    hidden: list[Finding] = []
    how: list[str] = []
    for f in findings:
        if not selected(f.rule):
            continue
        level = config.severity.get(f.rule)
        if level is not None and level is not f.severity:
            f = attrs.evolve(f, severity=level)
        comment = comments.get(f.path, {}).get(f.line or 0)
        if comment is not None and f.rule in comment.codes:
            used.add((f.path, comment.line, f.rule))
            hidden.append(f)
            how.append("inSource")
        elif per_file(f.path, f.rule):
            hidden.append(f)
            how.append("external")
        else:
            kept.append(f)
    for path, by_line in comments.items():
        for s in by_line.values():
            if not s.codes:
                kept.append(MALFORMED.finding(path, "suppression comment names no rule; nothing is suppressed",
                                              line=s.line, column=s.column))
            for code in s.codes:
                if known_rules is None:  # every check's module: loaded only when a comment names rules
                    from modeltemplates.rules import all_rules

                    known_rules = all_rules()
                if code not in known_rules:
                    kept.append(UNKNOWN.finding(path, f"suppression names unknown rule {code}",
                                                line=s.line, column=s.column))
                elif (path, s.line, code) not in used:
                    kept.append(UNUSED.finding(path, f"unused suppression: no {code} finding on this line",
                                               line=s.line, column=s.column))
    final = []
    for f in kept:
        if f.rule.startswith("SUP"):
            if not selected(f.rule):
                continue
            level = config.severity.get(f.rule)
            f = attrs.evolve(f, severity=level) if level is not None else f
        final.append(f)
    return Outcome(tuple(final), tuple(hidden), tuple(how))


def apply_to(result: PackageResult, inspection: Inspection, config: Config, settings: Settings | None) -> PackageResult:
    """``result`` with ``config`` applied, reading the package's Python files (bounded) for
    suppression comments."""
    from modeltemplates.pipeline import Settings

    limit = (settings or Settings()).max_text_bytes
    package = inspection.package
    entries = {e.path: e for e in package.files() if e.suffix == ".py" and e.readable and e.size <= limit}

    def read(path: str) -> bytes | None:
        entry = entries.get(path)
        if entry is None:
            return None
        try:
            return package.read_bytes(entry, limit)[:limit]
        except OSError:
            return None

    report = result.report
    if report is None:
        return result
    outcome = apply(report.findings, config, read, entries)
    return attrs.evolve(
        result, report=attrs.evolve(report, findings=outcome.findings), suppressed=outcome.suppressed,
        suppressed_how=outcome.how, fail_on=config.fail_on, selection=selection(config),
    )
