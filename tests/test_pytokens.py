"""The tokenizer and PEP 263 decoding, version by version."""

from __future__ import annotations

import pytest

from modeltemplates.inspect import pytokens
from modeltemplates.inspect.grammars import language
from modeltemplates.inspect.pytokens import TokenizeError, coding_spec, decode_source, tokenize

R27 = language((2, 7)).tokenizer
R37 = language((3, 7)).tokenizer


def _toks(src: str, rules: pytokens.TokenizerRules) -> list[tuple[str, str]]:
    return [(t[0], t[1]) for t in tokenize(src, rules)]


def _error(src: str, rules: pytokens.TokenizerRules) -> TokenizeError:
    with pytest.raises(TokenizeError) as info:
        list(tokenize(src, rules))
    return info.value


def test_indent_dedent_and_the_extra_newline_parsetok_adds() -> None:
    toks = _toks("if x:\n    y\n", R37)
    assert toks == [
        ("NAME", "if"), ("NAME", "x"), ("OP", ":"), ("NEWLINE", ""), ("INDENT", ""), ("NAME", "y"),
        ("NEWLINE", ""), ("DEDENT", ""), ("NEWLINE", ""), ("ENDMARKER", ""),
    ]
    assert _toks("", R27) == [("ENDMARKER", "")]


def test_blank_and_comment_lines_and_brackets_produce_no_newline() -> None:
    toks = _toks("x = (1,\n\n  # c\n 2)  # t\n\n# end\n", R37)
    assert [k for k, _ in toks].count("NEWLINE") == 2
    assert ("NUMBER", "2") in toks


@pytest.mark.parametrize(
    ("src", "r27", "r37"),
    [
        ("u'a'", [("STRING", "u'a'")], [("STRING", "u'a'")]),
        ("ur'a'", [("STRING", "ur'a'")], [("NAME", "ur"), ("STRING", "'a'")]),
        ("br'a'", [("STRING", "br'a'")], [("STRING", "br'a'")]),
        ("rb'a'", [("NAME", "rb"), ("STRING", "'a'")], [("STRING", "rb'a'")]),
        ("f'a'", [("NAME", "f"), ("STRING", "'a'")], [("STRING", "f'a'")]),
        ("Rf'a'", [("NAME", "Rf"), ("STRING", "'a'")], [("STRING", "Rf'a'")]),
        ("10L", [("NUMBER", "10L")], [("NUMBER", "10"), ("NAME", "L")]),
        ("0xffL", [("NUMBER", "0xffL")], [("NUMBER", "0xff"), ("NAME", "L")]),
        ("1_000", [("NUMBER", "1"), ("NAME", "_000")], [("NUMBER", "1_000")]),
        ("1e5j", [("NUMBER", "1e5j")], [("NUMBER", "1e5j")]),
        (".5", [("NUMBER", ".5")], [("NUMBER", ".5")]),
        ("...", [("OP", "."), ("OP", "."), ("OP", ".")], [("OP", "...")]),
        ("->", [("OP", "-"), ("OP", ">")], [("OP", "->")]),
        ("@=", [("OP", "@"), ("OP", "=")], [("OP", "@=")]),
        ("<>", [("OP", "<>")], [("OP", "<>")]),
        ("**=", [("OP", "**=")], [("OP", "**=")]),
        ("`", [("OP", "`")], [("OP", "`")]),
    ],
)
def test_version_specific_tokens(src: str, r27: list[tuple[str, str]], r37: list[tuple[str, str]]) -> None:
    assert _toks(src + "\n", R27)[:-3] == r27
    assert _toks(src + "\n", R37)[:-3] == r37


def test_3x_numbers_old_octal_and_bad_underscores_are_invalid_tokens() -> None:
    for src in ("0777\n", "1__0\n", "1_\n", "0x_\n", "0b2\n"):
        assert _error(src, R37).code == "E_TOKEN"
    assert _toks("0777\n", R27)[0] == ("NUMBER", "0777")
    assert _error("0789\n", R27).code == "E_TOKEN"
    assert _error("1e+\n", R27).code == "E_TOKEN"
    assert _toks("1e\n", R37)[:2] == [("NUMBER", "1"), ("NAME", "e")]


