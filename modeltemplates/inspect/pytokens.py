"""Python source bytes -> text -> tokens, the way CPython 2.7's or 3.7's ``import`` reads a module.

Two stages, both following CPython's ``Parser/tokenizer.c`` of the target version:

* :func:`decode_source` applies PEP 263 as ``import`` does. 2.7 reads the file with its *file*
  tokenizer: a UTF-8 BOM means utf-8; a coding cookie on line 1 or 2 names the codec (``utf-8`` and
  ``latin-1`` spellings are read raw, anything else through the codec); without either, any byte
  above 0x7f is "Non-ASCII character ... but no encoding declared". A NUL byte cuts its physical
  line short and joins it to the next one (what ``fgets`` + ``strchr`` do there). 3.7 compiles the
  file's bytes (``importlib`` -> ``compile(bytes)``): newlines are translated, a NUL byte is a
  ``ValueError``, UTF-8 is the default and is *not* validated here (invalid bytes surface later, in
  identifiers and string literals, exactly where 3.7 notices them).
* :func:`tokenize` yields CPython's token stream (with INDENT/DEDENT, the extra NEWLINE and
  implied DEDENTs ``parsetok`` adds at the end) or raises :class:`TokenizeError` with the error
  code, line and *buffer offsets* CPython would report.

Error offsets: CPython reports ``offset = cur - buf``: ``cur`` is where its tokenizer stopped (just
past the offending token, or the end of the line for indentation errors), ``buf`` the start of the
line where the current token began. 2.7 counts bytes (of the declared encoding), 3.7 characters.
:func:`interpreter_offset` turns the indexes kept here into that number.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Iterator

import attrs

# Token kinds (CPython's token names; every operator is "OP").
NAME = "NAME"
NUMBER = "NUMBER"
STRING = "STRING"
OP = "OP"
NEWLINE = "NEWLINE"
INDENT = "INDENT"
DEDENT = "DEDENT"
ENDMARKER = "ENDMARKER"

#: CPython's tokenizer limit on indentation levels (``MAXINDENT`` in tokenizer.h).
MAXINDENT = 100
#: Tab stops (``TABSIZE``) and the alternate tab size used for the 3.x consistency check.
TABSIZE = 8


@attrs.frozen
class TokenizerRules:
    """What differs between the tokenizers of two CPython versions (data, see ``grammars``)."""

    version: tuple[int, int]
    #: Lower-cased string prefixes the tokenizer accepts (2.7: u, b, r, ur, br; 3.7: no ur, + f).
    string_prefixes: frozenset[str]
    #: Two- and three-character operators the tokenizer joins (``->``, ``@=`` exist in 3.x only).
    operators: frozenset[str]
    #: ``...`` is one token (3.x); in 2.7 it is three ``.`` tokens.
    ellipsis_token: bool
    #: ``10L`` / ``0777`` are numbers (2.7); 3.x rejects old octal and has no ``L``.
    long_suffix: bool
    old_octal: bool
    #: ``1_000`` (3.6+).
    numeric_underscores: bool
    #: Non-ASCII identifiers (PEP 3131, 3.x).
    unicode_identifiers: bool
    #: Inconsistent tabs/spaces are a TabError (3.x); 2.7 only warns with -t.
    strict_tabs: bool
    #: 2.7 honours editor tab-size comments (``# vim: ts=4``) when measuring indentation.
    tab_size_comments: bool
    #: 2.7's file reader: offsets in bytes, EOF counted as one more line, NUL cuts a line.
    file_reader: bool
    #: 3.5/3.6: ``async``/``await`` are keywords only in and at the start of an ``async def``
    #: (the tokenizer's ASYNC/AWAIT tokens); elsewhere they are names. See :func:`async_keywords`.
    contextual_async: bool = False


class TokenizeError(Exception):
    """The tokenizer stopped: ``code`` is CPython's (``E_TOKEN``, ``E_EOLS``, ``E_TABSPACE``...)."""

    def __init__(self, code: str, lineno: int, cur: int, buf: int, *, start: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.lineno = lineno
        self.cur = cur
        self.buf = buf
        self.start = cur if start is None else start


#: A token: (kind, value, line, column0, end_line, start_index, end_index, after_eof).
#: ``line``/``column0`` locate its first character; ``end_line`` is the line CPython tags it with.
Token = tuple[str, str, int, int, int, int, int, bool]


# ---------------------------------------------------------------- source decoding (PEP 263)


@attrs.frozen
class DecodeProblem:
    """The source could not be read as text the way the interpreter reads it."""

    kind: str  # "encoding" (SyntaxError) or "nul" (ValueError in 3.x)
    message: str
    line: int  # the line the interpreter reports (may be 0 when it reports none)
    offset: int | None
    source_line: int  # where in the file the problem really is
    exc_type: str = "SyntaxError"


@attrs.frozen
class SourceText:
    """Decoded source: text with ``\\n`` line ends and the encoding the interpreter uses.

    ``declared`` is True when a BOM or a coding cookie chose the encoding. ``offset_encoding`` is
    what 2.7's error offsets are counted in (None for 3.x, which counts characters).
    ``final_newline`` says whether the file itself ended with a line end (``text`` always does).
    """

    text: str
    encoding: str
    declared: bool
    offset_encoding: str | None
    problem: DecodeProblem | None = None
    final_newline: bool = True


_BOM = b"\xef\xbb\xbf"


def _normal_encoding_name(name: str) -> str:
    """``get_normal_name`` of tokenizer.c: utf-8 and latin-1 spellings, first 12 chars only."""
    buf = name[:12].lower().replace("_", "-")
    if buf == "utf-8" or buf.startswith("utf-8-"):
        return "utf-8"
    if buf in ("latin-1", "iso-8859-1", "iso-latin-1") or buf.startswith(
        ("latin-1-", "iso-8859-1-", "iso-latin-1-")
    ):
        return "iso-8859-1"
    return name


_CODING_NAME = re.compile(rb"[A-Za-z0-9_.\-]+")


def coding_spec(line: bytes) -> tuple[str | None, bool]:
    """(declared encoding, line is code) for one line, as ``get_coding_spec``/``check_coding_spec``.

    The cookie must sit in a comment that is the only thing on the line; ``coding[:=]`` may appear
    anywhere in that comment. The second item tells whether the line holds anything but
    whitespace and a comment (then a cookie on the next line is ignored).
    """
    size = len(line)
    i = 0
    while i < size - 6:
        ch = line[i : i + 1]
        if ch == b"#":
            break
        if ch not in (b" ", b"\t", b"\x0c"):
            return None, _is_code_line(line)
        i += 1
    while i < size - 6:
        j = line.find(b"coding", i, size)
        if j < 0 or j >= size - 6:
            break
        t = j + 6
        if line[t : t + 1] in (b":", b"="):
            t += 1
            while line[t : t + 1] in (b" ", b"\t"):
                t += 1
            m = _CODING_NAME.match(line, t)
            if m:
                return _normal_encoding_name(m.group().decode("ascii")), False
        i = j + 1
    return None, _is_code_line(line)


def _is_code_line(line: bytes) -> bool:
    for byte in line:
        if byte in b"#\n\r":
            return False
        if byte not in b" \t\x0c":
            return True
    return False


def _codec_known(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _py2_codec_name(name: str) -> str:
    """How 2.7 spells a codec in its error messages."""
    return {"utf-8": "utf8", "iso-8859-1": "latin-1"}.get(codecs.lookup(name).name, codecs.lookup(name).name)


def _unicode_error_text(exc: UnicodeDecodeError, codec: str, py2: bool) -> str:
    name = _py2_codec_name(codec) if py2 else codecs.lookup(codec).name
    if exc.end - exc.start > 1:
        where = f"bytes in position {exc.start}-{exc.end - 1}"
    else:
        where = f"byte 0x{exc.object[exc.start]:02x} in position {exc.start}"
    return f"'{name}' codec can't decode {where}: {exc.reason}"


def decode_source(data: bytes, rules: TokenizerRules, filename: str) -> SourceText:
    """Decode module source as ``import`` of the target version does."""
    if rules.file_reader:
        return _decode_py2(data, filename)
    return _decode_py3(data, filename)


def _split_physical(data: bytes, universal: bool) -> list[bytes]:
    """Physical lines with ``\\n`` endings (universal newlines when ``universal``)."""
    if universal:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    else:
        data = data.replace(b"\r\n", b"\n")
    lines = data.split(b"\n")
    out = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1] + b"\n")  # the file reader fakes a final newline
    return out


