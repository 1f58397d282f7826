"""Reports and manifests name the tool's version and their schema_version, and the JSON Schemas
published in docs/ describe real outputs (issue 7, item 10)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import modeltemplates

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "pytorch-py27" / "model"


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((ROOT / "docs" / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _cli(*args: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "modeltemplates", *args], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


TOOL = {"name": "modeltemplates", "version": modeltemplates.__version__}


@pytest.mark.parametrize("paths", [[EXAMPLE], [EXAMPLE, EXAMPLE]], ids=["one package", "two packages"])
def test_json_reports_follow_the_published_schema(paths: list[Path]) -> None:
    data = _cli("validate", *map(str, paths), "-t", "pytorch-py27", "--format", "json")
    jsonschema.validate(data, _schema("report.schema.json"))
    assert data["tool"] == TOOL and data["schema_version"] == 1


def test_a_report_with_findings_and_the_api_form_follow_the_schema(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "customize_service.py").write_text("print 'py2 only'\nx = f'{1}'\n", encoding="utf-8")
    data = _cli("validate", str(model), "-t", "pytorch-py37", "--format", "json")
    assert data["findings"] and not data["ok"]
    jsonschema.validate(data, _schema("report.schema.json"))
    api = modeltemplates.get_template("pytorch-py37").validate(model).to_dict()
    jsonschema.validate(api, _schema("report.schema.json"))
    assert api["tool"] == TOOL


def test_manifests_follow_the_published_schema() -> None:
    data = _cli("manifest", str(EXAMPLE), "-t", "pytorch-py27")
    jsonschema.validate(data, _schema("manifest.schema.json"))
    assert data["tool"] == TOOL and data["schema_version"] == 1
    api = modeltemplates.get_template("pytorch-py27").build_manifest(EXAMPLE).to_dict()
    assert api["tool"] == TOOL


def test_the_schemas_reject_an_output_without_the_tool_version() -> None:
    data = _cli("manifest", str(EXAMPLE), "-t", "pytorch-py27")
    del data["tool"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, _schema("manifest.schema.json"))
