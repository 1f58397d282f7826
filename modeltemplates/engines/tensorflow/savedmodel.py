"""Static reader of TensorFlow's ``saved_model.pb`` (and of the files users upload instead of it).

Reads the SavedModel, MetaGraphDef, GraphDef (nodes, versions, function library), SignatureDef and
SaverDef messages with :mod:`modeltemplates.engines.protowire` (see there why not the ``protobuf``
package), by the field numbers of TensorFlow's own ``.proto`` files (``saved_model.proto``,
``meta_graph.proto``, ``graph.proto``, ``node_def.proto``, ``function.proto``, ``attr_value.proto``,
``op_def.proto``, ``tensor.proto``, ``tensor_shape.proto``, ``versions.proto``, ``saver.proto``;
stable since TensorFlow 1.0). Only what a load check needs is decoded: constant tensors, the bulk of
a graph's bytes, are stepped over by their length.

Bounded: the caller gives the bytes (already capped in size); nesting is capped at protobuf's own
recursion limit, and node/function/signature counts at :class:`SavedModelLimits`. Every malformed
input raises :class:`SavedModelError` with the byte offset, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import attrs

from modeltemplates.engines import protowire as pw

__all__ = [
    "DTYPE_NAMES", "FileKind", "MetaGraph", "Node", "SavedModel", "SavedModelError", "SavedModelLimits",
    "Signature", "TensorSpec", "dtype_name", "read_graph_def", "read_saved_model", "sniff",
]

#: ``DataType`` enum of ``types.proto`` (``+100``: the reference type of the same dtype).
DTYPE_NAMES: Mapping[int, str] = {
    1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string",
    8: "complex64", 9: "int64", 10: "bool", 11: "qint8", 12: "quint8", 13: "qint32", 14: "bfloat16",
    15: "qint16", 16: "quint16", 17: "uint16", 18: "complex128", 19: "float16", 20: "resource",
    21: "variant", 22: "uint32", 23: "uint64", 24: "float8_e5m2", 25: "float8_e4m3fn", 26: "float8_e4m3fnuz",
    27: "float8_e4m3b11fnuz", 28: "float8_e5m2fnuz", 29: "int4", 30: "uint4", 31: "int2", 32: "uint2",
}


def unpack_span(packed: int) -> tuple[int, int]:
    """``(start, end)`` of a packed attribute span (:attr:`Node.attrs`)."""
    return packed >> 32, packed & 0xFFFFFFFF


def dtype_name(code: int) -> str:
    if code > 100:
        base = DTYPE_NAMES.get(code - 100)
        return f"{base}_ref" if base else f"dtype#{code}"
    return DTYPE_NAMES.get(code, f"dtype#{code}")


class SavedModelError(ValueError):
    """The bytes are not a well-formed message of the expected kind; ``offset`` says where."""

    def __init__(self, message: str, offset: int = 0, *, limit: bool = False) -> None:
        super().__init__(message)
        self.reason = message
        self.offset = offset
        #: True when a :class:`SavedModelLimits` bound (not malformed bytes) stopped the read.
        self.limit = limit


@attrs.frozen
class SavedModelLimits:
    """Bounds of one read; real models stay far below them."""

    max_depth: int = pw.DEFAULT_MAX_DEPTH
    max_nodes: int = 2_000_000
    max_functions: int = 100_000
    max_meta_graphs: int = 64
    max_signatures: int = 10_000
    #: Strings kept per Const node read for its value (the saver's tensor names).
    max_string_values: int = 1_000_000


@attrs.frozen
class TensorSpec:
    """A signature's tensor: graph tensor name, dtype, shape (``None``: unknown rank; -1: unknown dim)."""

    name: str
    dtype: str
    shape: tuple[int, ...] | None
    #: "dense", "coo_sparse" or "composite".
    encoding: str = "dense"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "dtype": self.dtype,
            "shape": list(self.shape) if self.shape is not None else None, "encoding": self.encoding,
        }


