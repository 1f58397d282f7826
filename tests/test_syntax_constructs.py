"""SRC001 names the construct the target Python lacks, not a generic "cannot import" (issue 8, req 9)."""

from __future__ import annotations

import pytest

from modeltemplates.checks.syntax import check_source
from tests.conftest import DATA

SNIPPETS = DATA / "syntax_snippets"

CASES = [
    ((2, 7), "ellipsis", "the ... (Ellipsis) literal outside [] is Python 3 only"),
    ((2, 7), "exec_name_py3", "a Python 2.7 keyword used as a name"),
    ((2, 7), "keyword_as_name", "a Python 2.7 keyword used as a name"),
    ((3, 7), "keyword_as_name", "a Python keyword used as a name"),
    ((2, 7), "lambda_kwonly_default", "keyword-only parameters (after *args) need Python 3"),
    ((2, 7), "lambda_star_alone", "keyword-only parameters (a bare *) need Python 3"),
    ((2, 7), "star_alone_def", "keyword-only parameters (a bare *) need Python 3"),
    ((2, 7), "decorator_expr", "needs Python 3.9+"),
    ((3, 7), "decorator_call_chain", "needs Python 3.9+"),
    ((2, 7), "return_star_unparen", "after return / yield (return *a, b) needs Python 3.8+"),
    ((3, 7), "return_tuple_star", "after return / yield (return *a, b) needs Python 3.8+"),
    ((3, 7), "yield_star", "after return / yield (return *a, b) needs Python 3.8+"),
    ((2, 7), "star_expr_index", "a starred expression inside [] (a[*b]) needs Python 3.11+"),
    ((3, 7), "star_in_subscript_py3", "a starred expression inside [] (a[*b]) needs Python 3.11+"),
]


@pytest.mark.parametrize(("python", "name", "construct"), CASES, ids=str)
def test_src001_names_the_construct(python: tuple[int, int], name: str, construct: str) -> None:
    data = (SNIPPETS / f"{name}.py").read_bytes()
    (finding,) = [f for f in check_source(f"{name}.py", data, python).findings if f.rule == "SRC001"]
    assert construct in finding.message
    assert "cannot import this file" not in finding.message
    assert f"the template runs Python {python[0]}.{python[1]}" in finding.message
