"""The ``<name>-<epoch>.params`` file MXNet writes with ``mx.nd.save``/``save_checkpoint``, read as data.

Layout (``NDArray::Save`` of a list, src/ndarray/ndarray.cc of MXNet 1.2.1; all little-endian)::

    uint64 0x112 (kMXAPINDArrayListMagic)   uint64 reserved (0)
    uint64 n    then n arrays:
        uint32 magic            0xF993FAC9 (V2); 0xF993FAC8 (V1); anything else is the ndim of
                                the oldest format, whose dimensions are uint32
        [V2] int32 storage type (0 default, 1 row_sparse, 2 csr); sparse: storage shape
        shape: uint32 ndim, ndim x int64 (V1/V2)     -- ndim 0 is an empty array, nothing follows
        int32 dev_type, int32 dev_id                  -- the context it was saved from
        int32 type flag                               -- mshadow dtype (0 float32 ... 6 int64)
        [sparse] per aux array: int32 type flag, shape
        data: itemsize x product(shape) bytes  [sparse: storage-shape values, then aux arrays]
    uint64 k    then k names: uint64 length, bytes    (k is 0 or n)

The reader seeks over every data block, so it costs O(number of arrays), not O(bytes); names are
bounded, counts are checked against what the file can hold before anything is allocated.
Checkpoints name arrays ``arg:<name>`` and ``aux:<name>``; Gluon's ``save_parameters`` writes bare
names.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

import attrs

from modeltemplates.engines.mxnet import facts

__all__ = ["ParamsError", "ParamsFacts", "ParamsLimits", "StoredArray", "read_params"]


class ParamsError(ValueError):
    """The file is not a readable NDArray list; ``offset`` is where it went wrong."""

    def __init__(self, message: str, *, kind: str = "malformed", offset: int | None = None) -> None:
        super().__init__(message if offset is None else f"{message} (at byte {offset})")
        self.kind = kind
        self.offset = offset


@attrs.frozen
class ParamsLimits:
    max_arrays: int = 1_000_000
    max_ndim: int = 32
    max_name_bytes: int = 4096


@attrs.frozen
class StoredArray:
    """One array of the file: name (with its prefix), dtype, shape, where its data lies."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    storage: str
    format: str  # "v2", "v1", "legacy", "v3"
    data_offset: int
    nbytes: int

    @property
    def prefix(self) -> str:
        head, sep, _ = self.name.partition(":")
        return head if sep else ""

    @property
    def bare_name(self) -> str:
        head, sep, rest = self.name.partition(":")
        return rest if sep else head

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape), "storage": self.storage,
                "format": self.format, "offset": self.data_offset, "nbytes": self.nbytes}


