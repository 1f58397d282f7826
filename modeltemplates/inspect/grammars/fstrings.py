"""String-literal checks of ``ast.c``: escapes, encodings, bytes vs text, and 3.7's f-strings.

2.7 decodes ``u''`` literals (``unicode_escape``; non-ASCII characters of a UTF-8 source first
become ``\\U`` escapes) and raises ``ValueError: invalid \\x escape`` for a bad byte-string escape.
3.7 rejects non-ASCII in ``b''``, mixing ``b''`` with ``''``, and parses every f-string expression
with the real parser (as ``(expr)`` in eval mode), so an error in it is reported relative to that
expression, as CPython does.
"""

from __future__ import annotations

import codecs
import keyword
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from modeltemplates.inspect.grammars.semantics import _Checker, _Ctx

Node = Any

_AST = 0


def _split(token: str) -> tuple[str, str]:
    """(lower-cased prefix, body without quotes) of a STRING token."""
    i = 0
    while token[i] not in "'\"":
        i += 1
    prefix = token[:i].lower()
    rest = token[i:]
    q = 3 if rest[:3] in ('"""', "'''") and len(rest) >= 6 else 1
    return prefix, rest[q:-q]


def _escape_buffer(body: str, py2: bool) -> tuple[bytes, str | None]:
    """decode_unicode(_with_escapes): non-ASCII characters -> ``\\U`` escapes (UTF-8 checked)."""
    if body.isascii() and not body.endswith("\\"):
        return body.encode("ascii"), None  # what the loop below makes of it: the same characters
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch == "\\":
            out.append("\\")
            i += 1
            if i >= n or body[i] >= "\x80":
                out.append("u005c")
                if i >= n:
                    break
            ch = body[i]
        if ch >= "\x80":
            j = i
            while j < n and body[j] >= "\x80":
                j += 1
            run = body[i:j].encode("utf-8", "surrogateescape")
            try:
                decoded = run.decode("utf-8")
            except UnicodeDecodeError as exc:
                name = "utf8" if py2 else "utf-8"
                if exc.end - exc.start > 1:
                    where = f"bytes in position {exc.start}-{exc.end - 1}"
                else:
                    where = f"byte 0x{run[exc.start]:02x} in position {exc.start}"
                return b"", f"'{name}' codec can't decode {where}: {exc.reason}"
            out.extend(f"\\U{ord(c):08x}" for c in decoded)
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out).encode("ascii", "backslashreplace"), None


def _unicode_escape_error(buf: bytes, raw: bool) -> str | None:
    try:
        codecs.decode(buf, "raw_unicode_escape" if raw else "unicode_escape")
    except UnicodeDecodeError as exc:
        name = "rawunicodeescape" if raw else "unicodeescape"
        if exc.end - exc.start > 1:
            where = f"bytes in position {exc.start}-{exc.end - 1}"
        else:
            where = f"byte 0x{exc.object[exc.start]:02x} in position {exc.start}"
        return f"'{name}' codec can't decode {where}: {exc.reason}"
    return None


def _bad_x_escape(body: str) -> int | None:
    """Index of the first ``\\x`` without two hex digits (PyString_DecodeEscape), else None."""
    i = body.find("\\")
    n = len(body)
    hexdigits = "0123456789abcdefABCDEF"
    while 0 <= i < n:
        nxt = body[i + 1 : i + 2]
        if nxt == "x":
            if not (i + 3 < n + 1 and body[i + 2 : i + 3] in tuple(hexdigits) and body[i + 3 : i + 4]
                    and body[i + 3] in hexdigits):
                return i
            i += 4
        else:
            i += 2
        i = body.find("\\", i)
    return None


# ---------------------------------------------------------------- 2.7


