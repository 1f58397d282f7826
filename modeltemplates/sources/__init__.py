"""Where a package's bytes come from: one read-only :class:`PackageSource` per kind of location.

:func:`open_source` turns what a user names into a source: a local folder, a local archive (zip or
tar, bare or compressed with gzip, bzip2 or xz, recognised by content), or an fsspec URL
(``obs://``, ``s3://``, ``file://``, ``memory://`` ...) naming a folder or an archive. Every check
reads through the source, so none of them knows where the bytes live.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, BinaryIO

from modeltemplates.sources.base import (
    ArchiveLimits,
    EntryKind,
    Node,
    NotARegularFile,
    PackageSource,
    SourceError,
)
from modeltemplates.sources.folder import FolderSource

if TYPE_CHECKING:
    from modeltemplates.sources.options import RemoteOptions

__all__ = [
    "ArchiveLimits",
    "EntryKind",
    "FolderSource",
    "Node",
    "NotARegularFile",
    "PackageSource",
    "SourceError",
    "is_url",
    "open_source",
]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(path: object) -> bool:
    """Whether ``path`` is a URL (``scheme://...``) rather than a local path."""
    return isinstance(path, str) and bool(_URL.match(path))


def open_source(
    path: str | os.PathLike[str],
    *,
    archive_limits: ArchiveLimits | None = None,
    remote: RemoteOptions | None = None,
    **remote_options: Any,
) -> PackageSource:
    """A source for ``path``: a folder, an archive, or a URL (``remote``: region, endpoint ...).

    Raises ``FileNotFoundError``/``NotADirectoryError`` for a local path that is neither a folder
    nor an archive, and :class:`SourceError` (one line, no credentials) for a location that cannot
    be read at all.
    """
    if is_url(path):
        from modeltemplates.sources.options import RemoteOptions
        from modeltemplates.sources.remote import open_url

        options = remote or RemoteOptions.make(**remote_options)
        return open_url(str(path), options, archive_limits)
    from modeltemplates.sources import localpath

    given = localpath.as_local_path(path)
    if not given.exists():
        raise localpath.missing(given)
    if given.is_dir():
        return FolderSource(localpath.resolve_folder(given))
    if not given.is_file():
        raise localpath.not_a_folder(given)
    try:
        return open_archive(lambda: open(given, "rb"), given.stat().st_size, os.fspath(given), archive_limits,
                            not_archive=NotADirectoryError)
    except NotADirectoryError:
        raise localpath.not_a_folder(given) from None


def open_archive(
    opener: Any,
    size: int,
    location: str,
    limits: ArchiveLimits | None = None,
    *,
    not_archive: type[OSError] = SourceError,
    close_hook: Any = None,
) -> PackageSource:
    """An archive source over whatever ``opener()`` opens (a local file or a remote object)."""
    from modeltemplates.sources.archive import ArchiveSource, peek_decompressed, sniff

    f: BinaryIO = opener()
    try:
        head = f.read(512)
    finally:
        f.close()
    kind = sniff(head, lambda comp: peek_decompressed(opener, comp))
    if kind is None:
        raise not_archive(f"not a folder, a zip or a tar archive: {location}")
    return ArchiveSource(opener, kind, size, location, limits=limits, close_hook=close_hook)
