"""Read a PyTorch model file statically: format, pickles, globals, tensors, consistency.

The format is recognised by content, never by name: the zip archive of ``torch.save`` (torch >= 1.6)
and TorchScript, the legacy stream of pickles followed by raw storages, the old tar layout, and plain
pickles. Pickles go through the symbolic machine of :mod:`.pickle`; storage bytes are never read
(the legacy format is walked by seeking past them; zip members are sized from the central
directory), so the cost follows the metadata, not the file size.
"""

from __future__ import annotations

import io
import itertools
import lzma
import math
import operator
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs

from modeltemplates.inspect import torchfacts as tf
from modeltemplates.inspect.pickle import (
    OPCODES,
    Call,
    CallRef,
    Global,
    GlobalRef,
    Limits,
    Oddity,
    PDict,
    PersistentId,
    PickleError,
    PickleResult,
    PSet,
    load,
    load_stream,
)

if TYPE_CHECKING:
    import tarfile

__all__ = [
    "PickleFacts",
    "Problem",
    "StorageFacts",
    "TensorFacts",
    "TorchFileError",
    "TorchFileFacts",
    "TorchLimits",
    "ZipMember",
    "read_torch_file",
]


class TorchFileError(Exception):
    """The file cannot be read as a model file.

    ``kind`` is ``"unrecognised"`` (not a torch file or pickle at all), ``"corrupt"`` (looks like one
    but is malformed or truncated) or ``"limit"`` (refused for exceeding a :class:`TorchLimits` bound).
    """

    def __init__(self, kind: str, message: str, *, offset: int | None = None, member: str | None = None) -> None:
        where = f" in member {member!r}" if member else ""
        at = f" (at byte {offset})" if offset is not None else ""
        super().__init__(f"{message}{where}{at}")
        self.kind = kind
        self.message = message
        self.offset = offset
        self.member = member


@attrs.frozen
class TorchLimits:
    """Bounds on what reading one model file may cost."""

    pickle: Limits = attrs.field(factory=Limits)
    #: Members of a zip / tar archive.
    max_members: int = 100_000
    #: Size of the zip central directory.
    max_central_directory: int = 64 << 20
    #: Uncompressed size of a member that is read (pickles, small text records).
    max_member_bytes: int = 256 << 20
    #: Uncompressed/compressed ratio above which a compressed member is a decompression bomb.
    max_compression_ratio: int = 100
    #: Values visited when looking for tensors.
    max_walk_nodes: int = 5_000_000
    #: Key-path depth followed when naming tensors.
    max_path_depth: int = 64
    #: Storages and tensors kept.
    max_tensors: int = 1_000_000
    #: Problems kept (the rest are counted).
    max_problems: int = 200
    #: How deep torch files nested in pickles (``torch.storage._load_from_bytes``) are followed.
    max_nested_files: int = 2


# --------------------------------------------------------------------------------------------
# Facts


@attrs.frozen
class Problem:
    """An inconsistency found while reading; ``code`` is stable, ``message`` says exactly what."""

    code: str
    message: str
    member: str | None = None


@attrs.frozen
class PickleFacts:
    """One pickle of the file: where it is, who reads it, what it references."""

    role: str
    member: str | None
    index: int
    start: int
    end: int
    protocols: tuple[int, ...]
    opcode_protocol: int
    globals: tuple[GlobalRef, ...]
    calls: tuple[CallRef, ...]
    oddities: tuple[Oddity, ...]
    #: False for pickles torch.load never reads (extra zip members, data after the storages).
    read_by_torch: bool = True

    @property
    def where(self) -> str:
        place = f"member {self.member!r}" if self.member else f"pickle #{self.index + 1}"
        return f"{place} ({self.role})"

    @property
    def needed_protocol(self) -> int:
        return max([self.opcode_protocol, *self.protocols])


@attrs.frozen
class StorageFacts:
    """A storage as the pickle declares it, and what the file holds for it."""

    key: str
    storage_type: str
    dtype: str
    itemsize: int
    numel: int
    location: str
    #: Bytes the file holds for it (zip member size, legacy element count x itemsize); None: absent.
    nbytes_present: int | None
    member: str | None = None
    offset: int | None = None


@attrs.frozen
class TensorFacts:
    """One tensor reachable from the pickled object."""

    name: str
    path: tuple[str, ...]
    dtype: str
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    storage_offset: int
    storage_key: str | None
    storage_type: str | None
    device: str | None
    requires_grad: bool
    parameter: bool
    layout: str
    rebuild: str
    numel: int
    nbytes: int
    #: Name of the first tensor that is the same object (tied weights), if any.
    alias_of: str | None = None


@attrs.frozen
class ZipMember:
    name: str
    size: int
    compressed_size: int
    compression: int
    offset: int
    #: The CRC-32 the central directory records for the uncompressed bytes.
    crc32: int = 0


@attrs.frozen
class TorchFileFacts:
    """Everything read from one model file."""

    format: str
    size: int
    pickles: tuple[PickleFacts, ...]
    object_kind: str
    object_type: str
    state_dict_key: str | None
    module_class: str | None
    tensors: tuple[TensorFacts, ...]
    storages: tuple[StorageFacts, ...]
    problems: tuple[Problem, ...]
    archive_name: str | None = None
    members: tuple[ZipMember, ...] = ()
    format_version: str | None = None
    byteorder: str | None = None

    @property
    def globals(self) -> tuple[tuple[PickleFacts, GlobalRef], ...]:
        """Every global referenced, with the pickle it is in."""
        return tuple((p, g) for p in self.pickles for g in p.globals)

    @property
    def tensor_count(self) -> int:
        return len(self.tensors)

    @property
    def parameter_count(self) -> int:
        """Elements over distinct tensors (tied weights count once)."""
        return sum(t.numel for t in self.tensors if t.alias_of is None)

    @property
    def tensor_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors if t.alias_of is None)

    @property
    def storage_bytes(self) -> int:
        return sum(s.numel * s.itemsize for s in self.storages)

    @property
    def dtypes(self) -> dict[str, int]:
        counts = Counter(t.dtype for t in self.tensors if t.alias_of is None)
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, Any]:
        """A deterministic, JSON-able view."""
        return {
            "format": self.format,
            "size": self.size,
            "archive_name": self.archive_name,
            "format_version": self.format_version,
            "byteorder": self.byteorder,
            "object": {
                "kind": self.object_kind,
                "type": self.object_type,
                "state_dict_key": self.state_dict_key,
                "module_class": self.module_class,
            },
            "totals": {
                "tensors": self.tensor_count,
                "parameters": self.parameter_count,
                "tensor_bytes": self.tensor_bytes,
                "storages": len(self.storages),
                "storage_bytes": self.storage_bytes,
                "dtypes": self.dtypes,
            },
            "pickles": [
                {
                    "role": p.role,
                    "member": p.member,
                    "index": p.index,
                    "start": p.start,
                    "end": p.end,
                    "protocols": list(p.protocols),
                    "opcode_protocol": p.opcode_protocol,
                    "read_by_torch": p.read_by_torch,
                    "calls": len(p.calls),
                    "globals": sorted({f"{g.module}.{g.name}" for g in p.globals}),
                }
                for p in self.pickles
            ],
            "tensors": [
                {
                    "name": t.name,
                    "path": list(t.path),
                    "dtype": t.dtype,
                    "shape": list(t.shape),
                    "stride": list(t.stride),
                    "storage_offset": t.storage_offset,
                    "storage_key": t.storage_key,
                    "storage_type": t.storage_type,
                    "device": t.device,
                    "requires_grad": t.requires_grad,
                    "parameter": t.parameter,
                    "layout": t.layout,
                    "rebuild": t.rebuild,
                    "numel": t.numel,
                    "nbytes": t.nbytes,
                    "alias_of": t.alias_of,
                }
                for t in self.tensors
            ],
            # What attrs.asdict gives for these all-plain-value classes (every field, in order),
            # spelled out: 5x faster, which shows with tens of thousands of storages and members.
            "storages": [
                {
                    "key": s.key,
                    "storage_type": s.storage_type,
                    "dtype": s.dtype,
                    "itemsize": s.itemsize,
                    "numel": s.numel,
                    "location": s.location,
                    "nbytes_present": s.nbytes_present,
                    "member": s.member,
                    "offset": s.offset,
                }
                for s in self.storages
            ],
            "members": [
                {
                    "name": m.name,
                    "size": m.size,
                    "compressed_size": m.compressed_size,
                    "compression": m.compression,
                    "offset": m.offset,
                    "crc32": m.crc32,
                }
                for m in self.members
            ],
            "problems": [{"code": p.code, "message": p.message, "member": p.member} for p in self.problems],
        }


