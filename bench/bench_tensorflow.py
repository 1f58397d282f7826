"""Speed of the TensorFlow readers: ``saved_model.pb`` parse rate, and validate cost against the
size of the variables bundle.

    python bench/bench_tensorflow.py [--nodes 20000,200000] [--repeat 5] [--workdir DIR]

1. Parse rate: a ``saved_model.pb`` grown from the real TensorFlow 1.8 SavedModel in
   ``tests/data/tensorflow/tf18_savedmodel`` by repeating its dense block (MatMul, Add, Softmax,
   variables with their Assign/read/Identity nodes, attributes and ``_output_shapes`` as TF 1.8
   wrote them) under new names until it has ``--nodes`` nodes; one case without constants (a
   variables-backed graph: every byte is node metadata, the worst case for a protobuf reader) and
   one where 40% of the bytes are ``Const`` tensor contents (as in graphs with baked-in tables).
   Reported: MB/s of ``read_saved_model`` alone and of the whole ``check_saved_model`` (every TF 1.8
   check), best of ``--repeat``.
2. Bundle size: the same SavedModel with a ``variables.index`` whose two entries claim 1 MiB and
   1 GiB, and data shards of exactly that size (sparse files: no disk is written). ``validate``
   (no hashing) of each package, best of ``--repeat``, in this process.

It prints figures; it never asserts.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from modeltemplates.engines import protowire as pw  # noqa: E402
from modeltemplates.engines.tensorflow import savedmodel as sm  # noqa: E402
from modeltemplates.engines.tensorflow.checks import check_saved_model  # noqa: E402
from tests.builders_proto import ln, msg  # noqa: E402
from tests.builders_tf import bundle_index  # noqa: E402

REAL = REPO / "tests/data/tensorflow/tf18_savedmodel/model"
MiB, GiB = 1 << 20, 1 << 30


def _fields(data: bytes, start: int = 0, end: int | None = None) -> list[pw.Field]:
    return list(pw.iter_fields(data, start, end))


def grow(data: bytes, nodes: int, const_share: float, scope: str = "") -> bytes:
    """A SavedModel whose graph repeats the real one's nodes, renamed (inputs too), until it has ``nodes``.

    ``scope`` puts each copy under a name scope (``{i}`` is the copy number), as real networks name
    their nodes (``resnet_v1_50/block3/unit_4/bottleneck_v1/conv2/...``)."""
    (_, _, _, ms, me), = [f for f in _fields(data) if f[0] == 2]
    meta = _fields(data, ms, me)
    graph = next(f for f in meta if f[0] == 2)
    gfields = _fields(data, graph[3], graph[4])
    bodies = [data[s:e] for n, _, _, s, e in gfields if n == 1]
    rest = b"".join(_raw(data, f) for f in gfields if f[0] != 1)
    out: list[bytes] = []
    copy = 0
    while len(out) < nodes:
        suffix = f"_{copy}".encode()
        prefix = scope.format(i=copy).encode()
        for body in bodies:
            parts = []
            for f in _fields(body):
                n, wt, _, s, e = f
                if n == 1 and wt == pw.LEN:
                    parts.append(ln(1, prefix + body[s:e] + suffix))
                elif n == 3 and wt == pw.LEN:
                    name, colon, index = body[s:e].partition(b":")
                    hat = b"^" if name.startswith(b"^") else b""
                    parts.append(ln(3, hat + prefix + name.lstrip(b"^") + suffix + colon + index))
                else:
                    parts.append(_raw(body, f))
            out.append(ln(1, b"".join(parts)))
        copy += 1
    graph_bytes = b"".join(out[:nodes]) + rest
    if const_share:
        blob = b"\0" * int(len(graph_bytes) * const_share / (1 - const_share))
        tensor = msg(b"\x08\x01", ln(4, blob))
        const = msg(ln(1, "big_table"), ln(2, "Const"), ln(5, msg(ln(1, "value"), ln(2, ln(8, tensor)))),
                    ln(5, msg(ln(1, "dtype"), ln(2, b"\x30\x01"))))
        graph_bytes = ln(1, const) + graph_bytes
    new_meta = b"".join(ln(2, graph_bytes) if f[0] == 2 else _raw(data, f) for f in meta)
    return msg(b"\x08\x01", ln(2, new_meta))


def _raw(body: bytes, f: pw.Field) -> bytes:
    n, wt, v, s, e = f
    if wt == pw.LEN:
        return _tag(n, wt) + _varint(v) + body[s:e]
    return _tag(n, wt) + body[s:e]


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _tag(n: int, wt: int) -> bytes:
    return _varint(n << 3 | wt)


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Best CPU time (``process_time``) of ``repeat`` calls: on a shared machine wall time mostly
    measures the neighbours; CPU time is what the reader costs. ``--wall`` reports wall time."""
    clock = CLOCK[0]
    times = []
    for _ in range(repeat):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times)


