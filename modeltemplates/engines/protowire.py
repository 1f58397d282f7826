"""Protocol Buffers wire format, read without the ``protobuf`` package: bounded, positioned, lazy.

A protobuf message is a flat run of fields, each a tag varint (``field_number << 3 | wire_type``)
followed by a varint, a little-endian fixed32/fixed64, or a length-delimited payload (bytes,
strings, sub-messages and packed repeated numbers). This module reads exactly that and nothing
more: it knows no schema, so a reader of one format (TensorFlow's ``saved_model.pb``, Caffe's
``.caffemodel``) walks the fields it needs by number and steps over the rest.

Why an own reader rather than the ``protobuf`` package:

- *Positions.* Every field comes with the offsets of its payload, so a finding can name where in
  the file a bad node sits, and a huge payload (a constant tensor, a weight blob) is stepped over
  by arithmetic, never copied or decoded.
- *Streaming.* :class:`StreamReader` walks a message in a file through a small window, seeking over
  length-delimited payloads: a 2 GB ``.caffemodel`` costs its metadata, not its size. ``protobuf``
  parses only whole buffers in memory.
- *Bounds the caller chooses.* Depth, field counts and payload sizes are checked where they are
  consumed (``WireError`` with the offset, never ``RecursionError`` or ``MemoryError``); nothing
  is parsed that the caller did not ask for.
- *No dependency and no descriptors* for the dozen fields each format needs.

Everything raises :class:`WireError` (a ``ValueError``) on malformed input; no other exception
escapes for any bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO, Final

import attrs

#: Wire types (``tag & 7``).
VARINT: Final = 0
I64: Final = 1
LEN: Final = 2
SGROUP: Final = 3
EGROUP: Final = 4
I32: Final = 5

WIRE_TYPE_NAMES: Final = {
    VARINT: "varint", I64: "fixed64", LEN: "length-delimited", SGROUP: "start-group", EGROUP: "end-group",
    I32: "fixed32",
}

#: protobuf's own default recursion limit for parsing (``io::CodedInputStream``).
DEFAULT_MAX_DEPTH: Final = 100
_MAX_FIELD_NUMBER: Final = (1 << 29) - 1
_U64: Final = (1 << 64) - 1
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64S = struct.Struct("<Q")

#: One field: ``(number, wire_type, value, start, end)``. For varint, fixed32 and fixed64 fields
#: ``value`` is the unsigned number and ``start:end`` its bytes; for length-delimited fields and
#: groups ``value`` is the payload length and ``start:end`` the payload (a group's payload excludes
#: its end tag).
Field = tuple[int, int, int, int, int]


class WireError(ValueError):
    """Malformed or over-limit protobuf bytes; ``offset`` is where in the buffer/file it was found."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.reason = message
        self.offset = offset


@attrs.frozen
class Span:
    """Where a message (or any payload) sits: ``start`` inclusive, ``end`` exclusive."""

    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """The varint at ``pos`` (before ``end``) and the position after it.

    Like protobuf, at most 10 bytes are read and the value is truncated to 64 bits.
    """
    if pos >= end:
        raise WireError("truncated varint", pos)
    b = buf[pos]
    if b < 0x80:
        return b, pos + 1
    result = b & 0x7F
    shift = 7
    p = pos + 1
    limit = min(end, pos + 10)
    while p < limit:
        b = buf[p]
        result |= (b & 0x7F) << shift
        p += 1
        if b < 0x80:
            return result & _U64, p
        shift += 7
    if p >= end and p < pos + 10:
        raise WireError("truncated varint", pos)
    raise WireError("varint longer than 10 bytes", pos)


def _skip_group(buf: bytes, number: int, pos: int, end: int, *, depth: int, max_depth: int) -> tuple[int, int]:
    """Step over a group's fields; returns (payload end, position after the end tag)."""
    if depth >= max_depth:
        raise WireError(f"groups nested deeper than {max_depth}", pos)
    while pos < end:
        tag_at = pos
        tag, pos = read_varint(buf, pos, end)
        wt = tag & 7
        if wt == EGROUP:
            if tag >> 3 != number:
                raise WireError(f"end-group tag for field {tag >> 3} closes group {number}", tag_at)
            return tag_at, pos
        pos = _skip_value(buf, tag, pos, end, depth=depth + 1, max_depth=max_depth, tag_at=tag_at)
    raise WireError(f"group {number} has no end tag", pos)