def _join_nul_lines(lines: list[bytes]) -> list[bytes]:
    """2.7 reads a line with ``fgets`` and ends it at the first NUL: the rest of that physical line
    is lost and the next physical line is appended in its place (one line number for both)."""
    out: list[bytes] = []
    carry = b""
    for line in lines:
        line = carry + line
        cut = line.find(b"\0")
        if cut >= 0:
            carry = line[:cut]
            continue
        carry = b""
        out.append(line)
    if carry:
        out.append(carry + b"\n")
    return out


def _decode_py2(data: bytes, filename: str) -> SourceText:
    decoded = _decode_py2_text(data, filename)
    final = not data or data.endswith((b"\n", b"\r"))
    return decoded if final else attrs.evolve(decoded, final_newline=False)


def _decode_py2_text(data: bytes, filename: str) -> SourceText:
    bom = data.startswith(_BOM)
    if bom:
        data = data[3:]
    encoding: str | None = "utf-8" if bom else None
    lines = _split_physical(data, universal=True)
    if b"\0" in data:
        lines = _join_nul_lines(lines)
    declared_at = 0
    look_for_cookie = True
    for index, line in enumerate(lines[:2]):  # a cookie counts on line 1 or 2 only
        if look_for_cookie:
            spec, is_code = (None, True) if index == 1 and _ends_in_continuation(lines[0]) else coding_spec(line)
            if spec is not None:
                if bom and spec != "utf-8":
                    return _py2_problem(f"encoding problem: {spec} with BOM", index + 1)
                if not bom:
                    if spec not in ("utf-8", "iso-8859-1") and not _codec_known(spec):
                        return _py2_problem(f"encoding problem: {spec}", index + 1)
                    encoding = spec
                    declared_at = index + 1
                look_for_cookie = False
            elif is_code:
                look_for_cookie = False
        if encoding is not None:
            if not look_for_cookie or index >= 1:
                break
            continue
        bad = _first_high_byte(line)
        if bad is not None:
            return _py2_problem(_non_ascii_message(bad, filename, index + 1), index + 1)
    if encoding is None:
        raw = b"".join(lines)
        if not raw.isascii():
            for index in range(2, len(lines)):
                bad = _first_high_byte(lines[index])
                if bad is not None:
                    return _py2_problem(_non_ascii_message(bad, filename, index + 1), index + 1)
        return SourceText(raw.decode("ascii"), "ascii", False, "ascii")
    if encoding in ("utf-8", "iso-8859-1"):
        raw = b"".join(lines)
        text = raw.decode(encoding, "surrogateescape")
        return SourceText(text, encoding, True, encoding)
    # A codec other than utf-8/latin-1: the lines after the cookie go through that codec; a
    # lone CR is no line end there (only the final CRLF of a line is folded).
    head = b"".join(lines[:declared_at]).decode("ascii", "surrogateescape")
    rest_raw = _split_physical(data, universal=False)[declared_at:]
    rest_bytes = b"".join(rest_raw)
    try:
        rest = rest_bytes.decode(encoding)
    except UnicodeDecodeError as exc:
        bad_line = declared_at + 1 + rest_bytes.count(b"\n", 0, exc.start)
        line_start = rest_bytes.rfind(b"\n", 0, exc.start) + 1
        exc2 = UnicodeDecodeError(
            exc.encoding, rest_bytes[line_start:], exc.start - line_start, exc.end - line_start, exc.reason
        )
        return _py2_problem(_unicode_error_text(exc2, encoding, True), bad_line)
    return SourceText(head + rest, encoding, True, encoding)