@attrs.frozen
class ParamsFacts:
    arrays: tuple[StoredArray, ...]
    named: bool
    trailing_bytes: int
    #: Arrays MXNet 1.2.1 cannot read, with the reason: (index, message).
    unreadable: tuple[tuple[int, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "mxnet-params",
            "arrays": [a.to_dict() for a in self.arrays],
            "named": self.named,
            "count": len(self.arrays),
            "bytes": sum(a.nbytes for a in self.arrays),
            "trailing_bytes": self.trailing_bytes,
            "unreadable": [[i, m] for i, m in self.unreadable],
        }


class _Cursor:
    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f = f
        self.size = size
        self.pos = 0
        f.seek(0)

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > self.size:
            raise ParamsError(f"the file ends inside {what}", kind="truncated", offset=self.pos)
        data = self.f.read(n)
        if len(data) != n:
            raise ParamsError(f"the file ends inside {what}", kind="truncated", offset=self.pos)
        self.pos += n
        return data

    def u32(self, what: str) -> int:
        return int(struct.unpack("<I", self.take(4, what))[0])

    def i32(self, what: str) -> int:
        return int(struct.unpack("<i", self.take(4, what))[0])

    def u64(self, what: str) -> int:
        return int(struct.unpack("<Q", self.take(8, what))[0])

    def skip(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.size:
            raise ParamsError(f"{what} needs {n} bytes but the file has {self.size - self.pos} left",
                              kind="truncated", offset=self.pos)
        self.pos += n
        self.f.seek(self.pos)


def _shape(cur: _Cursor, limits: ParamsLimits, *, wide: bool, ndim: int | None = None) -> tuple[int, ...]:
    if ndim is None:
        ndim = cur.u32("a shape")
    if ndim > limits.max_ndim:
        raise ParamsError(f"a shape of {ndim} dimensions (limit {limits.max_ndim})", offset=cur.pos - 4)
    if wide:
        raw = cur.take(8 * ndim, "a shape")
        dims = struct.unpack(f"<{ndim}q", raw)
    else:
        raw = cur.take(4 * ndim, "a shape")
        dims = struct.unpack(f"<{ndim}I", raw)
    if any(d < 0 for d in dims):
        raise ParamsError(f"a shape with a negative dimension {tuple(dims)}", offset=cur.pos)
    return tuple(int(d) for d in dims)


def _product(shape: tuple[int, ...]) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def read_params(f: BinaryIO, size: int, limits: ParamsLimits | None = None) -> ParamsFacts:
    """Read the array list in ``f`` (``size`` bytes), seeking over every data block."""
    limits = limits or ParamsLimits()
    if size == 0:
        raise ParamsError("the file is empty", kind="unrecognised")
    cur = _Cursor(f, size)
    if size < 16:
        raise ParamsError(f"{size} bytes is too short for an NDArray file header", kind="unrecognised")
    header = cur.u64("the header")
    if header != facts.LIST_MAGIC:
        raise ParamsError(f"the file does not start with MXNet's NDArray-list magic 0x112 (found 0x{header:x})",
                          kind="unrecognised", offset=0)
    cur.u64("the header")
    count = cur.u64("the array count")
    # every array takes at least 8 bytes (magic + ndim 0), so the count is bounded by the size
    if count > limits.max_arrays or count * 8 > size - cur.pos:
        raise ParamsError(f"the file claims {count} arrays, more than it can hold", kind="limit", offset=16)
    arrays: list[tuple[str, tuple[int, ...], str, str, int, int]] = []
    unreadable: list[tuple[int, str]] = []
    for index in range(count):
        start = cur.pos
        magic = cur.u32(f"array {index}")
        storage, aux_count = "default", 0
        if magic in (facts.NDARRAY_V2_MAGIC, facts.NDARRAY_V3_MAGIC):
            fmt = "v2" if magic == facts.NDARRAY_V2_MAGIC else "v3"
            if fmt == "v3":
                unreadable.append((index, "written in NumPy-shape mode by MXNet 1.6 or later (magic 0xF993FACA)"))
            stype = cur.i32(f"array {index}'s storage type")
            if stype not in facts.STORAGE_AUX:
                raise ParamsError(f"array {index} has unknown storage type {stype}", offset=cur.pos - 4)
            storage, aux_count = facts.STORAGE_AUX[stype]
            if aux_count:
                _shape(cur, limits, wide=True)  # the storage shape
            shape = _shape(cur, limits, wide=True)
        elif magic == facts.NDARRAY_V1_MAGIC:
            fmt = "v1"
            shape = _shape(cur, limits, wide=True)
        else:
            fmt = "legacy"
            if magic > limits.max_ndim:
                raise ParamsError(f"array {index} starts with 0x{magic:08x}: no known array magic, and as the "
                                  "dimension count of the oldest format it is absurd", offset=start)
            shape = _shape(cur, limits, wide=False, ndim=magic)
        if not shape:
            arrays.append(("none", (), "none", fmt, cur.pos, 0))
            continue
        cur.i32("a context")
        cur.i32("a context")
        flag = cur.i32(f"array {index}'s type flag")
        known = facts.DTYPES.get(flag)
        if known is None:
            later = facts.LATER_DTYPES.get(flag)
            what = f"dtype {later} (type flag {flag}), which MXNet 1.2.1 does not have" if later else \
                f"unknown type flag {flag}"
            raise ParamsError(f"array {index} has {what}", kind="dtype", offset=cur.pos - 4)
        dtype, item = known
        aux_bytes = 0
        aux_shapes: list[tuple[int, ...]] = []
        for _ in range(aux_count):
            aflag = cur.i32("an aux type flag")
            ashape = _shape(cur, limits, wide=True)
            aux = facts.DTYPES.get(aflag)
            if aux is None:
                raise ParamsError(f"array {index} has an aux array of unknown type flag {aflag}", offset=cur.pos)
            aux_shapes.append(ashape)
            aux_bytes += aux[1] * _product(ashape)
        # Sparse values are sized by the aux arrays, as NDArray::Load allocates them: a row_sparse
        # array holds one row per index, a csr array one value per column index (its storage
        # shape as written may be stale).
        if storage == "row_sparse" and aux_shapes:
            values = _product(aux_shapes[0]) * _product(shape[1:])
        elif storage == "csr" and len(aux_shapes) == 2:
            values = _product(aux_shapes[1])
        else:
            values = _product(shape)
        nbytes = item * values
        data_at = cur.pos
        cur.skip(nbytes + aux_bytes, f"the data of array {index} ({dtype} {list(shape)})")
        arrays.append((storage, shape, dtype, fmt, data_at, nbytes + aux_bytes))
    name_count = cur.u64("the name count")
    if name_count not in (0, count):
        raise ParamsError(f"{name_count} names for {count} arrays (MXNet requires none or one per array)",
                          offset=cur.pos - 8)
    names: list[str] = []
    for index in range(name_count):
        length = cur.u64(f"name {index}'s length")
        if length > limits.max_name_bytes:
            raise ParamsError(f"name {index} is {length} bytes long (limit {limits.max_name_bytes})",
                              kind="limit", offset=cur.pos - 8)
        raw = cur.take(length, f"name {index}")
        names.append(raw.decode("utf-8", "backslashreplace"))
    out = tuple(
        StoredArray(
            name=names[i] if names else "", dtype=dtype, shape=shape,
            storage=storage,
            format=fmt, data_offset=at, nbytes=nb,
        )
        for i, (storage, shape, dtype, fmt, at, nb) in enumerate(arrays)
    )
    return ParamsFacts(arrays=out, named=bool(names), trailing_bytes=size - cur.pos,
                       unreadable=tuple(unreadable))
