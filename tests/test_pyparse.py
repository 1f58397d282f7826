"""pyparse against the real interpreters' verdicts (fidelity labels) and the tree contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from modeltemplates.inspect.pyparse import MAXSTACK, Node, ParseResult, parse
from tests.conftest import FIDELITY, REFERENCE

EXAMPLES = REFERENCE / "examples_of_custom_scripts"

PY27, PY37 = (2, 7), (3, 7)


def _labels() -> list[tuple[str, str, dict[str, object]]]:
    sources = json.loads((FIDELITY / "labels.json").read_text())["sources"]
    return [(sid, key, lab[key]) for sid, lab in sorted(sources.items()) for key in ("py27", "py37")]


_LABEL_RE = re.compile(r"^(?P<exc>\w+): (?P<msg>.*) \(line (?P<line>\d+), offset (?P<offset>\w+)\)$", re.S)


@pytest.mark.parametrize(("sid", "key", "label"), _labels(), ids=lambda v: v if isinstance(v, str) else "")
def test_fidelity_label(sid: str, key: str, label: dict[str, object]) -> None:
    """ok/not-ok, the message, the line and the offset all as the real interpreter reports them."""
    version = PY27 if key == "py27" else PY37
    data = (FIDELITY / "sources" / f"{sid}.py").read_bytes()
    result = parse(data, version, f"sources/{sid}.py")
    assert result.ok is label["ok"], result.error
    if label["ok"]:
        assert result.tree is not None and result.tree.type == "file_input"
        return
    assert result.error is not None and result.tree is None
    expected = _LABEL_RE.match(str(label["error"]))
    assert expected, label["error"]
    assert result.error.line == int(expected["line"])
    offset = expected["offset"]
    assert result.error.offset == (None if offset == "None" else int(offset))
    assert result.error.describe() == label["error"]


# ---------------------------------------------------------------- the tree contract


def _tree(src: str, version: tuple[int, int] = PY37) -> Node:
    result = parse(textwrap.dedent(src).encode(), version)
    assert result.error is None, result.error
    assert result.tree is not None
    return result.tree


def _types(node: Node) -> list[str]:
    return [n.type for n in node.iter_nodes()]


def test_single_child_nonterminals_collapse_but_not_the_root() -> None:
    tree = _tree("x\n")
    assert tree.type == "file_input"
    stmt = tree.children[0]
    assert stmt.type == "simple_stmt"
    assert [c.type for c in stmt.children] == ["NAME", "NEWLINE"]
    assert stmt.children[0].value == "x"
    assert (stmt.children[0].line, stmt.children[0].column) == (1, 1)


def test_node_names_are_cpython_grammar_symbols() -> None:
    tree = _tree(
        """
        import os.path as p
        from . import a, b
        class C(Base):
            def f(self, x=1, *args, **kw):
                return super(C, self).f(x)
        """
    )
    types = set(_types(tree))
    assert {"import_name", "dotted_as_name", "import_from", "import_as_names", "classdef", "funcdef",
            "parameters", "typedargslist", "atom_expr", "trailer", "arglist", "return_stmt"} <= types
    funcdef = next(n for n in tree.iter_nodes() if n.type == "funcdef")
    assert funcdef.children[1].value == "f"
    assert (funcdef.line, funcdef.column) == (5, 5)


def test_py27_tree_uses_power_and_varargslist() -> None:
    tree = _tree("def f(a, (b, c)=x):\n    print a.b(c)\n", PY27)
    types = set(_types(tree))
    assert {"varargslist", "fpdef", "power", "trailer", "print_stmt"} <= types
    assert "atom_expr" not in types


def test_first_leaf_last_leaf_and_preorder() -> None:
    tree = _tree("a = b + c\n")
    expr = tree.children[0].children[0]
    assert expr.type == "expr_stmt"
    assert expr.first_leaf().value == "a"
    assert expr.last_leaf().value == "c"
    leaves = [n.value for n in tree.iter_nodes() if not n.children]
    assert leaves[:5] == ["a", "=", "b", "+", "c"]


def test_columns_count_characters_and_multiline_strings_start_where_they_begin() -> None:
    tree = _tree('s = "é" + x\nt = """a\nb""" + y\n')
    xs = [n for n in tree.iter_nodes() if n.type == "NAME" and n.value in ("x", "y")]
    assert [(n.line, n.column) for n in xs] == [(1, 11), (3, 8)]
    string = next(n for n in tree.iter_nodes() if n.type == "STRING" and n.value.startswith('"""'))
    assert (string.line, string.column) == (2, 5)


