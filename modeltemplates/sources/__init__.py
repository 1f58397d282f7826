"""Where a package's bytes come from: one read-only :class:`PackageSource` per kind of location.

:func:`open_source` turns what a user names (today: a local folder) into a source. Every check reads
through the source, so none of them knows where the bytes live.
"""

from __future__ import annotations

import os
from pathlib import Path

from modeltemplates.sources.base import EntryKind, Node, NotARegularFile, PackageSource, SourceError
from modeltemplates.sources.folder import FolderSource

__all__ = [
    "EntryKind",
    "FolderSource",
    "Node",
    "NotARegularFile",
    "PackageSource",
    "SourceError",
    "open_source",
]


def open_source(path: str | os.PathLike[str]) -> PackageSource:
    """A source for ``path``. Raises ``FileNotFoundError``/``NotADirectoryError`` for what cannot be one."""
    given = Path(path)
    if not given.exists():
        raise FileNotFoundError(f"no such folder: {given}")
    if not given.is_dir():
        raise NotADirectoryError(f"not a folder: {given}")
    return FolderSource(given)
