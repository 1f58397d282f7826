"""A package inside a zip or tar archive, read in place: nothing is ever unpacked to disk.

The archive is recognised by its content (zip signature; tar header, bare or inside gzip, bzip2 or
xz). Opening it builds an index of the members once; every member name, link, special member and
size is judged there, and what an unpacking tool would do wrong becomes a finding
(:mod:`modeltemplates.sources.archive_rules`) instead of a tree node. Stored zip members and members
of an uncompressed tar are read as windows of the archive (seeking is free); compressed members are
decompressed as they are read.
"""

from __future__ import annotations

import builtins
import bz2
import contextlib
import gzip
import io
import lzma
import posixpath
import stat
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import BinaryIO

import attrs

from modeltemplates.findings import Finding
from modeltemplates.sources import archive_rules as R
from modeltemplates.sources.base import (
    ArchiveLimits,
    EntryKind,
    Node,
    NotARegularFile,
    PackageSource,
    SourceError,
    join_key,
)

#: Suffixes of archives the platform never unpacks when found inside a package (model files, which
#: are zips too, are not among them).
NESTED_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".7z", ".rar")

_COMPRESSION_MAGIC = ((b"\x1f\x8b", "gz"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))


def sniff(head: bytes, peek: Callable[[str], bytes] | None = None) -> str | None:
    """The archive kind of a file from its first bytes: ``zip``, ``tar``, ``tar.gz``, ``tar.bz2``,
    ``tar.xz``, or ``None``. A compressed stream counts only when it holds a tar header, which
    ``peek(compression)`` returns (the first 512 decompressed bytes)."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if is_tar_header(head[:512]):
        return "tar"
    for magic, comp in _COMPRESSION_MAGIC:
        if head.startswith(magic):
            if peek is None:
                return None
            try:
                inner = peek(comp)
            except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError):
                return None
            return f"tar.{comp}" if is_tar_header(inner) else None
    return None


def is_tar_header(block: bytes) -> bool:
    """Whether ``block`` is a tar header: ``ustar`` magic, or an old-style header whose checksum holds."""
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    try:
        stored = int(block[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return stored == unsigned and any(block[:100])


class _Shared:
    """One open file read at absolute offsets by many windows; a lock keeps seek+read together."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.lock = threading.Lock()

    def pread(self, offset: int, n: int) -> bytes:
        with self.lock:
            self.f.seek(offset)
            return self.f.read(n)


class _Window(io.RawIOBase):
    """``size`` bytes of a shared file from ``start``: a seekable stream of a stored member."""

    def __init__(self, shared: _Shared, start: int, size: int) -> None:
        super().__init__()
        self._shared, self._start, self._size, self._pos = shared, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        data = self._shared.pread(self._start + self._pos, want)
        if not data:
            raise OSError(f"the archive ends inside a member (truncated at byte {self._start + self._pos})")
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


@attrs.frozen
class _Member:
    """What the index keeps of one member."""

    key: str
    kind: EntryKind
    size: int = 0
    link_target: str | None = None
    encrypted: bool = False
    order: int = 0
    info: zipfile.ZipInfo | tarfile.TarInfo | None = attrs.field(default=None, eq=False)