def test_deep_but_valid_tree_walks_without_recursion() -> None:
    src = "x = " + "-" * 1400 + "1\n"
    tree = _tree(src, PY27)
    assert sum(1 for _ in tree.iter_nodes()) > 2800
    assert tree.children[0].children[0].last_leaf().value == "1"


# ---------------------------------------------------------------- version differences


@pytest.mark.parametrize(
    ("src", "ok27", "ok37"),
    [
        ("print 'x'\n", True, False),
        ("print('x', end='')\n", False, True),
        ("from __future__ import print_function\nprint('x', end='')\n", True, True),
        ("from __future__ import print_function\nprint 'x'\n", False, False),
        ("from __future__ import (print_function)\nprint('x', file=f)\n", True, True),
        ("exec 'x = 1' in ns\n", True, False),
        ("exec('x = 1')\n", True, True),
        ("x = `1`\n", True, False),
        ("x = 1 <> 2\n", True, False),
        ("x = 10L + 0777 + 0xFFL\n", True, False),
        ("x = 0o777 + 0b101 + 1e10 + 1.5j\n", True, True),
        ("x = 1_000\n", False, True),
        ("s = ur'a'\n", True, False),
        ("s = rb'a' + Rb'b'\n", False, True),
        ("s = f'{x!r:>{w}}'\n", False, True),
        ("try:\n    pass\nexcept E, e:\n    pass\n", True, False),
        ("raise E, 'm'\n", True, False),
        ("def f((a, b)):\n    pass\n", True, False),
        ("lambda (a, b): a\n", True, False),
        ("async = 1\nawait = 2\n", True, False),
        ("async def f():\n    await g()\n    async with a as b:\n        pass\n", False, True),
        ("def g():\n    yield from range(3)\n", False, True),
        ("def f(a, *, b):\n    pass\n", False, True),
        ("def f(a: int) -> int:\n    return a\n", False, True),
        ("x: int = 1\n", False, True),
        ("a, *b = c\n", False, True),
        ("f(*a, *b, **c, **d)\n", False, True),
        ("d = {**a, 'k': 1}\n", False, True),
        ("c = a @ b\n", False, True),
        ("nonlocal_ = 1\n", True, True),
        ("x = {1, 2}\ny = {k: v for k, v in z}\nw = {v for v in z}\n", True, True),
        ("with a as b, c as d:\n    pass\n", True, True),
        ("x = [i for i in range(3) if i]\n", True, True),
        ("print >>sys.stderr, 'x'\n", True, True),  # 3.x: a tuple expression
        ("True = 1\n", True, False),
        ("None = 1\n", False, False),
        ("x = ...\n", False, True),
        ("x[...]\n", True, True),
        ("class A(object, metaclass=M):\n    pass\n", False, True),
    ],
)
def test_version_specific_syntax(src: str, ok27: bool, ok37: bool) -> None:
    assert parse(src.encode(), PY27).ok is ok27, parse(src.encode(), PY27).error
    assert parse(src.encode(), PY37).ok is ok37, parse(src.encode(), PY37).error


# ---------------------------------------------------------------- the checks after parsing


