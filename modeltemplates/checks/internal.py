"""The last line of defence: a check that fails on some input becomes a finding, not a traceback."""

from __future__ import annotations

from modeltemplates.findings import Basis, Finding, Rule, Severity

CHECK_FAILED = Rule(
    "INT001", "A check could not finish on this file", Severity.ERROR,
    what="One of the checks stopped with an unexpected error on this file.",
    why="The file was not fully checked, so it may hide a problem the platform would find. Such input "
    "is usually malformed in a way no rule foresaw.",
    fix="Look at the file (is it what its name says?), and report the message to the modeltemplates "
    "maintainers with the file if you can share it.",
    basis=Basis.SAFETY,
    evidence="A file no check could finish on is malformed in a way nothing foresaw; unchecked, it may hide a "
        "payload or a failure, so it is not passed silently.",
)

RULES: tuple[Rule, ...] = (CHECK_FAILED,)


def check_failed(path: str, what: str, exc: BaseException) -> Finding:
    return CHECK_FAILED.finding(path, f"the {what} check failed: {type(exc).__name__}: {exc}")
