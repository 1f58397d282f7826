"""Build real and hand-assembled PyTorch model files for the tests.

Real files come from ``torch.save`` (zip and legacy formats). Hand-assembled ones are built byte by
byte: pickles with chosen opcodes (including inert malicious payloads that would create a marker
file if anything ever unpickled them), legacy files that claim huge storages (sparse on disk), and
zip archives written member by member.
"""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

MAGIC = 0x1950A86A20F9469CFC6C


def torch_bytes(obj: Any, *, legacy: bool = False, protocol: int = 2) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf, pickle_protocol=protocol, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def linear_state_dict(seed: int = 0) -> Any:
    import torch

    torch.manual_seed(seed)
    return torch.nn.Linear(4, 3).state_dict()


# --------------------------------------------------------------------------------------------
# pickle opcodes by hand


def text_global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def short_unicode(s: str) -> bytes:
    raw = s.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def binunicode(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def call1(func: bytes, arg: bytes) -> bytes:
    """``func(arg)`` with REDUCE: func, (arg,), R."""
    return func + b"(" + arg + b"tR"


def marker_command(marker: Path) -> str:
    return f"touch {marker}"


def marker_python(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


def malicious_pickles(marker: Path) -> dict[str, bytes]:
    """Pickles that, if ever unpickled, would create ``marker``. Each spells the attack differently."""
    cmd = binunicode(marker_command(marker))
    code = binunicode(marker_python(marker))
    out = {
        "os.system": b"\x80\x02" + call1(text_global("os", "system"), cmd) + b".",
        "posix.system": b"\x80\x02" + call1(text_global("posix", "system"), cmd) + b".",
        "nt.system": b"\x80\x02" + call1(text_global("nt", "system"), cmd) + b".",
        "builtins.eval": b"\x80\x03" + call1(text_global("builtins", "eval"), code) + b".",
        "__builtin__.eval": b"\x80\x02" + call1(text_global("__builtin__", "eval"), code) + b".",
        "builtins.exec": b"\x80\x03" + call1(text_global("builtins", "exec"), code) + b".",
        "runpy._run_code": b"\x80\x02" + text_global("runpy", "_run_code") + b"(" + code + b"}tR.",
        # protocol 4: names from the stack, memoised and fetched back
        "stack-global": b"\x80\x04"
        + short_unicode("os")
        + b"\x940"
        + short_unicode("system")
        + b"\x940"
        + b"h\x00h\x01\x93"
        + b"("
        + cmd
        + b"tR.",
        # dotted name resolved by protocol 4's attribute walk: torch.serialization imports os
        "dotted-name": b"\x80\x04"
        + short_unicode("torch.serialization")
        + short_unicode("os.system")
        + b"\x93("
        + cmd
        + b"tR.",
        # getattr chain: getattr(__import__('os'), 'system')(cmd), only callables from builtins
        "getattr-chain": b"\x80\x02"
        + text_global("builtins", "getattr")
        + b"("
        + call1(text_global("builtins", "__import__"), binunicode("os"))
        + binunicode("system")
        + b"tR("
        + cmd
        + b"tR.",
        "operator.attrgetter": b"\x80\x02"
        + text_global("operator", "attrgetter")
        + b"("
        + binunicode("system")
        + b"tR("
        + call1(text_global("importlib", "import_module"), binunicode("os"))
        + b"tR("
        + cmd
        + b"tR.",
        # INST (protocol 0) calls its class with the marked arguments
        "inst": b"(" + b"S'" + marker_command(marker).encode() + b"'\n" + b"ios\nsystem\n.",
        # OBJ (protocol 1)
        "obj": b"(" + text_global("os", "system") + cmd + b"o.",
    }
    out["subprocess.call"] = (
        b"\x80\x02"
        + text_global("subprocess", "call")
        + b"(("
        + binunicode("sh")
        + binunicode("-c")
        + cmd
        + b"ltR."
    )
    return out


# --------------------------------------------------------------------------------------------
# legacy format by hand


class _StorageRef:
    def __init__(self, key: str, numel: int, storage_type: Any) -> None:
        self.key, self.numel, self.storage_type = key, numel, storage_type


class _Tensor:
    def __init__(self, storage: _StorageRef, shape: tuple[int, ...]) -> None:
        self.storage, self.shape = storage, shape

    def __reduce__(self) -> Any:
        import torch

        stride = []
        acc = 1
        for d in reversed(self.shape):
            stride.append(acc)
            acc *= d
        return (
            torch._utils._rebuild_tensor_v2,
            (self.storage, 0, self.shape, tuple(reversed(stride)), False, OrderedDict()),
        )


class _LegacyPickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _StorageRef):
            return ("storage", obj.storage_type, obj.key, "cpu", obj.numel, None)
        return None


def legacy_file(
    path: Path,
    tensors: dict[str, tuple[int, ...]],
    *,
    protocol: int = 2,
    real_data: bool = True,
    extra_after: bytes = b"",
) -> Path:
    """A legacy torch.save file of float32 tensors; with ``real_data=False`` the storage bytes are a
    hole in a sparse file (so multi-GB files cost nothing)."""
    import torch

    refs = {}
    obj: OrderedDict[str, Any] = OrderedDict()
    for i, (name, shape) in enumerate(tensors.items()):
        numel = 1
        for d in shape:
            numel *= d
        refs[name] = _StorageRef(str(i), numel, torch.FloatStorage)
        obj[name] = _Tensor(refs[name], shape)
    with path.open("wb") as fh:
        for value in (MAGIC, 1001, {"protocol_version": 1001, "little_endian": True, "type_sizes": {}}):
            pickle.dump(value, fh, protocol=protocol)
        _LegacyPickler(fh, protocol=protocol).dump(obj)
        pickle.dump([r.key for r in refs.values()], fh, protocol=protocol)
        for ref in refs.values():
            fh.write(struct.pack("<q", ref.numel))
            nbytes = ref.numel * 4
            if real_data:
                fh.write(b"\0" * nbytes)
            else:
                fh.seek(nbytes, io.SEEK_CUR)
        if extra_after:
            fh.write(extra_after)
        fh.truncate()
    return path


# --------------------------------------------------------------------------------------------
# zip archives by hand


def hand_zip(path: Path, members: list[tuple[str, bytes | int]]) -> Path:
    """A stored (uncompressed) zip64-capable archive; an ``int`` member is that many bytes of hole."""
    with path.open("wb") as fh:
        central = []
        for name, data in members:
            raw_name = name.encode()
            offset = fh.tell()
            size = data if isinstance(data, int) else len(data)
            crc = 0 if isinstance(data, int) else zlib.crc32(data)
            extra = struct.pack("<HHQQ", 1, 16, size, size)
            fh.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                                 len(raw_name), len(extra)))  # fmt: skip
            fh.write(raw_name + extra)
            if isinstance(data, int):
                fh.seek(data, io.SEEK_CUR)
            else:
                fh.write(data)
            central.append((raw_name, crc, size, offset))
        cd_start = fh.tell()
        for raw_name, crc, size, offset in central:
            extra = struct.pack("<HHQQQ", 1, 24, size, size, offset)
            fh.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF,
                                 0xFFFFFFFF, len(raw_name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF))  # fmt: skip
            fh.write(raw_name + extra)
        cd_end = fh.tell()
        n = len(central)
        fh.write(struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, cd_end - cd_start, cd_start))
        fh.write(struct.pack("<4sIQI", b"PK\x06\x07", 0, cd_end, 1))
        fh.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
    return path