@pytest.mark.parametrize(
    ("src", "version", "message", "line", "offset"),
    [
        ("f() = 1\n", PY37, "can't assign to function call", 1, 0),
        ("f() = 1\n", PY27, "can't assign to function call", 1, None),
        ("x = 1\n[a, 1] = y\n", PY37, "can't assign to literal", 2, 0),
        ("del f()\n", PY37, "can't delete function call", 1, 4),
        ("x + 1 += 2\n", PY37, "can't assign to operator", 1, 0),
        ("(a, b) += 1\n", PY37, "illegal expression for augmented assignment", 1, 0),
        ("f(a=1, a=2)\n", PY37, "keyword argument repeated", 1, 7),
        ("f(a=1, a=2)\n", PY27, "keyword argument repeated", 1, None),
        ("f(a=1, 2)\n", PY37, "positional argument follows keyword argument", 1, 7),
        ("f(a=1, 2)\n", PY27, "non-keyword arg after keyword arg", 1, None),
        ("f(x for x in y, 1)\n", PY37, "Generator expression must be parenthesized", 1, 2),
        ("f(x for x in y, 1)\n", PY27, "Generator expression must be parenthesized if not sole argument", 1, None),
        ("f(1 + 1=2)\n", PY37, "keyword can't be an expression", 1, 2),
        ("f(lambda: 0=1)\n", PY37, "lambda cannot contain assignment", 1, 2),
        ("def f(a=1, b):\n    pass\n", PY37, "non-default argument follows default argument", 1, 6),
        ("def f(a=1, b):\n    pass\n", PY27, "non-default argument follows default argument", 1, None),
        ("def f(a, a):\n    pass\n", PY37, "duplicate argument 'a' in function definition", 1, 0),
        ("def f(a, a):\n    pass\n", PY27, "duplicate argument 'a' in function definition", 1, None),
        ("def f(None):\n    pass\n", PY27, "cannot assign to None", 1, None),
        ("def f(*):\n    pass\n", PY37, "named arguments must follow bare *", 1, 6),
        ("return 1\n", PY37, "'return' outside function", 1, 0),
        ("class C:\n    yield 1\n", PY27, "'yield' outside function", 2, None),
        ("break\n", PY37, "'break' outside loop", 1, 0),
        ("for x in y:\n    def f():\n        continue\n", PY37, "'continue' not properly in loop", 3, 8),
        ("while 1:\n    try:\n        pass\n    finally:\n        continue\n", PY37,
         "'continue' not supported inside 'finally' clause", 5, 8),
        ("try:\n    pass\nexcept:\n    pass\nexcept E:\n    pass\n", PY37, "default 'except:' must be last", 3, 0),
        ("def g():\n    yield 1\n    return 2\n", PY27, "'return' with argument inside generator", 3, None),
        ("nonlocal x\n", PY37, "nonlocal declaration not allowed at module level", 1, 0),
        ("def f():\n    nonlocal x\n", PY37, "no binding for nonlocal 'x' found", 2, 4),
        ("def f(a):\n    global a\n", PY37, "name 'a' is parameter and global", 2, 4),
        ("def f():\n    x = 1\n    global x\n", PY37, "name 'x' is assigned to before global declaration", 3, 4),
        ("def f():\n    from os import *\n", PY37, "import * only allowed at module level", 1, 0),
        ("def f():\n    from os import *\n    def g():\n        return x\n", PY27,
         "import * is not allowed in function 'f' because it contains a nested function with free variables",
         2, None),
        ("import os\nfrom __future__ import division\n", PY37,
         "from __future__ imports must occur at the beginning of the file", 2, 0),
        ('"""doc"""\nfrom __future__ import division\n', PY27, None, None, None),
        ("from __future__ import braces\n", PY37, "not a chance", 1, 0),
        ("from __future__ import nope\n", PY37, "future feature nope is not defined", 1, 0),
        ("a, *b, *c = d\n", PY37, "two starred expressions in assignment", 1, 0),
        ("*a = b\n", PY37, "starred assignment target must be in a list or tuple", 1, 0),
        ("x = *a\n", PY37, "can't use starred expression here", 1, 4),
        ("[*a for a in b]\n", PY37, "iterable unpacking cannot be used in comprehension", 1, 1),
        ("def f():\n    await x\n", PY37, "'await' outside async function", 2, 4),
        ("async def f():\n    yield from x\n", PY37, "'yield from' inside async function", 2, 4),
        ("x = b'\xc3\xa9'\n", PY37, "bytes can only contain ASCII literal characters.", 1, 4),
        ("x = b'a' 'b'\n", PY37, "cannot mix bytes and nonbytes literals", 1, 4),
        ("x = '\\x4'\n", PY37,
         "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-2: truncated \\xXX escape", 1, 4),
        ("x = u'\\N{nope}'\n", PY27,
         "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-7: unknown Unicode character name",
         1, None),
        ("x = f'{}'\n", PY37, "f-string: empty expression not allowed", 1, 4),
        ("x = f'{a!x}'\n", PY37, "f-string: invalid conversion character: expected 's', 'r', or 'a'", 1, 4),
        ("x = f'a}'\n", PY37, "f-string: single '}' is not allowed", 1, 4),
        ("x = f'{a'\n", PY37, "f-string: expecting '}'", 1, 4),
        ("x = f'{a #}'\n", PY37, "f-string expression part cannot include '#'", 1, 4),
        ("x = f'{a b}'\n", PY37, "invalid syntax", 1, 4),
        ("x = f'{(}'\n", PY37, "f-string: expecting '}'", 1, 4),
        ("x = f'{a[}'\n", PY37, "f-string: expecting '}'", 1, 4),
        ("x = f'{a[b'\n", PY37, "f-string: mismatched '(', '{', or '['", 1, 4),
        ("print -1 = 2\n", PY37, "Missing parentheses in call to 'print'. Did you mean print(-1 = 2)?", 1, 0),
        ("def f():\n    print 'a',\n", PY37,
         "Missing parentheses in call to 'print'. Did you mean print('a', end=\" \")?", 2, 13),
        ("if x: print x\n", PY37, "Missing parentheses in call to 'print'. Did you mean print(x)?", 1, 13),
        # the checks' shortcuts for simple targets, plain strings and f-string names (what CPython
        # 2.7.18 / 3.7.16 say)
        ("x = object()\nx.__debug__ = 1\n", PY27, "cannot assign to __debug__", 2, None),
        ("x = object()\nx.__debug__ = 1\n", PY37, "assignment to keyword", 2, 0),
        ("obj.a.None += 1\n", PY27, "cannot assign to None", 1, None),
        ("y = 0\n__debug__ += 1\n", PY27, "cannot assign to __debug__", 2, None),
        ("y = 0\n__debug__ += 1\n", PY37, "assignment to keyword", 2, 0),
        ("def f():\n    print(f\"{y}\")\n    global y\n", PY37,
         "name 'y' is used prior to global declaration", 3, 4),
        ("def f():\n    print(f\"{y.real}\")\n    global y\n", PY37,
         "name 'y' is used prior to global declaration", 3, 4),
        ("x = 1\ny = f\"{x.if}\"\n", PY37, "invalid syntax", 1, 5),
        ("def f():\n    x = 1\n    def g():\n        nonlocal x\n        return f\"{x.real} {x}{_y1!r:>{x}}\"\n"
         "    return g\n", PY37, None, None, None),
        ("x = f\"a\\n{1}\\t\\\\\" + \"b\\x41\" + r\"\\d\" + b'c'\n", PY37, None, None, None),
        # ``await`` is a plain name in 2.7 and outside ``async def`` in 3.6: ``await ** 2`` is a power
        ("await = 2\nx = await ** 2\n", PY27, None, None, None),
        ("def f():\n    return await ** 2\n", (3, 6), None, None, None),
    ],
)
def test_post_parse_checks(src: str, version: tuple[int, int], message: str | None, line: int | None,
                           offset: int | None) -> None:
    result = parse(src.encode("utf-8", "surrogateescape"), version)
    if message is None:
        assert result.ok, result.error
        return
    assert result.error is not None, "expected an error"
    assert (result.error.message, result.error.line, result.error.offset) == (message, line, offset)


