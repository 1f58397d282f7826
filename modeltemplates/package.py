"""A read-only, bounded view of a model package, wherever its bytes live.

:func:`open_package` opens a :class:`~modeltemplates.sources.PackageSource` for the path, locates the
``model/`` folder, walks it once without following links, and applies the ignore rules
(:mod:`modeltemplates.ignore`). The resulting :class:`Package` is the inventory every check works
from; :meth:`Package.open` and :meth:`Package.read_bytes` are the only ways a check gets at a
file's bytes, and they refuse anything but a regular file inside the root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import BinaryIO

import attrs

from modeltemplates.ignore import IgnoreRules, load_ignore_rules_from
from modeltemplates.sources import PackageSource, open_source
from modeltemplates.sources.base import EntryKind, Node, NotARegularFile, join_key
from modeltemplates.sources.folder import FolderSource, display_name, open_regular_file

__all__ = [
    "PACKAGE_DIR_NAME",
    "PACKAGE_MARK_NAMES",
    "PACKAGE_MARK_SUFFIXES",
    "Entry",
    "EntryKind",
    "Limits",
    "Located",
    "NotARegularFile",
    "Package",
    "WalkProblem",
    "display_name",
    "has_package_marks",
    "locate",
    "open_package",
    "open_regular_file",
]

#: The folder name the platform requires for the package root.
PACKAGE_DIR_NAME = "model"


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
    #: The source's own name for the file (see :class:`~modeltemplates.sources.Node`).
    key: str | None = attrs.field(default=None, eq=False, repr=False)

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
    named ``model`` but holds a package's marks, so it is the package), ``"unnamed"`` (neither) or
    ``"top"`` (an archive holding the package's files at its top level, checked as the ``model``
    folder it unpacks into).
    """

    root: PurePath
    given: PurePath
    how: str
    other_model_dirs: tuple[str, ...] = ()
    #: The root's key in the package's source.
    root_key: str = attrs.field(default="", eq=False, repr=False)


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
    source: PackageSource | None = attrs.field(default=None, eq=False, repr=False)
    _by_path: dict[str, Entry] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_path", {e.path: e for e in self.entries})

    @property
    def root(self) -> PurePath:
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

    def key_of(self, entry: Entry) -> str:
        return entry.key if entry.key is not None else join_key(self.located.root_key, entry.path)

    def _source(self) -> PackageSource:
        if self.source is None:
            raise OSError("this package has no source to read from")
        return self.source

    def local_path(self, entry: Entry) -> Path | None:
        """The file on this machine's disk, or ``None`` when the package lives elsewhere."""
        return self._source().local_path(self.key_of(entry))

    def absolute(self, entry: Entry) -> Path:
        path = self.local_path(entry)
        if path is None:
            raise OSError(f"{entry.path} is not a file on this machine")
        return path

    def open(self, entry: Entry, *, sequential: bool = False) -> BinaryIO:
        """Open a regular file for binary reading; never follows a link, never opens a FIFO.

        ``sequential``: the whole file will be read front to back (see :meth:`PackageSource.open`).
        """
        return self._source().open(self.key_of(entry), sequential=sequential)

    def read_bytes(self, entry: Entry, limit: int) -> bytes:
        """At most ``limit + 1`` bytes of a regular file (one more than allowed tells "too large").

        The walk's size sizes the read, so a small file does not cost a ``limit``-sized buffer.
        """
        with self.open(entry) as f:
            return f.read(min(limit, entry.size) + 1)


#: Names that make a folder a model package wherever it sits: the inference script and config.json.
PACKAGE_MARK_NAMES = frozenset({"customize_service.py", "config.json"})

#: Suffixes of the model files of the platform's engines (PyTorch, TensorFlow, MXNet, Caffe): a folder
#: holding one at its top is a package too.
PACKAGE_MARK_SUFFIXES = (".pth", ".pt", ".pb", ".caffemodel", ".params", ".h5", ".onnx", ".om")


def has_package_marks(folder: PackageSource | str | os.PathLike[str], key: str = "") -> bool:
    """Whether the folder at ``key`` holds, at its top, a file only a model package has (see above)."""
    source = folder if isinstance(folder, PackageSource) else FolderSource(folder)
    try:
        children = source.list(key)
    except OSError:
        return False
    return any(
        d.kind is EntryKind.FILE and (d.name in PACKAGE_MARK_NAMES or d.name.lower().endswith(PACKAGE_MARK_SUFFIXES))
        for d in children
    )


