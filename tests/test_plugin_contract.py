"""Plugin contracts: checked when the class is defined; a plugin's facts and rules reach every output."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO, ClassVar

import pytest

import modeltemplates
from modeltemplates import (
    DuplicateRuleError,
    Finding,
    LayoutRules,
    ModelFileCheck,
    ModelSetContext,
    ModelTemplatesError,
    Rule,
    Settings,
    Severity,
    Template,
    TemplateDefinitionError,
)
from modeltemplates._registry import REGISTRY
from modeltemplates.cli import main
from modeltemplates.runtime import SUPPORTED_PYTHON_VERSIONS
from modeltemplates.templates.modelarts import PyTorchTemplate, modelarts_layout
from tests.builders import PackageBuilder

ROOT = Path(__file__).resolve().parents[1]
PLUGINS_MD = ROOT / "docs" / "plugins.md"


def _declare(**body: Any) -> type[Template]:
    """Run a class statement for a template with ``body`` over a valid base declaration."""
    base: dict[str, Any] = {
        "id": "demo-x", "title": "Demo-x", "engine": "ONNX", "engine_version": "1.0", "python": "3.7",
        "layout": modelarts_layout((".onnx",)), "model_inspector": "none",
    }
    base.update(body)
    return type("DemoX", (Template,), {k: v for k, v in base.items() if v is not _ABSENT})


_ABSENT = object()


def test_a_python_without_grammar_is_refused_with_the_supported_versions() -> None:
    with pytest.raises(TemplateDefinitionError, match=r"python = '3\.9' has no grammar.*supported: 2\.7, 3\.6, 3\.7"):
        _declare(python="3.9")
    with pytest.raises(TemplateDefinitionError, match="python = '2' has no grammar"):
        class Py2(PyTorchTemplate):
            id = "py2"
            title = "Py2"
            python = "2"


def test_an_engine_without_inspector_and_without_none_is_refused_listing_engines() -> None:
    with pytest.raises(TemplateDefinitionError) as info:
        _declare(model_inspector=_ABSENT)
    message = str(info.value)
    assert "engine 'ONNX' has no model-file inspector" in message
    assert re.search(r"engines with one: [\w, ]*PyTorch", message) and "model_inspector = 'none'" in message
    assert isinstance(info.value, ModelTemplatesError) and isinstance(info.value, TypeError)


def test_declaring_none_or_overriding_is_accepted_but_not_both() -> None:
    assert _declare().model_inspector == "none"

    def check_model_file(self: Template, path: str, f: BinaryIO, size: int,  # noqa: PLR0917 - the hook's signature
                         package_modules: frozenset[str], settings: Settings) -> ModelFileCheck:
        return ModelFileCheck()

    assert _declare(model_inspector=_ABSENT, check_model_file=check_model_file).model_inspector is None
    with pytest.raises(TemplateDefinitionError, match="declares model_inspector = 'none' but overrides"):
        _declare(check_model_file=check_model_file)
    with pytest.raises(TemplateDefinitionError, match="the only value to declare is 'none'"):
        _declare(model_inspector="onnx")


def test_other_declarations_are_checked_too() -> None:
    with pytest.raises(TemplateDefinitionError, match=r"default_io_mode = 'batch' is no I/O mode \(supported: "):
        _declare(default_io_mode="batch")
    with pytest.raises(TemplateDefinitionError, match="does not declare layout"):
        _declare(layout=_ABSENT)
    good = Rule("ONX001", "t", Severity.ERROR, what="w", why="y", fix="f")
    with pytest.raises(TemplateDefinitionError, match="is not 2-5 capital letters"):
        _declare(rules=(Rule("onnx-1", "t", Severity.ERROR, what="w", why="y", fix="f"),))
    with pytest.raises(TemplateDefinitionError, match="declared twice"):
        _declare(rules=(good, good))
    with pytest.raises(TemplateDefinitionError, match="needs a title, what, why and fix"):
        _declare(rules=(Rule("ONX002", "t", Severity.ERROR, what="", why="y", fix="f"),))
    with pytest.raises(TemplateDefinitionError, match=r"tuple of modeltemplates\.Rule"):
        _declare(rules=["ONX001"])


def test_abstract_family_classes_are_not_checked() -> None:
    class Family(Template):
        abstract = True
        engine = "ONNX"

    with pytest.raises(TemplateDefinitionError):
        class Member(Family):
            id = "m"
            title = "M"
            engine_version = "1"
            python = "3.7"
            layout = modelarts_layout((".onnx",))


def test_supported_python_versions_are_the_grammars() -> None:
    from modeltemplates.inspect.grammars import LANGUAGES

    assert tuple(f"{a}.{b}" for a, b in sorted(LANGUAGES)) == SUPPORTED_PYTHON_VERSIONS


def test_declaring_a_template_does_not_load_the_parsers() -> None:
    code = (
        "import sys\nfrom modeltemplates import Template\nfrom modeltemplates.layout import LayoutRules, FileRule\n"
        "class T(Template):\n    id='t'; title='T'; engine='E'; engine_version='1'; python='3.7'\n"
        "    model_inspector='none'\n    layout=LayoutRules(root_name='model', model_file=FileRule(role='m', "
        "suffixes=('.x',)), inference_script=FileRule(role='i', names=('a.py',)), "
        "config_file=FileRule(role='c', names=('c.json',)))\n"
        "print(sorted(m for m in sys.modules if m.startswith('modeltemplates.inspect') or m == 'pathspec'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- the documented example, for real ---------------------------------------------------------------


def _example_source() -> str:
    blocks = re.findall(r"```python\n(.*?)```", PLUGINS_MD.read_text("utf-8"), re.S)
    assert len(blocks) == 1, "docs/plugins.md has one Python example"
    return blocks[0]


@pytest.fixture
def example(tmp_path: Path) -> Iterator[ModuleType]:
    """docs/plugins.md's module, imported from a file and registered for this test only."""
    path = tmp_path / "my_templates_onnx.py"
    path.write_text(_example_source(), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("my_templates_onnx", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    modeltemplates.register_template(module.OnnxPy37)
    try:
        yield module
    finally:
        REGISTRY.unregister("onnx-py37")


def _onnx_package(tmp_path: Path, model: bytes) -> PackageBuilder:
    b = PackageBuilder(tmp_path / "pkg" / "model")
    b.write("resnet.onnx", model)
    return b


def test_plugin_model_facts_reach_the_manifest_unchanged(example: ModuleType, tmp_path: Path) -> None:
    b = _onnx_package(tmp_path, b"\x08\x07\x12\x04onnx-and-more-bytes")
    manifest = modeltemplates.get_template("onnx-py37").build_manifest(b.root)
    expected = {"bytes": 23, "head": b"\x08\x07\x12\x04onnx-and-mor".hex()}
    assert manifest.model_file == {"path": "resnet.onnx", "facts": expected}
    assert json.loads(manifest.to_json())["model_file"] == {"path": "resnet.onnx", "facts": expected}


def test_plugin_rules_show_in_rules_and_in_reports(
    example: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = _onnx_package(tmp_path, b"")
    assert main(["rules"]) == 0
    assert re.search(r"^ONX001\s+error\s+Empty ONNX model file$", capsys.readouterr().out, re.M)
    assert main(["rules", "--markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "## ONX001" in markdown and "Export the model again" in markdown
    assert main(["validate", str(b.root), "--template", "onnx-py37"]) == 1
    assert "resnet.onnx: error ONX001: the model file is empty" in capsys.readouterr().out
    assert main(["validate", str(b.root), "--template", "onnx-py37", "--format", "json"]) == 1
    found = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule"] == "ONX001"]
    assert found and found[0]["hint"].startswith("Export the model again")
    assert main(["validate", str(b.root), "--template", "onnx-py37", "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert "ONX001" in {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}


def test_a_rule_id_that_is_taken_is_refused_at_registration(example: ModuleType) -> None:
    clash = Rule("LAY001", "mine", Severity.ERROR, what="w", why="y", fix="f")
    other = type("Other", (example.OnnxPy37,), {"id": "onnx-other", "title": "ONNX-other", "aliases": (),
                                                 "rules": (clash,)})
    with pytest.raises(DuplicateRuleError, match="LAY001 is taken by the built-in rules"):
        modeltemplates.register_template(other)
    reuse = type("Reuse", (example.OnnxPy37,), {"id": "onnx-reuse", "title": "ONNX-reuse", "aliases": ()})
    modeltemplates.register_template(reuse)  # the same rule object in a sibling template is fine
    REGISTRY.unregister("onnx-reuse")


class _Crashing(Template):
    id = "crashing"
    title = "Crashing"
    engine = "ONNX"
    engine_version = "1"
    python = "2.7"
    layout: ClassVar[LayoutRules] = modelarts_layout((".onnx",))
    model_inspector = "none"

    def check_model_set(self, context: ModelSetContext) -> tuple[Finding, ...]:
        raise RuntimeError("plugin bug")


def test_a_crashing_plugin_check_is_a_finding(tmp_path: Path) -> None:
    b = _onnx_package(tmp_path, b"x")
    report = _Crashing().validate(b.root)
    assert [f.message for f in report.by_rule("INT001")] == [
        "the model files together check failed: RuntimeError: plugin bug"
    ]


@pytest.mark.timeout(600)
def test_the_example_passes_mypy_strict_against_the_installed_package(tmp_path: Path) -> None:
    """mypy --strict on docs/plugins.md's example, run outside the repository so that mypy must find
    modeltemplates where the editable install put it (py.typed included)."""
    pytest.importorskip("mypy")
    (tmp_path / "example.py").write_text(_example_source(), encoding="utf-8")
    (tmp_path / "uses_types.py").write_text(
        "import modeltemplates\n\n"
        "t: modeltemplates.Template = modeltemplates.get_template('pytorch-py27')\n"
        "n: int = t.validate('model').counts()['error']\n"
        "reveal_type(modeltemplates.get_template)\n",
        encoding="utf-8",
    )
    env = None
    if not _editable_install_is_static():
        # This environment was installed before the project asked for a static editable install:
        # check the example against the sources and leave the install question to a fresh one.
        import os

        env = {**os.environ, "MYPYPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy_cache"),
         "example.py", "uses_types.py"],
        cwd=tmp_path, capture_output=True, text=True, env=env, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'Revealed type is "def (name: str) -> modeltemplates.template.Template"' in done.stdout
    if env is not None:
        pytest.skip("the editable install of this environment predates package-dir: reinstall with pip install -e .")


def _editable_install_is_static() -> bool:
    """False when modeltemplates is installed editable through an import hook (which type checkers
    cannot follow) in this interpreter's site-packages."""
    import site

    for folder in [*site.getsitepackages(), site.getusersitepackages()]:
        for pth in Path(folder).glob("__editable__.modeltemplates-*.pth"):
            if pth.read_text("utf-8").lstrip().startswith("import"):
                return False
    return True


def test_the_editable_install_is_a_plain_path_for_type_checkers() -> None:
    """setuptools writes a plain .pth line (which mypy and pyright follow) instead of an import hook
    only for this layout declaration: keep it."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert config["tool"]["setuptools"]["package-dir"] == {"": "."}
    assert (ROOT / "modeltemplates" / "py.typed").is_file()
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["modeltemplates"]


def test_every_builtin_template_checks_its_sources(tmp_path: Path) -> None:
    """No built-in template leaves its Python sources unchecked (INT001 'unsupported Python version')."""
    b = PackageBuilder(tmp_path / "model")
    b.write("customize_service.py", "import os\n\nx = {'a': 1}\n")
    b.write("helper.py", "def f(a, b=1):\n    return a\n")
    for template in modeltemplates.list_templates():
        report = template.validate(b.root)
        assert not report.by_rule("INT001"), (template.id, [f.message for f in report.by_rule("INT001")])