def zip_with_extra(data: bytes, extra_name: str, extra: bytes) -> bytes:
    """A real torch.save zip with one more member appended."""
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(extra_name, extra)
    return buf.getvalue()


def archive_name(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.namelist()[0].split("/")[0]


def rebuild_zip(data: bytes, *, replace: dict[str, bytes] | None = None, duplicate: str | None = None,
                compress: bool = False) -> bytes:  # fmt: skip
    """Rewrite a torch.save zip: replace members, add a duplicate of one, or deflate everything."""
    import warnings

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            payload = (replace or {}).get(info.filename, src.read(info.filename))
            method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            dst.writestr(info.filename, payload, compress_type=method)
            if info.filename == duplicate:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    dst.writestr(info.filename, payload, compress_type=method)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# the old tar format (torch < 0.4) by hand


def tar_file(path: Path, shape: tuple[int, ...] = (2, 3)) -> Path:
    """The tar layout of torch < 0.4 for ``{'w': float32 tensor of shape}``, as legacy_load reads it."""
    import torch

    numel = 1
    for d in shape:
        numel *= d
    stride = []
    acc = 1
    for d in reversed(shape):
        stride.append(acc)
        acc *= d
    stride.reverse()
    members: dict[str, bytes] = {}
    members["sys_info"] = pickle.dumps({"protocol_version": 1001, "little_endian": True, "type_sizes": {}}, 2)
    storages = io.BytesIO()
    pickle.dump(1, storages, 2)
    pickle.dump((0, "cpu", torch.FloatStorage), storages, 2)
    storages.write(struct.pack("<q", numel) + struct.pack(f"<{numel}f", *range(numel)))
    pickle.dump([], storages, 2)
    members["storages"] = storages.getvalue()
    tensors = io.BytesIO()
    pickle.dump(1, tensors, 2)
    pickle.dump((1, 0, torch.FloatTensor), tensors, 2)
    tensors.write(struct.pack("<i", len(shape)) + b"\0\0\0\0")
    tensors.write(struct.pack(f"<{len(shape)}q", *shape) + struct.pack(f"<{len(shape)}q", *stride))
    tensors.write(struct.pack("<q", 0))
    members["tensors"] = tensors.getvalue()

    class _P(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            return "1" if obj == "<tensor>" else None

    body = io.BytesIO()
    _P(body, 2).dump({"w": "<tensor>"})
    members["pickle"] = body.getvalue()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