# --------------------------------------------------------------------------------------------
# Entry point


def read_torch_file(f: BinaryIO, size: int, limits: TorchLimits | None = None) -> TorchFileFacts:
    """Read the model file ``f`` of ``size`` bytes; raise :class:`TorchFileError` if it is unreadable."""
    # The cyclic collector is left alone (process-wide state, as in the Python parser), although
    # its passes over a 10,000-tensor object graph cost about a third of the read.
    limits = limits or TorchLimits()
    if size <= 0:
        raise TorchFileError("unrecognised", "the file is empty")
    f.seek(0)
    head = f.read(min(size, 512))
    if len(head) < min(size, 512):
        raise TorchFileError("corrupt", "the file is shorter than its size")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _Reader(f, size, limits).read_zip()
    if _is_tar_header(head):
        return _Reader(f, size, limits).read_tar()
    if head[0] in OPCODES:
        return _Reader(f, size, limits).read_pickles(head)
    raise TorchFileError(
        "unrecognised",
        "not a PyTorch file: neither a zip archive, a tar archive nor a pickle "
        f"(first byte 0x{head[0]:02x})",
        offset=0,
    )


def _is_tar_header(head: bytes) -> bool:
    """The check ``tarfile`` applies to a header block: its checksum."""
    if len(head) < 512 or head[257:262] != b"ustar":
        return False
    try:
        stored = int(head[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    unsigned = 256 + sum(head[:148]) + sum(head[156:512])
    return stored == unsigned


# --------------------------------------------------------------------------------------------
# The reader


_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    ValueError,
    struct.error,
    OverflowError,
    UnicodeError,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
    KeyError,
)
#: With ``tarfile.TarError``: :mod:`tarfile` loads only for a file in the tar layout.
_TAR_ERRORS = (ValueError, struct.error, OverflowError, UnicodeError, EOFError, OSError, KeyError)


@attrs.define
class _Storage:
    key: str
    storage_type: str
    dtype: str
    itemsize: int
    numel: int
    location: str


class _Reader:
    def __init__(self, f: BinaryIO, size: int, limits: TorchLimits) -> None:
        self.f = f
        self.size = size
        self.limits = limits
        self.pickles: list[PickleFacts] = []
        self.problems: list[Problem] = []
        self.dropped = 0
        self.storages: dict[str, _Storage] = {}
        self.tar_storage_facts: list[StorageFacts] = []
        #: id -> (persistent id, key of the storage record it was parsed as), by ``note_storages``.
        self.storage_keys: dict[int, tuple[PersistentId, str]] = {}
        #: While not None, every problem reported is also appended here (see ``_Walker.tensor``).
        self.recording: list[tuple[str, str, str | None]] | None = None

    # -- helpers ----------------------------------------------------------------------------

    def problem(self, code: str, message: str, member: str | None = None) -> None:
        if self.recording is not None:
            self.recording.append((code, message, member))
        if len(self.problems) < self.limits.max_problems:
            self.problems.append(Problem(code, message, member))
        else:
            self.dropped += 1

    def pickle_error(self, exc: PickleError, member: str | None = None, what: str = "pickle") -> TorchFileError:
        kind = "limit" if exc.limit else "corrupt"
        return TorchFileError(kind, f"{what}: {exc.message}", offset=exc.offset, member=member)

    def record(self, res: PickleResult, role: str, member: str | None, index: int, read: bool = True) -> None:
        self.pickles.append(
            PickleFacts(
                role=role,
                member=member,
                index=index,
                start=res.start,
                end=res.end,
                protocols=res.protocols,
                opcode_protocol=res.opcode_protocol,
                globals=res.globals,
                calls=res.calls,
                oddities=res.oddities,
                read_by_torch=read,
            )
        )

    def facts(self, fmt: str, root: Any, **extra: Any) -> TorchFileFacts:
        walker = _Walker(self, fmt)
        kind, otype, sd_key, module_class = walker.classify(root)
        tensors = walker.walk(root)
        for i, blob in enumerate(walker.nested):
            self.read_nested(i, blob)
        if self.dropped:
            self.problems.append(Problem("more-problems", f"{self.dropped} more problems not listed"))
        storages = extra.pop("storage_facts", None)
        if storages is None:
            storages = tuple(
                StorageFacts(s.key, s.storage_type, s.dtype, s.itemsize, s.numel, s.location, None)
                for s in self.storages.values()
            )
        return TorchFileFacts(
            format=fmt,
            size=self.size,
            pickles=tuple(self.pickles),
            object_kind=kind,
            object_type=otype,
            state_dict_key=sd_key,
            module_class=module_class,
            tensors=tensors,
            storages=tuple(sorted(storages, key=lambda s: s.key)),
            problems=tuple(self.problems),
            **extra,
        )

    def read_nested(self, index: int, blob: bytes) -> None:
        """A torch file inside a pickle: its pickles are read by torch.load too, so they are checked."""
        label = f"<nested file {index + 1}>"
        if self.limits.max_nested_files <= 0:
            self.problem("member-refused", f"{label}: torch files nested deeper than allowed")
            return
        inner = attrs.evolve(self.limits, max_nested_files=self.limits.max_nested_files - 1)
        try:
            nested = read_torch_file(io.BytesIO(blob), len(blob), inner)
        except TorchFileError as exc:
            self.problem("bad-nested-file", f"{label}: {exc}")
            return
        for p in nested.pickles:
            member = f"{label}/{p.member}" if p.member else label
            self.pickles.append(attrs.evolve(p, member=member))
        for prob in nested.problems:
            self.problem(prob.code, f"{label}: {prob.message}", prob.member)

    # -- storages named by persistent ids ---------------------------------------------------

    def note_storages(self, res: PickleResult, zip_format: bool) -> None:
        """Collect the storages the persistent ids of ``res`` declare."""
        for ref in res.persistent_ids:
            pid = ref.pid
            if not isinstance(pid, tuple) or not pid:
                if not zip_format and isinstance(pid, str):
                    continue  # tar-format tensor/storage keys
                self.problem("bad-persistent-id", f"persistent id at byte {ref.offset} is not a tuple")
                continue
            if pid[0] == "module" and not zip_format:
                continue
            st = _parse_storage_pid(pid)
            if st is None:
                self.problem("bad-persistent-id", f"persistent id at byte {ref.offset} is not a storage record")
                continue
            old = self.storages.get(st.key)
            self.storage_keys[id(ref)] = (ref, st.key)
            if old is None:
                if len(self.storages) >= self.limits.max_tensors:
                    raise TorchFileError("limit", f"more than {self.limits.max_tensors} storages")
                self.storages[st.key] = st
            elif (old.storage_type, old.numel) != (st.storage_type, st.numel):
                self.problem(
                    "storage-conflict",
                    f"storage {st.key!r} is declared twice differently "
                    f"({old.storage_type}[{old.numel}] and {st.storage_type}[{st.numel}])",
                )

    # -- plain pickles and the legacy format ------------------------------------------------

    def read_pickles(self, head: bytes) -> TorchFileFacts:
        plim = self.limits.pickle
        try:
            first = load(self.f, 0, self.size, limits=plim)
        except PickleError as exc:
            if head[0] == 0x80 and not exc.limit:
                raise self.pickle_error(exc) from None
            if exc.limit:
                raise self.pickle_error(exc) from None
            raise TorchFileError(
                "unrecognised", f"not a PyTorch file or a pickle ({exc.message})", offset=exc.offset
            ) from None
        if type(first.value) is int and first.value == tf.LEGACY_MAGIC_NUMBER:
            return self.read_legacy(first)
        self.record(first, "object", None, 0)
        self.note_storages(first, zip_format=False)
        self.trailing(first.end, 1, "after the pickle")
        return self.facts("pickle", first.value)

    def trailing(self, pos: int, index: int, where: str) -> None:
        """Bytes after what torch reads: parse any pickles hidden there, else report the bytes."""
        if pos >= self.size:
            return
        try:
            hidden = load_stream(self.f, pos, self.size, limits=self.limits.pickle)
        except PickleError:
            self.problem("trailing-data", f"{self.size - pos} bytes {where} that torch.load never reads")
            return
        for i, res in enumerate(hidden):
            self.record(res, "hidden", None, index + i, read=False)
        self.problem("hidden-pickle", f"{len(hidden)} pickle(s) {where} that torch.load never reads")

    def read_legacy(self, magic: PickleResult) -> TorchFileFacts:
        plim = self.limits.pickle
        self.record(magic, "magic", None, 0)
        results = [magic]
        roles = ("protocol_version", "sys_info", "object", "storage_keys")
        pos = magic.end
        for i, role in enumerate(roles, start=1):
            try:
                res = load(self.f, pos, self.size, limits=plim)
            except PickleError as exc:
                raise self.pickle_error(exc, what=f"legacy {role} pickle") from None
            self.record(res, role, None, i)
            results.append(res)
            pos = res.end
        version, sys_info, obj, keys = (r.value for r in results[1:])
        if type(version) is not int or version != tf.LEGACY_PROTOCOL_VERSION:
            self.problem("bad-protocol-version", f"legacy protocol version is {version!r}, not 1001")
        byteorder = None
        if isinstance(sys_info, PDict):
            little = sys_info.get("little_endian")
            if isinstance(little, bool):
                byteorder = "little" if little else "big"
                if not little:
                    self.problem("big-endian", "the file was written on a big-endian machine")
        self.note_storages(results[3], zip_format=False)
        storage_facts = self.legacy_storages(keys, pos)
        return self.facts("legacy", obj, storage_facts=storage_facts, byteorder=byteorder)

    def legacy_storages(self, keys: Any, pos: int) -> list[StorageFacts]:
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise TorchFileError("corrupt", "the legacy storage-key pickle is not a list of strings", offset=pos)
        out: list[StorageFacts] = []
        seen: set[str] = set()
        _read_ahead(self.f, self.legacy_header_spans(keys, pos))
        for key in keys:
            if key in seen:
                self.problem("duplicate-storage-key", f"storage {key!r} is listed twice")
                continue
            seen.add(key)
            st = self.storages.get(key)
            if st is None:
                self.problem(
                    "unknown-storage-key", f"storage {key!r} is listed but no tensor declares it; torch.load fails"
                )
                return out  # its element size is unknown, so the rest of the layout is too
            if pos + 8 > self.size:
                self.problem("missing-storage", f"storage {key!r}: the file ends before its data")
                out.append(_storage_fact(st, None))
                return out
            self.f.seek(pos)
            count = int.from_bytes(self.f.read(8), "little", signed=True)
            nbytes = count * st.itemsize
            if count < 0 or pos + 8 + nbytes > self.size:
                self.problem(
                    "truncated-storage",
                    f"storage {key!r} declares {count} elements ({max(nbytes, 0)} bytes) at byte {pos} "
                    f"but the file ends at {self.size}",
                )
                out.append(_storage_fact(st, None, offset=pos))
                return out
            if count != st.numel:
                self.problem(
                    "numel-mismatch",
                    f"storage {key!r}: the pickle declares {st.numel} elements, the data header {count}",
                )
            out.append(_storage_fact(st, nbytes, offset=pos + 8))
            pos += 8 + nbytes
        for key, st in self.storages.items():
            if key not in seen:
                self.problem("missing-storage", f"storage {key!r} is used by a tensor but its data is not in the file")
                out.append(_storage_fact(st, None))
        self.trailing(pos, len(self.pickles), "after the storages")
        return out

    def legacy_header_spans(self, keys: list[str], pos: int) -> list[tuple[int, int]]:
        """Where each storage's 8-byte header lies if the pickles tell the truth (a read-ahead hint)."""
        spans = []
        for key in dict.fromkeys(keys):
            st = self.storages.get(key)
            if st is None or st.numel < 0 or pos + 8 > self.size:
                break
            spans.append((pos, 8))
            pos += 8 + st.numel * st.itemsize
        return spans

    # -- zip --------------------------------------------------------------------------------

    def read_zip(self) -> TorchFileFacts:
        self.check_eocd()
        try:
            zf = zipfile.ZipFile(self.f)
            infos = zf.infolist()
        except _ZIP_ERRORS as exc:
            raise TorchFileError("corrupt", f"bad zip archive: {exc}") from None
        if not infos:
            raise TorchFileError("corrupt", "the zip archive is empty")
        if len(infos) > self.limits.max_members:
            raise TorchFileError("limit", f"more than {self.limits.max_members} zip members")
        names = Counter(i.filename for i in infos)
        for name, n in sorted(names.items()):
            if n > 1:
                self.problem("duplicate-member", f"zip member {name!r} appears {n} times", name)
        members = self.check_members(infos)
        first = infos[0].filename
        if "/" not in first:
            raise TorchFileError("corrupt", f"zip member {first!r} is not inside an archive folder")
        archive = first.split("/", 1)[0]
        prefix = archive + "/"
        by_name = {i.filename: i for i in infos}
        torchscript = f"{prefix}constants.pkl" in by_name or any(n.startswith(f"{prefix}code/") for n in by_name)
        data_name = f"{prefix}data.pkl"
        if data_name not in by_name:
            raise TorchFileError("corrupt", f"the zip archive has no {data_name!r}: not written by torch.save")
        fmt = "torchscript" if torchscript else "zip"
        read_by_torch = {data_name}
        if torchscript:
            read_by_torch.add(f"{prefix}constants.pkl")
        root: Any = None
        for index, info in enumerate(i for i in infos if _is_pickle_member(i.filename)):
            name = info.filename
            is_read = name in read_by_torch or (torchscript and name.endswith(".debug_pkl") and name.startswith(prefix))
            role = "data" if name == data_name else ("constants" if name.endswith("constants.pkl") else "extra")
            try:
                data = self.member_bytes(zf, info)
            except TorchFileError as exc:
                if is_read:
                    raise
                self.problem("member-refused" if exc.kind == "limit" else "bad-extra-pickle", exc.message, name)
                continue
            try:
                res = load(io.BytesIO(data), 0, len(data), limits=self.limits.pickle)
            except PickleError as exc:
                if is_read:
                    raise self.pickle_error(exc, member=name) from None
                self.problem("bad-extra-pickle", f"{exc.message} (at byte {exc.offset})", name)
                continue
            self.record(res, role, name, index, read=is_read)
            if not is_read:
                self.problem("extra-pickle", f"{name!r} is a pickle torch.load never reads", name)
            if name == data_name:
                root = res.value
                self.note_storages(res, zip_format=True)
            if res.end < len(data):
                self.problem("trailing-data", f"{len(data) - res.end} bytes after the pickle", name)
        version = self.small_text(zf, by_name, f"{prefix}.data/version") or self.small_text(
            zf, by_name, f"{prefix}version"
        )
        byteorder = self.small_text(zf, by_name, f"{prefix}byteorder")
        if byteorder is not None and byteorder not in ("little", "big"):
            self.problem("bad-byteorder", f"byteorder record is {byteorder!r}")
        if byteorder == "big":
            self.problem("big-endian", "the archive was written on a big-endian machine")
        storage_facts = self.zip_storages(by_name, prefix)
        self.zip_hidden_pickles(zf, infos, prefix, len(read_by_torch) + 100)
        return self.facts(
            fmt,
            root,
            storage_facts=storage_facts,
            archive_name=archive,
            members=members,
            format_version=version,
            byteorder=byteorder,
        )

    def check_eocd(self) -> None:
        """Refuse oversized central directories before ``zipfile`` reads them into memory."""
        # The record is 22 bytes plus a comment of up to 64 KiB: look in the last 4 KiB first (a
        # remote file pays for what is read), then in all the bytes it can lie in.
        for tail_len in (min(self.size, 4096), min(self.size, 22 + 65535)):
            self.f.seek(self.size - tail_len)
            tail = self.f.read(tail_len)
            at = tail.rfind(b"PK\x05\x06")
            if at >= 20 or (at >= 0 and tail_len == self.size):  # with the zip64 locator before it
                break
        if at < 0 or at + 22 > len(tail):
            raise TorchFileError("corrupt", "no zip end-of-central-directory record: truncated or not a zip")
        count, cd_size, cd_offset = struct.unpack("<10xHII", tail[at : at + 20])
        eocd_pos = self.size - tail_len + at
        if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
            loc = tail[at - 20 : at] if at >= 20 else b""
            if loc[:4] == b"PK\x06\x07":
                z64_pos = int.from_bytes(loc[8:16], "little")
                if 0 <= z64_pos <= self.size - 56:
                    self.f.seek(z64_pos)
                    rec = self.f.read(56)
                    if rec[:4] == b"PK\x06\x06":
                        count = int.from_bytes(rec[32:40], "little")
                        cd_size = int.from_bytes(rec[40:48], "little")
                        cd_offset = int.from_bytes(rec[48:56], "little")
        if count > self.limits.max_members:
            raise TorchFileError("limit", f"the zip archive declares {count} members (limit {self.limits.max_members})")
        if cd_size > self.limits.max_central_directory:
            raise TorchFileError("limit", f"the zip central directory is {cd_size} bytes")
        if cd_offset + cd_size > eocd_pos + 1 and cd_offset + cd_size > self.size:
            raise TorchFileError("corrupt", "the zip central directory lies outside the file (truncated?)")

    def check_members(self, infos: list[zipfile.ZipInfo]) -> tuple[ZipMember, ...]:
        """Local headers present and named as in the directory; members inside the file, not overlapping."""
        spans: list[tuple[int, int, str]] = []
        out = []
        _read_ahead(self.f, [(i.header_offset, 30 + len(i.filename.encode("utf-8"))) for i in infos])
        for info in infos:
            name = info.filename
            if info.flag_bits & 0x1:
                self.problem("encrypted-member", f"zip member {name!r} is encrypted", name)
            if info.compress_type != zipfile.ZIP_STORED:
                self.problem(
                    "compressed-member",
                    f"zip member {name!r} is compressed (method {info.compress_type}); "
                    "torch stores members uncompressed",
                    name,
                )
            start = info.header_offset
            if not 0 <= start <= self.size - 30:
                raise TorchFileError(
                    "corrupt", f"local header offset {start} lies outside the file", member=name
                )
            self.f.seek(start)
            header = self.f.read(30)
            if len(header) < 30 or header[:4] != b"PK\x03\x04":
                raise TorchFileError("corrupt", "local header missing", offset=start, member=name)
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            local_name = self.f.read(name_len)
            if local_name.decode("utf-8", "replace") != name and local_name.decode("cp437") != name:
                raise TorchFileError("corrupt", "local header names another file", offset=start, member=name)
            data_start = start + 30 + name_len + extra_len
            end = data_start + info.compress_size
            if end > self.size:
                raise TorchFileError(
                    "corrupt", f"member data runs past the end of the file ({end} > {self.size})", member=name
                )
            spans.append((start, end, name))
            out.append(ZipMember(name, info.file_size, info.compress_size, info.compress_type, data_start, info.CRC))
        spans.sort()
        for (_s1, e1, n1), (s2, _e2, n2) in itertools.pairwise(spans):
            if s2 < e1:
                raise TorchFileError("corrupt", f"zip members {n1!r} and {n2!r} overlap (bytes {s2}-{e1})")
        return tuple(out)

    def member_bytes(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        name = info.filename
        if info.file_size > self.limits.max_member_bytes:
            raise TorchFileError("limit", f"member of {info.file_size} bytes is too large to inspect", member=name)
        if info.compress_type != zipfile.ZIP_STORED:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > self.limits.max_compression_ratio and info.file_size > (1 << 20):
                raise TorchFileError(
                    "limit", f"decompression bomb: {info.compress_size} bytes expand to {info.file_size}", member=name
                )
        try:
            with zf.open(info) as m:
                data = m.read(info.file_size + 1)
        except _ZIP_ERRORS as exc:
            raise TorchFileError("corrupt", f"cannot read zip member: {exc}", member=name) from None
        if len(data) != info.file_size:
            raise TorchFileError("corrupt", "zip member size differs from its directory entry", member=name)
        return data

    def zip_hidden_pickles(self, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], prefix: str, index: int) -> None:
        """Members torch never reads whose bytes are a pickle, whatever their name: read like the rest.

        Storages that tensors use are raw data and skipped; every other member that starts with a
        pickle PROTO opcode and parses as one whole pickle is recorded (torch.load never reads it).
        """
        data_prefix = f"{prefix}data/"
        for info in infos:
            name = info.filename
            if _is_pickle_member(name) or name.endswith("/") or info.file_size < 3:
                continue
            if name.startswith(data_prefix) and name[len(data_prefix):] in self.storages:
                continue
            if info.file_size > self.limits.max_member_bytes:
                continue
            try:
                with zf.open(info) as m:
                    head = m.read(2)
            except _ZIP_ERRORS:
                continue
            if len(head) < 2 or head[0] != 0x80 or not 1 <= head[1] <= 5:
                continue
            try:
                data = self.member_bytes(zf, info)
                res = load(io.BytesIO(data), 0, len(data), limits=self.limits.pickle)
            except (TorchFileError, PickleError):
                continue
            if res.end != len(data):
                continue
            self.record(res, "hidden", name, index, read=False)
            index += 1
            self.problem("hidden-pickle", f"{name!r} is a pickle that torch.load never reads", name)

    def small_text(self, zf: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], name: str) -> str | None:
        info = by_name.get(name)
        if info is None:
            return None
        if info.file_size > 256:
            self.problem("bad-record", f"{name!r} is {info.file_size} bytes; a short text record was expected", name)
            return None
        return self.member_bytes(zf, info).decode("utf-8", "replace").strip()

    def zip_storages(self, by_name: dict[str, zipfile.ZipInfo], prefix: str) -> list[StorageFacts]:
        out = []
        data_prefix = f"{prefix}data/"
        for key, st in self.storages.items():
            name = data_prefix + key
            info = by_name.get(name)
            if info is None:
                self.problem("missing-storage", f"storage {key!r} has no member {name!r}", name)
                out.append(_storage_fact(st, None))
                continue
            need = st.numel * st.itemsize
            if info.file_size < need:
                self.problem(
                    "truncated-storage",
                    f"storage {key!r} needs {need} bytes ({st.numel} x {st.storage_type}) "
                    f"but {name!r} holds {info.file_size}",
                    name,
                )
            elif info.file_size > need:
                self.problem("oversized-storage", f"{name!r} holds {info.file_size} bytes, {need} declared", name)
            out.append(_storage_fact(st, info.file_size, member=name))
        for name in sorted(by_name):
            if name.startswith(data_prefix) and name[len(data_prefix) :] not in self.storages:
                self.problem("orphan-storage", f"{name!r} is not used by any tensor", name)
        return out

    # -- tar (torch < 0.4) ------------------------------------------------------------------

    def read_tar(self) -> TorchFileFacts:
        import tarfile

        members: dict[str, tarfile.TarInfo] = {}
        self.f.seek(0)
        try:
            with tarfile.open(fileobj=self.f, mode="r:") as tar:
                for count, info in enumerate(_tar_members(tar)):
                    if count >= self.limits.max_members:
                        raise TorchFileError("limit", f"more than {self.limits.max_members} tar members")
                    if info.name in members:
                        self.problem("duplicate-member", f"tar member {info.name!r} appears twice", info.name)
                    members[info.name] = info
        except (tarfile.TarError, *_TAR_ERRORS) as exc:
            raise TorchFileError("corrupt", f"bad tar archive: {exc}") from None
        for need in ("sys_info", "pickle", "storages", "tensors"):
            if need not in members or not members[need].isfile():
                raise TorchFileError("corrupt", f"tar archive without a {need!r} member: not written by torch.save")
        for name in members:
            if name not in ("sys_info", "pickle", "storages", "tensors"):
                self.problem("extra-member", f"tar member {name!r} is not part of the format", name)

        def span(name: str) -> tuple[int, int]:
            info = members[name]
            start, end = info.offset_data, info.offset_data + info.size
            if end > self.size:
                raise TorchFileError("corrupt", "tar member runs past the end of the file", member=name)
            return start, end

        plim = self.limits.pickle
        s, e = span("sys_info")
        self.tar_pickle(s, e, "sys_info", "sys_info", 0)
        self.tar_storages(*span("storages"))
        tensors_meta = self.tar_tensors(*span("tensors"))
        s, e = span("pickle")
        try:
            obj = load(self.f, s, e, limits=plim)
        except PickleError as exc:
            raise self.pickle_error(exc, member="pickle") from None
        self.record(obj, "object", "pickle", 0)
        walker_root = _TarRoot(obj.value, tensors_meta)
        return self.facts("tar", walker_root, storage_facts=self.tar_storage_facts)

    def tar_pickle(self, start: int, end: int, member: str, role: str, index: int) -> PickleResult:
        try:
            res = load(self.f, start, end, limits=self.limits.pickle)
        except PickleError as exc:
            raise self.pickle_error(exc, member=member) from None
        self.record(res, role, member, index)
        return res

    def tar_storages(self, start: int, end: int) -> None:
        count = self.tar_pickle(start, end, "storages", "storage_count", 0)
        n = count.value
        if type(n) is not int or n < 0 or n > self.limits.max_tensors:
            raise TorchFileError("corrupt", f"bad storage count {n!r}", member="storages")
        pos = count.end
        for i in range(n):
            res = self.tar_pickle(pos, end, "storages", "storage_header", i + 1)
            rec = res.value
            st = None
            if isinstance(rec, tuple) and len(rec) == 3:
                key, location, stype = rec
                st = _storage_from_parts(str(key), stype, location, 0)
            if st is None:
                raise TorchFileError("corrupt", "bad storage record", member="storages", offset=res.start)
            pos = res.end
            if pos + 8 > end:
                raise TorchFileError("corrupt", "storage data truncated", member="storages", offset=pos)
            self.f.seek(pos)
            numel = int.from_bytes(self.f.read(8), "little", signed=True)
            nbytes = numel * st.itemsize
            if numel < 0 or pos + 8 + nbytes > end:
                raise TorchFileError("corrupt", f"storage {st.key!r} data truncated", member="storages", offset=pos)
            st.numel = numel
            self.storages[st.key] = st
            self.tar_storage_facts.append(_storage_fact(st, nbytes, member="storages", offset=pos + 8))
            pos += 8 + nbytes
        if pos < end:
            self.tar_pickle(pos, end, "storages", "storage_views", n + 1)

    def tar_tensors(self, start: int, end: int) -> dict[str, dict[str, Any]]:
        count = self.tar_pickle(start, end, "tensors", "tensor_count", 0)
        n = count.value
        if type(n) is not int or n < 0 or n > self.limits.max_tensors:
            raise TorchFileError("corrupt", f"bad tensor count {n!r}", member="tensors")
        pos = count.end
        out: dict[str, dict[str, Any]] = {}
        for i in range(n):
            res = self.tar_pickle(pos, end, "tensors", "tensor_header", i + 1)
            rec = res.value
            if not (isinstance(rec, tuple) and len(rec) == 3):
                raise TorchFileError("corrupt", "bad tensor record", member="tensors", offset=res.start)
            key, storage_id, _ttype = rec
            pos = res.end
            if pos + 8 > end:
                raise TorchFileError("corrupt", "tensor record truncated", member="tensors", offset=pos)
            self.f.seek(pos)
            ndim = int.from_bytes(self.f.read(4), "little", signed=True)
            need = 8 + 16 * max(ndim, 0) + 8
            if ndim < 0 or ndim > 64 or pos + need > end:
                raise TorchFileError("corrupt", "tensor record truncated", member="tensors", offset=pos)
            raw = self.f.read(need - 4)[4:]
            dims = struct.unpack(f"<{2 * ndim + 1}q", raw)
            out[str(key)] = {
                "storage": str(storage_id),
                "size": tuple(dims[:ndim]),
                "stride": tuple(dims[ndim : 2 * ndim]),
                "offset": dims[-1],
            }
            pos += need
        return out