def locate(source: PackageSource | str | os.PathLike[str], max_scan: int = 20_000) -> Located:
    """Choose the package root: the folder itself when it is the package, else its ``model/`` child.

    A folder named ``model``, or one holding a package's marks (``customize_service.py``,
    ``config.json`` or a model file at its top), is the package even when it also holds a ``model``
    sub-folder (network code, a SavedModel, ...). Only when the given folder has none of the marks
    and its ``model/`` child has them is the child taken. Otherwise the folder itself is checked (and
    the layout check says so); any ``model`` folders further down are listed so the user can point
    at the right one.
    """
    if not isinstance(source, PackageSource):
        source = open_source(source)
    given = source.path_of("")
    if not source.named_top:
        # An archive: its top is what gets unpacked into a folder. A `model/` folder in it is the
        # package; package files at its top are checked as the `model` folder they would be
        # unpacked into (the archive rules say how the archive should have been built).
        child = source.stat(PACKAGE_DIR_NAME)
        if child is not None and child.kind is EntryKind.DIR and not has_package_marks(source):
            return Located(root=source.path_of(child.key), given=given, how="given", root_key=child.key)
        if has_package_marks(source):
            return Located(root=PurePath(PACKAGE_DIR_NAME), given=given, how="top")
    if given.name == PACKAGE_DIR_NAME:
        return Located(root=given, given=given, how="given")
    if has_package_marks(source):
        return Located(root=given, given=given, how="marked", other_model_dirs=_find_model_dirs(source, max_scan))
    child = source.stat(PACKAGE_DIR_NAME)
    if child is not None and child.kind is EntryKind.DIR and has_package_marks(source, child.key):
        return Located(root=source.path_of(child.key), given=given, how="child", root_key=child.key)
    return Located(root=given, given=given, how="unnamed", other_model_dirs=_find_model_dirs(source, max_scan))


def _find_model_dirs(source: PackageSource, max_scan: int) -> tuple[str, ...]:
    found: list[str] = []
    stack: list[tuple[str, str, int]] = [("", "", 0)]
    seen = 0
    while stack and seen < max_scan:
        key, rel, depth = stack.pop()
        try:
            children = source.list(key)
        except OSError:
            continue
        for d in children:
            seen += 1
            if d.kind is not EntryKind.DIR:
                continue
            sub = f"{rel}/{d.name}" if rel else d.name
            if d.name == PACKAGE_DIR_NAME:
                found.append(sub)
            elif depth < 8:
                stack.append((d.key, sub, depth + 1))
    return tuple(sorted(found))


def open_package(path: str | os.PathLike[str] | PackageSource, limits: Limits | None = None) -> Package:
    """Locate and walk a package. Raises ``NotADirectoryError``/``FileNotFoundError`` only
    for the path the caller gave; everything inside becomes entries and problems."""
    limits = limits or Limits()
    source = path if isinstance(path, PackageSource) else open_source(path)
    located = locate(source)
    ignore = load_ignore_rules_from(source, located.root_key, limits.max_ignore_file_bytes)
    entries, problems = _walk(source, located.root_key, ignore, limits)
    return Package(located=located, entries=entries, ignore=ignore,
                   problems=_root_problems(source, located.root_key) + problems, source=source)


def _root_problems(source: PackageSource, root_key: str) -> tuple[WalkProblem, ...]:
    """The package folder itself unreadable (a walk as the superuser lists it anyway)."""
    try:
        node = source.stat(root_key)
        local = source.local_path(root_key)
    except OSError as exc:
        return (WalkProblem("", "unreadable-dir", exc.strerror or str(exc)),)
    if node is None:
        return (WalkProblem("", "unreadable-dir", "the folder vanished while it was being checked"),)
    if node.readable or local is None:
        return ()
    from modeltemplates.sources.localpath import cannot_read

    return (WalkProblem("", "unreadable-dir", cannot_read(local, True)),)


def _walk(
    source: PackageSource, root_key: str, ignore: IgnoreRules, limits: Limits
) -> tuple[tuple[Entry, ...], tuple[WalkProblem, ...]]:
    """Iterative, sorted, bounded walk. Ignored folders are recorded but not entered."""
    entries: list[Entry] = []
    position: dict[str, int] = {}  # path -> index in entries, to mark folders once they are listed
    problems: list[WalkProblem] = []
    stack: list[tuple[str, str, int]] = [(root_key, "", 0)]
    while stack:
        key, rel, depth = stack.pop()
        try:
            children = source.list(key)
        except OSError as exc:
            problems.append(WalkProblem(rel, "unreadable-dir", exc.strerror or str(exc)))
            if rel:
                entries[position[rel]] = attrs.evolve(entries[position[rel]], readable=False)
            continue
        if rel and not children:
            entries[position[rel]] = attrs.evolve(entries[position[rel]], empty_dir=True)
        subdirs: list[tuple[str, str, int]] = []
        for d in children:
            if len(entries) >= limits.max_entries:
                problems.append(
                    WalkProblem(rel, "too-many-entries", f"stopped after {limits.max_entries} entries")
                )
                stack.clear()
                break
            sub = f"{rel}/{d.name}" if rel else d.name
            entry = _entry_for(d, sub, ignore)
            position[sub] = len(entries)
            entries.append(entry)
            if entry.kind is EntryKind.DIR and entry.ignored_by is None and entry.readable:
                if depth + 1 >= limits.max_depth:
                    problems.append(WalkProblem(sub, "too-deep", f"not entered: deeper than {limits.max_depth}"))
                else:
                    subdirs.append((d.key, sub, depth + 1))
        stack.extend(reversed(subdirs))
    entries.sort(key=lambda e: e.path)
    return tuple(entries), tuple(problems)


def _entry_for(node: Node, path: str, ignore: IgnoreRules) -> Entry:
    unknown = node.kind is EntryKind.OTHER and not node.readable  # could not even be looked at
    ignored_by = None if unknown else ignore.match(path, is_dir=node.kind is EntryKind.DIR)
    return Entry(path=path, kind=node.kind, size=node.size, link_target=node.link_target,
                 name_is_utf8=node.name_is_utf8, readable=node.readable, ignored_by=ignored_by, key=node.key)
