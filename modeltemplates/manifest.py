"""The manifest: what the platform needs to import a package, byte-identical for the same input.

It carries the template (engine, runtime, I/O mode), the ``config.json`` content the template stands
for, the model file's facts, and an inventory of every kept file with its size and SHA-256.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs

from modeltemplates._version import TOOL
from modeltemplates.errors import ModelTemplatesError
from modeltemplates.findings import Finding, Report, dumps_canonical
from modeltemplates.package import Entry, Package
from modeltemplates.progress import ProgressCallback, ProgressMeter
from modeltemplates.sources.folder import open_regular_file

if TYPE_CHECKING:
    from modeltemplates.pipeline import Inspection
    from modeltemplates.zipcrc import CrcChecker

#: Bumped whenever the manifest's JSON form changes incompatibly.
MANIFEST_SCHEMA_VERSION = 1

#: Read size for hashing: large enough to keep the hash busy, small enough to stay in cache.
HASH_CHUNK = 1 << 20

#: Files at least this large are hashed in a thread of their own (hashlib releases the GIL).
PARALLEL_THRESHOLD = 1 << 20


class PackageInvalid(ModelTemplatesError):
    """The package has errors, so no manifest was built; ``report`` says which."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(f"the package has {len(report.errors)} error(s); no manifest was built")


class ManifestError(ModelTemplatesError, OSError):
    """A file could not be hashed (it vanished, changed kind or became unreadable meanwhile)."""


@attrs.frozen
class FileRecord:
    """One file of the package: relative POSIX path, size in bytes, SHA-256 hex digest."""

    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@attrs.frozen