def _read_ahead(f: BinaryIO, spans: list[tuple[int, int]]) -> None:
    """Tell a file that can use it (a remote one) which ``(start, length)`` spans are read next."""
    hint = getattr(f, "prefetch", None)
    if spans and callable(hint):
        hint(spans)


def _tar_members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while True:
        info = tar.next()
        if info is None:
            return
        yield info


def _is_pickle_member(name: str) -> bool:
    return name.endswith((".pkl", ".debug_pkl"))


def _storage_fact(
    st: _Storage, present: int | None, *, member: str | None = None, offset: int | None = None
) -> StorageFacts:
    return StorageFacts(st.key, st.storage_type, st.dtype, st.itemsize, st.numel, st.location, present, member, offset)


def _storage_from_parts(key: Any, stype: Any, location: Any, numel: Any) -> _Storage | None:
    if not isinstance(stype, Global) or not isinstance(key, str):
        return None
    info = tf.STORAGE_TYPES.get(stype.name)
    if info is None or stype.module not in tf.STORAGE_MODULES:
        return None
    if type(numel) is not int or numel < 0:
        return None
    loc = location if isinstance(location, str) else "?"
    return _Storage(key, stype.qualname, info.dtype, info.itemsize, numel, loc)


def _parse_storage_pid(pid: tuple[Any, ...]) -> _Storage | None:
    """``('storage', type, key, location, numel[, view_metadata])`` -> a storage, else None."""
    if len(pid) not in (5, 6) or pid[0] != "storage":
        return None
    return _storage_from_parts(pid[2], pid[1], pid[3], pid[4])