def _skip_value(buf: bytes, tag: int, pos: int, end: int, *, depth: int, max_depth: int, tag_at: int) -> int:
    wt = tag & 7
    if wt == VARINT:
        return read_varint(buf, pos, end)[1]
    if wt == I64:
        if pos + 8 > end:
            raise WireError("truncated fixed64", pos)
        return pos + 8
    if wt == LEN:
        n, pos = read_varint(buf, pos, end)
        if n > end - pos:
            raise WireError(f"length {n} runs past the end of the message", tag_at)
        return pos + n
    if wt == I32:
        if pos + 4 > end:
            raise WireError("truncated fixed32", pos)
        return pos + 4
    if wt == SGROUP:
        return _skip_group(buf, tag >> 3, pos, end, depth=depth, max_depth=max_depth)[1]
    raise WireError(f"invalid wire type {wt}" if wt != EGROUP else "end-group tag outside a group", tag_at)


def skip_field(buf: bytes, pos: int, end: int, *, max_depth: int = DEFAULT_MAX_DEPTH) -> int:
    """The position after the field whose tag starts at ``pos`` (a group with its end tag)."""
    tag, p = read_varint(buf, pos, end)
    if tag >> 3 == 0:
        raise WireError("invalid field number 0", pos)
    return _skip_value(buf, tag, p, end, depth=0, max_depth=max_depth, tag_at=pos)


def iter_fields(
    buf: bytes, start: int = 0, end: int | None = None, *, max_depth: int = DEFAULT_MAX_DEPTH
) -> Iterator[Field]:
    """Every field of the message in ``buf[start:end]``, in order, as :data:`Field` tuples.

    Payloads are not copied or decoded; sub-messages are read by calling this again on
    ``start:end`` of their field (the caller counts the depth, see :func:`check_depth`). Groups
    (deprecated, but legal) are stepped over, bounded by ``max_depth``.
    """
    if end is None:
        end = len(buf)
    if start < 0 or end > len(buf) or start > end:
        raise WireError(f"span {start}:{end} outside a buffer of {len(buf)} bytes", start)
    pos = start
    while pos < end:
        tag_at = pos
        b = buf[pos]
        if b < 0x80:
            tag = b
            pos += 1
        else:
            tag, pos = read_varint(buf, pos, end)
        number = tag >> 3
        wt = tag & 7
        if number == 0 or number > _MAX_FIELD_NUMBER:
            raise WireError(f"invalid field number {number}", tag_at)
        if wt == LEN:
            if pos < end and buf[pos] < 0x80:
                n = buf[pos]
                pos += 1
            else:
                n, pos = read_varint(buf, pos, end)
            if n > end - pos:
                raise WireError(f"field {number}: length {n} runs past the end of the message", tag_at)
            yield number, LEN, n, pos, pos + n
            pos += n
        elif wt == VARINT:
            if pos < end and buf[pos] < 0x80:
                yield number, VARINT, buf[pos], pos, pos + 1
                pos += 1
            else:
                v, p = read_varint(buf, pos, end)
                yield number, VARINT, v, pos, p
                pos = p
        elif wt == I32:
            if pos + 4 > end:
                raise WireError(f"field {number}: truncated fixed32", pos)
            yield number, I32, _U32.unpack_from(buf, pos)[0], pos, pos + 4
            pos += 4
        elif wt == I64:
            if pos + 8 > end:
                raise WireError(f"field {number}: truncated fixed64", pos)
            yield number, I64, _U64S.unpack_from(buf, pos)[0], pos, pos + 8
            pos += 8
        elif wt == SGROUP:
            payload_end, after = _skip_group(buf, number, pos, end, depth=0, max_depth=max_depth)
            yield number, SGROUP, payload_end - pos, pos, payload_end
            pos = after
        else:
            raise WireError(
                "end-group tag outside a group" if wt == EGROUP else f"invalid wire type {wt}", tag_at
            )