def test_valueerror_for_bad_byte_escape_in_27() -> None:
    result = parse(b"x = 'a\\x4'\n", PY27)
    assert result.error is not None
    assert (result.error.exc_type, result.error.message) == ("ValueError", "invalid \\x escape")
    assert result.error.source_line == 1


def test_future_features_are_reported() -> None:
    result = parse(b'"""doc"""\nfrom __future__ import division, print_function\n', PY27)
    assert result.ok
    assert result.future_features == frozenset({"division", "print_function"})
    assert parse(b"from __future__ import annotations\n", PY37).future_features == frozenset({"annotations"})


def test_annotations_future_is_unknown_to_27() -> None:
    result = parse(b"from __future__ import annotations\n", PY27)
    assert result.error is not None
    assert result.error.kind == "future"
    assert result.error.describe() == "SyntaxError: future feature annotations is not defined (line 1, offset None)"


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("data", "ok27", "ok37", "encoding27"),
    [
        (b"# -*- coding: utf-8 -*-\ns = '\xc3\xa9'\n", True, True, "utf-8"),
        (b"#!/usr/bin/env python\n# vim: set fileencoding=latin-1 :\ns = '\xe9'\n", True, True, "iso-8859-1"),
        (b"# coding=gbk\ns = '\xc4\xe3'\n", True, True, "gbk"),
        (b"\xef\xbb\xbfs = '\xc3\xa9'\n", True, True, "utf-8"),
        (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", False, False, "ascii"),
        (b"# coding: nonesuch\nx = 1\n", False, False, "ascii"),
        (b"s = '\xc3\xa9'\n", False, True, "ascii"),
        (b"x = 1\n# coding: utf-8\ns = '\xc3\xa9'\n", False, True, "ascii"),
        (b"# \xc3\xa9\n# coding: utf-8\n", False, True, "ascii"),
        (b"# ok\n\n\n# \xc3\xa9 in a comment on line 4\n", False, True, "ascii"),
        (b"# \xff not utf-8 in a comment\n", False, True, "ascii"),
        (b"s = '\xff'\n", False, False, "ascii"),
        (b"\xff = 1\n", False, False, "ascii"),
    ],
)
def test_source_encoding(data: bytes, ok27: bool, ok37: bool, encoding27: str) -> None:
    r27, r37 = parse(data, PY27, "m.py"), parse(data, PY37, "m.py")
    assert r27.ok is ok27, r27.error
    assert r37.ok is ok37, r37.error
    if ok27:
        assert r27.encoding == encoding27


