"""The protobuf text format (``.prototxt``) read against a schema, with line and column on every error.

Caffe reads ``deploy.prototxt`` with protobuf's ``TextFormat::Parse`` into a ``caffe.NetParameter``
(``ReadProtoFromTextFile`` in src/caffe/util/io.cpp); any error stops the load. This reader follows
that parser's grammar -- ``name: value`` scalars, ``name { ... }`` / ``name: { ... }`` /
``name < ... >`` messages, ``name: [a, b]`` lists, ``#`` comments, optional ``,``/``;`` separators,
adjacent string literals concatenated, C escapes, decimal/hex/octal integers, floats with an
optional ``f`` suffix, ``inf``/``nan``, ``true``/``false``/``t``/``f`` -- and its checks against the
schema (:data:`~modeltemplates.engines.caffe.facts.MESSAGES`): unknown fields, unknown enum values,
wrong value kinds and non-repeated fields given twice are errors, as they are in protobuf.

Positions are 1-based. The parser keeps an explicit stack (no recursion) and bounds size, depth and
the number of values.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from modeltemplates.engines.caffe import facts

__all__ = ["Message", "TextFormatError", "TextLimits", "parse_text"]


class TextFormatError(ValueError):
    """A syntax or schema error at ``line``:``column`` (1-based), or a broken limit."""

    def __init__(self, message: str, line: int, column: int, *, kind: str = "syntax") -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column
        self.kind = kind


@attrs.frozen
class TextLimits:
    max_bytes: int = 64 << 20
    max_depth: int = 64
    max_values: int = 2_000_000


@attrs.define
class Message:
    """A parsed message: its type name, where it starts, and its fields as lists of values.

    Scalar values are ``str`` (strings and enum names), ``int``, ``float`` or ``bool``; message
    values are :class:`Message`. ``where[name]`` holds the (line, column) of each value.
    """

    type: str
    line: int
    column: int
    fields: dict[str, list[Any]] = attrs.field(factory=dict)
    where: dict[str, list[tuple[int, int]]] = attrs.field(factory=dict)

    def all(self, name: str) -> list[Any]:
        return self.fields.get(name, [])

    def get(self, name: str, default: Any = None) -> Any:
        values = self.fields.get(name)
        return values[-1] if values else default

    def position(self, name: str, index: int = 0) -> tuple[int, int]:
        places = self.where.get(name)
        return places[index] if places and index < len(places) else (self.line, self.column)

    def add(self, name: str, value: Any, line: int, column: int) -> None:
        self.fields.setdefault(name, []).append(value)
        self.where.setdefault(name, []).append((line, column))


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+|\n)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?))
  | (?P<ident>-?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<sym>[{}<>:\[\],;])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\",
            "'": "'", '"': '"', "?": "?"}
_INT_TYPES = {"int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32",
              "sfixed64"}
_FLOAT_TYPES = {"float", "double"}


def _unescape(body: str, line: int, column: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567" and nxt:
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            assert m is not None
            out.append(chr(int(m.group(0), 8)))
            i += 1 + len(m.group(0))
        elif nxt in "xX":
            m = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2:])
            if m is None:
                raise TextFormatError("Invalid escape sequence in string literal.", line, column)
            out.append(chr(int(m.group(0), 16)))
            i += 2 + len(m.group(0))
        else:
            raise TextFormatError("Invalid escape sequence in string literal.", line, column)
    return "".join(out)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.tokens: list[tuple[str, str, int, int]] = []
        self._lex()
        self.i = 0

    def _lex(self) -> None:
        text = self.text
        pos = 0
        line, start = 1, 0
        n = len(text)
        while pos < n:
            m = _TOKEN.match(text, pos)
            if m is None:
                raise TextFormatError(f"Invalid character {text[pos]!r}.", line, pos - start + 1)
            kind = m.lastgroup or ""
            if kind == "ws":
                if m.group(0) == "\n":
                    line += 1
                    start = m.end()
            elif kind != "comment":
                value = m.group(0)
                if kind == "ident" and value.startswith("-"):
                    kind = "number" if value[1:].lower() in ("inf", "infinity", "nan") else "bad"
                    if kind == "bad":
                        raise TextFormatError(f"Expected identifier, found {value!r}.", line, pos - start + 1)
                self.tokens.append((kind, value, line, pos - start + 1))
            pos = m.end()
        self.end = (line, pos - start + 1)

    def peek(self) -> tuple[str, str, int, int]:
        if self.i < len(self.tokens):
            return self.tokens[self.i]
        return ("eof", "", *self.end)

    def next(self) -> tuple[str, str, int, int]:
        tok = self.peek()
        self.i += 1
        return tok


def _scalar(kind: str, tok: tuple[str, str, int, int], lexer: _Lexer, field: str, type_: str) -> Any:
    tkind, value, line, column = tok
    if type_ in ("string", "bytes"):
        if tkind != "string":
            raise TextFormatError(f"Expected string, found {value!r}.", line, column, kind="schema")
        parts = [_unescape(value[1:-1], line, column)]
        while lexer.peek()[0] == "string":
            nxt = lexer.next()
            parts.append(_unescape(nxt[1][1:-1], nxt[2], nxt[3]))
        return "".join(parts)
    if type_ == "bool":
        if tkind == "ident" and value in ("true", "True", "t"):
            return True
        if tkind == "ident" and value in ("false", "False", "f"):
            return False
        if tkind == "number" and value in ("0", "1"):
            return value == "1"
        raise TextFormatError(f"Invalid value for boolean field \"{field}\". Value: \"{value}\".", line, column,
                              kind="schema")
    if type_.startswith("enum:"):
        values = facts.ENUMS[type_[5:]]
        if tkind == "ident" and value in values:
            return value
        if tkind == "number" and re.fullmatch(r"-?\d+", value) and int(value) in values.values():
            return next(k for k, v in values.items() if v == int(value))
        raise TextFormatError(f"Unknown enumeration value of \"{value}\" for field \"{field}\".", line, column,
                              kind="schema")
    if type_ in _INT_TYPES:
        is_hex = value.lower().lstrip("-").startswith("0x")
        if tkind != "number" or (not is_hex and re.search(r"[.eEfF]", value)):
            raise TextFormatError(f"Expected integer, got: {value}", line, column, kind="schema")
        number = int(value, 0) if not re.fullmatch(r"-?0\d+", value) else int(value, 8)
        if type_.startswith("u") and number < 0:
            raise TextFormatError(f"Expected integer, got: {value}", line, column, kind="schema")
        bits = 32 if "32" in type_ else 64
        unsigned = type_.startswith(("u", "fixed"))
        low, high = (0, (1 << bits) - 1) if unsigned else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        if not low <= number <= high:
            raise TextFormatError(f"Integer out of range ({value})", line, column, kind="schema")
        return number
    if type_ in _FLOAT_TYPES:
        if tkind == "number":
            text = value.rstrip("fF") if not value.lower().startswith(("0x", "-0x")) else str(int(value, 16))
            return float(text)
        if tkind == "ident" and value.lower() in ("inf", "infinity", "nan"):
            return float(value)
        raise TextFormatError(f"Expected double, got: {value}", line, column, kind="schema")
    raise TextFormatError(f"Unsupported field type {type_}", line, column, kind="schema")


def parse_text(data: bytes, root: str = "NetParameter", limits: TextLimits | None = None) -> Message:
    """Parse ``data`` as a text-format ``caffe.<root>`` message. Raises :class:`TextFormatError`."""
    limits = limits or TextLimits()
    if len(data) > limits.max_bytes:
        raise TextFormatError(f"the file has {len(data)} bytes, more than the limit of {limits.max_bytes}", 1, 1,
                              kind="limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise TextFormatError("the text is not UTF-8 (binary data?)", line, column, kind="binary") from None
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        raise TextFormatError("the text holds NUL bytes: binary data, not a prototxt", line,
                              offset - (text.rfind("\n", 0, offset) + 1) + 1, kind="binary")
    lexer = _Lexer(text)
    top = Message(root, 1, 1)
    # each frame: (message, closing symbol or "" for the top level)
    stack: list[tuple[Message, str]] = [(top, "")]
    values = 0
    while True:
        message, closer = stack[-1]
        tok = lexer.next()
        kind, value, line, column = tok
        if kind == "eof":
            if closer:
                raise TextFormatError(f"Expected \"{closer}\", found end of file.", line, column)
            return top
        if kind == "sym" and value == closer and closer:
            stack.pop()
            nxt = lexer.peek()
            if nxt[0] == "sym" and nxt[1] in ",;":
                lexer.next()
            continue
        if kind != "ident":
            raise TextFormatError(f"Expected identifier, found \"{value}\".", line, column)
        schema = facts.MESSAGES.get(message.type, {})
        spec = schema.get(value)
        if spec is None:
            raise TextFormatError(f"Message type \"caffe.{message.type}\" has no field named \"{value}\".",
                                  line, column, kind="schema")
        _, label, type_ = spec
        if label != "repeated" and value in message.fields:
            raise TextFormatError(f"Non-repeated field \"{value}\" is specified multiple times.", line, column,
                                  kind="schema")
        nxt = lexer.peek()
        has_colon = nxt[0] == "sym" and nxt[1] == ":"
        if has_colon:
            lexer.next()
            nxt = lexer.peek()
        values += 1
        if values > limits.max_values:
            raise TextFormatError(f"more than {limits.max_values} values", line, column, kind="limit")
        if type_.startswith("message:"):
            if nxt[0] == "sym" and nxt[1] == "[" and label == "repeated":
                raise TextFormatError("lists of messages are not read by Caffe 1.0's protobuf", nxt[2], nxt[3])
            if not (nxt[0] == "sym" and nxt[1] in "{<"):
                raise TextFormatError(f"Expected \"{{\", found \"{nxt[1]}\".", nxt[2], nxt[3])
            lexer.next()
            if len(stack) >= limits.max_depth:
                raise TextFormatError(f"nesting deeper than {limits.max_depth}", nxt[2], nxt[3], kind="limit")
            child = Message(type_[8:], line, column)
            message.add(value, child, line, column)
            stack.append((child, "}" if nxt[1] == "{" else ">"))
            continue
        if not has_colon:
            raise TextFormatError(f"Expected \":\", found \"{nxt[1]}\".", nxt[2], nxt[3])
        if nxt[0] == "sym" and nxt[1] == "[":
            if label != "repeated":
                raise TextFormatError(f"Expected a value for non-repeated field \"{value}\".", nxt[2], nxt[3],
                                      kind="schema")
            lexer.next()
            if lexer.peek()[0] == "sym" and lexer.peek()[1] == "]":
                lexer.next()
            else:
                while True:
                    item = lexer.next()
                    message.add(value, _scalar(kind, item, lexer, value, type_), item[2], item[3])
                    values += 1
                    sep = lexer.next()
                    if sep[0] == "sym" and sep[1] == "]":
                        break
                    if not (sep[0] == "sym" and sep[1] == ","):
                        raise TextFormatError(f"Expected \"]\", found \"{sep[1]}\".", sep[2], sep[3])
        else:
            item = lexer.next()
            if item[0] == "eof":
                raise TextFormatError("Unexpected end of file.", item[2], item[3])
            message.add(value, _scalar(kind, item, lexer, value, type_), item[2], item[3])
        nxt = lexer.peek()
        if nxt[0] == "sym" and nxt[1] in ",;":
            lexer.next()