@attrs.frozen
class Signature:
    key: str
    method_name: str
    inputs: tuple[tuple[str, TensorSpec], ...]
    outputs: tuple[tuple[str, TensorSpec], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method_name": self.method_name,
            "inputs": {k: v.to_dict() for k, v in self.inputs},
            "outputs": {k: v.to_dict() for k, v in self.outputs},
        }


class Node(NamedTuple):
    """One ``NodeDef``: attributes are kept as the spans of their ``AttrValue`` bytes.

    A named tuple rather than an attrs class: a graph has up to millions of nodes, and a tuple is
    built in a fraction of the time (it is as immutable)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    #: Attribute name -> where its ``AttrValue`` bytes are, packed as ``start << 32 | end`` (see
    #: :func:`unpack_span`): a dict of plain ints is one object the garbage collector never tracks,
    #: where a tuple per attribute would be millions more.
    attrs: Mapping[str, int]
    offset: int
    #: The function whose body holds the node; ``""`` for the main graph.
    function: str = ""


@attrs.frozen
class OpAttrDefault:
    """What a ``stripped_op_list`` says of one attribute of one op: is there a default, where are its bytes."""

    name: str
    default: tuple[int, int] | None


@attrs.frozen
class MetaGraph:
    """One ``MetaGraphDef``: what a loader looks at."""

    index: int
    offset: int
    tags: tuple[str, ...]
    tensorflow_version: str
    tensorflow_git_version: str
    stripped_default_attrs: bool
    #: ``meta_info_def.stripped_op_list``: op name -> its attributes as the producer declared them.
    producer_ops: Mapping[str, tuple[OpAttrDefault, ...]]
    has_graph: bool
    producer: int | None
    min_consumer: int
    bad_consumers: tuple[int, ...]
    nodes: tuple[Node, ...]
    functions: tuple[str, ...]
    function_nodes: tuple[Node, ...]
    gradients: tuple[str, ...]
    signatures: tuple[Signature, ...]
    collections: tuple[str, ...]
    saver_version: int | None
    restore_op_name: str
    asset_files: tuple[str, ...]
    #: True when the meta graph carries a TF2 object graph (``object_graph_def``).
    object_graph: bool

    def op_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.op] = counts.get(node.op, 0) + 1
        for node in self.function_nodes:
            counts[node.op] = counts.get(node.op, 0) + 1
        return dict(sorted(counts.items()))


@attrs.frozen
class SavedModel:
    """A parsed ``saved_model.pb``: the meta graphs plus the bytes their spans point into."""

    data: bytes = attrs.field(repr=False)
    schema_version: int
    meta_graphs: tuple[MetaGraph, ...]

    def attr_bytes(self, span: tuple[int, int] | int) -> bytes:
        start, end = unpack_span(span) if isinstance(span, int) else span
        return self.data[start:end]

    def attr_type(self, node: Node, name: str) -> int | None:
        """The ``type`` value of an attribute (``AttrValue.type``), when it is one."""
        packed = node.attrs.get(name)
        if packed is None:
            return None
        for num, wt, value, _, _ in pw.iter_fields(self.data, *unpack_span(packed)):
            if num == 6 and wt == pw.VARINT:
                return value
        return None

    def attr_type_list(self, node: Node, name: str) -> tuple[int, ...] | None:
        packed = node.attrs.get(name)
        if packed is None:
            return None
        for num, wt, _, s, e in pw.iter_fields(self.data, *unpack_span(packed)):
            if num == 1 and wt == pw.LEN:
                types: list[int] = []
                for lnum, lwt, lvalue, ls, le in pw.iter_fields(self.data, s, e):
                    if lnum == 6:
                        if lwt == pw.LEN:
                            types.extend(pw.packed_varints(self.data, ls, le))
                        else:
                            types.append(lvalue)
                return tuple(types)
        return None

    def attr_shape(self, node: Node, name: str) -> tuple[int, ...] | None:
        """A ``shape`` attribute (None when absent or of unknown rank)."""
        packed = node.attrs.get(name)
        if packed is None:
            return None
        for num, wt, _, s, e in pw.iter_fields(self.data, *unpack_span(packed)):
            if num == 7 and wt == pw.LEN:
                return _shape(self.data, s, e)
        return None

    def const_strings(self, node: Node, limit: int) -> tuple[str, ...] | None:
        """The string values of a ``Const`` node's ``value`` tensor (the saver's tensor names)."""
        packed = node.attrs.get("value")
        if packed is None:
            return None
        for num, wt, _, s, e in pw.iter_fields(self.data, *unpack_span(packed)):
            if num == 8 and wt == pw.LEN:
                out: list[str] = []
                for tnum, twt, _, ts, te in pw.iter_fields(self.data, s, e):
                    if tnum == 8 and twt == pw.LEN:
                        if len(out) >= limit:
                            raise SavedModelError(f"more than {limit} strings in one constant", ts, limit=True)
                        out.append(pw.text(self.data, ts, te))
                return tuple(out)
        return None


class FileKind:
    """What a file is, judged by its content (:func:`sniff`)."""

    SAVED_MODEL = "saved_model"
    GRAPH_DEF = "frozen_graph_def"
    HDF5 = "keras_hdf5"
    KERAS_ZIP = "keras_v3"
    TFLITE = "tflite"
    CHECKPOINT_INDEX = "checkpoint_index"
    EMPTY = "empty"
    UNKNOWN = "unknown"


_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_TABLE_MAGIC = bytes.fromhex("57fb808b247547db")


def sniff(head: bytes, tail: bytes = b"") -> str:
    """The kind of file from its first bytes (and last 8 for a table), before any full parse."""
    if not head:
        return FileKind.EMPTY
    if head.startswith(_HDF5_MAGIC):
        return FileKind.HDF5
    if head[4:8] == b"TFL3":
        return FileKind.TFLITE
    if head.startswith(b"PK\x03\x04"):
        return FileKind.KERAS_ZIP
    if tail.endswith(_TABLE_MAGIC):
        return FileKind.CHECKPOINT_INDEX
    # SavedModel: field 1 (schema version) is a varint, field 2 a meta graph. GraphDef: field 1 is a
    # node (length-delimited), 2 the library, 4 the versions.
    first = head[0]
    if first in (0x08, 0x12):
        return FileKind.SAVED_MODEL
    if first in (0x0A, 0x22, 0x18):
        return FileKind.GRAPH_DEF
    return FileKind.UNKNOWN


def _shape(buf: bytes, start: int, end: int) -> tuple[int, ...] | None:
    dims: list[int] = []
    for num, wt, value, s, e in pw.iter_fields(buf, start, end):
        if num == 3 and wt == pw.VARINT and value:
            return None
        if num == 2 and wt == pw.LEN:
            size = 0
            for dnum, dwt, dvalue, _, _ in pw.iter_fields(buf, s, e):
                if dnum == 1 and dwt == pw.VARINT:
                    size = pw.int64(dvalue)
            dims.append(size)
    return tuple(dims)


def _map_entry(buf: bytes, start: int, end: int) -> tuple[str, tuple[int, int]]:
    key, value = "", (end, end)
    for num, wt, _, s, e in pw.iter_fields(buf, start, end):
        if num == 1 and wt == pw.LEN:
            key = pw.text(buf, s, e)
        elif num == 2 and wt == pw.LEN:
            value = (s, e)
    return key, value


class _Reader:
    def __init__(self, data: bytes, limits: SavedModelLimits) -> None:
        self.data = data
        self.limits = limits
        self.node_count = 0

    def fields(self, start: int, end: int, depth: int) -> Iterator[pw.Field]:
        if depth > self.limits.max_depth:
            raise SavedModelError(f"messages nested deeper than {self.limits.max_depth}", start, limit=True)
        return pw.iter_fields(self.data, start, end, max_depth=self.limits.max_depth)

    def node(self, start: int, end: int, depth: int, function: str) -> Node:
        """One NodeDef. The fields a NodeDef has (numbers below 16, so one-byte tags) are read inline;
        anything else goes through the general reader, which also raises on malformed bytes."""
        self.node_count += 1
        if self.node_count > self.limits.max_nodes:
            raise SavedModelError(f"more than {self.limits.max_nodes} nodes", start, limit=True)
        if depth > self.limits.max_depth:
            raise SavedModelError(f"messages nested deeper than {self.limits.max_depth}", start, limit=True)
        data = self.data
        name = op = ""
        inputs: list[str] = []
        attrs_: dict[str, int] = {}
        pos = start
        while pos < end:
            tag = data[pos]
            if tag & 7 != 2 or tag >= 0x80:
                # A varint/fixed field, or a long tag: step over it with the general reader.
                pos = pw.skip_field(data, pos, end, max_depth=self.limits.max_depth)
                continue
            n = data[pos + 1] if pos + 1 < end else 0x80
            if n < 0x80:
                pos += 2
            else:
                n, pos = pw.read_varint(data, pos + 1, end)
            e = pos + n
            if e > end:
                raise pw.WireError(f"field {tag >> 3}: length {n} runs past the end of the message", pos)
            if tag == 0x2A:  # attr: map<string, AttrValue> entry, key (1) then value (2) as protobuf writes it
                kl = data[pos + 1] if data[pos] == 0x0A and pos + 1 < e else 0x80
                p = pos + 2 + kl
                if kl < 0x80 and p + 1 < e and data[p] == 0x12 and data[p + 1] < 0x80 and p + 2 + data[p + 1] == e:
                    key = data[pos + 2:p].decode("utf-8", "replace")
                    vs, ve = p + 2, e
                else:
                    key, (vs, ve) = _map_entry(data, pos, e)
                attrs_[key] = vs << 32 | ve
                first = data[vs] if vs < ve else 0
                if first == 0x52 or (first == 0x0A and data.find(b"\x4a", vs, ve) >= 0):
                    self.attr_depth(vs, ve, depth + 2)  # a function, or a list that may hold one
            elif tag == 0x1A:
                inputs.append(data[pos:e].decode("utf-8", "replace"))
            elif tag == 0x0A:
                name = data[pos:e].decode("utf-8", "replace")
            elif tag == 0x12:
                op = data[pos:e].decode("utf-8", "replace")
            pos = e
        return Node(name, op, tuple(inputs), attrs_, start, function)

    def attr_depth(self, start: int, end: int, depth: int) -> None:
        """Walk the nesting an ``AttrValue`` can recurse through (``func`` -> ``attr`` -> ``AttrValue``,
        ``list.func``), so a graph protobuf would refuse for its depth is refused here too."""
        for num, wt, _, s, e in self.fields(start, end, depth):
            if wt != pw.LEN:
                continue
            if num == 10:
                self.name_attr_list(s, e, depth + 1)
            elif num == 1:
                for lnum, lwt, _, ls, le in self.fields(s, e, depth + 1):
                    if lnum == 9 and lwt == pw.LEN:
                        self.name_attr_list(ls, le, depth + 2)

    def name_attr_list(self, start: int, end: int, depth: int) -> None:
        for num, wt, _, s, e in self.fields(start, end, depth):
            if num == 2 and wt == pw.LEN:
                for enum_, ewt, _, es, ee in self.fields(s, e, depth + 1):
                    if enum_ == 2 and ewt == pw.LEN:
                        self.attr_depth(es, ee, depth + 2)

    def graph(self, start: int, end: int, depth: int) -> dict[str, Any]:
        nodes: list[Node] = []
        functions: list[str] = []
        fnodes: list[Node] = []
        gradients: list[str] = []
        producer: int | None = None
        min_consumer = 0
        bad: list[int] = []
        # Nodes are nearly all of a graph: step from one to the next inline (tag 0x0A, then the
        # length), and hand everything else to the general field reader.
        data = self.data
        node = self.node
        append = nodes.append
        pos = start
        if depth > self.limits.max_depth:
            raise SavedModelError(f"messages nested deeper than {self.limits.max_depth}", start, limit=True)
        while pos < end and data[pos] == 0x0A:
            n, p = pw.read_varint(data, pos + 1, end)
            if p + n > end:
                raise pw.WireError(f"field 1: length {n} runs past the end of the message", pos)
            append(node(p, p + n, depth + 1, ""))
            pos = p + n
        for num, wt, _, s, e in self.fields(pos, end, depth):
            if num == 1 and wt == pw.LEN:
                nodes.append(self.node(s, e, depth + 1, ""))
            elif num == 4 and wt == pw.LEN:
                producer = 0
                for vnum, vwt, value, vs, ve in self.fields(s, e, depth + 1):
                    if vnum == 1 and vwt == pw.VARINT:
                        producer = pw.int32(value)
                    elif vnum == 2 and vwt == pw.VARINT:
                        min_consumer = pw.int32(value)
                    elif vnum == 3:
                        if vwt == pw.LEN:
                            bad.extend(pw.int32(v) for v in pw.packed_varints(self.data, vs, ve, max_count=10_000))
                        else:
                            bad.append(pw.int32(value))
            elif num == 2 and wt == pw.LEN:
                self.library(s, e, depth + 1, functions=functions, fnodes=fnodes, gradients=gradients)
        return {
            "nodes": tuple(nodes), "functions": tuple(functions), "function_nodes": tuple(fnodes),
            "gradients": tuple(gradients), "producer": producer, "min_consumer": min_consumer,
            "bad_consumers": tuple(bad),
        }

    def library(
        self, start: int, end: int, depth: int, *, functions: list[str], fnodes: list[Node], gradients: list[str]
    ) -> None:
        for num, wt, _, s, e in self.fields(start, end, depth):
            if num == 1 and wt == pw.LEN:
                if len(functions) >= self.limits.max_functions:
                    raise SavedModelError(f"more than {self.limits.max_functions} functions", s, limit=True)
                fname = ""
                body: list[tuple[int, int]] = []
                for fnum, fwt, _, fs, fe in self.fields(s, e, depth + 1):
                    if fnum == 1 and fwt == pw.LEN:
                        for onum, owt, _, os_, oe in self.fields(fs, fe, depth + 2):
                            if onum == 1 and owt == pw.LEN:
                                fname = pw.text(self.data, os_, oe)
                    elif fnum == 3 and fwt == pw.LEN:
                        body.append((fs, fe))
                functions.append(fname)
                fnodes.extend(self.node(bs, be, depth + 2, fname) for bs, be in body)
            elif num == 2 and wt == pw.LEN:
                for gnum, gwt, _, gs, ge in self.fields(s, e, depth + 1):
                    if gnum == 1 and gwt == pw.LEN:
                        gradients.append(pw.text(self.data, gs, ge))

    def tensor_info(self, start: int, end: int, depth: int) -> TensorSpec:
        name, dtype, shape, encoding = "", 0, None, "dense"
        for num, wt, value, s, e in self.fields(start, end, depth):
            if num == 1 and wt == pw.LEN:
                name = pw.text(self.data, s, e)
            elif num == 2 and wt == pw.VARINT:
                dtype = value
            elif num == 3 and wt == pw.LEN:
                shape = _shape(self.data, s, e)
            elif num == 4 and wt == pw.LEN:
                encoding = "coo_sparse"
                for cnum, cwt, _, cs, ce in self.fields(s, e, depth + 1):
                    if cnum == 1 and cwt == pw.LEN and not name:
                        name = pw.text(self.data, cs, ce)
            elif num == 5:
                encoding = "composite"
        return TensorSpec(name, dtype_name(dtype) if dtype else "invalid", shape, encoding)

    def signature(self, key: str, start: int, end: int, depth: int) -> Signature:
        inputs: list[tuple[str, TensorSpec]] = []
        outputs: list[tuple[str, TensorSpec]] = []
        method = ""
        for num, wt, _, s, e in self.fields(start, end, depth):
            if num in (1, 2) and wt == pw.LEN:
                k, (vs, ve) = _map_entry(self.data, s, e)
                (inputs if num == 1 else outputs).append((k, self.tensor_info(vs, ve, depth + 2)))
            elif num == 3 and wt == pw.LEN:
                method = pw.text(self.data, s, e)
        return Signature(key, method, tuple(sorted(inputs)), tuple(sorted(outputs)))

    def meta_info(self, start: int, end: int, depth: int) -> dict[str, Any]:
        tags: list[str] = []
        version = git = ""
        stripped = False
        ops: dict[str, tuple[OpAttrDefault, ...]] = {}
        for num, wt, value, s, e in self.fields(start, end, depth):
            if num == 4 and wt == pw.LEN:
                tags.append(pw.text(self.data, s, e))
            elif num == 5 and wt == pw.LEN:
                version = pw.text(self.data, s, e, limit=200)
            elif num == 6 and wt == pw.LEN:
                git = pw.text(self.data, s, e, limit=200)
            elif num == 7 and wt == pw.VARINT:
                stripped = bool(value)
            elif num == 2 and wt == pw.LEN:
                for onum, owt, _, os_, oe in self.fields(s, e, depth + 1):
                    if onum == 1 and owt == pw.LEN:
                        name, attrs_ = self.op_def(os_, oe, depth + 2)
                        ops[name] = attrs_
        return {"tags": tuple(tags), "tensorflow_version": version, "tensorflow_git_version": git,
                "stripped_default_attrs": stripped, "producer_ops": ops}

    def op_def(self, start: int, end: int, depth: int) -> tuple[str, tuple[OpAttrDefault, ...]]:
        name = ""
        attrs_: list[OpAttrDefault] = []
        for num, wt, _, s, e in self.fields(start, end, depth):
            if num == 1 and wt == pw.LEN:
                name = pw.text(self.data, s, e)
            elif num == 4 and wt == pw.LEN:
                aname, default = "", None
                for anum, awt, _, as_, ae in self.fields(s, e, depth + 1):
                    if anum == 1 and awt == pw.LEN:
                        aname = pw.text(self.data, as_, ae)
                    elif anum == 3 and awt == pw.LEN:
                        default = (as_, ae)
                attrs_.append(OpAttrDefault(aname, default))
        return name, tuple(attrs_)

    def asset_collection(self, start: int, end: int, depth: int) -> list[str]:
        """The file names in a ``CollectionDef.any_list`` of ``AssetFileDef``s."""
        names: list[str] = []
        for num, wt, _, s, e in self.fields(start, end, depth):
            if num != 5 or wt != pw.LEN:
                continue
            for anum, awt, _, as_, ae in self.fields(s, e, depth + 1):
                if anum != 1 or awt != pw.LEN:
                    continue
                for vnum, vwt, _, vs, ve in self.fields(as_, ae, depth + 2):
                    if vnum == 2 and vwt == pw.LEN:
                        for fnum, fwt, _, fs, fe in self.fields(vs, ve, depth + 3):
                            if fnum == 2 and fwt == pw.LEN:
                                names.append(pw.text(self.data, fs, fe))
        return names

    def meta_graph(self, index: int, start: int, end: int, depth: int) -> MetaGraph:
        info: dict[str, Any] = {"tags": (), "tensorflow_version": "", "tensorflow_git_version": "",
                                "stripped_default_attrs": False, "producer_ops": {}}
        graph: dict[str, Any] | None = None
        signatures: list[Signature] = []
        collections: list[str] = []
        assets: list[str] = []
        saver_version: int | None = None
        restore_op = ""
        object_graph = False
        for num, wt, _, s, e in self.fields(start, end, depth):
            if wt != pw.LEN:
                continue
            if num == 1:
                info = self.meta_info(s, e, depth + 1)
            elif num == 2:
                graph = self.graph(s, e, depth + 1)
            elif num == 3:
                saver_version = 0
                for snum, swt, value, ss, se in self.fields(s, e, depth + 1):
                    if snum == 7 and swt == pw.VARINT:
                        saver_version = value
                    elif snum == 3 and swt == pw.LEN:
                        restore_op = pw.text(self.data, ss, se)
            elif num == 4:
                key, (vs, ve) = _map_entry(self.data, s, e)
                collections.append(key)
                if key == "saved_model_assets":  # TF 1.x: AssetFileDefs packed as Any in an any_list
                    assets.extend(self.asset_collection(vs, ve, depth + 2))
            elif num == 5:
                if len(signatures) >= self.limits.max_signatures:
                    raise SavedModelError(f"more than {self.limits.max_signatures} signatures", s, limit=True)
                key, (vs, ve) = _map_entry(self.data, s, e)
                signatures.append(self.signature(key, vs, ve, depth + 2))
            elif num == 6:
                for anum, awt, _, as_, ae in self.fields(s, e, depth + 1):
                    if anum == 2 and awt == pw.LEN:
                        assets.append(pw.text(self.data, as_, ae))
            elif num == 7:
                object_graph = True
        g = graph or {"nodes": (), "functions": (), "function_nodes": (), "gradients": (), "producer": None,
                      "min_consumer": 0, "bad_consumers": ()}
        return MetaGraph(
            index=index, offset=start, has_graph=graph is not None,
            signatures=tuple(sorted(signatures, key=lambda sig: sig.key)), collections=tuple(sorted(collections)),
            saver_version=saver_version, restore_op_name=restore_op, asset_files=tuple(assets),
            object_graph=object_graph, **info, **g,
        )


def read_saved_model(data: bytes, limits: SavedModelLimits | None = None) -> SavedModel:
    """Parse a ``saved_model.pb``. Raises :class:`SavedModelError` on malformed or over-limit input."""
    limits = limits or SavedModelLimits()
    if len(data) >= 1 << 31:
        raise SavedModelError("2 GiB or more: above protobuf's own message limit", 0, limit=True)
    reader = _Reader(data, limits)
    schema = 0
    metas: list[MetaGraph] = []
    try:
        for num, wt, value, s, e in pw.iter_fields(data, max_depth=limits.max_depth):
            if num == 1 and wt == pw.VARINT:
                schema = pw.int64(value)
            elif num == 2 and wt == pw.LEN:
                if len(metas) >= limits.max_meta_graphs:
                    raise SavedModelError(f"more than {limits.max_meta_graphs} meta graphs", s, limit=True)
                metas.append(reader.meta_graph(len(metas), s, e, 1))
            # Other fields are unknown to every TensorFlow; protobuf keeps them and the loader
            # ignores them, so they are skipped here too.
    except pw.WireError as exc:
        raise SavedModelError(exc.reason, exc.offset) from None
    return SavedModel(data, schema, tuple(metas))


def read_graph_def(data: bytes, limits: SavedModelLimits | None = None) -> dict[str, Any]:
    """Parse a bare ``GraphDef`` (a frozen graph): nodes, versions, library, as for a meta graph."""
    limits = limits or SavedModelLimits()
    if len(data) >= 1 << 31:
        raise SavedModelError("2 GiB or more: above protobuf's own message limit", 0, limit=True)
    try:
        return _Reader(data, limits).graph(0, len(data), 0)
    except pw.WireError as exc:
        raise SavedModelError(exc.reason, exc.offset) from None