def test_non_ascii_message_names_file_line_and_byte() -> None:
    result = parse(b"x = 1\n\n# caf\xc3\xa9\n", PY27, "pkg/customize_service.py")
    assert result.error is not None
    assert result.error.kind == "encoding"
    assert result.error.message == (
        "Non-ASCII character '\\xc3' in file pkg/customize_service.py on line 3, but no encoding "
        "declared; see http://python.org/dev/peps/pep-0263/ for details"
    )
    assert (result.error.line, result.error.offset, result.error.source_line) == (3, 0, 3)


# ---------------------------------------------------------------- odd input: a result, never an exception


@pytest.mark.parametrize(
    "data",
    [
        b"", b"# only a comment\n", b"# c1\n# c2", b"x = 1", b"if x:\r\n    y = 1\r\n", b"if x:\r    y = 1\r",
        b"\x0cx = 1\n\x0c\nif x:\n\x0c    y = 2\n", b"x = 1\0junk\ny = 2\n", b"\0\0\0", bytes(range(256)) * 8,
        b"\xff\xfe\x00x\x00", b"x = '''never closed\n", b"x = 'eol\n", b"foo(\n", b"x = 1 \\", b"\\\n",
        b"  \n\t\n", b"if x:\n\tpass\n        pass\n", b"def f(:\n", b")" * 10, b"(" * 10, b"\n" * 1000,
        b"x" * 100_000, b"'" * 1001, b"#" * 10_000, "λ = 1\n".encode(), b"\x1b[31m\n",
    ],
)
def test_odd_input_gives_a_result(data: bytes) -> None:
    for version in (PY27, PY37):
        result = parse(data, version, "odd.py")
        assert isinstance(result, ParseResult)
        assert (result.tree is None) == (result.error is not None)
        if result.error is not None:
            assert result.error.source_line >= 1


def test_empty_and_comment_only_files_are_fine() -> None:
    for data in (b"", b"# x\n", b"\n\n", b"# x"):
        for version in (PY27, PY37):
            result = parse(data, version)
            assert result.ok and result.tree is not None
            assert result.tree.children[-1].type == "ENDMARKER"


def test_crlf_and_cr_only_line_ends() -> None:
    for data in (b"if x:\r\n    y = 1\r\n", b"if x:\r    y = 1\r"):
        for version in (PY27, PY37):
            tree = parse(data, version).tree
            assert tree is not None
            assert [n.line for n in tree.iter_nodes() if n.value == "y"] == [2]


def test_nul_bytes() -> None:
    r37 = parse(b"x = 1\n\0\n", PY37)
    assert r37.error is not None
    assert (r37.error.kind, r37.error.exc_type, r37.error.source_line) == ("nul", "ValueError", 2)
    # 2.7 reads the line up to the NUL and joins the next line to it
    assert parse(b"x = 1  # \0 dropped\ny = 2\n", PY27).ok
    assert not parse(b"x = 1\0\ny = 2\n", PY27).ok


