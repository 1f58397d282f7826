"""What one run of ``validate`` found, package by package: the input of every renderer."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

from modeltemplates.findings import Finding, Report, Severity

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@attrs.frozen
class PackageResult:
    """One package of a run: its report, or why it could not be checked.

    ``path`` is the argument as given; ``root`` the package folder that was checked; ``base`` the
    POSIX path of that folder relative to the repository that holds it (or to the working
    directory, else absolute), which SARIF and GitHub annotations prefix to each finding's path.
    ``suppressed`` holds the findings a suppression comment or ``per-file-ignores`` hid.
    """

    path: str
    template: str
    title: str
    root: str = ""
    located: str | None = None
    base: str = ""
    report: Report | None = None
    error: str | None = None
    suppressed: tuple[Finding, ...] = ()
    #: For each suppressed finding: ``inSource`` (a comment) or ``external`` (per-file-ignores).
    suppressed_how: tuple[str, ...] = ()
    #: The configuration's rule choices, (code or prefix, wanted) pairs (empty: every rule).
    selection: tuple[tuple[str, bool], ...] = ()
    fail_on: Severity = Severity.ERROR
    #: When no template was given: the one-line summary of :func:`modeltemplates.detect` (what
    #: was chosen, the runner-up, the tie rule); renderers say it first.
    detected: str | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.report.findings if self.report is not None else ()

    @property
    def failed(self) -> bool:
        """True when a finding is at least as severe as ``fail_on``."""
        return any(f.severity.rank <= self.fail_on.rank for f in self.findings)

    @property
    def exit_status(self) -> int:
        if self.error is not None:
            return EXIT_USAGE
        return EXIT_FINDINGS if self.failed else EXIT_OK

    def repo_path(self, finding_path: str) -> str:
        """``finding_path`` (package-relative) as a path relative to the repository root."""
        if not self.base or self.base == ".":
            return finding_path or "."
        return f"{self.base}/{finding_path}" if finding_path else self.base


def _packages(items: Iterable[PackageResult]) -> tuple[PackageResult, ...]:
    return tuple(items)


@attrs.frozen
class RunResult:
    """Every package of one run, in the order they were given."""

    packages: tuple[PackageResult, ...] = attrs.field(converter=_packages)

    @property
    def exit_status(self) -> int:
        """The worst status of any package (2 beats 1 beats 0)."""
        return max((p.exit_status for p in self.packages), default=EXIT_OK)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for p in self.packages:
            for f in p.findings:
                out[f.severity.value] += 1
        return out

    @property
    def suppressed(self) -> int:
        return sum(len(p.suppressed) for p in self.packages)


def repository_base(root: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None) -> str:
    """The POSIX path of ``root`` relative to the git work tree holding it.

    Outside a work tree: relative to ``cwd`` when below it, else the absolute path. Only path
    names are looked at (a ``.git`` file or folder marks a work tree); nothing is read.
    """
    folder = Path(os.path.abspath(root))
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return folder.relative_to(candidate).as_posix()
    here = Path(os.path.abspath(cwd if cwd is not None else os.getcwd()))
    try:
        return folder.relative_to(here).as_posix()
    except ValueError:
        return folder.as_posix()


def severity_counts(findings: Iterable[Finding]) -> Mapping[str, int]:
    out = {s.value: 0 for s in Severity}
    for f in findings:
        out[f.severity.value] += 1
    return out


@attrs.frozen
class RenderOptions:
    """How a renderer should write: ``color`` (ANSI styles, text only) and ``verbosity``
    (-1 quiet: the summary and errors only; 0 normal; 1 verbose: nothing folded, suppressed
    findings listed)."""

    color: bool = False
    verbosity: int = 0
