"""A symbolic pickle machine: reads pickles the way CPython's C unpickler does, runs nothing.

Every opcode of protocols 0-5 is parsed as ``Modules/_pickle.c`` parses it (text arguments of
INT/LONG/FLOAT/STRING/UNICODE/GET/PUT, the mark stack and its fence, MEMOIZE numbering by memo
size, EXT registry lookups, ...). Where ``pickletools`` and the real unpickler disagree the real
one is followed. Instead of importing and calling, the machine builds symbolic values —
:class:`Global`, :class:`Call`, :class:`PersistentId`, :class:`PDict`, :class:`PSet` — and records
every global it references and every call a real unpickler would make.

Everything is bounded by :class:`Limits`: declared lengths are checked against the bytes that
remain before anything is allocated. Malformed or over-limit input raises :class:`PickleError`
(offset + message) and nothing else.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import re
import struct
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import attrs

__all__ = [
    "OPCODES",
    "Call",
    "CallRef",
    "Global",
    "GlobalRef",
    "Limits",
    "Oddity",
    "OpInfo",
    "OutOfBandBuffer",
    "PDict",
    "PSet",
    "PersistentId",
    "PickleError",
    "PickleResult",
    "canonical_name",
    "load",
    "load_stream",
]


class PickleError(Exception):
    """A pickle is malformed or exceeds a limit; ``offset`` is the absolute byte offset."""

    def __init__(self, offset: int, message: str, *, limit: bool = False) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.offset = offset
        self.message = message
        #: True when the pickle is refused for exceeding a :class:`Limits` bound, not for being malformed.
        self.limit = limit


@attrs.frozen
class Limits:
    """Bounds on what one pickle may make the machine do or keep."""

    max_opcodes: int = 5_000_000
    max_memo: int = 1_000_000
    #: Largest memo index accepted (CPython allocates a memo array up to the index).
    max_memo_index: int = 1 << 31
    max_stack: int = 1_000_000
    #: Open MARKs at once: the nesting of TUPLE/LIST/DICT/... built from marks.
    max_marks: int = 10_000
    #: Largest single string / bytes / integer argument.
    max_string: int = 64 << 20
    #: Longest text line (protocol 0 arguments, GLOBAL names).
    max_line: int = 1 << 20
    #: Bytes of argument data kept over the whole pickle.
    max_total_bytes: int = 256 << 20
    #: Pickles read back to back from one stream.
    max_pickles: int = 64


# --------------------------------------------------------------------------------------------
# Symbolic values


@attrs.frozen
class Global:
    """A ``module.name`` reference (GLOBAL, STACK_GLOBAL, INST, EXT*), never imported."""

    module: str
    name: str

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@attrs.define(eq=False)
class Call:
    """What a real unpickler would produce by calling ``func``.

    ``opcode`` says how (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ). Later opcodes that mutate the
    result are recorded on it: BUILD states, APPEND/ADDITEMS items, SETITEM pairs.
    """

    func: Any
    args: Any
    kwargs: Any = None
    opcode: str = "REDUCE"
    offset: int = 0
    state: list[Any] = attrs.field(factory=list)
    items: list[Any] = attrs.field(factory=list)
    setitems: list[tuple[Any, Any]] = attrs.field(factory=list)


@attrs.define(eq=False)
class PersistentId:
    """A PERSID/BINPERSID reference: what ``persistent_load(pid)`` would be asked for."""

    pid: Any
    offset: int


@attrs.define(eq=False)
class PDict:
    """A dict as key/value pairs (keys may be symbolic, so no hashing)."""

    items: list[tuple[Any, Any]] = attrs.field(factory=list)

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of the last pair whose key equals ``key`` (concrete keys only)."""
        for k, v in reversed(self.items):
            if type(k) is type(key) and k == key:
                return v
        return default


@attrs.define(eq=False)
class PSet:
    """A set (EMPTY_SET + ADDITEMS) or frozenset (FROZENSET)."""

    items: list[Any] = attrs.field(factory=list)
    frozen: bool = False


@attrs.frozen
class OutOfBandBuffer:
    """A NEXT_BUFFER placeholder: the n-th buffer the caller would have to supply."""

    index: int
    readonly: bool = False


@attrs.frozen
class GlobalRef:
    """A global referenced by the stream, as spelled there, and where."""

    module: str
    name: str
    offset: int
    opcode: str


@attrs.frozen
class CallRef:
    """A call a real unpickler would make. ``func`` is the callee when it is a plain global."""

    func: Global | None
    offset: int
    opcode: str
    #: Positional arguments passed, when the argument tuple is concrete.
    nargs: int | None = None


@attrs.frozen
class Oddity:
    """Something that works in a real unpickler but no benign file needs."""

    kind: str
    offset: int
    detail: str


@attrs.frozen
class PickleResult:
    """One pickle read from ``start`` up to ``end`` (just past STOP)."""

    start: int
    end: int
    value: Any
    #: Arguments of every PROTO opcode, in order.
    protocols: tuple[int, ...]
    #: The highest protocol any opcode used needs (what an old unpickler must support).
    opcode_protocol: int
    globals: tuple[GlobalRef, ...]
    calls: tuple[CallRef, ...]
    persistent_ids: tuple[PersistentId, ...]
    oddities: tuple[Oddity, ...]
    opcode_count: int

    @property
    def protocol(self) -> int:
        """The protocol the stream declares (first PROTO; 0 without one)."""
        return self.protocols[0] if self.protocols else 0

    @property
    def needed_protocol(self) -> int:
        """The protocol an unpickler must accept: declared or needed by opcodes, whichever is higher."""
        return max([self.opcode_protocol, *self.protocols])


