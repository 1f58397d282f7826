"""A read-only, bounded view of a model package on disk.

:func:`open_package` locates the ``model/`` folder, walks it once without following links, and
applies the ignore rules (:mod:`modeltemplates.ignore`). The resulting :class:`Package` is the
inventory every check works from; :meth:`Package.open` and :meth:`Package.read_bytes` are the only
ways a check gets at a file's bytes, and they refuse anything but a regular file inside the root.
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import attrs

from modeltemplates.ignore import IgnoreRules, load_ignore_rules

#: The folder name the platform requires for the package root.
PACKAGE_DIR_NAME = "model"


class EntryKind(enum.Enum):
    """What a directory entry is, judged with ``lstat`` (links are never followed)."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    FIFO = "fifo"
    SOCKET = "socket"
    DEVICE = "device"
    OTHER = "other"


def _kind_of(mode: int) -> EntryKind:
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


@attrs.frozen
class Limits:
    """Bounds on walking a package; every one of them turns into a finding when exceeded."""

    max_entries: int = 200_000
    max_depth: int = 64
    max_ignore_file_bytes: int = 1 << 20


@attrs.frozen
class Entry:
    """One thing found under the package root.

    ``path`` is relative to the root, POSIX-style, with undecodable bytes shown as ``\\xNN``.
    """

    path: str
    kind: EntryKind
    size: int = 0
    link_target: str | None = None
    name_is_utf8: bool = True
    readable: bool = True
    empty_dir: bool = False
    ignored_by: str | None = None

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def parent(self) -> str:
        return self.path.rpartition("/")[0]

    @property
    def depth(self) -> int:
        return self.path.count("/")

    @property
    def suffix(self) -> str:
        name = self.name
        dot = name.rfind(".")
        return name[dot:].lower() if dot > 0 else ""

    @property
    def is_file(self) -> bool:
        return self.kind is EntryKind.FILE

    @property
    def at_top(self) -> bool:
        return "/" not in self.path


@attrs.frozen
class Located:
    """Which folder was taken as the package root and why.

    ``how`` is ``"given"`` (the folder is named ``model``), ``"child"`` (the given folder has none
    of a package's marks and its ``model/`` child has them), ``"marked"`` (the given folder is not
    named ``model`` but holds a package's marks, so it is the package) or ``"unnamed"`` (neither).
    """

    root: Path
    given: Path
    how: str
    other_model_dirs: tuple[str, ...] = ()


@attrs.frozen
class WalkProblem:
    """Something the walk could not do (unreadable folder, too many entries, too deep)."""

    path: str
    kind: str  # "unreadable-dir", "too-many-entries", "too-deep"
    detail: str


@attrs.frozen
class Package:
    """The located root, its inventory (ignored entries included and marked) and the ignore rules."""

    located: Located
    entries: tuple[Entry, ...]
    ignore: IgnoreRules
    problems: tuple[WalkProblem, ...] = ()
    _by_path: dict[str, Entry] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_path", {e.path: e for e in self.entries})

    @property
    def root(self) -> Path:
        return self.located.root

    def get(self, path: str) -> Entry | None:
        return self._by_path.get(path)

    def kept(self) -> Iterator[Entry]:
        """Entries the ignore rules keep, in path order."""
        return (e for e in self.entries if e.ignored_by is None)

    def files(self) -> Iterator[Entry]:
        """Kept regular files, in path order."""
        return (e for e in self.kept() if e.kind is EntryKind.FILE)

    def top_level_modules(self) -> frozenset[str]:
        """Names importable from the package root: ``helper.py`` -> ``helper``, ``pkg/`` -> ``pkg``."""
        names: set[str] = set()
        for e in self.kept():
            if not e.at_top:
                continue
            if e.kind is EntryKind.FILE and e.suffix == ".py":
                names.add(e.name[:-3])
            elif e.kind is EntryKind.DIR:
                names.add(e.name)
        return frozenset(names)

    def absolute(self, entry: Entry) -> Path:
        return self.root.joinpath(*entry.path.split("/"))

    def open(self, entry: Entry) -> BinaryIO:
        """Open a regular file for binary reading; never follows a link, never opens a FIFO."""
        return open_regular_file(self.absolute(entry))

    def read_bytes(self, entry: Entry, limit: int) -> bytes:
        """At most ``limit + 1`` bytes of a regular file (one more than allowed tells "too large").

        The walk's size sizes the read, so a small file does not cost a ``limit``-sized buffer.
        """
        with self.open(entry) as f:
            return f.read(min(limit, entry.size) + 1)


class NotARegularFile(OSError):
    """Raised when a path to be read turns out not to be a regular file."""


def open_regular_file(path: Path) -> BinaryIO:
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


#: Names that make a folder a model package wherever it sits: the inference script and config.json.
PACKAGE_MARK_NAMES = frozenset({"customize_service.py", "config.json"})

#: Suffixes of the model files of the platform's engines (PyTorch, TensorFlow, MXNet, Caffe): a folder
#: holding one at its top is a package too.
PACKAGE_MARK_SUFFIXES = (".pth", ".pt", ".pb", ".caffemodel", ".params", ".h5", ".onnx", ".om")


def has_package_marks(folder: Path) -> bool:
    """Whether ``folder`` holds, at its top, a file only a model package has (see the constants above)."""
    try:
        with os.scandir(folder) as it:
            for d in it:
                name = d.name
                lower = name.lower()
                if name not in PACKAGE_MARK_NAMES and not lower.endswith(PACKAGE_MARK_SUFFIXES):
                    continue
                try:
                    if d.is_file(follow_symlinks=False):
                        return True
                except OSError:
                    continue
    except OSError:
        return False
    return False


