"""Caffe templates: the text-format and .caffemodel readers, the Caffe 1.0 facts, whole packages.

Real files: tests/data/caffe holds the platform example's deploy network and weights serialised by
protobuf itself from Caffe 1.0's caffe.proto (make_caffe_data.py says how; no Caffe build installs
here); the byte-by-byte writer of tests/builders_caffe.py reproduces them exactly and builds the
broken and hostile cases.
"""

from __future__ import annotations

import io

import pytest

from modeltemplates import get_template
from modeltemplates.engines.caffe import facts
from modeltemplates.engines.caffe.net import CaffemodelError, net_from_text, read_caffemodel
from modeltemplates.engines.caffe.textformat import TextFormatError, parse_text
from tests.builders import PackageBuilder
from tests.builders_caffe import (
    LENET,
    SERVICE_CAFFE,
    SMALL_BLOBS,
    SMALL_DEPLOY,
    blob,
    caffemodel_bytes,
    layer,
    lenet_weights,
    small_weights,
    v1_layer,
)
from tests.conftest import DATA

CAFFE = DATA / "caffe"
CAFFE_TEMPLATES = ["caffe-cpu-py27", "caffe-cpu-py37", "caffe-gpu-py27", "caffe-gpu-py37"]


def _errors(report) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted({f.rule for f in report.findings if f.severity.value == "error"})


def _strip_lines(d: object) -> object:
    if isinstance(d, dict):
        return {k: _strip_lines(v) for k, v in d.items() if k != "line"}
    if isinstance(d, list):
        return [_strip_lines(v) for v in d]
    return d


# --- facts --------------------------------------------------------------------------------------


def test_caffe_10_facts() -> None:
    assert len(facts.LAYER_TYPES) == 58
    for t in ("Convolution", "Input", "BatchNorm", "Scale", "Deconvolution", "Crop", "Parameter"):
        assert t in facts.LAYER_TYPES
    for t in ("PriorBox", "Normalize", "Permute", "Upsample", "Interp", "Python"):
        assert t not in facts.LAYER_TYPES
    assert frozenset({"Python"}) == facts.PYTHON_LAYER_TYPES
    assert facts.MESSAGES["NetParameter"]["layer"] == (100, "repeated", "message:LayerParameter")
    assert facts.V1_LAYER_TYPES["INNER_PRODUCT"] == "InnerProduct"


# --- text format --------------------------------------------------------------------------------


def test_deploy_prototxt_of_the_platform_example() -> None:
    net = net_from_text(parse_text((CAFFE / "lenet_deploy.prototxt").read_bytes()))
    assert [layer.type for layer in net.layers][:3] == ["Input", "Convolution", "Pooling"]
    assert net.layers[0].input_shapes == ((1, 1, 28, 28),)
    assert net.layers[1].param("num_output") == 20 and net.layers[1].line == 8


def test_reader_agrees_with_protobufs_own_text_rendering() -> None:
    ours = net_from_text(parse_text((CAFFE / "lenet_deploy.prototxt").read_bytes())).to_dict()
    protobufs = net_from_text(parse_text((CAFFE / "lenet_deploy.txt").read_bytes())).to_dict()
    assert _strip_lines(ours) == _strip_lines(protobufs)


@pytest.mark.parametrize(
    ("text", "line", "column", "kind"),
    [
        ('name: "x"\nlayer {\n  name: "a"\n', 4, 1, "syntax"),
        ('layer {\n  name: "a"\n  tpye: "ReLU"\n}\n', 3, 3, "schema"),
        ('layer {\n  name: "a"\n  type: "Pooling"\n  pooling_param { pool: MAXX }\n}\n', 4, 25, "schema"),
        ('layer { name: "a" name: "b" }', 1, 19, "schema"),
        ('input_dim: 1.5', 1, 12, "schema"),
        ('layer { name: "a\n" }', 1, 15, "syntax"),
        ('layer } ', 1, 7, "syntax"),
        ('name: "x" @', 1, 11, "syntax"),
        ("layer {" * 100, 1, 8, "schema"),
        ('name: "\x00"', 1, 8, "binary"),
        ('name: "\xff"', 1, 8, "binary"),
    ],
    ids=["unclosed", "unknown-field", "bad-enum", "twice", "float-for-int", "newline-in-string", "stray-brace",
         "bad-char", "deep", "nul", "not-utf8"],
)
def test_text_errors_have_line_and_column(text: str, line: int, column: int, kind: str) -> None:
    data = text.encode("latin-1") if "\xff" in text else text.encode()
    with pytest.raises(TextFormatError) as err:
        parse_text(data)
    assert (err.value.line, err.value.column, err.value.kind) == (line, column, kind)