# --------------------------------------------------------------------------------------------
# Finding tensors and saying what the object is


@attrs.frozen
class _TarRoot:
    """The object pickle of the tar format plus the tensor table its persistent ids point into."""

    value: Any
    tensors: dict[str, dict[str, Any]]


#: Modules of the functions :meth:`_Walker.decode` recognises as rebuilding a tensor.
_REBUILD_MODULES = frozenset({"torch._utils", "torch._tensor", "torch.tensor"})
_REBUILD_V2 = {"_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_qtensor", "_rebuild_tensor_v3"}
_DICT_TYPES = {"collections.OrderedDict", "builtins.dict", "__builtin__.dict", "collections.defaultdict"}
_STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "net", "network", "weights", "params")


class _Walker:
    """Finds tensors in a symbolic object graph (iteratively; cycles and budgets handled)."""

    def __init__(self, reader: _Reader, fmt: str) -> None:
        self.reader = reader
        self.fmt = fmt
        self.nodes = 0
        #: id -> (object, tensor facts, problems reported while decoding it); see :meth:`tensor`.
        self.memo: dict[int, tuple[Any, dict[str, Any] | None, tuple[tuple[str, str, str | None], ...]]] = {}
        self.tar: dict[str, dict[str, Any]] = {}
        #: Bytes that ``torch.storage._load_from_bytes`` would hand to torch.load.
        self.nested: list[bytes] = []

    # -- tensors ----------------------------------------------------------------------------

    def tensor(self, value: Any) -> dict[str, Any] | None:
        """The tensor ``value`` rebuilds, as a dict of facts (not to be mutated), or None if it is not one.

        ``classify`` and ``walk`` ask this of the same objects, so results are remembered per object
        (kept alive by the memo, so its id cannot be reused) for one read. The problems the decoding
        reported are reported again on every call, exactly as decoding it again would.
        """
        if isinstance(value, Call):
            func = value.func
            if not isinstance(func, Global) or func.module not in _REBUILD_MODULES:
                return None
        elif not (isinstance(value, PersistentId) and self.fmt == "tar"):
            return None
        hit = self.memo.get(id(value))
        if hit is not None:
            for problem in hit[2]:
                self.reader.problem(*problem)
            return hit[1]
        reader = self.reader
        recorded: list[tuple[str, str, str | None]] = []
        reader.recording = recorded
        try:
            facts = self.decode(value)
        finally:
            reader.recording = None
        self.memo[id(value)] = (value, facts, tuple(recorded))
        return facts

    def decode(self, value: Any) -> dict[str, Any] | None:
        """What :meth:`tensor` says, worked out afresh."""
        if isinstance(value, PersistentId) and self.fmt == "tar" and isinstance(value.pid, str):
            meta = self.tar.get(value.pid)
            if meta is None:
                return None
            st = self.reader.storages.get(meta["storage"])
            return self.strided(
                st, meta["offset"], meta["size"], meta["stride"], False, "torch._utils (tar format)", None
            )
        if not isinstance(value, Call) or not isinstance(value.func, Global):
            return None
        func = value.func
        args = value.args if isinstance(value.args, tuple) else ()
        if func.module == "torch._utils":
            if func.name in _REBUILD_V2 and len(args) >= 4:
                st = self.storage_of(args[0])
                dtype = None
                if func.name == "_rebuild_tensor_v3" and len(args) >= 7 and isinstance(args[6], Global):
                    dtype = tf.DTYPE_ALIASES.get(args[6].name, args[6].name)
                requires_grad = len(args) > 4 and args[4] is True
                if func.name == "_rebuild_qtensor":
                    requires_grad = len(args) > 5 and args[5] is True
                out = self.strided(st, args[1], args[2], args[3], requires_grad, func.qualname, dtype)
                if func.name == "_rebuild_qtensor":
                    out["layout"] = "quantized"
                return out
            if func.name in ("_rebuild_parameter", "_rebuild_parameter_with_state") and args:
                inner = self.decode(args[0])
                if inner is not None:
                    inner["parameter"] = True
                    inner["requires_grad"] = len(args) > 1 and args[1] is True
                return inner
            if func.name in ("_rebuild_sparse_tensor", "_rebuild_sparse_csr_tensor") and len(args) >= 2:
                return self.sparse(args, func.qualname)
            if func.name in ("_rebuild_meta_tensor_no_storage", "_rebuild_wrapper_subclass"):
                return self.storageless(args, func.name)
            if func.name in ("_rebuild_device_tensor_from_numpy", "_rebuild_xla_tensor", "_rebuild_mlc_tensor"):
                return self.storageless((), func.name)
        if (
            func.module in ("torch._tensor", "torch.tensor")
            and func.name.startswith("_rebuild_from_type")
            and len(args) >= 3
            and isinstance(args[2], tuple)
        ):
            return self.decode(Call(args[0], args[2], opcode="REDUCE"))
        return None

    def storage_of(self, value: Any) -> _Storage | None:
        if isinstance(value, PersistentId):
            known = self.reader.storage_keys.get(id(value))
            if known is not None and known[0] is value and known[1] in self.reader.storages:
                return self.reader.storages[known[1]]  # parsed already, by note_storages
        if isinstance(value, PersistentId) and isinstance(value.pid, tuple):
            st = _parse_storage_pid(value.pid)
            if st is not None:
                return self.reader.storages.get(st.key, st)
        return None

    def strided(  # noqa: PLR0917 - mirrors the rebuild functions' own argument list
        self,
        st: _Storage | None,
        offset: Any,
        size: Any,
        stride: Any,
        requires_grad: bool,
        rebuild: str,
        dtype: str | None,
    ) -> dict[str, Any]:
        shape = _int_tuple(_unwrap_size(size))
        strides = _int_tuple(stride)
        if st is None:
            self.reader.problem("bad-tensor", f"a tensor rebuilt by {rebuild} has no readable storage")
        dtype = dtype or (st.dtype if st else "?")
        itemsize = tf.DTYPES.get(dtype, (st.itemsize if st else 0, ()))[0]
        ok = (
            shape is not None
            and strides is not None
            and type(offset) is int
            and offset >= 0
            and len(shape) == len(strides)
            and (not shape or min(shape) >= 0)
            and (not strides or min(strides) >= 0)
        )
        shape = shape if ok and shape is not None else ()
        strides = strides if ok and strides is not None else ()
        numel = math.prod(shape) if ok else 0
        if not ok:
            self.reader.problem("bad-tensor", f"a tensor rebuilt by {rebuild} has invalid size/stride/offset")
        elif st is not None and numel > 0:
            extent = offset + sum(map(operator.mul, shape, strides)) - sum(strides) + 1  # sum of (d - 1) * s
            capacity = st.numel * st.itemsize // max(itemsize, 1) if itemsize else st.numel
            if extent > capacity:
                self.reader.problem(
                    "tensor-out-of-bounds",
                    f"a tensor of shape {list(shape)} at offset {offset} needs {extent} elements of storage "
                    f"{st.key!r}, which has {capacity}",
                )
        return {
            "dtype": dtype,
            "shape": shape,
            "stride": strides,
            "storage_offset": offset if type(offset) is int else 0,
            "storage_key": st.key if st else None,
            "storage_type": st.storage_type if st else None,
            "device": st.location if st else None,
            "requires_grad": requires_grad,
            "parameter": False,
            "layout": "strided",
            "rebuild": rebuild,
            "numel": numel,
            "nbytes": numel * itemsize,
        }

    def sparse(self, args: tuple[Any, ...], rebuild: str) -> dict[str, Any]:
        layout = args[0]
        name = "sparse"
        if isinstance(layout, Call) and isinstance(layout.args, tuple) and layout.args:
            name = str(layout.args[0]).replace("torch.", "")
        elif isinstance(layout, Global):
            name = layout.name
        data = args[1] if isinstance(args[1], tuple) else ()
        parts = [t for t in (self.decode(x) for x in data) if t is not None]
        size = next((x for x in data if not (isinstance(x, Call) and self.decode(x) is not None)), None)
        shape = _int_tuple(_unwrap_size(size)) or ()
        values = parts[1] if len(parts) >= 2 else (parts[0] if parts else None)
        return {
            "dtype": values["dtype"] if values else "?",
            "shape": shape,
            "stride": (),
            "storage_offset": 0,
            "storage_key": values["storage_key"] if values else None,
            "storage_type": values["storage_type"] if values else None,
            "device": values["device"] if values else None,
            "requires_grad": False,
            "parameter": False,
            "layout": name,
            "rebuild": rebuild,
            "numel": math.prod(shape),
            "nbytes": sum(p["nbytes"] for p in parts),
        }

    def storageless(self, args: tuple[Any, ...], rebuild: str) -> dict[str, Any]:
        dtype = "?"
        for a in args:
            if isinstance(a, Global) and a.module == "torch" and (a.name in tf.DTYPES or a.name in tf.DTYPE_ALIASES):
                dtype = tf.DTYPE_ALIASES.get(a.name, a.name)
                break
        shape: tuple[int, ...] = ()
        for a in args:
            t = _int_tuple(_unwrap_size(a))
            if t is not None:
                shape = t
                break
        return {
            "dtype": dtype,
            "shape": shape,
            "stride": (),
            "storage_offset": 0,
            "storage_key": None,
            "storage_type": None,
            "device": None,
            "requires_grad": False,
            "parameter": False,
            "layout": "no-storage",
            "rebuild": f"torch._utils.{rebuild}",
            "numel": math.prod(shape),
            "nbytes": 0,
        }

    # -- walking ----------------------------------------------------------------------------

    def walk(self, root: Any) -> tuple[TensorFacts, ...]:
        if isinstance(root, _TarRoot):
            self.tar = root.tensors
            root = root.value
        limits = self.reader.limits
        out: list[TensorFacts] = []
        seen_tensor: dict[int, str] = {}
        visited: set[int] = set()
        stack: list[tuple[Any, tuple[str, ...]]] = [(root, ())]
        tensor, max_nodes = self.tensor, limits.max_walk_nodes
        while stack:
            value, path = stack.pop()
            self.nodes += 1
            if self.nodes > max_nodes:
                self.reader.problem("walk-limit", f"stopped looking for tensors after {max_nodes} values")
                break
            facts = tensor(value)
            if facts is not None:
                name = ".".join(path) or "<root>"
                alias = seen_tensor.get(id(value))
                if alias is None:
                    seen_tensor[id(value)] = name
                if len(out) >= limits.max_tensors:
                    raise TorchFileError("limit", f"more than {limits.max_tensors} tensors")
                out.append(TensorFacts(name=name, path=path, alias_of=alias, **facts))
                continue
            if not _is_container(value) or id(value) in visited:
                continue
            if (
                isinstance(value, Call)
                and isinstance(value.func, Global)
                and value.func.qualname == "torch.storage._load_from_bytes"
                and isinstance(value.args, tuple)
                and value.args
                and (blob := _bytes_value(value.args[0])) is not None
                and len(self.nested) < 64
            ):
                self.nested.append(blob)
            visited.add(id(value))
            if len(path) >= limits.max_path_depth:
                self.reader.problem("deep-nesting", f"values nested deeper than {limits.max_path_depth} levels")
                continue
            children = list(self.children(value, path))
            stack.extend(reversed(children))
        return tuple(out)

    def children(self, value: Any, path: tuple[str, ...]) -> Iterator[tuple[Any, tuple[str, ...]]]:
        if isinstance(value, PDict):
            for k, v in value.items:
                yield v, (*path, _key(k))
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                yield v, (*path, str(i))
        elif isinstance(value, PSet):
            for i, v in enumerate(value.items):
                yield v, (*path, str(i))
        elif isinstance(value, Call):
            if _is_module(value):
                yield from self.module_children(value, path)
                return
            for k, v in value.setitems:
                yield v, (*path, _key(k))
            for i, v in enumerate(value.items):
                yield v, (*path, str(i))
            for state in value.state:
                yield state, (*path, "<state>")
            yield value.args, (*path, "<args>")
            if value.kwargs is not None:
                yield value.kwargs, (*path, "<kwargs>")
        elif isinstance(value, PersistentId):
            yield value.pid, (*path, "<pid>")

    def module_children(self, value: Call, path: tuple[str, ...]) -> Iterator[tuple[Any, tuple[str, ...]]]:
        """nn.Module state: parameters and buffers named as in its state_dict."""
        for state in value.state:
            if not isinstance(state, PDict):
                yield state, (*path, "<state>")
                continue
            for k, v in state.items:
                key = _key(k)
                if key in ("_parameters", "_buffers", "_modules") and isinstance(v, PDict | Call):
                    entries = v.items if isinstance(v, PDict) else v.setitems
                    for k2, v2 in entries:
                        yield v2, (*path, _key(k2))
                else:
                    yield v, (*path, key)

    # -- what is it -------------------------------------------------------------------------

    def classify(self, root: Any) -> tuple[str, str, str | None, str | None]:
        """(kind, type, state_dict key, module class) of the object torch.load returns."""
        if isinstance(root, _TarRoot):
            self.tar = root.tensors
            root = root.value
        if self.tensor(root) is not None:
            return "tensor", "torch.Tensor", None, None
        if isinstance(root, Call) and _is_module(root):
            cls = _class_of(root)
            return "module", cls, None, cls
        entries = _dict_entries(root)
        if entries is not None:
            otype = "dict" if isinstance(root, PDict) else _class_of(root)
            if all(self.tensor(v) is not None for _, v in entries):
                return "state_dict", otype, None, None
            candidates = [
                _key(k)
                for k, v in entries
                if (sub := _dict_entries(v)) is not None and sub and all(self.tensor(x) is not None for _, x in sub)
            ]
            if candidates:
                best = next((k for k in _STATE_DICT_KEYS if k in candidates), candidates[0])
                return "checkpoint", otype, best, None
            modules = [_key(k) for k, v in entries if isinstance(v, Call) and _is_module(v)]
            if modules:
                return "checkpoint", otype, modules[0], None
            return "other", otype, None, None
        if isinstance(root, list):
            return "other", "list", None, None
        if isinstance(root, tuple):
            return "other", "tuple", None, None
        if isinstance(root, Call):
            return "other", _class_of(root), None, None
        return "other", type(root).__name__, None, None


