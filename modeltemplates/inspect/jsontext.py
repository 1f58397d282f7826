"""A JSON reader for untrusted text that says exactly where the text leaves RFC 8259.

:func:`read_json` parses strict JSON, but instead of stopping at the first deviation it records
each one as a :class:`Deviation` with its line and column and, where the intent is plain (comments,
trailing commas, single quotes, ``NaN``...), reads on, so one run reports every problem and the
value can still be checked against a schema. Only a real syntax error, binary data or a broken
limit stops it (``JsonDocument.ok`` is then false).

Encodings: UTF-8 is the one the platform reads. A UTF-8 byte order mark, UTF-16/32 text (with or
without byte order mark) and bytes that are not UTF-8 but read as GBK, GB18030 or Windows-1252 are
each reported and then decoded the way they were most likely written, so the rest of the report
still points at the right lines.

Every value's position is kept in a :class:`PositionMap` keyed by JSON path
(``apis[0].request.Content-type``). Everything is bounded: input size, nesting depth (the parser
uses an explicit stack, never recursion), number of values, number length and number of
deviations recorded.
"""

from __future__ import annotations

import codecs
import enum
import json
import re
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn

import attrs

__all__ = [
    "DEFAULT_LIMITS",
    "FATAL_KINDS",
    "Deviation",
    "JsonDocument",
    "Kind",
    "Limits",
    "PathPart",
    "PositionMap",
    "format_path",
    "parse_path",
    "read_json",
]

PathPart = str | int


class Kind(enum.Enum):
    """What a :class:`Deviation` is."""

    TOO_LARGE = "too-large"
    BINARY = "binary"
    EMPTY = "empty"
    SYNTAX = "syntax"
    TOO_DEEP = "too-deep"
    TOO_MANY_VALUES = "too-many-values"
    ENCODING = "encoding"
    BOM = "bom"
    COMMENT = "comment"
    TRAILING_COMMA = "trailing-comma"
    SINGLE_QUOTES = "single-quotes"
    UNQUOTED_KEY = "unquoted-key"
    NON_FINITE = "non-finite"
    PYTHON_LITERAL = "python-literal"
    NUMBER_FORMAT = "number-format"
    HUGE_NUMBER = "huge-number"
    BAD_ESCAPE = "bad-escape"
    CONTROL_CHAR = "control-char"
    WHITESPACE = "whitespace"
    DUPLICATE_KEY = "duplicate-key"
    TRAILING_DATA = "trailing-data"
    TRUNCATED = "truncated"


#: Deviations after which no value is returned.
FATAL_KINDS = frozenset(
    {Kind.TOO_LARGE, Kind.BINARY, Kind.EMPTY, Kind.SYNTAX, Kind.TOO_DEEP, Kind.TOO_MANY_VALUES}
)


@attrs.frozen
class Deviation:
    """One place where the text is not strict RFC 8259 JSON (1-based line and column).

    ``related`` is the other position involved, e.g. the first of two duplicate keys.
    """

    kind: Kind
    message: str
    line: int | None
    column: int | None
    related: tuple[int, int] | None = None

    @property
    def fatal(self) -> bool:
        return self.kind in FATAL_KINDS


@attrs.frozen
class Limits:
    """Bounds on what :func:`read_json` accepts; past them it reports and stops."""

    max_bytes: int = 1 << 20
    max_depth: int = 100
    max_values: int = 100_000
    max_number_chars: int = 1000
    max_deviations: int = 200


DEFAULT_LIMITS = Limits()

# --- JSON paths -----------------------------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_INDEX = re.compile(r"\[(0|[1-9][0-9]*)\]")


def _segment(part: PathPart, first: bool) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    if _IDENT.fullmatch(part):
        return part if first else f".{part}"
    return f"[{json.dumps(part, ensure_ascii=False)}]"


def format_path(parts: Iterable[PathPart]) -> str:
    """``("apis", 0, "url")`` -> ``apis[0].url``; odd keys are quoted: ``["a.b"]``; root is ``""``."""
    return "".join(_segment(part, index == 0) for index, part in enumerate(parts))


