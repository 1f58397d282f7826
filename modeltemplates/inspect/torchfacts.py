"""What torch, numpy and Python could read at each version: the one data table of that history.

Sources (release source trees, read as published on pytorch.org under ``docs/<version>/_modules``
and in pytorch/pytorch at the release tags):

* ``torch/__init__.py`` — the ``*Storage`` classes and dtypes a release defines;
* ``torch/_utils.py``, ``torch/_tensor.py`` (``torch/tensor.py`` before 1.9), ``torch/storage.py``,
  ``torch/serialization.py`` — the functions a pickle written by ``torch.save`` calls;
* ``torch/serialization.py`` — the legacy format (MAGIC_NUMBER, PROTOCOL_VERSION 1001, ``legacy_load``
  for the tar layout) and, from 1.6 on, the zip reader (``torch.save`` docs: "The 1.6 release of
  PyTorch switched torch.save to use a new zipfile-based file format");
* ``caffe2/serialize/inline_container.h`` — the TorchScript/zip record format versions a release reads.

The 1.0 boundary is also pinned by the fidelity set (``shared/fidelity``: real torch 1.0.0 on
CPython 2.7.18 and 3.7.8 rejecting ``BoolStorage``, ``BFloat16Storage``, ``numpy._core`` and the zip
format, and accepting ``_rebuild_tensor_v2``/``_rebuild_parameter``). ``BFloat16Storage`` in 1.2 is
also attested by pytorch/pytorch issue #24834 (``torch/__init__.py`` of 1.2 defines it).
Versions after 1.0 are the first release whose sources define the name.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources

import attrs

Version = tuple[int, ...]

#: torch.save's legacy format: the first pickle holds this number, the second the protocol version.
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001

#: First torch release whose torch.load reads the zip format (torch.save default from then on).
ZIP_FORMAT_SINCE: Version = (1, 6)


@attrs.frozen
class StorageType:
    """A ``torch.<Name>Storage`` class a legacy or zip pickle names."""

    name: str
    dtype: str
    itemsize: int
    since: Version


def _storages() -> dict[str, StorageType]:
    rows = [
        # name, dtype, bytes per element, first torch release defining it
        ("DoubleStorage", "float64", 8, (0, 1)),
        ("FloatStorage", "float32", 4, (0, 1)),
        ("HalfStorage", "float16", 2, (0, 1)),
        ("LongStorage", "int64", 8, (0, 1)),
        ("IntStorage", "int32", 4, (0, 1)),
        ("ShortStorage", "int16", 2, (0, 1)),
        ("CharStorage", "int8", 1, (0, 1)),
        ("ByteStorage", "uint8", 1, (0, 1)),
        ("BoolStorage", "bool", 1, (1, 2)),
        ("BFloat16Storage", "bfloat16", 2, (1, 2)),
        ("QInt8Storage", "qint8", 1, (1, 3)),
        ("QUInt8Storage", "quint8", 1, (1, 3)),
        ("QInt32Storage", "qint32", 4, (1, 3)),
        ("ComplexFloatStorage", "complex64", 8, (1, 6)),
        ("ComplexDoubleStorage", "complex128", 16, (1, 6)),
        ("QUInt4x2Storage", "quint4x2", 1, (1, 8)),
        ("QUInt2x4Storage", "quint2x4", 1, (1, 11)),
        # untyped byte storage, used with _rebuild_tensor_v3 for dtypes without a typed class
        ("UntypedStorage", "uint8", 1, (2, 0)),
    ]
    return {name: StorageType(name, dtype, size, since) for name, dtype, size, since in rows}


#: Storage classes by class name (``torch.FloatStorage``; ``torch.cuda.FloatStorage`` for tensors
#: saved from a GPU by old torch; ``torch.storage.UntypedStorage``).
STORAGE_TYPES: Mapping[str, StorageType] = _storages()

#: Modules a storage class may be spelled in.
STORAGE_MODULES = frozenset({"torch", "torch.cuda", "torch.storage"})

#: Bytes per element of every torch dtype, and the first release that has it.
DTYPES: Mapping[str, tuple[int, Version]] = {
    "float32": (4, (0, 4)),
    "float64": (8, (0, 4)),
    "float16": (2, (0, 4)),
    "int64": (8, (0, 4)),
    "int32": (4, (0, 4)),
    "int16": (2, (0, 4)),
    "int8": (1, (0, 4)),
    "uint8": (1, (0, 4)),
    "bool": (1, (1, 2)),
    "bfloat16": (2, (1, 2)),
    "qint8": (1, (1, 3)),
    "quint8": (1, (1, 3)),
    "qint32": (4, (1, 3)),
    "complex64": (8, (1, 6)),
    "complex128": (16, (1, 6)),
    "complex32": (4, (1, 6)),
    "quint4x2": (1, (1, 8)),
    "quint2x4": (1, (1, 11)),
    "float8_e4m3fn": (1, (2, 1)),
    "float8_e5m2": (1, (2, 1)),
    "float8_e4m3fnuz": (1, (2, 2)),
    "float8_e5m2fnuz": (1, (2, 2)),
    "uint16": (2, (2, 3)),
    "uint32": (4, (2, 3)),
    "uint64": (8, (2, 3)),
    "float8_e8m0fnu": (1, (2, 7)),
}

#: dtype aliases torch also exports (``torch.float`` is ``torch.float32``).
DTYPE_ALIASES: Mapping[str, str] = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "long": "int64",
    "int": "int32",
    "short": "int16",
    "cfloat": "complex64",
    "cdouble": "complex128",
    "chalf": "complex32",
}


@attrs.frozen
class TorchFunction:
    """A function or class a ``torch.save`` pickle calls, and the first release that has it.

    ``max_args`` is how many positional arguments the first release accepts (None: any);
    later releases added optional trailing arguments that an older torch rejects.
    """

    module: str
    name: str
    since: Version
    role: str
    max_args: int | None = None

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


def _functions() -> dict[tuple[str, str], TorchFunction]:
    rows: list[TorchFunction] = [
        TorchFunction("torch._utils", "_rebuild_tensor", (0, 2), "tensor", 4),
        # (storage, storage_offset, size, stride, requires_grad, backward_hooks); a later release
        # added an optional 7th `metadata` argument (conj/neg bits), which 1.0 rejects
        TorchFunction("torch._utils", "_rebuild_tensor_v2", (0, 4), "tensor", 6),
        TorchFunction("torch._utils", "_rebuild_parameter", (0, 4), "parameter", 3),
        TorchFunction("torch._utils", "_rebuild_sparse_tensor", (1, 1), "sparse"),
        TorchFunction("torch._utils", "_rebuild_qtensor", (1, 3), "qtensor"),
        TorchFunction("torch._utils", "_rebuild_xla_tensor", (1, 3), "device-tensor"),
        TorchFunction("torch._utils", "_rebuild_mlc_tensor", (1, 8), "device-tensor"),
        TorchFunction("torch._utils", "_rebuild_meta_tensor_no_storage", (1, 10), "meta-tensor"),
        TorchFunction("torch._utils", "_rebuild_sparse_csr_tensor", (1, 10), "sparse"),
        TorchFunction("torch._utils", "_rebuild_parameter_with_state", (1, 12), "parameter"),
        TorchFunction("torch._utils", "_rebuild_wrapper_subclass", (1, 13), "meta-tensor"),
        TorchFunction("torch._utils", "_rebuild_nested_tensor", (1, 13), "nested"),
        TorchFunction("torch._utils", "_rebuild_device_tensor_from_numpy", (2, 0), "device-tensor"),
        TorchFunction("torch._utils", "_rebuild_device_tensor_from_cpu_tensor", (2, 5), "device-tensor"),
        TorchFunction("torch._utils", "_rebuild_tensor_v3", (2, 1), "tensor"),
        TorchFunction("torch._tensor", "_rebuild_from_type", (1, 9), "subclass"),
        TorchFunction("torch._tensor", "_rebuild_from_type_v2", (1, 10), "subclass"),
        TorchFunction("torch.tensor", "_rebuild_from_type", (1, 7), "subclass"),
        TorchFunction("torch.serialization", "_get_layout", (1, 10), "layout"),
        TorchFunction("torch.storage", "_load_from_bytes", (0, 4), "nested-file"),
        TorchFunction("torch.nn.parameter", "Parameter", (0, 4), "parameter-class"),
        TorchFunction("torch.nn.parameter", "UninitializedParameter", (1, 8), "parameter-class"),
        TorchFunction("torch.nn.parameter", "UninitializedBuffer", (1, 9), "parameter-class"),
        TorchFunction("torch.nn.parameter", "Buffer", (2, 5), "parameter-class"),
        TorchFunction("torch", "Size", (0, 1), "value"),
        TorchFunction("torch", "device", (0, 4), "value"),
        TorchFunction("torch", "Tensor", (0, 1), "value"),
        TorchFunction("torch", "layout", (0, 4), "value"),
        TorchFunction("torch", "strided", (0, 4), "value"),
        TorchFunction("torch", "sparse_coo", (0, 4), "value"),
        TorchFunction("torch", "sparse_csr", (1, 9), "value"),
        TorchFunction("torch", "sparse_csc", (1, 13), "value"),
        TorchFunction("torch", "sparse_bsr", (1, 13), "value"),
        TorchFunction("torch", "sparse_bsc", (1, 13), "value"),
        TorchFunction("torch", "per_tensor_affine", (1, 3), "value"),
        TorchFunction("torch", "per_channel_affine", (1, 3), "value"),
        TorchFunction("torch", "per_channel_affine_float_qparams", (1, 7), "value"),
        TorchFunction("torch", "contiguous_format", (1, 5), "value"),
        TorchFunction("torch", "channels_last", (1, 5), "value"),
        TorchFunction("torch", "preserve_format", (1, 5), "value"),
    ]
    table = {(f.module, f.name): f for f in rows}
    for name, st in STORAGE_TYPES.items():
        modules = ("torch", "torch.storage") if name == "UntypedStorage" else ("torch", "torch.cuda")
        for module in modules:
            table[(module, name)] = TorchFunction(module, name, st.since, "storage")
    table[("torch.storage", "TypedStorage")] = TorchFunction("torch.storage", "TypedStorage", (1, 13), "storage")
    for dtype, (_, since) in DTYPES.items():
        table[("torch", dtype)] = TorchFunction("torch", dtype, since, "dtype")
    for alias, dtype in DTYPE_ALIASES.items():
        table[("torch", alias)] = TorchFunction("torch", alias, DTYPES[dtype][1], "dtype")
    return table


#: Every torch global a weights file may reference, with the release that introduced it.
TORCH_GLOBALS: Mapping[tuple[str, str], TorchFunction] = _functions()

#: Modules whose classes make "a whole pickled nn.Module": torch's own layers.
TORCH_MODULE_PACKAGES = ("torch.nn.modules.",)

#: The highest TorchScript / zip record format version each torch reads
#: (caffe2/serialize/inline_container.h, kMaxSupportedFileFormatVersion).
TORCHSCRIPT_MAX_FORMAT: tuple[tuple[Version, int], ...] = (
    ((1, 0), 1),
    ((1, 4), 2),
    ((1, 5), 3),
    ((1, 6), 5),
    ((1, 9), 6),
    ((1, 11), 8),
    ((2, 0), 10),
)


def torchscript_max_format(torch_version: Version) -> int:
    """The newest TorchScript file format version ``torch_version`` can read."""
    best = 0
    for since, fmt in TORCHSCRIPT_MAX_FORMAT:
        if torch_version >= since:
            best = fmt
    return best


# --------------------------------------------------------------------------------------------
# torch.nn, torch.optim and torch.utils classes per release

#: Modules whose classes :func:`torch_class_since` knows (a pickled whole module, optimizer or
#: data helper names its class by defining module).
CLASS_TABLE_PACKAGES = ("torch.nn.", "torch.optim.", "torch.utils.")


@functools.cache
def _class_table() -> tuple[Version, Mapping[str, Mapping[str, Version]]]:
    """``torch_classes.json``: derived by ``tools/derive_torch_classes.py`` from the Python sources of the
    published torch wheels of every minor release from 1.0 (its ``source`` says so)."""
    text = resources.files("modeltemplates.inspect").joinpath("torch_classes.json").read_text("utf-8")
    data = json.loads(text)
    oldest = _parse_version(data["releases"][0])
    table = {
        module: {name: _parse_version(release) for name, release in names.items()}
        for module, names in data["classes"].items()
    }
    return oldest, table


def _parse_version(text: str) -> Version:
    return tuple(int(part) for part in text.split("."))


def torch_class_since(module: str, name: str) -> Version | None:
    """The first torch release whose ``module`` defines class ``name`` (None: not in the table).

    The table starts at torch 1.0: a class it gives as 1.0 may be older.
    """
    if not module.startswith(CLASS_TABLE_PACKAGES):
        return None
    return _class_table()[1].get(module, {}).get(name)


# --------------------------------------------------------------------------------------------
# numpy

#: numpy 2.0 renamed ``numpy.core`` to ``numpy._core`` and pickles name the new path; numpy 1.x
#: has no ``numpy._core`` (numpy 2.0 release notes, "numpy.core is now numpy._core").
NUMPY_CORE_RENAMED: Version = (2, 0)

#: The newest numpy for an old Python: numpy 1.16 is the last release for Python 2.7, 1.21 the
#: last for Python 3.7 (numpy release notes: 1.17 dropped Python 2, 1.22 dropped Python 3.7).
NUMPY_MAX_FOR_PYTHON: tuple[tuple[tuple[int, int], Version], ...] = (
    ((2, 7), (1, 16)),
    ((3, 5), (1, 18)),
    ((3, 6), (1, 19)),
    ((3, 7), (1, 21)),
    ((3, 8), (1, 24)),
)

#: numpy globals that make arrays and scalars (data, not code), under both module spellings.
NUMPY_DATA_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)


def numpy_max_for_python(python: tuple[int, int]) -> Version | None:
    """The newest numpy that installs on ``python`` (None: no cap known, i.e. numpy 2 is possible)."""
    for version, numpy in NUMPY_MAX_FOR_PYTHON:
        if python == version:
            return numpy
    return None


def numpy_module_since(module: str) -> Version | None:
    """The first numpy release with ``module`` when that is known to be recent, else None."""
    if module == "numpy._core" or module.startswith("numpy._core."):
        return NUMPY_CORE_RENAMED
    return None


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


# --------------------------------------------------------------------------------------------
# Python

#: Highest pickle protocol each Python line reads (``pickle.HIGHEST_PROTOCOL``): protocol 2 from
#: Python 2.3 (PEP 307), 3 from 3.0, 4 from 3.4 (PEP 3154), 5 from 3.8 (PEP 574). Python 2.7's
#: cPickle rejects ``PROTO n`` above 2 ("unsupported pickle protocol") and does not know any opcode
#: introduced by protocols 3-5 ("invalid load key").
PYTHON_MAX_PROTOCOL: tuple[tuple[tuple[int, int], int], ...] = (
    ((2, 3), 2),
    ((3, 0), 3),
    ((3, 4), 4),
    ((3, 8), 5),
)


def max_protocol_for_python(python: tuple[int, int]) -> int:
    """``pickle.HIGHEST_PROTOCOL`` of ``python`` (2.7 -> 2, 3.7 -> 4, 3.8 -> 5)."""
    best = 1
    for since, proto in PYTHON_MAX_PROTOCOL:
        if python >= since:
            best = proto
    return best