# --------------------------------------------------------------------------------------------
# Facts about pickle itself

def canonical_name(module: str, name: str) -> tuple[str, str]:
    """The Python 3 spelling of a global (``__builtin__.eval`` -> ``builtins.eval``).

    Uses the same mapping tables as the unpickler's ``fix_imports`` (``_compat_pickle``).
    """
    key = (module, name)
    if key in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[key]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


@attrs.frozen
class OpInfo:
    """One opcode: its name and the protocol that introduced it."""

    code: int
    name: str
    protocol: int


def _ops(protocol: int, spec: str) -> list[OpInfo]:
    out = []
    for item in spec.split():
        char, name = item.split("=")
        code = int(char, 16) if len(char) > 1 else ord(char)
        out.append(OpInfo(code, name, protocol))
    return out


#: Every opcode of protocols 0-5 (Lib/pickle.py, Modules/_pickle.c); the protocol is the one
#: that introduced it, which an unpickler of an older Python does not know.
OPCODES: Mapping[int, OpInfo] = {
    op.code: op
    for op in [
        *_ops(
            0,
            "(=MARK .=STOP 0=POP 1=POP_MARK 2=DUP F=FLOAT I=INT L=LONG N=NONE P=PERSID "
            "R=REDUCE S=STRING V=UNICODE a=APPEND b=BUILD c=GLOBAL d=DICT g=GET i=INST "
            "l=LIST p=PUT s=SETITEM t=TUPLE",
        ),
        *_ops(
            1,
            "G=BINFLOAT J=BININT K=BININT1 M=BININT2 Q=BINPERSID T=BINSTRING "
            "U=SHORT_BINSTRING X=BINUNICODE }=EMPTY_DICT e=APPENDS ]=EMPTY_LIST h=BINGET "
            "j=LONG_BINGET o=OBJ q=BINPUT r=LONG_BINPUT u=SETITEMS )=EMPTY_TUPLE",
        ),
        *_ops(
            2,
            "80=PROTO 81=NEWOBJ 82=EXT1 83=EXT2 84=EXT4 85=TUPLE1 86=TUPLE2 87=TUPLE3 "
            "88=NEWTRUE 89=NEWFALSE 8a=LONG1 8b=LONG4",
        ),
        *_ops(3, "B=BINBYTES C=SHORT_BINBYTES"),
        *_ops(
            4,
            "8c=SHORT_BINUNICODE 8d=BINUNICODE8 8e=BINBYTES8 8f=EMPTY_SET 90=ADDITEMS "
            "91=FROZENSET 92=NEWOBJ_EX 93=STACK_GLOBAL 94=MEMOIZE 95=FRAME",
        ),
        *_ops(5, "96=BYTEARRAY8 97=NEXT_BUFFER 98=READONLY_BUFFER"),
    ]
}

#: The protocol the C unpickler rejects above (pickle.HIGHEST_PROTOCOL of CPython >= 3.8).
_HIGHEST_PROTOCOL = 5
_PY_SSIZE_T_MAX = (1 << 63) - 1
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1  # C long on LP64 platforms


# --------------------------------------------------------------------------------------------
# Input