def parse_path(text: str) -> tuple[PathPart, ...]:
    """The inverse of :func:`format_path`; ``ValueError`` for text that is no such path."""
    parts: list[PathPart] = []
    i = 0
    while i < len(text):
        if text.startswith('["', i):
            try:
                key, end = json.JSONDecoder().raw_decode(text, i + 1)
            except json.JSONDecodeError as exc:
                raise ValueError(f"bad quoted key in JSON path {text!r}") from exc
            if not isinstance(key, str) or not text.startswith("]", end):
                raise ValueError(f"bad quoted key in JSON path {text!r}")
            parts.append(key)
            i = end + 1
            continue
        index = _INDEX.match(text, i)
        if index:
            parts.append(int(index.group(1)))
            i = index.end()
            continue
        start = i + 1 if parts and text.startswith(".", i) else i
        if parts and start == i:
            raise ValueError(f"expected '.' or '[' at offset {i} of JSON path {text!r}")
        ident = _IDENT.match(text, start)
        if not ident:
            raise ValueError(f"bad key at offset {start} of JSON path {text!r}")
        parts.append(ident.group())
        i = ident.end()
    return tuple(parts)


# --- positions ------------------------------------------------------------------------------------

_NEWLINE = re.compile(r"\r\n|\r|\n")


def _line_starts(text: str) -> array[int]:
    starts = array("q", [0])
    starts.extend(m.end() for m in _NEWLINE.finditer(text))
    return starts


class PositionMap(Mapping[str, tuple[int, int]]):
    """(line, column) of every value of a document, by JSON path string.

    Stored compactly (one offset per value, children per container) so that a large document costs
    little; :meth:`locate` and :meth:`key_position` look up by path parts without formatting.
    Iterating formats every path and is meant for small documents and tests.
    """

    def __init__(self, line_starts: array[int]) -> None:
        self._starts = line_starts
        self._offsets: array[int] = array("q")
        self._key_offsets: array[int] = array("q")
        self._children: dict[int, dict[str, int] | list[int]] = {}

    def _add(self, offset: int, key_offset: int = -1) -> int:
        self._offsets.append(offset)
        self._key_offsets.append(key_offset)
        return len(self._offsets) - 1

    def _linecol(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def _node(self, parts: Iterable[PathPart]) -> int | None:
        if not self._offsets:
            return None
        node = 0
        for part in parts:
            kids = self._children.get(node)
            if isinstance(kids, dict) and isinstance(part, str):
                found = kids.get(part)
            elif isinstance(kids, list) and isinstance(part, int) and 0 <= part < len(kids):
                found = kids[part]
            else:
                found = None
            if found is None:
                return None
            node = found
        return node

    def locate(self, parts: Iterable[PathPart]) -> tuple[int, int] | None:
        """Where the value at ``parts`` starts, or ``None`` if there is no such value."""
        node = self._node(parts)
        return None if node is None else self._linecol(self._offsets[node])

    def key_position(self, parts: Iterable[PathPart]) -> tuple[int, int] | None:
        """Where the key of the member at ``parts`` starts (``None`` for array items and root)."""
        node = self._node(parts)
        if node is None or self._key_offsets[node] < 0:
            return None
        return self._linecol(self._key_offsets[node])

    def nearest(self, parts: Iterable[PathPart]) -> tuple[int, int] | None:
        """Where the value at ``parts`` or else its deepest existing ancestor starts."""
        wanted = tuple(parts)
        for length in range(len(wanted), -1, -1):
            found = self.locate(wanted[:length])
            if found is not None:
                return found
        return None

    def __getitem__(self, path: str) -> tuple[int, int]:
        try:
            found = self.locate(parse_path(path))
        except ValueError:
            found = None
        if found is None:
            raise KeyError(path)
        return found

    def _walk(self) -> Iterator[tuple[str, int]]:
        if not self._offsets:
            return
        stack: list[tuple[str, int]] = [("", 0)]
        while stack:
            path, node = stack.pop()
            yield path, node
            kids = self._children.get(node)
            items = kids.items() if isinstance(kids, dict) else enumerate(kids or ())
            stack.extend(
                reversed([(path + _segment(part, not path), child) for part, child in items])
            )

    def __iter__(self) -> Iterator[str]:
        return (path for path, _ in self._walk())

    def __len__(self) -> int:
        return sum(1 for _ in self._walk())


@attrs.frozen(eq=False)
class JsonDocument:
    """What :func:`read_json` found: the value (when ``ok``), deviations, positions, encoding."""

    value: Any
    ok: bool
    deviations: tuple[Deviation, ...]
    positions: PositionMap
    encoding: str

    @property
    def strict(self) -> bool:
        """True when the text is plain RFC 8259 JSON in UTF-8 with nothing to report."""
        return self.ok and not self.deviations


# --- decoding -------------------------------------------------------------------------------------

# UTF-32-LE before UTF-16-LE: its mark starts with the same two bytes.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32-LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32-BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16-LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16-BE"),
)


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    prefix = data[:offset].decode("utf-8", errors="replace")
    starts = _line_starts(prefix)
    return len(starts), len(prefix) - starts[-1] + 1


