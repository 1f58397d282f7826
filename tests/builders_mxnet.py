"""MXNet files written byte by byte from the format (no MXNet here): symbol JSON and NDArray lists.

``params_bytes`` follows ``NDArray::Save`` of MXNet 1.2.1 (src/ndarray/ndarray.cc); it is checked
against files the real MXNet 1.2.1 wrote (tests/data/mxnet, made by make_mxnet_data.py) in
tests/test_mxnet.py, byte for byte.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Sequence

V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA
DTYPE_FLAGS = {"float32": (0, "<f"), "float64": (1, "<d"), "float16": (2, "<e"), "uint8": (3, "<B"),
               "int32": (4, "<i"), "int8": (5, "<b"), "int64": (6, "<q")}


def _shape(shape: Sequence[int]) -> bytes:
    return struct.pack("<I", len(shape)) + struct.pack(f"<{len(shape)}q", *shape)


def array_bytes(shape: Sequence[int], dtype: str = "float32", values: Iterable[float] | None = None, *,
                magic: int = V2_MAGIC, flag: int | None = None) -> bytes:
    """One dense array as NDArray::Save writes it (values default to i % 7, as the real data)."""
    code, fmt = DTYPE_FLAGS.get(dtype, (flag if flag is not None else 0, "<f"))
    if flag is not None:
        code = flag
    out = struct.pack("<I", magic) + struct.pack("<i", 0) + _shape(shape)
    if not shape:
        return out
    out += struct.pack("<ii", 1, 0) + struct.pack("<i", code)
    count = 1
    for d in shape:
        count *= d
    vals = list(values) if values is not None else [i % 7 for i in range(count)]
    out += b"".join(struct.pack(fmt, v) for v in vals)
    return out


def params_bytes(arrays: Sequence[tuple[str, bytes]]) -> bytes:
    """An NDArray list file of already-encoded arrays with their names."""
    out = struct.pack("<QQ", 0x112, 0) + struct.pack("<Q", len(arrays))
    out += b"".join(a for _, a in arrays)
    out += struct.pack("<Q", len(arrays))
    for name, _ in arrays:
        raw = name.encode()
        out += struct.pack("<Q", len(raw)) + raw
    return out


def checkpoint_params(params: dict[str, Sequence[int]], aux: dict[str, Sequence[int]] | None = None) -> bytes:
    arrays = [(f"arg:{n}", array_bytes(s)) for n, s in params.items()]
    arrays += [(f"aux:{n}", array_bytes(s)) for n, s in (aux or {}).items()]
    return params_bytes(arrays)


class SymbolBuilder:
    """An nnvm graph JSON as MXNet 1.x writes it."""

    def __init__(self, version: int = 10201) -> None:
        self.nodes: list[dict[str, object]] = []
        self.version = version

    def var(self, name: str, **attrs: str) -> int:
        node: dict[str, object] = {"op": "null", "name": name, "inputs": []}
        if attrs:
            node["attrs"] = dict(attrs)
        self.nodes.append(node)
        return len(self.nodes) - 1

    def op(self, op: str, name: str, inputs: Sequence[int], **attrs: str) -> int:
        node: dict[str, object] = {"op": op, "name": name, "inputs": [[i, 0, 0] for i in inputs]}
        if attrs:
            node["attrs"] = dict(attrs)
        self.nodes.append(node)
        return len(self.nodes) - 1

    def to_json(self, head: int | None = None) -> str:
        head = len(self.nodes) - 1 if head is None else head
        doc = {
            "nodes": self.nodes,
            "arg_nodes": [i for i, n in enumerate(self.nodes) if n["op"] == "null"],
            "node_row_ptr": list(range(len(self.nodes) + 1)),
            "heads": [[head, 0, 0]],
            "attrs": {"mxnet_version": ["int", self.version]},
        }
        return json.dumps(doc, indent=2)


def mlp(hidden: int = 4, *, op: str = "FullyConnected", version: int = 10201) -> tuple[str, dict[str, Sequence[int]],
                                                                                         dict[str, Sequence[int]]]:
    """data -> fc1 -> bn1 -> relu -> softmax: (symbol JSON, arg shapes, aux shapes) for 3 inputs."""
    b = SymbolBuilder(version)
    data = b.var("data")
    w, bias = b.var("fc1_weight"), b.var("fc1_bias")
    fc = b.op(op, "fc1", [data, w, bias], num_hidden=str(hidden))
    g, be, mm, mv = b.var("bn1_gamma"), b.var("bn1_beta"), b.var("bn1_moving_mean"), b.var("bn1_moving_var")
    bn = b.op("BatchNorm", "bn1", [fc, g, be, mm, mv])
    act = b.op("Activation", "relu1", [bn], act_type="relu")
    label = b.var("softmax_label")
    b.op("SoftmaxOutput", "softmax", [act, label])
    args = {"fc1_weight": (hidden, 3), "fc1_bias": (hidden,), "bn1_gamma": (hidden,), "bn1_beta": (hidden,)}
    aux = {"bn1_moving_mean": (hidden,), "bn1_moving_var": (hidden,)}
    return b.to_json(), args, aux


SERVICE_MXNET = '''\
import mxnet as mx
from mms.model_service.mxnet_model_service import MXNetBaseService


class MlpService(MXNetBaseService):
    def __init__(self, model_name, model_dir, manifest, gpu=None):
        super(MlpService, self).__init__(model_name, model_dir, manifest, gpu)
        self.sym, self.args, self.aux = mx.model.load_checkpoint(model_dir + "/mlp", 0)

    def _preprocess(self, data):
        return data

    def _postprocess(self, data):
        return data
'''
