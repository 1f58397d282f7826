"""Wheels and archives shipped in the package and declared in config.json: the documented offline install.

The platform installs a ``dependencies`` package whose ``package_name`` is the file name of a wheel
placed with the model file (ModelArts FAQ "How do I write the dependencies of config.json", example
``"package_name": "mmcv_full-1.3.9-cp37-cp37m-manylinux1_x86_64.whl"``; the console help: "offline
wheel packages are supported; the wheel must be in the same directory as the model file"), also
written with the package folder's path inside the platform's serving container (``PLATFORM_MODEL_DIR``). Such a file is
no bundled-by-mistake archive, and the modules it provides are declared. Module names come from the
wheel's own metadata (``*.dist-info/top_level.txt``, else ``RECORD``), read without installing or
importing anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs

from modeltemplates.package import Entry, Package

if TYPE_CHECKING:
    import zipfile

__all__ = ["ARCHIVE_SUFFIXES", "PLATFORM_MODEL_DIR", "DeclaredArchive", "declared_archives", "wheel_modules"]

#: Where the platform puts the package folder in its serving container (``self.model_path`` lies in
#: it); a dependency may name a wheel by this path.
PLATFORM_MODEL_DIR = "/home/mind/model/"

#: File names pip installs from.
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip", ".egg", ".tar.bz2")

_MAX_METADATA_BYTES = 1 << 20
_MAX_MEMBERS = 100_000


@attrs.frozen
class DeclaredArchive:
    """A ``dependencies`` entry naming an archive: the name as written, the file it names (if present)."""

    package_name: str
    entry: Entry | None
    distribution: str
    modules: frozenset[str]


def _declared_names(config: Mapping[str, Any]) -> Iterable[str]:
    deps = config.get("dependencies")
    if not isinstance(deps, list):
        return
    for dep in deps:
        packages = dep.get("packages") if isinstance(dep, dict) else None
        if not isinstance(packages, list):
            continue
        for p in packages:
            name = p.get("package_name") if isinstance(p, dict) else None
            if isinstance(name, str) and name.lower().endswith(ARCHIVE_SUFFIXES):
                yield name


def _resolve(package: Package, name: str) -> Entry | None:
    rel = name[len(PLATFORM_MODEL_DIR):] if name.startswith(PLATFORM_MODEL_DIR) else name
    while rel.startswith("./"):
        rel = rel[2:]
    entry = package.get(rel)
    if entry is None and "/" not in rel:
        return None
    return entry if entry is not None and entry.is_file and entry.ignored_by is None else None


def distribution_of(file_name: str) -> str:
    """The distribution a wheel or sdist file name names (``mmcv_full-1.3.9-...whl`` -> ``mmcv_full``)."""
    base = file_name.rsplit("/", 1)[-1]
    return base.split("-", 1)[0]


def declared_archives(config: Mapping[str, Any] | None, package: Package) -> tuple[DeclaredArchive, ...]:
    """Every archive config.json declares, with the package file it names and the modules it provides."""
    if config is None:
        return ()
    out = []
    for name in _declared_names(config):
        entry = _resolve(package, name)
        dist = distribution_of(name)
        modules: frozenset[str] = frozenset()
        if entry is not None and entry.name.lower().endswith(".whl") and entry.readable:
            try:
                with package.open(entry) as f:
                    modules = wheel_modules(f)
            except OSError:
                modules = frozenset()
        out.append(DeclaredArchive(name, entry, dist, modules or frozenset({dist.replace("-", "_")})))
    return tuple(out)


def wheel_modules(f: BinaryIO) -> frozenset[str]:
    """Top-level modules a wheel installs, from ``top_level.txt`` or else ``RECORD`` (empty if unreadable)."""
    import zipfile

    try:
        zf = zipfile.ZipFile(f)
        infos = zf.infolist()[:_MAX_MEMBERS]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return frozenset()
    top_level = [i for i in infos if i.filename.endswith(".dist-info/top_level.txt") and i.filename.count("/") == 1]
    if top_level:
        text = _member_text(zf, top_level[0])
        if text is not None:
            return frozenset(line.strip().split("/")[0] for line in text.splitlines() if line.strip())
    names: set[str] = set()
    for info in infos:
        first = info.filename.split("/", 1)[0]
        if not first or first.endswith((".dist-info", ".data")):
            continue
        if "/" in info.filename:
            names.add(first)
        elif first.endswith(".py"):
            names.add(first[:-3])
        elif first.endswith((".so", ".pyd")):
            names.add(first.split(".", 1)[0])
    return frozenset(n for n in names if n.isidentifier())


def _member_text(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    import zipfile

    if info.file_size > _MAX_METADATA_BYTES:
        return None
    try:
        with zf.open(info) as m:
            return m.read(_MAX_METADATA_BYTES).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None
