"""The protobuf wire reader: every wire type, positions, bounds, and no exception but WireError."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modeltemplates.engines import protowire as pw
from tests.builders_proto import f32, f64, fx32, fx64, group, ln, msg, packed, tag, varint, vint


def fields(data: bytes) -> list[pw.Field]:
    return list(pw.iter_fields(data))


def test_every_wire_type_with_positions() -> None:
    data = msg(vint(1, 150), ln(2, "testing"), fx32(3, 7), fx64(4, 2**40), group(5, vint(1, 1)), vint(6, 3))
    got = fields(data)
    assert [(n, wt) for n, wt, *_ in got] == [(1, 0), (2, 2), (3, 5), (4, 1), (5, 3), (6, 0)]
    assert got[0][2] == 150
    _, _, length, start, end = got[1]
    assert length == 7 and data[start:end] == b"testing"
    assert got[2][2] == 7 and got[3][2] == 2**40
    assert data[got[4][3]:got[4][4]] == vint(1, 1)  # the group payload without its end tag
    assert got[5][2] == 3


def test_submessage_walk_and_offsets() -> None:
    inner = msg(ln(1, "node"), ln(2, "Const"))
    data = msg(vint(7, 1), ln(3, inner))
    (_, _, _, *_), (num, wt, _, start, end) = fields(data)
    assert num == 3 and wt == pw.LEN
    sub = list(pw.iter_fields(data, start, end))
    assert [pw.text(data, s, e) for _, _, _, s, e in sub] == ["node", "Const"]
    assert sub[0][3] == start + 2  # absolute offsets, inside the parent


def test_scalar_conversions() -> None:
    (_, _, v, _, _), = fields(vint(1, -5))
    assert pw.int64(v) == -5 and pw.int32(v) == -5
    assert pw.zigzag(3) == -2 and pw.zigzag(4) == 2
    (_, _, v, _, _), = fields(f32(1, 1.5))
    assert pw.float32(v) == 1.5
    (_, _, v, _, _), = fields(f64(1, -2.25))
    assert pw.float64(v) == -2.25


def test_packed_fields() -> None:
    data = packed(1, [1, 300, 2**35])
    (_, _, _, s, e), = fields(data)
    assert pw.packed_varints(data, s, e) == [1, 300, 2**35]
    assert pw.packed_count(data, s, e, pw.VARINT) == 3
    floats = ln(2, struct.pack("<3f", 1.0, 2.0, 3.0))
    (_, _, _, s, e), = fields(floats)
    assert pw.packed_count(floats, s, e, pw.I32) == 3
    assert [pw.float32(v) for v in pw.packed_fixed(floats, s, e, pw.I32)] == [1.0, 2.0, 3.0]
    with pytest.raises(pw.WireError, match="more than 2"):
        pw.packed_varints(data, *fields(data)[0][3:], max_count=2)
    with pytest.raises(pw.WireError, match="multiple of 4"):
        pw.packed_count(b"\x00" * 5, 0, 5, pw.I32)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x08", "truncated varint"),
        (b"\x08\x80", "truncated varint"),
        (b"\x08" + b"\xff" * 10 + b"\x01", "longer than 10 bytes"),
        (b"\x12\x05abc", "runs past the end"),
        (b"\x1d\x00\x00", "truncated fixed32"),
        (b"\x21\x00", "truncated fixed64"),
        (b"\x0e", "invalid wire type 6"),
        (b"\x0c", "end-group tag outside a group"),
        (b"\x00\x01", "invalid field number 0"),
        (tag(5, pw.SGROUP) + vint(1, 1), "has no end tag"),
        (tag(5, pw.SGROUP) + tag(6, pw.EGROUP), "closes group 5"),
    ],
)
def test_malformed_input_names_reason_and_offset(data: bytes, reason: str) -> None:
    with pytest.raises(pw.WireError, match=reason) as info:
        fields(data)
    assert 0 <= info.value.offset <= len(data)


def test_nested_groups_are_bounded() -> None:
    deep = b"".join(tag(1, pw.SGROUP) for _ in range(500)) + b"".join(tag(1, pw.EGROUP) for _ in range(500))
    with pytest.raises(pw.WireError, match="nested deeper than 100"):
        fields(deep)
    assert len(fields(deep[:5] + deep[-5:])) == 1  # five levels are fine


def test_check_depth() -> None:
    pw.check_depth(100, 0)
    with pytest.raises(pw.WireError, match="deeper than 100"):
        pw.check_depth(101, 42)


def test_span_outside_buffer() -> None:
    with pytest.raises(pw.WireError, match="outside a buffer"):
        fields_span = list(pw.iter_fields(b"abc", 0, 10))
        del fields_span


def test_stream_reader_skips_payloads_without_reading_them() -> None:
    blob = b"\x00" * (1 << 20)
    data = msg(ln(1, "conv1"), ln(7, msg(ln(5, blob))), vint(2, 9))

    class CountingIO(io.BytesIO):
        bytes_read = 0

        def read(self, n: int | None = -1) -> bytes:
            out = super().read(n)
            CountingIO.bytes_read += len(out)
            return out

    f = CountingIO(data)
    reader = pw.StreamReader(f, len(data), window=4096)
    got = list(reader.fields())
    assert [(n, wt) for n, wt, *_ in got] == [(1, 2), (7, 2), (2, 0)]
    assert reader.read(got[0][3], got[0][4], limit=64) == b"conv1"
    inner = list(reader.fields(got[1][3], got[1][4]))
    assert inner[0][0] == 5 and inner[0][2] == 1 << 20
    assert CountingIO.bytes_read < 5 * 4096  # a window per visit, never the megabyte
    with pytest.raises(pw.WireError, match="exceeds the limit"):
        reader.read(inner[0][3], inner[0][4], limit=1024)


def test_stream_reader_matches_buffer_reader() -> None:
    data = msg(vint(1, 2**63), ln(2, "x" * 300), fx32(3, 1), fx64(4, 2), group(5, ln(1, "g")), packed(6, [1, 2]))
    assert list(pw.StreamReader(io.BytesIO(data), len(data), window=16).fields()) == fields(data)


def test_stream_reader_on_a_file_shorter_than_declared() -> None:
    data = ln(1, "abc") + vint(2, 1)
    reader = pw.StreamReader(io.BytesIO(data[:4]), len(data))
    with pytest.raises(pw.WireError, match="truncated varint"):
        list(reader.fields())  # payloads are skipped unread; the next tag is missing
    with pytest.raises(pw.WireError, match="shorter than its declared size"):
        reader.read(2, 5, limit=10)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_wire_error(data: bytes) -> None:
    try:
        buffered = fields(data)
    except pw.WireError:
        buffered = None
    try:
        streamed = list(pw.StreamReader(io.BytesIO(data), len(data), window=16).fields())
    except pw.WireError:
        streamed = None
    assert buffered == streamed


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2**29 - 1), st.integers(0, 2**64 - 1)), max_size=20))
def test_varint_round_trip(pairs: list[tuple[int, int]]) -> None:
    data = b"".join(vint(n, v) for n, v in pairs)
    assert [(n, v) for n, _, v, _, _ in fields(data)] == pairs
    assert all(pw.read_varint(varint(v), 0, 10)[0] == v for _, v in pairs)
