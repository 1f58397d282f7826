"""The platform's AI engines as data: service base class, rewritable methods, model files, images.

Sources (all under ``shared/reference/modelarts/``):

- base class and import statement: *Specifications for Writing Model Inference Code*, Table 1
  (``model_package_specifications/specifications_for_writing_model_inference_code.rst``);
- rewritable methods and which engines must rewrite ``__init__``: the same page, Table 2;
- model files: *Model Package Specifications*, "Model Package Example"
  (``model_package_specifications/model_package_specifications.rst``) and the template pages
  (``model_templates/templates/*.rst``); ``.pt`` from ``examples_of_custom_scripts/pytorch.rst``;
- ``self.model_path``: a folder for TensorFlow, Caffe and MXNet (item 3 of the inference-code page),
  and for MindSpore (its example appends the checkpoint name); the model file otherwise;
- preinstalled modules: the imports the platform's own example scripts use without declaring them
  (``examples_of_custom_scripts/*.rst`` and the examples in the inference-code page).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs


@attrs.frozen
class MethodSpec:
    """A method a service class may rewrite, with the parameters the platform passes (``self`` first)."""

    name: str
    params: tuple[str, ...]
    note: str = ""
    #: Other parameter lists the engine's real loader passes instead (``self`` first).
    alternatives: tuple[tuple[str, ...], ...] = ()

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"

    @property
    def positional_count(self) -> int:
        """How many positional arguments a bound call passes (``self`` included)."""
        return len(self.params)

    @property
    def positional_counts(self) -> tuple[int, ...]:
        """Every count of positional arguments (``self`` included) a platform call may pass."""
        return (len(self.params), *(len(p) for p in self.alternatives))


@attrs.frozen
class EngineSpec:
    """What the platform expects from an inference script written for one engine."""

    name: str
    base_class: str
    base_module: str
    init_required: bool
    methods: tuple[MethodSpec, ...]
    model_suffixes: tuple[str, ...]
    preinstalled: frozenset[str]
    #: True when ``self.model_path`` is the model file (its folder is ``dirname``), false when it
    #: is the model folder: item 3 of the inference-code page and its two code examples.
    model_path_is_file: bool = True

    @property
    def qualified_base(self) -> str:
        return f"{self.base_module}.{self.base_class}"

    @property
    def import_statement(self) -> str:
        """The exact line Table 1 prescribes."""
        return f"from {self.base_module} import {self.base_class}"

    def method(self, name: str) -> MethodSpec | None:
        for spec in self.methods:
            if spec.name == name:
                return spec
        return None


# Table 2: the two ``__init__`` forms, the three request hooks and the micro-batch hook.
_INIT_DL = MethodSpec(
    "__init__", ("self", "model_name", "model_path"),
    "Initialization for deep-learning engines: load the model and labels here.",
)
_INIT_ML = MethodSpec(
    "__init__", ("self", "model_path"),
    "Initialization for machine-learning engines: sets self.model_path (and self.spark for Spark_MLlib).",
)
# MXNet models are served by MMS (the base class lives in ``mms.model_service``), whose loader
# instantiates ``service_class(model_name, model_dir, manifest, gpu)`` and whose
# ``MXNetBaseService.__init__`` takes those four (mxnet-model-server 0.x, ``mms/model_loader.py``
# and ``mms/model_service/mxnet_model_service.py``); ModelArts's own MXNet scripts use that form.
_INIT_MMS = attrs.evolve(
    _INIT_DL, alternatives=(("self", "model_name", "model_dir", "manifest", "gpu"),),
    note=_INIT_DL.note + " MXNet (MMS) passes model_name, model_dir, manifest, gpu.",
)
_PRE = MethodSpec("_preprocess", ("self", "data"), "Turns the API request into model input.")
_INFER = MethodSpec(
    "_inference", ("self", "data"),
    "Runs the model; the spec advises against rewriting it (it replaces the built-in inference).",
)
_POST = MethodSpec("_postprocess", ("self", "data"), "Turns model output into the API response.")
_BATCH = MethodSpec(
    "batch_inference", ("self", "data"),
    "Micro-batch handler behind /batch (Spark_MLlib, Scikit_Learn, XGBoost only).",
)
_DL_METHODS = (_INIT_DL, _PRE, _INFER, _POST)
_MMS_METHODS = (_INIT_MMS, _PRE, _INFER, _POST)
_ML_METHODS = (_INIT_ML, _PRE, _INFER, _POST, _BATCH)

# Every script may use the platform's own service framework and its logger module ``log``
# (``import log`` in examples_of_custom_scripts/pytorch.rst), and the framework's ``metric``
# package: scripts deployed on ModelArts (its competition baselines and the submissions built on
# them) import ``from metric.metrics_manager import MetricsManager`` unguarded and undeclared, to
# rewrite ``inference`` the way the framework's own one records latencies.
PLATFORM_MODULES = frozenset({"model_service", "log", "metric"})
_PLATFORM = PLATFORM_MODULES
# Imported undeclared by the example scripts: PIL and numpy in every example (pytorch.rst,
# caffe.rst, tensorflow.rst, the TensorFlow and MindSpore examples of the inference-code page).
_COMMON = _PLATFORM | {"numpy", "PIL"}
# One "XGBoost-Sklearn" engine serves both (supported_ai_frameworks.rst, Table 1).
_XGB_SKL = _COMMON | {"xgboost", "sklearn"}

ENGINES: Mapping[str, EngineSpec] = MappingProxyType({
    spec.name: spec
    for spec in (
        EngineSpec(
            "TensorFlow", "TfServingBaseService", "model_service.tfserving_model_service",
            init_required=False, methods=_DL_METHODS, model_suffixes=(".pb",),
            # TensorFlow 1.8.0's own requirements (Requires-Dist of its wheels): absl-py, astor,
            # gast, numpy, six, protobuf (google.protobuf), tensorboard, termcolor, grpcio, wheel;
            # on Python 2.7 also mock and backports.weakref.
            preinstalled=_COMMON | {"tensorflow", "absl", "astor", "gast", "six", "google", "tensorboard",
                                    "termcolor", "grpc", "wheel", "mock", "backports"},
            model_path_is_file=False,
        ),
        EngineSpec(
            "MXNet", "MXNetBaseService", "mms.model_service.mxnet_model_service",
            init_required=False, methods=_MMS_METHODS, model_suffixes=(".params", "-symbol.json"),
            preinstalled=_COMMON | {"mxnet", "mms"},
            model_path_is_file=False,
        ),
        EngineSpec(
            # pytorch.rst imports torch, torchvision, PIL, numpy, json, os and log undeclared.
            "PyTorch", "PTServingBaseService", "model_service.pytorch_model_service",
            init_required=True, methods=_DL_METHODS, model_suffixes=(".pth", ".pt"),
            preinstalled=_COMMON | {"torch", "torchvision"},
        ),
        EngineSpec(
            "Spark_MLlib", "SparkServingBaseService", "model_service.spark_model_service",
            init_required=False, methods=_ML_METHODS, model_suffixes=(),
            preinstalled=_COMMON | {"pyspark"},
        ),
        EngineSpec(
            "Caffe", "CaffeBaseService", "model_service.caffe_model_service",
            init_required=True, methods=_DL_METHODS, model_suffixes=(".caffemodel", ".prototxt"),
            preinstalled=_COMMON | {"caffe"},
            model_path_is_file=False,
        ),
        EngineSpec(
            "XGBoost", "XgSklServingBaseService", "model_service.python_model_service",
            init_required=False, methods=_ML_METHODS, model_suffixes=(".m",),
            preinstalled=_XGB_SKL,
        ),
        EngineSpec(
            "Scikit_Learn", "XgSklServingBaseService", "model_service.python_model_service",
            init_required=False, methods=_ML_METHODS, model_suffixes=(".m",),
            preinstalled=_XGB_SKL,
        ),
        EngineSpec(
            "MindSpore", "SingleNodeService", "model_service.model_service",
            init_required=False, methods=_DL_METHODS, model_suffixes=(".ckpt",),
            preinstalled=_COMMON | {"mindspore"},
            model_path_is_file=False,
        ),
    )
})

#: Every base class of Table 1, qualified, mapped to the engines that use it.
BASE_CLASSES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    qualified: tuple(name for name, spec in ENGINES.items() if spec.qualified_base == qualified)
    for qualified in sorted({spec.qualified_base for spec in ENGINES.values()})
})


def engine_spec(name: str) -> EngineSpec | None:
    """The engine called ``name`` (case and ``-``/``_`` insensitive), or None."""
    key = name.replace("-", "_").casefold()
    for spec in ENGINES.values():
        if spec.name.casefold() == key:
            return spec
    return None
