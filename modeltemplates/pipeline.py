"""The validation pipeline: package -> inspectors -> template checks -> report.

:func:`inspect_package` is the one place that decides which check runs on which file. It reads each
small text file once and hands the bytes to every check that needs them; model files are handed
over as open streams so their readers can seek past the weights.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from modeltemplates.checks import textfiles
from modeltemplates.checks.internal import check_failed
from modeltemplates.checks.layout import LayoutResult, check_layout
from modeltemplates.findings import Finding, Report
from modeltemplates.package import Entry, Limits, Package, open_package

if TYPE_CHECKING:
    from modeltemplates.inspect.torchfile import TorchLimits
    from modeltemplates.iomodes import IOMode
    from modeltemplates.template import Template


@attrs.frozen
class Settings:
    """Every bound the checks apply; the defaults suit packages of any realistic size."""

    package: Limits = attrs.field(factory=Limits)
    #: Python sources and other text files larger than this are not read.
    max_text_bytes: int = 8 << 20
    #: ``config.json`` larger than this is not read.
    max_config_bytes: int = 2 << 20
    #: ``config.json`` nested deeper than this, or holding more values, is not checked.
    max_json_depth: int = 100
    max_json_values: int = 100_000
    #: Limits of the model-file reader (``None``: its own defaults).
    torch: TorchLimits | None = None
    #: Seconds the optional deep check may take per model file.
    deep_timeout: float = 300.0


@attrs.frozen
class Inspection:
    """Everything one run found: the report plus what the manifest needs."""

    template: Template
    package: Package
    io_mode: IOMode
    layout: LayoutResult
    report: Report
    model_facts: Mapping[str, Mapping[str, Any]]
    config: Mapping[str, Any] | None


def inspect_package(
    template: Template,
    path: str | os.PathLike[str],
    *,
    io_mode: str | IOMode | None = None,
    deep: bool = False,
    settings: Settings | None = None,
) -> Inspection:
    settings = settings or Settings()
    mode = template.resolve_io_mode(io_mode)
    runtime = template.runtime
    package = open_package(path, settings.package)
    layout = check_layout(package, template.layout, runtime)
    findings: list[Finding] = list(layout.findings)
    modules = package.top_level_modules()

    # Text files: read once, bounded.
    texts: dict[str, bytes] = {}
    for entry in package.files():
        limit = settings.max_config_bytes if entry is layout.config_file else settings.max_text_bytes
        if entry.suffix not in textfiles.TEXT_SUFFIXES or not entry.readable:
            continue
        if entry.size > limit:
            setting = "max_config_bytes" if entry is layout.config_file else "max_text_bytes"
            findings.append(textfiles.too_large(entry.path, entry.size, limit, "the file", setting=setting))
            continue
        data = _read(package, entry, limit)
        if data is None:
            continue
        texts[entry.path] = data
        findings.extend(textfiles.check_conflict_markers(entry.path, data))

    # Python sources: syntax as the target interpreter sees it; the inference script's service class.
    from modeltemplates.checks.syntax import check_source

    script_tree = None
    for entry in layout.python_files:
        data = texts.get(entry.path)
        if data is None:
            continue
        try:
            result = check_source(entry.path, data, runtime.python_version)
        except Exception as exc:  # never let one odd file end the run: say so instead
            findings.append(check_failed(entry.path, "Python source", exc))
            continue
        findings.extend(result.findings)
        if entry is layout.inference_script:
            script_tree = result.parse.tree

    # config.json, when the package brings one.
    config: Mapping[str, Any] | None = None
    facts: dict[str, Any] = {}
    # Without a config.json the template's own config declares no dependencies: any import that
    # is neither local, standard library nor preinstalled in the template's image will fail.
    declared: frozenset[str] = frozenset()
    if layout.config_file is not None and layout.config_file.path in texts:
        from modeltemplates.checks.configfile import check_config

        try:
            from modeltemplates.inspect.jsontext import Limits as JsonLimits

            json_limits = JsonLimits(max_bytes=settings.max_config_bytes, max_depth=settings.max_json_depth,
                                     max_values=settings.max_json_values)
            cfg = check_config(layout.config_file.path, texts[layout.config_file.path], runtime, mode,
                               limits=json_limits)
        except Exception as exc:
            findings.append(check_failed(layout.config_file.path, "config.json", exc))
        else:
            findings.extend(cfg.findings)
            config = cfg.config
            if config is not None:
                declared = _declared_packages(config)

    if layout.inference_script is not None and script_tree is not None:
        from modeltemplates.checks.service import check_service, summarize_imports
        from modeltemplates.inspect.pyservice import analyze_service

        try:
            service = analyze_service(script_tree, runtime.python_version)
            findings.extend(check_service(layout.inference_script.path, service, runtime, modules, declared))
            imports = summarize_imports(service, runtime, modules)
        except Exception as exc:
            findings.append(check_failed(layout.inference_script.path, "service class", exc))
        else:
            facts["service"] = service.to_dict()
            facts["imports"] = imports.to_dict()

    # Model files: engine-specific, streamed.
    model_facts: dict[str, Mapping[str, Any]] = {}
    for entry in layout.model_files:
        if not entry.readable:
            continue
        try:
            with package.open(entry) as f:
                checked = template.check_model_file(entry.path, f, entry.size, modules, settings)
        except OSError as exc:
            findings.append(_unreadable(entry, exc))
            continue
        except Exception as exc:
            findings.append(check_failed(entry.path, "model file", exc))
            continue
        findings.extend(checked.findings)
        model_facts[entry.path] = checked.facts
        if deep:
            findings.extend(template.deep_check_model_file(
                str(package.absolute(entry)), checked.facts, settings.deep_timeout, path=entry.path))

    facts.update(_package_facts(package, layout, mode))
    if model_facts:
        facts["model_files"] = dict(model_facts)
    if config is not None:
        facts["config"] = config
    report = Report(template=template.id, root=package.root.name, findings=findings, facts=facts)
    return Inspection(
        template=template, package=package, io_mode=mode, layout=layout, report=report,
        model_facts=model_facts, config=config,
    )


def _read(package: Package, entry: Entry, limit: int) -> bytes | None:
    try:
        return package.read_bytes(entry, limit)[:limit]
    except OSError:
        return None


def _unreadable(entry: Entry, exc: OSError) -> Finding:
    from modeltemplates.checks.layout import UNREADABLE

    return UNREADABLE.finding(entry.path, f"the file cannot be opened: {exc.strerror or exc}")


def _declared_packages(config: Mapping[str, Any]) -> frozenset[str]:
    names: set[str] = set()
    deps = config.get("dependencies")
    if isinstance(deps, list):
        for dep in deps:
            packages = dep.get("packages") if isinstance(dep, dict) else None
            if isinstance(packages, list):
                for p in packages:
                    if isinstance(p, dict) and isinstance(p.get("package_name"), str):
                        names.add(p["package_name"])
    return frozenset(names)


def _package_facts(package: Package, layout: LayoutResult, mode: IOMode) -> dict[str, Any]:
    kept = list(package.files())
    ignored = [e for e in package.entries if e.ignored_by is not None]
    return {
        "package": {
            "folder": package.root.name,
            "located": package.located.how,
            "files": len(kept),
            "bytes": sum(e.size for e in kept),
            "ignored": len(ignored),
        },
        "io_mode": mode.id,
        "layout": {
            "model_files": [e.path for e in layout.model_files],
            "inference_script": layout.inference_script.path if layout.inference_script else None,
            "config_file": layout.config_file.path if layout.config_file else None,
            "helper_modules": list(layout.helper_modules),
            "custom_packages": list(layout.custom_packages),
            "python_files": [e.path for e in layout.python_files],
        },
    }