def check_strings_27(ck: _Checker, tokens: list[Node], atom: Node) -> None:
    enc = ck.decoded.encoding if ck.decoded.declared else None
    for tok in tokens:
        prefix, body = _split(tok[1])
        unicode = ck.unicode_literals
        if "u" in prefix:
            unicode = True
        if "b" in prefix:
            unicode = False
        raw = "r" in prefix
        if unicode:
            if enc is not None and enc != "iso-8859-1":
                buf, err = _escape_buffer(body, py2=True)
                if err is not None:
                    ck.error(_AST, f"(unicode error) {err}", atom)
                    return
            elif enc == "iso-8859-1":
                buf = body.encode("latin-1", "surrogateescape")
            else:
                buf = body.encode("ascii", "backslashreplace")
            err = _unicode_escape_error(buf, raw)
            if err is not None:
                ck.error(_AST, f"(unicode error) {err}", atom)
                return
        elif not raw and "\\" in body and _bad_x_escape(body) is not None and ck.first[_AST] is None:
            from modeltemplates.inspect.grammars.semantics import Problem

            ck.first[_AST] = Problem("syntax", "invalid \\x escape", None, None, tok[3], tok[4],
                                     "ValueError")
            from modeltemplates.inspect.grammars.semantics import _Found

            raise _Found


# ---------------------------------------------------------------- 3.7


def check_strings_3x(ck: _Checker, tokens: list[Node], atom: Node, ctx: _Ctx) -> None:
    bytesmode = None
    for index, tok in enumerate(tokens):
        prefix, body = _split(tok[1])
        is_bytes = "b" in prefix
        raw = "r" in prefix
        if "f" in prefix:
            pass
        elif is_bytes:
            if not body.isascii():
                ck.error(_AST, "bytes can only contain ASCII literal characters.", tok)
            if not raw and "\\" in body:
                try:
                    codecs.escape_decode(body.encode("ascii"))
                except ValueError as exc:
                    ck.error(_AST, f"(value error) {exc}", atom)
        else:
            if raw or "\\" not in body:
                err = _utf8_error(body)
            else:
                buf, err = _escape_buffer(body, py2=False)
                if err is None:
                    err = _unicode_escape_error(buf, False)
            if err is not None:
                ck.error(_AST, f"(unicode error) {err}", atom)
        if index and bytesmode != is_bytes:
            ck.error(_AST, "cannot mix bytes and nonbytes literals", atom)
        bytesmode = is_bytes
        if "f" in prefix:
            _FString(ck, atom, ctx, body, raw).parse_top()


def _utf8_error(body: str) -> str | None:
    if body.isascii():
        return None
    data = body.encode("utf-8", "surrogateescape")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.end - exc.start > 1:
            where = f"bytes in position {exc.start}-{exc.end - 1}"
        else:
            where = f"byte 0x{data[exc.start]:02x} in position {exc.start}"
        return f"'utf-8' codec can't decode {where}: {exc.reason}"
    return None