def _ends_in_continuation(line: bytes) -> bool:
    """Line 1 continues (backslash or an unclosed triple quote): line 2 is no cookie line then."""
    body = line.rstrip(b"\n")
    if body.endswith(b"\\") and not body.lstrip().startswith(b"#"):
        return True
    return body.count(b'"""') % 2 == 1 or body.count(b"'''") % 2 == 1


def _first_high_byte(line: bytes) -> int | None:
    if line.isascii():
        return None
    for byte in line:
        if byte > 0x7F:
            return byte
    return None


def _non_ascii_message(byte: int, filename: str, line: int) -> str:
    return (
        f"Non-ASCII character '\\x{byte:02x}' in file {filename} on line {line}, but no encoding "
        "declared; see http://python.org/dev/peps/pep-0263/ for details"
    )


def _py2_problem(message: str, line: int) -> SourceText:
    return SourceText("", "ascii", False, "ascii", DecodeProblem("encoding", message, line, 0, line))


def _decode_py3(data: bytes, filename: str) -> SourceText:
    nul = data.find(b"\0")
    if nul >= 0:
        nul_line = data.count(b"\n", 0, nul) + 1
        problem = DecodeProblem(
            "nul", "source code string cannot contain null bytes", 0, None, nul_line, exc_type="ValueError"
        )
        return SourceText("", "utf-8", False, None, problem)
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    bom = data.startswith(_BOM)
    if bom:
        data = data[3:]
    encoding = "utf-8"
    declared = bom
    first_nl = data.find(b"\n")
    lines = [data[: first_nl + 1]]
    second_nl = data.find(b"\n", first_nl + 1)
    if second_nl >= 0:
        lines.append(data[first_nl + 1 : second_nl + 1])
    for index, line in enumerate(lines):
        spec, is_code = coding_spec(line)
        if spec is None:
            if is_code:
                break
            continue
        if bom and spec != "utf-8":
            return _py3_problem(f"encoding problem: {spec} with BOM", index + 1)
        encoding = spec
        declared = True
        break
    if encoding == "utf-8":
        return SourceText(data.decode("utf-8", "surrogateescape"), "utf-8", declared, None)
    if not _codec_known(encoding):
        return _py3_problem(f"unknown encoding: {encoding}", 1 + (len(lines) > 1 and lines[0] != data))
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        return _py3_problem(_unicode_error_text(exc, encoding, False), data.count(b"\n", 0, exc.start) + 1)
    return SourceText(text, codecs.lookup(encoding).name, True, None)


def _py3_problem(message: str, source_line: int) -> SourceText:
    # Decoding fails before the tokenizer has read a line: 3.x reports no line (0) and no offset.
    return SourceText("", "utf-8", False, None, DecodeProblem("encoding", message, 0, 0, source_line))


# ---------------------------------------------------------------- the tokenizer

