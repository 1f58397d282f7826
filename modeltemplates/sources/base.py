"""The one read-only interface every place a package can live in implements.

A :class:`PackageSource` is a tree of :class:`Node` objects addressed by *keys*: ``""`` is the
location the user named, ``"a/b"`` a descendant. Keys are the source's own names (the OS's names
for a folder, member names for an archive, object keys for a bucket), so a name that is not valid
UTF-8 still reaches the right file; :attr:`Node.name` is the printable form shown in findings.

Sources never follow a link out of their root, never open anything but a regular file, and hand out
seekable binary streams, so the checks cannot tell where the bytes come from.
"""

from __future__ import annotations

import abc
import enum
import os
from pathlib import Path, PurePath
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, ClassVar

import attrs

if TYPE_CHECKING:
    from modeltemplates.findings import Finding


class EntryKind(enum.Enum):
    """What a directory entry is, judged without following links."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    FIFO = "fifo"
    SOCKET = "socket"
    DEVICE = "device"
    OTHER = "other"


class NotARegularFile(OSError):
    """Raised when a path to be read turns out not to be a regular file."""


class SourceError(OSError):
    """The source as a whole cannot be read (no such archive, no access, unreachable endpoint).

    ``message`` is one line that is safe to show: it never carries credentials.
    """


@attrs.frozen
class Node:
    """One thing in a source: its key, printable name, kind and (for files) size in bytes."""

    key: str
    name: str
    kind: EntryKind
    size: int = 0
    link_target: str | None = None
    name_is_utf8: bool = True
    readable: bool = True


@attrs.frozen
class ArchiveLimits:
    """Bounds on reading an archive; each one exceeded is a finding, never a crash or a full disk."""

    #: Members indexed; the rest are not checked.
    max_members: int = 100_000
    #: Bytes the members unpack to, in all.
    max_total_bytes: int = 64 << 30
    #: Unpacked/packed ratio above which a compressed member (or a compressed tar so far) is a bomb.
    max_ratio: int = 200
    #: Below this many unpacked bytes the ratio is not judged (tiny text files compress very well).
    ratio_floor_bytes: int = 16 << 20


def join_key(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


class PackageSource(abc.ABC):
    """A read-only tree of files; subclasses say where the bytes come from."""

    #: Short name of the kind of source: ``folder``, ``zip``, ``tar.gz``, ``s3`` ...
    kind: str
    #: False when the top has no folder name of its own (an archive): it is what gets unpacked into one.
    named_top: ClassVar[bool] = True

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """The location as the user named it, safe to show and to record (no credentials)."""

    @abc.abstractmethod
    def path_of(self, key: str) -> PurePath:
        """A path naming ``key`` for display; its ``name`` is the node's own name."""

    def shown(self, key: str) -> str:
        """``key`` as a person names it: a path, or for a bucket the URL with its scheme."""
        return os.fspath(self.path_of(key))

    @abc.abstractmethod
    def stat(self, key: str) -> Node | None:
        """The node at ``key``, or ``None`` when there is nothing there. Links are not followed."""

    @abc.abstractmethod
    def list(self, key: str) -> list[Node]:
        """The children of the folder at ``key``, sorted by name; ``OSError`` if it cannot be listed."""

    @abc.abstractmethod
    def open(self, key: str, *, sequential: bool = False) -> BinaryIO:
        """A seekable binary stream of the regular file at ``key`` (:class:`NotARegularFile` otherwise).

        ``sequential`` says the whole file will be read front to back (hashing), so a remote source
        reads ahead in large pieces instead of small cached blocks.
        """

    @property
    def concurrent(self) -> bool:
        """Whether several threads may read files at once (else readers take turns)."""
        return True

    def order(self, key: str) -> int:
        """Where ``key`` sits in the source's natural reading order (an archive's member order)."""
        return 0

    def findings(self, root_key: str) -> tuple[Finding, ...]:
        """What the source itself found (archive rules, bucket region), paths relative to ``root_key``."""
        return ()

    def changed(self) -> bool:
        """Whether a file changed while it was being read (the report must then not mix versions)."""
        return False

    def failure(self) -> SourceError | None:
        """The first error reaching the location (access, connection) met by any read, if any."""
        return None

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk, when there is one (the optional deep check needs it)."""
        return None

    def close(self) -> None:  # noqa: B027 - most sources hold nothing open
        """Release what the source holds open (archive handles, connections)."""

    def __enter__(self) -> PackageSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