class _Input:
    """Bounded, buffered reads from ``f`` between ``pos`` and ``end`` (absolute offsets)."""

    _CHUNK = 1 << 16
    #: The first read is small: most pickles of a model file are (a remote file pays per byte).
    _FIRST_CHUNK = 1 << 12

    def __init__(self, f: BinaryIO, pos: int, end: int) -> None:
        self._f = f
        self._chunk = self._FIRST_CHUNK
        self.end = end
        self._buf = b""
        self._bstart = pos
        self._bpos = 0

    @property
    def pos(self) -> int:
        return self._bstart + self._bpos

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def _fill(self, need: int) -> None:
        """Make at least ``need`` bytes available after the cursor (caller checked ``end``)."""
        have = len(self._buf) - self._bpos
        if have >= need:
            return
        start = self._bstart + len(self._buf)
        want = min(max(need - have, self._chunk), self.end - start)
        self._chunk = self._CHUNK
        self._f.seek(start)
        more = self._f.read(want)
        if len(more) < need - have:
            raise PickleError(start + len(more), "file is shorter than its declared size")
        self._buf = self._buf[self._bpos :] + more
        self._bstart += self._bpos
        self._bpos = 0

    def byte(self) -> int:
        if self._bpos < len(self._buf):
            b = self._buf[self._bpos]
            self._bpos += 1
            return b
        if self.remaining <= 0:
            raise PickleError(self.pos, "pickle data was truncated")
        self._fill(1)
        b = self._buf[self._bpos]
        self._bpos += 1
        return b

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes, refused before reading when fewer remain."""
        if n > self.remaining:
            raise PickleError(self.pos, f"pickle data was truncated (need {n} bytes, {self.remaining} left)")
        self._fill(n)
        out = self._buf[self._bpos : self._bpos + n]
        self._bpos += n
        return out

    def readline(self, limit: int) -> bytes:
        """Up to and including the next newline, or the rest of the input (as the C reader does)."""
        scanned = 0
        while True:
            idx = self._buf.find(b"\n", self._bpos + scanned)
            if idx >= 0:
                if idx + 1 - self._bpos > limit:
                    raise PickleError(self.pos, f"text line longer than {limit} bytes", limit=True)
                line = self._buf[self._bpos : idx + 1]
                self._bpos = idx + 1
                return line
            have = len(self._buf) - self._bpos
            if have > limit:
                raise PickleError(self.pos, f"text line longer than {limit} bytes", limit=True)
            if have >= self.remaining:
                line = self._buf[self._bpos :]
                self._bpos = len(self._buf)
                return line
            scanned = have
            self._fill(min(have + self._CHUNK, self.remaining))


# --------------------------------------------------------------------------------------------
# Text-argument parsing as the C unpickler does it


_SPACE = b" \t\n\v\f\r"


def _cstr(data: bytes) -> bytes:
    """The C-string view of ``data``: everything before the first NUL."""
    nul = data.find(b"\0")
    return data if nul < 0 else data[:nul]


def _pylong_from_string(data: bytes, base: int) -> int | None:
    """``PyLong_FromString(s, NULL, base)`` on a C string; None where it fails."""
    text = _cstr(data)
    if any(b >= 0x80 for b in text):
        return None
    try:
        return int(text.decode("ascii"), base)
    except ValueError:
        return None


def _strtol(data: bytes) -> tuple[int, int, bool]:
    """C ``strtol(s, &end, 0)``: (value, index of end, overflowed)."""
    s = _cstr(data)
    i, n = 0, len(s)
    while i < n and s[i] in _SPACE:
        i += 1
    neg = False
    if i < n and s[i] in b"+-":
        neg = s[i] == ord("-")
        i += 1
    base = 10
    if i + 1 < n and s[i] == ord("0") and s[i + 1] in b"xX" and i + 2 < n and chr(s[i + 2]) in _HEX:
        base, i = 16, i + 2
    elif i < n and s[i] == ord("0"):
        base = 8
    digits_start = i
    value = 0
    while i < n:
        c = chr(s[i]).lower()
        d = _DIGIT_VALUE.get(c)
        if d is None or d >= base:
            break
        value = value * base + d
        i += 1
    if i == digits_start:
        return 0, 0, False  # no conversion: end points at the start of the string
    value = -value if neg else value
    if value < _LONG_MIN or value > _LONG_MAX:
        return 0, i, True
    return value, i, False


_HEX = "0123456789abcdefABCDEF"
_DIGIT_VALUE = {c: int(c, 16) for c in "0123456789abcdef"}
_FLOAT_RE = re.compile(rb"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE)


def _parse_float(data: bytes) -> float | None:
    """``PyOS_string_to_double`` + the FLOAT end check; None where the C unpickler fails."""
    s = _cstr(data)
    m = _FLOAT_RE.match(s)
    if m is None:
        return None
    rest = s[m.end() :]
    if rest and rest[0] != ord("\n"):
        return None
    text = m.group(0).decode("ascii")
    value = float(text)
    if value in (float("inf"), float("-inf")) and "inf" not in text.lower():
        return None  # overflow: the C unpickler raises OverflowError
    return value


_SIMPLE_ESCAPES = {
    ord("\\"): b"\\",
    ord("'"): b"'",
    ord('"'): b'"',
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("t"): b"\t",
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("v"): b"\v",
    ord("a"): b"\a",
}


def _decode_escape(data: bytes) -> bytes | str:
    """``PyBytes_DecodeEscape``: bytes, or an error message string."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        i += 1
        if c != ord("\\"):
            out.append(c)
            continue
        if i >= n:
            return "Trailing \\ in string"
        c = data[i]
        i += 1
        if c == ord("\n"):
            continue
        if c in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[c]
        elif ord("0") <= c <= ord("7"):
            value = c - ord("0")
            for _ in range(2):
                if i < n and ord("0") <= data[i] <= ord("7"):
                    value = value * 8 + data[i] - ord("0")
                    i += 1
            out.append(value & 0xFF)
        elif c == ord("x"):
            if i + 1 < n and chr(data[i]) in _HEX and chr(data[i + 1]) in _HEX:
                out.append(int(data[i : i + 2], 16))
                i += 2
            else:
                return f"invalid \\x escape at position {i - 2}"
        else:
            out += b"\\"
            i -= 1  # an unknown escape keeps its backslash
    return bytes(out)


# --------------------------------------------------------------------------------------------
# The machine


