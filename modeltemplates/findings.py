"""Findings, rules and reports: the one way every check speaks.

A :class:`Rule` is the stable, documented identity of a check (``LAY001``...). A check yields
:class:`Finding` objects made from its rules; a :class:`Report` gathers them in a deterministic
order together with the facts the inspectors found.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from modeltemplates._version import TOOL

#: Bumped whenever the JSON form of a report changes incompatibly.
REPORT_SCHEMA_VERSION = 1


class Severity(enum.Enum):
    """How bad a finding is. Only errors make a report fail."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Basis(enum.Enum):
    """Why a rule has its severity: what happens on the platform when the finding is ignored."""

    #: The platform refuses the package (upload, import or image build fails).
    PLATFORM_REJECTS = "platform-rejects"
    #: The package imports, but the service fails when it starts or serves.
    SERVICE_FAILS = "service-fails"
    #: Loading or serving the package can run code nobody reviewed, or leak data.
    SAFETY = "safety"
    #: This tool could not check something (its own limit); not a verdict on the package.
    NOT_CHECKED = "not-checked"
    #: Likely a mistake or waste, but the platform accepts it and the service runs.
    ADVICE = "advice"

    @property
    def meaning(self) -> str:
        return _BASIS_MEANING[self]


_BASIS_MEANING = {
    Basis.PLATFORM_REJECTS: "the platform rejects the package",
    Basis.SERVICE_FAILS: "the service fails at run time",
    Basis.SAFETY: "a safety risk",
    Basis.NOT_CHECKED: "a limit of this tool, not of the platform",
    Basis.ADVICE: "advice: the platform accepts it and the service runs",
}


@attrs.frozen
class Rule:
    """A documented check: what it finds, why it matters, how to fix it.

    ``basis`` says why the rule has its severity and ``evidence`` names the source that shows it
    (a passage of the platform's specification, an error code, what a real runtime said).
    """

    id: str
    title: str
    severity: Severity
    what: str
    why: str
    fix: str
    basis: Basis | None = attrs.field(default=None, kw_only=True)
    evidence: str = attrs.field(default="", kw_only=True)

    def finding(
        self,
        path: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule; ``hint`` defaults to the rule's fix, ``severity`` to its own."""
        return Finding(
            rule=self.id,
            severity=severity or self.severity,
            path=path,
            message=message,
            hint=self.fix if hint is None else hint,
            line=line,
            column=column,
        )


@attrs.frozen
class Finding:
    """One problem (or note) at one place in a package.

    ``path`` is relative to the package root, POSIX-style; ``""`` means the package as a whole.
    ``line`` and ``column`` are 1-based where known.
    """

    rule: str
    severity: Severity
    path: str
    message: str
    hint: str = ""
    line: int | None = None
    column: int | None = None

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (
            self.path,
            self.line or 0,
            self.column or 0,
            self.severity.rank,
            self.rule,
            self.message,
        )

    def location(self) -> str:
        """``path:line:column`` as far as known (``<package>`` for package-level findings)."""
        where = self.path or "<package>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            rule=data["rule"],
            severity=Severity(data["severity"]),
            path=data["path"],
            message=data["message"],
            hint=data.get("hint", ""),
            line=data.get("line"),
            column=data.get("column"),
        )


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Deterministic order with exact duplicates removed (one problem is reported once)."""
    return tuple(sorted(set(findings), key=Finding.sort_key))


@attrs.frozen
class Report:
    """The outcome of validating one package against one template."""

    template: str
    root: str
    findings: tuple[Finding, ...] = attrs.field(converter=sort_findings)
    facts: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        """True when no finding is an error."""
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    def by_rule(self, rule: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.rule == rule)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "tool": dict(TOOL),
            "template": self.template,
            "root": self.root,
            "ok": self.ok,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
            "facts": self.facts,
        }

    def to_json(self) -> str:
        return dumps_canonical(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        version = data.get("schema_version")
        if version != REPORT_SCHEMA_VERSION:
            raise ValueError(f"unsupported report schema_version {version!r}")
        return cls(
            template=data["template"],
            root=data["root"],
            findings=[Finding.from_dict(f) for f in data["findings"]],
            facts=data.get("facts", {}),
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls.from_dict(json.loads(text))


def dumps_canonical(data: Any) -> str:
    """The one JSON writer: sorted keys, two-space indent, UTF-8 text, trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