_NAME_ASCII = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Character classes that take in every non-ASCII character are written as the complement of the
# ASCII characters they leave out: the same sets (a test compares them over every code point), but
# ``[...\x80-\U0010ffff]`` costs ~15 ms to compile, at every start-up, and the complement 0.2 ms.
#: ``[A-Za-z_\x80-\U0010ffff]``
_WIDE_START = r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f]"
#: ``[A-Za-z0-9_\x80-\U0010ffff]``
_WIDE_CHAR = r"[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"
#: ``[A-Za-z0-9_'"\x80-\U0010ffff]``: a name character or a quote
_WIDE_CHAR_OR_QUOTE = r"[^\x00-\x21\x23-\x26\x28-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"
#: ``[0-9A-Za-z_.\x80-\U0010ffff]``: what may not follow a plain decimal number
_WIDE_CHAR_OR_DOT = r"[^\x00-\x2d\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]"
_NAME_WIDE = re.compile(_WIDE_START + _WIDE_CHAR + "*")
_BLANKS = re.compile(r" *")
_DIGITS = re.compile(r"[0-9]*")
_TAB_MAGIC = ("tab-width:", ":tabstop=", ":ts=", "set tabsize=")
_C_ATOI = re.compile(r"\s*([+-]?\d+)")


def _string_end_patterns() -> dict[tuple[str, bool], re.Pattern[str]]:
    return {
        (q, triple): re.compile("[\\\\" + q + ("" if triple else "\n") + "]")
        for q in "'\""
        for triple in (False, True)
    }


def _end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """End of ``pattern`` matched at ``pos`` (patterns used here may match the empty string)."""
    m = pattern.match(text, pos)
    return pos if m is None else m.end()


_STRING_STOPS = _string_end_patterns()


def _whole_string_patterns() -> dict[tuple[str, bool], re.Pattern[str]]:
    """A closed literal from its opening quote, read as :func:`_scan_string` reads it: a backslash
    takes the next character whatever it is, a line end closes no single-quoted literal (it is an
    error there), and the first run of ``size`` unescaped quotes closes the literal."""
    out = {}
    for q in "'\"":
        out[(q, False)] = re.compile(f"{q}(?:[^{q}\\\\\n]++|\\\\.)*+{q}", re.DOTALL)
        out[(q, True)] = re.compile(f"{q * 3}(?:[^{q}\\\\]++|\\\\.|{q}(?!{q * 2}))*+{q * 3}", re.DOTALL)
    return out


_WHOLE_STRINGS = _whole_string_patterns()


_FAST_KINDS = ("", NAME, OP, NUMBER, OP, OP)
_OPEN = 4  # group numbers of _fast_token_pattern: 1 name, 2 operator, 3 number, 4 opening, 5 closing
#: Characters that are an operator token by themselves (``.`` is handled apart: ``.5`` is a number).
_SINGLE_OPERATORS = frozenset("-+*/%&|^~<>=,:;@")


def _longest_of(words: set[str]) -> str:
    """A regex matching the longest of ``words`` at a position: a trie, one branch per first
    character, so a failed branch costs the regex engine one character comparison."""
    rests: dict[str, set[str]] = {}
    for word in words:
        rests.setdefault(word[0], set()).add(word[1:])
    branches = []
    for first in sorted(rests):
        longer = {rest for rest in rests[first] if rest}
        tail = ""
        if longer:
            tail = f"(?:{_longest_of(longer)})" + ("?" if "" in rests[first] else "")
        branches.append(re.escape(first) + tail)
    return "|".join(branches)


@functools.cache
def _fast_token_pattern(rules: TokenizerRules) -> re.Pattern[str]:
    """Blanks, then optionally one token that needs no special handling, in one match.

    Only tokens the character-by-character scanner would read the same way are taken: an ASCII
    name not followed by a quote, a non-ASCII or a name character; an operator (the longest, as
    the scanner takes it); a bracket; a decimal number not followed by a name character or ``.``
    (so ``0777``, ``1_0``, ``10L``, ``1e``, ``1j`` fall back). Anything else (strings, comments,
    newlines, continuation lines, unusual numbers, errors) leaves every group empty and takes the
    general path. The alternatives are ordered by how often they occur in real code.
    """
    dots = r"\.\.\.|\.(?![0-9])" if rules.ellipsis_token else r"\.(?![0-9])"
    operators = _longest_of(set(rules.operators) | _SINGLE_OPERATORS)
    return re.compile(
        r"[ \t\x0c]*(?:"
        rf"([A-Za-z_][A-Za-z0-9_]*)(?!{_WIDE_CHAR_OR_QUOTE})"
        rf"|({dots}|{operators})"
        rf"|((?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)(?!{_WIDE_CHAR_OR_DOT})"
        r"|([(\[{])"
        r"|([)\]}])"
        r")?"
    )