def _is_container(value: Any) -> bool:
    return isinstance(value, PDict | list | tuple | PSet | Call | PersistentId)


def _class_of(call: Call) -> str:
    func = call.func
    if isinstance(func, PersistentId) and isinstance(func.pid, tuple) and len(func.pid) >= 2:
        func = func.pid[1]  # legacy format: ('module', cls, source_file, source)
    if isinstance(func, Global):
        module, name = func.module, func.name
        if module == "__builtin__":
            module = "builtins"
        return "dict" if (module, name) == ("builtins", "dict") else f"{module}.{name}"
    return "?"


def _is_module(call: Call) -> bool:
    cls = _class_of(call)
    if cls.startswith(tf.TORCH_MODULE_PACKAGES):
        return True
    if isinstance(call.func, PersistentId):
        return True
    return any(isinstance(s, PDict) and s.get("_parameters") is not None for s in call.state)


def _dict_entries(value: Any) -> list[tuple[Any, Any]] | None:
    if isinstance(value, PDict):
        return value.items
    if isinstance(value, Call) and _class_of(value) in _DICT_TYPES | {"dict"}:
        return list(value.setitems)  # BUILD state of an OrderedDict (state_dict _metadata) is attributes
    return None


def _key(k: Any) -> str:
    if isinstance(k, str):
        return k
    if type(k) is int:
        return str(k)
    if isinstance(k, bytes):
        return k.decode("latin-1")
    return f"<{type(k).__name__}>"


def _bytes_value(value: Any) -> bytes | None:
    """Bytes as pickled: BINBYTES, or ``_codecs.encode(text, 'latin1')`` at protocols 0-2."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if (
        isinstance(value, Call)
        and isinstance(value.func, Global)
        and value.func.qualname == "_codecs.encode"
        and isinstance(value.args, tuple)
        and len(value.args) == 2
        and isinstance(value.args[0], str)
        and value.args[1] in ("latin1", "latin-1")
    ):
        try:
            return value.args[0].encode("latin-1")
        except UnicodeEncodeError:
            return None
    return None


def _unwrap_size(value: Any) -> Any:
    """``torch.Size((2, 3))`` as pickled (REDUCE of torch.Size) -> ``(2, 3)``."""
    if (
        isinstance(value, Call)
        and isinstance(value.func, Global)
        and value.func.qualname == "torch.Size"
        and isinstance(value.args, tuple)
        and value.args
    ):
        return value.args[0]
    return value


def _int_tuple(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, tuple | list) or len(value) > 64:
        return None
    for v in value:
        if type(v) is not int or not -_INT_BOUND < v < _INT_BOUND:
            return None
    return tuple(value)


_INT_BOUND = 1 << 62