def locate(given: Path, max_scan: int = 20_000) -> Located:
    """Choose the package root: the folder itself when it is the package, else its ``model/`` child.

    A folder named ``model``, or one holding a package's marks (``customize_service.py``,
    ``config.json`` or a model file at its top), is the package even when it also holds a ``model``
    sub-folder (network code, a SavedModel, ...). Only when the given folder has none of the marks
    and its ``model/`` child has them is the child taken. Otherwise the folder itself is checked (and
    the layout check says so); any ``model`` folders further down are listed so the user can point
    at the right one.
    """
    if given.name == PACKAGE_DIR_NAME:
        return Located(root=given, given=given, how="given")
    if has_package_marks(given):
        return Located(root=given, given=given, how="marked", other_model_dirs=_find_model_dirs(given, max_scan))
    child = given / PACKAGE_DIR_NAME
    if child.is_dir() and not child.is_symlink() and has_package_marks(child):
        return Located(root=child, given=given, how="child")
    return Located(root=given, given=given, how="unnamed", other_model_dirs=_find_model_dirs(given, max_scan))


def _find_model_dirs(top: Path, max_scan: int) -> tuple[str, ...]:
    found: list[str] = []
    stack: list[tuple[Path, str, int]] = [(top, "", 0)]
    seen = 0
    while stack and seen < max_scan:
        folder, rel, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                children = sorted(it, key=lambda d: d.name)
        except OSError:
            continue
        for d in children:
            seen += 1
            try:
                is_dir = d.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_dir:
                continue
            sub = f"{rel}/{d.name}" if rel else d.name
            if d.name == PACKAGE_DIR_NAME:
                found.append(display_name(sub)[0])
            elif depth < 8:
                stack.append((Path(d.path), sub, depth + 1))
    return tuple(sorted(found))


def open_package(path: str | os.PathLike[str], limits: Limits | None = None) -> Package:
    """Locate and walk a package folder. Raises ``NotADirectoryError``/``FileNotFoundError`` only
    for the path the caller gave; everything inside becomes entries and problems."""
    limits = limits or Limits()
    given = Path(path)
    if not given.exists():
        raise FileNotFoundError(f"no such folder: {given}")
    if not given.is_dir():
        raise NotADirectoryError(f"not a folder: {given}")
    located = locate(given)
    ignore = load_ignore_rules(located.root, limits.max_ignore_file_bytes)
    entries, problems = _walk(located.root, ignore, limits)
    return Package(located=located, entries=entries, ignore=ignore, problems=problems)


def _walk(root: Path, ignore: IgnoreRules, limits: Limits) -> tuple[tuple[Entry, ...], tuple[WalkProblem, ...]]:
    """Iterative, sorted, bounded walk. Ignored folders are recorded but not entered."""
    entries: list[Entry] = []
    position: dict[str, int] = {}  # path -> index in entries, to mark folders once they are listed
    problems: list[WalkProblem] = []
    stack: list[tuple[Path, str, int]] = [(root, "", 0)]
    while stack:
        folder, rel, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                children = sorted(it, key=lambda d: os.fsencode(d.name))
        except OSError as exc:
            problems.append(WalkProblem(rel, "unreadable-dir", exc.strerror or str(exc)))
            if rel:
                entries[position[rel]] = attrs.evolve(entries[position[rel]], readable=False)
            continue
        if rel and not children:
            entries[position[rel]] = attrs.evolve(entries[position[rel]], empty_dir=True)
        subdirs: list[tuple[Path, str, int]] = []
        for d in children:
            if len(entries) >= limits.max_entries:
                problems.append(
                    WalkProblem(rel, "too-many-entries", f"stopped after {limits.max_entries} entries")
                )
                stack.clear()
                break
            name, utf8 = display_name(d.name)
            sub = f"{rel}/{name}" if rel else name
            entry = _entry_for(d, sub, utf8, ignore)
            position[sub] = len(entries)
            entries.append(entry)
            if entry.kind is EntryKind.DIR and entry.ignored_by is None and entry.readable:
                if depth + 1 >= limits.max_depth:
                    problems.append(WalkProblem(sub, "too-deep", f"not entered: deeper than {limits.max_depth}"))
                else:
                    subdirs.append((Path(d.path), sub, depth + 1))
        stack.extend(reversed(subdirs))
    entries.sort(key=lambda e: e.path)
    return tuple(entries), tuple(problems)


def _entry_for(d: os.DirEntry[str], path: str, utf8: bool, ignore: IgnoreRules) -> Entry:
    try:
        st = d.stat(follow_symlinks=False)
    except OSError:
        return Entry(path=path, kind=EntryKind.OTHER, name_is_utf8=utf8, readable=False)
    kind = _kind_of(st.st_mode)
    ignored_by = ignore.match(path, is_dir=kind is EntryKind.DIR)
    if kind is EntryKind.SYMLINK:
        try:
            target = os.readlink(d.path)
        except OSError:
            target = "?"
        return Entry(path=path, kind=kind, link_target=display_name(target)[0], name_is_utf8=utf8,
                     ignored_by=ignored_by)
    readable = _readable(d.path, st.st_mode, kind)
    size = st.st_size if kind is EntryKind.FILE else 0
    return Entry(path=path, kind=kind, size=size, name_is_utf8=utf8, readable=readable, ignored_by=ignored_by)


def _readable(path: str, mode: int, kind: EntryKind) -> bool:
    """Readable by the uploader: the owner's permission bits allow it and so does ``access``.

    The permission bits are checked as well because a root process passes ``access`` for any file,
    while the user's upload tool would not.
    """
    need = stat.S_IRUSR | (stat.S_IXUSR if kind is EntryKind.DIR else 0)
    if mode & need != need:
        return False
    return os.access(path, os.R_OK | (os.X_OK if kind is EntryKind.DIR else 0), follow_symlinks=False)


