"""Python 3.6 as CPython 3.6 parses it: async/await are names outside ``async def`` (ASYNC/AWAIT
tokens only inside one), no ``annotations`` future, generator arguments counted as 3.6's ast.c did.
Each verdict here was checked against CPython 3.6.15 (the differential test repeats that where a
3.6 interpreter exists)."""

from __future__ import annotations

import pytest

from modeltemplates.inspect.grammars import SUPPORTED_VERSIONS
from modeltemplates.inspect.pyparse import parse

CASES = [
    # (source, 3.6 verdict: None = compiles, else the error line; 3.7 compiles?)
    ("async = 1\nawait = 2\nprint(async, await)\n", None, False),
    ("def async(x, await=1):\n    return x\n", None, False),
    ("f(async=1)\n", None, False),
    ("x = await(3)\n", None, False),
    ("async def f():\n    await x\n", None, True),
    ("async def f():\n    return [x async for x in y]\n", None, True),
    ("async def f(): pass\nawait = 1\n", None, False),
    ("class A:\n    async def f(self):\n        pass\n    def g(self):\n        async = 1\n", None, False),
    ("async def f():\n    async = 1\n", 2, False),
    ("async def f():\n    def g():\n        await = 1\n", 3, False),
    ("def g():\n    await x\n", 2, False),
    ("from __future__ import annotations\n", 1, True),
    ("f(x for x in y, )\n", None, False),
    ("f(1, x for x in y)\n", 1, False),
]


def test_supported() -> None:
    assert (3, 6) in SUPPORTED_VERSIONS


@pytest.mark.parametrize(("source", "line36", "ok37"), CASES)
def test_python36_verdicts(source: str, line36: int | None, ok37: bool) -> None:
    r36 = parse(source.encode(), (3, 6))
    assert (r36.error.line if r36.error else None) == line36, r36.error
    assert (parse(source.encode(), (3, 7)).error is None) == ok37
