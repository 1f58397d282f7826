"""SRC findings: the interpreter's words, the construct named, a fix, the right rule."""

from __future__ import annotations

import json

import pytest

from modeltemplates.checks.syntax import RULES, SourceResult, check_source
from modeltemplates.findings import Severity
from tests.conftest import FIDELITY

PY27, PY37 = (2, 7), (3, 7)


def _one(path: str, data: bytes, python: tuple[int, int]) -> tuple[str, str, int | None, str]:
    result = check_source(path, data, python)
    assert isinstance(result, SourceResult)
    assert len(result.findings) == 1, result.findings
    f = result.findings[0]
    assert f.path == path
    return f.rule, f.message, f.line, f.hint


def test_rules_are_documented_and_prefixed() -> None:
    ids = [r.id for r in RULES]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for rule in RULES:
        assert rule.id.startswith("SRC")
        assert rule.what and rule.why and rule.fix
        assert rule.severity is Severity.ERROR


def test_valid_file_has_no_findings_and_keeps_its_tree() -> None:
    result = check_source("customize_service.py", b"import os\nx = 1\n", PY27)
    assert result.findings == ()
    assert result.parse.tree is not None and result.parse.ok


@pytest.mark.parametrize(
    ("src", "python", "rule", "construct", "hint"),
    [
        (b"x = 1\nprint(f'{x}')\n", PY27, "SRC001", "f-strings need Python 3.6+", "format"),
        (b"print 'x'\n", PY37, "SRC001", "the print statement is Python 2 only", "print(...)"),
        (b"exec 'x = 1'\n", PY37, "SRC001", "the exec statement", "exec(code"),
        (b"try:\n    pass\nexcept E, e:\n    pass\n", PY37, "SRC001", "`except E, e:`", "except E as e"),
        (b"# caf\xc3\xa9\n", PY27, "SRC002", "non-ASCII characters", "coding: utf-8"),
        (b"if x:\n        a = 1\n\tb = 2\n", PY37, "SRC003", "tabs and spaces", "spaces"),
        (b"from __future__ import annotations\n", PY27, "SRC004", "annotations", "remove"),
        (b"x = " + b"(" * 200 + b")" * 200 + b"\n", PY37, "SRC005", "", "nesting"),
        (b"x = 1\n\0\n", PY37, "SRC006", "", "UTF-8"),
        (b"print('a', end='')\n", PY27, "SRC001", "print function", "print_function"),
        (b"def f(x: int):\n    pass\n", PY27, "SRC001", "function annotations", "annotations"),
        (b"async = 1\n", PY37, "SRC001", "reserved keywords", "rename"),
        (b"mode = 0777\n", PY37, "SRC001", "octal", "0o777"),
        (b"n = 10L\n", PY37, "SRC001", "L suffix", "drop the L"),
        # constructs seen in real inference scripts, each named for what it is
        (b"g(x,\n  **kw,\n  )\n", PY27, "SRC001", "trailing comma after *args / **kwargs", "remove"),
        (b"g(*a, b=1,)\n", PY27, "SRC001", "trailing comma after *args / **kwargs", "remove"),
        (b"for a, *b in c:\n    pass\n", PY27, "SRC001", "extended unpacking in a for target", "slice"),
        (b"a = [*b, 1]\n", PY27, "SRC001", "unpacking here", "list(a) + list(b)"),
        (b"a, *b = c\n", PY27, "SRC001", "extended unpacking (a, *b = ...)", "slice"),
        (b"show = print\n", PY27, "SRC001", "print used as a value", "print_function"),
    ],
)
def test_findings_name_the_construct_and_the_fix(
    src: bytes, python: tuple[int, int], rule: str, construct: str, hint: str
) -> None:
    got_rule, message, line, got_hint = _one("pkg/customize_service.py", src, python)
    assert got_rule == rule
    assert construct in message
    assert hint in got_hint
    assert f"Python {python[0]}.{python[1]}" in message
    assert line is not None and line >= 1


def test_keyword_named_class_is_not_taken_for_class_keyword_arguments() -> None:
    _, message, _, hint = _one("m.py", b"class = 1\n", PY27)
    assert "metaclass" not in message and "metaclass" not in (hint or "")


def test_message_quotes_the_interpreter() -> None:
    _, message, line, _ = _one("m.py", b"x = 1\ny = (\n", PY37)
    assert "SyntaxError: unexpected EOF while parsing (line 2, offset 6)" in message
    assert line == 2


def test_finding_points_at_the_real_place_of_an_fstring_error() -> None:
    result = check_source("m.py", b"x = 1\ns = f'{x=}'\n", PY37)
    (finding,) = result.findings
    assert finding.line == 2  # the interpreter says "line 1" (of the f-string expression)
    assert "(line 1, offset 3)" in finding.message


def test_nul_byte_in_27_is_a_warning_beside_the_parse_result() -> None:
    result = check_source("m.py", b"x = 1  # \0 dropped\ny = 2\n", PY27)
    assert [f.rule for f in result.findings] == ["SRC006"]
    assert result.findings[0].severity is Severity.WARNING
    assert result.parse.ok


def test_oversized_source_is_a_limit_finding() -> None:
    from modeltemplates.inspect import pyparse

    data = b"#" * (pyparse.MAX_SOURCE_BYTES + 1)
    rule, message, line, _ = _one("big.py", data, PY37)
    assert rule == "SRC005" and "not parsed" in message and line is None


def test_every_fidelity_label_gives_one_finding_exactly_when_rejected() -> None:
    labels = json.loads((FIDELITY / "labels.json").read_text())["sources"]
    for sid, label in labels.items():
        data = (FIDELITY / "sources" / f"{sid}.py").read_bytes()
        for key, python in (("py27", PY27), ("py37", PY37)):
            result = check_source(f"{sid}.py", data, python)
            errors = [f for f in result.findings if f.severity is Severity.ERROR]
            assert bool(errors) is (not label[key]["ok"]), (sid, key, errors)