class Manifest:
    """What :meth:`Template.build_manifest` returns."""

    template: str
    engine: str
    engine_version: str
    python: str
    runtime: str
    io_mode: str
    config: Mapping[str, Any]
    model_file: Mapping[str, Any] | None
    files: tuple[FileRecord, ...]
    validation: Mapping[str, int]
    #: Where the package was read from: ``{"kind": ...}`` plus ``location`` for archives and URLs.
    source: Mapping[str, str] = attrs.field(factory=lambda: {"kind": "folder"})

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "tool": dict(TOOL),
            "template": self.template,
            "engine": {"name": self.engine, "version": self.engine_version},
            "python": self.python,
            "runtime": self.runtime,
            "io_mode": self.io_mode,
            "config": dict(self.config),
            "model_file": dict(self.model_file) if self.model_file is not None else None,
            "files": [f.to_dict() for f in self.files],
            "totals": {"files": len(self.files), "bytes": self.total_bytes},
            "validation": dict(self.validation),
            "source": dict(self.source),
        }

    def to_json(self) -> str:
        return dumps_canonical(self.to_dict())

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the JSON form to ``path`` (UTF-8, ``\\n`` line ends)."""
        Path(path).write_bytes(self.to_json().encode("utf-8"))


def sha256_stream(
    f: BinaryIO, chunk: int = HASH_CHUNK, on_chunk: Callable[[int], None] | None = None,
    observe: Callable[[memoryview], None] | None = None,
) -> tuple[str, int]:
    """SHA-256 and length of a stream, read in ``chunk``-sized pieces into one reused buffer.

    ``on_chunk`` is told the size of each piece as it is hashed; ``observe`` sees each piece's bytes
    (e.g. a :class:`~modeltemplates.zipcrc.CrcChecker`: one read serves both).
    """
    digest = hashlib.sha256()
    buffer = bytearray(chunk)
    view = memoryview(buffer)
    total = 0
    while True:
        n = f.readinto(view)  # type: ignore[attr-defined]
        if not n:
            break
        digest.update(view[:n])
        if observe is not None:
            observe(view[:n])
        total += n
        if on_chunk is not None:
            on_chunk(n)
    return digest.hexdigest(), total


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    with open_regular_file(Path(path)) as f:
        return sha256_stream(f)


def hash_files(
    package: Package, entries: Sequence[Entry], workers: int | None = None, progress: ProgressCallback | None = None,
    *, crc: Mapping[str, CrcChecker] | None = None,
) -> tuple[FileRecord, ...]:
    """Hash every entry, sorted by path; large files and many files use all cores.

    Files are opened through :meth:`Package.open`, the one gate to a package's bytes. ``progress``
    receives :class:`~modeltemplates.progress.Progress` of stage ``"hash"`` as bytes are hashed.
    """
    meter = ProgressMeter(progress, "hash", sum(e.size for e in entries))

    def one(i: int) -> FileRecord:
        path = entries[i].path
        on_chunk = None if progress is None else lambda n: meter.advance(n, path)
        try:
            with package.open(entries[i], sequential=True) as f:
                checker = crc.get(path) if crc else None
                digest, size = sha256_stream(f, on_chunk=on_chunk,
                                             observe=checker.update if checker is not None else None)
        except OSError as exc:
            raise ManifestError(f"cannot hash {entries[i].path}: {exc.strerror or exc}") from exc
        return FileRecord(entries[i].path, size, digest)

    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    source = package.source
    if source is not None and not source.concurrent:
        n_workers = 1  # one compressed stream: readers take turns, in the archive's own order
    big = sum(1 for e in entries if e.size >= PARALLEL_THRESHOLD)
    if n_workers <= 1 or (len(entries) < 64 and big < 2):
        order = range(len(entries))
        if source is not None:
            order = sorted(order, key=lambda i: source.order(package.key_of(entries[i])))  # type: ignore[assignment]
        records = [one(i) for i in order]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            records = list(pool.map(one, range(len(entries))))
    meter.finish()
    return tuple(sorted(records, key=lambda r: r.path))


def model_file_summary(path: str, facts: Mapping[str, Any]) -> dict[str, Any]:
    """The model facts a platform shows without reading the file again.

    ``facts`` is the model reader's JSON form (:meth:`TorchFileFacts.to_dict`); keys it lacks are
    left out rather than guessed.
    """
    summary: dict[str, Any] = {"path": path}
    if "format" in facts:
        summary["format"] = facts["format"]
    protocols = sorted({
        p for pk in facts.get("pickles", ()) if pk.get("role") == "object" for p in pk.get("protocols", ())
    })
    if protocols:
        summary["pickle_protocols"] = protocols
    obj = facts.get("object")
    if isinstance(obj, Mapping):
        summary["object"] = {k: obj[k] for k in ("kind", "type", "state_dict_key", "module_class") if k in obj}
    # TensorFlow SavedModel facts (modeltemplates.engines.tensorflow.checks).
    for key in ("tags", "signatures", "op_count", "tensorflow_version"):
        if key in facts:
            summary[key] = facts[key]
    variables = facts.get("variables")
    if isinstance(variables, Mapping):
        summary["variables"] = {k: variables[k] for k in ("count", "bytes", "shards") if k in variables}
    totals = facts.get("totals")
    if isinstance(totals, Mapping):
        for key in ("tensors", "parameters", "tensor_bytes", "dtypes"):
            if key in totals:
                summary[key] = totals[key]
    return summary


def manifest_for(
    inspection: Inspection,
    *,
    allow_errors: bool = False,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Manifest:
    """Build the manifest from a finished inspection (hashing every kept file, see :func:`hash_files`)."""
    from modeltemplates.checks.configfile import build_config

    report = inspection.report
    if not report.ok and not allow_errors:
        raise PackageInvalid(report)
    template = inspection.template
    runtime = template.runtime
    dependencies = _dependencies(inspection.config)
    config = build_config(runtime, inspection.io_mode, dependencies)
    crc = zip_crc_checkers(inspection.model_facts)
    files = hash_files(inspection.package, list(inspection.package.files()), workers, progress, crc=crc)
    damaged = crc_findings(crc)
    if damaged:  # the bytes were read anyway: a damaged member is a finding like any other
        report = Report(template=report.template, root=report.root, findings=[*report.findings, *damaged],
                        facts=report.facts)
        if not allow_errors:
            raise PackageInvalid(report)
    model_file = None
    if inspection.layout.model_files:
        path = inspection.layout.model_files[0].path
        model_file = dict(template.model_file_summary(path, inspection.model_facts.get(path, {})))
        if template.layout.model_parts and len(inspection.layout.model_files) > 1:
            # a model of several files (MXNet symbol + params, Caffe network + weights): each one
            model_file["parts"] = [
                dict(template.model_file_summary(e.path, inspection.model_facts.get(e.path, {})))
                for e in inspection.layout.model_files
            ]
    return Manifest(
        template=template.id,
        engine=runtime.engine,
        engine_version=runtime.engine_version,
        python=runtime.python,
        runtime=runtime.platform_runtime,
        io_mode=inspection.io_mode.id,
        config=config,
        model_file=model_file,
        files=files,
        validation=_package_counts(report),
        source=source_record(inspection.package),
    )


def source_record(package: Package) -> dict[str, str]:
    """The manifest's ``source``: the kind of location, and for an archive or a URL where it was.

    A local folder records no path (the same folder gives the same manifest wherever it lies); an
    archive records its file name; a URL records itself, never credentials.
    """
    source = package.source
    if source is None or source.kind == "folder":
        return {"kind": "folder"}
    location = source.location
    if "://" not in location:
        location = os.path.basename(location)
    return {"kind": source.kind, "location": location}


def zip_crc_checkers(model_facts: Mapping[str, Mapping[str, Any]]) -> dict[str, CrcChecker]:
    """A CRC-32 checker for each zip-format model file whose members the reader listed."""
    from modeltemplates.zipcrc import CrcChecker

    out = {}
    for path, facts in model_facts.items():
        members = facts.get("members")
        if facts.get("format") in ("zip", "torchscript") and isinstance(members, list):
            checker = CrcChecker(members)
            if not checker.empty:
                out[path] = checker
    return out


def crc_findings(checkers: Mapping[str, CrcChecker]) -> list[Finding]:
    from modeltemplates.checks.modelfile import CORRUPT

    return [CORRUPT.finding(path, m.message()) for path, c in sorted(checkers.items()) for m in c.mismatches()]


def _package_counts(report: Report) -> dict[str, int]:
    """The report's counts without findings about how the tool was called (which folder was given):
    the same package gives the same manifest whichever way it was reached."""
    from modeltemplates.checks.layout import INVOCATION_RULES
    from modeltemplates.findings import Severity
    from modeltemplates.sources import archive_rules, remote_rules

    leave_out = INVOCATION_RULES | archive_rules.SOURCE_RULES | remote_rules.SOURCE_RULES
    out = {s.value: 0 for s in Severity}
    for f in report.findings:
        if f.rule not in leave_out:
            out[f.severity.value] += 1
    return out


def _dependencies(config: Mapping[str, Any] | None) -> list[Any]:
    """The ``dependencies`` of the package's own config.json, carried into the manifest's config."""
    if config is None:
        return []
    deps = config.get("dependencies")
    return list(deps) if isinstance(deps, Iterable) and not isinstance(deps, (str, bytes, Mapping)) else []