def _unmarked_wide(data: bytes) -> tuple[str, str] | None:
    """UTF-16/32 without byte order mark, told by where the zero bytes of ASCII text fall."""
    head = data[:4]
    if len(head) == 4 and head[:3] == b"\0\0\0" and head[3]:
        return "utf-32-be", "UTF-32-BE"
    if len(head) == 4 and head[0] and head[1:] == b"\0\0\0":
        return "utf-32-le", "UTF-32-LE"
    if len(head) >= 2 and head[0] == 0 and head[1]:
        return "utf-16-be", "UTF-16-BE"
    if len(head) >= 2 and head[0] and head[1] == 0:
        return "utf-16-le", "UTF-16-LE"
    return None


def _mostly_gb2312(text: str, codec: str) -> bool:
    """Whether the double-byte characters of GBK-decoded text lie mostly in the GB2312 area
    (both bytes >= 0xA1), as real Chinese text does and Latin-1 text read as GBK does not."""
    wide = [ch.encode(codec) for ch in text if ord(ch) > 0x7F]
    common = sum(1 for b in wide if len(b) == 2 and b[0] >= 0xA1 and b[1] >= 0xA1)
    return bool(wide) and common * 2 >= len(wide)


def _legacy(data: bytes) -> tuple[str, str] | None:
    """(text, label) for bytes that are not UTF-8 but read as a common legacy encoding."""
    for codec, label in (("gbk", "GBK (GB2312)"), ("gb18030", "GB18030")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _mostly_gb2312(text, codec):
            return text, label
    try:
        return data.decode("cp1252"), "Windows-1252 (Latin-1)"
    except UnicodeDecodeError:
        return None


def _decode(data: bytes) -> tuple[str | None, str, list[Deviation]]:
    """The text of ``data`` (``None`` for binary), the encoding it was read with, deviations."""
    for bom, codec, label in _BOMS:
        if not data.startswith(bom):
            continue
        body = data[len(bom) :]
        if codec == "utf-8":
            text, encoding, found = _decode_unmarked(body)
            mark = Deviation(
                Kind.BOM,
                "the file starts with a UTF-8 byte order mark (EF BB BF), which strict JSON readers reject",
                1,
                1,
            )
            return text, "utf-8-sig" if encoding == "utf-8" else encoding, [mark, *found]
        note = Deviation(
            Kind.ENCODING,
            f"the file is {label} text (byte order mark {bom.hex(' ').upper()}); "
            "the platform reads config.json as UTF-8",
            1,
            1,
        )
        return body.decode(codec, errors="replace"), codec, [note]
    return _decode_unmarked(data)


def _decode_unmarked(data: bytes) -> tuple[str | None, str, list[Deviation]]:
    wide = _unmarked_wide(data)
    if wide is not None:
        codec, label = wide
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            pass
        else:
            note = Deviation(
                Kind.ENCODING,
                f"the file is {label} text without a byte order mark; "
                "the platform reads config.json as UTF-8",
                1,
                1,
            )
            return text, codec, [note]
    if b"\0" in data:
        line, column = _byte_position(data, data.index(b"\0"))
        binary = Deviation(
            Kind.BINARY, "the file holds NUL bytes: it is binary data, not JSON text", line, column
        )
        return None, "binary", [binary]
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        message = f"byte 0x{data[exc.start]:02X} is not valid UTF-8"
        legacy = _legacy(data)
        if legacy is None:
            text, encoding = data.decode("utf-8", errors="replace"), "unknown"
            message += "; the encoding is not one this reader recognises"
        else:
            text, encoding = legacy
            message += f"; the file looks like {encoding} text"
        message += ". The platform reads config.json as UTF-8"
        return text, encoding, [Deviation(Kind.ENCODING, message, line, column)]


# --- parsing --------------------------------------------------------------------------------------

_SPACES = re.compile(r"[ \t\n\r]*")
_BODY = {
    '"': re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL),
    "'": re.compile(r"[^'\\]*(?:\\.[^'\\]*)*", re.DOTALL),
}
_CONTROL = re.compile(r"[\x00-\x1f]")
_ESCAPE = re.compile(
    r"\\(u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)", re.DOTALL
)
# The standard library's (C) string scanner reads strict strings fast; only deviating ones are re-read.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_NUMBER_RUN = re.compile(r"[0-9A-Za-z_+\-.]+")
_RUN_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_+-.")
_STRICT_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_LOOSE_NUMBER = re.compile(r"[+-]?(?:[0-9]+(\.[0-9]*)?|(\.)[0-9]+)([eE][+-]?[0-9]+)?")
_NON_FINITE = {
    "NaN": float("nan"),
    "-NaN": float("nan"),
    "+NaN": float("nan"),
    "Infinity": float("inf"),
    "+Infinity": float("inf"),
    "-Infinity": float("-inf"),
}
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
_PYTHON_LITERALS: dict[str, tuple[Any, str]] = {
    "True": (True, "true"),
    "False": (False, "false"),
    "None": (None, "null"),
}
_CONTROL_NAMES = {"\0": "NUL", "\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}
_TYPOGRAPHIC_QUOTES = "\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb"
_INT64 = 1 << 63
_INF = float("inf")


def _preview(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _describe(char: str) -> str:
    if not char:
        return "the end of the file"
    if char.isprintable() and char.isascii():
        return repr(char)
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "control character" if ord(char) < 0x20 else "")
    label = f"U+{ord(char):04X} {name}".strip()
    return f"{char!r} ({label})" if char.isprintable() else label


def _end_of(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """End of the match of ``pattern`` (one that may match empty) at ``pos``."""
    match = pattern.match(text, pos)
    return pos if match is None else match.end()


class _Fatal(Exception):
    pass


@attrs.define
class _Frame:
    container: dict[str, Any] | list[Any]
    kids: dict[str, int] | list[int]
    open_offset: int
    key: str = ""

    @property
    def is_object(self) -> bool:
        return isinstance(self.container, dict)

    @property
    def closer(self) -> str:
        return "}" if self.is_object else "]"


class _Parser:
    """One pass over the text with an explicit stack of open containers."""

    def __init__(self, text: str, limits: Limits, positions: PositionMap) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.limits = limits
        self.positions = positions
        self.deviations: list[Deviation] = []
        self.recorded = 0

    # reporting

    def note(self, kind: Kind, offset: int, message: str, related: int | None = None) -> None:
        if kind not in FATAL_KINDS:
            if self.recorded >= self.limits.max_deviations:
                if self.recorded == self.limits.max_deviations:
                    self.recorded += 1
                    line, column = self.positions._linecol(offset)
                    self.deviations.append(
                        Deviation(Kind.TRUNCATED, "too many deviations; the rest are not reported", line, column)
                    )
                return
            self.recorded += 1
        line, column = self.positions._linecol(offset)
        other = None if related is None else self.positions._linecol(related)
        self.deviations.append(Deviation(kind, message, line, column, other))

    def fail(self, offset: int, message: str, kind: Kind = Kind.SYNTAX) -> NoReturn:
        self.note(kind, offset, message)
        raise _Fatal

    def peek(self) -> str:
        return self.text[self.i] if self.i < self.n else ""

    # whitespace and comments

    def skip(self) -> None:
        text = self.text
        while True:
            self.i = _end_of(_SPACES, text, self.i)
            if self.i >= self.n:
                return
            char = text[self.i]
            two = text[self.i : self.i + 2]
            if two == "//" or char == "#":
                kind = "'//'" if two == "//" else "'#'"
                self.note(Kind.COMMENT, self.i, f"{kind} comment: JSON has no comments")
                eol = _NEWLINE.search(text, self.i)
                self.i = self.n if eol is None else eol.start()
            elif two == "/*":
                end = text.find("*/", self.i + 2)
                if end < 0:
                    self.fail(self.i, "'/*' comment is never closed with '*/'")
                self.note(Kind.COMMENT, self.i, "'/* */' comment: JSON has no comments")
                self.i = end + 2
            elif char.isspace() or char in "\ufeff\u200b":
                self.note(
                    Kind.WHITESPACE,
                    self.i,
                    f"{_describe(char)} is not JSON whitespace (only space, tab, CR and LF are)",
                )
                self.i += 1
            else:
                return

    # values

    def document(self) -> Any:
        self.skip()
        if self.i >= self.n:
            self.fail(0, "the file holds no JSON value (it is empty or only whitespace and comments)", Kind.EMPTY)
        value = self.tree()
        self.skip()
        if self.i < self.n:
            self.note(
                Kind.TRAILING_DATA,
                self.i,
                f"extra text after the end of the JSON value: {_preview(self.text[self.i : self.i + 40])}",
            )
        return value

    def new_node(self, key_offset: int = -1) -> int:
        if len(self.positions._offsets) >= self.limits.max_values:
            self.fail(self.i, f"more than {self.limits.max_values} values", Kind.TOO_MANY_VALUES)
        return self.positions._add(self.i, key_offset)

    def tree(self) -> Any:
        stack: list[_Frame] = []
        node = self.new_node()
        while True:
            char = self.peek()
            value: Any
            if char in ("{", "["):
                if len(stack) >= self.limits.max_depth:
                    self.fail(
                        self.i, f"nesting deeper than {self.limits.max_depth} levels", Kind.TOO_DEEP
                    )
                frame = (
                    _Frame({}, {}, self.i) if char == "{" else _Frame([], [], self.i)
                )
                self.positions._children[node] = frame.kids
                stack.append(frame)
                self.i += 1
                self.skip()
                if self.peek() != frame.closer:
                    node = self.member(frame)
                    continue
                self.i += 1
                value = stack.pop().container
            else:
                value = self.scalar()
            # Attach the value and close as many containers as end here.
            while True:
                if not stack:
                    return value
                frame = stack[-1]
                if isinstance(frame.container, dict):
                    frame.container[frame.key] = value
                else:
                    frame.container.append(value)
                self.skip()
                char = self.peek()
                if char == ",":
                    comma = self.i
                    self.i += 1
                    self.skip()
                    if self.peek() != frame.closer:
                        node = self.member(frame)
                        break
                    self.note(
                        Kind.TRAILING_COMMA, comma, f"trailing comma before '{frame.closer}'"
                    )
                elif char != frame.closer:
                    self.unexpected_in(frame)
                self.i += 1
                value = stack.pop().container

    def unexpected_in(self, frame: _Frame) -> NoReturn:
        line, column = self.positions._linecol(frame.open_offset)
        opener = "{" if frame.is_object else "["
        if self.i >= self.n:
            self.fail(
                self.i,
                f"unexpected end of the file: '{opener}' opened at line {line}, column {column} "
                "is never closed",
            )
        hint = " (a missing comma?)" if self.peek() in "\"'{[" or self.peek().isalnum() else ""
        self.fail(
            self.i,
            f"expected ',' or '{frame.closer}' but found {_describe(self.peek())}{hint}; "
            f"'{opener}' opened at line {line}, column {column}",
        )

    def member(self, frame: _Frame) -> int:
        """Read up to the start of the next member's value and give that value's node."""
        if isinstance(frame.kids, list):
            node = self.new_node()
            frame.kids.append(node)
        else:
            key_offset = self.i
            frame.key = self.key()
            self.skip()
            if self.peek() != ":":
                self.fail(self.i, f"expected ':' after the key but found {_describe(self.peek())}")
            self.i += 1
            self.skip()
            previous = frame.kids.get(frame.key)
            if previous is not None:
                self.note(
                    Kind.DUPLICATE_KEY,
                    key_offset,
                    f"duplicate key {_preview(frame.key)}; readers keep only the last one",
                    related=self.positions._key_offsets[previous],
                )
            node = self.new_node(key_offset)
            frame.kids[frame.key] = node
        if self.i >= self.n:
            self.fail(self.i, "unexpected end of the file: a value is missing")
        return node

    def key(self) -> str:
        char = self.peek()
        if char == '"':
            return self.string('"')
        if char == "'":
            self.note(Kind.SINGLE_QUOTES, self.i, "key in single quotes: JSON strings use double quotes")
            return self.string("'")
        word = _WORD.match(self.text, self.i)
        if word:
            self.note(Kind.UNQUOTED_KEY, self.i, f"key {_preview(word.group())} is not in double quotes")
            self.i = word.end()
            return word.group()
        return self.fail(self.i, f"expected a key in double quotes but found {self.describe_here()}")

    def describe_here(self) -> str:
        char = self.peek()
        described = _describe(char)
        if char and char in _TYPOGRAPHIC_QUOTES:
            described += ', a typographic quote: JSON strings use straight double quotes (")'
        return described

    def scalar(self) -> Any:
        char = self.peek()
        if char == '"':
            return self.string('"')
        if char == "'":
            self.note(Kind.SINGLE_QUOTES, self.i, "string in single quotes: JSON strings use double quotes")
            return self.string("'")
        if char and char in "-+.0123456789":
            return self.number()
        word = _WORD.match(self.text, self.i)
        if word:
            return self.word(word.group())
        return self.fail(self.i, f"expected a value but found {self.describe_here()}")

    def string(self, quote: str) -> str:
        start = self.i
        if quote == '"':
            try:
                value, self.i = _scanstring(self.text, start + 1, True)
            except json.JSONDecodeError:
                pass  # read it again below, noting each deviation
            else:
                return value
        body_start = start + 1
        body_end = _end_of(_BODY[quote], self.text, body_start)
        if body_end >= self.n:
            broken = _NEWLINE.search(self.text, body_start) is not None
            self.fail(start, "string is never closed" + ("; its line ends without a closing quote" if broken else ""))
        self.i = body_end + 1
        body = self.text[body_start:body_end]
        control = _CONTROL.search(body)
        if control:
            count = len(_CONTROL.findall(body))
            self.note(
                Kind.CONTROL_CHAR,
                body_start + control.start(),
                f"{_describe(control.group())} inside a string must be escaped"
                + (f" ({count} such characters in this string)" if count > 1 else "")
                + (" (or is the string missing its closing quote?)" if control.group() in "\r\n" else ""),
            )

        def unescape(match: re.Match[str]) -> str:
            escape = match.group(1)
            if escape in _ESCAPES:
                return _ESCAPES[escape]
            if len(escape) == 11:  # a surrogate pair
                high, low = int(escape[1:5], 16), int(escape[7:11], 16)
                return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            if len(escape) == 5:
                return chr(int(escape[1:], 16))
            if escape == "'" and quote == "'":
                return escape
            offset = body_start + match.start()
            if escape == "u":
                self.note(Kind.BAD_ESCAPE, offset, "'\\u' must be followed by four hex digits")
            else:
                self.note(Kind.BAD_ESCAPE, offset, f"{_preview(match.group())} is not a JSON escape")
            return escape

        return _ESCAPE.sub(unescape, body)

    def number(self) -> Any:
        start = self.i
        quick = _STRICT_NUMBER.match(self.text, start)
        if quick and quick.end() - start <= 18 and self.text[quick.end() : quick.end() + 1] not in _RUN_CHARS:
            if not quick.lastindex:
                self.i = quick.end()
                return int(quick.group())
            real = float(quick.group())
            if real not in (_INF, -_INF):
                self.i = quick.end()
                return real
        token = self.text[start : _end_of(_NUMBER_RUN, self.text, start)]
        self.i = start + len(token)
        limit = self.limits.max_number_chars
        if token in _NON_FINITE:
            self.note(Kind.NON_FINITE, start, f"{token} is not a JSON number")
            return _NON_FINITE[token]
        strict = _STRICT_NUMBER.fullmatch(token)
        loose = strict or _LOOSE_NUMBER.fullmatch(token)
        if not loose:
            self.fail(start, f"{_preview(token)} is not a number")
        if not strict:
            self.note(
                Kind.NUMBER_FORMAT,
                start,
                f"{_preview(token)} is not written as JSON writes numbers "
                "(no leading '+', leading zeros, or bare '.')",
            )
        is_integer = not any(loose.groups())
        if len(token) > limit:
            self.note(Kind.HUGE_NUMBER, start, f"number of {len(token)} characters (more than {limit})")
            return float(token)
        if is_integer:
            integer = int(token)
            if not -_INT64 <= integer < _INT64:
                self.note(Kind.HUGE_NUMBER, start, f"integer {_preview(token)} does not fit in 64 bits")
            return integer
        real = float(token)
        if real in (_INF, -_INF):
            self.note(Kind.HUGE_NUMBER, start, f"{_preview(token)} is too large for a double")
        return real

    def word(self, word: str) -> Any:
        start = self.i
        self.i += len(word)
        if word in _LITERALS:
            return _LITERALS[word]
        if word in _NON_FINITE:
            self.note(Kind.NON_FINITE, start, f"{word} is not a JSON value")
            return _NON_FINITE[word]
        if word in _PYTHON_LITERALS:
            value, spelling = _PYTHON_LITERALS[word]
            self.note(Kind.PYTHON_LITERAL, start, f"{word} is Python, not JSON: write {spelling}")
            return value
        return self.fail(start, f"unexpected word {_preview(word)} (strings need double quotes)")


def read_json(data: bytes | str, limits: Limits = DEFAULT_LIMITS) -> JsonDocument:
    """Read untrusted JSON text, recording every deviation instead of stopping at the first."""
    size = len(data)
    if size > limits.max_bytes:
        unit = "bytes" if isinstance(data, bytes) else "characters"
        too_large = Deviation(
            Kind.TOO_LARGE, f"the file has {size} {unit}, more than the limit of {limits.max_bytes}", None, None
        )
        return JsonDocument(None, False, (too_large,), PositionMap(array("q", [0])), "unknown")
    if isinstance(data, str):
        text: str | None = data
        encoding = "str"
        found: list[Deviation] = []
        if data.startswith("\ufeff"):
            text = data[1:]
            found.append(Deviation(Kind.BOM, "the text starts with a byte order mark (U+FEFF)", 1, 1))
    else:
        text, encoding, found = _decode(data)
    if text is None:
        return JsonDocument(None, False, tuple(found), PositionMap(array("q", [0])), encoding)
    positions = PositionMap(_line_starts(text))
    parser = _Parser(text, limits, positions)
    try:
        value, ok = parser.document(), True
    except _Fatal:
        value, ok = None, False
    return JsonDocument(value, ok, (*found, *parser.deviations), positions, encoding)
