"""Which folder is the package: the one given when it has a package's marks, its `model/` child only
when it has none (issue 8, requirement 1), said in every output format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeltemplates import get_template
from modeltemplates.cli import main
from modeltemplates.package import open_package
from tests.builders import SERVICE_PY27, PackageBuilder, tiny_state_dict, torch_bytes


def _project_with_network_code_folder(root: Path) -> PackageBuilder:
    """A real-shaped submission: the package files at the top, the network code in a `model` package."""
    b = PackageBuilder(root)
    b.write("resnet50.pth", torch_bytes(tiny_state_dict()))
    b.write("customize_service.py", SERVICE_PY27)
    b.write("labels.json", '["cat", "dog"]\n')
    b.write("model/__init__.py", "")
    b.write("model/net.py", "import torch\n")
    return b


@pytest.mark.parametrize("mark", ["customize_service.py", "config.json"])
def test_folder_with_a_mark_is_the_package_even_with_a_model_child(tmp_path: Path, mark: str) -> None:
    b = PackageBuilder(tmp_path / "submission")
    b.write(mark, "{}" if mark == "config.json" else "")
    b.write("model/__init__.py", "")
    package = open_package(b.root)
    assert package.located.how == "marked"
    assert package.root == b.root
    assert package.get("model/__init__.py") is not None


def test_marked_folder_is_checked_where_it_is_and_lay001_says_rename(tmp_path: Path) -> None:
    b = _project_with_network_code_folder(tmp_path / "submission")
    report = get_template("pytorch-py27").validate(b.root)
    assert report.facts["package"]["located"] == "marked"
    assert report.facts["layout"]["inference_script"] == "customize_service.py"
    assert report.facts["layout"]["model_files"] == ["resnet50.pth"]
    (lay001,) = report.by_rule("LAY001")
    assert "checked as the package" in lay001.message and "Rename" in lay001.hint
    assert not report.by_rule("LAY025")
    assert {f.rule for f in report.errors} == {"LAY001"}


def test_child_is_taken_only_when_it_has_the_marks(tmp_path: Path) -> None:
    b = PackageBuilder(tmp_path / "job")
    b.write("README.md", "notes\n")
    b.write("model/customize_service.py", SERVICE_PY27)
    b.write("model/resnet50.pth", torch_bytes(tiny_state_dict()))
    assert open_package(b.root).located.how == "child"
    # A `model` child without marks is not switched to: the folder given is checked and LAY001 points there.
    c = PackageBuilder(tmp_path / "other")
    c.write("model/__init__.py", "")
    located = open_package(c.root).located
    assert located.how == "unnamed" and located.root == c.root and located.other_model_dirs == ("model",)


def test_switch_to_child_is_a_finding_in_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = PackageBuilder(tmp_path / "job" / "model").valid()
    assert b.root.name == "model"
    code = main(["validate", str(tmp_path / "job"), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in data["findings"]] == [("LAY025", "info")]
    assert "'job'" in data["findings"][0]["message"] and data["facts"]["package"]["located"] == "child"
    main(["validate", str(tmp_path / "job")])
    out = capsys.readouterr().out
    assert "LAY025" in out and "its `model` subfolder" in out.splitlines()[0]


def test_direct_model_folder_has_no_location_finding(pkg: PackageBuilder) -> None:
    pkg.valid()
    report = get_template("pytorch-py27").validate(pkg.root)
    assert report.findings == ()
