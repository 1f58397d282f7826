"""Static reader of a TensorFlow variables bundle: ``variables.index`` and its data shards.

``variables.index`` is a sorted string table in the format TensorFlow inherited from LevelDB
(``tensorflow/core/lib/io/{format,block,table}.cc``): data blocks of prefix-compressed key/value
entries, each block followed by a compression byte (none or Snappy) and a masked CRC-32C, an index
block of key -> block handle, and a 48-byte footer ending in the table magic number. The entry with
the empty key is the ``BundleHeaderProto`` (shard count, endianness, version); every other key is a
tensor name whose value is a ``BundleEntryProto`` (dtype, shape, shard, offset, size, CRC-32C)
(``tensorflow/core/protobuf/tensor_bundle.proto``). Read with our own wire reader.

Only the index is read. The data shards are checked by their sizes (every entry's bytes must lie
inside its shard), so a bundle of 1 GiB costs what one of 1 MiB does. Everything malformed raises
:class:`BundleError`; the index is read whole but capped by :class:`BundleLimits`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import attrs

from modeltemplates.engines import protowire as pw
from modeltemplates.engines.tensorflow.savedmodel import dtype_name

__all__ = ["Bundle", "BundleEntry", "BundleError", "BundleLimits", "crc32c", "read_bundle_index", "shard_name",
           "snappy_decompress"]

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
_BLOCK_TRAILER = 5
_NO_COMPRESSION, _SNAPPY = 0, 1


class BundleError(ValueError):
    """``variables.index`` is not a well-formed bundle index; ``offset`` says where."""

    def __init__(self, message: str, offset: int = 0, *, limit: bool = False) -> None:
        super().__init__(message)
        self.reason = message
        self.offset = offset
        self.limit = limit


@attrs.frozen
class BundleLimits:
    #: Real indexes take ~100 bytes per tensor (a few MB); the pure-Python CRC-32C reads ~10 MB/s.
    max_index_bytes: int = 64 << 20
    max_entries: int = 1_000_000
    max_block_bytes: int = 64 << 20
    max_shards: int = 100_000
    verify_checksums: bool = True


@attrs.frozen
class BundleEntry:
    key: str
    dtype: str
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int | None
    slices: int

    def to_dict(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "shape": list(self.shape), "shard": self.shard_id, "offset": self.offset,
                "size": self.size}


@attrs.frozen
class Bundle:
    num_shards: int
    endianness: str
    producer: int | None
    entries: tuple[BundleEntry, ...]

    @property
    def shard_names(self) -> tuple[str, ...]:
        return tuple(shard_name("variables", i, self.num_shards) for i in range(self.num_shards))

    def get(self, key: str) -> BundleEntry | None:
        for entry in self.entries:
            if entry.key == key:
                return entry
        return None


def shard_name(prefix: str, shard: int, num_shards: int) -> str:
    """``variables.data-00000-of-00001``: TensorFlow's ``DataFilename``."""
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


# -- CRC-32C (Castagnoli), as TensorFlow's table blocks and bundle entries use it ---------------------

