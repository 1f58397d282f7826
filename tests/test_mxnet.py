"""MXNet templates: static readers of symbol/params files, the 1.2.1 facts, and whole packages.

Real files: tests/data/mxnet holds files written by MXNet 1.2.1 itself (make_mxnet_data.py says
how); the byte-by-byte writer of tests/builders_mxnet.py is checked against them, then builds the
broken and hostile cases. Set MODELTEMPLATES_MXNET121_PYTHON to a Python that has mxnet==1.2.1 to
also compare the operator table with the real library's registry (skipped otherwise).
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

from modeltemplates import get_template
from modeltemplates.engines.mxnet import facts
from modeltemplates.engines.mxnet.params import ParamsError, read_params
from modeltemplates.engines.mxnet.symbol import SymbolError, read_symbol
from tests.builders import PackageBuilder
from tests.builders_mxnet import (
    SERVICE_MXNET,
    SymbolBuilder,
    array_bytes,
    checkpoint_params,
    mlp,
    params_bytes,
)
from tests.conftest import DATA

MX = DATA / "mxnet"


def _params(data: bytes):  # type: ignore[no-untyped-def]
    return read_params(io.BytesIO(data), len(data))


def _rules(report) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted({f.rule for f in report.findings if f.severity.value == "error"})


# --- facts --------------------------------------------------------------------------------------


def test_operator_table_is_mxnet_121() -> None:
    assert len(facts.OPERATORS) == 610
    for op in ("Convolution", "BatchNorm", "FullyConnected", "SoftmaxOutput", "_contrib_box_nms", "flatten",
               "_backward_Convolution_v1"):
        assert op in facts.OPERATORS
    for later in ("_contrib_ROIAlign", "GroupNorm", "_npi_add", "softmin", "_contrib_SyncBatchNorm"):
        assert later not in facts.OPERATORS
    assert facts.AUX_INPUTS["BatchNorm"] == (3, 4)
    assert facts.MXNET_VERSION == 10201


@pytest.mark.skipif(not os.environ.get("MODELTEMPLATES_MXNET121_PYTHON"),
                    reason="set MODELTEMPLATES_MXNET121_PYTHON to a Python with mxnet==1.2.1 to compare")
def test_operator_table_matches_the_real_registry() -> None:
    code = (
        "import ctypes, mxnet\nfrom mxnet.base import _LIB, py_str\n"
        "p = ctypes.POINTER(ctypes.c_char_p)(); n = ctypes.c_uint()\n"
        "_LIB.MXListAllOpNames(ctypes.byref(n), ctypes.byref(p))\n"
        "print(mxnet.__version__); print('\\n'.join(sorted(py_str(p[i]) for i in range(n.value))))\n"
    )
    out = subprocess.run([os.environ["MODELTEMPLATES_MXNET121_PYTHON"], "-c", code], capture_output=True,
                         text=True, check=True, timeout=120).stdout.split()
    assert out[0] == "1.2.1"
    assert set(out[1:]) == facts.OPERATORS


# --- params reader ------------------------------------------------------------------------------


def test_real_checkpoint_params_are_read_and_rebuilt_byte_for_byte() -> None:
    real = (MX / "convnet-0000.params").read_bytes()
    got = _params(real)
    assert [(a.name, a.shape, a.dtype) for a in got.arrays][:2] == [
        ("arg:conv1_weight", (4, 1, 3, 3), "float32"), ("arg:conv1_bias", (4,), "float32")]
    assert got.trailing_bytes == 0
    rebuilt = checkpoint_params(
        {a.bare_name: a.shape for a in got.arrays if a.prefix == "arg"},
        {a.bare_name: a.shape for a in got.arrays if a.prefix == "aux"},
    )
    assert rebuilt == real


def test_real_arrays_of_every_dtype_and_sparse_storage() -> None:
    real = (MX / "arrays.params").read_bytes()
    got = {a.name: a for a in _params(real).arrays}
    assert {n: a.dtype for n, a in got.items() if a.storage == "default"} == {
        "f32": "float32", "f64": "float64", "f16": "float16", "u8": "uint8", "i32": "int32", "i8": "int8",
        "i64": "int64"}
    assert got["rsp"].storage == "row_sparse" and got["csr"].storage == "csr"
    # the dense arrays, rebuilt from the format, are the real bytes
    for name in ("f32", "f64", "f16", "u8", "i32", "i8", "i64"):
        a = got[name]
        start = a.data_offset - (4 + 4 + 4 + 8 * len(a.shape) + 12)
        assert real[start:a.data_offset + a.nbytes] == array_bytes(a.shape, a.dtype)


def test_params_reader_seeks_over_data() -> None:
    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n: int | None = -1) -> bytes:
            data = super().read(n)
            Counting.read_bytes += len(data)
            return data

    big = params_bytes([("arg:w", array_bytes((1024, 1024)))])
    f = Counting(big)
    got = read_params(f, len(big))
    assert got.arrays[0].nbytes == 4 << 20
    assert Counting.read_bytes < 200


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "unrecognised"),
        (b"\x00" * 8, "unrecognised"),
        (bytes(range(64)), "unrecognised"),
        (struct.pack("<QQQ", 0x112, 0, 1 << 40), "limit"),
        (params_bytes([("arg:w", array_bytes((4, 4)))])[:-30], "truncated"),
        (params_bytes([("arg:w", array_bytes((2,), flag=12, values=[0, 0]))]), "dtype"),
        (struct.pack("<QQQ", 0x112, 0, 1) + struct.pack("<I", 0xDEADBEEF) + b"\0" * 16, "malformed"),
    ],
    ids=["empty", "zeros", "random", "huge-count", "truncated", "bfloat16", "wrong-magic"],
)
def test_bad_params_files_are_errors_not_tracebacks(data: bytes, kind: str) -> None:
    with pytest.raises(ParamsError) as err:
        _params(data)
    assert err.value.kind == kind


def test_v3_magic_is_marked_unreadable() -> None:
    got = _params(params_bytes([("arg:w", array_bytes((2,), magic=0xF993FACA))]))
    assert got.unreadable and "1.6" in got.unreadable[0][1]


# --- symbol reader ------------------------------------------------------------------------------


def test_real_symbol() -> None:
    sym = read_symbol((MX / "convnet-symbol.json").read_bytes())
    assert sym.mxnet_version == 10201
    assert set(sym.op_names) == {"Convolution", "BatchNorm", "Activation", "Pooling", "Flatten", "FullyConnected",
                                 "SoftmaxOutput"}
    roles = {v.name: v.role for v in sym.variables}
    assert roles["conv1_weight"] == "arg" and roles["bn1_moving_var"] == "aux"
    assert roles["data"] == "input" and roles["softmax_label"] == "input"
    conv = next(v for v in sym.variables if v.name == "conv1_weight")
    assert conv.expected_shape == (4, -1, 3, 3)


@pytest.mark.parametrize(
    ("text", "kind", "line"),
    [
        (b"", "unrecognised", None),
        (b'{"nodes": [\n  {"op": "null", "name": "x", "inputs": []},\n  oops\n]}', "json", 3),
        (b"[1, 2]", "unrecognised", None),
        (b"[" * 5000 + b"]" * 5000, "limit", 1),
        (b'{"nodes": [{"op": "relu", "name": "a", "inputs": [[1, 0, 0]]}, {"op": "relu", "name": "b", '
         b'"inputs": [[0, 0, 0]]}], "heads": [[1, 0, 0]]}', "malformed", 1),
        (b'{"nodes": [{"op": 3, "name": "a"}]}', "malformed", 1),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "json", 3),
    ],
    ids=["empty", "syntax", "not-a-graph", "deep", "cycle", "bad-node", "binary"],
)
def test_bad_symbols_are_errors_with_positions(text: bytes, kind: str, line: int | None) -> None:
    with pytest.raises(SymbolError) as err:
        read_symbol(text)
    assert err.value.kind == kind
    assert err.value.line == line


# --- packages -----------------------------------------------------------------------------------


def _mxnet_package(pkg: PackageBuilder, *, symbol: str | None = None, params: bytes | None = None,
                   service: str = SERVICE_MXNET) -> PackageBuilder:
    sym, args, aux = mlp()
    pkg.write("mlp-symbol.json", symbol if symbol is not None else sym)
    pkg.write("mlp-0000.params", params if params is not None else checkpoint_params(args, aux))
    pkg.write("customize_service.py", service)
    return pkg


@pytest.mark.parametrize("template", ["mxnet-py27", "mxnet-py37"])
def test_correct_package_passes(pkg: PackageBuilder, template: str) -> None:
    _mxnet_package(pkg)
    report = get_template(template).validate(pkg.root)
    assert report.ok, [f.message for f in report.findings]
    assert report.facts["model_files"]["mlp-symbol.json"]["format"] == "mxnet-symbol"


def test_real_package_passes(pkg: PackageBuilder) -> None:
    pkg.write("convnet-symbol.json", (MX / "convnet-symbol.json").read_bytes())
    pkg.write("convnet-0000.params", (MX / "convnet-0000.params").read_bytes())
    assert get_template("mxnet-py37").validate(pkg.root).ok


def test_operator_121_lacks(pkg: PackageBuilder) -> None:
    sym, _, _ = mlp()
    _mxnet_package(pkg, symbol=sym.replace('"Activation"', '"GroupNorm"'))
    report = get_template("mxnet-py37").validate(pkg.root)
    assert _rules(report) == ["MXN010"]
    (f,) = [f for f in report.findings if f.rule == "MXN010"]
    assert "'GroupNorm'" in f.message and "'relu1'" in f.message and f.line is not None


def test_attribute_121_lacks(pkg: PackageBuilder) -> None:
    doc = json.loads((MX / "convnet-symbol.json").read_text())
    for node in doc["nodes"]:
        if node["op"] == "Pooling":  # count_include_pad: an argument of later releases
            node["attrs"]["count_include_pad"] = "True"
            node["attrs"]["__profiler_scope__"] = "x"  # user attributes are never parsed
    pkg.write("convnet-symbol.json", json.dumps(doc))
    pkg.write("convnet-0000.params", (MX / "convnet-0000.params").read_bytes())
    report = get_template("mxnet-py27").validate(pkg.root)
    (f,) = report.errors
    assert f.rule == "MXN021" and "'count_include_pad'" in f.message and "'pool1'" in f.message


def test_attribute_table() -> None:
    assert {"kernel", "num_filter", "no_bias", "layout"} <= facts.ATTRIBUTES["Convolution"]
    assert "count_include_pad" not in facts.ATTRIBUTES["Pooling"]
    assert len(facts.ATTRIBUTES) > 140


@pytest.mark.skipif(not os.environ.get("MODELTEMPLATES_MXNET121_PYTHON"),
                    reason="set MODELTEMPLATES_MXNET121_PYTHON to a Python with mxnet==1.2.1 to compare")
def test_attribute_table_matches_the_real_registry() -> None:
    code = (
        "import ctypes, json\nfrom mxnet.base import _LIB, py_str\n"
        "p = ctypes.POINTER(ctypes.c_void_p)(); n = ctypes.c_uint(); out = {}\n"
        "_LIB.MXSymbolListAtomicSymbolCreators(ctypes.byref(n), ctypes.byref(p))\n"
        "for i in range(n.value):\n"
        "    a = [ctypes.c_char_p() for _ in range(2)]; k = ctypes.c_uint()\n"
        "    names = ctypes.POINTER(ctypes.c_char_p)(); types = ctypes.POINTER(ctypes.c_char_p)()\n"
        "    descs = ctypes.POINTER(ctypes.c_char_p)(); kv = ctypes.c_char_p(); rt = ctypes.c_char_p()\n"
        "    _LIB.MXSymbolGetAtomicSymbolInfo(ctypes.c_void_p(p[i]), ctypes.byref(a[0]), ctypes.byref(a[1]),\n"
        "        ctypes.byref(k), ctypes.byref(names), ctypes.byref(types), ctypes.byref(descs),\n"
        "        ctypes.byref(kv), ctypes.byref(rt))\n"
        "    out[py_str(a[0].value)] = sorted(py_str(names[j]) for j in range(k.value)\n"
        "        if not py_str(types[j]).startswith(('NDArray', 'Symbol')))\n"
        "print(json.dumps(out))\n"
    )
    real = json.loads(subprocess.run([os.environ["MODELTEMPLATES_MXNET121_PYTHON"], "-c", code],
                                     capture_output=True, text=True, check=True, timeout=120).stdout)
    checked = 0
    for op, fields in facts.ATTRIBUTES.items():
        if op in real:
            checked += 1
            # the derived table may be wider (a struct shared by several optimizers), never narrower
            assert set(real[op]) <= fields, op
    assert checked > 140


def test_newer_symbol_is_a_warning(pkg: PackageBuilder) -> None:
    sym, _, _ = mlp(version=10900)
    _mxnet_package(pkg, symbol=sym)
    report = get_template("mxnet-py27").validate(pkg.root)
    assert report.ok and any(f.rule == "MXN011" and "1.9.0" in f.message for f in report.findings)


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda a, x: (a | {"fc1_weight": (5, 3)}, x), "MXN016"),
        (lambda a, x: ({k: v for k, v in a.items() if k != "fc1_bias"}, x), "MXN014"),
        (lambda a, x: (a, {k: v for k, v in x.items() if k != "bn1_moving_var"}), "MXN014"),
        (lambda a, x: (a | {"bn1_gamma": (7,)}, x), "MXN016"),
        (lambda a, x: (a | x, {}), "MXN018"),
    ],
)
def test_mismatched_weights(pkg: PackageBuilder, mutate, rule: str) -> None:  # type: ignore[no-untyped-def]
    _, args, aux = mlp()
    args, aux = mutate(dict(args), dict(aux))
    _mxnet_package(pkg, params=checkpoint_params(args, aux))
    report = get_template("mxnet-py37").validate(pkg.root)
    assert rule in _rules(report), [f.message for f in report.findings]


def test_stray_parameter_is_a_warning(pkg: PackageBuilder) -> None:
    _, args, aux = mlp()
    _mxnet_package(pkg, params=checkpoint_params(args | {"fc9_weight": (1,)}, aux))
    report = get_template("mxnet-py37").validate(pkg.root)
    assert report.ok and [f.rule for f in report.findings] == ["MXN015"]


def test_gluon_parameters_are_not_a_checkpoint(pkg: PackageBuilder) -> None:
    _mxnet_package(pkg, params=(MX / "gluon.params").read_bytes())
    assert "MXN017" in _rules(get_template("mxnet-py37").validate(pkg.root))


def test_later_dtype_and_format(pkg: PackageBuilder) -> None:
    _mxnet_package(pkg, params=params_bytes([("arg:fc1_weight", array_bytes((4, 3), magic=0xF993FACA))]))
    assert "MXN012" in _rules(get_template("mxnet-py37").validate(pkg.root))


def test_names_that_do_not_pair(pkg: PackageBuilder) -> None:
    sym, args, aux = mlp()
    pkg.write("mlp-symbol.json", sym)
    pkg.write("net-0000.params", checkpoint_params(args, aux))
    report = get_template("mxnet-py37").validate(pkg.root)
    assert "MXN013" in _rules(report)


def test_missing_part_is_a_layout_error(pkg: PackageBuilder) -> None:
    sym, _, _ = mlp()
    pkg.write("mlp-symbol.json", sym)
    report = get_template("mxnet-py37").validate(pkg.root)
    assert any(f.rule == "LAY002" and ".params" in f.message for f in report.findings)


def test_epoch_the_code_loads(pkg: PackageBuilder) -> None:
    _mxnet_package(pkg, service=SERVICE_MXNET.replace('"/mlp", 0)', '"/mlp", 12)'))
    report = get_template("mxnet-py27").validate(pkg.root)
    (f,) = [f for f in report.findings if f.rule == "MXN019"]
    assert "epoch 12" in f.message and f.line == 8


@pytest.mark.parametrize(
    ("template", "code"),
    [("mxnet-py27", "x = f'{1}'\n"), ("mxnet-py37", "print 'hello'\n")],
)
def test_wrong_python_code(pkg: PackageBuilder, template: str, code: str) -> None:
    _mxnet_package(pkg, service=SERVICE_MXNET + code)
    assert "SRC001" in _rules(get_template(template).validate(pkg.root))


def test_bad_files_in_a_package_are_findings(pkg: PackageBuilder) -> None:
    pkg.write("mlp-symbol.json", "{not json")
    pkg.write("mlp-0000.params", b"\x12\x01" + b"\xff" * 100)
    report = get_template("mxnet-py37").validate(pkg.root)
    assert {"MXN001", "MXN002"} <= set(_rules(report))
    assert all(f.rule != "INT001" for f in report.findings)


def test_symbol_builder_output_is_json_mxnet_reads() -> None:
    sym, _, _ = mlp()
    assert json.loads(sym)["attrs"]["mxnet_version"] == ["int", 10201]
    b = SymbolBuilder()
    b.var("x")
    assert read_symbol(b.to_json().encode()).node_count == 1


def test_manifest_records_both_files(pkg: PackageBuilder) -> None:
    _mxnet_package(pkg)
    manifest = get_template("mxnet-py37").build_manifest(pkg.root).to_dict()
    parts = {p["path"]: p for p in manifest["model_file"]["parts"]}
    assert parts["mlp-symbol.json"]["inputs"] == ["data", "softmax_label"]
    assert parts["mlp-symbol.json"]["auxiliary_states"] == 2
    assert parts["mlp-0000.params"]["arrays"] == 6 and parts["mlp-0000.params"]["dtypes"] == ["float32"]


def test_describe_names_the_page(tmp_path: Path) -> None:
    d = get_template("mxnet-py27").describe()
    assert d.engine == "MXNet" and d.engine_version == "1.2.1" and d.python == "2.7"
    assert any("-symbol.json" in s for s in d.layout.statements())
