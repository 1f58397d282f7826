"""End to end: Template.validate on real packages, clean and messy, through the whole pipeline."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import modeltemplates
from modeltemplates import Settings, get_template
from tests.builders import SERVICE_PY27, PackageBuilder, tiny_state_dict, torch_bytes
from tests.conftest import FIDELITY

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pytorch-py27" / "model"
PY27 = get_template("pytorch-py27")
PY37 = get_template("pytorch-py37")


def rules_of(report: modeltemplates.Report) -> set[str]:
    return {f.rule for f in report.findings}


@pytest.mark.parametrize("template", [PY27, PY37], ids=lambda t: t.id)
def test_example_package_is_clean_on_both_templates(template: modeltemplates.Template) -> None:
    report = template.validate(EXAMPLE)
    assert report.ok, [f.to_dict() for f in report.findings]
    assert report.warnings == ()
    facts = report.facts
    assert facts["layout"]["model_files"] == ["mnist_mlp.pth"]
    assert facts["layout"]["inference_script"] == "customize_service.py"
    assert facts["model_files"]["mnist_mlp.pth"]["format"] == "legacy"
    assert facts["package"]["located"] == "given"


def test_valid_built_package_is_clean(pkg: PackageBuilder) -> None:
    pkg.valid()
    report = PY27.validate(pkg.root)
    assert report.ok and report.warnings == (), [f.to_dict() for f in report.findings]


def test_zip_format_model_fails_py27_with_the_fix(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("resnet50.pth", torch_bytes(tiny_state_dict(), legacy=False))
    report = PY27.validate(pkg.root)
    assert not report.ok
    (f,) = report.errors
    assert f.path == "resnet50.pth" and "_use_new_zipfile_serialization=False" in f.hint


def test_python3_syntax_in_the_inference_script_fails_py27_only(pkg: PackageBuilder) -> None:
    pkg.valid()
    old = 'return {"result": [self.labels[int(i)] for i in data]}'
    pkg.write("customize_service.py", SERVICE_PY27.replace(old, 'return {"result": f"{data}"}'))
    line = SERVICE_PY27[: SERVICE_PY27.index(old)].count("\n") + 1
    report = PY27.validate(pkg.root)
    (err,) = report.errors
    assert (err.path, err.rule, err.line) == ("customize_service.py", "SRC001", line)
    assert "f-string" in err.message
    assert PY37.validate(pkg.root).ok


def test_every_python_file_is_checked_for_the_target_interpreter(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("helper.py", "def f(*, key):\n    return key\n")
    pkg.write("mylib/__init__.py", "")
    pkg.write("mylib/ops.py", "# 中文注释\nx = 1\n")
    report = PY27.validate(pkg.root)
    assert {(f.path, f.line) for f in report.errors} == {("helper.py", 1), ("mylib/ops.py", 1)}
    assert PY37.validate(pkg.root).ok


def test_io_mode_override_and_unknown_mode(pkg: PackageBuilder) -> None:
    pkg.valid()
    assert PY27.validate(pkg.root, io_mode="predictive_analytics").facts["io_mode"] == "predictive_analytics"
    with pytest.raises(ValueError):
        PY27.validate(pkg.root, io_mode="telepathy")


def test_config_json_is_checked_and_its_dependencies_reach_the_manifest(pkg: PackageBuilder) -> None:
    pkg.valid()
    config = {
        "model_type": "PyTorch",
        "runtime": "python2.7",
        "model_algorithm": "image_classification",
        "dependencies": [{"installer": "pip", "packages": [
            {"package_name": "Pillow", "package_version": "5.0.0", "restraint": "EXACT"}]}],
    }
    pkg.write("config.json", json.dumps(config))
    report = PY27.validate(pkg.root)
    assert report.ok, [f.to_dict() for f in report.findings]
    manifest = PY27.build_manifest(pkg.root)
    assert manifest.config["dependencies"] == config["dependencies"]


def test_config_json_with_comments_and_misspelt_key(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("config.json", '{\n  // copied from the docs\n  "model_type": "PyTorch",\n'
              '  "runtime": "python2.7",\n  "apis": [{"procotol": "http", "url": "/", "method": "post"}],\n}\n')
    report = PY27.validate(pkg.root)
    cfg = [f for f in report.findings if f.path == "config.json"]
    assert any(f.line == 2 for f in cfg)
    assert any("protocol" in f.message for f in cfg)


def test_merge_conflict_markers(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("labels.txt", "cat\n<<<<<<< HEAD\ndog\n=======\nbird\n>>>>>>> branch\n")
    report = PY27.validate(pkg.root)
    (f,) = report.by_rule("TXT001")
    assert (f.path, f.line) == ("labels.txt", 2)


def test_too_large_text_file_is_reported_not_read(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("big.py", "x = 1\n" * 1000)
    report = PY27.validate(pkg.root, settings=Settings(max_text_bytes=4000))
    assert [f.path for f in report.by_rule("TXT002")] == ["big.py"]


def test_messy_real_world_package_reports_every_problem_once(tmp_path: Path) -> None:
    """A training job's output folder: versions, macOS droppings, caches, wheels, a conflict."""
    job = PackageBuilder(tmp_path / "resnet-job")
    job.write("resnet50.pth", torch_bytes(tiny_state_dict(), legacy=False))
    job.write("customize_service.py", SERVICE_PY27)
    job.write("._resnet50.pth", b"\x00\x05\x16\x07")
    job.write("__pycache__/customize_service.cpython-37.pyc", b"\x42\x0d")
    job.write("V001/customize_service.py", "print(f'{1}')\n")
    job.write("V001/resnet50.pth", b"old")
    job.write("wheels/torchvision-0.2.1-py2.py3-none-any.whl", b"PK\x03\x04")
    job.write("utils.py", "<<<<<<< HEAD\nA = 1\n=======\nA = 2\n>>>>>>> other\n")
    job.mkdir("logs")
    os.mkfifo(job.path("pipe"))
    report = PY27.validate(job.root)
    keys = [(f.rule, f.path, f.line) for f in report.findings]
    assert len(keys) == len(set(keys)), "a problem was reported twice"
    paths = {f.path for f in report.findings}
    assert "._resnet50.pth" not in paths and not any("__pycache__" in p for p in paths)
    expected = {"LAY001", "LAY004", "LAY006", "LAY009", "LAY012", "LAY015", "LAY019", "TXT001", "MOD010"}
    assert expected <= rules_of(report)
    assert any(f.path == "V001/customize_service.py" and f.rule.startswith("SRC") for f in report.findings)


