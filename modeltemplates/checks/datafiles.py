"""Every file torch, numpy or pickle could load gets the model file's safety scan, by content.

Whatever a file is called, when its bytes are a pickle, a torch.save file (legacy or zip), or a
NumPy ``.npy``/``.npz`` holding object arrays, its pickles are read with the symbolic pickle machine
(never unpickled) and judged with the model file's allow-list: code-execution globals are errors
(MOD020), anything else beyond plain data and tensors a warning (MOD034). When the inference script
passes the file to ``torch.load``, ``pickle.load``, ``numpy.load(..., allow_pickle=True)`` or
``joblib.load`` (seen statically, by a literal or joined path), the finding names that call.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, Protocol

from modeltemplates.checks.modelfile import CODE_EXECUTION, classify_global
from modeltemplates.findings import Basis, Finding, Rule, Severity
from modeltemplates.inspect.filekind import HEAD_BYTES, npy_header, npy_holds_objects, sniff
from modeltemplates.inspect.pickle import GlobalRef, Oddity, PickleError, load
from modeltemplates.inspect.torchfile import TorchFileError, TorchLimits, read_torch_file

__all__ = ["RULES", "check_data_file"]

LOADABLE_DATA = Rule(
    "MOD034", "Data file that unpickles code", Severity.WARNING,
    what="A file other than the model file whose bytes are a pickle, a torch.save file or a NumPy array of "
    "objects, and whose pickles reference classes or functions beyond plain data and tensors.",
    why="Loading it (torch.load, pickle.load, numpy.load with allow_pickle=True, joblib.load) imports and "
    "runs that code on the serving host; its name does not matter to the loader.",
    fix="Store such data as JSON, CSV or plain tensors; if the objects are needed, rebuild them in "
    "customize_service.py from plain data.",
    basis=Basis.SAFETY,
    evidence="pickle module documentation: 'The pickle module is not secure ... possible to construct malicious "
    "pickle data which will execute arbitrary code during unpickling'; numpy.load docs: allow_pickle=True "
    "'can execute arbitrary code'. A warning: the classes named are not known to run code on their own.",
)

RULES: tuple[Rule, ...] = (LOADABLE_DATA,)

#: Members of an ``.npz`` archive looked at, and how much of one member's header is read.
_MAX_NPZ_MEMBERS = 10_000
_MAX_NPY_HEADER = 1 << 16


class _PickleLike(Protocol):
    @property
    def globals(self) -> tuple[GlobalRef, ...]: ...

    @property
    def oddities(self) -> tuple[Oddity, ...]: ...


def check_data_file(
    path: str,
    f: BinaryIO,
    size: int,
    *,
    loaded_by: Sequence[Mapping[str, Any]] = (),
    package_modules: frozenset[str] = frozenset(),
    limits: TorchLimits | None = None,
) -> list[Finding]:
    """Findings for one file that is not the model file (``f`` is open, ``size`` its length).

    ``loaded_by`` lists the inference script's loading calls that name this file (``call``, ``line``).
    """
    f.seek(0)
    head = f.read(HEAD_BYTES)
    kind = sniff(head, size)
    if not kind.loadable:
        return []
    limits = limits or TorchLimits()
    pickles: list[tuple[str, _PickleLike]] = []
    if kind.code == "npy-object":
        pickles.extend(_npy_pickles(f, size, "", limits))
    else:
        try:
            facts = read_torch_file(f, size, limits)
        except TorchFileError:
            if kind.code == "zip":
                pickles.extend(_npz_pickles(f, limits))
        else:
            pickles.extend((p.where, p) for p in facts.pickles)
    if not pickles:
        return []
    how = _loaded_by(loaded_by)
    return list(_judge(path, kind.what, pickles, how, package_modules))


def _loaded_by(calls: Sequence[Mapping[str, Any]]) -> str:
    if not calls:
        return ""
    shown = ", ".join(f"{c.get('call')} at line {c.get('line')}" for c in calls[:3])
    return f"; the inference script loads it ({shown})"


def _judge(
    path: str, what: str, pickles: Iterable[tuple[str, _PickleLike]], how: str, package_modules: frozenset[str]
) -> Iterator[Finding]:
    others: dict[str, None] = {}
    for where, pickle in pickles:
        for odd in pickle.oddities:
            if odd.kind in ("call-of-value", "dynamic-global", "mutates-global"):
                yield CODE_EXECUTION.finding(
                    path, f"{what}: {where}: {odd.detail} (at byte {odd.offset}){how}")
        seen: set[tuple[str, str]] = set()
        for ref in pickle.globals:
            if (ref.module, ref.name) in seen:
                continue
            seen.add((ref.module, ref.name))
            judged = classify_global(ref.module, ref.name, "pickle", package_modules)
            qual = f"{judged.module}.{judged.name}"
            if judged.category == "dangerous":
                yield CODE_EXECUTION.finding(
                    path, f"{what}: {where} references {qual} at byte {ref.offset}: this can run arbitrary "
                    f"code when the file is loaded{how}")
            elif judged.category not in ("weights", "numpy"):
                others.setdefault(qual)
    if others:
        names = list(others)
        listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        yield LOADABLE_DATA.finding(path, f"{what} whose pickles import {listed}{how}")


def _npy_pickles(f: BinaryIO, size: int, where: str, limits: TorchLimits) -> Iterator[tuple[str, _PickleLike]]:
    f.seek(0)
    head = f.read(min(size, _MAX_NPY_HEADER))
    parsed = npy_header(head)
    if parsed is None or not npy_holds_objects(parsed[0]):
        return
    try:
        res = load(f, parsed[1], size, limits=limits.pickle)
    except PickleError:
        return
    yield (f"{where or 'the array'} (object pickle)", res)


def _npz_pickles(f: BinaryIO, limits: TorchLimits) -> Iterator[tuple[str, _PickleLike]]:
    try:
        zf = zipfile.ZipFile(f)
        infos = zf.infolist()[:_MAX_NPZ_MEMBERS]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return
    for info in infos:
        if not info.filename.endswith(".npy") or info.file_size > limits.max_member_bytes:
            continue
        if info.compress_type != zipfile.ZIP_STORED and info.file_size > 100 * max(info.compress_size, 1):
            continue  # a decompression bomb is not read
        try:
            with zf.open(info) as m:
                data = m.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            continue
        yield from _npy_pickles(io.BytesIO(data), len(data), f"member {info.filename!r}", limits)


def loads_naming(path: str, loads: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The loading calls of the inference script whose literal file name is ``path`` (or ends it)."""
    out = []
    for call in loads:
        name = str(call.get("path", ""))
        if name and (path == name or path.endswith("/" + name) or name.endswith("/" + path)):
            out.append(call)
    return out