class _Machine:
    def __init__(
        self,
        inp: _Input,
        limits: Limits,
        extension_registry: Mapping[int, tuple[str, str]],
        encoding: str,
    ) -> None:
        self.inp = inp
        self.limits = limits
        self.ext = extension_registry
        self.encoding = encoding
        self.stack: list[Any] = []
        self.marks: list[int] = []
        self.fence = 0
        self.memo: dict[int, Any] = {}
        self.proto = 0
        self.protocols: list[int] = []
        self.opcode_protocol = 0
        self.globals: list[GlobalRef] = []
        self.calls: list[CallRef] = []
        self.pids: list[PersistentId] = []
        self.oddities: list[Oddity] = []
        self.total_bytes = 0
        self.buffers = 0
        self.op_offset = 0
        self.count = 0
        self.stopped = False

    # -- errors and stack primitives ------------------------------------------------------

    def fail(self, message: str) -> PickleError:
        return PickleError(self.op_offset, message)

    def over(self, message: str) -> PickleError:
        return PickleError(self.op_offset, message, limit=True)

    def underflow(self) -> PickleError:
        return self.fail("unpickling stack underflow")

    def push(self, value: Any) -> None:
        if len(self.stack) >= self.limits.max_stack:
            raise self.over(f"pickle stack deeper than {self.limits.max_stack} entries")
        self.stack.append(value)

    def pop(self) -> Any:
        if len(self.stack) <= self.fence:
            raise self.underflow()
        return self.stack.pop()

    def top(self) -> Any:
        if len(self.stack) <= self.fence:
            raise self.underflow()
        return self.stack[-1]

    def marker(self) -> int:
        if not self.marks:
            raise self.fail("could not find MARK")
        mark = self.marks.pop()
        self.fence = self.marks[-1] if self.marks else 0
        return mark

    def pop_from(self, start: int) -> list[Any]:
        if start < self.fence:
            raise self.underflow()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def count_bytes(self, n: int) -> None:
        if n > self.limits.max_string:
            raise self.over(f"argument of {n} bytes exceeds the limit of {self.limits.max_string}")
        self.total_bytes += n
        if self.total_bytes > self.limits.max_total_bytes:
            raise self.over(f"pickle holds more than {self.limits.max_total_bytes} bytes of data")

    def read_sized(self, n: int) -> bytes:
        self.count_bytes(n)
        return self.inp.read(n)

    def readline(self) -> bytes:
        line = self.inp.readline(self.limits.max_line)
        self.count_bytes(len(line))
        return line

    def read_size(self, nbytes: int) -> int:
        """``calc_binsize``: an unsigned little-endian size that must fit a Py_ssize_t."""
        value = int.from_bytes(self.inp.read(nbytes), "little")
        if value > _PY_SSIZE_T_MAX:
            raise self.fail(f"size {value} exceeds the system's maximum")
        return value

    def text(self, raw: bytes) -> str | bytes:
        """A Python 2 ``str`` as Python 3 sees it; kept as bytes when the encoding refuses it."""
        try:
            return raw.decode(self.encoding)
        except (UnicodeDecodeError, LookupError):
            self.oddities.append(
                Oddity("undecodable-str", self.op_offset, f"8-bit string not valid {self.encoding}")
            )
            return raw

    # -- memo -------------------------------------------------------------------------------

    def memo_put(self, idx: int) -> None:
        if idx > self.limits.max_memo_index:
            raise self.over(f"memo index {idx} exceeds the limit of {self.limits.max_memo_index}")
        value = self.top()
        if idx not in self.memo and len(self.memo) >= self.limits.max_memo:
            raise self.over(f"more than {self.limits.max_memo} memo entries")
        self.memo[idx] = value

    def memo_get(self, idx: int) -> None:
        if idx not in self.memo:
            raise self.fail(f"Memo value not found at index {idx}")
        self.push(self.memo[idx])

    # -- globals and calls ------------------------------------------------------------------

    def make_global(self, module: str, name: str, opcode: str) -> Global:
        self.globals.append(GlobalRef(module, name, self.op_offset, opcode))
        return Global(module, name)

    def make_call(self, func: Any, args: Any, kwargs: Any, opcode: str) -> Call:
        if _is_concrete(func):
            raise self.fail(f"{opcode} callable is a {type(func).__name__}, which cannot be called")
        target = func if isinstance(func, Global) else None
        if target is None and not isinstance(func, PersistentId):
            self.oddities.append(
                Oddity("call-of-value", self.op_offset, f"{opcode} calls {_describe(func)}, not a global")
            )
        nargs = len(args) if isinstance(args, tuple) else None
        self.calls.append(CallRef(target, self.op_offset, opcode, nargs))
        return Call(func, args, kwargs, opcode, self.op_offset)

    def mutation(self, target: Any, what: str) -> None:
        """A mutating opcode aimed at something other than a container or an instance."""
        kind = "mutates-global" if isinstance(target, Global | PersistentId) else "mutates-value"
        self.oddities.append(Oddity(kind, self.op_offset, f"{what} {_describe(target)}"))

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> Any:
        """Execute opcodes until STOP.

        The common opcodes of torch pickles are done inline on the input's buffer, but only when
        their arguments are already buffered and no check can fail; anything else (a refill, an
        error, a rare opcode) goes through the handler, which does the same work the slow way.
        Nothing is changed before an inline case has decided it can complete, so the handler always
        starts from the same state and reports the same errors at the same offsets.
        """
        inp = self.inp
        stack, memo, marks = self.stack, self.memo, self.marks
        calls, pids = self.calls, self.pids
        limits = self.limits
        max_ops, max_stack, max_marks = limits.max_opcodes, limits.max_stack, limits.max_marks
        max_memo, max_memo_index = limits.max_memo, limits.max_memo_index
        max_string, max_total = limits.max_string, limits.max_total_bytes
        protocols, handlers = _PROTOCOL_OF, _HANDLER_OF
        from_bytes = int.from_bytes
        u32 = _U32.unpack_from
        missing = _MISSING
        count = 0
        oproto = self.opcode_protocol
        buf, bpos, bstart = inp._buf, inp._bpos, inp._bstart
        blen = len(buf)
        fence = self.fence  # kept here, stored back around every handler call
        while True:
            if bpos >= blen:
                self.op_offset = bstart + bpos
                if inp.end - self.op_offset <= 0:
                    if count == 0:
                        raise self.fail("Ran out of input")
                    raise self.fail("pickle data was truncated")
                inp._bpos = bpos
                inp._fill(1)
                buf, bpos, bstart = inp._buf, inp._bpos, inp._bstart
                blen = len(buf)
            code = buf[bpos]
            proto = protocols[code]
            if proto > oproto:  # a byte that is no opcode has a protocol above any real one
                if proto == _NOT_AN_OPCODE:
                    self.op_offset = bstart + bpos
                    shown = chr(code) if 0x20 <= code < 0x7F else f"\\x{code:02x}"
                    raise self.fail(f"invalid load key, '{shown}'.")
                oproto = proto
            count += 1
            if count > max_ops:
                self.op_offset = bstart + bpos
                raise self.over(f"more than {max_ops} opcodes")
            # -- inline cases, most frequent in torch pickles first --------------------------
            if code == 0x72:  # LONG_BINPUT
                if bpos + 5 <= blen and len(stack) > fence:
                    idx = u32(buf, bpos + 1)[0]
                    if idx <= max_memo_index and (len(memo) < max_memo or idx in memo):
                        memo[idx] = stack[-1]
                        bpos += 5
                        continue
            elif code == 0x68:  # BINGET
                if bpos + 2 <= blen and len(stack) < max_stack:
                    value = memo.get(buf[bpos + 1], missing)
                    if value is not missing:
                        stack.append(value)
                        bpos += 2
                        continue
            elif code == 0x4B:  # BININT1
                if bpos + 2 <= blen and len(stack) < max_stack:
                    stack.append(buf[bpos + 1])
                    bpos += 2
                    continue
            elif code == 0x28:  # MARK
                if len(marks) < max_marks:
                    fence = len(stack)
                    marks.append(fence)
                    bpos += 1
                    continue
            elif code == 0x74:  # TUPLE
                if marks:
                    mark = marks[-1]
                    below = marks[-2] if len(marks) > 1 else 0
                    if below <= mark < max_stack:
                        marks.pop()
                        fence = below
                        items = tuple(stack[mark:])
                        del stack[mark:]
                        stack.append(items)
                        bpos += 1
                        continue
            elif code in {0x58, 0x8C}:  # BINUNICODE, SHORT_BINUNICODE
                head = 5 if code == 0x58 else 2
                if bpos + head <= blen and len(stack) < max_stack:
                    n = u32(buf, bpos + 1)[0] if head == 5 else buf[bpos + 1]
                    total = self.total_bytes + n
                    if bpos + head + n <= blen and n <= max_string and total <= max_total:
                        try:
                            text = buf[bpos + head : bpos + head + n].decode("utf-8", "surrogatepass")
                        except UnicodeDecodeError:
                            pass
                        else:
                            self.total_bytes = total
                            stack.append(text)
                            bpos += head + n
                            continue
            elif code == 0x52:  # REDUCE of a global with an argument tuple (what make_call does for it)
                if len(stack) - 2 >= fence:
                    func, args = stack[-2], stack[-1]
                    if type(func) is Global and type(args) is tuple:
                        offset = bstart + bpos
                        calls.append(CallRef(func, offset, "REDUCE", len(args)))
                        del stack[-1]
                        stack[-1] = Call(func, args, None, "REDUCE", offset)
                        bpos += 1
                        continue
            elif code == 0x51:  # BINPERSID
                if len(stack) > fence:
                    ref = PersistentId(stack[-1], bstart + bpos)
                    pids.append(ref)
                    stack[-1] = ref
                    bpos += 1
                    continue
            elif code in {0x29, 0x4E, 0x89, 0x88}:  # (), None, False, True
                if len(stack) < max_stack:
                    stack.append(_CONSTANT_OF[code])
                    bpos += 1
                    continue
            elif code == 0x85:  # TUPLE1
                if len(stack) > fence:
                    stack[-1] = (stack[-1],)
                    bpos += 1
                    continue
            elif code in {0x4D, 0x4A}:  # BININT2, BININT
                head = 3 if code == 0x4D else 5
                if bpos + head <= blen and len(stack) < max_stack:
                    stack.append(from_bytes(buf[bpos + 1 : bpos + head], "little", signed=code == 0x4A))
                    bpos += head
                    continue
            elif code in {0x71, 0x94}:  # BINPUT, MEMOIZE
                head = 2 if code == 0x71 else 1
                if bpos + head <= blen and len(stack) > fence:
                    idx = buf[bpos + 1] if code == 0x71 else len(memo)
                    if idx <= max_memo_index and (len(memo) < max_memo or idx in memo):
                        memo[idx] = stack[-1]
                        bpos += head
                        continue
            elif code == 0x6A:  # LONG_BINGET
                if bpos + 5 <= blen and len(stack) < max_stack:
                    value = memo.get(u32(buf, bpos + 1)[0], missing)
                    if value is not missing:
                        stack.append(value)
                        bpos += 5
                        continue
            elif code in {0x86, 0x87}:  # TUPLE2, TUPLE3
                first = len(stack) - (2 if code == 0x86 else 3)
                if first >= fence and first >= 0:
                    items = tuple(stack[first:])
                    del stack[first:]
                    stack.append(items)
                    bpos += 1
                    continue
            # -- everything else: the handler, reading through ``inp`` -----------------------
            self.op_offset = bstart + bpos
            self.fence = fence
            inp._bpos = bpos + 1
            handlers[code](self)
            fence = self.fence
            buf, bpos, bstart = inp._buf, inp._bpos, inp._bstart
            blen = len(buf)
            if self.stopped:
                self.count = count
                self.opcode_protocol = oproto
                return self.pop()

    # -- opcode handlers --------------------------------------------------------------------

    def op_mark(self) -> None:
        if len(self.marks) >= self.limits.max_marks:
            raise self.over(f"more than {self.limits.max_marks} nested MARKs")
        self.marks.append(len(self.stack))
        self.fence = len(self.stack)

    def op_stop(self) -> None:
        self.stopped = True

    def op_pop(self) -> None:
        if self.marks and self.marks[-1] == len(self.stack):
            self.marks.pop()
            self.fence = self.marks[-1] if self.marks else 0
        elif len(self.stack) <= self.fence:
            raise self.underflow()
        else:
            self.stack.pop()

    def op_pop_mark(self) -> None:
        self.pop_from(self.marker())

    def op_dup(self) -> None:
        self.push(self.top())

    def op_float(self) -> None:
        line = self.readline()
        if len(line) < 2:
            raise self.fail("pickle data was truncated")
        value = _parse_float(line)
        if value is None:
            raise self.fail("could not convert string to float")
        self.push(value)

    def op_int(self) -> None:
        line = self.readline()
        if len(line) < 2:
            raise self.fail("pickle data was truncated")
        x, end, overflow = _strtol(line)
        cstr = _cstr(line)
        if overflow or (end < len(cstr) and cstr[end] != ord("\n")):
            value = _pylong_from_string(line, 0)
            if value is None:
                raise self.fail("could not convert string to int")
            self.push(value)
        elif len(line) == 3 and x in (0, 1):
            self.push(bool(x))
        else:
            self.push(x)

    def op_long(self) -> None:
        line = self.readline()
        if len(line) < 2:
            raise self.fail("pickle data was truncated")
        if line[-2] == ord("L"):
            line = line[:-2]
        value = _pylong_from_string(line, 0)
        if value is None:
            raise self.fail("invalid literal for LONG")
        self.push(value)

    def op_none(self) -> None:
        self.push(None)

    def op_persid(self) -> None:
        line = self.readline()
        if len(line) < 1:
            raise self.fail("pickle data was truncated")
        try:
            pid = line[:-1].decode("ascii")
        except UnicodeDecodeError:
            raise self.fail("persistent IDs in protocol 0 must be ASCII strings") from None
        self.persistent(pid)

    def op_binpersid(self) -> None:
        self.persistent(self.pop())

    def persistent(self, pid: Any) -> None:
        ref = PersistentId(pid, self.op_offset)
        self.pids.append(ref)
        self.push(ref)

    def op_reduce(self) -> None:
        args = self.pop()
        func = self.pop()
        if _is_concrete(args) and not isinstance(args, tuple):
            raise self.fail("REDUCE argument list must be a tuple")
        self.push(self.make_call(func, args, None, "REDUCE"))

    def op_string(self) -> None:
        line = self.readline()
        n = len(line) - 1
        if n >= 2 and line[0] == line[n - 1] and line[0] in b"'\"":
            decoded = _decode_escape(line[1 : n - 1])
        else:
            raise self.fail("the STRING opcode argument must be quoted")
        if isinstance(decoded, str):
            raise self.fail(decoded)
        self.push(self.text(decoded))

    def op_unicode(self) -> None:
        line = self.readline()
        if len(line) < 1:
            raise self.fail("pickle data was truncated")
        try:
            self.push(codecs.decode(line[:-1], "raw_unicode_escape"))
        except UnicodeDecodeError as exc:
            raise self.fail(f"bad UNICODE argument: {exc.reason}") from None

    def op_append(self) -> None:
        self.do_append(len(self.stack) - 1)

    def op_appends(self) -> None:
        self.do_append(self.marker())

    def do_append(self, x: int) -> None:
        if x > len(self.stack) or x <= self.fence:
            raise self.underflow()
        if x == len(self.stack):
            return
        items = self.pop_from(x)
        target = self.stack[x - 1]
        if isinstance(target, list):
            target.extend(items)
        elif isinstance(target, Call):
            target.items.extend(items)
        else:
            self.mutation(target, "APPEND to")

    def op_build(self) -> None:
        if len(self.stack) - 2 < self.fence:
            raise self.underflow()
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, Call):
            inst.state.append(state)
        else:
            self.mutation(inst, "BUILD sets state on")

    def op_global(self) -> None:
        module = self.global_line()
        name = self.global_line()
        self.push(self.make_global(module, name, "GLOBAL"))

    def global_line(self, codec: str = "utf-8") -> str:
        line = self.readline()
        if len(line) < 2:
            raise self.fail("pickle data was truncated")
        try:
            return line[:-1].decode(codec)
        except UnicodeDecodeError:
            raise self.fail(f"global name is not valid {codec}") from None

    def op_dict(self) -> None:
        items = self.pop_from(self.marker())
        if len(items) % 2:
            raise self.fail("odd number of items for DICT")
        self.push(PDict(list(zip(items[::2], items[1::2], strict=True))))

    def op_setitem(self) -> None:
        self.do_setitems(len(self.stack) - 2)

    def op_setitems(self) -> None:
        self.do_setitems(self.marker())

    def do_setitems(self, x: int) -> None:
        if x > len(self.stack) or x <= self.fence:
            raise self.underflow()
        if x == len(self.stack):
            return
        if (len(self.stack) - x) % 2:
            raise self.fail("odd number of items for SETITEMS")
        items = self.pop_from(x)
        pairs = list(zip(items[::2], items[1::2], strict=True))
        target = self.stack[x - 1]
        if isinstance(target, PDict):
            target.items.extend(pairs)
        elif isinstance(target, Call):
            target.setitems.extend(pairs)
        else:
            self.mutation(target, "SETITEM on")

    def op_get(self) -> None:
        line = self.readline()
        if len(line) < 2:
            raise self.fail("pickle data was truncated")
        idx = _pylong_from_string(line, 10)
        if idx is None:
            raise self.fail("invalid literal for GET")
        self.memo_get(idx)

    def op_inst(self) -> None:
        mark = self.marker()
        module = self.global_line("ascii")
        name = self.global_line("ascii")
        cls = self.make_global(module, name, "INST")
        args = tuple(self.pop_from(mark))
        self.push(self.make_call(cls, args, None, "INST"))

    def op_list(self) -> None:
        self.push(self.pop_from(self.marker()))

    def op_put(self) -> None:
        line = self.readline()
        if len(line) < 2:
            raise self.fail("pickle data was truncated")
        idx = _pylong_from_string(line, 10)
        if idx is None:
            raise self.fail("invalid literal for PUT")
        if idx < 0:
            raise self.fail("negative PUT argument")
        self.memo_put(idx)

    def op_tuple(self) -> None:
        self.push(tuple(self.pop_from(self.marker())))

    def op_binfloat(self) -> None:
        self.push(struct.unpack(">d", self.inp.read(8))[0])

    def op_binint(self) -> None:
        self.push(int.from_bytes(self.inp.read(4), "little", signed=True))

    def op_binint1(self) -> None:
        self.push(self.inp.byte())

    def op_binint2(self) -> None:
        self.push(int.from_bytes(self.inp.read(2), "little"))

    def op_binstring(self) -> None:
        self.push(self.text(self.read_sized(self.read_size(4))))

    def op_short_binstring(self) -> None:
        self.push(self.text(self.read_sized(self.inp.byte())))

    def unicode(self, n: int) -> None:
        raw = self.read_sized(n)
        try:
            self.push(raw.decode("utf-8", "surrogatepass"))
        except UnicodeDecodeError as exc:
            raise self.fail(f"invalid UTF-8 in unicode argument: {exc.reason}") from None

    def op_binunicode(self) -> None:
        self.unicode(self.read_size(4))

    def op_short_binunicode(self) -> None:
        self.unicode(self.inp.byte())

    def op_binunicode8(self) -> None:
        self.unicode(self.read_size(8))

    def op_binbytes(self) -> None:
        self.push(self.read_sized(self.read_size(4)))

    def op_short_binbytes(self) -> None:
        self.push(self.read_sized(self.inp.byte()))

    def op_binbytes8(self) -> None:
        self.push(self.read_sized(self.read_size(8)))

    def op_bytearray8(self) -> None:
        self.push(bytearray(self.read_sized(self.read_size(8))))

    def op_empty_dict(self) -> None:
        self.push(PDict())

    def op_empty_list(self) -> None:
        self.push([])

    def op_empty_tuple(self) -> None:
        self.push(())

    def op_empty_set(self) -> None:
        self.push(PSet())

    def op_binget(self) -> None:
        self.memo_get(self.inp.byte())

    def op_long_binget(self) -> None:
        self.memo_get(self.read_size(4))

    def op_binput(self) -> None:
        self.memo_put(self.inp.byte())

    def op_long_binput(self) -> None:
        self.memo_put(self.read_size(4))

    def op_memoize(self) -> None:
        self.memo_put(len(self.memo))

    def op_obj(self) -> None:
        mark = self.marker()
        if len(self.stack) - mark < 1:
            raise self.underflow()
        args = tuple(self.pop_from(mark + 1))
        cls = self.pop()
        self.push(self.make_call(cls, args, None, "OBJ"))

    def op_proto(self) -> None:
        proto = self.inp.byte()
        if proto > _HIGHEST_PROTOCOL:
            raise self.fail(f"unsupported pickle protocol: {proto}")
        self.proto = proto
        self.protocols.append(proto)

    def op_newobj(self) -> None:
        args = self.pop()
        cls = self.pop()
        if _is_concrete(args) and not isinstance(args, tuple):
            raise self.fail("NEWOBJ expected an arg tuple.")
        self.push(self.make_call(cls, args, None, "NEWOBJ"))

    def op_newobj_ex(self) -> None:
        kwargs = self.pop()
        args = self.pop()
        cls = self.pop()
        if _is_concrete(args) and not isinstance(args, tuple):
            raise self.fail("NEWOBJ_EX args argument must be a tuple")
        if _is_concrete(kwargs) and not isinstance(kwargs, PDict):
            raise self.fail("NEWOBJ_EX kwargs argument must be a dict")
        self.push(self.make_call(cls, args, kwargs, "NEWOBJ_EX"))

    def extension(self, nbytes: int) -> None:
        code = int.from_bytes(self.inp.read(nbytes), "little", signed=nbytes == 4)
        if code <= 0:
            raise self.fail("EXT specifies code <= 0")
        entry = self.ext.get(code)
        if entry is None:
            raise self.fail(f"unregistered extension code {code}")
        self.push(self.make_global(entry[0], entry[1], f"EXT{nbytes}"))

    def op_ext1(self) -> None:
        self.extension(1)

    def op_ext2(self) -> None:
        self.extension(2)

    def op_ext4(self) -> None:
        self.extension(4)

    def counted_tuple(self, n: int) -> None:
        if len(self.stack) < n:
            raise self.underflow()
        self.push(tuple(self.pop_from(len(self.stack) - n)))

    def op_tuple1(self) -> None:
        self.counted_tuple(1)

    def op_tuple2(self) -> None:
        self.counted_tuple(2)

    def op_tuple3(self) -> None:
        self.counted_tuple(3)

    def op_newtrue(self) -> None:
        self.push(True)

    def op_newfalse(self) -> None:
        self.push(False)

    def op_long1(self) -> None:
        self.push(int.from_bytes(self.read_sized(self.inp.byte()), "little", signed=True))

    def op_long4(self) -> None:
        n = int.from_bytes(self.inp.read(4), "little", signed=True)
        if n < 0:
            raise self.fail("LONG pickle has negative byte count")
        self.push(int.from_bytes(self.read_sized(n), "little", signed=True))

    def op_additems(self) -> None:
        mark = self.marker()
        if mark > len(self.stack) or mark <= self.fence:
            raise self.underflow()
        if mark == len(self.stack):
            return
        items = self.pop_from(mark)
        target = self.stack[mark - 1]
        if isinstance(target, PSet | Call):
            target.items.extend(items)
        else:
            self.mutation(target, "ADDITEMS to")

    def op_frozenset(self) -> None:
        self.push(PSet(self.pop_from(self.marker()), frozen=True))

    def op_stack_global(self) -> None:
        name = self.pop()
        module = self.pop()
        if type(module) is str and type(name) is str:
            self.push(self.make_global(module, name, "STACK_GLOBAL"))
        elif _is_concrete(module) and _is_concrete(name):
            raise self.fail("STACK_GLOBAL requires str")
        else:
            self.oddities.append(
                Oddity("dynamic-global", self.op_offset, "STACK_GLOBAL names computed at load time")
            )
            self.push(self.make_global("<dynamic>", "<dynamic>", "STACK_GLOBAL"))

    def op_frame(self) -> None:
        size = self.read_size(8)
        if size > self.inp.remaining:
            raise self.fail(f"pickle data was truncated (frame of {size} bytes)")

    def op_next_buffer(self) -> None:
        self.oddities.append(Oddity("out-of-band-buffer", self.op_offset, "NEXT_BUFFER needs out-of-band data"))
        self.push(OutOfBandBuffer(self.buffers))
        self.buffers += 1

    def op_readonly_buffer(self) -> None:
        value = self.top()
        if isinstance(value, OutOfBandBuffer):
            self.stack[-1] = OutOfBandBuffer(value.index, readonly=True)
        elif isinstance(value, bytearray):
            self.stack[-1] = bytes(value)
        elif _is_concrete(value) and not isinstance(value, bytes):
            raise self.fail("READONLY_BUFFER needs a bytes-like object")