def test_nesting_is_bounded() -> None:
    from modeltemplates.engines.caffe.textformat import TextLimits

    text = b"layer { convolution_param { weight_filler { type: 'x' } } }"
    assert parse_text(text).all("layer")
    with pytest.raises(TextFormatError) as err:
        parse_text(text, limits=TextLimits(max_depth=2))
    assert (err.value.kind, err.value.line, err.value.column) == ("limit", 1, 27)


def test_text_format_details() -> None:
    msg = parse_text(b'name: "a" \'b\' # comment\ninput: ["x", "y"]; input_dim: 0x2, input_dim: 010\n'
                     b'layer < name: "l" type: "Input" > force_backward: t\n')
    assert msg.get("name") == "ab" and msg.all("input") == ["x", "y"] and msg.all("input_dim") == [2, 8]
    assert msg.get("force_backward") is True and msg.all("layer")[0].get("type") == "Input"


# --- .caffemodel ----------------------------------------------------------------------------------


def test_real_caffemodel_and_the_writer_agree_byte_for_byte() -> None:
    real = (CAFFE / "lenet.caffemodel").read_bytes()
    assert lenet_weights() == real
    net = read_caffemodel(io.BytesIO(real), len(real))
    assert [(la.name, la.blob_shapes) for la in net.layers][4] == ("ip1", ((500, 800), (500,)))


def test_v1_caffemodel() -> None:
    real = (CAFFE / "lenet_v1.caffemodel").read_bytes()
    enums = facts.ENUMS["V1LayerParameter.LayerType"]
    mine = caffemodel_bytes("LeNet", [], v1_layers=[
        v1_layer(n, enums[t.upper()], b, tp, [blob(s, legacy=True) for s in sh]) for n, t, b, tp, sh in LENET[:4]])
    assert mine == real
    net = read_caffemodel(io.BytesIO(real), len(real))
    assert net.v1 and net.layers[0].type == "Convolution" and net.layers[0].blob_shapes[1] == (1, 1, 1, 20)


def test_caffemodel_reader_seeks_over_blob_data() -> None:
    class Counting(io.BytesIO):
        total = 0

        def read(self, n: int | None = -1) -> bytes:
            data = super().read(n)
            Counting.total += len(data)
            return data

    big = caffemodel_bytes("big", [layer("fc", "InnerProduct", ["x"], ["y"], [blob((1024, 1024)), blob((1024,))])])
    read_caffemodel(Counting(big), len(big))
    assert Counting.total < 300_000  # the 4 MiB of floats are stepped over (one window read)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "unrecognised"),
        (bytes(range(256)), "unrecognised"),
        (b"\x0a\x05LeNet", "unrecognised"),
        (lenet_weights()[:-1000], "malformed"),
        (caffemodel_bytes("x", [layer("a", "ReLU", blobs=[blob((2, 2), values=[1.0])])]), "malformed"),
        (b"\xa2\x06" + b"\xff" * 12, "unrecognised"),
    ],
    ids=["empty", "random", "no-layers", "truncated", "blob-count", "huge-length"],
)
def test_bad_caffemodels(data: bytes, kind: str) -> None:
    with pytest.raises(CaffemodelError) as err:
        read_caffemodel(io.BytesIO(data), len(data))
    assert err.value.kind == kind


# --- packages -----------------------------------------------------------------------------------


