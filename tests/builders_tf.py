"""Builders for TensorFlow test artefacts, byte by byte: bundle index tables, hostile graphs."""

from __future__ import annotations

import struct

from modeltemplates.engines.tensorflow.bundle import crc32c
from tests.builders_proto import fx32, ln, msg, vint

TABLE_MAGIC = 0xDB4775248B80FB57


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def block(entries: list[tuple[bytes, bytes]]) -> bytes:
    """A table block without prefix sharing, one restart point."""
    body = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    return body + struct.pack("<I", 0) + struct.pack("<I", 1)


def table(entries: list[tuple[bytes, bytes]], *, snappy: bool = False, corrupt_crc: bool = False) -> bytes:
    """A TensorFlow/LevelDB table: one data block, an empty metaindex, an index block, the footer."""
    out = bytearray()

    def put(contents: bytes, kind: int = 0) -> tuple[int, int]:
        offset = len(out)
        out.extend(contents)
        crc = masked_crc(contents + bytes([kind]))
        out.append(kind)
        out.extend(struct.pack("<I", crc ^ (1 if corrupt_crc else 0)))
        return offset, len(contents)

    data = block(entries)
    if snappy:
        # An all-literal Snappy stream: length preamble, then literals of at most 60 bytes.
        chunks = [data[i:i + 60] for i in range(0, len(data), 60)]
        comp = _varint(len(data)) + b"".join(bytes([(len(c) - 1) << 2]) + c for c in chunks)
        d_off, d_len = put(comp, 1)
    else:
        d_off, d_len = put(data)
    m_off, m_len = put(block([]))
    last = entries[-1][0] if entries else b""
    i_off, i_len = put(block([(last + b"\xff", _varint(d_off) + _varint(d_len))]))
    handles = _varint(m_off) + _varint(m_len) + _varint(i_off) + _varint(i_len)
    out.extend(handles + b"\0" * (40 - len(handles)) + struct.pack("<Q", TABLE_MAGIC))
    return bytes(out)


def shape(*dims: int) -> bytes:
    return b"".join(ln(2, vint(1, d)) for d in dims)


def bundle_entry(dtype: int, dims: tuple[int, ...], offset: int, size: int, shard: int = 0) -> bytes:
    """An entry whose CRC-32C (masked, as TensorFlow stores it) is that of ``size`` zero bytes."""
    return msg(vint(1, dtype), ln(2, shape(*dims)), vint(3, shard) if shard else b"", vint(4, offset),
               vint(5, size), fx32(6, masked_crc(b"\0" * size)))


def bundle_index(variables: dict[str, tuple[int, tuple[int, ...], int, int]], *, num_shards: int = 1,
                 **kw: bool) -> bytes:
    header = msg(vint(1, num_shards), ln(3, vint(1, 1)))
    entries = [(b"", header)] + [
        (k.encode(), bundle_entry(*v)) for k, v in sorted(variables.items())
    ]
    return table(entries, **kw)
