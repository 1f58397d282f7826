"""MXNet and Caffe templates: validate cost against weight size, and what detect costs next to validate.

    python bench/bench_engines.py [--sizes 1M,1G,4G] [--repeat 5] [--workdir DIR]

Builds, for each size, an MXNet package (``net-symbol.json`` + ``net-0000.params``) and a Caffe
package (``deploy.prototxt`` + ``net.caffemodel``) whose weights total that many bytes. The weight
bytes are holes of a sparse file (the headers, shapes and names are real, written by the test
suite's format writers' rules), so a 4 GiB file costs no disk, and any reader that touched the data
would show it in time. Then, in a fresh subprocess per measurement, it times ``validate`` with the
engine's template and ``detect`` on the same package (warm page cache, best of ``--repeat``), plus
the PyTorch example package shipped in ``examples/``. It prints figures; it never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MiB, GiB = 1 << 20, 1 << 30

SERVICE_MXNET = textwrap.dedent('''\
    import mxnet as mx
    from mms.model_service.mxnet_model_service import MXNetBaseService


    class Service(MXNetBaseService):
        def _preprocess(self, data):
            return data
    ''')
SERVICE_CAFFE = textwrap.dedent('''\
    from model_service.caffe_model_service import CaffeBaseService


    class Service(CaffeBaseService):
        def __init__(self, model_name, model_path):
            super(Service, self).__init__(model_name, model_path)
    ''')


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": MiB, "G": GiB}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)


def _layers(total: int) -> list[tuple[str, int, int]]:
    """Fully connected layers (name, rows, cols) of float32 weights adding up to about ``total`` bytes."""
    count = 64
    cols = 1024
    rows = max(1, total // (4 * cols * count))
    return [(f"fc{i}", rows, cols) for i in range(count)]


def build_mxnet(folder: Path, total: int) -> None:
    folder.mkdir(parents=True)
    layers = _layers(total)
    nodes: list[dict[str, object]] = [{"op": "null", "name": "data", "inputs": []}]
    prev = 0
    for name, rows, _ in layers:
        nodes.append({"op": "null", "name": f"{name}_weight", "inputs": []})
        nodes.append({"op": "null", "name": f"{name}_bias", "inputs": []})
        nodes.append({"op": "FullyConnected", "name": name, "attrs": {"num_hidden": str(rows)},
                      "inputs": [[prev, 0, 0], [len(nodes) - 2, 0, 0], [len(nodes) - 1, 0, 0]]})
        prev = len(nodes) - 1
    doc = {"nodes": nodes, "arg_nodes": [i for i, n in enumerate(nodes) if n["op"] == "null"],
           "heads": [[prev, 0, 0]], "attrs": {"mxnet_version": ["int", 10201]}}
    (folder / "net-symbol.json").write_text(json.dumps(doc))
    names: list[str] = []
    with open(folder / "net-0000.params", "wb") as f:
        f.write(struct.pack("<QQQ", 0x112, 0, 2 * len(layers)))
        for name, rows, cols in layers:
            for suffix, shape in (("weight", (rows, cols)), ("bias", (rows,))):
                f.write(struct.pack("<IiI", 0xF993FAC9, 0, len(shape)) + struct.pack(f"<{len(shape)}q", *shape))
                f.write(struct.pack("<iii", 1, 0, 0))
                n = 4
                for d in shape:
                    n *= d
                f.seek(n, os.SEEK_CUR)  # a hole: the weights' bytes
                names.append(f"arg:{name}_{suffix}")
        f.write(struct.pack("<Q", len(names)))
        for n in names:
            f.write(struct.pack("<Q", len(n)) + n.encode())
    (folder / "customize_service.py").write_text(SERVICE_MXNET)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _ld(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def build_caffe(folder: Path, total: int) -> None:
    folder.mkdir(parents=True)
    layers = _layers(total)
    text = ['name: "Bench"', 'layer { name: "data" type: "Input" top: "data" '
            'input_param { shape: { dim: 1 dim: 1024 } } }']
    bottom = "data"
    for name, rows, _ in layers:
        text.append(f'layer {{ name: "{name}" type: "InnerProduct" bottom: "{bottom}" top: "{name}" '
                    f"inner_product_param {{ num_output: {rows} }} }}")
        bottom = name
    (folder / "deploy.prototxt").write_text("\n".join(text) + "\n")
    with open(folder / "net.caffemodel", "wb") as f:
        f.write(_ld(1, b"Bench"))
        for name, rows, cols in layers:
            blobs = []
            for shape in ((rows, cols), (rows,)):
                n = 1
                for d in shape:
                    n *= d
                blobs.append((shape, 4 * n))
            head = _ld(1, name.encode()) + _ld(2, b"InnerProduct") + _ld(3, bottom.encode()) + _ld(4, name.encode())
            blob_msgs = []
            for shape, nbytes in blobs:
                shape_msg = _ld(7, _ld(1, b"".join(_varint(d) for d in shape)))
                data_key = _varint(5 << 3 | 2) + _varint(nbytes)
                blob_msgs.append((data_key, nbytes, shape_msg))
            body_len = len(head) + sum(
                len(_varint(7 << 3 | 2)) + len(_varint(len(k) + nb + len(s))) + len(k) + nb + len(s)
                for k, nb, s in blob_msgs)
            f.write(_varint(100 << 3 | 2) + _varint(body_len) + head)
            for key, nbytes, shape_msg in blob_msgs:
                f.write(_varint(7 << 3 | 2) + _varint(len(key) + nbytes + len(shape_msg)) + key)
                f.seek(nbytes, os.SEEK_CUR)  # a hole: the packed floats
                f.write(shape_msg)
    (folder / "customize_service.py").write_text(SERVICE_CAFFE)


CHILD = textwrap.dedent('''\
    import json, resource, sys, time
    t0 = time.perf_counter()
    import modeltemplates
    kind, path, template, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        if kind == "validate":
            report = modeltemplates.get_template(template).validate(path)
            what = "ok" if report.ok else ",".join(sorted({f.rule for f in report.errors}))
        else:
            found = modeltemplates.detect(path)
            what = found.best.template
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"best": best, "what": what, "rss_kib": rss}))
    ''')


def measure(kind: str, path: Path, template: str, repeat: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(path), template, str(repeat)], check=True,
                         capture_output=True, text=True, cwd=REPO, env={**os.environ, "MODELTEMPLATES_CACHE": "off"})
    result: dict[str, object] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1M,1G,4G")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-engines-"))
    print(f"{'case':<28} {'validate s':>11} {'detect s':>9} {'RSS MiB':>8}  verdict / detected")
    cases: list[tuple[str, Path, str]] = [("pytorch example", REPO / "examples" / "pytorch-py27" / "model",
                                           "pytorch-py27")]
    for text in [s for s in args.sizes.split(",") if s]:
        total = _size(text)
        mx = work / f"mxnet-{text}" / "model"
        cf = work / f"caffe-{text}" / "model"
        if not mx.exists():
            build_mxnet(mx, total)
        if not cf.exists():
            build_caffe(cf, total)
        cases += [(f"mxnet {text} params", mx, "mxnet-py27"), (f"caffe {text} caffemodel", cf, "caffe-cpu-py27")]
    for label, path, template in cases:
        v = measure("validate", path, template, args.repeat)
        d = measure("detect", path, template, args.repeat)
        rss = max(int(str(v["rss_kib"])), int(str(d["rss_kib"]))) / 1024
        print(f"{label:<28} {float(str(v['best'])):>11.4f} {float(str(d['best'])):>9.4f} {rss:>8.1f}  "
              f"{v['what']} / {d['what']}")


if __name__ == "__main__":
    main()