class _Scanner:
    """State of one tokenizer run (CPython's ``tok_state``)."""

    __slots__ = ("final_newline", "line_start", "lineno", "n", "rules", "tabsize", "text")

    def __init__(self, text: str, rules: TokenizerRules) -> None:
        self.text = text
        self.n = len(text)
        self.rules = rules
        self.lineno = 1
        self.line_start = 0
        self.tabsize = TABSIZE
        self.final_newline = True

    def newline_at(self, index: int) -> None:
        """Account for the ``\\n`` at ``index``: the next line starts after it."""
        self.lineno += 1
        self.line_start = index + 1

    def lines_in(self, start: int, end: int) -> None:
        """Account for the newlines inside text[start:end] (multi-line strings)."""
        count = self.text.count("\n", start, end)
        if count:
            self.lineno += count
            self.line_start = self.text.rfind("\n", start, end) + 1


def tokenize(text: str, rules: TokenizerRules, *, final_newline: bool = True) -> Iterator[Token]:
    """Yield the tokens of ``text`` (``\\n`` line ends); raise :class:`TokenizeError` on error.

    ``final_newline``: whether the file ended with a line end (2.7's error lines at EOF depend on it).
    """
    sc = _Scanner(text, rules)
    sc.final_newline = final_newline
    n = sc.n
    pos = 0
    indstack = [0]
    altstack = [0]
    level = 0
    atbol = True
    started = False
    at_eof = False
    blank = False
    tab_strict = rules.strict_tabs
    name_re = _NAME_WIDE if rules.unicode_identifiers else _NAME_ASCII
    ops = rules.operators
    prefixes = rules.string_prefixes
    eof_bump = 1 if rules.file_reader else 0
    fast = _fast_token_pattern(rules).match
    blanks = _BLANKS.match
    while True:
        if atbol:
            atbol = False
            m = blanks(text, pos)
            p = m.end() if m else pos
            col = alt = p - pos
            if (
                p < n and level == 0 and col == indstack[-1] and col == altstack[-1]
                and text[p] not in "\t\x0c#\n"
            ):  # the common case: a code line indented with spaces as deep as the one before
                blank = False
                pos = p
            else:
                if p < n and text[p] in "\t\x0c":  # measure tabs and form feeds character by character
                    col = alt = 0
                    p = pos
                while p < n:
                    ch = text[p]
                    if ch == " ":
                        col += 1
                        alt += 1
                    elif ch == "\t":
                        col = (col // sc.tabsize + 1) * sc.tabsize
                        alt += 1
                    elif ch == "\x0c":
                        col = alt = 0
                    else:
                        break
                    p += 1
                if p >= n:
                    at_eof = True
                blank = p < n and text[p] in "#\n"
                if not blank and level == 0:
                    eline = sc.lineno - 1 + eof_bump if p >= n else sc.lineno
                    pend = 0
                    if col == indstack[-1]:
                        if tab_strict and alt != altstack[-1]:
                            raise TokenizeError("E_TABSPACE", eline, _line_end(text, p), sc.line_start, start=p)
                    elif col > indstack[-1]:
                        if len(indstack) >= MAXINDENT:
                            raise TokenizeError("E_TOODEEP", eline, _line_end(text, p), sc.line_start, start=p)
                        if tab_strict and alt <= altstack[-1]:
                            raise TokenizeError("E_TABSPACE", eline, _line_end(text, p), sc.line_start, start=p)
                        indstack.append(col)
                        altstack.append(alt)
                        pend = 1
                    else:
                        while len(indstack) > 1 and col < indstack[-1]:
                            indstack.pop()
                            altstack.pop()
                            pend -= 1
                        if col != indstack[-1]:
                            raise TokenizeError("E_DEDENT", eline, _line_end(text, p), sc.line_start, start=p)
                        if tab_strict and alt != altstack[-1]:
                            raise TokenizeError("E_TABSPACE", eline, _line_end(text, p), sc.line_start, start=p)
                    cl = p - sc.line_start
                    sline = eline if at_eof else sc.lineno
                    if pend > 0:
                        started = True
                        yield (INDENT, "", sline, cl, eline, p, p, at_eof)
                    for _ in range(-pend):
                        started = True
                        yield (DEDENT, "", sline, 0 if at_eof else cl, eline, p, p, at_eof)
                pos = p
        # again: skip blanks, then one token; the common tokens in one regex match
        m = fast(text, pos)  # never None: every part of the pattern is optional
        group = m.lastindex  # type: ignore[union-attr]
        if group is not None:
            value = m[group]  # type: ignore[index]
            pos = m.end()  # type: ignore[union-attr]  # the token ends the match (lookaheads take nothing)
            start = pos - len(value)
            if group >= _OPEN:
                level += 1 if group == _OPEN else -1
            started = True
            line = sc.lineno
            yield (_FAST_KINDS[group], value, line, start - sc.line_start, line, start, pos, False)
            continue
        pos = m.end()  # type: ignore[union-attr]
        if pos >= n:
            # End of input: parsetok turns the first ENDMARKER into NEWLINE + implied DEDENTs.
            eline = sc.lineno - (1 if n == 0 or text[-1] == "\n" else 0) + eof_bump
            ecol = 0
            if started:
                yield (NEWLINE, "", eline, ecol, eline, n, n, True)
                for _ in range(len(indstack) - 1):
                    yield (DEDENT, "", eline, ecol, eline, n, n, True)
            yield (ENDMARKER, "", eline, ecol, eline, n, n, True)
            return
        c = text[pos]
        start = pos
        if c == "#":
            end = text.find("\n", pos)
            if end < 0:
                end = n
            if rules.tab_size_comments:
                _tab_magic(sc, text[pos + 1 : min(end + 1, pos + 80)])
            pos = end
            if pos >= n:
                continue
            c = "\n"
            start = pos
        if c == "\n":
            pos += 1
            atbol = True
            if blank or level > 0:
                sc.newline_at(start)
                continue
            started = True
            line = sc.lineno
            tok = (NEWLINE, "", line, start - sc.line_start, line, start, pos, False)
            sc.lineno = line + 1  # sc.newline_at(start), inline
            sc.line_start = pos
            yield tok
            continue
        line = sc.lineno
        col0 = start - sc.line_start
        # Identifiers, keywords and string prefixes.
        if c.isalpha() or c == "_" or (rules.unicode_identifiers and c >= "\x80"):
            m = name_re.match(text, pos)
            if m is None:  # a non-ASCII letter in 2.7: not an identifier character there
                pos += 1
                started = True
                yield (OP, c, line, col0, line, start, pos, False)
                continue
            pos = m.end()
            word = m.group()
            if pos < n and text[pos] in "'\"" and word.lower() in prefixes:
                pos = _scan_string(sc, start, pos)
                started = True
                yield (STRING, text[start:pos], line, col0, sc.lineno, start, pos, False)
                continue
            if not word.isascii() and not word.isidentifier():
                raise TokenizeError("E_IDENTIFIER", line, pos, sc.line_start, start=start)
            started = True
            yield (NAME, word, line, col0, line, start, pos, False)
            continue
        if c in "'\"":
            pos = _scan_string(sc, start, pos)
            started = True
            yield (STRING, text[start:pos], line, col0, sc.lineno, start, pos, False)
            continue
        if (c.isdigit() and c.isascii()) or (c == "." and pos + 1 < n and "0" <= text[pos + 1] <= "9"):
            pos = _scan_number(sc, pos)
            started = True
            yield (NUMBER, text[start:pos], line, col0, line, start, pos, False)
            continue
        if c == "\\":
            if pos + 1 < n and text[pos + 1] == "\n":
                sc.newline_at(pos + 1)
                pos += 2
                continue
            raise TokenizeError("E_LINECONT", line, _line_end(text, pos), sc.line_start, start=pos)
        if c == "." and rules.ellipsis_token and text.startswith("...", pos):
            pos += 3
            started = True
            yield (OP, "...", line, col0, line, start, pos, False)
            continue
        two = text[pos : pos + 2]
        if two in ops:
            three = text[pos : pos + 3]
            op = three if three in ops else two
            pos += len(op)
            started = True
            yield (OP, op, line, col0, line, start, pos, False)
            continue
        if c in "([{":
            level += 1
        elif c in ")]}":
            level -= 1
        pos += 1
        started = True
        yield (OP, c, line, col0, line, start, pos, False)


def _line_end(text: str, pos: int) -> int:
    """Index just past the ``\\n`` ending the line of ``pos`` (``tok->inp``)."""
    end = text.find("\n", pos)
    return len(text) if end < 0 else end + 1


def _tab_magic(sc: _Scanner, comment: str) -> None:
    """2.7: ``tab-width:``, ``:tabstop=``, ``:ts=``, ``set tabsize=`` in a comment set the tab size."""
    for form in _TAB_MAGIC:
        at = comment.find(form)
        if at >= 0:
            m = _C_ATOI.match(comment, at + len(form))
            if m:
                size = int(m.group(1))
                if 1 <= size <= 40:
                    sc.tabsize = size


def _eof_line(sc: _Scanner, p: int, lineno: int, py2: bool) -> int:
    """The line CPython names when a string is still open at the end of the file.

    3.x names the file's last line. 2.7's import reads the file through its file tokenizer, which
    counts one line more when the file ends with a line end (checked against CPython 2.7.18
    importing such files). ``sc.text`` always ends with a line end.
    """
    newlines = sc.text.count("\n", p, sc.n)
    if py2:
        return lineno + newlines + (1 if sc.final_newline else 0)
    return lineno + newlines - 1


def _scan_string(sc: _Scanner, start: int, quote_pos: int) -> int:
    """Index just past the string literal whose opening quote is at ``quote_pos``."""
    text, n = sc.text, sc.n
    q = text[quote_pos]
    triple = text.startswith(q * 3, quote_pos)
    size = 3 if triple else 1
    p = quote_pos + size
    if not triple and text.startswith(q * 2, quote_pos):
        return quote_pos + 2  # empty string
    whole = _WHOLE_STRINGS[(q, triple)].match(text, quote_pos)
    if whole is not None:  # the common case, in one match; an unclosed literal takes the loop below
        p = whole.end()
        sc.lines_in(quote_pos, p)
        return p
    pattern = _STRING_STOPS[(q, triple)]
    eq = 0
    py2 = sc.rules.file_reader
    start_line_start = sc.line_start
    lineno = sc.lineno
    while eq != size:
        m = pattern.search(text, p)
        if m is None:
            raise TokenizeError("E_EOFS" if triple else "E_EOLS", _eof_line(sc, quote_pos, lineno, py2), n,
                                start_line_start, start=start)
        j = m.start()
        if j > p:
            eq = 0
        ch = text[j]
        p = j + 1
        if ch == "\n":
            if not triple:
                lineno += text.count("\n", quote_pos, j)
                if py2:
                    raise TokenizeError("E_EOLS", lineno, j, start_line_start, start=start)
                raise TokenizeError("E_EOLS", lineno, p, start_line_start, start=start)
            eq = 0
        elif ch == q:
            eq += 1
        else:
            eq = 0
            if p >= n:
                code = "E_EOLS" if py2 or not triple else "E_EOFS"
                raise TokenizeError(code, _eof_line(sc, quote_pos, lineno, py2), n, start_line_start,
                                    start=start)
            p += 1
    sc.lines_in(quote_pos, p)
    return p


def _scan_number(sc: _Scanner, pos: int) -> int:
    if sc.rules.version[0] == 2:
        return _number_27(sc, pos)
    return _number_3x(sc, pos)


def _err_token(sc: _Scanner, cur: int, start: int) -> TokenizeError:
    return TokenizeError("E_TOKEN", sc.lineno, cur, sc.line_start, start=start)


def _ch(text: str, i: int) -> str:
    return text[i] if i < len(text) else ""


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9" and c != ""


def _isxdigit(c: str) -> bool:
    return c != "" and c in "0123456789abcdefABCDEF"


def _number_27(sc: _Scanner, pos: int) -> int:
    """tokenizer.c (2.7) number scanning; returns the end index or raises E_TOKEN."""
    text = sc.text
    start = pos
    c = text[pos]
    p = pos + 1
    if c == ".":
        return _fraction_27(sc, start, p)
    if c == "0":
        c = _ch(text, p)
        p += 1
        if c == ".":
            return _fraction_27(sc, start, p)
        if c in ("j", "J"):
            return p
        if c in ("x", "X"):
            c = _ch(text, p)
            p += 1
            if not _isxdigit(c):
                raise _err_token(sc, p - 1, start)
            while _isxdigit(_ch(text, p)):
                p += 1
        elif c in ("o", "O"):
            c = _ch(text, p)
            p += 1
            if not ("0" <= c < "8" and c):
                raise _err_token(sc, p - 1, start)
            while "0" <= _ch(text, p) < "8" and _ch(text, p):
                p += 1
        elif c in ("b", "B"):
            c = _ch(text, p)
            p += 1
            if c not in ("0", "1"):
                raise _err_token(sc, p - 1, start)
            while _ch(text, p) in ("0", "1") and _ch(text, p):
                p += 1
        else:
            p -= 1  # c is the first char after '0'
            found_decimal = False
            while "0" <= _ch(text, p) < "8" and _ch(text, p):
                p += 1
            if _isdigit(_ch(text, p)):
                found_decimal = True
                p = _end(_DIGITS, text, p)
            c = _ch(text, p)
            if c == ".":
                return _fraction_27(sc, start, p + 1)
            if c in ("e", "E"):
                return _exponent_27(sc, start, p + 1)
            if c in ("j", "J"):
                return p + 1
            if found_decimal:
                raise _err_token(sc, p, start)
        if _ch(text, p) in ("l", "L") and _ch(text, p):
            p += 1
        return p
    p = _end(_DIGITS, text, p)
    c = _ch(text, p)
    if c in ("l", "L"):
        return p + 1
    if c == ".":
        return _fraction_27(sc, start, p + 1)
    if c in ("e", "E"):
        return _exponent_27(sc, start, p + 1)
    if c in ("j", "J"):
        return p + 1
    return p


def _fraction_27(sc: _Scanner, start: int, p: int) -> int:
    text = sc.text
    p = _end(_DIGITS, text, p)
    c = _ch(text, p)
    if c in ("e", "E"):
        return _exponent_27(sc, start, p + 1)
    if c in ("j", "J"):
        return p + 1
    return p


def _exponent_27(sc: _Scanner, start: int, p: int) -> int:
    text = sc.text
    c = _ch(text, p)
    if c in ("+", "-"):
        p += 1
        c = _ch(text, p)
    if not _isdigit(c):
        raise _err_token(sc, p, start)
    p = _end(_DIGITS, text, p)
    if _ch(text, p) in ("j", "J") and _ch(text, p):
        p += 1
    return p


def _decimal_tail(sc: _Scanner, p: int, start: int) -> int:
    """``tok_decimal_tail`` (3.6+): digits with single underscores between them."""
    text = sc.text
    while True:
        p = _end(_DIGITS, text, p)
        if _ch(text, p) != "_":
            return p
        if not _isdigit(_ch(text, p + 1)):
            raise _err_token(sc, p + 1, start)
        p += 1


def _number_3x(sc: _Scanner, pos: int) -> int:
    """tokenizer.c (3.7) number scanning; returns the end index or raises E_TOKEN."""
    text = sc.text
    start = pos
    c = text[pos]
    if c == ".":
        return _fraction_3x(sc, start, pos + 1)
    p = pos + 1
    if c == "0":
        c = _ch(text, p)
        if c in ("x", "X", "o", "O", "b", "B"):
            digits = {"x": "0123456789abcdefABCDEF", "o": "01234567", "b": "01"}[c.lower()]
            p += 1
            while True:
                if _ch(text, p) == "_":
                    p += 1
                if not (_ch(text, p) and _ch(text, p) in digits):
                    raise _err_token(sc, p, start)
                while _ch(text, p) and _ch(text, p) in digits:
                    p += 1
                if _ch(text, p) != "_":
                    break
            return p
        nonzero = False
        while True:
            if _ch(text, p) == "_":
                p += 1
                if not _isdigit(_ch(text, p)):
                    raise _err_token(sc, p, start)
            if _ch(text, p) != "0":
                break
            p += 1
        if _isdigit(_ch(text, p)):
            nonzero = True
            p = _decimal_tail(sc, p, start)
        c = _ch(text, p)
        if c == ".":
            return _fraction_3x(sc, start, p + 1)
        if c in ("e", "E"):
            return _exponent_3x(sc, start, p)
        if c in ("j", "J"):
            return p + 1
        if nonzero:
            raise _err_token(sc, p, start)
        return p
    p = _decimal_tail(sc, pos, start)
    c = _ch(text, p)
    if c == ".":
        return _fraction_3x(sc, start, p + 1)
    if c in ("e", "E"):
        return _exponent_3x(sc, start, p)
    if c in ("j", "J"):
        return p + 1
    return p


def _fraction_3x(sc: _Scanner, start: int, p: int) -> int:
    text = sc.text
    if _isdigit(_ch(text, p)):
        p = _decimal_tail(sc, p, start)
    c = _ch(text, p)
    if c in ("e", "E"):
        return _exponent_3x(sc, start, p)
    if c in ("j", "J"):
        return p + 1
    return p


def _exponent_3x(sc: _Scanner, start: int, e_pos: int) -> int:
    text = sc.text
    p = e_pos + 1
    c = _ch(text, p)
    if c in ("+", "-"):
        p += 1
        if not _isdigit(_ch(text, p)):
            raise _err_token(sc, p, start)
    elif not _isdigit(c):
        return e_pos  # "1e" is the number 1 followed by the name e
    p = _decimal_tail(sc, p, start)
    if _ch(text, p) in ("j", "J") and _ch(text, p):
        p += 1
    return p


def interpreter_offset(text: str, buf: int, cur: int, rules: TokenizerRules, encoding: str | None) -> int:
    """CPython's ``offset`` for an error whose tokenizer stopped at ``cur`` in a buffer at ``buf``.

    2.7 counts bytes of the source encoding (``PyTokenizer_RestoreEncoding``), 3.7 characters.
    """
    span = text[buf:cur]
    if not rules.file_reader:
        return len(span)
    if encoding in (None, "ascii", "utf-8", "iso-8859-1") or not span:
        enc = "utf-8" if encoding in (None, "ascii") else encoding
        return len(span.encode(enc, "surrogateescape" if enc != "utf-8" else "surrogatepass"))
    return len(span[:-1].encode(encoding, "replace")) + 1


def async_keywords(tokens: Iterator[Token], keywords: set[int]) -> Iterator[Token]:
    """Pass ``tokens`` through, adding to ``keywords`` the start offset of every ``async``/``await``
    that CPython 3.6's tokenizer turns into an ASYNC/AWAIT token (the others are plain names).

    Follows ``tok_get`` in 3.6's ``Parser/tokenizer.c``: inside an ``async def`` (from its ``async``
    until the first logical line, after the signature's NEWLINE, indented no deeper than the
    ``async def``) both words are keywords; elsewhere ``async`` is one only when ``def`` follows it.
    Each token is yielded after the next one is known (one token of lookahead).
    """
    depth = 0  # INDENT/DEDENT nesting, which orders indentation like the tokenizer's columns
    in_async = False
    async_depth = 0
    seen_newline = False
    line_start = True
    pending: Token | None = None
    for tok in tokens:
        kind = tok[0]
        if pending is not None:
            if kind == NAME and tok[1] == "def":
                keywords.add(pending[5])
                if not in_async:
                    in_async, async_depth, seen_newline = True, depth, False
            yield pending
            pending = None
        if kind == INDENT:
            depth += 1
        elif kind == DEDENT:
            depth -= 1
        elif kind == NEWLINE:
            if in_async:
                seen_newline = True
            line_start = True
            yield tok
            continue
        elif line_start:
            line_start = False
            if in_async and seen_newline and depth <= async_depth:
                in_async = False
        if kind == NAME and tok[1] in ("async", "await"):
            if in_async:
                keywords.add(tok[5])
            elif tok[1] == "async":
                pending = tok
                continue
        yield tok
    if pending is not None:
        yield pending