def check_depth(depth: int, offset: int, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    """Raise when a reader about to enter a sub-message at ``depth`` would exceed ``max_depth``."""
    if depth > max_depth:
        raise WireError(f"messages nested deeper than {max_depth}", offset)


# -- scalar conversions ----------------------------------------------------------------------------


def int64(value: int) -> int:
    """A varint as a two's-complement ``int64``/``int32`` (negative ints are 10-byte varints)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def int32(value: int) -> int:
    """A varint as ``int32`` (protobuf truncates to the low 32 bits)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def zigzag(value: int) -> int:
    """A ``sint32``/``sint64`` varint decoded."""
    return (value >> 1) ^ -(value & 1)


def float32(value: int) -> float:
    """A fixed32 field as ``float``."""
    return float(_F32.unpack(_U32.pack(value))[0])


def float64(value: int) -> float:
    """A fixed64 field as ``double``."""
    return float(_F64.unpack(_U64S.pack(value))[0])


def text(buf: bytes, start: int, end: int, *, limit: int | None = None) -> str:
    """A string payload as text: UTF-8, invalid bytes replaced (protobuf's Python does the same on
    proto2 strings); at most ``limit`` bytes are decoded when given."""
    if limit is not None and end - start > limit:
        end = start + limit
    return buf[start:end].decode("utf-8", "replace")


def packed_varints(buf: bytes, start: int, end: int, *, max_count: int | None = None) -> list[int]:
    """The numbers of a packed repeated varint field (``int32``, ``int64``, ``enum``, ``bool``)."""
    out: list[int] = []
    pos = start
    while pos < end:
        if max_count is not None and len(out) >= max_count:
            raise WireError(f"more than {max_count} packed values", pos)
        b = buf[pos]
        if b < 0x80:
            out.append(b)
            pos += 1
        else:
            v, pos = read_varint(buf, pos, end)
            out.append(v)
    return out


def packed_count(buf: bytes, start: int, end: int, wire_type: int) -> int:
    """How many values a packed field holds, without decoding them (varints: count end bytes)."""
    size = end - start
    if wire_type == I32:
        if size % 4:
            raise WireError("packed fixed32 payload is not a multiple of 4 bytes", start)
        return size // 4
    if wire_type == I64:
        if size % 8:
            raise WireError("packed fixed64 payload is not a multiple of 8 bytes", start)
        return size // 8
    if size and buf[end - 1] >= 0x80:
        raise WireError("truncated varint at the end of a packed field", end - 1)
    return size - sum(1 for b in buf[start:end] if b >= 0x80) if size else 0


def packed_fixed(buf: bytes, start: int, end: int, wire_type: int, *, max_count: int | None = None) -> list[int]:
    """The unsigned numbers of a packed fixed32/fixed64 field."""
    count = packed_count(buf, start, end, wire_type)
    if max_count is not None and count > max_count:
        raise WireError(f"more than {max_count} packed values", start)
    fmt = f"<{count}I" if wire_type == I32 else f"<{count}Q"
    return list(struct.unpack_from(fmt, buf, start))


# -- streaming ---------------------------------------------------------------------------------------


class StreamReader:
    """Fields of messages in a seekable binary file, read through a bounded window.

    Tags and varints are read through a window of ``window`` bytes; length-delimited payloads are
    never read unless :meth:`read` is asked for them, so stepping over a weight blob costs a seek.
    Offsets are absolute file positions. Not thread-safe (one reader per open file).
    """

    def __init__(self, f: BinaryIO, size: int, *, window: int = 1 << 16, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
        self._f = f
        self.size = size
        self._window = max(window, 16)
        self.max_depth = max_depth
        self._buf = b""
        self._base = 0  # file offset of self._buf[0]

    def _fill(self, pos: int, need: int) -> None:
        """Make the window hold ``need`` bytes from ``pos`` (fewer at the end of the file)."""
        if self._base <= pos and pos + need <= self._base + len(self._buf):
            return
        self._f.seek(pos)
        self._buf = self._f.read(max(self._window, need))
        self._base = pos

    def _varint(self, pos: int, end: int) -> tuple[int, int]:
        self._fill(pos, 10)
        rel = pos - self._base
        value, after = read_varint(self._buf, rel, min(len(self._buf), end - self._base))
        return value, after - rel + pos

    def fields(self, start: int = 0, end: int | None = None) -> Iterator[Field]:
        """Every field of the message in ``[start, end)`` of the file (see :func:`iter_fields`)."""
        if end is None:
            end = self.size
        if start < 0 or end > self.size or start > end:
            raise WireError(f"span {start}:{end} outside a file of {self.size} bytes", start)
        pos = start
        while pos < end:
            tag_at = pos
            tag, pos = self._varint(pos, end)
            number, wt = tag >> 3, tag & 7
            if number == 0 or number > _MAX_FIELD_NUMBER:
                raise WireError(f"invalid field number {number}", tag_at)
            if wt == LEN:
                n, pos = self._varint(pos, end)
                if n > end - pos:
                    raise WireError(f"field {number}: length {n} runs past the end of the message", tag_at)
                yield number, LEN, n, pos, pos + n
                pos += n
            elif wt == VARINT:
                v, p = self._varint(pos, end)
                yield number, VARINT, v, pos, p
                pos = p
            elif wt in (I32, I64):
                width = 4 if wt == I32 else 8
                if pos + width > end:
                    raise WireError(f"field {number}: truncated {WIRE_TYPE_NAMES[wt]}", pos)
                self._fill(pos, width)
                rel = pos - self._base
                fmt = _U32 if wt == I32 else _U64S
                yield number, wt, fmt.unpack_from(self._buf, rel)[0], pos, pos + width
                pos += width
            elif wt == SGROUP:
                payload_end, after = self._skip_group(number, pos, end, 0)
                yield number, SGROUP, payload_end - pos, pos, payload_end
                pos = after
            else:
                raise WireError(
                    "end-group tag outside a group" if wt == EGROUP else f"invalid wire type {wt}", tag_at
                )

    def _skip_group(self, number: int, pos: int, end: int, depth: int) -> tuple[int, int]:
        if depth >= self.max_depth:
            raise WireError(f"groups nested deeper than {self.max_depth}", pos)
        while pos < end:
            tag_at = pos
            tag, pos = self._varint(pos, end)
            wt = tag & 7
            if wt == EGROUP:
                if tag >> 3 != number:
                    raise WireError(f"end-group tag for field {tag >> 3} closes group {number}", tag_at)
                return tag_at, pos
            if wt == VARINT:
                pos = self._varint(pos, end)[1]
            elif wt in (I32, I64):
                pos += 4 if wt == I32 else 8
            elif wt == LEN:
                n, pos = self._varint(pos, end)
                pos += n
            elif wt == SGROUP:
                pos = self._skip_group(tag >> 3, pos, end, depth + 1)[1]
            else:
                raise WireError(f"invalid wire type {wt}", tag_at)
            if pos > end:
                raise WireError(f"group {number} runs past the end of the message", tag_at)
        raise WireError(f"group {number} has no end tag", pos)

    def read(self, start: int, end: int, *, limit: int) -> bytes:
        """The bytes ``[start, end)`` of the file; :class:`WireError` when longer than ``limit``."""
        if end - start > limit:
            raise WireError(f"payload of {end - start} bytes exceeds the limit of {limit}", start)
        if start < 0 or end > self.size or start > end:
            raise WireError(f"span {start}:{end} outside a file of {self.size} bytes", start)
        self._fill(start, end - start)
        rel = start - self._base
        data = self._buf[rel:rel + end - start]
        if len(data) != end - start:
            raise WireError("file shorter than its declared size", start + len(data))
        return data
