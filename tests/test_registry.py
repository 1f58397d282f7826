"""The template registry: names, filters, suggestions, duplicates, threads and entry-point plugins."""

from __future__ import annotations

import sys
import textwrap
import threading
from pathlib import Path
from typing import ClassVar

import pytest

import modeltemplates
from modeltemplates import (
    DuplicateTemplateError,
    LayoutRules,
    Template,
    TemplateRegistry,
    UnknownTemplateError,
    get_template,
    list_templates,
)
from modeltemplates.templates.modelarts import PyTorchPy27, modelarts_layout


@pytest.mark.parametrize(
    "name", ["pytorch-py27", "PyTorch-py27", "PyTorch-py27 General Template", "pytorch_py27", " PYTORCH-PY27 "]
)
def test_get_template_by_id_title_or_alias(name: str) -> None:
    t = get_template(name)
    assert t.id == "pytorch-py27"
    assert (t.engine, t.engine_version, t.python, t.default_io_mode) == ("PyTorch", "1.0", "2.7", "undefined")
    assert t.io_mode_overridable


def test_sibling_template_is_registered() -> None:
    t = get_template("PyTorch-py37")
    assert (t.engine, t.engine_version, t.python) == ("PyTorch", "1.0", "3.7")


def test_unknown_name_suggests_closest() -> None:
    with pytest.raises(UnknownTemplateError) as info:
        get_template("pytorch-py72")
    assert info.value.suggestions[0] in ("pytorch-py27", "pytorch-py37")
    assert "did you mean" in str(info.value)
    with pytest.raises(UnknownTemplateError) as none:
        get_template("zzzzzzzzzzzzzzzzzz")
    assert none.value.suggestions == ()


def test_list_templates_filters() -> None:
    assert {"pytorch-py27", "pytorch-py37", "mxnet-py27", "mxnet-py37", "tensorflow-py27", "tensorflow-py36"} <= {
        t.id for t in list_templates()}
    assert [t.id for t in list_templates(engine="pytorch", python="2.7")] == ["pytorch-py27"]
    assert [t.id for t in list_templates(engine="PyTorch", python="python3.7")] == ["pytorch-py37"]
    assert [t.id for t in list_templates(engine="mxnet", python="3.7")] == ["mxnet-py37"]
    assert [t.id for t in list_templates(engine="TensorFlow")] == ["tensorflow-py27", "tensorflow-py36"]
    assert len(list_templates(io_mode="Built-in object detection mode")) == len(list_templates())


class _Fixed(Template):
    id = "demo-fixed"
    title = "Demo fixed"
    engine = "PyTorch"
    engine_version = "1.0"
    python = "3.7"
    default_io_mode = "image_processing"
    io_mode_overridable = False
    layout: ClassVar[LayoutRules] = modelarts_layout((".pth",))
    model_inspector = "none"


def test_register_duplicate_and_io_mode_filter() -> None:
    reg = TemplateRegistry(lambda: [PyTorchPy27], entry_point_group=None)
    reg.register(_Fixed)
    with pytest.raises(DuplicateTemplateError):
        reg.register(_Fixed)
    with pytest.raises(DuplicateTemplateError):  # a name another template already answers to
        class Clash(_Fixed):
            id = "other"
            title = "PyTorch-py27"
        reg.register(Clash)
    reg.register(_Fixed, replace=True)
    assert reg.get("Demo fixed").id == "demo-fixed"
    reg.unregister("demo-fixed")
    with pytest.raises(UnknownTemplateError):
        reg.get("demo-fixed")


def test_fixed_io_mode_cannot_be_overridden() -> None:
    t = _Fixed()
    assert t.allowed_io_modes() == ("image_processing",)
    with pytest.raises(ValueError, match="fixes the I/O mode"):
        t.resolve_io_mode("predictive_analytics")
    assert t.resolve_io_mode(None).id == "image_processing"


def test_incomplete_template_is_rejected_at_class_creation() -> None:
    with pytest.raises(TypeError, match="does not declare"):
        class Broken(Template):
            id = "broken"


def test_module_level_register_template() -> None:
    class Temp(_Fixed):
        id = "demo-module-level"
        title = "Demo module level"
    try:
        modeltemplates.register_template(Temp)
        assert get_template("demo module level").id == "demo-module-level"
    finally:
        modeltemplates._registry.REGISTRY.unregister("demo-module-level")


def test_registry_is_thread_safe() -> None:
    reg = TemplateRegistry(lambda: [PyTorchPy27], entry_point_group=None)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for j in range(50):
                cls = type(f"T{i}_{j}", (_Fixed,), {"id": f"t-{i}-{j}", "title": f"T {i} {j}"})
                reg.register(cls)
                assert reg.get(f"t-{i}-{j}").id == f"t-{i}-{j}"
                reg.all()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(reg.all()) == 1 + 8 * 50


def _install_plugin(site: Path, group: str) -> None:
    """A real installed distribution: a module plus dist-info with entry_points.txt."""
    (site / "mt_demo_plugin.py").write_text(textwrap.dedent('''
        from modeltemplates import Template
        from modeltemplates.templates.modelarts import modelarts_layout

        class DemoTemplate(Template):
            id = "demo-plugin"
            title = "Demo-plugin"
            engine = "PyTorch"
            engine_version = "1.0"
            python = "3.7"
            layout = modelarts_layout((".pth",))
            model_inspector = "none"
    '''))
    dist = site / "mt_demo_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mt-demo-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{group}]\ndemo = mt_demo_plugin:DemoTemplate\nbroken = mt_demo_plugin:Missing\n"
    )


def test_plugin_discovered_through_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    group = "modeltemplates.templates"
    _install_plugin(tmp_path, group)
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = TemplateRegistry(lambda: [PyTorchPy27], entry_point_group=group)
    assert "mt_demo_plugin" not in sys.modules  # lazily loaded
    assert reg.get("pytorch-py27").id == "pytorch-py27"
    assert "mt_demo_plugin" not in sys.modules  # built-ins answer without loading plugins
    assert reg.get("demo-plugin").python == "3.7"
    problems = reg.problems()
    assert [p.entry_point for p in problems] == ["broken = mt_demo_plugin:Missing"]
    assert [t.id for t in reg.all()] == ["demo-plugin", "pytorch-py27"]