def _is_concrete(value: Any) -> bool:
    """True for values whose type is known without running anything."""
    return not isinstance(value, Call | PersistentId | Global)


def _describe(value: Any) -> str:
    if isinstance(value, Global):
        return value.qualname
    if isinstance(value, Call):
        return f"the result of calling {_describe(value.func)}"
    if isinstance(value, PersistentId):
        return "a persistent id"
    return type(value).__name__


_NAME_TO_HANDLER: dict[str, Callable[[_Machine], None]] = {
    name[3:].upper(): func
    for name, func in vars(_Machine).items()
    if name.startswith("op_")
}
#: Per byte value: its opcode's handler / the protocol that introduced it (_NOT_AN_OPCODE: none).
_HANDLER_OF: tuple[Callable[[_Machine], None], ...] = tuple(
    _NAME_TO_HANDLER[OPCODES[code].name] if code in OPCODES else _Machine.op_stop for code in range(256)
)
_NOT_AN_OPCODE = 1 << 30
_PROTOCOL_OF: tuple[int, ...] = tuple(
    OPCODES[code].protocol if code in OPCODES else _NOT_AN_OPCODE for code in range(256)
)
#: Values pushed by the opcodes that push a constant (immutable, so shared).
_CONSTANT_OF: dict[int, Any] = {0x29: (), 0x4E: None, 0x89: False, 0x88: True}
_MISSING = object()
_U32 = struct.Struct("<I")


