"""The :class:`Template` base class: a platform template as a declaration plus three verbs.

A template subclass declares its engine, Python version, default I/O mode and layout rules as class
attributes; the base class supplies :meth:`Template.validate`, :meth:`Template.describe` and
:meth:`Template.build_manifest`. Engine-specific inspection (how a model file is read) comes from
hooks a family base class overrides, e.g. :class:`modeltemplates.templates.modelarts.PyTorchTemplate`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Literal

import attrs

from modeltemplates.findings import Finding, Report, Rule, dumps_canonical
from modeltemplates.layout import LayoutRules
from modeltemplates.runtime import Runtime

if TYPE_CHECKING:
    from modeltemplates.cache import ResultCache
    from modeltemplates.detect import Fit, PackageSurvey
    from modeltemplates.iomodes import IOMode
    from modeltemplates.manifest import Manifest
    from modeltemplates.package import Package
    from modeltemplates.pipeline import Inspection, Settings
    from modeltemplates.progress import ProgressCallback
    from modeltemplates.sources.options import RemoteOptions


@attrs.frozen
class ModelFileCheck:
    """What an engine's model-file inspector says about one file: findings and JSON-able facts."""

    findings: tuple[Finding, ...] = ()
    facts: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class ModelSetContext:
    """What :meth:`Template.check_model_set` sees: every model file's facts plus the package around them.

    Engines whose model is several files (TensorFlow's ``saved_model.pb`` and ``variables/``, MXNet's
    symbol and params, Caffe's network and weights) check here that the files belong together and
    agree with each other and with the code.
    """

    #: Package path of every model file the layout found, readable or not.
    model_files: tuple[str, ...]
    #: Facts of each model file its inspector read (``ModelFileCheck.facts``), by path.
    model_facts: Mapping[str, Mapping[str, Any]]
    #: Every file of the package (after ``.modelignore``), by path.
    files: frozenset[str]
    #: Top-level module names the package provides.
    package_modules: frozenset[str]
    #: The inference script's path and bytes, when there is one and it could be read.
    script_path: str | None = None
    script_source: bytes | None = None
    #: config.json's content, when it was read.
    config: Mapping[str, Any] | None = None
    #: The package itself, to size and read (bounded) files beside the model files.
    package: Package | None = None
    settings: Settings | None = None


@attrs.frozen
class ModelSetCheck:
    """What :meth:`Template.check_model_set` may return instead of bare findings: findings plus
    facts to add to each model file's facts (by path), e.g. the variables beside a SavedModel."""

    findings: tuple[Finding, ...] = ()
    facts: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)


@attrs.frozen
class TemplateDescription:
    """What :meth:`Template.describe` returns: everything a UI or another tool shows of a template."""

    id: str
    title: str
    aliases: tuple[str, ...]
    engine: str
    engine_version: str
    python: str
    runtime: str
    default_io_mode: str
    io_mode_overridable: bool
    io_modes: tuple[str, ...]
    summary: str
    layout: LayoutRules
    reference: str
    #: "CPU" or "GPU" where the template's page names the device (Caffe); "" otherwise.
    device: str = ""

    def to_dict(self) -> dict[str, Any]:
        engine = {"name": self.engine, "version": self.engine_version}
        if self.device:
            engine["device"] = self.device
        return {
            "id": self.id,
            "title": self.title,
            "aliases": list(self.aliases),
            "engine": engine,
            "python": self.python,
            "runtime": self.runtime,
            "io_mode": {
                "default": self.default_io_mode,
                "overridable": self.io_mode_overridable,
                "choices": list(self.io_modes),
            },
            "summary": self.summary,
            "layout": self.layout.to_dict(),
            "layout_rules": list(self.layout.statements()),
            "reference": self.reference,
        }

    def to_json(self) -> str:
        return dumps_canonical(self.to_dict())

    def to_text(self) -> str:
        override = "may be overridden" if self.io_mode_overridable else "fixed"
        lines = [
            f"{self.title} ({self.id})",
            f"  engine:   {self.engine} {self.engine_version}" + (f" ({self.device})" if self.device else ""),
            f"  python:   {self.python} (config.json runtime '{self.runtime}')",
            f"  I/O mode: {self.default_io_mode} ({override}; choices: {', '.join(self.io_modes)})",
        ]
        if self.aliases:
            lines.append(f"  aliases:  {', '.join(self.aliases)}")
        lines.append(f"  {self.summary}")
        lines.append("  layout:")
        lines.extend(f"    - {s}" for s in self.layout.statements())
        lines.append(f"  reference: {self.reference}")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text()