CLOCK = [time.process_time]


SCOPES = {"short": "", "scoped": "resnet_v1_50/block3/unit_{i}/bottleneck_v1/"}


def parse_rate(nodes: list[int], repeat: int) -> None:
    real = (REAL / "saved_model.pb").read_bytes()
    print(f"saved_model.pb parse rate (best of {repeat})")
    print(f"{'nodes':>8} {'names':>7} {'consts':>7} {'size MB':>8} {'parse s':>8} {'parse MB/s':>10} "
          f"{'check s':>8} {'check MB/s':>10}")
    for n in nodes:
        for scope_name, scope in SCOPES.items():
            for share in (0.0, 0.4):
                data = grow(real, n, share, scope)
                model = sm.read_saved_model(data)
                count = len(model.meta_graphs[0].nodes)
                t_parse = best(lambda: sm.read_saved_model(data), repeat)  # noqa: B023
                t_check = best(lambda: check_saved_model("saved_model.pb", io.BytesIO(data), len(data)),  # noqa: B023
                               repeat)
                mb = len(data) / 1e6
                print(f"{count:>8} {scope_name:>7} {share:>7.0%} {mb:>8.1f} {t_parse:>8.3f} {mb / t_parse:>10.1f} "
                      f"{t_check:>8.3f} {mb / t_check:>10.1f}")


def bundle_cost(workdir: Path, repeat: int) -> None:
    import modeltemplates

    template = modeltemplates.get_template("tensorflow-py36")
    print(f"\nvalidate (no hashing) against the variables' size (best of {repeat}; the first call in parentheses)")
    print(f"{'bundle':>8} {'files MB':>9} {'validate s':>11} {'first s':>8}  verdict")
    for label, total in (("1 MiB", MiB), ("1 GiB", GiB)):
        model = workdir / label.replace(" ", "") / "model"
        shutil.copytree(REAL, model)
        bias = 12
        kernel = total - bias
        (model / "variables/variables.index").write_bytes(
            bundle_index({"dense/bias": (1, (3,), 0, bias), "dense/kernel": (1, (4, 3), bias, kernel)}))
        with open(model / "variables/variables.data-00000-of-00001", "wb") as f:
            f.truncate(total)  # sparse: the size is real, no block is written
        t0 = time.perf_counter()
        report = template.validate(model)
        first = time.perf_counter() - t0
        t = best(lambda: template.validate(model), repeat)  # noqa: B023
        size = sum(p.stat().st_size for p in model.rglob("*") if p.is_file()) / 1e6
        verdict = "ok" if report.ok else ", ".join(sorted({f.rule for f in report.errors}))
        print(f"{label:>8} {size:>9.1f} {t:>11.4f} {first:>8.4f}  {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", default="20000,200000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--wall", action="store_true", help="report wall time instead of CPU time")
    args = ap.parse_args()
    if args.wall:
        CLOCK[0] = time.perf_counter
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"{'wall' if args.wall else 'CPU'} time")
    parse_rate([int(x) for x in args.nodes.split(",") if x], args.repeat)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-tf-"))
    try:
        bundle_cost(workdir, args.repeat)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
