"""The validation pipeline: package -> inspectors -> template checks -> report.

:func:`inspect_package` is the one place that decides which check runs on which file. It reads each
small text file once and hands the bytes to every check that needs them; model files are handed
over as open streams so their readers can seek past the weights.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import attrs

from modeltemplates.cache import digest
from modeltemplates.checks import textfiles
from modeltemplates.checks.internal import check_failed
from modeltemplates.checks.layout import LayoutResult, check_layout
from modeltemplates.findings import Finding, Report
from modeltemplates.package import Entry, Limits, Package, open_package
from modeltemplates.sources.base import ArchiveLimits, PackageSource, SourceError
from modeltemplates.template import ModelFileCheck

if TYPE_CHECKING:
    from modeltemplates.cache import ResultCache
    from modeltemplates.engines.tensorflow.checks import TensorFlowLimits
    from modeltemplates.inspect.torchfile import TorchLimits
    from modeltemplates.iomodes import IOMode
    from modeltemplates.sources.options import RemoteOptions
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
    #: Limits of the TensorFlow readers (``None``: their own defaults).
    tensorflow: TensorFlowLimits | None = None
    #: Seconds the optional deep check may take per model file.
    deep_timeout: float = 300.0
    #: Bytes of a model file in an archive or a bucket the deep check streams to torch (the child holds
    #: them in memory); a larger one is reported as not checked (MOD036).
    deep_stream_limit: int = 2 << 30
    #: Bounds on reading a package from an archive.
    archive: ArchiveLimits = attrs.field(factory=ArchiveLimits)
    #: Processes that parse Python sources when a package has several large ones (``None``: one
    #: per usable core; 1: parse in this process only).
    parse_workers: int | None = None


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
    path: str | os.PathLike[str] | PackageSource,
    *,
    io_mode: str | IOMode | None = None,
    deep: bool | Literal["optional"] = False,
    settings: Settings | None = None,
    cache: ResultCache | None = None,
    remote: RemoteOptions | None = None,
) -> Inspection:
    """Run every check on the package at ``path`` (a folder, an archive, a URL or an open source).

    ``cache`` (a :class:`~modeltemplates.cache.ResultCache`) remembers per-file results between
    runs; the report is the same with or without it. The package's source stays open for the
    caller (the manifest hashes through it); close it with ``inspection.package.source.close()``,
    which :meth:`Template.validate` does itself.
    """
    settings = settings or Settings()
    mode = template.resolve_io_mode(io_mode)
    runtime = template.runtime
    if deep is True:  # a requested check that cannot run is not a pass
        missing = template.deep_check_unavailable()
        if missing is not None:
            from modeltemplates.errors import DeepCheckUnavailableError

            raise DeepCheckUnavailableError(missing)
    if isinstance(path, PackageSource):
        source = path
    else:
        from modeltemplates.sources import open_source

        source = open_source(path, archive_limits=settings.archive, remote=remote)
    package = open_package(source, settings.package)
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
        try:
            data = package.read_bytes(entry, limit)[:limit]
        except SourceError:  # the source itself failed (a bucket went away): not the file's fault
            raise
        except OSError as exc:  # changed, vanished or became unreadable since the walk listed it
            findings.append(_unreadable(entry, exc))
            continue
        texts[entry.path] = data
        findings.extend(textfiles.check_conflict_markers(entry.path, data))

    # Python sources: syntax as the target interpreter sees it; the inference script's service class.
    script_tree = None
    script_ok = False  # the inference script (or what could be read of it) parses; tree unbuilt if cached
    sources = [(entry.path, texts[entry.path]) for entry in layout.python_files if entry.path in texts]
    script_path = layout.inference_script.path if layout.inference_script is not None else None
    checked_sources = _check_sources(sources, runtime.python_version, cache, settings, script_path)
    for source_path, _ in sources:
        source_findings, ok, tree, failure = checked_sources[source_path]
        if failure is not None:
            findings.append(failure)
            continue
        findings.extend(source_findings)
        if source_path == script_path:
            script_ok, script_tree = ok, tree

    # config.json, when the package brings one.
    config: Mapping[str, Any] | None = None
    facts: dict[str, Any] = {}
    # Without a config.json the template's own config declares no dependencies: any import that
    # is neither local, standard library nor preinstalled in the template's image will fail.
    declared: frozenset[str] = frozenset()
    if layout.config_file is not None and layout.config_file.path in texts:
        config_path = layout.config_file.path
        config_data = texts[config_path]
        json_limits = (settings.max_config_bytes, settings.max_json_depth, settings.max_json_values)
        key = cache.key("config", config_path, runtime, mode.id, json_limits, digest(config_data)) if cache else ""
        stored = _restore(cache, "config", key, ("config",))
        if stored is not None:
            cfg_findings, (config,) = stored
            findings.extend(cfg_findings)
            if config is not None:
                declared = _declared_packages(config)
        else:
            from modeltemplates.checks.configfile import check_config

            try:
                from modeltemplates.inspect.jsontext import Limits as JsonLimits

                limits = JsonLimits(max_bytes=settings.max_config_bytes, max_depth=settings.max_json_depth,
                                    max_values=settings.max_json_values)
                cfg = check_config(config_path, config_data, runtime, mode, limits=limits)
            except Exception as exc:
                findings.append(check_failed(config_path, "config.json", exc))
            else:
                findings.extend(cfg.findings)
                config = cfg.config
                if config is not None:
                    declared = _declared_packages(config)
                _remember(cache, "config", key, cfg.findings, config=config)

    # Wheels shipped in the package and declared in config.json: the documented offline install.
    if config is not None:
        declared, findings = _declared_archives(package, config, declared, findings)

    if layout.inference_script is not None and script_ok:
        script_entry = layout.inference_script
        script_data = texts[script_entry.path]
        key = ""
        if cache is not None:
            key = cache.key("service", script_entry.path, runtime, digest(script_data),
                            sorted(modules), sorted(declared))
        stored = _restore(cache, "service", key, ("service", "imports"))
        if stored is not None:
            service_findings, (facts["service"], facts["imports"]) = stored
            findings.extend(service_findings)
        else:
            from modeltemplates.checks.service import check_service, summarize_imports
            from modeltemplates.inspect.pyservice import analyze_service

            try:
                if script_tree is None:  # the syntax verdict came from the cache; the tree did not
                    script_tree = _parse_tree(script_data, runtime.python_version, script_entry.path)
                service = analyze_service(script_tree, runtime.python_version)
                service_findings = list(check_service(script_entry.path, service, runtime, modules, declared,
                                                         bundled_modules=_bundled_modules(package)))
                imports = summarize_imports(service, runtime, modules)
            except Exception as exc:
                findings.append(check_failed(script_entry.path, "service class", exc))
            else:
                findings.extend(service_findings)
                facts["service"] = service.to_dict()
                facts["imports"] = imports.to_dict()
                _remember(cache, "service", key, service_findings,
                          service=facts["service"], imports=facts["imports"])

    # Model files: engine-specific, streamed.
    model_facts: dict[str, Mapping[str, Any]] = {}
    for entry in layout.model_files:
        if not entry.readable:
            continue
        try:
            with package.open(entry) as f:
                key = _model_key(cache, template, entry.path, f, modules=modules, settings=settings)
                stored = _restore(cache, "model", key, ("facts",))
                if stored is not None:
                    checked = ModelFileCheck(findings=tuple(stored[0]), facts=stored[1][0])
                else:
                    checked = template.check_model_file(entry.path, f, entry.size, modules, settings)
                    if key and _model_key(cache, template, entry.path, f, modules=modules, settings=settings) == key:
                        _remember(cache, "model", key, checked.findings, facts=checked.facts)
        except SourceError:
            raise  # the location failed (access, connection): no partial report
        except OSError as exc:
            findings.append(_unreadable(entry, exc))
            continue
        except Exception as exc:
            findings.append(check_failed(entry.path, "model file", exc))
            continue
        findings.extend(checked.findings)
        model_facts[entry.path] = checked.facts
        if deep:
            findings.extend(_deep_check(template, package, entry, checked.facts, settings))

    # Every other file torch, numpy or pickle could load: the same safety scan, by content.
    findings.extend(_scan_data_files(package, layout, facts.get("service"), modules, settings, texts=texts))

    from modeltemplates.template import ModelSetCheck, ModelSetContext

    inference = layout.inference_script
    set_context = ModelSetContext(
        model_files=tuple(e.path for e in layout.model_files),
        model_facts=model_facts,
        files=frozenset(e.path for e in package.files()),
        package_modules=modules,
        script_path=inference.path if inference is not None else None,
        script_source=texts.get(inference.path) if inference is not None else None,
        config=config,
        package=package,
        settings=settings,
    )
    try:
        outcome = template.check_model_set(set_context)
    except Exception as exc:  # one engine's cross-file check never ends the run
        findings.append(check_failed("", "model files together", exc))
    else:
        if isinstance(outcome, ModelSetCheck):
            findings.extend(outcome.findings)
            for model_path, extra in outcome.facts.items():
                model_facts[model_path] = {**model_facts.get(model_path, {}), **extra}
        else:
            findings.extend(outcome)

    facts.update(_package_facts(package, layout, mode))
    if model_facts:
        facts["model_files"] = dict(model_facts)
    if config is not None:
        facts["config"] = config
    read_failure = source.failure()
    if read_failure is not None:  # a read failed on the way (a reader may have turned it into a finding)
        raise read_failure
    findings.extend(source.findings(package.located.root_key))
    if source.changed():
        # A file changed while it was read: findings and facts could mix two versions, so the
        # report says only what the source found (that change among it).
        findings = list(source.findings(package.located.root_key))
        facts, model_facts, config = {}, {}, None
    report = Report(template=template.id, root=package.root.name, findings=findings, facts=facts)
    return Inspection(
        template=template, package=package, io_mode=mode, layout=layout, report=report,
        model_facts=model_facts, config=config,
    )


def _check_sources(
    sources: list[tuple[str, bytes]], python: tuple[int, int], cache: ResultCache | None, settings: Settings,
    script_path: str | None,
) -> dict[str, tuple[list[Finding], bool, Any, Finding | None]]:
    """Per source: syntax findings, whether it parses, the inference script's tree (``None`` for
    the others, and when the verdict came from the cache) and a finding when the check itself
    failed. Misses are parsed on several cores when that pays (:mod:`modeltemplates.python.parallel`)."""
    out: dict[str, tuple[list[Finding], bool, Any, Finding | None]] = {}
    keys: dict[str, str] = {}
    misses: list[tuple[str, bytes]] = []
    for path, data in sources:
        key = cache.key("source", path, python, digest(data)) if cache is not None else ""
        stored = _restore(cache, "source", key, ("ok",))
        if stored is not None and isinstance(stored[1][0], bool):
            out[path] = (stored[0], stored[1][0], None, None)
        else:
            keys[path] = key
            misses.append((path, data))
    if misses:
        from modeltemplates.python.parallel import check_sources, usable_cores

        workers = settings.parse_workers if settings.parse_workers is not None else usable_cores()
        for path, outcome in check_sources(misses, python, workers, keep_tree=script_path).items():
            out[path] = outcome
            found, ok, _tree, failure = outcome
            if failure is None:
                _remember(cache, "source", keys[path], found, ok=ok)
    return out


def _parse_tree(data: bytes, python: tuple[int, int], path: str) -> Any:
    from modeltemplates.inspect.pyparse import parse

    result = parse(data, python, path)
    tree = result.tree
    if tree is None and result.error is not None:  # it parsed once its errors were blanked
        from modeltemplates.checks.further import further_findings

        tree = further_findings(path, data, python, result.error).tree
    if tree is None:  # pragma: no cover - the cached verdict said it parses
        raise ValueError("the source no longer parses")
    return tree


def _restore(
    cache: ResultCache | None, kind: str, key: str, fields: tuple[str, ...]
) -> tuple[list[Finding], tuple[Any, ...]] | None:
    """A cached result: its findings and ``fields``; ``None`` for a miss or a malformed entry."""
    if cache is None or not key:
        return None
    value = cache.get(kind, key)
    if value is None:
        return None
    try:
        restored = [Finding.from_dict(f) for f in value["findings"]]
        return restored, tuple(value[name] for name in fields)
    except (KeyError, TypeError, ValueError):
        return None


def _remember(cache: ResultCache | None, kind: str, key: str, found: Any, **fields: Any) -> None:
    if cache is not None and key:
        cache.put(kind, key, {"findings": [f.to_dict() for f in found], **fields})


def _model_key(
    cache: ResultCache | None, template: Template, path: str, f: Any, *, modules: frozenset[str], settings: Settings
) -> str:
    """The key of a model file's result: its file identity, the template and the reader's limits.

    Only for the checks this package ships (a plugin's own reader may depend on more) and only for
    files old enough to be identified by their metadata (:func:`~modeltemplates.cache.file_identity`).
    """
    if cache is None or not type(template).check_model_file.__module__.startswith("modeltemplates."):
        return ""
    import time

    from modeltemplates.cache import file_identity

    try:
        identity = file_identity(os.fstat(f.fileno()), time.time())
    except (OSError, AttributeError, ValueError):
        return ""
    if identity is None:
        return ""
    kind = type(template)
    # Every limit a reader may apply (torch, TensorFlow, archives...): the settings as a whole, less
    # the parse workers, which change the time only.
    limits = repr(attrs.evolve(settings, parse_workers=None))
    return cache.key("model", f"{kind.__module__}.{kind.__qualname__}", template.runtime, path, identity,
                     sorted(modules), limits)


def _deep_check(
    template: Template, package: Package, entry: Entry, facts: Mapping[str, Any], settings: Settings
) -> list[Finding]:
    """Load the model file with the real engine; a file on disk by its path, one in an archive or a
    bucket streamed (never unpacked to disk). The whole file is read either way, so every stored zip
    member's CRC-32 is checked on the same pass."""
    from modeltemplates.manifest import crc_findings, zip_crc_checkers

    local = package.local_path(entry)
    if local is not None:
        found = list(template.deep_check_model_file(str(local), facts, settings.deep_timeout, path=entry.path))
        return found + _verify_crc(package, entry, facts)
    from modeltemplates.deepcheck import NOT_RUN

    where = "an archive or a bucket, not on this machine's disk"
    if not template.deep_check_streams:
        return [NOT_RUN.finding(entry.path, f"the {template.id} deep check loads files from disk, and this one "
                                f"is in {where}: only the static inspection ran on it")]
    if entry.size > settings.deep_stream_limit:
        return [NOT_RUN.finding(entry.path, f"{entry.size:,} bytes in {where}, more than the deep check streams "
                                f"(Settings.deep_stream_limit = {settings.deep_stream_limit:,}): only the "
                                "static inspection ran on it")]

    checker = zip_crc_checkers({entry.path: facts}).get(entry.path)

    def opener() -> BinaryIO:
        f = package.open(entry, sequential=True)
        return f if checker is None else _Tee(f, checker.update)  # type: ignore[return-value]

    found = list(template.deep_check_model_file(opener, facts, settings.deep_timeout, path=entry.path))
    if checker is not None:
        found += crc_findings({entry.path: checker})
    return found


def _verify_crc(package: Package, entry: Entry, facts: Mapping[str, Any]) -> list[Finding]:
    """Check every stored zip member's CRC-32 of a model file on disk (one more sequential read)."""
    from modeltemplates.manifest import crc_findings, zip_crc_checkers

    checker = zip_crc_checkers({entry.path: facts}).get(entry.path)
    if checker is None:
        return []
    try:
        with package.open(entry, sequential=True) as f:
            while chunk := f.read(1 << 20):
                checker.update(chunk)
    except OSError:
        return []
    return crc_findings({entry.path: checker})


class _Tee:
    """A read-only file that hands every chunk read to ``sink`` as well."""

    def __init__(self, f: BinaryIO, sink: Callable[[bytes], object]) -> None:
        self._f, self._sink = f, sink

    def read(self, n: int = -1) -> bytes:
        chunk = self._f.read(n)
        self._sink(chunk)
        return chunk

    def __enter__(self) -> _Tee:
        return self

    def __exit__(self, *exc: object) -> None:
        self._f.close()


def _scan_data_files(
    package: Package, layout: LayoutResult, service: Any, modules: frozenset[str], settings: Settings, *,
    texts: Mapping[str, bytes],
) -> list[Finding]:
    """The safety scan of every other file a loader could unpickle, judged by its first bytes (a
    text file already read, such as ``labels.json``, is judged by what was read: no second read)."""
    from modeltemplates.inspect.filekind import HEAD_BYTES, sniff

    loads = service.get("loads", []) if isinstance(service, Mapping) else []
    model_paths = {e.path for e in layout.model_files}
    out: list[Finding] = []
    for entry in package.files():
        if entry.path in model_paths or not entry.readable or entry.suffix == ".py" or entry.size < 2:
            continue
        text = texts.get(entry.path)
        if text is not None and len(text) == entry.size and not sniff(text[:HEAD_BYTES], entry.size).loadable:
            continue
        try:
            with package.open(entry) as f:
                if not sniff(f.read(HEAD_BYTES), entry.size).loadable:
                    continue  # labels, configs, images: the pickle readers are not even imported
                from modeltemplates.checks.datafiles import check_data_file, loads_naming

                out.extend(check_data_file(entry.path, f, entry.size, loaded_by=loads_naming(entry.path, loads),
                                           package_modules=modules, limits=settings.torch))
        except SourceError:
            raise
        except OSError:
            continue  # the layout check reports unreadable files
        except Exception as exc:
            out.append(check_failed(entry.path, "data file", exc))
    return out


def _unreadable(entry: Entry, exc: OSError) -> Finding:
    from modeltemplates.checks.layout import UNREADABLE
    from modeltemplates.sources.base import NotARegularFile
    from modeltemplates.sources.localpath import current_user

    if isinstance(exc, NotARegularFile):
        why = "it was replaced by something that is not a regular file while the package was checked"
    elif isinstance(exc, FileNotFoundError):
        why = "it was removed while the package was checked"
    elif isinstance(exc, PermissionError):
        why = f"the current user ({current_user()}) may not open it"
    else:
        why = str(exc.strerror or exc)
    return UNREADABLE.finding(entry.path, f"the file cannot be read: {why}")


def _declared_archives(
    package: Package, config: Mapping[str, Any], declared: frozenset[str], findings: list[Finding]
) -> tuple[frozenset[str], list[Finding]]:
    """Declared archives are no LAY019 'bundled' files; their modules count as declared; an archive
    that config.json names but the package does not hold fails the image build (CFG017)."""
    if not config.get("dependencies"):
        return declared, findings  # nothing declared: the wheel reader is not even imported
    from modeltemplates.checks.wheels import declared_archives

    archives = declared_archives(config, package)
    if not archives:
        return declared, findings
    from modeltemplates.checks.configfile import DEPENDENCY  # its reader only loads when there are archives
    from modeltemplates.checks.layout import BUNDLED

    shipped = {a.entry.path for a in archives if a.entry is not None}
    kept = [f for f in findings if not (f.rule == BUNDLED.id and f.path in shipped)]
    names = set(declared)
    for archive in archives:
        names.add(archive.distribution)
        names.update(archive.modules)
        if archive.entry is None:
            kept.append(DEPENDENCY.finding(
                "config.json", f"dependencies name the archive {archive.package_name!r}, which the package "
                "does not hold: pip cannot install it and the model image build fails",
                hint="Put the file at the top of the package folder (next to the model file), or correct "
                "package_name to its file name."))
    return frozenset(names), kept


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
            "source": package.source.kind if package.source is not None else "folder",
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


def _bundled_modules(package: Package) -> frozenset[str]:
    """Modules the wheels inside the package would install (read from each wheel's metadata)."""
    out: set[str] = set()
    for entry in package.files():
        if entry.suffix != ".whl":
            continue
        from modeltemplates.checks.wheels import wheel_modules

        try:
            with package.open(entry) as f:
                out |= wheel_modules(f)
        except (OSError, ValueError):
            continue
    return frozenset(out)