def test_parser_stack_limit_is_cpythons() -> None:
    for version, deepest_ok in ((PY27, 98), (PY37, 92)):
        ok = parse(b"x = " + b"(" * deepest_ok + b"1" + b")" * deepest_ok + b"\n", version)
        too_deep = parse(b"x = " + b"(" * (deepest_ok + 1) + b"1" + b")" * (deepest_ok + 1) + b"\n", version)
        assert ok.ok, ok.error
        assert too_deep.error is not None
        assert too_deep.error.kind == "limit"
        assert too_deep.error.exc_type == "MemoryError"
        assert too_deep.error.message == "s_push: parser stack overflow"
    assert MAXSTACK == 1500


# Deepest nesting CPython 2.7.18 / 3.7.16 compile before "s_push: parser stack overflow", measured
# with compile() on the real interpreters. Each form descends the expression grammar differently,
# so the parser's merged runs of frames must count every frame CPython pushes.
_DEEPEST = {
    "f(": {PY27: 92, PY37: 87},
    "a[": {PY27: 92, PY37: 87},
    "lambda: ": {PY27: 740, PY37: 739},
    "2**": {PY27: 740, PY37: 739},
}


@pytest.mark.parametrize("opener", sorted(_DEEPEST))
@pytest.mark.parametrize("version", [PY27, PY37])
def test_stack_limit_for_other_nestings(opener: str, version: tuple[int, int]) -> None:
    closer = {"f(": ")", "a[": "]"}.get(opener, "")
    deepest = _DEEPEST[opener][version]

    def source(n: int) -> bytes:
        return f"x = {opener * n}1{closer * n}\n".encode()

    assert parse(source(deepest), version).ok
    too_deep = parse(source(deepest + 1), version).error
    assert too_deep is not None and too_deep.message == "s_push: parser stack overflow"


def test_the_garbage_collector_is_never_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Process-wide state stays the embedding application's: a parse neither enables nor disables it."""
    import gc

    calls: list[str] = []
    monkeypatch.setattr(gc, "disable", lambda: calls.append("disable"))
    monkeypatch.setattr(gc, "enable", lambda: calls.append("enable"))
    assert parse(b"x = [1, (2, 3)]\n" * 100, PY37).ok
    assert parse(b"print 'x'\n" * 100, PY27).ok
    assert calls == []


def test_a_parse_leaves_no_cyclic_garbage() -> None:
    """The checks' scopes link both ways; they are unlinked when done, so a parse's memory is freed
    at once rather than by the cyclic collector (whose work grows with what it must find)."""
    import gc

    source = (b"def f(a, *b, **c):\n    def g():\n        nonlocal a\n        return [x for x in a]\n"
              b"    class C:\n        y = lambda: a\n    return g, {k: v for k, v in c.items()}\n")
    parse(source, PY37)  # warm up: first-use caches are not garbage
    parse(source.replace(b"nonlocal", b"global"), PY27)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        assert parse(source, PY37).ok
        assert parse(source.replace(b"nonlocal", b"global"), PY27).ok
        assert parse(b"def f():\n    return 1\n    yield 2\n", PY27).error is not None
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.timeout(60)  # a hang guard, not a speed target
def test_very_deep_nesting_is_bounded() -> None:
    for version in (PY27, PY37):
        result = parse(b"x = " + b"(" * 100_000 + b"1" + b")" * 100_000 + b"\n", version)
        assert result.error is not None and result.error.kind == "limit"
        result = parse(b"x = " + b"[" * 100_000 + b"\n", version)
        assert result.error is not None


def test_indentation_limit() -> None:
    src = b"".join(b" " * i + b"if x:\n" for i in range(101)) + b" " * 101 + b"pass\n"
    result = parse(src, PY37)
    assert result.error is not None
    assert (result.error.message, result.error.exc_type) == ("too many levels of indentation", "IndentationError")


def test_tabs() -> None:
    mixed = b"if x:\n        a = 1\n\tb = 2\n"
    assert parse(mixed, PY27).ok
    r37 = parse(mixed, PY37)
    assert r37.error is not None and r37.error.kind == "tab"
    # 2.7 honours an editor tab-size comment when it measures indentation
    vim4 = b"# vim:ts=4\nif x:\n    a = 1\n\tb = 2\n"
    assert parse(vim4, PY27).ok
    assert not parse(b"if x:\n    a = 1\n\tb = 2\n", PY27).ok


