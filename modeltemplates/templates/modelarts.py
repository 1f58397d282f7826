"""The ModelArts template family as declarations.

Source: the platform's template pages (``model_templates/templates/pytorch-py27_general_template.rst``
and ``pytorch-py37_general_template.rst``): "AI engine: PyTorch 1.0; Environment: Python 2.7 / 3.7;
Input and output mode: Undefined", which "can be overwritten"; the folder must be named ``model``;
the inference code is optional, named ``customize_service.py``, one only; custom Python packages may
sit beside it; the model file is mandatory (``resnet50.pth`` in the example, saved as a state_dict).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from modeltemplates.findings import Finding
from modeltemplates.layout import FileRule, LayoutRules
from modeltemplates.template import ModelFileCheck, Template

if TYPE_CHECKING:
    from modeltemplates.pipeline import Settings


def modelarts_layout(model_suffixes: tuple[str, ...]) -> LayoutRules:
    """The layout every ModelArts general template shares; engines differ in the model file."""
    return LayoutRules(
        root_name="model",
        model_file=FileRule(role="model file", suffixes=model_suffixes, required=True, max_count=1),
        inference_script=FileRule(role="inference code", names=("customize_service.py",), max_count=1),
        config_file=FileRule(role="model configuration", names=("config.json",), max_count=1),
    )


class PyTorchTemplate(Template):
    """Shared by the PyTorch templates: model files are read by the static torch reader."""

    abstract: ClassVar[bool] = True
    engine: ClassVar[str] = "PyTorch"
    engine_version: ClassVar[str] = "1.0"
    # What counts as the model file: a `.pth` or `.pt` file at the top of model/ (the platform's
    # example is resnet50.pth; torch's own docs use both suffixes). Other files are data.
    layout: ClassVar[LayoutRules] = modelarts_layout((".pth", ".pt"))

    def check_model_file(
        self, path: str, f: BinaryIO, size: int, package_modules: frozenset[str], settings: Settings
    ) -> ModelFileCheck:
        from modeltemplates.checks.modelfile import check_model_file

        result = check_model_file(
            path, f, size, self.runtime, package_modules=package_modules, limits=settings.torch
        )
        facts = result.facts.to_dict() if result.facts is not None else {}
        return ModelFileCheck(findings=tuple(result.findings), facts=facts)

    def deep_check_model_file(
        self, file_path: str, facts: Mapping[str, Any], timeout: float, *, path: str = ""
    ) -> tuple[Finding, ...]:
        from modeltemplates.deepcheck import deep_check

        return tuple(deep_check(file_path, facts, timeout=timeout, path=path))


class PyTorchPy27(PyTorchTemplate):
    id = "pytorch-py27"
    title = "PyTorch-py27"
    aliases = ("PyTorch-py27 General Template", "pytorch_py27")
    python = "2.7"
    summary = (
        "AI engine PyTorch 1.0 on Python 2.7. Input and output mode 'undefined' by default; another "
        "mode may be chosen. Select the `model` folder holding the model file."
    )
    reference = "ModelArts: PyTorch-py27 General Template (modelarts_23_0165)"


class PyTorchPy37(PyTorchTemplate):
    id = "pytorch-py37"
    title = "PyTorch-py37"
    aliases = ("PyTorch-py37 General Template", "pytorch_py37")
    python = "3.7"
    summary = (
        "AI engine PyTorch 1.0 on Python 3.7. Input and output mode 'undefined' by default; another "
        "mode may be chosen. Select the `model` folder holding the model file."
    )
    reference = "ModelArts: PyTorch-py37 General Template (modelarts_23_0166)"


BUILTIN_TEMPLATES: tuple[type[Template], ...] = (PyTorchPy27, PyTorchPy37)
