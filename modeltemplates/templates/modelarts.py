"""The ModelArts template family as declarations.

Source: the platform's template pages (``model_templates/templates/pytorch-py27_general_template.rst``
and ``pytorch-py37_general_template.rst``): "AI engine: PyTorch 1.0; Environment: Python 2.7 / 3.7;
Input and output mode: Undefined", which "can be overwritten"; the folder must be named ``model``;
the inference code is optional, named ``customize_service.py``, one only; custom Python packages may
sit beside it; the model file is mandatory (``resnet50.pth`` in the example, saved as a state_dict).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

import attrs

from modeltemplates.findings import Finding
from modeltemplates.layout import FileRule, LayoutRules
from modeltemplates.template import ModelFileCheck, ModelSetCheck, ModelSetContext, Template

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


def _manifest_summary(path: str, facts: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ModelArts engines record a summary of their model facts (see manifest.model_file_summary)."""
    from modeltemplates.manifest import model_file_summary

    return model_file_summary(path, facts)


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

    def model_file_summary(self, path: str, facts: Mapping[str, Any]) -> Mapping[str, Any]:
        return _manifest_summary(path, facts)

    def recognize_model_file(self, name: str, head: bytes) -> bool | None:
        # torch.save writes a zip (torch >= 1.6), a pickle (protocol 2+ starts with 0x80) or a tar
        # (the oldest format); torch.jit.save a zip too
        if not head:
            return None
        return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80" or head[257:262] == b"ustar"

    def deep_check_unavailable(self) -> str | None:
        from modeltemplates.deepcheck import torch_unavailable

        return torch_unavailable()

    deep_check_streams: ClassVar[bool] = True

    def deep_check_model_file(
        self, file_path: str | Callable[[], BinaryIO], facts: Mapping[str, Any], timeout: float, *, path: str = ""
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


class MXNetTemplate(Template):
    """Shared by the MXNet templates (modelarts_23_0163/0164): a symbol and its parameters, read statically.

    The page's example is ``resnet-50-symbol.json`` (network) and ``resnet-50-0000.params``
    (parameters), both mandatory, beside the optional ``customize_service.py``.
    """

    abstract: ClassVar[bool] = True
    engine: ClassVar[str] = "MXNet"
    engine_version: ClassVar[str] = "1.2.1"
    layout: ClassVar[LayoutRules] = attrs.evolve(
        modelarts_layout(("-symbol.json", ".params")),
        model_file=FileRule(role="model file", suffixes=("-symbol.json", ".params"), required=True, max_count=2),
        model_parts=(
            FileRule(role="network definition `<name>-symbol.json`", suffixes=("-symbol.json",), required=True),
            FileRule(role="parameters `<name>-<epoch>.params`", suffixes=(".params",), required=True),
        ),
    )

    def check_model_file(
        self, path: str, f: BinaryIO, size: int, package_modules: frozenset[str], settings: Settings
    ) -> ModelFileCheck:
        from modeltemplates.engines.mxnet.checks import check_file

        findings, facts = check_file(path, f, size)
        return ModelFileCheck(findings=tuple(findings), facts=facts)

    def model_file_summary(self, path: str, facts: Mapping[str, Any]) -> Mapping[str, Any]:
        from modeltemplates.engines.mxnet.checks import summarize

        return summarize(path, facts)

    def recognize_model_file(self, name: str, head: bytes) -> bool | None:
        if not head:
            return None
        if name.lower().endswith(".params"):
            return head[:8] == b"\x12\x01\x00\x00\x00\x00\x00\x00"  # kMXAPINDArrayListMagic
        return head.lstrip()[:1] == b"{" and b'"nodes"' in head

    def check_model_set(self, context: ModelSetContext) -> tuple[Finding, ...]:
        from modeltemplates.engines.mxnet.checks import check_pair

        return tuple(check_pair(context.model_files, context.model_facts, context.files,
                                context.script_path, context.script_source))


class MXNetPy27(MXNetTemplate):
    id = "mxnet-py27"
    title = "MXNet-py27"
    aliases = ("MXNet-py27 General Template", "mxnet_py27")
    python = "2.7"
    summary = (
        "AI engine MXNet 1.2.1 on Python 2.7. Input and output mode 'undefined' by default; another "
        "mode may be chosen. Select the `model` folder holding the symbol and parameters files."
    )
    reference = "ModelArts: MXNet-py27 General Template (modelarts_23_0163)"


class MXNetPy37(MXNetTemplate):
    id = "mxnet-py37"
    title = "MXNet-py37"
    aliases = ("MXNet-py37 General Template", "mxnet_py37")
    python = "3.7"
    summary = (
        "AI engine MXNet 1.2.1 on Python 3.7. Input and output mode 'undefined' by default; another "
        "mode may be chosen. Select the `model` folder holding the symbol and parameters files."
    )
    reference = "ModelArts: MXNet-py37 General Template (modelarts_23_0164)"


class TensorFlowTemplate(Template):
    """Shared by the TensorFlow templates (``tensorflow-py27_general_template.rst``,
    ``tensorflow-py36_general_template.rst``): a SavedModel read by the static TensorFlow reader.

    The page's package: ``saved_model.pb`` (mandatory) and ``variables/`` holding
    ``variables.index`` and ``variables.data-00000-of-00001`` (mandatory with it) at the top of
    ``model/``; inference code and custom packages optional.
    """

    abstract: ClassVar[bool] = True
    engine: ClassVar[str] = "TensorFlow"
    engine_version: ClassVar[str] = "1.8"
    # The loader reads exactly `saved_model.pb`; other top-level `.pb` files (a frozen graph, a
    # misnamed SavedModel) are read by check_model_set and named as such.
    layout: ClassVar[LayoutRules] = LayoutRules(
        root_name="model",
        model_file=FileRule(role="SavedModel", names=("saved_model.pb",), required=True, max_count=1),
        inference_script=FileRule(role="inference code", names=("customize_service.py",), max_count=1),
        config_file=FileRule(role="model configuration", names=("config.json",), max_count=1),
    )

    def model_file_summary(self, path: str, facts: Mapping[str, Any]) -> Mapping[str, Any]:
        return _manifest_summary(path, facts)

    def check_model_file(
        self, path: str, f: BinaryIO, size: int, package_modules: frozenset[str], settings: Settings
    ) -> ModelFileCheck:
        from modeltemplates.engines.tensorflow.checks import check_saved_model

        result = check_saved_model(path, f, size, settings.tensorflow)
        return ModelFileCheck(findings=result.findings, facts=result.facts)

    def recognize_model_file(self, name: str, head: bytes) -> bool | None:
        # a SavedModel message starts with saved_model_schema_version (field 1, varint) or
        # meta_graphs (field 2, length-delimited)
        if not head:
            return None
        return head[:1] in (b"\x08", b"\x12")

    def check_model_set(self, context: ModelSetContext) -> ModelSetCheck:
        from modeltemplates.engines.tensorflow.checks import check_package
        from modeltemplates.engines.tensorflow.files import PackageView

        if context.package is None:
            return ModelSetCheck()
        limits = context.settings.tensorflow if context.settings is not None else None
        checked = {p: context.model_facts[p] for p in context.model_files if p in context.model_facts}
        findings, facts = check_package(PackageView(context.package), checked, limits, others=True,
                                        script_source=context.script_source)
        saved = sorted(p for p, f in checked.items() if f.get("format") == "saved_model")
        return ModelSetCheck(findings=findings, facts={saved[0]: facts} if saved and facts else {})


class TensorFlowPy27(TensorFlowTemplate):
    id = "tensorflow-py27"
    title = "TensorFlow-py27"
    aliases = ("TensorFlow-py27 General Template", "tensorflow_py27")
    python = "2.7"
    summary = (
        "AI engine TensorFlow 1.8 on Python 2.7. Input and output mode 'undefined' by default; another "
        "mode may be chosen. Select the `model` folder holding saved_model.pb and variables/."
    )
    reference = "ModelArts: TensorFlow-py27 General Template (modelarts_23_0161)"


class TensorFlowPy36(TensorFlowTemplate):
    id = "tensorflow-py36"
    title = "TensorFlow-py36"
    aliases = ("TensorFlow-py36 General Template", "tensorflow_py36")
    python = "3.6"
    summary = (
        "AI engine TensorFlow 1.8 on Python 3.6. Input and output mode 'undefined' by default; another "
        "mode may be chosen. Select the `model` folder holding saved_model.pb and variables/."
    )
    reference = "ModelArts: TensorFlow-py36 General Template (modelarts_23_0262)"


class CaffeTemplate(Template):
    """Shared by the Caffe templates (modelarts_23_0167..0170): a network definition and its weights.

    The page's example is ``deploy.prototxt`` (network structure) and ``resnet.caffemodel``
    (weights), both mandatory. CPU and GPU templates differ only in the device the page names.
    """

    abstract: ClassVar[bool] = True
    engine: ClassVar[str] = "Caffe"
    engine_version: ClassVar[str] = "1.0"
    #: "CPU" or "GPU", as the page's title and introduction say ("CPU-based Caffe 1.0").
    device: ClassVar[str]
    layout: ClassVar[LayoutRules] = attrs.evolve(
        modelarts_layout((".prototxt", ".caffemodel")),
        # a package may also hold the training network and solver; the deploy network is picked
        # by name (deploy.prototxt) or content, see engines/caffe/checks.py
        model_file=FileRule(role="model file", suffixes=(".prototxt", ".caffemodel"), required=True, max_count=9),
        model_parts=(
            FileRule(role="network definition `deploy.prototxt`", suffixes=(".prototxt",), required=True,
                     max_count=8),
            FileRule(role="weights `<name>.caffemodel`", suffixes=(".caffemodel",), required=True),
        ),
    )

    def check_model_file(
        self, path: str, f: BinaryIO, size: int, package_modules: frozenset[str], settings: Settings
    ) -> ModelFileCheck:
        from modeltemplates.engines.caffe.checks import check_file

        findings, facts = check_file(path, f, size)
        return ModelFileCheck(findings=tuple(findings), facts=facts)

    def model_file_summary(self, path: str, facts: Mapping[str, Any]) -> Mapping[str, Any]:
        from modeltemplates.engines.caffe.checks import summarize

        return summarize(path, facts)

    def recognize_model_file(self, name: str, head: bytes) -> bool | None:
        from modeltemplates.engines.caffe.checks import looks_like_caffe

        return looks_like_caffe(name, head)

    def check_model_set(self, context: ModelSetContext) -> tuple[Finding, ...]:
        from modeltemplates.engines.caffe.checks import check_net

        return tuple(check_net(context.model_files, context.model_facts, context.package_modules))


def _caffe_summary(device: str, python: str) -> str:
    return (
        f"AI engine {device}-based Caffe 1.0 on Python {python}. Input and output mode 'undefined' by "
        "default; another mode may be chosen. Select the `model` folder holding deploy.prototxt and the "
        ".caffemodel weights."
    )


class CaffeCpuPy27(CaffeTemplate):
    id = "caffe-cpu-py27"
    title = "Caffe-CPU-py27"
    aliases = ("Caffe-CPU-py27 General Template", "caffe_cpu_py27")
    python = "2.7"
    device = "CPU"
    summary = _caffe_summary("CPU", "2.7")
    reference = "ModelArts: Caffe-CPU-py27 General Template (modelarts_23_0167)"


class CaffeCpuPy37(CaffeTemplate):
    id = "caffe-cpu-py37"
    title = "Caffe-CPU-py37"
    aliases = ("Caffe-CPU-py37 General Template", "caffe_cpu_py37")
    python = "3.7"
    device = "CPU"
    summary = _caffe_summary("CPU", "3.7")
    reference = "ModelArts: Caffe-CPU-py37 General Template (modelarts_23_0169)"


class CaffeGpuPy27(CaffeTemplate):
    id = "caffe-gpu-py27"
    title = "Caffe-GPU-py27"
    aliases = ("Caffe-GPU-py27 General Template", "caffe_gpu_py27")
    python = "2.7"
    device = "GPU"
    summary = _caffe_summary("GPU", "2.7")
    reference = "ModelArts: Caffe-GPU-py27 General Template (modelarts_23_0168)"


class CaffeGpuPy37(CaffeTemplate):
    id = "caffe-gpu-py37"
    title = "Caffe-GPU-py37"
    aliases = ("Caffe-GPU-py37 General Template", "caffe_gpu_py37")
    python = "3.7"
    device = "GPU"
    summary = _caffe_summary("GPU", "3.7")
    reference = "ModelArts: Caffe-GPU-py37 General Template (modelarts_23_0170)"


BUILTIN_TEMPLATES: tuple[type[Template], ...] = (
    PyTorchPy27, PyTorchPy37, MXNetPy27, MXNetPy37, TensorFlowPy27, TensorFlowPy36,
    CaffeCpuPy27, CaffeCpuPy37, CaffeGpuPy27, CaffeGpuPy37,
)