# --------------------------------------------------------------------------------------------
# Entry points


def load(
    f: BinaryIO,
    start: int,
    end: int,
    *,
    limits: Limits | None = None,
    extension_registry: Mapping[int, tuple[str, str]] | None = None,
    encoding: str = "utf-8",
) -> PickleResult:
    """Read one pickle from ``f`` starting at ``start``; never past ``end``.

    ``extension_registry`` maps EXT codes to ``(module, name)`` as ``copyreg`` would (empty in a
    fresh interpreter, so EXT opcodes fail as they would under torch.load). ``encoding`` is how
    Python 2 8-bit strings are decoded (torch.load uses utf-8).
    """
    if start < 0 or end < start:
        raise PickleError(start, "bad pickle bounds")
    machine = _Machine(_Input(f, start, end), limits or Limits(), extension_registry or {}, encoding)
    value = machine.run()
    return PickleResult(
        start=start,
        end=machine.inp.pos,
        value=value,
        protocols=tuple(machine.protocols),
        opcode_protocol=machine.opcode_protocol,
        globals=tuple(machine.globals),
        calls=tuple(machine.calls),
        persistent_ids=tuple(machine.pids),
        oddities=tuple(machine.oddities),
        opcode_count=machine.count,
    )


def load_stream(
    f: BinaryIO,
    start: int,
    end: int,
    *,
    limits: Limits | None = None,
    extension_registry: Mapping[int, tuple[str, str]] | None = None,
    encoding: str = "utf-8",
) -> tuple[PickleResult, ...]:
    """Read pickles back to back from ``start`` until ``end`` (each with its own memo)."""
    limits = limits or Limits()
    out: list[PickleResult] = []
    pos = start
    while pos < end:
        if len(out) >= limits.max_pickles:
            raise PickleError(pos, f"more than {limits.max_pickles} pickles in one stream", limit=True)
        result = load(f, pos, end, limits=limits, extension_registry=extension_registry, encoding=encoding)
        out.append(result)
        pos = result.end
    return tuple(out)