def _package(pkg: PackageBuilder, *, deploy: str = SMALL_DEPLOY, weights: bytes | None = None,
             service: str = SERVICE_CAFFE) -> PackageBuilder:
    pkg.write("deploy.prototxt", deploy)
    pkg.write("small.caffemodel", small_weights() if weights is None else weights)
    pkg.write("customize_service.py", service)
    return pkg


@pytest.mark.parametrize("template", CAFFE_TEMPLATES)
def test_correct_package_passes(pkg: PackageBuilder, template: str) -> None:
    _package(pkg)
    report = get_template(template).validate(pkg.root)
    assert report.ok, [f.message for f in report.findings]


def test_platform_example_package_passes(pkg: PackageBuilder) -> None:
    pkg.write("deploy.prototxt", (CAFFE / "lenet_deploy.prototxt").read_bytes())
    pkg.write("lenet.caffemodel", (CAFFE / "lenet.caffemodel").read_bytes())
    pkg.write("lenet_train_test.prototxt", (CAFFE / "lenet_deploy.prototxt").read_text().replace(
        'type: "Input"', 'type: "Data"'))
    pkg.write("lenet_solver.prototxt", 'net: "lenet_train_test.prototxt"\nbase_lr: 0.01\nsolver_mode: CPU\n')
    report = get_template("caffe-cpu-py27").validate(pkg.root)
    assert report.ok, [f.message for f in report.findings]


def test_layer_caffe_10_lacks(pkg: PackageBuilder) -> None:
    _package(pkg, deploy=SMALL_DEPLOY.replace('type: "ReLU"', 'type: "Normalize"'))
    report = get_template("caffe-gpu-py37").validate(pkg.root)
    assert _errors(report) == ["CAF010"]
    (f,) = [f for f in report.findings if f.rule == "CAF010"]
    assert "'Normalize'" in f.message and f.path == "deploy.prototxt" and f.line == 28


def test_field_of_a_fork(pkg: PackageBuilder) -> None:
    _package(pkg, deploy=SMALL_DEPLOY.replace("num_output: 4 kernel_size: 3", "num_output: 4 kernel_size: 3 "
                                              "dilation: 1 shift: 2"))
    report = get_template("caffe-cpu-py37").validate(pkg.root)
    (f,) = [f for f in report.findings if f.rule == "CAF002"]
    assert 'no field named "shift"' in f.message and (f.line, f.column) == (13, 64)


@pytest.mark.parametrize(
    ("blobs", "rule"),
    [
        (SMALL_BLOBS | {"conv1": [(8, 1, 3, 3), (8,)]}, "CAF015"),
        (SMALL_BLOBS | {"ip1": [(3, 144)]}, "CAF015"),
        (SMALL_BLOBS | {"bn1": [(4,), (4,)]}, "CAF015"),
        ({k: v for k, v in SMALL_BLOBS.items() if k != "scale1"}, "CAF014"),
    ],
    ids=["conv-shape", "missing-bias", "bn-count", "missing-layer"],
)
def test_mismatched_weights(pkg: PackageBuilder, blobs: dict[str, list[tuple[int, ...]]], rule: str) -> None:
    _package(pkg, weights=small_weights(blobs))
    assert rule in _errors(get_template("caffe-cpu-py27").validate(pkg.root))


@pytest.mark.parametrize(
    ("template", "code"),
    [("caffe-cpu-py27", "x = f'{1}'\n"), ("caffe-gpu-py37", "print 'hello'\n")],
)
def test_wrong_python_code(pkg: PackageBuilder, template: str, code: str) -> None:
    _package(pkg, service=SERVICE_CAFFE + code)
    assert "SRC001" in _errors(get_template(template).validate(pkg.root))


def test_python_layer_needs_its_module(pkg: PackageBuilder) -> None:
    deploy = SMALL_DEPLOY.replace('type: "ReLU"', 'type: "Python"\n  python_param { module: "my_layers" '
                                  'layer: "Relu" }')
    _package(pkg, deploy=deploy)
    report = get_template("caffe-cpu-py27").validate(pkg.root)
    assert _errors(report) == ["CAF011"]
    pkg.write("my_layers.py", "import caffe\n\n\nclass Relu(caffe.Layer):\n    pass\n")
    assert get_template("caffe-cpu-py27").validate(pkg.root).ok


