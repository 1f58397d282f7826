"""The package as :class:`~modeltemplates.engines.tensorflow.checks.PackageFiles`: sizes and bounded reads."""

from __future__ import annotations

from collections.abc import Iterator

from modeltemplates.package import Package


class PackageView:
    """Read-only access to the files of a :class:`~modeltemplates.package.Package` by path."""

    def __init__(self, package: Package) -> None:
        self._package = package

    def size(self, path: str) -> int | None:
        entry = self._package.get(path)
        if entry is None or not entry.is_file or entry.ignored_by is not None or not entry.readable:
            return None
        return entry.size

    def read(self, path: str, limit: int) -> bytes:
        entry = self._package.get(path)
        if entry is None:
            return b""
        try:
            return self._package.read_bytes(entry, limit)[:limit]
        except OSError:
            return b""

    def paths(self) -> Iterator[str]:
        return (e.path for e in self._package.files())
