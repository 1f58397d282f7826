"""The tolerant JSON reader: strict JSON as json reads it, every deviation with its place, bounds."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modeltemplates.inspect.jsontext import (
    FATAL_KINDS,
    JsonDocument,
    Kind,
    Limits,
    format_path,
    parse_path,
    read_json,
)


def kinds(doc: JsonDocument) -> list[Kind]:
    return [d.kind for d in doc.deviations]


def only(doc: JsonDocument, kind: Kind) -> tuple[int | None, int | None, str]:
    (deviation,) = [d for d in doc.deviations if d.kind is kind]
    return deviation.line, deviation.column, deviation.message


# --- strict JSON ------------------------------------------------------------------------------

STRICT = [
    '{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "d\\n\\u00e9\\ud83d\\ude00"}}',
    "[]",
    "{}",
    '"just a string"',
    "0",
    "-0.0e-0",
    " \t\r\n[ 1 , { } , [ ] ] \n",
    '{"": "", "a b": {"x.y": [0]}}',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
]


@pytest.mark.parametrize("text", STRICT)
def test_strict_json_reads_as_json_does(text: str) -> None:
    doc = read_json(text.encode())
    assert doc.ok and doc.strict and doc.encoding == "utf-8"
    assert doc.value == json.loads(text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(value=json_values, indent=st.sampled_from([None, 0, 2]), ascii_only=st.booleans())
def test_anything_json_writes_reads_back_without_deviations(value: Any, indent: int | None, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    doc = read_json(text.encode())
    assert doc.strict, doc.deviations
    assert doc.value == json.loads(text)
    # Every value has a position, and the text there starts that value.
    lines = re.split(r"\r\n|\r|\n", text)  # JSON's line breaks, not str.splitlines' (U+0085...)
    for path in doc.positions:
        line, column = doc.positions[path]
        first = lines[line - 1][column - 1]
        sub: Any = doc.value
        for part in parse_path(path):
            sub = sub[part]
        expected = json.dumps(sub, ensure_ascii=ascii_only)[0]
        assert first == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=8), st.integers(0, 50)), max_size=6))
def test_path_format_and_parse_round_trip(parts: list[str | int]) -> None:
    assert parse_path(format_path(parts)) == tuple(parts)


def test_path_notation() -> None:
    assert format_path(("apis", 0, "request", "Content-type")) == "apis[0].request.Content-type"
    assert format_path(("a.b", "", 3, "x y")) == '["a.b"][""][3]["x y"]'
    assert format_path(()) == ""
    for bad in ("a..b", "[x]", '["a"', ".a", "a[01]"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_positions_of_values_and_keys() -> None:
    text = '{\n  "apis": [\n    {"url": "/",\n     "request": {"Content-type": "x"}}\n  ]\n}\n'
    doc = read_json(text.encode())
    assert doc.positions["apis[0].request.Content-type"] == (4, 34)
    assert doc.positions.key_position(("apis", 0, "request", "Content-type")) == (4, 18)
    assert doc.positions["apis[0].url"] == (3, 13)
    assert doc.positions[""] == (1, 1)
    assert doc.positions.key_position(("apis", 0)) is None  # array items have no key
    assert doc.positions.nearest(("apis", 0, "response", "data")) == (3, 5)
    assert "apis[1]" not in doc.positions
    assert list(doc.positions) == [
        "",
        "apis",
        "apis[0]",
        "apis[0].url",
        "apis[0].request",
        "apis[0].request.Content-type",
    ]
    assert len(doc.positions) == 6


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_lines_counted_for_every_newline_convention(newline: str) -> None:
    text = newline.join(["{", '  "a": 1,', '  "b": x', "}"])
    doc = read_json(text.encode())
    assert only(doc, Kind.SYNTAX)[:2] == (3, 8)


# --- recoverable deviations: reported where they are, value still returned --------------------


def test_comments_are_reported_one_by_one_and_skipped() -> None:
    text = '// head\n{\n  "a": 1, /* inline */\n  # hash\n  "b": "//not a comment"\n}\n'
    doc = read_json(text.encode())
    assert doc.ok and doc.value == {"a": 1, "b": "//not a comment"}
    assert [(d.kind, d.line, d.column) for d in doc.deviations] == [
        (Kind.COMMENT, 1, 1),
        (Kind.COMMENT, 3, 11),
        (Kind.COMMENT, 4, 3),
    ]


def test_trailing_commas_in_objects_and_arrays() -> None:
    doc = read_json(b'{"a": [1, 2,],\n "b": {"c": 3,},\n}')
    assert doc.ok and doc.value == {"a": [1, 2], "b": {"c": 3}}
    assert [(d.kind, d.line, d.column) for d in doc.deviations] == [
        (Kind.TRAILING_COMMA, 1, 12),
        (Kind.TRAILING_COMMA, 2, 14),
        (Kind.TRAILING_COMMA, 2, 16),
    ]


def test_single_quotes_unquoted_keys_python_literals_non_finite() -> None:
    doc = read_json(b'{\'a\': \'x\', b: True, "c": None, "d": NaN, "e": -Infinity, "f": False}')
    assert doc.ok
    assert doc.value["b"] is True and doc.value["c"] is None and doc.value["f"] is False
    assert doc.value["d"] != doc.value["d"] and doc.value["e"] == float("-inf")
    assert kinds(doc) == [
        Kind.SINGLE_QUOTES,
        Kind.SINGLE_QUOTES,
        Kind.UNQUOTED_KEY,
        Kind.PYTHON_LITERAL,
        Kind.PYTHON_LITERAL,
        Kind.NON_FINITE,
        Kind.NON_FINITE,
        Kind.PYTHON_LITERAL,
    ]
    assert "write true" in doc.deviations[3].message


def test_escaped_quote_in_single_quoted_string_is_not_a_second_deviation() -> None:
    doc = read_json(b"['it\\'s']")
    assert doc.value == ["it's"] and kinds(doc) == [Kind.SINGLE_QUOTES]


def test_loose_numbers_are_read_and_reported() -> None:
    doc = read_json(b"[+1, 007, .5, 5., 1.5]")
    assert doc.ok and doc.value == [1, 7, 0.5, 5.0, 1.5]
    assert [(d.kind, d.column) for d in doc.deviations] == [(Kind.NUMBER_FORMAT, c) for c in (2, 6, 11, 15)]


def test_bad_escapes_and_control_characters() -> None:
    doc = read_json(b'{"a": "x\\qy", "b": "\\u12", "c": "tab\there\tand\tthere"}')
    assert doc.ok
    assert doc.value == {"a": "xqy", "b": "u12", "c": "tab\there\tand\tthere"}
    assert [(d.kind, d.column) for d in doc.deviations] == [
        (Kind.BAD_ESCAPE, 9),
        (Kind.BAD_ESCAPE, 21),
        (Kind.CONTROL_CHAR, 37),
    ]
    assert "3 such characters" in doc.deviations[2].message


def test_raw_line_break_in_string_hints_at_a_missing_quote() -> None:
    doc = read_json(b'{"a": "open\n, "b": 1}')
    assert not doc.ok
    assert [(d.kind, d.line, d.column) for d in doc.deviations] == [(Kind.CONTROL_CHAR, 1, 12), (Kind.SYNTAX, 2, 4)]
    assert "missing its closing quote" in doc.deviations[0].message
    never = read_json(b'{"a": "open\n}')
    assert [(d.kind, d.line, d.column) for d in never.deviations] == [(Kind.SYNTAX, 1, 7)]
    assert "never closed; its line ends without a closing quote" in never.deviations[0].message


def test_duplicate_keys_name_both_places_and_the_last_wins() -> None:
    doc = read_json(b'{\n  "a": 1,\n  "b": 2,\n  "a": 3\n}')
    assert doc.ok and doc.value == {"a": 3, "b": 2}
    (dup,) = doc.deviations
    assert (dup.kind, dup.line, dup.column, dup.related) == (Kind.DUPLICATE_KEY, 4, 3, (2, 3))
    assert doc.positions["a"] == (4, 8)  # the value that is kept
    assert list(doc.positions) == ["", "a", "b"]


def test_non_json_whitespace_and_trailing_text() -> None:
    doc = read_json('{"a":\u00a01}\u3000 extra'.encode())
    assert doc.ok and doc.value == {"a": 1}
    assert kinds(doc) == [Kind.WHITESPACE, Kind.WHITESPACE, Kind.TRAILING_DATA]
    assert "U+00A0 NO-BREAK SPACE" in doc.deviations[0].message


def test_utf8_bom_is_reported_and_columns_do_not_count_it() -> None:
    doc = read_json(b'\xef\xbb\xbf{"a": x}')
    assert kinds(doc) == [Kind.BOM, Kind.SYNTAX]
    assert doc.deviations[1].column == 7
    assert read_json(b'\xef\xbb\xbf{"a": 1}').value == {"a": 1}


def test_deviations_are_capped() -> None:
    doc = read_json(("[" + ", ".join(["'x'"] * 500) + "]").encode(), Limits(max_deviations=10))
    assert doc.ok and len(doc.value) == 500
    assert kinds(doc) == [Kind.SINGLE_QUOTES] * 10 + [Kind.TRUNCATED]


# --- encodings -----------------------------------------------------------------------------------

CHINESE = '{"model_algorithm": "图像分类", "说明": "中文描述文本"}'


@pytest.mark.parametrize(
    ("data", "encoding", "label"),
    [
        (CHINESE.encode("utf-16"), "utf-16-le", "UTF-16-LE text (byte order mark FF FE)"),
        (b"\xfe\xff" + CHINESE.encode("utf-16-be"), "utf-16-be", "UTF-16-BE text (byte order mark FE FF)"),
        (CHINESE.encode("utf-32"), "utf-32-le", "UTF-32-LE"),
        (CHINESE.encode("utf-16-le"), "utf-16-le", "UTF-16-LE text without a byte order mark"),
        (CHINESE.encode("utf-16-be"), "utf-16-be", "UTF-16-BE text without a byte order mark"),
        (CHINESE.encode("utf-32-be"), "utf-32-be", "UTF-32-BE text without"),
    ],
)
def test_wide_encodings_are_named_and_still_read(data: bytes, encoding: str, label: str) -> None:
    doc = read_json(data)
    assert doc.ok and doc.value == json.loads(CHINESE)
    assert doc.encoding == encoding
    line, column, message = only(doc, Kind.ENCODING)
    assert (line, column) == (1, 1) and label in message and "UTF-8" in message


def test_gbk_text_is_recognised_with_the_first_bad_byte() -> None:
    data = ('{\n  "model_type": "PyTorch",\n  "说明": "图像分类"\n}').encode("gbk")
    doc = read_json(data)
    assert doc.ok and doc.value["说明"] == "图像分类"
    line, column, message = only(doc, Kind.ENCODING)
    # 说 (CB B5) happens to be a valid UTF-8 pair; 明 is where UTF-8 reading breaks.
    assert (line, column) == (3, 5)
    assert "is not valid UTF-8" in message and "GBK" in message


def test_gb18030_only_text_is_named_gb18030() -> None:
    data = '{"a": "图像分类中文描述\U00020000"}'.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")
    doc = read_json(data)
    assert doc.ok and doc.encoding == "GB18030"
    assert "GB18030" in only(doc, Kind.ENCODING)[2]


def test_latin1_text_is_not_mistaken_for_gbk() -> None:
    doc = read_json('{"name": "Müller café"}'.encode("cp1252"))
    assert doc.ok and doc.value == {"name": "Müller café"}
    assert doc.encoding == "Windows-1252 (Latin-1)"


def test_unrecognised_bytes_are_replaced_and_reported() -> None:
    doc = read_json(b'{"a": "\x81\x81"}')
    assert doc.ok and doc.encoding == "unknown"
    assert doc.value == {"a": "\ufffd\ufffd"}
    assert only(doc, Kind.ENCODING)[:2] == (1, 8)


def test_nul_bytes_mean_binary() -> None:
    doc = read_json(b'{"a":\n 1}\x00\x01\x02')
    assert not doc.ok and doc.value is None and doc.encoding == "binary"
    assert only(doc, Kind.BINARY)[:2] == (2, 4)


# --- fatal problems --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('{"a": 1 "b": 2}', 1, 9, "expected ',' or '}' but found '\"' (a missing comma?)"),
        ('{"a" 1}', 1, 6, "expected ':' after the key"),
        ('{"a": [1, 2}', 1, 12, "expected ',' or ']' but found '}'; '[' opened at line 1, column 7"),
        ('{\n"a": [1,\n2', 3, 2, "'[' opened at line 2, column 6 is never closed"),
        ('{"a": "x', 1, 7, "string is never closed"),
        ('{"a": \u201cx\u201d}', 1, 7, "typographic quote"),
        ('{"a": yes}', 1, 7, "unexpected word 'yes'"),
        ('{"a": 0x1F}', 1, 7, "'0x1F' is not a number"),
        ("[1,,2]", 1, 4, "expected a value but found ','"),
        ("{1: 2}", 1, 2, "expected a key in double quotes"),
        ('{"a": 1} /* open', 1, 10, "'/*' comment is never closed"),
        ("[\x01]", 1, 2, "U+0001 control character"),
    ],
)
def test_syntax_errors_stop_with_an_exact_place(text: str, line: int, column: int, words: str) -> None:
    doc = read_json(text.encode())
    assert not doc.ok and doc.value is None
    last = doc.deviations[-1]
    assert last.fatal and last.kind is Kind.SYNTAX
    assert (last.line, last.column) == (line, column)
    assert words in last.message


@pytest.mark.parametrize("text", [b"", b"   \n\t", b"// only a comment\n"])
def test_empty_documents(text: bytes) -> None:
    doc = read_json(text)
    assert not doc.ok and doc.deviations[-1].kind is Kind.EMPTY


def test_recoverable_deviations_before_a_syntax_error_are_all_kept() -> None:
    doc = read_json(b'{\n // c\n \'a\': 1,\n "b": [1,],\n "c" 2\n}')
    assert kinds(doc) == [Kind.COMMENT, Kind.SINGLE_QUOTES, Kind.TRAILING_COMMA, Kind.SYNTAX]


def test_huge_numbers_are_flagged_not_fatal() -> None:
    doc = read_json(b'{"big": 123456789012345678901234567890, "inf": 1e999, "ok": 9223372036854775807}')
    assert doc.ok and doc.value["big"] == 123456789012345678901234567890 and doc.value["inf"] == float("inf")
    assert kinds(doc) == [Kind.HUGE_NUMBER, Kind.HUGE_NUMBER]
    long = read_json(b"1" * 5000)
    assert long.ok and long.value == float("inf") and "5000 characters" in long.deviations[0].message


# --- bounds: junk never costs unbounded time or memory -------------------------------------------

BAD_INPUTS = {
    "deep-arrays": b"[" * 100_000,
    "deep-objects": b'{"a":' * 100_000,
    "random-bytes": os.urandom(1 << 20),
    "nul-run": b"\x00" * (1 << 20),
    "many-values": b"[" + b"0," * 400_000 + b"0]",
    "many-comments": b"// x\n" * 200_000 + b"1",
    "long-string-controls": b'"' + b"\x01" * 500_000 + b'"',
    "bad-escapes": b'"' + b"\\q" * 400_000 + b'"',
    "gbk-junk": "中".encode("gbk") * 300_000 + b"\xff",
}


@pytest.mark.timeout(60)  # a hang guard, not a speed target
@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_is_bounded(name: str) -> None:
    doc = read_json(BAD_INPUTS[name])
    assert doc.deviations
    assert len(doc.deviations) <= DEFAULT_DEVIATION_BOUND


DEFAULT_DEVIATION_BOUND = Limits().max_deviations + 3


def test_depth_limit() -> None:
    assert read_json(b"[" * 100 + b"]" * 100).ok
    doc = read_json(b"[" * 101 + b"]" * 101)
    assert kinds(doc) == [Kind.TOO_DEEP] and doc.deviations[0].column == 101


def test_value_count_limit() -> None:
    doc = read_json(b"[1, 2, 3, 4]", Limits(max_values=4))
    assert kinds(doc) == [Kind.TOO_MANY_VALUES]
    assert read_json(b"[1, 2, 3]", Limits(max_values=4)).ok


def test_size_limit_is_checked_before_anything_is_decoded() -> None:
    doc = read_json(b" " * (50 << 20))
    assert kinds(doc) == [Kind.TOO_LARGE] and doc.deviations[0].line is None
    assert "52428800 bytes" in doc.deviations[0].message


def test_fatal_kinds_are_exactly_the_ones_without_a_value() -> None:
    assert {Kind.SYNTAX, Kind.EMPTY, Kind.BINARY, Kind.TOO_LARGE, Kind.TOO_DEEP, Kind.TOO_MANY_VALUES} == FATAL_KINDS


def test_text_input_is_accepted() -> None:
    doc = read_json('\ufeff{"a": 1}')
    assert doc.ok and doc.value == {"a": 1} and kinds(doc) == [Kind.BOM] and doc.encoding == "str"