def test_string_errors_and_their_positions() -> None:
    eol37 = _error("x = 'abc\n", R37)
    assert (eol37.code, eol37.lineno, eol37.cur, eol37.buf) == ("E_EOLS", 1, 9, 0)
    eol27 = _error("x = 'abc\n", R27)
    assert (eol27.code, eol27.cur) == ("E_EOLS", 8)  # 2.7 stops at the newline
    eof = _error('x = 1\ny = """a\nb\n', R37)
    assert (eof.code, eof.lineno, eof.buf) == ("E_EOFS", 3, 6)
    # 2.7's import (file tokenizer) names the line after the last one, one more when the file ends
    # with a line end (CPython 2.7.18 importing 'y = """a' with and without the final newline)
    assert _error('y = """a\n', R27).lineno == 3
    with pytest.raises(TokenizeError) as info:
        list(tokenize('y = """a\n', R27, final_newline=False))
    assert info.value.lineno == 2
    assert _error('y = """a\n""\n', R27).lineno == 4  # quotes inside the open string change nothing


def test_escaped_newline_continues_a_single_quoted_string() -> None:
    toks = _toks("s = 'a\\\nb'\nt = 1\n", R37)
    assert toks[2] == ("STRING", "'a\\\nb'")
    lines = [t[2] for t in tokenize("s = 'a\\\nb'\nt = 1\n", R37) if t[1] == "t"]
    assert lines == [3]


def test_line_continuation() -> None:
    assert _toks("x = 1 + \\\n    2\n", R37)[:5] == [
        ("NAME", "x"), ("OP", "="), ("NUMBER", "1"), ("OP", "+"), ("NUMBER", "2")
    ]
    assert _error("x = 1 \\ 2\n", R37).code == "E_LINECONT"


def test_indentation_errors() -> None:
    assert _error("if x:\n    a\n  b\n", R37).code == "E_DEDENT"
    tab = _error("if x:\n        a\n\tb\n", R37)
    assert (tab.code, tab.lineno, tab.cur, tab.buf) == ("E_TABSPACE", 3, 19, 16)
    assert [k for k, _ in _toks("if x:\n        a\n\tb\n", R27)].count("INDENT") == 1
    deep = "".join(" " * i + "if x:\n" for i in range(101)) + " " * 101 + "pass\n"
    assert _error(deep, R37).code == "E_TOODEEP"


def test_form_feed_resets_the_indentation_column() -> None:
    assert ("INDENT", "") not in _toks("\x0cx = 1\n", R37)
    assert ("INDENT", "") not in _toks("    \x0cx = 1\n", R27)


def test_identifiers() -> None:
    assert _toks("λ = 1\n", R37)[0] == ("NAME", "λ")
    assert _error("a€ = 1\n", R37).code == "E_IDENTIFIER"
    assert _toks("λ = 1\n", R27)[0] == ("OP", "λ")  # not a letter to 2.7: a syntax error later


def test_tokens_carry_start_positions() -> None:
    toks = list(tokenize("a = 1\n  # c\nbb = '''x\ny'''\n", R37))
    bb = next(t for t in toks if t[1] == "bb")
    string = next(t for t in toks if t[0] == "STRING")
    assert (bb[2], bb[3]) == (3, 0)
    assert (string[2], string[3], string[4]) == (3, 5, 4)  # starts on line 3, CPython tags it with 4


# ---------------------------------------------------------------- PEP 263


@pytest.mark.parametrize(
    ("line", "spec", "is_code"),
    [
        (b"# -*- coding: utf-8 -*-\n", "utf-8", False),
        (b"# vim: set fileencoding=latin-1 :\n", "iso-8859-1", False),
        (b"#coding:UTF_8\n", "utf-8", False),
        (b"  # coding=cp1252\n", "cp1252", False),
        (b"x = 1  # coding: utf-8\n", None, True),
        (b"# just a comment\n", None, False),
        (b"\n", None, False),
        (b"# coding utf-8\n", None, False),
    ],
)
def test_coding_spec(line: bytes, spec: str | None, is_code: bool) -> None:
    assert coding_spec(line) == (spec, is_code)


def test_decode_27() -> None:
    ok = decode_source(b"# coding: utf-8\nx = '\xc3\xa9'\n", R27, "m.py")
    assert ok.problem is None and ok.declared and ok.encoding == "utf-8" and "é" in ok.text
    bom = decode_source(b"\xef\xbb\xbfx = 1\r\n", R27, "m.py")
    assert bom.problem is None and bom.encoding == "utf-8" and bom.text == "x = 1\n"
    gbk = decode_source("# coding: gbk\ns = '你'\n".encode("gbk"), R27, "m.py")
    assert gbk.problem is None and "你" in gbk.text
    bad = decode_source(b"# coding: ascii\ns = '\xe9'\n", R27, "m.py")
    assert bad.problem is not None and "'ascii' codec can't decode byte 0xe9" in bad.problem.message
    unknown = decode_source(b"# coding: nope\n", R27, "m.py")
    assert unknown.problem is not None and unknown.problem.message == "encoding problem: nope"
    mismatch = decode_source(b"\xef\xbb\xbf# coding: latin-1\n", R27, "m.py")
    assert mismatch.problem is not None and mismatch.problem.message == "encoding problem: iso-8859-1 with BOM"


