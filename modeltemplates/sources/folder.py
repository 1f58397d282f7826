"""A package folder on the local disk: ``lstat`` judges every entry, links are never followed."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from modeltemplates.sources.base import EntryKind, Node, NotARegularFile, PackageSource, join_key


def kind_of(mode: int) -> EntryKind:
    if stat.S_ISREG(mode):
        return EntryKind.FILE
    if stat.S_ISDIR(mode):
        return EntryKind.DIR
    if stat.S_ISLNK(mode):
        return EntryKind.SYMLINK
    if stat.S_ISFIFO(mode):
        return EntryKind.FIFO
    if stat.S_ISSOCK(mode):
        return EntryKind.SOCKET
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return EntryKind.DEVICE
    return EntryKind.OTHER


def open_regular_file(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` read-only without following a final symlink and without blocking on a FIFO."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile(f"{path} is not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def display_name(name: str) -> tuple[str, bool]:
    """A printable form of a file name and whether it is valid UTF-8 (undecodable bytes as ``\\xNN``)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        return raw.decode("utf-8", "backslashreplace"), False
    return name, True


def readable(path: str | os.PathLike[str], mode: int, kind: EntryKind) -> bool:
    """Readable by the uploader: the owner's permission bits allow it and so does ``access``.

    The permission bits are checked as well because a root process passes ``access`` for any file,
    while the user's upload tool would not.
    """
    need = stat.S_IRUSR | (stat.S_IXUSR if kind is EntryKind.DIR else 0)
    if mode & need != need:
        return False
    return os.access(path, os.R_OK | (os.X_OK if kind is EntryKind.DIR else 0), follow_symlinks=False)


class FolderSource(PackageSource):
    """The folder ``top`` and everything below it. Keys are ``/``-joined OS names relative to ``top``."""

    kind = "folder"

    def __init__(self, top: str | os.PathLike[str]) -> None:
        self.top = Path(top)

    @property
    def location(self) -> str:
        return os.fspath(self.top)

    def path_of(self, key: str) -> Path:
        return self.top.joinpath(*key.split("/")) if key else self.top

    def local_path(self, key: str) -> Path:
        return self.path_of(key)

    def stat(self, key: str) -> Node | None:
        path = self.path_of(key)
        try:
            st = path.lstat()
        except FileNotFoundError:
            return None
        except OSError:
            return Node(key=key, name=display_name(path.name)[0], kind=EntryKind.OTHER, readable=False)
        return self._node(key, path.name, os.fspath(path), st)

    def list(self, key: str) -> list[Node]:
        with os.scandir(self.path_of(key)) as it:
            children = sorted(it, key=lambda d: os.fsencode(d.name))
        nodes = []
        for d in children:
            sub = join_key(key, d.name)
            try:
                st = d.stat(follow_symlinks=False)
            except OSError:
                name, utf8 = display_name(d.name)
                nodes.append(Node(key=sub, name=name, kind=EntryKind.OTHER, name_is_utf8=utf8, readable=False))
                continue
            nodes.append(self._node(sub, d.name, d.path, st))
        return nodes

    def open(self, key: str, *, sequential: bool = False) -> BinaryIO:
        return open_regular_file(self.path_of(key))

    @staticmethod
    def _node(key: str, raw_name: str, path: str, st: os.stat_result) -> Node:
        name, utf8 = display_name(raw_name)
        kind = kind_of(st.st_mode)
        if kind is EntryKind.SYMLINK:
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            return Node(key=key, name=name, kind=kind, link_target=display_name(target)[0], name_is_utf8=utf8)
        size = st.st_size if kind is EntryKind.FILE else 0
        return Node(key=key, name=name, kind=kind, size=size, name_is_utf8=utf8,
                    readable=readable(path, st.st_mode, kind))
