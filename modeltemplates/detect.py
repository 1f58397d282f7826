"""Which template fits a package? Rank every registered template with its evidence.

:func:`detect` surveys the package once (:class:`PackageSurvey`: the top-level files and their
first bytes, ``config.json``, the inference script parsed under each Python version asked for,
lazily and at most once per version) and asks every registered template how well it fits through
:meth:`Template.fit <modeltemplates.template.Template.fit>`. The base class's ``fit`` works from a
template's declarations (engine, Python, layout, base class from :mod:`modeltemplates.engines`) and
its :meth:`~modeltemplates.template.Template.recognize_model_file` hook, so a plugin family takes
part without any change here.

Evidence and its weight (a template's score is the sum; findings that speak against it subtract):

- model files (+4 each recognised by content, +2 by name only; a file of the template's kind
  whose content is not its engine's: -4, DET002; none at all: -8, DET001; a missing part of a
  several-file model: -3, DET003);
- the inference script's service class derives from the template's engine base class (+3), or
  from another engine's (-4, DET004);
- the inference script parses under the template's Python (+1), or does not (-6, DET005);
- ``config.json``: ``model_type`` names the template's engine (+3) or another (-4, DET006);
  ``runtime`` is one the template runs (+2) or another (-3, DET007).

Ties (equal scores) are broken by the documented rule :data:`TIE_RULE`: the older Python first
(code that parses under both was written for the platform's first images, and the tool's
default has always been the Python 2.7 template), then the CPU template before the GPU one (no
evidence asks for a GPU), then the template id. The runner-up is always named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from modeltemplates.findings import Basis, Finding, Rule, Severity

if TYPE_CHECKING:
    from modeltemplates.cache import ResultCache
    from modeltemplates.package import Entry, Package
    from modeltemplates.pipeline import Settings
    from modeltemplates.template import Template

__all__ = ["RULES", "TIE_RULE", "Detection", "Fit", "PackageSurvey", "detect"]

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

TIE_RULE = "older Python first, then CPU before GPU, then template id"

NO_MODEL = Rule(
    "DET001", "No model file of the template's engine", E,
    what="detect: the package holds no file the template's layout names as its model file.",
    why="The platform's import fails when the template's model file is missing (LAY002).",
    fix="Choose the template of the engine whose model files the package holds.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="Import event 'Failed to calculate the model size. The model of the xxx type does not exist in "
    "path xxx' (model_import_events.rst).",
)
NOT_THIS_ENGINE = Rule(
    "DET002", "Model file named for the engine, but its content is not", E,
    what="detect: a file the template's layout would take as its model file (by name) does not start the "
    "way the engine's files do.",
    why="The engine fails to load a file of another format.",
    fix="Choose the template whose engine wrote the file, or replace the file.",
    basis=Basis.SERVICE_FAILS,
    evidence="Each engine's loader checks its magic numbers (torch.load, mx.nd.load 0x112, protobuf "
    "parsers).",
)
PART_MISSING = Rule(
    "DET003", "Part of a several-file model is missing", E,
    what="detect: the template's model is several files (MXNet symbol and params, Caffe network and "
    "weights) and one of them is not in the package.",
    why="The engine needs both parts to load the model.",
    fix="Add the missing part, or choose the template of the engine the files belong to.",
    basis=Basis.SERVICE_FAILS,
    evidence="Template pages: 'resnet-50-symbol.json (Mandatory) ... resnet-50-0000.params (Mandatory)', "
    "'deploy.prototxt (Mandatory) ... resnet.caffemodel (Mandatory)'.",
)
OTHER_BASE = Rule(
    "DET004", "Inference code written for another engine", E,
    what="detect: the service class derives from another engine's base class.",
    why="That base class does not exist in this template's image, or loads another engine's model.",
    fix="Choose the template of the engine the code was written for.",
    basis=Basis.SERVICE_FAILS,
    evidence="Inference-code specification, Table 1: one base class and import per engine "
    "(specifications_for_writing_model_inference_code.rst).",
)
WRONG_PYTHON = Rule(
    "DET005", "Inference code does not parse under the template's Python", E,
    what="detect: customize_service.py is not valid under the template's Python version.",
    why="The service fails with SyntaxError when the platform imports the script.",
    fix="Choose the template whose Python the code was written for, or port the code.",
    basis=Basis.SERVICE_FAILS,
    evidence="The same verdict as SRC001: CPython of the template's version rejects the file.",
)
OTHER_MODEL_TYPE = Rule(
    "DET006", "config.json names another engine", E,
    what="detect: config.json's model_type is not the template's engine.",
    why="model_type selects the engine image (CFG013).",
    fix="Choose the template of the engine config.json names, or correct model_type.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="Error code ModelArts.3053 'Model Type ({0}) not support' and the model_type values of the "
    "configuration-file specification.",
)
OTHER_RUNTIME = Rule(
    "DET007", "config.json runtime selects another Python", E,
    what="detect: config.json's runtime is not one this template runs (python2.7, python3.7, "
    "python3.7-gpu...).",
    why="runtime picks the interpreter and image (CFG014).",
    fix="Choose the template whose runtime config.json names, or correct runtime.",
    basis=Basis.SERVICE_FAILS,
    evidence="supported_ai_frameworks.rst Table 3: the runtime values per engine.",
)

RULES: tuple[Rule, ...] = (NO_MODEL, NOT_THIS_ENGINE, PART_MISSING, OTHER_BASE, WRONG_PYTHON, OTHER_MODEL_TYPE,
                           OTHER_RUNTIME)

#: A Python verdict adds 1 or subtracts 6: templates further than this behind the best score
#: without it cannot come first, and their scripts are not parsed for their Python.
CONTENTION = 7
#: Bytes of each top-level file the survey reads for recognition.
HEAD_BYTES = 4096


@attrs.frozen
class Fit:
    """How well one template fits: its score, what speaks for it and the findings against it."""

    template: str
    title: str
    score: int
    evidence: tuple[str, ...] = ()
    against: tuple[Finding, ...] = ()
    #: Whether any evidence names this template's engine (a model file, the service base class,
    #: config.json's model_type); without it the template is no fit, whatever its rank.
    engine_evidence: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"template": self.template, "title": self.title, "score": self.score,
                "evidence": list(self.evidence), "against": [f.to_dict() for f in self.against],
                "engine_evidence": self.engine_evidence}


class PackageSurvey:
    """What detection knows about a package, computed once and shared by every template's ``fit``.

    Python verdicts are computed on demand, once per version; the service class from the first
    grammar that parses the script. Not thread-safe: one survey per detection.
    """

    def __init__(self, package: Package, settings: Settings, cache: ResultCache | None = None) -> None:
        self.package = package
        self.settings = settings
        self.cache = cache
        self.top_files: tuple[Entry, ...] = tuple(e for e in package.files() if e.at_top)
        self._heads: dict[str, bytes] = {}
        self._verdicts: dict[tuple[int, int], tuple[bool, Finding | None]] = {}
        self._script_data: bytes | None = None
        self.script = next((e for e in self.top_files if e.name == "customize_service.py"), None)
        self._bases: tuple[str, ...] | None = None
        self._trees: dict[tuple[int, int], Any] = {}
        #: Off while detect scores the evidence that needs no parse; on for the templates in contention.
        self.python_wanted = True
        self.config: Mapping[str, Any] | None = self._read_config()

    def head(self, entry: Entry) -> bytes:
        """The first :data:`HEAD_BYTES` of a top-level file (empty when it cannot be read)."""
        if entry.path not in self._heads:
            try:
                self._heads[entry.path] = self.package.read_bytes(entry, HEAD_BYTES)[:HEAD_BYTES]
            except OSError:
                self._heads[entry.path] = b""
        return self._heads[entry.path]

    def _read_config(self) -> Mapping[str, Any] | None:
        entry = next((e for e in self.top_files if e.name == "config.json"), None)
        if entry is None or entry.size > self.settings.max_config_bytes:
            return None
        try:
            data = self.package.read_bytes(entry, self.settings.max_config_bytes)
        except OSError:
            return None
        import json  # evidence only: validate's own reader reports every deviation

        try:
            value = json.loads(data.decode("utf-8-sig"))
        except (ValueError, RecursionError):
            return None
        return value if isinstance(value, dict) else None

    def _script_bytes(self) -> bytes | None:
        if self.script is None or self.script.size > self.settings.max_text_bytes:
            return None
        if self._script_data is None:
            try:
                self._script_data = self.package.read_bytes(self.script, self.settings.max_text_bytes)
            except OSError:
                return None
        return self._script_data

    def python_verdict(self, version: tuple[int, int]) -> tuple[bool, Finding | None] | None:
        """Whether the inference script parses under ``version`` and its first error; ``None``
        when there is no script (or the version has no grammar here)."""
        data = self._script_bytes()
        if data is None or self.script is None:
            return None
        if not self.python_wanted:
            return None
        if version not in self._verdicts:
            # The first error is the verdict; the recovery validate runs to list every further
            # error (checks.further) is not needed here.
            # With a result cache the pipeline's own entry point is used, so the validate that
            # follows a detect finds the verdict of its Python already made.
            from modeltemplates.pipeline import _check_sources

            try:
                if self.cache is not None:
                    path = self.script.path
                    found, parsed, tree, failure = _check_sources(
                        [(path, data)], version, self.cache, self.settings, path)[path]
                    if failure is not None:
                        return None
                else:
                    from modeltemplates.checks.syntax import check_source

                    result = check_source(self.script.path, data, version)
                    found, tree = list(result.findings), result.parse.tree
                    parsed = tree is not None
            except Exception:  # a version without a grammar here: no verdict
                return None
            first = next((f for f in found if f.severity is Severity.ERROR), None)
            ok = parsed and first is None
            self._verdicts[version] = (ok, first)
            if ok:
                self._trees[version] = tree  # None when the verdict came from the cache
        return self._verdicts[version]

    def _analyze(self, tree: Any, data: bytes, version: tuple[int, int]) -> tuple[str, ...]:
        from modeltemplates.inspect.pyservice import analyze_service

        try:
            if tree is None:  # the verdict came from the cache
                from modeltemplates.pipeline import _parse_tree

                tree = _parse_tree(data, version, self.script.path if self.script else "")
            facts = analyze_service(tree, version)
        except Exception:
            return ()
        return tuple(b.resolved or b.text or "" for c in facts.classes if c.toplevel for b in c.bases)

    def service_bases(self, versions: tuple[tuple[int, int], ...] = ((2, 7), (3, 7))) -> tuple[str, ...]:
        """Qualified base classes of the script's module-level classes (from the first version
        that parses it)."""
        if self._bases is not None:
            return self._bases
        data = self._script_bytes()
        if data is None or self.script is None:
            self._bases = ()
            return ()
        key = ""
        if self.cache is not None:  # an unchanged script needs no parser at all
            from modeltemplates.cache import digest

            key = self.cache.key("detect-bases", self.script.path, digest(data))
            stored = self.cache.get("detect-bases", key)
            if stored is not None and isinstance(stored.get("bases"), list):
                self._bases = tuple(str(b) for b in stored["bases"])
                return self._bases
        wanted, self.python_wanted = self.python_wanted, True
        try:
            for version in versions:
                verdict = self.python_verdict(version)
                if verdict is not None and verdict[0]:
                    self._bases = self._analyze(self._trees.get(version), data, version)
                    break
        finally:
            self.python_wanted = wanted
        if self._bases is None:
            self._bases = ()
        if self.cache is not None and key:
            self.cache.put("detect-bases", key, {"bases": list(self._bases)})
        return self._bases


@attrs.frozen
class Detection:
    """The ranking: best first. ``tie`` is true when the runner-up scored the same."""

    root: str
    fits: tuple[Fit, ...]

    @property
    def best(self) -> Fit | None:
        return self.fits[0] if self.fits else None

    @property
    def chosen(self) -> Fit | None:
        """The best fit when anything names its engine; ``None`` when nothing fits (an empty folder,
        a script alone that any template would parse)."""
        best = self.best
        return best if best is not None and best.engine_evidence else None

    @property
    def runner_up(self) -> Fit | None:
        return self.fits[1] if len(self.fits) > 1 else None

    @property
    def tie(self) -> bool:
        return bool(self.best and self.runner_up and self.best.score == self.runner_up.score)

    def summary(self) -> str:
        """One line: what was chosen, the runner-up, and why when they tie."""
        best, second = self.best, self.runner_up
        if best is None:
            return "no template is registered"
        if self.chosen is None:
            return (f"no template fits: nothing in the package names an engine (no model file, service base "
                    f"class or config.json model_type of any registered template; best score {best.score})")
        line = f"detected {best.title} (score {best.score})"
        if second is not None:
            line += f"; runner-up {second.title} (score {second.score})"
            if self.tie:
                line += f"; a tie, broken by the rule: {TIE_RULE}"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root, "best": self.chosen.template if self.chosen else None,
                "runner_up": self.runner_up.template if self.runner_up else None, "tie": self.tie,
                "tie_rule": TIE_RULE, "fits": [f.to_dict() for f in self.fits]}

    def to_text(self) -> str:
        lines = [f"{self.summary()}", f"package: {self.root}"]
        for rank, fit in enumerate(self.fits, 1):
            lines.append(f"{rank:>2}. {fit.title:<16} score {fit.score:>3}")
            lines.extend(f"      + {e}" for e in fit.evidence)
            lines.extend(f"      - {f.rule}: {f.message}" for f in fit.against)
        return "\n".join(lines) + "\n"


def _rank_key(fit: Fit, template: Template) -> tuple[int, tuple[int, int], int, str]:
    return (-fit.score, template.runtime.python_version, 1 if template.device.upper() == "GPU" else 0, fit.template)


def detect(
    path: str | os.PathLike[str], *, settings: Settings | None = None, cache: ResultCache | None = None,
    templates: list[Template] | None = None, location: Mapping[str, Any] | None = None,
) -> Detection:
    """Rank the registered templates (or ``templates``) for the package at ``path``.

    ``location``: ``region``, ``endpoint_url``, ``storage_options`` for a package behind a URL.
    Raises what :meth:`Template.validate` raises for a path that is no package folder.
    """
    from modeltemplates.package import open_package
    from modeltemplates.pipeline import Settings as _Settings
    from modeltemplates.sources import open_source
    from modeltemplates.sources.options import RemoteOptions

    settings = settings or _Settings()
    remote = RemoteOptions.make(**location) if location and any(location.values()) else None
    source = open_source(path, archive_limits=settings.archive, remote=remote)
    try:
        return _detect(open_package(source, settings.package), settings, cache, templates)
    finally:
        source.close()


def _detect(
    package: Package, settings: Settings, cache: ResultCache | None, templates: list[Template] | None
) -> Detection:
    from modeltemplates._registry import REGISTRY

    survey = PackageSurvey(package, settings, cache)
    candidates = templates if templates is not None else REGISTRY.all()
    # First the evidence that needs no parse under each Python; then the Python verdicts, only
    # for templates that could still come first (a verdict moves a score by at most CONTENTION).
    survey.python_wanted = False
    static = [(t.fit(survey), t) for t in candidates]
    top = max((fit.score for fit, _ in static), default=0)
    survey.python_wanted = True
    scored = [(t.fit(survey) if fit.score >= top - CONTENTION else fit, t) for fit, t in static]
    scored.sort(key=lambda pair: _rank_key(*pair))
    return Detection(root=package.root.name, fits=tuple(fit for fit, _ in scored))


# --------------------------------------------------------------------------------------------
# The base class's fit, in one function so Template.fit stays a one-liner


def default_fit(template: Template, survey: PackageSurvey) -> Fit:
    from modeltemplates.engines import BASE_CLASSES, engine_spec

    score = 0
    named = False  # evidence naming this engine
    evidence: list[str] = []
    against: list[Finding] = []
    layout = template.layout
    model_files = [e for e in survey.top_files if layout.model_file.matches(e.name)]
    for e in model_files:
        verdict = template.recognize_model_file(e.name, survey.head(e))
        if verdict is True:
            score += 4
            named = True
            evidence.append(f"{e.path}: {template.engine} model file (by content)")
        elif verdict is False:
            score -= 4
            against.append(NOT_THIS_ENGINE.finding(
                e.path, f"named like a {template.engine} model file, but its content is not"))
        else:
            score += 2
            named = True
            evidence.append(f"{e.path}: {template.engine} model file (by name only)")
    if not model_files:
        score -= 8
        wanted = " or ".join(layout.model_file.suffixes or layout.model_file.names)
        against.append(NO_MODEL.finding("", f"no {wanted} file at the top of the package"))
    else:
        for part in layout.model_parts:
            if not any(part.matches(e.name) for e in model_files):
                score -= 3
                against.append(PART_MISSING.finding("", f"no {part.role}"))
    spec = engine_spec(template.engine)
    bases = survey.service_bases()
    if spec is not None and bases:
        if spec.qualified_base in bases or spec.base_class in {b.rsplit(".", 1)[-1] for b in bases}:
            score += 3
            named = True
            evidence.append(f"customize_service.py derives from {spec.base_class} ({template.engine})")
        else:
            others = sorted({f"{b.rsplit('.', 1)[-1]} ({'/'.join(BASE_CLASSES[b])})" for b in bases
                             if b in BASE_CLASSES})
            if others:
                score -= 4
                against.append(OTHER_BASE.finding(
                    survey.script.path if survey.script else "",
                    f"the service class derives from {', '.join(others)}, not {spec.base_class}"))
    python_verdict = survey.python_verdict(template.runtime.python_version)
    if python_verdict is not None:
        ok, first = python_verdict
        if ok:
            score += 1
            evidence.append(f"customize_service.py parses as Python {template.python}")
        else:
            score -= 6
            where = f" (line {first.line})" if first is not None and first.line else ""
            why = f": {first.message}" if first is not None else ""
            against.append(WRONG_PYTHON.finding(
                survey.script.path if survey.script else "",
                f"customize_service.py is not valid Python {template.python}{where}{why}",
                line=first.line if first is not None else None))
    config = survey.config
    if config is not None:
        model_type = config.get("model_type")
        if isinstance(model_type, str):
            if model_type.casefold() == template.engine.casefold():
                score += 3
                named = True
                evidence.append(f"config.json model_type {model_type!r}")
            else:
                score -= 4
                against.append(OTHER_MODEL_TYPE.finding("config.json", f"model_type is {model_type!r}, not "
                                                        f"{template.engine!r}"))
        runtime = config.get("runtime")
        if isinstance(runtime, str) and model_type != "Image":
            if runtime in template.runtime.platform_runtimes:
                score += 2
                evidence.append(f"config.json runtime {runtime!r}")
            elif re.fullmatch(r"python\d\.\d+(-(cpu|gpu))?", runtime):
                score -= 3
                against.append(OTHER_RUNTIME.finding(
                    "config.json", f"runtime is {runtime!r}; this template runs "
                    f"{' or '.join(template.runtime.platform_runtimes)}"))
    return Fit(template=template.id, title=template.title, score=score, evidence=tuple(evidence),
               against=tuple(against), engine_evidence=named)
