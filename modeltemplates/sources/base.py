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
from pathlib import Path, PurePath
from types import TracebackType
from typing import BinaryIO, ClassVar

import attrs


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


def join_key(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


class PackageSource(abc.ABC):
    """A read-only tree of files; subclasses say where the bytes come from."""

    #: Short name of the kind of source: ``folder``, ``zip``, ``tar``, ``s3`` ...
    kind: ClassVar[str]

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """The location as the user named it, safe to show and to record (no credentials)."""

    @abc.abstractmethod
    def path_of(self, key: str) -> PurePath:
        """A path naming ``key`` for display; its ``name`` is the node's own name."""

    @abc.abstractmethod
    def stat(self, key: str) -> Node | None:
        """The node at ``key``, or ``None`` when there is nothing there. Links are not followed."""

    @abc.abstractmethod
    def list(self, key: str) -> list[Node]:
        """The children of the folder at ``key``, sorted by name; ``OSError`` if it cannot be listed."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A seekable binary stream of the regular file at ``key`` (:class:`NotARegularFile` otherwise)."""

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