class Template:
    """Base class of every template. Subclasses declare the class attributes below.

    Instances are stateless and safe to share between threads.
    """

    id: ClassVar[str]
    title: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    engine: ClassVar[str]
    engine_version: ClassVar[str]
    python: ClassVar[str]
    default_io_mode: ClassVar[str] = "undefined"
    #: "CPU" or "GPU" when the platform's page names the device the engine runs on (Caffe).
    device: ClassVar[str] = ""
    io_mode_overridable: ClassVar[bool] = True
    layout: ClassVar[LayoutRules]
    summary: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    #: Set to True in the body of a base class that declares only part of a template.
    abstract: ClassVar[bool] = False
    #: How the engine's model files are read. A class (usually the engine's family base class)
    #: that reads them overrides :meth:`check_model_file`; a template whose engine has no reader
    #: here declares ``model_inspector = "none"`` (its model files are then only found, by the
    #: layout rules, never read). One of the two is required: see :func:`check_template_class`.
    model_inspector: ClassVar[str | None] = None
    #: The template's own rules (beyond the built-in catalogue): they are listed by
    #: ``modeltemplates rules``, documented by ``rules --markdown`` and may appear in reports.
    rules: ClassVar[tuple[Rule, ...]] = ()

    _REQUIRED: ClassVar[tuple[str, ...]] = ("id", "title", "engine", "engine_version", "python", "layout")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False):
            return  # a family base class (e.g. all PyTorch templates) declares only part
        check_template_class(cls)

    # -- what the template is -------------------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        return Runtime(self.engine, self.engine_version, self.python, self.device)

    def names(self) -> tuple[str, ...]:
        """Every name this template answers to: id, title and aliases."""
        return (self.id, self.title, *self.aliases)

    def allowed_io_modes(self) -> tuple[str, ...]:
        from modeltemplates.iomodes import IO_MODES

        if self.io_mode_overridable:
            return tuple(m.id for m in IO_MODES)
        return (self.default_io_mode,)

    def resolve_io_mode(self, io_mode: str | IOMode | None) -> IOMode:
        """The I/O mode to use: the default, or an allowed override (``ValueError`` otherwise)."""
        from modeltemplates.iomodes import get_io_mode

        if io_mode is None:
            return get_io_mode(self.default_io_mode)
        mode = get_io_mode(io_mode) if isinstance(io_mode, str) else io_mode
        if mode.id not in self.allowed_io_modes():
            from modeltemplates.errors import IOModeNotAllowedError

            raise IOModeNotAllowedError(
                f"template {self.id} fixes the I/O mode to '{self.default_io_mode}'; "
                f"'{mode.id}' cannot be chosen"
            )
        return mode

    def describe(self) -> TemplateDescription:
        return TemplateDescription(
            id=self.id,
            title=self.title,
            aliases=self.aliases,
            engine=self.engine,
            engine_version=self.engine_version,
            python=self.python,
            runtime=self.runtime.platform_runtime,
            default_io_mode=self.default_io_mode,
            io_mode_overridable=self.io_mode_overridable,
            io_modes=self.allowed_io_modes(),
            summary=self.summary,
            layout=self.layout,
            reference=self.reference,
            device=self.device,
        )

    # -- engine hooks ---------------------------------------------------------------------

    def check_model_file(
        self, path: str, f: BinaryIO, size: int, package_modules: frozenset[str], settings: Settings
    ) -> ModelFileCheck:
        """Inspect one model file. The base class knows no engine format and reports nothing."""
        return ModelFileCheck()

    def model_file_summary(self, path: str, facts: Mapping[str, Any]) -> Mapping[str, Any]:
        """What the manifest records of the model file: by default its path and the inspector's
        facts exactly as :meth:`check_model_file` returned them. An engine may summarise instead."""
        return {"path": path, "facts": facts}

    def recognize_model_file(self, name: str, head: bytes) -> bool | None:
        """Is the file ``name``, starting with ``head``, this engine's model file by content?

        Used by :func:`modeltemplates.detect`: ``True`` (it is), ``False`` (it is not) or ``None``
        (cannot tell; the name alone counts). The base class cannot tell.
        """
        return None

    def fit(self, survey: PackageSurvey) -> Fit:
        """How well this template fits the surveyed package (see :mod:`modeltemplates.detect`).

        The base class scores the model files (by :meth:`recognize_model_file`), the service base
        class, the Python version and config.json against this template's declarations; a family
        may override it to weigh evidence of its own.
        """
        from modeltemplates.detect import default_fit

        return default_fit(self, survey)

    def check_model_set(self, context: ModelSetContext) -> tuple[Finding, ...] | ModelSetCheck:
        """Check the model files together, after each was inspected. The base class has nothing to say."""
        return ()

    #: Whether :meth:`deep_check_model_file` also takes an opener of the file's bytes (for model files
    #: in archives and buckets); when not, such files get a "not checked" finding (MOD036).
    deep_check_streams: ClassVar[bool] = False

    def deep_check_model_file(
        self, file_path: str | Callable[[], BinaryIO], facts: Mapping[str, Any], timeout: float, *, path: str = ""
    ) -> tuple[Finding, ...]:
        """Optionally load the model file with the real engine (in a subprocess). Default: nothing.

        ``file_path`` is the file on disk or, when :attr:`deep_check_streams` is true and the file is in
        an archive or a bucket, a callable opening its bytes for one sequential read. ``path`` is its
        package-relative path for findings.
        """
        return ()

    def deep_check_unavailable(self) -> str | None:
        """Why :meth:`deep_check_model_file` cannot run here (with the fix), or ``None`` when it can.

        The base class has no deep check at all; an engine that has one says what it needs.
        """
        if type(self).deep_check_model_file is Template.deep_check_model_file:
            return f"template {self.id} has no deep check (engine {self.engine}); run without --deep"
        return None

    # -- the three verbs ------------------------------------------------------------------

    def inspect(
        self,
        path: str | os.PathLike[str],
        *,
        io_mode: str | IOMode | None = None,
        deep: bool | Literal["optional"] = False,
        settings: Settings | None = None,
        cache: ResultCache | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> Inspection:
        """Run every check and keep what they found (the package, facts and the report).

        ``cache`` remembers per-file results between runs (:mod:`modeltemplates.cache`); the
        report is the same with or without it. The package's source stays open (the manifest
        hashes through it): close it with ``inspection.package.source.close()`` when done.
        """
        from modeltemplates.pipeline import inspect_package

        _check_arguments(io_mode=io_mode, deep=deep, settings=settings)
        remote = _remote_options(path, region, endpoint_url, storage_options)
        return inspect_package(self, path, io_mode=io_mode, deep=deep, settings=settings, cache=cache,
                               remote=remote)

    def validate(
        self,
        path: str | os.PathLike[str],
        *,
        io_mode: str | IOMode | None = None,
        deep: bool | Literal["optional"] = False,
        settings: Settings | None = None,
        cache: ResultCache | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> Report:
        """Check a package: a folder, an archive, or a URL (``obs://bucket/prefix/model``, ``s3://``,
        any fsspec URL). Problems with the package are findings, never exceptions.

        ``region`` is the ModelArts region the package is for: it selects the OBS endpoint and turns
        on the same-region rule; ``endpoint_url`` overrides the endpoint; ``storage_options`` go to
        the fsspec filesystem (credentials among them are never shown anywhere).

        Raises ``FileNotFoundError``/``NotADirectoryError`` when a local ``path`` is neither a
        folder nor an archive, :class:`~modeltemplates.sources.SourceError` when a location cannot
        be read at all (no access, no such bucket, unreachable endpoint), and ``ValueError`` when
        ``io_mode`` or ``region`` is unknown.
        """
        inspection = self.inspect(path, io_mode=io_mode, deep=deep, settings=settings, cache=cache, region=region,
                                  endpoint_url=endpoint_url, storage_options=storage_options)
        if inspection.package.source is not None:
            inspection.package.source.close()
        return inspection.report

    def build_manifest(
        self,
        path: str | os.PathLike[str],
        *,
        io_mode: str | IOMode | None = None,
        allow_errors: bool = False,
        workers: int | None = None,
        settings: Settings | None = None,
        progress: ProgressCallback | None = None,
        cache: ResultCache | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> Manifest:
        """The manifest the platform needs for this package (see :mod:`modeltemplates.manifest`).

        ``path`` and the location options are as for :meth:`validate`. Raises
        :class:`~modeltemplates.manifest.PackageInvalid` (carrying the report) when the package has
        errors, unless ``allow_errors`` is true. ``progress`` is called with
        :class:`~modeltemplates.progress.Progress` while files are hashed (the library never prints).
        """
        from modeltemplates.manifest import manifest_for

        inspection = self.inspect(path, io_mode=io_mode, settings=settings, cache=cache, region=region,
                                  endpoint_url=endpoint_url, storage_options=storage_options)
        try:
            return manifest_for(inspection, allow_errors=allow_errors, workers=workers, progress=progress)
        finally:
            if inspection.package.source is not None:
                inspection.package.source.close()

    def __repr__(self) -> str:
        return f"<Template {self.id}: {self.engine} {self.engine_version}, Python {self.python}>"


def _check_arguments(*, io_mode: object, deep: object, settings: object) -> None:
    """Misuse of the API raises :class:`~modeltemplates.errors.InvalidArgumentError` (a TypeError)."""
    from modeltemplates.errors import InvalidArgumentError
    from modeltemplates.iomodes import IOMode
    from modeltemplates.pipeline import Settings

    if io_mode is not None and not isinstance(io_mode, (str, IOMode)):
        raise InvalidArgumentError(f"io_mode must be a mode name or an IOMode, not {type(io_mode).__name__}")
    if not isinstance(deep, bool) and deep != "optional":
        raise InvalidArgumentError(f"deep must be True, False or 'optional', not {deep!r}")
    if settings is not None and not isinstance(settings, Settings):
        raise InvalidArgumentError(f"settings must be a modeltemplates.Settings, not {type(settings).__name__}")


#: What a rule id looks like: two to five capital letters and three digits (``LAY001``, ``ONNX001``).
RULE_ID = re.compile(r"[A-Z]{2,5}[0-9]{3}")


def engines_with_inspectors() -> tuple[str, ...]:
    """The engines of every template class defined so far whose model files are read."""
    found: set[str] = set()
    stack: list[type[Template]] = [Template]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        engine = getattr(cls, "engine", None)
        if isinstance(engine, str) and cls.check_model_file is not Template.check_model_file:
            found.add(engine)
    return tuple(sorted(found))


def check_template_class(cls: type[Template]) -> None:
    """The template contract, checked when a concrete template class is defined.

    Raises :class:`~modeltemplates.errors.TemplateDefinitionError` naming every broken term and the
    values that are supported: required declarations, a Python version the source checks have a
    grammar for, a known default I/O mode, a model-file inspector (or ``model_inspector = "none"``)
    and well-formed rules of its own.
    """
    from modeltemplates.iomodes import IO_MODES
    from modeltemplates.runtime import SUPPORTED_PYTHON_VERSIONS

    problems: list[str] = []
    missing = [name for name in cls._REQUIRED if not hasattr(cls, name)]
    if missing:
        problems.append(f"it does not declare {', '.join(missing)}")
    python = getattr(cls, "python", None)
    if "python" not in missing and python not in SUPPORTED_PYTHON_VERSIONS:
        problems.append(
            f"python = {python!r} has no grammar for the source checks "
            f"(supported: {', '.join(SUPPORTED_PYTHON_VERSIONS)})"
        )
    modes = [m.id for m in IO_MODES]
    if cls.default_io_mode not in modes:
        problems.append(f"default_io_mode = {cls.default_io_mode!r} is no I/O mode (supported: {', '.join(modes)})")
    overrides = cls.check_model_file is not Template.check_model_file
    if cls.model_inspector not in (None, "none"):
        problems.append(f"model_inspector = {cls.model_inspector!r}: the only value to declare is 'none'")
    elif cls.model_inspector == "none" and overrides:
        problems.append("it declares model_inspector = 'none' but overrides check_model_file")
    elif cls.model_inspector is None and not overrides:
        engine = getattr(cls, "engine", "?")
        known = ", ".join(engines_with_inspectors()) or "none yet"
        problems.append(
            f"engine {engine!r} has no model-file inspector: override check_model_file (engines with "
            f"one: {known}) or declare model_inspector = 'none'"
        )
    problems.extend(_rule_problems(cls.rules))
    if problems:
        from modeltemplates.errors import TemplateDefinitionError

        raise TemplateDefinitionError(f"template {cls.__name__} is refused: " + "; ".join(problems))


def _rule_problems(rules: object) -> list[str]:
    if not isinstance(rules, tuple) or not all(isinstance(r, Rule) for r in rules):
        return ["rules must be a tuple of modeltemplates.Rule"]
    problems = []
    seen: set[str] = set()
    for rule in rules:
        if not RULE_ID.fullmatch(rule.id):
            problems.append(f"rule id {rule.id!r} is not 2-5 capital letters and 3 digits")
        if rule.id in seen:
            problems.append(f"rule id {rule.id!r} is declared twice")
        seen.add(rule.id)
        if not (rule.title and rule.what and rule.why and rule.fix):
            problems.append(f"rule {rule.id} needs a title, what, why and fix (its documentation)")
    return problems


def _remote_options(
    path: object, region: str | None, endpoint_url: str | None, storage_options: Mapping[str, Any] | None
) -> RemoteOptions | None:
    """The location options, checked (an unknown region is a ``ValueError`` listing the known ones)."""
    if region is None and endpoint_url is None and not storage_options:
        return None
    from modeltemplates.sources.options import RemoteOptions

    return RemoteOptions.make(region=region, endpoint_url=endpoint_url, storage_options=storage_options)
