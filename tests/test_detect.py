"""Which template fits? detect() and the CLI's detect / validate / manifest without --template."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import ClassVar

import pytest

from modeltemplates import Template, detect, get_template
from modeltemplates.cli import main
from modeltemplates.detect import TIE_RULE, PackageSurvey
from modeltemplates.layout import FileRule
from modeltemplates.templates.modelarts import modelarts_layout
from tests.builders import SERVICE_PY27, PackageBuilder
from tests.builders_caffe import SERVICE_CAFFE, SMALL_DEPLOY, small_weights
from tests.builders_mxnet import SERVICE_MXNET, checkpoint_params, mlp
from tests.conftest import DATA

PY2_ONLY = "\nprint 'loaded'\n"
PY3_ONLY = "\nx = f'{1}'\n"


def _mxnet(pkg: PackageBuilder, service: str = SERVICE_MXNET) -> PackageBuilder:
    sym, args, aux = mlp()
    pkg.write("mlp-symbol.json", sym)
    pkg.write("mlp-0000.params", checkpoint_params(args, aux))
    pkg.write("customize_service.py", service)
    return pkg


def _caffe(pkg: PackageBuilder, service: str = SERVICE_CAFFE) -> PackageBuilder:
    pkg.write("deploy.prototxt", SMALL_DEPLOY)
    pkg.write("small.caffemodel", small_weights())
    pkg.write("customize_service.py", service)
    return pkg


def _best(pkg: PackageBuilder) -> str:
    found = detect(pkg.root)
    assert found.best is not None
    return found.best.template


def test_pytorch(pkg: PackageBuilder) -> None:
    pkg.valid()
    found = detect(pkg.root)
    assert found.best is not None and found.runner_up is not None
    assert (found.best.template, found.runner_up.template, found.tie) == ("pytorch-py27", "pytorch-py37", True)
    assert any("by content" in e for e in found.best.evidence)
    assert TIE_RULE in found.summary() and "runner-up PyTorch-py37" in found.summary()


def test_mxnet_and_caffe_and_tensorflow(pkg: PackageBuilder, tmp_path: Path) -> None:
    _mxnet(pkg)
    assert _best(pkg) == "mxnet-py27"
    caffe = _caffe(PackageBuilder(tmp_path / "caffe" / "model"))
    assert _best(caffe) == "caffe-cpu-py27"
    tf = tmp_path / "tf" / "model"
    shutil.copytree(DATA / "tensorflow" / "tf18_savedmodel" / "model", tf)
    found = detect(tf)
    assert found.best is not None and found.best.template.startswith("tensorflow-")


@pytest.mark.parametrize(("code", "want"), [(PY2_ONLY, "py27"), (PY3_ONLY, "py37")])
def test_python_version_decides(pkg: PackageBuilder, tmp_path: Path, code: str, want: str) -> None:
    pkg.valid()
    pkg.write("customize_service.py", SERVICE_PY27 + code)
    found = detect(pkg.root)
    assert found.best is not None and found.best.template == f"pytorch-{want}" and not found.tie
    loser = next(f for f in found.fits if f.template.startswith("pytorch-") and f.template != found.best.template)
    assert [a.rule for a in loser.against] == ["DET005"]
    assert _best(_mxnet(PackageBuilder(tmp_path / "mx" / "model"), SERVICE_MXNET + code)) == f"mxnet-{want}"
    assert _best(_caffe(PackageBuilder(tmp_path / "cf" / "model"), SERVICE_CAFFE + code)) == f"caffe-cpu-{want}"


def test_config_json_speaks_for_gpu(pkg: PackageBuilder) -> None:
    _caffe(pkg)
    pkg.write("config.json", '{"model_type": "Caffe", "runtime": "python3.7-gpu", "model_algorithm": "x"}')
    found = detect(pkg.root)
    assert found.best is not None and found.best.template == "caffe-gpu-py37" and not found.tie
    assert "config.json runtime 'python3.7-gpu'" in found.best.evidence


def test_contrary_findings(pkg: PackageBuilder) -> None:
    _mxnet(pkg)
    pkg.write("model.pth", b"not torch at all")
    fits = {f.template: f for f in detect(pkg.root).fits}
    rules = {a.rule for a in fits["pytorch-py27"].against}
    assert {"DET002", "DET004"} <= rules
    caffe = {a.rule for a in fits["caffe-cpu-py27"].against}
    assert "DET001" in caffe


def test_a_plugin_family_takes_part(pkg: PackageBuilder) -> None:
    class OnnxTemplate(Template):
        id = "onnx-py37"
        title = "ONNX-py37"
        engine = "ONNX"
        engine_version = "1.0"
        python = "3.7"
        layout = modelarts_layout((".onnx",))
        model_inspector = "none"
        seen: ClassVar[list[str]] = []

        def recognize_model_file(self, name: str, head: bytes) -> bool | None:
            OnnxTemplate.seen.append(name)
            return head.startswith(b"\x08")

    pkg.write("model.onnx", b"\x08\x07rest")
    found = detect(pkg.root, templates=[OnnxTemplate(), get_template("pytorch-py37")])
    assert found.best is not None and found.best.template == "onnx-py37"
    assert set(OnnxTemplate.seen) == {"model.onnx"}


def test_survey_parses_each_version_once(pkg: PackageBuilder, monkeypatch: pytest.MonkeyPatch) -> None:
    from modeltemplates.checks import syntax

    calls: list[tuple[int, int]] = []
    real = syntax.check_source

    def counting(path, data, python):  # type: ignore[no-untyped-def]
        calls.append(python)
        return real(path, data, python)

    monkeypatch.setattr(syntax, "check_source", counting)
    pkg.valid()
    detect(pkg.root)
    assert sorted(calls) == [(2, 7), (3, 7)]  # TensorFlow's 3.6 is out of contention: no parse
    assert PackageSurvey  # the survey is the shared state: one per detect()


def test_cli_detect(pkg: PackageBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    _mxnet(pkg, SERVICE_MXNET + PY3_ONLY)
    assert main(["detect", str(pkg.root), "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("detected MXNet-py37") and "DET005" in out
    assert main(["detect", str(pkg.root), "--json", "--no-cache"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["best"] == "mxnet-py37" and data["runner_up"] == "mxnet-py27" and not data["tie"]


def test_validate_and_manifest_without_template(pkg: PackageBuilder, capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    _caffe(pkg)
    assert main(["validate", str(pkg.root), "--no-cache"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("Caffe-CPU-py27: checking") and "detected Caffe-CPU-py27" in first
    assert "runner-up Caffe-GPU-py27" in first
    assert main(["validate", str(pkg.root), "--json", "--no-cache"]) == 0
    assert "detected Caffe-CPU-py27" in json.loads(capsys.readouterr().out)["facts"]["detected"]
    target = tmp_path / "manifest.json"
    assert main(["manifest", str(pkg.root), "-o", str(target), "--no-cache"]) == 0
    err = capsys.readouterr().err
    assert "no --template given: detected Caffe-CPU-py27" in err.splitlines()[0]
    assert json.loads(target.read_text())


def test_detect_reads_only_the_head_of_model_files(pkg: PackageBuilder) -> None:
    pkg.valid()
    big = pkg.path("big.pth")
    with open(big, "wb") as f:
        f.write(b"\x80\x02")
        f.truncate(1 << 30)  # a sparse 1 GiB file: reading it would show in time and memory
    found = detect(pkg.root)
    assert found.best is not None and found.best.template.startswith("pytorch-")


def test_layout_parts_are_evidence(pkg: PackageBuilder) -> None:
    sym, _, _ = mlp()
    pkg.write("mlp-symbol.json", sym)
    fits = {f.template: f for f in detect(pkg.root).fits}
    assert [a.rule for a in fits["mxnet-py37"].against] == ["DET003"]
    assert isinstance(get_template("mxnet-py37").layout.model_parts[0], FileRule)