class _FString:
    """ast.c's f-string scanner (fstring_find_literal / fstring_find_expr / fstring_parse)."""

    def __init__(self, ck: _Checker, atom: Node, ctx: _Ctx, body: str, raw: bool) -> None:
        self.ck = ck
        self.atom = atom
        self.ctx = ctx
        self.s = body
        self.raw = raw
        self.pos = 0

    def fail(self, message: str) -> None:
        self.ck.error(_AST, message, self.atom)

    def parse_top(self) -> None:
        self.concat(0)
        if self.pos < len(self.s) - 1:
            self.fail("f-string: unexpected end of string")

    def concat(self, level: int) -> None:
        end = len(self.s)
        while True:
            result = self.find_literal(level)
            if result == 1:
                continue
            if self.pos >= end or self.s[self.pos] == "}":
                break
            self.find_expr(level)
        if level != 0 and (self.pos >= end or self.s[self.pos] != "}"):
            self.fail("f-string: expecting '}'")

    def find_literal(self, level: int) -> int:
        s, end = self.s, len(self.s)
        p = self.pos
        start = p
        while p < end:
            ch = s[p]
            p += 1
            if not self.raw and ch == "\\" and p < end:
                ch = s[p]
                p += 1
                if ch == "N":
                    if p < end and s[p] == "{":
                        p += 1
                        while p < end:
                            p += 1
                            if s[p - 1] == "}":
                                break
                        continue
                    break
            if ch in "{}":
                if level == 0:
                    if p < end and s[p] == ch:
                        self.pos = p + 1
                        self.decode_literal(start, p)
                        return 1
                    if ch == "}":
                        self.pos = p - 1
                        self.fail("f-string: single '}' is not allowed")
                p -= 1
                break
        self.pos = p
        self.decode_literal(start, p)
        return 0

    def decode_literal(self, start: int, stop: int) -> None:
        literal = self.s[start:stop]
        if not literal:
            return
        if self.raw:
            err = _utf8_error(literal)
        else:
            buf, err = _escape_buffer(literal, py2=False)
            if err is None:
                err = _unicode_escape_error(buf, False)
        if err is not None:
            self.fail(f"(unicode error) {err}")

    def find_expr(self, level: int) -> None:
        s, end = self.s, len(self.s)
        if level >= 2:
            self.fail("f-string: expressions nested too deeply")
        self.pos += 1
        expr_start = self.pos
        quote = ""
        string_type = 0
        depth = 0
        p = self.pos
        while p < end:
            ch = s[p]
            if ch == "\\":
                self.fail("f-string expression part cannot include a backslash")
            if quote:
                if ch == quote:
                    if string_type == 3:
                        if p + 2 < end and s[p + 1] == ch and s[p + 2] == ch:
                            p += 3
                            quote = ""
                            string_type = 0
                            continue
                    else:
                        quote = ""
                        string_type = 0
                        p += 1
                        continue
            elif ch in "'\"":
                if p + 2 < end and s[p + 1] == ch and s[p + 2] == ch:
                    string_type = 3
                    p += 2
                else:
                    string_type = 1
                quote = ch
            elif ch in "[{(":
                depth += 1
            elif depth and ch in "]})":
                depth -= 1
            elif ch == "#":
                self.fail("f-string expression part cannot include '#'")
            elif depth == 0 and ch in "!:}":
                if ch == "!" and p + 1 < end and s[p + 1] == "=":
                    p += 2
                    continue
                break
            p += 1
        self.pos = p
        if quote:
            self.fail("f-string: unterminated string")
        if depth:
            self.fail("f-string: mismatched '(', '{', or '['")
        if p >= end:
            self.fail("f-string: expecting '}'")
        self.compile_expr(s[expr_start:p])
        if s[self.pos] == "!":
            self.pos += 1
            if self.pos >= end:
                self.fail("f-string: expecting '}'")
            conversion = s[self.pos]
            self.pos += 1
            if conversion not in "sra":
                self.fail("f-string: invalid conversion character: expected 's', 'r', or 'a'")
        if self.pos >= end:
            self.fail("f-string: expecting '}'")
        if s[self.pos] == ":":
            self.pos += 1
            if self.pos >= end:
                self.fail("f-string: expecting '}'")
            self.concat(level + 1)
        if self.pos >= end or s[self.pos] != "}":
            self.fail("f-string: expecting '}'")
        self.pos += 1

    def compile_expr(self, expr: str) -> None:
        """fstring_compile_expr: parse ``(expr)`` in eval mode with the real parser."""
        if not expr.strip(" \t\n\x0c"):
            self.fail("f-string: empty expression not allowed")
        if _name_chain(expr):
            # ``name`` or ``name.attr...``: it parses, and checking it marks the first name used
            self.ck.use_name(expr.partition(".")[0], self.ctx)
            return
        from modeltemplates.inspect import pyparse, pytokens

        source = pytokens.SourceText("(" + expr + ")", "utf-8", False, None)
        driver = pyparse._Driver(self.ck.lang, source)
        tree, problem = driver.run(start="eval_input")
        if problem is not None:
            from modeltemplates.inspect.grammars.semantics import Problem, _Found

            if self.ck.first[_AST] is None:
                leaf = self.atom
                while leaf[2]:
                    leaf = leaf[2][0]
                self.ck.first[_AST] = Problem(
                    problem.kind, problem.message, problem.line, problem.offset, leaf[3], leaf[4],
                    problem.exc_type,
                )
            raise _Found
        if tree is not None:
            self.ck.expr_then(tree[2][0], self.ctx, load=True)


def _name_chain(expr: str) -> bool:
    """Whether ``expr`` is ``name`` or ``name.attr.attr...`` exactly (ASCII, no space, no keyword of
    any version's grammar), the commonest f-string expression."""
    return expr.isascii() and all(part.isidentifier() and not keyword.iskeyword(part) for part in expr.split("."))
