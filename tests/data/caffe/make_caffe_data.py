"""Write the Caffe test files under tests/data/caffe/ with protobuf and Caffe 1.0's own caffe.proto.

No Caffe build installs here (Debian bookworm's archive on this machine has no caffe-cpu), so the
files are made the way Caffe itself makes them: Caffe serialises a ``caffe.NetParameter`` with
protobuf (``Net::ToProto`` + ``WriteProtoToBinaryFile``). This script compiles ``caffe.proto`` of
BVLC/caffe tag 1.0 (copied beside it as ``caffe.proto``) with grpcio-tools' protoc and fills the
messages with protobuf's own classes:

    python -m venv venv && venv/bin/pip install protobuf==5.29.3 grpcio-tools==1.68.1
    venv/bin/python tests/data/caffe/make_caffe_data.py tests/data/caffe

Files:

- ``lenet_deploy.prototxt``: the deploy network of the platform's Caffe example
  (examples_of_custom_scripts/caffe.rst), byte for byte;
- ``lenet.caffemodel``: weights for it (plus the training-only ``loss`` layer Caffe would also save)
  with blob shapes as Caffe 1.0 writes them and deterministic values;
- ``lenet_v1.caffemodel``: the first four layers' weights in the V1 ``layers`` format (enum
  types, legacy num/channels/height/width blob shapes);
- ``lenet_deploy.txt``: protobuf's own text rendering (text_format) of the parsed deploy network,
  used to test the text-format reader against protobuf's parser.
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def compile_proto(tmp):
    from grpc_tools import protoc

    code = protoc.main(["protoc", f"-I{HERE}", f"--python_out={tmp}", os.path.join(HERE, "caffe.proto")])
    if code != 0:
        raise SystemExit("protoc failed")
    sys.path.insert(0, tmp)
    import caffe_pb2

    return caffe_pb2


def counting(n):
    return [float(i % 7) for i in range(n)]


def blob(pb, shape):
    b = pb.BlobProto()
    b.shape.dim.extend(shape)
    n = 1
    for d in shape:
        n *= d
    b.data.extend(counting(n))
    return b


def legacy_blob(pb, shape):
    b = pb.BlobProto()
    shape = (1,) * (4 - len(shape)) + tuple(shape)
    b.num, b.channels, b.height, b.width = shape
    n = 1
    for d in shape:
        n *= d
    b.data.extend(counting(n))
    return b


LENET = [  # name, type, bottom, top, blob shapes
    ("conv1", "Convolution", ["data"], ["conv1"], [(20, 1, 5, 5), (20,)]),
    ("pool1", "Pooling", ["conv1"], ["pool1"], []),
    ("conv2", "Convolution", ["pool1"], ["conv2"], [(50, 20, 5, 5), (50,)]),
    ("pool2", "Pooling", ["conv2"], ["pool2"], []),
    ("ip1", "InnerProduct", ["pool2"], ["ip1"], [(500, 800), (500,)]),
    ("relu1", "ReLU", ["ip1"], ["ip1"], []),
    ("ip2", "InnerProduct", ["ip1"], ["ip2"], [(10, 500), (10,)]),
    ("loss", "SoftmaxWithLoss", ["ip2", "label"], ["loss"], []),
]
V1 = {"Convolution": "CONVOLUTION", "Pooling": "POOLING", "InnerProduct": "INNER_PRODUCT", "ReLU": "RELU",
      "SoftmaxWithLoss": "SOFTMAX_LOSS"}


def main(out):
    from google.protobuf import text_format

    with tempfile.TemporaryDirectory() as tmp:
        pb = compile_proto(tmp)
        net = pb.NetParameter(name="LeNet")
        for name, ltype, bottom, top, shapes in LENET:
            layer = net.layer.add(name=name, type=ltype, bottom=bottom, top=top)
            layer.blobs.extend(blob(pb, s) for s in shapes)
        with open(os.path.join(out, "lenet.caffemodel"), "wb") as f:
            f.write(net.SerializeToString())
        old = pb.NetParameter(name="LeNet")
        for name, ltype, bottom, top, shapes in LENET[:4]:  # the convolutions: a small file
            layer = old.layers.add(name=name, bottom=bottom, top=top)
            layer.type = pb.V1LayerParameter.LayerType.Value(V1[ltype])
            layer.blobs.extend(legacy_blob(pb, s) for s in shapes)
        with open(os.path.join(out, "lenet_v1.caffemodel"), "wb") as f:
            f.write(old.SerializeToString())
        deploy = pb.NetParameter()
        with open(os.path.join(out, "lenet_deploy.prototxt")) as f:
            text_format.Parse(f.read(), deploy)
        with open(os.path.join(out, "lenet_deploy.txt"), "w") as f:
            f.write(text_format.MessageToString(deploy))


if __name__ == "__main__":
    main(sys.argv[1])