def test_report_json_is_byte_identical_for_the_same_package(tmp_path: Path) -> None:
    a = PackageBuilder(tmp_path / "a" / "model")
    a.valid()
    a.write("helper.py", "print 'x'\n")
    b = tmp_path / "b" / "model"
    shutil.copytree(a.root, b)
    first = PY27.validate(a.root).to_json()
    assert PY27.validate(a.root).to_json() == first
    assert PY27.validate(b).to_json() == first
    assert PY27.validate(tmp_path / "b").to_json() != first  # located differs, and says so
    assert json.loads(PY27.validate(tmp_path / "b").to_json())["facts"]["package"]["located"] == "child"


def _fidelity_models() -> list[str]:
    labels = FIDELITY / "labels.json"
    return sorted(json.loads(labels.read_text())["models"])


@pytest.mark.parametrize("model_id", _fidelity_models())
def test_fidelity_models_through_the_templates(model_id: str, tmp_path: Path) -> None:
    labels = json.loads((FIDELITY / "labels.json").read_text())["models"][model_id]
    b = PackageBuilder(tmp_path / "model")
    b.write("model.pth", (FIDELITY / "models" / f"{model_id}.pth").read_bytes())
    for template, key in ((PY27, "py27"), (PY37, "py37")):
        report = template.validate(b.root)
        assert report.ok == labels[key]["ok"], (key, labels[key]["error"], [f.to_dict() for f in report.errors])


def test_undeclared_third_party_import_is_warned_until_config_declares_it(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("customize_service.py", "import cv2\n" + SERVICE_PY27)
    report = PY27.validate(pkg.root)
    (f,) = report.by_rule("SVC010")
    assert "opencv-python" in f.message + f.hint
    assert report.facts["imports"]["third_party"] == ["cv2"]
    pkg.write("config.json", json.dumps({
        "model_type": "PyTorch", "runtime": "python2.7",
        "dependencies": [{"installer": "pip", "packages": [{"package_name": "opencv-python"}]}],
    }))
    assert PY27.validate(pkg.root).by_rule("SVC010") == ()
