"""Caffe files written byte by byte: protobuf wire format of caffe.NetParameter, and prototxt text.

``caffemodel_bytes`` writes fields in field-number order, packed repeated numbers, as protobuf's
serializer does; tests/test_caffe.py checks it reproduces tests/data/caffe/lenet.caffemodel (made
by protobuf itself from Caffe 1.0's caffe.proto, see make_caffe_data.py) byte for byte.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def ld(number: int, payload: bytes) -> bytes:
    return key(number, 2) + varint(len(payload)) + payload


def blob(shape: Sequence[int], values: Sequence[float] | None = None, *, legacy: bool = False) -> bytes:
    count = 1
    for d in shape:
        count *= d
    vals = [float(i % 7) for i in range(count)] if values is None else list(values)
    out = b""
    if legacy:
        padded = (1,) * (4 - len(shape)) + tuple(shape)
        out += b"".join(key(n, 0) + varint(v) for n, v in zip((1, 2, 3, 4), padded, strict=True))
    out += ld(5, struct.pack(f"<{len(vals)}f", *vals)) if vals else b""
    if not legacy:
        out += ld(7, ld(1, b"".join(varint(d) for d in shape)))
    return out


def layer(name: str, type_: str, bottom: Sequence[str] = (), top: Sequence[str] = (),
          blobs: Sequence[bytes] = ()) -> bytes:
    out = ld(1, name.encode()) + ld(2, type_.encode())
    out += b"".join(ld(3, b.encode()) for b in bottom) + b"".join(ld(4, t.encode()) for t in top)
    out += b"".join(ld(7, b) for b in blobs)
    return out


def v1_layer(name: str, type_enum: int, bottom: Sequence[str] = (), top: Sequence[str] = (),
             blobs: Sequence[bytes] = ()) -> bytes:
    out = b"".join(ld(2, b.encode()) for b in bottom) + b"".join(ld(3, t.encode()) for t in top)
    out += ld(4, name.encode()) + key(5, 0) + varint(type_enum)
    out += b"".join(ld(6, b) for b in blobs)
    return out


def caffemodel_bytes(name: str, layers: Sequence[bytes], *, v1_layers: Sequence[bytes] = ()) -> bytes:
    out = ld(1, name.encode()) if name else b""
    out += b"".join(ld(2, v) for v in v1_layers)
    out += b"".join(ld(100, v) for v in layers)
    return out


#: The platform example's LeNet (examples_of_custom_scripts/caffe.rst) as (name, type, bottoms, tops, blob shapes).
LENET: list[tuple[str, str, list[str], list[str], list[tuple[int, ...]]]] = [
    ("conv1", "Convolution", ["data"], ["conv1"], [(20, 1, 5, 5), (20,)]),
    ("pool1", "Pooling", ["conv1"], ["pool1"], []),
    ("conv2", "Convolution", ["pool1"], ["conv2"], [(50, 20, 5, 5), (50,)]),
    ("pool2", "Pooling", ["conv2"], ["pool2"], []),
    ("ip1", "InnerProduct", ["pool2"], ["ip1"], [(500, 800), (500,)]),
    ("relu1", "ReLU", ["ip1"], ["ip1"], []),
    ("ip2", "InnerProduct", ["ip1"], ["ip2"], [(10, 500), (10,)]),
    ("loss", "SoftmaxWithLoss", ["ip2", "label"], ["loss"], []),
]


def lenet_weights(changes: dict[str, list[tuple[int, ...]]] | None = None, drop: Sequence[str] = ()) -> bytes:
    changes = changes or {}
    return caffemodel_bytes("LeNet", [
        layer(n, t, b, tp, [blob(s) for s in changes.get(n, shapes)])
        for n, t, b, tp, shapes in LENET if n not in drop
    ])


SMALL_DEPLOY = '''\
name: "Small"
layer {
  name: "data"
  type: "Input"
  top: "data"
  input_param { shape: { dim: 1 dim: 1 dim: 8 dim: 8 } }
}
layer {
  name: "conv1"
  type: "Convolution"
  bottom: "data"
  top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 }
}
layer {
  name: "bn1"
  type: "BatchNorm"
  bottom: "conv1"
  top: "conv1"
}
layer {
  name: "scale1"
  type: "Scale"
  bottom: "conv1"
  top: "conv1"
  scale_param { bias_term: true }
}
layer {
  name: "relu1"
  type: "ReLU"
  bottom: "conv1"
  top: "conv1"
}
layer {
  name: "ip1"
  type: "InnerProduct"
  bottom: "conv1"
  top: "ip1"
  inner_product_param { num_output: 3 }
}
layer {
  name: "prob"
  type: "Softmax"
  bottom: "ip1"
  top: "prob"
}
'''

SMALL_BLOBS: dict[str, list[tuple[int, ...]]] = {
    "conv1": [(4, 1, 3, 3), (4,)], "bn1": [(4,), (4,), (1,)], "scale1": [(4,), (4,)], "ip1": [(3, 144), (3,)],
}


def small_weights(blobs: dict[str, list[tuple[int, ...]]] | None = None) -> bytes:
    blobs = SMALL_BLOBS if blobs is None else blobs
    types = {"conv1": "Convolution", "bn1": "BatchNorm", "scale1": "Scale", "ip1": "InnerProduct"}
    return caffemodel_bytes("Small", [layer(n, types[n], blobs=[blob(s) for s in shapes])
                                      for n, shapes in blobs.items()])


SERVICE_CAFFE = '''\
import caffe
import numpy as np
from model_service.caffe_model_service import CaffeBaseService


class SmallService(CaffeBaseService):
    def __init__(self, model_name, model_path):
        super(SmallService, self).__init__(model_name, model_path)
        self.net.blobs['data'].reshape(1, 1, 8, 8)

    def _preprocess(self, data):
        return data

    def _postprocess(self, data):
        return {"predicted": str(np.argmax(data['prob'][0, :]))}
'''