@pytest.mark.slow
@pytest.mark.timeout(300)  # a hang guard; bench/bench_parse.py measures the speed
def test_five_megabyte_file_parses() -> None:
    line = b"value_%d = compute(a, b[1:2], {'k': [1, 2.5, 'x']}) if flag else None  # note\n"
    data = b"".join(line.replace(b"%d", str(i).encode()) for i in range(5 * 1024 * 1024 // len(line)))
    assert parse(data, PY27).ok


# ---------------------------------------------------------------- real code


PY27_CORPUS = '''\
# -*- coding: utf-8 -*-
"""A module in the Python 2 style the PyTorch-py27 template runs."""
from __future__ import absolute_import, division
import os, sys  # comments everywhere
from collections import (OrderedDict,
                         defaultdict)   # parenthesised import across lines


class Model(object):
    """Docstring."""
    scale = 2 ** 10

    def __init__(self, name, path=None, *args, **kwargs):
        super(Model, self).__init__()
        self.name = name
        self.cache = {}  # dict
        self.seen = set()

    @property
    def size(self):
        return len(self.cache)

    @staticmethod
    def helper(x, (y, z)=(1, 2)):
        return x + y + z

    def predict(self, data):
        print "predicting", data
        print >> sys.stderr, "debug:", \\
            len(data)
        result = [x * 2 for x in data if x > 0]
        squares = {x: x ** 2 for x in range(10)}
        odd = {x for x in range(10) if x % 2}
        gen = (x for x in data)
        total = sum(x for x in gen)
        label = "big" if total > 10 else "small"
        f = lambda a, b=2: a + b
        try:
            value = self.cache[label]
        except KeyError, e:
            value = None
        except (TypeError, ValueError) as e:
            raise ValueError, "bad: %s" % e
        finally:
            pass
        with open(os.devnull) as fh, open(os.devnull) as fh2:
            fh.read()
        exec "y = 1" in {}
        r = `value`
        if value <> None:
            pass
        matrix = [[1, 2,
                   3], [4,
                        5, 6]]
        big = 12345678901234567890L + 0777 + 0xffL
        s = u"unicode" + ur"raw\\d" + b"bytes" + br"raw\\bytes" + "caf\xc3\xa9"
        for i in xrange(3):
            if i == 1:
                continue
            elif i == 2:
                break
        else:
            pass
        while False:
            yield_ = None
        assert isinstance(result, list), "message"
        del result[0:1], squares[0]
        global GLOBAL_COUNT
        GLOBAL_COUNT = 1
        return {'result': result, 'label': label, 'total': total}


def gen():
    yield 1
    x = yield
    return


def outer():
    def inner(a, b):
        return a + b
    return inner


GLOBAL_COUNT = 0
if __name__ == '__main__':
    Model('m').predict([1, 2, 3])
'''


def test_typical_python2_code_parses_under_27() -> None:
    result = parse(PY27_CORPUS.encode("utf-8"), PY27)
    assert result.ok, result.error
    assert not parse(PY27_CORPUS.encode("utf-8"), PY37).ok


def _rst_blocks(text: str) -> list[tuple[int, str]]:
    lines = text.splitlines()
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        if lines[i].strip().startswith(".. code-block::") or lines[i].rstrip().endswith("::"):
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            body = []
            while j < len(lines) and (not lines[j].strip() or lines[j].startswith((" ", "\t"))):
                body.append(lines[j])
                j += 1
            if body:
                out.append((i + 1, textwrap.dedent("\n".join(body)) + "\n"))
            i = j
        else:
            i += 1
    return out


# (file, line of the block) -> (ok under 2.7, ok under 3.7); other blocks are not Python.
_EXAMPLE_VERDICTS = {
    ("caffe.rst", 359): (True, True),
    ("pytorch.rst", 11): (True, True),
    ("pytorch.rst", 97): (True, True),
    ("pytorch.rst", 107): (True, True),
    ("tensorflow.rst", 13): (True, True),
    # The documented export script has a docstring between two keyword arguments: a real error.
    ("tensorflow.rst", 54): (False, False),
    ("tensorflow.rst", 91): (True, True),
    ("tensorflow.rst", 322): (True, True),
    ("tensorflow.rst", 360): (True, True),
}


def test_platform_example_scripts() -> None:
    seen = set()
    for rst in sorted(EXAMPLES.glob("*.rst")):
        for line, code in _rst_blocks(rst.read_text(encoding="utf-8")):
            key = (rst.name, line)
            if key not in _EXAMPLE_VERDICTS:
                continue
            seen.add(key)
            ok27, ok37 = _EXAMPLE_VERDICTS[key]
            assert parse(code.encode(), PY27).ok is ok27, (key, parse(code.encode(), PY27).error)
            assert parse(code.encode(), PY37).ok is ok37, (key, parse(code.encode(), PY37).error)
    assert seen == set(_EXAMPLE_VERDICTS)


def test_non_ascii_on_line_2_after_a_code_line_1_is_still_caught_by_27() -> None:
    result = parse(b"x = 1\n# caf\xc3\xa9\n", PY27)
    assert result.error is not None and result.error.kind == "encoding" and result.error.line == 2


def test_mutated_sources_never_raise() -> None:
    """Deterministic mutations of real code: every outcome is a result, never an exception."""
    import random

    rng = random.Random(1234)
    seeds = [PY27_CORPUS.encode(), b"s = f'{x!r:>{w}}' + rb'\\d'\nasync def f():\n    await g()\n"]
    alphabet = b"{}!:=()[]*,'\"\\#\n\t\x0c\r\0\xc3\xa9\xff fxubrL0@`<>"
    for _ in range(300):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randint(0, len(data))
            if rng.random() < 0.6:
                data[pos:pos] = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
            else:
                del data[pos : pos + rng.randint(1, 3)]
        for version in (PY27, PY37):
            result = parse(bytes(data), version)
            assert (result.tree is None) == (result.error is not None)


@pytest.mark.parametrize(
    ("src", "version", "line", "offset"),
    [
        # an f-string error inside a triple-quoted string is reported on the line the string ends
        (b'x=1\ns=f"""\n{x}\nx+1}"""\n', PY37, 4, -1),
        (b's=f"""\n{x!z}\n"""\n', PY37, 3, -1),
        # a triple-quoted string open at the end of the file (2.7: as import reports it)
        (b'x = """abc\n', PY27, 3, None),
        (b'x = """abc', PY27, 2, None),
        (b'x=1\ns="""\n{x}\n{x+1}""\n', PY27, 6, None),
        (b'x=1\ns="""\n{x}\n{x+1}""\n', PY37, 4, None),
    ],
)
def test_error_lines_of_multi_line_strings(src: bytes, version: tuple[int, int], line: int, offset: int | None) -> None:
    """Checked against CPython 2.7.18 (import) and 3.7.16 (compile) on the same bytes."""
    error = parse(src, version).error
    assert error is not None and error.line == line
    if offset is not None:
        assert error.offset == offset


def test_node_tree_is_made_on_first_use_from_the_plain_tuple_tree() -> None:
    """The parse keeps plain tuples; ``tree`` is the same tree as Node objects, made once (on
    first use), field for field equal."""
    from modeltemplates.inspect.pyparse import as_nodes

    result = parse(b"import os\ndef f(a, *b):\n    return [x for x in b if x](a)\n", PY37)
    raw = result.raw_tree
    assert raw is not None and type(raw) is tuple and type(raw[2][0]) is tuple
    tree = result.tree
    assert tree is not None and tree is result.tree
    assert tree == raw and as_nodes(raw) == tree
    assert all(type(node) is Node for node in tree.iter_nodes())
    failed = parse(b"x = (1,\n  2 3)\n", PY37)
    assert failed.raw_tree is None and failed.tree is None


def test_parser_tables_are_the_same_in_every_process() -> None:
    """The tables are made from sets of NFA states; walked in the order they were made (not by
    their addresses), every process numbers the states alike."""
    code = (
        "import hashlib\n"
        "from modeltemplates.inspect.grammars import grammar, tables\n"
        "h = hashlib.sha256()\n"
        "for v in ((2, 7), (3, 6), (3, 7)):\n"
        "    t = tables(v)\n"
        "    h.update(repr((grammar(v).states, t.rows, t.runs, t.defaults, t.accept_only)).encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(3)
    }
    assert len(digests) == 1
