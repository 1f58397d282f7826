"""Write the real MXNet 1.2.1 files under tests/data/mxnet/ (run with CPython 3.6 and mxnet==1.2.1).

    python3.6 -m venv venv36 && venv36/bin/pip install --no-deps mxnet==1.2.1 numpy==1.14.6
    venv36/bin/python tests/data/mxnet/make_mxnet_data.py tests/data/mxnet

Deterministic: weights are counting numbers, not random. Files:

- ``convnet-symbol.json`` / ``convnet-0000.params``: Convolution, BatchNorm (auxiliary states),
  Activation, Pooling, Flatten, FullyConnected, SoftmaxOutput, saved by ``mx.model.save_checkpoint``;
- ``arrays.params``: ``mx.nd.save`` of arrays of every dtype 1.2.1 has and a
  row_sparse and a csr array (the byte-by-byte writer in tests/builders_mxnet.py is checked against
  it);
- ``gluon.params``: ``HybridBlock.save_parameters`` (names without arg:/aux: prefixes).
"""

import os
import sys

import mxnet as mx
import numpy as np


def counting(shape, dtype="float32"):
    n = int(np.prod(shape))
    return mx.nd.array((np.arange(n) % 7).reshape(shape), dtype=dtype)


def main(out):
    data = mx.sym.var("data")
    conv = mx.sym.Convolution(data, num_filter=4, kernel=(3, 3), name="conv1")
    bn = mx.sym.BatchNorm(conv, name="bn1")
    act = mx.sym.Activation(bn, act_type="relu", name="relu1")
    pool = mx.sym.Pooling(act, kernel=(2, 2), stride=(2, 2), pool_type="max", name="pool1")
    flat = mx.sym.Flatten(pool, name="flat")
    fc = mx.sym.FullyConnected(flat, num_hidden=3, name="fc1")
    net = mx.sym.SoftmaxOutput(fc, name="softmax")
    arg_shapes, _, aux_shapes = net.infer_shape(data=(1, 1, 8, 8))
    args = {n: counting(s) for n, s in zip(net.list_arguments(), arg_shapes)
            if n not in ("data", "softmax_label")}
    aux = {n: counting(s) for n, s in zip(net.list_auxiliary_states(), aux_shapes)}
    mx.model.save_checkpoint(os.path.join(out, "convnet"), 0, net, args, aux)

    arrays = {
        "f32": counting((2, 3)), "f64": counting((2,), "float64"), "f16": counting((3,), "float16"),
        "u8": counting((4,), "uint8"), "i32": counting((1, 2), "int32"), "i8": counting((2,), "int8"),
        "i64": counting((2, 1), "int64"),
        "rsp": counting((4, 2)).tostype("row_sparse"), "csr": counting((2, 3)).tostype("csr"),
    }
    mx.nd.save(os.path.join(out, "arrays.params"), arrays)

    block = mx.gluon.nn.Dense(2, in_units=3)
    block.initialize(mx.init.One())
    block.save_parameters(os.path.join(out, "gluon.params"))


if __name__ == "__main__":
    main(sys.argv[1])
