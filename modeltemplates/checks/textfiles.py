"""Checks on the text of small files: merge-conflict markers, and files too large to check."""

from __future__ import annotations

import re

from modeltemplates.findings import Basis, Finding, Rule, Severity

CONFLICT = Rule(
    "TXT001", "Unresolved merge conflict", Severity.ERROR,
    what="Git merge-conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`) in a text file.",
    why="A half-merged file is broken: Python raises a SyntaxError on import, JSON does not parse, "
    "and label files hold both versions.",
    fix="Resolve the conflict (keep one side, delete the markers) and check the file again.",
    basis=Basis.SERVICE_FAILS,
    evidence="Conflict markers are a SyntaxError in Python (fidelity set: CPython 2.7.18/3.7.8) and break JSON "
        "parsing.",
)
TOO_LARGE = Rule(
    "TXT002", "File too large to check", Severity.WARNING,
    what="A source or configuration file larger than the checker reads.",
    why="The file is not checked, so problems in it would surface only on the platform.",
    fix="Keep source and configuration files small (move data out of code), or raise the limit.",
    basis=Basis.NOT_CHECKED,
    evidence="Settings.max_text_bytes / max_config_bytes are this tool's bounds; the platform states no size limit"
        " for source files.",
)

RULES: tuple[Rule, ...] = (CONFLICT, TOO_LARGE)

#: Suffixes of files scanned for conflict markers (besides those checked by their own readers).
TEXT_SUFFIXES = frozenset({".py", ".json", ".txt", ".yaml", ".yml", ".cfg", ".ini", ".toml", ".csv",
                           ".md", ".rst", ".sh", ".names", ".labels"})

_START = re.compile(rb"^<{7}(?: |$)", re.MULTILINE)
_END = re.compile(rb"^>{7}(?: |$)", re.MULTILINE)


def check_conflict_markers(path: str, data: bytes) -> tuple[Finding, ...]:
    """One finding per file at the first ``<<<<<<<`` line that a ``>>>>>>>`` line follows."""
    start = _START.search(data)
    if start is None or _END.search(data, start.end()) is None:
        return ()
    line = data.count(b"\n", 0, start.start()) + 1
    blocks = len(_START.findall(data))
    more = f" ({blocks} conflict blocks)" if blocks > 1 else ""
    return (CONFLICT.finding(path, f"unresolved merge conflict starting here{more}", line=line, column=1),)


def too_large(path: str, size: int, limit: int, what: str, *, setting: str = "max_text_bytes") -> Finding:
    return TOO_LARGE.finding(
        path, f"{what} of {size} bytes is larger than this tool's {limit}-byte limit; not checked",
        hint=f"Raise Settings.{setting} to check it, or keep such files small (move data out of code).")