def test_bottoms_and_cycles(pkg: PackageBuilder) -> None:
    cyclic = SMALL_DEPLOY.replace('bottom: "ip1"\n  top: "prob"', 'bottom: "ip1"\n  top: "conv0"').replace(
        'bottom: "data"\n  top: "conv1"', 'bottom: "conv0"\n  top: "conv1"')
    _package(pkg, deploy=cyclic)
    report = get_template("caffe-cpu-py37").validate(pkg.root)
    (f,) = [f for f in report.findings if f.rule == "CAF012"]
    assert "Unknown bottom blob 'conv0' (layer 'conv1', bottom index 0)" in f.message


def test_training_network_is_no_deploy_network(pkg: PackageBuilder) -> None:
    _package(pkg, deploy=SMALL_DEPLOY.replace('type: "Input"', 'type: "Data"').replace(
        "input_param { shape: { dim: 1 dim: 1 dim: 8 dim: 8 } }", 'data_param { source: "x" batch_size: 1 }'))
    assert "CAF013" in _errors(get_template("caffe-cpu-py37").validate(pkg.root))


def test_old_style_inputs(pkg: PackageBuilder) -> None:
    deploy = 'input: "data"\ninput_dim: 1\ninput_dim: 1\ninput_dim: 8\ninput_dim: 8\n' + SMALL_DEPLOY.split(
        "}\n", 2)[2]
    _package(pkg, deploy=deploy)
    assert get_template("caffe-cpu-py37").validate(pkg.root).ok


def test_config_runtime_names_the_device(pkg: PackageBuilder) -> None:
    _package(pkg)
    pkg.write("config.json", '{"model_type": "Caffe", "runtime": "python3.7-gpu", "model_algorithm": "x"}')
    assert "CFG014" not in _errors(get_template("caffe-gpu-py37").validate(pkg.root))
    assert "CFG014" in _errors(get_template("caffe-cpu-py37").validate(pkg.root))
    assert "CFG013" in _errors(get_template("mxnet-py37").validate(pkg.root))


def test_bad_model_files_are_findings(pkg: PackageBuilder) -> None:
    _package(pkg, deploy="layer {\n  name: 'x'\n", weights=b"\x00" * 100)
    report = get_template("caffe-cpu-py37").validate(pkg.root)
    assert {"CAF001", "CAF003"} <= set(_errors(report))
    (f,) = [f for f in report.findings if f.rule == "CAF001"]
    assert f.line == 3


def test_huge_prototxt_is_bounded() -> None:
    text = b"layer { name: \"x\" type: \"ReLU\" bottom: \"a\" top: \"a\" }\n" * 20_000
    net = net_from_text(parse_text(text))
    assert len(net.layers) == 20_000


def test_manifest_records_both_files(pkg: PackageBuilder) -> None:
    _package(pkg)
    manifest = get_template("caffe-cpu-py27").build_manifest(pkg.root).to_dict()
    parts = {p["path"]: p for p in manifest["model_file"]["parts"]}
    assert parts["deploy.prototxt"]["inputs"] == [{"name": "data", "shape": [1, 1, 8, 8]}]
    assert parts["small.caffemodel"]["blobs"] == 9 and "InnerProduct" in parts["small.caffemodel"]["layer_types"]


def test_describe_differs_only_by_device() -> None:
    cpu, gpu = (get_template(t).describe().to_dict() for t in ("caffe-cpu-py27", "caffe-gpu-py27"))
    assert cpu["engine"] == {"name": "Caffe", "version": "1.0", "device": "CPU"}
    assert gpu["engine"]["device"] == "GPU"
    differing = {k for k in cpu if cpu[k] != gpu[k]}
    assert differing == {"id", "title", "aliases", "engine", "summary", "reference"}
