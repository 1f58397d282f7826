"""A tiny protobuf wire-format *writer* for tests: builds messages byte by byte, hostile ones too."""

from __future__ import annotations

import struct
from collections.abc import Iterable

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5


def varint(value: int) -> bytes:
    """Unsigned varint; negative numbers as protobuf writes int64 (ten bytes)."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def vint(number: int, value: int) -> bytes:
    return tag(number, VARINT) + varint(value)


def ln(number: int, payload: bytes | str) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    return tag(number, LEN) + varint(len(payload)) + payload


def f32(number: int, value: float) -> bytes:
    return tag(number, I32) + struct.pack("<f", value)


def f64(number: int, value: float) -> bytes:
    return tag(number, I64) + struct.pack("<d", value)


def fx32(number: int, value: int) -> bytes:
    return tag(number, I32) + struct.pack("<I", value)


def fx64(number: int, value: int) -> bytes:
    return tag(number, I64) + struct.pack("<Q", value)


def group(number: int, body: bytes) -> bytes:
    return tag(number, SGROUP) + body + tag(number, EGROUP)


def packed(number: int, values: Iterable[int]) -> bytes:
    return ln(number, b"".join(varint(v) for v in values))


def msg(*parts: bytes) -> bytes:
    return b"".join(parts)
