"""The TensorFlow templates: real SavedModels written by TensorFlow 1.8 and 2.15, their verdicts
against what TensorFlow 1.8 itself said (tests/data/tensorflow/labels.json), and broken or hostile
inputs built byte by byte.

The models under tests/data/tensorflow were written by ``make_models.py`` and ``variants.py`` there
(with real TensorFlow 1.8.0 and 2.15.1, which the test suite does not need); ``labels.py`` recorded
TensorFlow 1.8's verdicts.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modeltemplates
from modeltemplates.engines.tensorflow import bundle as bd
from modeltemplates.engines.tensorflow import savedmodel as sm
from modeltemplates.engines.tensorflow.checks import TensorFlowLimits, check_saved_model
from modeltemplates.engines.tensorflow.tf18 import tf18
from tests.builders_proto import ln, msg, vint
from tests.builders_tf import bundle_index, table
from tests.conftest import DATA

TF = DATA / "tensorflow"
LABELS = json.loads((TF / "labels.json").read_text())["labels"]

#: What TensorFlow 1.8 said (labels.json) -> the rule that must be the package's (only) TF error.
EXPECTED = {
    "tf18_savedmodel/model": None,
    "variants/attr_strip_default/model": None,
    "tf18_frozen/model": "TFM001",
    "keras_h5/model": "TFM002",
    "keras_v3/model": "TFM002",
    "tflite/model": "TFM002",
    "tf2_checkpoint/model": "TFM002",
    "tf2_compat_v1/model": "TFM013",
    # Its VarHandleOps also set `debug_name`, an attribute 1.8 lacks: a second real cause.
    "tf2_savedmodel/model": "TFM013 TFM014",
    "variants/graphdef_named_saved/model": "TFM001",
    "variants/tags/model": "TFM010",
    "variants/nosig/model": "TFM011",
    "variants/mc/model": "TFM012",
    "variants/bad/model": "TFM012",
    "variants/unknown_op/model": "TFM013",
    "variants/unknown_op_in_list/model": "TFM013",
    "variants/attr/model": "TFM014",
    "variants/missing_attr/model": "TFM015",
    "variants/dep/model": "TFM016",
    "variants/novars/model": "TFM020",
    "variants/corrupt_index/model": "TFM021",
    "variants/noshard/model": "TFM022",
    "variants/shortshard/model": "TFM023",
    "variants/missing_var/model": "TFM024",
    "variants/dtype_mismatch/model": "TFM025",
    "variants/shape_mismatch/model": "TFM025",
    # TF 1.8's protobuf reads the first half of a cut file and fails on a half-read node; the cause is the cut.
    "variants/truncated/model": "TFM004",
    "variants/noise/model": "TFM004",
    "variants/deep/model": "TFM005",
    "variants/shallow/model": None,
    "tf18_assets/model": None,
    "tf18_contrib/model": "TFM017",
    "variants/noasset/model": "TFM027",
}


def tf_errors(report: modeltemplates.Report) -> set[str]:
    return {f.rule for f in report.errors if f.rule.startswith("TFM")}


def test_every_labelled_model_has_an_expectation() -> None:
    assert set(LABELS) == set(EXPECTED)


@pytest.mark.parametrize("template", ["tensorflow-py27", "tensorflow-py36"])
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_verdict_agrees_with_tensorflow_1_8(case: str, template: str) -> None:
    report = modeltemplates.get_template(template).validate(TF / case)
    rule = EXPECTED[case]
    loads = LABELS[case].startswith("loads")
    if rule is None:
        assert loads, LABELS[case]
        assert report.ok, report.to_json()
    else:
        assert tf_errors(report) == set(rule.split()), (LABELS[case], report.to_json())
        # TF 1.8 loads a graph without signatures; the platform's service cannot serve it.
        assert not loads or rule == "TFM011"
    if case == "variants/attr_strip_default/model":
        return


def test_messages_carry_the_real_cause() -> None:
    def messages(case: str) -> str:
        report = modeltemplates.get_template("tensorflow-py36").validate(TF / case)
        return " | ".join(f.message for f in report.findings)

    text = messages("tf2_savedmodel/model")
    for op in ("StatefulPartitionedCall", "StaticRegexFullMatch", "DisableCopyOnRead"):
        assert op in text
    assert "KeyError: 'StatefulPartitionedCall'" in text  # what TF 1.8 says first (labels.json)
    assert "KeyError: 'StaticRegexFullMatch'" in messages("tf2_compat_v1/model")
    assert "Op type not registered 'Gelu'" in messages("variants/unknown_op/model")
    assert "frozen GraphDef" in messages("tf18_frozen/model")
    assert "Key dense/bias not found in checkpoint" in messages("variants/missing_var/model")
    assert "It has been removed in version 14. Use MatrixDiag" in messages("variants/dep/model")
    assert "GraphDef min consumer version 27 above current version 26" in messages("variants/mc/model")
    assert "Keras HDF5" in messages("keras_h5/model")


def test_empty_variables_folder(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(TF / "tf18_savedmodel/model", model)
    for f in (model / "variables").iterdir():
        f.unlink()
    report = modeltemplates.get_template("tensorflow-py27").validate(model)
    assert tf_errors(report) == {"TFM020"}


def test_variables_as_a_file_is_named_as_such(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(TF / "tf18_savedmodel/model", model)
    shutil.rmtree(model / "variables")
    (model / "variables").write_text("not a folder\n")
    report = modeltemplates.get_template("tensorflow-py27").validate(model)
    (finding,) = report.by_rule("TFM020")
    assert finding.path == "variables" and "'variables' is a file" in finding.message


def test_saved_model_facts_and_manifest(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(TF / "tf18_savedmodel/model", model)
    manifest = modeltemplates.get_template("tensorflow-py36").build_manifest(model)
    data = manifest.to_dict()
    summary = data["model_file"]
    assert summary["format"] == "saved_model"
    assert summary["tags"] == ["serve"]
    sig = summary["signatures"]["predict_images"]
    assert sig["inputs"]["images"] == {"name": "x:0", "dtype": "float32", "shape": [-1, 4], "encoding": "dense"}
    assert sig["outputs"]["scores"]["shape"] == [-1, 3]
    assert summary["op_count"] == 33
    assert summary["variables"] == {"count": 2, "bytes": 60, "shards": 1}
    assert data["engine"] == {"name": "TensorFlow", "version": "1.8"}
    assert manifest.to_json() == modeltemplates.get_template("tensorflow-py36").build_manifest(model).to_json()


def test_templates_are_registered() -> None:
    ids = [t.id for t in modeltemplates.list_templates()]
    assert {"tensorflow-py27", "tensorflow-py36"} <= set(ids)
    t = modeltemplates.get_template("TensorFlow-py36 General Template")
    assert t.id == "tensorflow-py36"
    d = t.describe()
    assert (d.engine, d.engine_version, d.python, d.default_io_mode, d.io_mode_overridable) == (
        "TensorFlow", "1.8", "3.6", "undefined", True)
    assert any("saved_model.pb" in s for s in d.layout.statements())
    assert t.resolve_io_mode("image_processing").id == "image_processing"


# -- the facts table ----------------------------------------------------------------------------------

def test_tf18_facts_table() -> None:
    facts = tf18()
    assert facts.version == "1.8.0" and "tensorflow-1.8.0-cp36" in facts.source
    assert (facts.graph_def_version, facts.min_consumer, facts.min_producer) == (26, 0, 0)
    assert 800 < len(facts.ops) < 1000
    matmul = facts.ops["MatMul"]
    assert [(a.name, a.has_default) for a in matmul.attrs] == [
        ("transpose_a", True), ("transpose_b", True), ("T", False)]
    assert facts.ops["BatchMatrixDiag"].deprecation == (14, "Use MatrixDiag")
    for op in ("Placeholder", "VariableV2", "RestoreV2", "SaveV2", "VarHandleOp", "_Arg", "_Retval"):
        assert op in facts.ops
    for op in ("StatefulPartitionedCall", "PartitionedCall", "StaticRegexFullMatch", "DisableCopyOnRead"):
        assert op not in facts.ops


# -- bundle reader --------------------------------------------------------------------------------------

def test_real_bundle_index() -> None:
    b = bd.read_bundle_index((TF / "tf18_savedmodel/model/variables/variables.index").read_bytes())
    assert b.num_shards == 1 and b.shard_names == ("variables.data-00000-of-00001",)
    assert [(e.key, e.dtype, e.shape, e.offset, e.size) for e in b.entries] == [
        ("dense/bias", "float32", (3,), 0, 12), ("dense/kernel", "float32", (4, 3), 12, 48)]


@pytest.mark.parametrize("snappy", [False, True])
def test_built_bundle_index(snappy: bool) -> None:
    data = bundle_index({"a": (1, (2,), 0, 8), "b/c": (9, (), 8, 8)}, snappy=snappy)
    b = bd.read_bundle_index(data)
    assert [(e.key, e.dtype, e.shape) for e in b.entries] == [("a", "float32", (2,)), ("b/c", "int64", ())]


def test_crc32c_known_value() -> None:
    assert bd.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "too short"),
        (b"\0" * 60, "magic number"),
        (bundle_index({"a": (1, (2,), 0, 8)}, corrupt_crc=True), "checksum mismatch"),
        (table([(b"a", b"\x08\x01")]), "no bundle header"),
        (table([(b"b", b""), (b"a", b"")]), "out of order"),
    ],
)
def test_broken_bundle_index(data: bytes, reason: str) -> None:
    with pytest.raises(bd.BundleError, match=reason):
        bd.read_bundle_index(data)


def test_snappy_bounds() -> None:
    assert bd.snappy_decompress(b"\x05\x10hello", 100) == b"hello"
    assert bd.snappy_decompress(b"\x06\x00a\x05\x01", 100) == b"aaaaaa"  # overlapping copy
    with pytest.raises(bd.BundleError, match="above the limit"):
        bd.snappy_decompress(b"\xff\xff\xff\xff\x0f", 1 << 20)
    with pytest.raises(bd.BundleError, match="outside the output"):
        bd.snappy_decompress(b"\x04\x01\x05", 100)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bundle_index_raises_only_bundle_error(data: bytes) -> None:
    with contextlib.suppress(bd.BundleError):
        bd.read_bundle_index(data + bundle_index({})[-48:] if data[:1] == b"x" else data)


def _package_with_index(tmp_path: Path, index: bytes, shard_size: int) -> Path:
    model = tmp_path / "model"
    shutil.copytree(TF / "tf18_savedmodel/model", model)
    (model / "variables/variables.index").write_bytes(index)
    (model / "variables/variables.data-00000-of-00001").write_bytes(b"\0" * shard_size)
    return model


def test_index_pointing_past_its_shard(tmp_path: Path) -> None:
    index = bundle_index({"dense/bias": (1, (3,), 0, 12), "dense/kernel": (1, (4, 3), 12, 48)})
    assert modeltemplates.get_template("tensorflow-py27").validate(_package_with_index(tmp_path, index, 60)).ok
    report = modeltemplates.get_template("tensorflow-py27").validate(_package_with_index(tmp_path / "b", index, 59))
    assert tf_errors(report) == {"TFM023"}


def test_shard_count_from_header(tmp_path: Path) -> None:
    index = bundle_index({"dense/bias": (1, (3,), 0, 12), "dense/kernel": (1, (4, 3), 0, 48, 1)}, num_shards=2)
    report = modeltemplates.get_template("tensorflow-py27").validate(_package_with_index(tmp_path, index, 60))
    assert tf_errors(report) == {"TFM022"}
    assert any("variables.data-00001-of-00002" in f.path for f in report.errors)


# -- hostile saved_model.pb -------------------------------------------------------------------------

def check(data: bytes, limits: TensorFlowLimits | None = None) -> set[str]:
    result = check_saved_model("saved_model.pb", io.BytesIO(data), len(data), limits)
    return {f.rule for f in result.findings}


REAL = (TF / "tf18_savedmodel/model/saved_model.pb").read_bytes()


@pytest.mark.parametrize("cut", [1, 7, 100, len(REAL) // 2, len(REAL) - 1])
def test_truncated_saved_model(cut: int) -> None:
    assert check(REAL[:cut]) & {"TFM004", "TFM010"}


def test_empty_saved_model() -> None:
    assert check(b"") == {"TFM004"}


def test_deeply_nested_message_is_bounded() -> None:
    inner = b""
    for _ in range(200):
        inner = ln(1, inner)
    data = msg(vint(1, 1), ln(2, ln(2, ln(2, inner))))  # meta graph -> graph -> library -> ...
    deep = b""
    for _ in range(150):
        deep = ln(2, deep)
    assert check(msg(vint(1, 1), ln(2, msg(ln(1, ln(4, "serve")), ln(2, deep))))) <= {"TFM004", "TFM005", "TFM011"}
    assert check(data)


def test_node_count_limit() -> None:
    node = ln(1, msg(ln(1, "n"), ln(2, "NoOp")))
    graph = ln(2, node * 50)
    data = msg(vint(1, 1), ln(2, msg(ln(1, ln(4, "serve")), graph)))
    limits = TensorFlowLimits(saved_model=sm.SavedModelLimits(max_nodes=10))
    assert check(data, limits) == {"TFM005"}
    assert check(data) == {"TFM011"}


def test_size_limit() -> None:
    assert check(REAL, TensorFlowLimits(max_saved_model_bytes=100)) == {"TFM005"}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_give_findings_not_exceptions(data: bytes) -> None:
    check(data)
    check(b"\x08\x01\x12" + data)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(REAL) - 1), st.integers(0, 255))
def test_flipped_byte_gives_findings_not_exceptions(pos: int, value: int) -> None:
    mutated = bytearray(REAL)
    mutated[pos] = value
    check(bytes(mutated))


def test_sniff_recognises_formats() -> None:
    cases = {
        "tf18_frozen/model/frozen_inference_graph.pb": sm.FileKind.GRAPH_DEF,
        "keras_h5/model/model.h5": sm.FileKind.HDF5,
        "keras_v3/model/model.keras": sm.FileKind.KERAS_ZIP,
        "tflite/model/model.tflite": sm.FileKind.TFLITE,
        "tf2_checkpoint/model/ckpt.index": sm.FileKind.CHECKPOINT_INDEX,
        "tf2_savedmodel/model/saved_model.pb": sm.FileKind.SAVED_MODEL,
    }
    for rel, kind in cases.items():
        data = (TF / rel).read_bytes()
        assert sm.sniff(data[:64], data[-8:]) == kind, rel


# -- inference code under the two Python versions ----------------------------------------------------

TF_SERVICE = '''\
import numpy as np
import tensorflow as tf
from absl import logging
from google.protobuf import text_format
from model_service.tfserving_model_service import TfServingBaseService


class Service(TfServingBaseService):
    def _preprocess(self, data):
        return {"images": np.zeros((1, 4), dtype=np.float32)}

    def _postprocess(self, data):
        return {"scores": data["scores"].tolist()}
'''
PY36_ONLY = TF_SERVICE + "\nasync = 1\n"  # a plain name in 3.6, a keyword since 3.7
PY37_ONLY = "from __future__ import annotations\n" + TF_SERVICE  # PEP 563 is 3.7


def _with_script(tmp_path: Path, source: str) -> Path:
    model = tmp_path / "model"
    shutil.copytree(TF / "tf18_savedmodel/model", model)
    (model / "customize_service.py").write_text(source)
    return model


@pytest.mark.parametrize("template", ["tensorflow-py27", "tensorflow-py36"])
def test_service_with_runtime_imports_is_clean(tmp_path: Path, template: str) -> None:
    report = modeltemplates.get_template(template).validate(_with_script(tmp_path, TF_SERVICE))
    assert report.ok and not report.warnings, report.to_json()
    assert report.facts["service"]["classes"]


def test_python36_only_script(tmp_path: Path) -> None:
    model = _with_script(tmp_path, PY36_ONLY)
    assert modeltemplates.get_template("tensorflow-py36").validate(model).ok
    errors = modeltemplates.get_template("pytorch-py37").validate(model).errors
    assert any(f.path == "customize_service.py" and f.rule.startswith("SRC") for f in errors)


def test_python37_only_script(tmp_path: Path) -> None:
    model = _with_script(tmp_path, PY37_ONLY)
    report = modeltemplates.get_template("tensorflow-py36").validate(model)
    assert [f.rule for f in report.errors] == ["SRC004"], report.to_json()
    assert "annotations" in report.errors[0].message


def test_wrong_base_class_under_tensorflow(tmp_path: Path) -> None:
    source = TF_SERVICE.replace("model_service.tfserving_model_service import TfServingBaseService",
                                "model_service.pytorch_model_service import PTServingBaseService").replace(
        "(TfServingBaseService)", "(PTServingBaseService)")
    report = modeltemplates.get_template("tensorflow-py36").validate(_with_script(tmp_path, source))
    assert any("TfServingBaseService" in f.message for f in report.errors), report.to_json()


def test_config_json_agreement(tmp_path: Path) -> None:
    model = _with_script(tmp_path, TF_SERVICE)
    good = {"model_type": "TensorFlow", "runtime": "python3.6", "model_algorithm": "image_classification",
            "apis": []}
    (model / "config.json").write_text(json.dumps(good))
    assert modeltemplates.get_template("tensorflow-py36").validate(model).ok
    (model / "config.json").write_text(json.dumps({**good, "model_type": "PyTorch"}))
    assert not modeltemplates.get_template("tensorflow-py36").validate(model).ok
    (model / "config.json").write_text(json.dumps({**good, "runtime": "python2.7"}))
    assert not modeltemplates.get_template("tensorflow-py36").validate(model).ok


# -- against real TensorFlow 1.8, where this machine has it -------------------------------------------

TF18_PYTHON = os.environ.get("MODELTEMPLATES_TF18_PYTHON")


@pytest.mark.skipif(not TF18_PYTHON, reason="set MODELTEMPLATES_TF18_PYTHON to a Python with tensorflow==1.8.0")
def test_real_tensorflow_1_8_agrees(tmp_path: Path) -> None:
    """TF 1.8 itself loads the committed models and the byte-built broken bundles; verdicts must agree."""
    assert TF18_PYTHON
    index = bundle_index({"dense/bias": (1, (3,), 0, 12), "dense/kernel": (1, (4, 3), 12, 48)})
    built = {
        "built_ok": _package_with_index(tmp_path / "ok", index, 60),
        "built_past_shard": _package_with_index(tmp_path / "past", index, 59),
        "built_missing": _package_with_index(
            tmp_path / "missing", bundle_index({"dense/kernel": (1, (4, 3), 0, 48)}), 48),
    }
    out = subprocess.run([TF18_PYTHON, str(TF / "labels.py"), *map(str, built.values())], capture_output=True,
                         text=True, check=True, timeout=600).stdout
    said = {line.split(" -> ")[0]: line.split(" -> ", 1)[1] for line in out.splitlines() if " -> " in line}
    for case, verdict in LABELS.items():
        assert said[case] == verdict.replace("<model>", str(TF / case)) or said[case].split(":")[0] == \
            verdict.split(":")[0], case
    for name, model in built.items():
        rel = os.path.relpath(model, TF)
        ours = modeltemplates.get_template("tensorflow-py36").validate(model).ok
        assert said[rel].startswith("loads") == ours, (name, said[rel])


@pytest.mark.parametrize("template", ["tensorflow-py27", "tensorflow-py36"])
def test_platform_example_script_passes(tmp_path: Path, template: str) -> None:
    """The inference code of the platform's own TensorFlow example (examples_of_custom_scripts/tensorflow.rst)."""
    from tests.conftest import REFERENCE

    text = (REFERENCE / "examples_of_custom_scripts" / "tensorflow.rst").read_text("utf-8")
    block = text.split("Inference Code (Keras and tf APIs)", 1)[1].split("::\n\n", 1)[1]
    source = "\n".join(line[3:] for line in block.splitlines() if line.startswith("   ") or not line.strip())
    assert "class mnist_service(TfServingBaseService)" in source
    report = modeltemplates.get_template(template).validate(_with_script(tmp_path, source))
    assert report.ok, report.to_json()


def test_contrib_ops_need_the_script_to_load_contrib(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(TF / "tf18_contrib/model", model)
    (model / "customize_service.py").write_text("import tensorflow.contrib.image\n" + TF_SERVICE)
    report = modeltemplates.get_template("tensorflow-py36").validate(model)
    assert report.ok, report.to_json()
    assert [f.rule for f in report.warnings if f.rule.startswith("TFM")] == ["TFM017"]
    assert "ImageProjectiveTransform" in report.warnings[0].message or any(
        "ImageProjectiveTransform" in f.message for f in report.warnings)


def test_bundle_index_size_limit() -> None:
    data = bundle_index({"a": (1, (2,), 0, 8)})
    with pytest.raises(bd.BundleError, match="above the limit") as info:
        bd.read_bundle_index(data, bd.BundleLimits(max_index_bytes=len(data) - 1))
    assert info.value.limit