def _crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    table = _CRC_TABLE
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def unmask_crc(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# -- Snappy ------------------------------------------------------------------------------------------

def snappy_decompress(data: bytes, limit: int) -> bytes:
    """Decode a raw Snappy block; :class:`BundleError` when malformed or longer than ``limit``."""
    try:
        length, pos = pw.read_varint(data, 0, len(data))
    except pw.WireError as exc:
        raise BundleError("Snappy block: bad length preamble", 0) from exc
    if length > limit:
        raise BundleError(f"Snappy block claims {length} bytes, above the limit of {limit}", 0, limit=True)
    out = bytearray()
    n = len(data)
    while pos < n:
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:
            size = tag >> 2
            if size >= 60:
                extra = size - 59
                if pos + extra > n:
                    raise BundleError("Snappy block: truncated literal length", pos)
                size = int.from_bytes(data[pos:pos + extra], "little")
                pos += extra
            size += 1
            if pos + size > n:
                raise BundleError("Snappy block: literal runs past the end", pos)
            out += data[pos:pos + size]
            pos += size
        else:
            if kind == 1:
                if pos >= n:
                    raise BundleError("Snappy block: truncated copy", pos)
                size = ((tag >> 2) & 7) + 4
                offset = ((tag >> 5) << 8) | data[pos]
                pos += 1
            else:
                width = 2 if kind == 2 else 4
                if pos + width > n:
                    raise BundleError("Snappy block: truncated copy", pos)
                size = (tag >> 2) + 1
                offset = int.from_bytes(data[pos:pos + width], "little")
                pos += width
            if offset == 0 or offset > len(out):
                raise BundleError(f"Snappy block: copy offset {offset} outside the output", pos)
            start = len(out) - offset
            if offset >= size:
                out += out[start:start + size]
            else:
                chunk = out[start:]
                while size > 0:
                    take = min(size, len(chunk))
                    out += chunk[:take]
                    size -= take
        if len(out) > length:
            raise BundleError("Snappy block: output longer than its preamble says", pos)
    if len(out) != length:
        raise BundleError(f"Snappy block: {len(out)} bytes decoded, preamble says {length}", pos)
    return bytes(out)


# -- the table ---------------------------------------------------------------------------------------

def _handle(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    offset, pos = pw.read_varint(buf, pos, end)
    size, pos = pw.read_varint(buf, pos, end)
    return offset, size, pos


def _block(data: bytes, offset: int, size: int, limits: BundleLimits, what: str) -> bytes:
    if offset + size + _BLOCK_TRAILER > len(data) - FOOTER_SIZE or size > limits.max_block_bytes:
        raise BundleError(f"{what} block at {offset} (+{size} bytes) lies outside the table", offset)
    contents = data[offset:offset + size]
    kind = data[offset + size]
    if limits.verify_checksums:
        stored = unmask_crc(struct.unpack_from("<I", data, offset + size + 1)[0])
        actual = crc32c(data[offset:offset + size + 1])
        if stored != actual:
            raise BundleError(f"{what} block at {offset}: checksum mismatch (corrupt table block)", offset)
    if kind == _SNAPPY:
        return snappy_decompress(contents, limits.max_block_bytes)
    if kind != _NO_COMPRESSION:
        raise BundleError(f"{what} block at {offset}: unknown compression type {kind}", offset + size)
    return contents


def _entries(block: bytes, where: int) -> Iterator[tuple[bytes, bytes]]:
    n = len(block)
    if n < 4:
        raise BundleError("table block shorter than its restart count", where)
    restarts = struct.unpack_from("<I", block, n - 4)[0]
    limit = n - 4 - 4 * restarts
    if restarts > (n - 4) // 4 or limit < 0:
        raise BundleError("table block: restart array larger than the block", where)
    pos = 0
    key = b""
    try:
        while pos < limit:
            shared, pos = pw.read_varint(block, pos, limit)
            unshared, pos = pw.read_varint(block, pos, limit)
            value_len, pos = pw.read_varint(block, pos, limit)
            if shared > len(key) or pos + unshared + value_len > limit:
                raise BundleError("table block: entry runs past the block", where)
            key = key[:shared] + block[pos:pos + unshared]
            pos += unshared
            yield key, block[pos:pos + value_len]
            pos += value_len
    except pw.WireError as exc:
        raise BundleError(f"table block: {exc.reason}", where) from None


def _table(data: bytes, limits: BundleLimits) -> Iterator[tuple[bytes, bytes]]:
    if len(data) < FOOTER_SIZE:
        raise BundleError(f"{len(data)} bytes: too short for a table footer ({FOOTER_SIZE} bytes)", 0)
    footer = len(data) - FOOTER_SIZE
    if struct.unpack_from("<Q", data, len(data) - 8)[0] != TABLE_MAGIC:
        raise BundleError("not a TensorFlow table: the magic number at the end is missing", len(data) - 8)
    try:
        _, _, pos = _handle(data, footer, len(data) - 8)
        index_offset, index_size, _ = _handle(data, pos, len(data) - 8)
    except pw.WireError as exc:
        raise BundleError(f"table footer: {exc.reason}", footer) from None
    index = _block(data, index_offset, index_size, limits, "index")
    last = None
    for _, handle in _entries(index, index_offset):
        try:
            offset, size, _ = _handle(handle, 0, len(handle))
        except pw.WireError as exc:
            raise BundleError(f"index entry: {exc.reason}", index_offset) from None
        for key, value in _entries(_block(data, offset, size, limits, "data"), offset):
            if last is not None and key <= last:
                raise BundleError(f"table keys out of order at {key[:80]!r}", offset)
            last = key
            yield key, value


def _entry(key: str, value: bytes) -> BundleEntry:
    dtype = shard = offset = size = slices = 0
    shape: tuple[int, ...] = ()
    crc: int | None = None
    for num, wt, v, s, e in pw.iter_fields(value):
        if num == 1 and wt == pw.VARINT:
            dtype = v
        elif num == 2 and wt == pw.LEN:
            dims = []
            for dnum, dwt, _, ds, de in pw.iter_fields(value, s, e):
                if dnum == 2 and dwt == pw.LEN:
                    size_ = 0
                    for znum, zwt, zv, _, _ in pw.iter_fields(value, ds, de):
                        if znum == 1 and zwt == pw.VARINT:
                            size_ = pw.int64(zv)
                    dims.append(size_)
            shape = tuple(dims)
        elif num == 3 and wt == pw.VARINT:
            shard = pw.int32(v)
        elif num == 4 and wt == pw.VARINT:
            offset = pw.int64(v)
        elif num == 5 and wt == pw.VARINT:
            size = pw.int64(v)
        elif num == 6 and wt == pw.I32:
            crc = v
        elif num == 7:
            slices += 1
    return BundleEntry(key, dtype_name(dtype) if dtype else "invalid", shape, shard, offset, size, crc, slices)


def read_bundle_index(data: bytes, limits: BundleLimits | None = None) -> Bundle:
    """Parse ``variables.index``. Raises :class:`BundleError` when it is not a well-formed bundle index."""
    limits = limits or BundleLimits()
    if len(data) > limits.max_index_bytes:
        raise BundleError(f"{len(data)} bytes, above the limit of {limits.max_index_bytes}", 0, limit=True)
    num_shards, endianness, producer = 1, "little", None
    entries: list[BundleEntry] = []
    header = False
    try:
        for raw_key, value in _table(data, limits):
            if not raw_key:
                header = True
                for num, wt, v, s, e in pw.iter_fields(value):
                    if num == 1 and wt == pw.VARINT:
                        num_shards = pw.int32(v)
                    elif num == 2 and wt == pw.VARINT:
                        endianness = "big" if v == 1 else "little"
                    elif num == 3 and wt == pw.LEN:
                        for vnum, vwt, vv, _, _ in pw.iter_fields(value, s, e):
                            if vnum == 1 and vwt == pw.VARINT:
                                producer = pw.int32(vv)
                continue
            if len(entries) >= limits.max_entries:
                raise BundleError(f"more than {limits.max_entries} entries", 0, limit=True)
            entries.append(_entry(raw_key.decode("utf-8", "replace"), value))
    except pw.WireError as exc:
        raise BundleError(f"bundle entry: {exc.reason}", 0) from None
    if not header:
        raise BundleError("no bundle header (the entry with the empty key)", 0)
    if not 1 <= num_shards <= limits.max_shards:
        raise BundleError(f"bundle header declares {num_shards} shards", 0)
    return Bundle(num_shards, endianness, producer, tuple(entries))