class ArchiveSource(PackageSource):
    """The members of one archive as a tree. Keys are normalised member paths (``a/b.py``)."""

    named_top = False

    def __init__(
        self,
        opener: Callable[[], BinaryIO],
        kind: str,
        size: int,
        location: str,
        *,
        limits: ArchiveLimits | None = None,
        close_hook: Callable[[], None] | None = None,
    ) -> None:
        self._opener = opener
        self.kind = kind
        self._size = size
        self._location = location
        self._limits = limits or ArchiveLimits()
        self._close_hook = close_hook
        self._handles: list[BinaryIO] = []
        self._members: dict[str, _Member] = {}
        self._children: dict[str, dict[str, str]] = {"": {}}
        self._findings: list[Finding] = []
        self._order = 0
        self._lock = threading.Lock()
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._window: _Shared | None = None
        try:
            if kind == "zip":
                self._index_zip()
            else:
                self._index_tar()
        except BaseException:
            self.close()
            raise

    # -- PackageSource ---------------------------------------------------------------------

    @property
    def location(self) -> str:
        return self._location

    @property
    def concurrent(self) -> bool:
        return self.kind in ("zip", "tar")

    def path_of(self, key: str) -> PurePosixPath:
        top = PurePosixPath(posixpath.basename(self._location.rstrip("/")) or "archive")
        return top.joinpath(*key.split("/")) if key else top

    def stat(self, key: str) -> Node | None:
        if key == "":
            return Node(key="", name=self.path_of("").name, kind=EntryKind.DIR)
        if key in self._members:
            return self._node(self._members[key])
        if key in self._children:
            return Node(key=key, name=key.rpartition("/")[2], kind=EntryKind.DIR)
        return None

    def list(self, key: str) -> list[Node]:
        children = self._children.get(key)
        if children is None:
            raise NotADirectoryError(f"{key} is not a folder in the archive")
        nodes = []
        for name in sorted(children, key=lambda n: n.encode("utf-8", "surrogateescape")):
            child = children[name]
            member = self._members.get(child)
            nodes.append(self._node(member) if member else Node(key=child, name=name, kind=EntryKind.DIR))
        return nodes

    def open(self, key: str, *, sequential: bool = False) -> BinaryIO:
        member = self._members.get(key)
        if member is None or member.kind is not EntryKind.FILE:
            raise NotARegularFile(f"{key} is not a regular file in the archive")
        if member.encrypted:
            raise PermissionError(13, "the member is encrypted")
        if isinstance(member.info, zipfile.ZipInfo):
            return self._open_zip_member(member.info)
        assert isinstance(member.info, tarfile.TarInfo)
        return self._open_tar_member(member.info)

    def order(self, key: str) -> int:
        member = self._members.get(key)
        return member.order if member else 0

    def findings(self, root_key: str) -> tuple[Finding, ...]:
        out = list(self._findings)
        out.extend(self._root_findings(root_key))
        prefix = root_key + "/" if root_key else ""
        return tuple(attrs.evolve(f, path=f.path[len(prefix):]) if f.path.startswith(prefix) else f for f in out)

    def close(self) -> None:
        for h in self._handles:
            with contextlib.suppress(Exception):  # closing is best effort
                h.close()
        self._handles.clear()
        if self._close_hook is not None:
            self._close_hook()
            self._close_hook = None

    # -- index -----------------------------------------------------------------------------

    def _handle(self) -> BinaryIO:
        f = self._opener()
        self._handles.append(f)
        return f

    def _add(self, raw_name: str, kind: EntryKind, *, size: int = 0, link: str | None = None,
             encrypted: bool = False, info: zipfile.ZipInfo | tarfile.TarInfo | None = None) -> str | None:
        """Judge one member name and put it in the tree; ``None`` when it is not put there."""
        self._order += 1
        if "\\" in raw_name:
            self._findings.append(R.BACKSLASH.finding(raw_name, f"the member name '{raw_name}' contains a "
                                                      "backslash, which unpacking tools treat differently"))
            return None
        key = _normalise(raw_name)
        if key is None:
            self._findings.append(R.ESCAPES.finding(raw_name, f"the member name '{raw_name}' points outside the "
                                                    "folder the archive is unpacked into"))
            return None
        if key == "":
            return None
        if key in self._members or (key in self._children and kind is not EntryKind.DIR):
            self._findings.append(R.DUPLICATE.finding(key, f"'{key}' is in the archive more than once; which copy "
                                                      "an unpacking tool keeps depends on the tool"))
            return None
        parent = ""
        for part in key.split("/")[:-1]:
            here = join_key(parent, part)
            if here in self._members and self._members[here].kind is not EntryKind.DIR:
                self._findings.append(R.DUPLICATE.finding(key, f"'{here}' is both a file and a folder in the archive"))
                return None
            self._children.setdefault(parent, {})[part] = here
            self._children.setdefault(here, {})
            parent = here
        self._children.setdefault(parent, {})[key.rpartition("/")[2]] = key
        if kind is EntryKind.DIR:
            self._children.setdefault(key, {})
        self._members[key] = _Member(key=key, kind=kind, size=size, link_target=link, encrypted=encrypted,
                                     order=self._order, info=info)
        return key

    def _index_zip(self) -> None:
        limits = self._limits
        try:
            zf = zipfile.ZipFile(self._handle())
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise SourceError(f"{self._location}: not a readable zip archive ({_why(exc)}); "
                              "it may be truncated") from None
        self._zip = zf
        self._window = _Shared(self._handle())
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            self._findings.append(R.TOO_MANY.finding("", f"the archive has {len(infos)} members; only the first "
                                                     f"{limits.max_members} are checked"))
            infos = infos[: limits.max_members]
        total = 0
        for info in infos:
            mode = info.external_attr >> 16
            is_dir = info.is_dir()
            if stat.S_ISLNK(mode):
                self._add_link(info.filename, self._zip_link_target(info), info)
                continue
            if mode and not is_dir and not stat.S_ISREG(mode) and stat.S_IFMT(mode):
                self._special(info.filename)
                continue
            if is_dir:
                self._add(info.filename, EntryKind.DIR, info=info)
                continue
            if self._bomb(info.filename, info.file_size, info.compress_size, info.compress_type != zipfile.ZIP_STORED):
                continue
            total += info.file_size
            if total > limits.max_total_bytes:
                self._too_big(total)
                return
            encrypted = bool(info.flag_bits & 0x1)
            key = self._add(info.filename, EntryKind.FILE, size=info.file_size, encrypted=encrypted, info=info)
            if key is not None and encrypted:
                self._findings.append(R.ENCRYPTED.finding(key, f"'{key}' is encrypted; the platform cannot read it"))
            if key is not None:
                self._nested(key)

    def _zip_link_target(self, info: zipfile.ZipInfo) -> str:
        if info.file_size > 4096 or self._zip is None:
            return "?"
        try:
            with self._zip.open(info) as f:
                return f.read(4097).decode("utf-8", "backslashreplace")
        except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
            return "?"

    def _index_tar(self) -> None:
        limits = self._limits
        comp = self.kind.partition(".")[2]
        mode = f"r:{comp}" if comp else "r:"
        try:
            tar = tarfile.open(fileobj=self._handle(), mode=mode)  # type: ignore[call-overload]  # noqa: SIM115 - kept open
        except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            raise SourceError(f"{self._location}: not a readable tar archive ({_why(exc)})") from None
        self._tar = tar
        if not comp:
            self._window = _Shared(self._handle())
        total = 0
        count = 0
        try:
            while True:
                info = tar.next()
                if info is None:
                    break
                count += 1
                if count > limits.max_members:
                    self._findings.append(R.TOO_MANY.finding(
                        "", f"the archive has more than {limits.max_members} members; only those are checked"))
                    break
                if info.issym():
                    self._add_link(info.name, info.linkname, info)
                elif info.islnk():
                    self._add_hardlink(info)
                elif info.isdir():
                    self._add(info.name, EntryKind.DIR, info=info)
                elif info.isfile():
                    # A compressed tar is one stream: what it unpacks to so far is judged against the
                    # whole file, before the member is decompressed.
                    if self._bomb(info.name, total + info.size, self._size, bool(comp)):
                        break
                    total += info.size
                    if total > limits.max_total_bytes:
                        self._too_big(total)
                        break
                    key = self._add(info.name, EntryKind.FILE, size=info.size, info=info)
                    if key is not None:
                        self._nested(key)
                else:
                    self._special(info.name)
        except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as exc:
            self._findings.append(R.TRUNCATED.finding("", f"the archive ends early or is damaged after {count} "
                                                      f"member(s) ({_why(exc)}); the rest cannot be checked"))

    def _add_link(self, name: str, target: str, info: zipfile.ZipInfo | tarfile.TarInfo) -> None:
        key = self._add(name, EntryKind.SYMLINK, link=target, info=info)
        if key is None:
            return
        resolved = _normalise(posixpath.join(posixpath.dirname(key), target)) if not target.startswith("/") else None
        if resolved is None:
            self._findings.append(R.LINK_ESCAPES.finding(
                key, f"'{key}' is a link to '{target}', outside the folder the archive is unpacked into"))

    def _add_hardlink(self, info: tarfile.TarInfo) -> None:
        target = _normalise(info.linkname)
        source = self._members.get(target) if target else None
        if source is None or source.kind is not EntryKind.FILE:
            self._findings.append(R.LINK_ESCAPES.finding(
                info.name, f"'{info.name}' is a hard link to '{info.linkname}', which is not a file of this archive"))
            self._order += 1
            return
        key = self._add(info.name, EntryKind.FILE, size=source.size, info=source.info)
        if key is not None:
            self._findings.append(R.HARDLINK.finding(
                key, f"'{key}' is a hard link to '{target}'; it is checked as a copy of that file"))

    def _special(self, name: str) -> None:
        self._order += 1
        self._findings.append(R.SPECIAL.finding(
            _normalise(name) or name, f"'{name}' is a device, pipe or other special member, not a file"))

    def _bomb(self, name: str, size: int, packed: int, compressed: bool) -> bool:
        ratio = size / max(packed, 1)
        if compressed and size > self._limits.ratio_floor_bytes and ratio > self._limits.max_ratio:
            self._findings.append(R.RATIO.finding(
                _normalise(name) or name, f"'{name}' expands {ratio:.0f} times ({size} bytes from {packed}); "
                f"the limit is {self._limits.max_ratio}: it is not read"))
            self._order += 1
            return True
        return False

    def _too_big(self, total: int) -> None:
        self._findings.append(R.TOO_LARGE.finding(
            "", f"the archive unpacks to more than {self._limits.max_total_bytes} bytes (at least {total}); "
            "members past that point are not checked"))

    def _nested(self, key: str) -> None:
        if key.lower().endswith(NESTED_ARCHIVE_SUFFIXES):
            self._findings.append(R.NESTED.finding(
                key, f"'{key}' is an archive inside the archive; the platform does not unpack it"))

    def _root_findings(self, root_key: str) -> builtins.list[Finding]:
        out = [R.ARCHIVE_GIVEN.finding("", f"{self.path_of('').name} is a {self.kind} archive; the platform "
                                       "imports a folder, so unpack it and upload its model folder",
                                       hint=R.upload_hint(self.path_of("").name, root_key, self.kind))]
        if root_key != "model":
            where = f"its folder '{root_key}'" if root_key else "its top level"
            out.append(R.TOP_FOLDER.finding("", f"the archive holds the package at {where}, not in a top-level "
                                            "'model' folder", hint=R.top_hint(root_key, self.kind)))
        return out

    # -- member streams --------------------------------------------------------------------

    def _open_zip_member(self, info: zipfile.ZipInfo) -> BinaryIO:
        assert self._zip is not None and self._window is not None
        if info.compress_type == zipfile.ZIP_STORED:
            header = self._window.pread(info.header_offset, 30)
            if len(header) < 30 or header[:4] != b"PK\x03\x04":
                raise OSError(f"bad local header for {info.filename}")
            start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") + \
                int.from_bytes(header[28:30], "little")
            return io.BufferedReader(_Window(self._window, start, info.file_size), 1 << 16)
        try:
            return self._zip.open(info)  # type: ignore[return-value]
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
            raise OSError(f"cannot read {info.filename}: {exc}") from None

    def _open_tar_member(self, info: tarfile.TarInfo) -> BinaryIO:
        if self._window is not None:
            return io.BufferedReader(_Window(self._window, info.offset_data, info.size), 1 << 16)
        assert self._tar is not None
        f = self._tar.extractfile(info)
        if f is None:
            raise NotARegularFile(f"{info.name} is not a regular file in the archive")
        return f  # type: ignore[return-value]

    @staticmethod
    def _node(m: _Member) -> Node:
        return Node(key=m.key, name=m.key.rpartition("/")[2], kind=m.kind, size=m.size, link_target=m.link_target,
                    readable=not m.encrypted)


def _normalise(name: str) -> str | None:
    """The member name as a relative POSIX path, or ``None`` when it leaves the unpack folder."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def peek_decompressed(opener: Callable[[], BinaryIO], comp: str, n: int = 512) -> bytes:
    """The first ``n`` bytes of a compressed file, decompressed (to see whether it holds a tar)."""
    with opener() as raw:
        d: BinaryIO
        if comp == "gz":
            d = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        elif comp == "bz2":
            d = bz2.BZ2File(raw, "rb")  # type: ignore[assignment]
        else:
            d = lzma.LZMAFile(raw, "rb")  # type: ignore[assignment]  # noqa: SIM115 - closed below
        with d:
            return d.read(n)