def test_decode_37() -> None:
    latin = decode_source(b"# coding: latin-1\ns = '\xe9'\n", R37, "m.py")
    assert latin.problem is None and "é" in latin.text
    unknown = decode_source(b"# coding: nope\n", R37, "m.py")
    assert unknown.problem is not None and unknown.problem.message == "unknown encoding: nope"
    assert unknown.problem.source_line == 1
    nul = decode_source(b"a\n\0", R37, "m.py")
    assert nul.problem is not None and nul.problem.exc_type == "ValueError" and nul.problem.source_line == 2
    cr = decode_source(b"a\rb", R37, "m.py")
    assert cr.problem is None and cr.text == "a\nb\n"


def test_interpreter_offsets_count_bytes_in_27_and_characters_in_37() -> None:
    text = "s = 'é' x\n"
    assert pytokens.interpreter_offset(text, 0, 9, R37, None) == 9
    assert pytokens.interpreter_offset(text, 0, 9, R27, "utf-8") == 10


@pytest.mark.parametrize(
    ("src", "r27", "r37"),
    [
        # Where the one-regex fast path must hand over to the character scanner, or stop short.
        ("1.e5", [("NUMBER", "1.e5")], [("NUMBER", "1.e5")]),
        ("0e5 0. 00", [("NUMBER", "0e5"), ("NUMBER", "0."), ("NUMBER", "00")],
         [("NUMBER", "0e5"), ("NUMBER", "0."), ("NUMBER", "00")]),
        ("1e+5", [("NUMBER", "1e+5")], [("NUMBER", "1e+5")]),
        ("1if x", [("NUMBER", "1"), ("NAME", "if"), ("NAME", "x")],
         [("NUMBER", "1"), ("NAME", "if"), ("NAME", "x")]),
        ("1.5.real", [("NUMBER", "1.5"), ("OP", "."), ("NAME", "real")],
         [("NUMBER", "1.5"), ("OP", "."), ("NAME", "real")]),
        ("x.5", [("NAME", "x"), ("NUMBER", ".5")], [("NAME", "x"), ("NUMBER", ".5")]),
        ("a..b", [("NAME", "a"), ("OP", "."), ("OP", "."), ("NAME", "b")],
         [("NAME", "a"), ("OP", "."), ("OP", "."), ("NAME", "b")]),
        ("....", [("OP", ".")] * 4, [("OP", "..."), ("OP", ".")]),
        ("x'a'", [("NAME", "x"), ("STRING", "'a'")], [("NAME", "x"), ("STRING", "'a'")]),
        ("b'a'", [("STRING", "b'a'")], [("STRING", "b'a'")]),
        ("caf\u00e9", [("NAME", "caf"), ("OP", "\u00e9")], [("NAME", "caf\u00e9")]),
        ("<<=>>=//=!", [("OP", "<<="), ("OP", ">>="), ("OP", "//="), ("OP", "!")],
         [("OP", "<<="), ("OP", ">>="), ("OP", "//="), ("OP", "!")]),
        ("-->", [("OP", "-"), ("OP", "-"), ("OP", ">")], [("OP", "-"), ("OP", "->")]),
        ("a\t\x0c b", [("NAME", "a"), ("NAME", "b")], [("NAME", "a"), ("NAME", "b")]),
    ],
)
def test_fast_path_agrees_with_the_scanner(src: str, r27: list[tuple[str, str]], r37: list[tuple[str, str]]) -> None:
    assert _toks(src, R27)[: len(r27)] == r27
    assert _toks(src, R37)[: len(r37)] == r37


def test_numbers_the_fast_path_leaves_to_the_scanner() -> None:
    assert _error("1e\n", R27).code == "E_TOKEN"
    assert _toks("1e\n", R37)[:2] == [("NUMBER", "1"), ("NAME", "e")]
    assert _error("0777\n", R37).code == "E_TOKEN"
    assert _toks("0777\n", R27)[0] == ("NUMBER", "0777")


def test_brackets_read_by_the_fast_path_still_join_lines() -> None:
    toks = _toks("f(a,\n  [b,\n {c}])\n", R37)
    assert [k for k, _ in toks].count("NEWLINE") == 2  # one for the line, one added at the end
