"""Model-file checks: can the target torch/Python load this file, and is it only weights?

Works from :func:`~modeltemplates.inspect.torchfile.read_torch_file` facts; nothing is unpickled.
Runtime compatibility names the exact cause a real ``torch.load`` on the target would fail with
(zip format, pickle protocol, a storage type / rebuild function / numpy path the old stack lacks, a
class that cannot be imported). Safety applies an allow-list of what a weights file may reference;
everything else that can run code is an error, in whichever pickle it hides.
"""

from __future__ import annotations

import _compat_pickle
import sys
from collections.abc import Iterator
from typing import BinaryIO

import attrs

from modeltemplates.findings import Basis, Finding, Rule, Severity
from modeltemplates.inspect import torchfacts as tf
from modeltemplates.inspect.pickle import GlobalRef, canonical_name
from modeltemplates.inspect.torchfile import (
    PickleFacts,
    TorchFileError,
    TorchFileFacts,
    TorchLimits,
    read_torch_file,
)
from modeltemplates.runtime import Runtime

__all__ = ["RULES", "ModelFileResult", "check_model_file", "classify_global"]

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

UNRECOGNISED = Rule(
    "MOD001", "Not a PyTorch model file", E,
    what="The model file is empty, or neither a torch.save zip/legacy/tar file nor a pickle.",
    why="torch.load on the platform cannot read it, so the service fails when it loads the model.",
    fix="Save the model again with `torch.save(model.state_dict(), path)` and upload that file.",
    basis=Basis.SERVICE_FAILS,
    evidence="torch.load fails on a file that is no torch.save output or pickle (torch/serialization.py at the "
        "v1.0.0 tag); the template's service calls torch.load on the model file.",
)
CORRUPT = Rule(
    "MOD002", "Corrupt or inconsistent model file", E,
    what="The file looks like a torch.save file but is malformed: truncated, a broken pickle, a bad zip "
    "(CRC, duplicate or overlapping members), or storages that are missing, too small or declared "
    "differently from their data.",
    why="torch.load fails on it, or loads tensors whose bytes are not theirs.",
    fix="Re-create the file with torch.save and check the upload/copy was complete (compare checksums). "
    "The plain static check reads a file's metadata, not its tensor data; the CRC-32 of every zip member "
    "is verified when the whole file is read anyway (building the manifest, --deep).",
    basis=Basis.SERVICE_FAILS,
    evidence='torch.load raises on truncated pickles and bad archives (torch/serialization.py; zipfile CRC checks).',
)
LIMITS = Rule(
    "MOD003", "Model file exceeds inspection limits", E,
    what="Reading the file would exceed a safety bound: pickle nesting, memo size, opcode count, "
    "decompression ratio, member count or size.",
    why="Real weights files stay far within these bounds; files that do not are built to exhaust memory "
    "or time of whoever loads them (memo bombs, decompression bombs, deep nesting).",
    fix="Save a plain state_dict with torch.save; if the file is genuine, raise the limits in the settings.",
    basis=Basis.SAFETY,
    evidence="Real torch.save files stay far within these bounds; inputs that do not are memo, nesting or "
        "decompression bombs aimed at whoever loads them. Raise the setting named in the message "
        "(Settings.torch) for a genuine file.",
)
LEFTOVERS = Rule(
    "MOD004", "Data torch.load does not use", W,
    what="Storages no tensor uses, bytes after the last record, or archive members outside the format.",
    why="They waste upload size and may hide content that other tools read.",
    fix="Save the object again with torch.save instead of editing the file.",
    basis=Basis.ADVICE,
    evidence='torch.load ignores these bytes (torch/serialization.py); they only cost size.',
)
ZIP_FORMAT = Rule(
    "MOD010", "Zip-based torch.save format on an old torch", E,
    what="The file uses the zip format torch.save writes by default since torch 1.6, and the target torch "
    "is older.",
    why="torch before 1.6 has no zip reader: torch.load reads the zip header as a pickle and fails "
    "('A load persistent id instruction was encountered...').",
    fix="Re-save with `torch.save(obj, f, _use_new_zipfile_serialization=False, pickle_protocol=2)`.",
    basis=Basis.SERVICE_FAILS,
    evidence="Fidelity set (tests/data/fidelity): real torch 1.0.0 fails on zip-format files with 'A load "
        "persistent id instruction was encountered'; torch.save docs: the zip format arrived in 1.6.",
)
PROTOCOL = Rule(
    "MOD011", "Pickle protocol too new for the target Python", E,
    what="A pickle torch.load reads declares or uses a pickle protocol above the target Python's highest "
    "(Python 2.7 reads protocol 2, Python 3.4-3.7 protocol 4).",
    why="The unpickler stops with 'unsupported pickle protocol' (or 'invalid load key' for newer opcodes).",
    fix="Re-save with `torch.save(obj, f, pickle_protocol=2, _use_new_zipfile_serialization=False)`.",
    basis=Basis.SERVICE_FAILS,
    evidence="CPython 2.7's cPickle rejects protocols above 2 ('unsupported pickle protocol'); PEP 307 / PEP 3154 "
        "/ PEP 574.",
)
TORCH_TYPE = Rule(
    "MOD012", "Storage type or dtype the target torch lacks", E,
    what="The file names a storage class or dtype (e.g. BoolStorage, BFloat16Storage) that the target "
    "torch does not define.",
    why="torch.load looks the class up in the torch module and fails with AttributeError.",
    fix="Convert the tensors to a dtype the target torch has (e.g. `t.float()`, `t.to(torch.uint8)`) "
    "before saving.",
    basis=Basis.SERVICE_FAILS,
    evidence="Fidelity set: real torch 1.0.0 fails on BoolStorage and BFloat16Storage (AttributeError); "
        "torch/__init__.py at the release tags (torchfacts).",
)
TORCH_FUNCTION = Rule(
    "MOD013", "Rebuild function the target torch lacks", E,
    what="The file calls a torch function (e.g. `_rebuild_tensor_v3`, `_rebuild_parameter_with_state`) the "
    "target torch does not define, or passes it more arguments than the target accepts.",
    why="torch.load fails with AttributeError or TypeError while rebuilding the tensor.",
    fix="Save plain dense CPU tensors in a state_dict: `{k: v.detach().cpu().contiguous() for k, v in "
    "model.state_dict().items()}`.",
    basis=Basis.SERVICE_FAILS,
    evidence='torch/_utils.py at the release tags (torchfacts): the rebuild functions and their arities per release.',
)
NUMPY_PATH = Rule(
    "MOD014", "numpy module path the target numpy lacks", E,
    what="A numpy object pickled by numpy 2 names `numpy._core...`, which numpy 1.x does not have.",
    why="The numpy that runs on the target Python is 1.x: the load fails with "
    "'No module named numpy._core' / '_core.multiarray'.",
    fix="Store plain Python numbers or torch tensors instead of numpy arrays/scalars "
    "(`torch.from_numpy(a)`, `float(x)`), or save with numpy 1.x.",
    basis=Basis.SERVICE_FAILS,
    evidence="Fidelity set: real torch 1.0.0 on CPython 2.7.18/3.7.8 fails with 'No module named _core.multiarray'"
        " / 'numpy._core'.",
)
MAIN_CLASS = Rule(
    "MOD015", "Class pickled from __main__", E,
    what="An object of a class defined in the script that saved it (`__main__.Net`).",
    why="At load time `__main__` is the platform's server, which has no such class: AttributeError.",
    fix="Save `model.state_dict()` instead of the model object, and rebuild the model in customize_service.py.",
    basis=Basis.SERVICE_FAILS,
    evidence='Fidelity set: a class pickled from __main__ fails to load in another process (AttributeError).',
)
NOT_IMPORTABLE = Rule(
    "MOD016", "Class from a module that cannot be imported at load time", E,
    what="The file references a module that is neither in the package, nor torch/numpy, nor the standard "
    "library of the target Python.",
    why="torch.load imports that module to rebuild the object and fails with ImportError.",
    fix="Save a state_dict of tensors only; keep other objects out of the model file.",
    basis=Basis.SERVICE_FAILS,
    evidence="pickle's find_class imports the module named in the file; a module absent on the target raises "
        "ImportError.",
)
WHOLE_MODULE = Rule(
    "MOD017", "Whole nn.Module pickled instead of a state_dict", W,
    what="The file holds a pickled torch.nn module object rather than its state_dict.",
    why="The specification asks for a state_dict; a pickled module binds the file to the class layout of "
    "the torch that saved it and breaks on other versions.",
    fix="Save `model.state_dict()` and load it into a model built in customize_service.py.",
    basis=Basis.ADVICE,
    evidence="Fidelity set: a whole torch.nn.Linear saved by torch 2.13 loads on torch 1.0.0 with a "
        "SourceChangeWarning; the PyTorch example (examples_of_custom_scripts/pytorch) saves a state_dict.",
)
TORCHSCRIPT = Rule(
    "MOD018", "TorchScript archive", E,
    what="The file is a TorchScript archive (torch.jit.save), not a torch.save file.",
    why="torch.load cannot read it, and the target torch.jit.load only reads archives up to its own "
    "file-format version.",
    fix="Save `model.state_dict()` with torch.save (legacy format for torch < 1.6), or script the model "
    "with the target torch version.",
    basis=Basis.SERVICE_FAILS,
    evidence="torch.load cannot read a torch.jit.save archive; caffe2/serialize/inline_container.h gives the "
        "newest format each release reads.",
)
PLAIN_PICKLE = Rule(
    "MOD019", "Plain pickle, not a torch.save file", E,
    what="The file is a pickle without torch.save's magic number.",
    why="torch.load rejects it ('Invalid magic number; corrupt file?') after unpickling it once.",
    fix="Save with torch.save, or load it with pickle in customize_service.py and keep it out of the "
    "model file slot.",
    basis=Basis.SERVICE_FAILS,
    evidence="torch/serialization.py legacy_load: a pickle without the magic number fails with 'Invalid magic "
        "number; corrupt file?'.",
)
CODE_EXECUTION = Rule(
    "MOD020", "Pickle can execute code", E,
    what="A pickle references something that runs code when unpickled (os.system, eval, subprocess, "
    "getattr chains, ...), computes names at load time, or mutates classes/modules.",
    why="Loading the file runs that code on the serving host: this is how malicious checkpoints work.",
    fix="Do not deploy the file. Re-create the weights from a trusted source as a plain state_dict.",
    basis=Basis.SAFETY,
    evidence="Unpickling calls every referenced callable (pickle module docs: 'Never unpickle data received from "
        "an untrusted source').",
)
NOT_ALLOWED = Rule(
    "MOD021", "Global outside the weights allow-list", E,
    what="A pickle references a function or class that is not needed for weights (tensors, storages, "
    "OrderedDict, dtypes, simple data).",
    why="Any importable callable can be made to run code when unpickled; a weights file needs none.",
    fix="Save a state_dict of tensors only (`torch.save(model.state_dict(), f)`).",
    basis=Basis.SAFETY,
    evidence="pickle module docs: any importable callable can run code at load time; torch.load(weights_only=True)"
        " allows only tensors and plain data.",
)
PACKAGE_CLASS = Rule(
    "MOD022", "Object of a class from the package", W,
    what="A pickle references a class or function from the package's own modules.",
    why="Loading imports and runs package code, and the file breaks when that code changes; the "
    "specification asks for a state_dict.",
    fix="Save a state_dict and rebuild objects in customize_service.py.",
    basis=Basis.ADVICE,
    evidence="Loading imports and runs the package's own module: reviewed code, but the file breaks when that code"
        " changes.",
)
HIDDEN_PICKLE = Rule(
    "MOD023", "Pickle that torch.load never reads", W,
    what="A pickle outside what torch.load reads: an extra `.pkl` zip member, or data after the last "
    "storage of a legacy file.",
    why="Other tools read it (and its references are checked here like the rest); in a weights file it has "
    "no purpose and can hide a payload.",
    fix="Save the object again with torch.save instead of editing the file.",
    basis=Basis.SAFETY,
    evidence="torch.load never reads the pickle, but other tools do; a pickle with no purpose in a weights file "
        "can carry a payload.",
)
COMPRESSED = Rule(
    "MOD024", "Compressed zip member", W,
    what="A member of the zip archive is compressed; torch.save stores members uncompressed.",
    why="Compressed storages cannot be memory-mapped and show the file was rewritten by another tool.",
    fix="Save the object again with torch.save.",
    basis=Basis.ADVICE,
    evidence='torch.save writes stored (uncompressed) members; torch.load still reads compressed ones.',
)
BYTE_ORDER = Rule(
    "MOD025", "Big-endian model file", W,
    what="The file was written on a big-endian machine.",
    why="Old torch releases ignore the byte order and load byte-swapped garbage.",
    fix="Save the model on a little-endian machine.",
    basis=Basis.SERVICE_FAILS,
    evidence="torch before 1.x ignores the byteorder record and loads byte-swapped values (wrong results, not an "
        "exception). A warning because the load itself succeeds.",
)
OUT_OF_BAND = Rule(
    "MOD026", "Pickle needs out-of-band buffers", E,
    what="A pickle uses protocol 5 out-of-band buffers (NEXT_BUFFER).",
    why="torch.load supplies no buffers, so the load fails.",
    fix="Save with torch.save and its default protocol.",
    basis=Basis.SERVICE_FAILS,
    evidence='PEP 574: a pickle with NEXT_BUFFER fails without the buffers argument, which torch.load never passes.',
)
UNDECODABLE = Rule(
    "MOD027", "Python 2 string that Python 3 cannot decode", E,
    what="An 8-bit Python 2 string that is not valid UTF-8.",
    why="torch.load on Python 3 decodes such strings as UTF-8 and fails with UnicodeDecodeError.",
    fix="Save the file from Python 3, or store such data as bytes/tensors.",
    basis=Basis.SERVICE_FAILS,
    evidence="torch.load on Python 3 decodes Python 2 str as UTF-8 by default (torch/serialization.py, "
        "encoding='utf-8'): UnicodeDecodeError.",
)

TORCH_CLASS = Rule(
    "MOD035", "torch class the target torch lacks", E,
    what="A pickle names a class of torch.nn, torch.optim or torch.utils (a layer of a whole pickled "
    "module, an optimizer, a scheduler, ...) that the target torch does not define at that module path.",
    why="Unpickling looks the class up in its module; the target torch has no such attribute, so "
    "torch.load fails with AttributeError and the service never loads the model.",
    fix="Save `model.state_dict()` and build the network in customize_service.py with layers the target "
    "torch has (or implement the missing layer yourself in the package).",
    basis=Basis.SERVICE_FAILS,
    evidence="modeltemplates/inspect/torch_classes.json, derived by tools/derive_torch_classes.py from the "
    "Python sources of the published torch wheels of every minor release from 1.0 on; pickle's find_class "
    "raises AttributeError for a name its module lacks (fidelity set: __main__ classes).",
)

RULES: tuple[Rule, ...] = (
    UNRECOGNISED, CORRUPT, LIMITS, LEFTOVERS, ZIP_FORMAT, PROTOCOL, TORCH_TYPE, TORCH_FUNCTION,
    NUMPY_PATH, MAIN_CLASS, NOT_IMPORTABLE, WHOLE_MODULE, TORCHSCRIPT, PLAIN_PICKLE, CODE_EXECUTION,
    NOT_ALLOWED, PACKAGE_CLASS, HIDDEN_PICKLE, COMPRESSED, BYTE_ORDER, OUT_OF_BAND, UNDECODABLE, TORCH_CLASS,
)  # fmt: skip


@attrs.frozen
class ModelFileResult:
    """What checking one model file found: the facts (None when unreadable) and the findings."""

    facts: TorchFileFacts | None
    findings: tuple[Finding, ...]


def check_model_file(
    path: str,
    f: BinaryIO,
    size: int,
    runtime: Runtime,
    limits: TorchLimits | None = None,
    *,
    package_modules: frozenset[str] = frozenset(),
) -> ModelFileResult:
    """Check the model file ``f`` (``size`` bytes, at package path ``path``) for ``runtime``.

    ``package_modules`` are the top-level module/package names the package itself provides (they are
    importable when the service loads the model).
    """
    try:
        facts = read_torch_file(f, size, limits)
    except TorchFileError as exc:
        rule = {"unrecognised": UNRECOGNISED, "limit": LIMITS}.get(exc.kind, CORRUPT)
        message = str(exc)
        if rule is UNRECOGNISED:
            message = _not_a_model(f, size)
        return ModelFileResult(None, (rule.finding(path, message),))
    findings = [
        *_format_findings(path, facts, runtime),
        *_problem_findings(path, facts),
        *_pickle_findings(path, facts, runtime, package_modules),
    ]
    return ModelFileResult(facts, tuple(dict.fromkeys(findings)))


def _not_a_model(f: BinaryIO, size: int) -> str:
    """What the file is, in the user's words ("a 37-byte text file, not a PyTorch model")."""
    from modeltemplates.inspect.filekind import HEAD_BYTES, sniff

    try:
        f.seek(0)
        head = f.read(HEAD_BYTES)
    except OSError:
        head = b""
    kind = sniff(head, size)
    return f"{kind.what}, not a PyTorch model"


# --------------------------------------------------------------------------------------------
# The file as a whole


def _format_findings(path: str, facts: TorchFileFacts, runtime: Runtime) -> Iterator[Finding]:
    torch_version = runtime.engine_version_tuple
    target = f"torch {runtime.engine_version}"
    if facts.format == "zip" and torch_version < tf.ZIP_FORMAT_SINCE:
        yield ZIP_FORMAT.finding(
            path,
            f"the file is a zip archive (torch.save's default since torch 1.6); {target} cannot read the zip "
            "format and fails with 'A load persistent id instruction was encountered'",
        )
    elif facts.format == "torchscript":
        version = _int(facts.format_version)
        readable = tf.torchscript_max_format(torch_version)
        detail = (
            f"format version {version} is newer than the {readable} {target} reads"
            if version is not None and version > readable
            else "torch.load cannot read it"
        )
        yield TORCHSCRIPT.finding(path, f"the file is a TorchScript archive (torch.jit.save): {detail}")
    elif facts.format == "pickle":
        yield PLAIN_PICKLE.finding(
            path, "the file is a plain pickle without torch.save's magic number; torch.load rejects it"
        )
    if facts.object_kind == "module" and facts.module_class and facts.module_class.startswith(
        tf.TORCH_MODULE_PACKAGES
    ):
        yield WHOLE_MODULE.finding(
            path, f"the file holds a whole {facts.module_class} object, not a state_dict"
        )


_PROBLEM_RULES: dict[str, tuple[Rule, Severity | None]] = {
    "orphan-storage": (LEFTOVERS, None),
    "oversized-storage": (LEFTOVERS, None),
    "trailing-data": (LEFTOVERS, None),
    "extra-member": (LEFTOVERS, None),
    "bad-extra-pickle": (LEFTOVERS, None),
    "more-problems": (LEFTOVERS, INFO),
    "extra-pickle": (HIDDEN_PICKLE, None),
    "hidden-pickle": (HIDDEN_PICKLE, None),
    "compressed-member": (COMPRESSED, None),
    "big-endian": (BYTE_ORDER, None),
    "bad-byteorder": (BYTE_ORDER, None),
    "member-refused": (LIMITS, None),
    "walk-limit": (LIMITS, W),
    "deep-nesting": (LIMITS, W),
}


def _problem_findings(path: str, facts: TorchFileFacts) -> Iterator[Finding]:
    for problem in facts.problems:
        rule, severity = _PROBLEM_RULES.get(problem.code, (CORRUPT, None))
        where = f" (member {problem.member!r})" if problem.member and problem.member not in problem.message else ""
        yield rule.finding(path, problem.message + where, severity=severity)


# --------------------------------------------------------------------------------------------
# What the pickles reference


#: Globals a weights file may reference besides torch's own (TORCH_GLOBALS): plain data types.
SAFE_GLOBALS = frozenset(
    {
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("collections", "Counter"),
        ("collections", "deque"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "bytearray"),
        ("builtins", "bytes"),
        ("builtins", "complex"),
        ("builtins", "slice"),
        ("builtins", "range"),
        ("builtins", "list"),
        ("builtins", "dict"),
        ("builtins", "tuple"),
        ("builtins", "int"),
        ("builtins", "float"),
        ("builtins", "str"),
        ("builtins", "bool"),
        ("builtins", "object"),
        ("_codecs", "encode"),  # how Python 3 bytes are pickled at protocol 2
        ("copyreg", "_reconstructor"),  # how protocol 0/1 rebuild plain objects
        ("argparse", "Namespace"),
        ("datetime", "datetime"),
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
        ("fractions", "Fraction"),
    }
)

#: Modules whose every callable can run code or reach the system, whatever the name.
DANGEROUS_MODULES = frozenset(
    {
        "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys", "runpy", "importlib", "imp",
        "pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "code", "codeop", "pty", "commands",
        "popen2", "platform", "shutil", "socket", "ctypes", "types", "functools", "operator", "multiprocessing",
        "threading", "_thread", "thread", "webbrowser", "tempfile", "pdb", "bdb", "timeit", "trace", "cProfile",
        "profile", "asyncio", "urllib", "urllib2", "http", "httplib", "ftplib", "smtplib", "telnetlib",
        "requests", "io", "_io", "zipimport", "sqlite3", "signal",
        "select", "mmap", "resource", "fcntl", "builtins", "__builtin__", "copyreg", "copy_reg", "pip",
        "setuptools", "distutils", "site", "venv", "ensurepip", "_posixsubprocess", "_winapi",
        "msvcrt", "winreg", "_winreg", "xmlrpc", "pydoc",
    }
)  # fmt: skip

#: Names that run code in any module that defines them.
DANGEROUS_NAMES = frozenset(
    {
        "eval", "exec", "execfile", "compile", "open", "file", "getattr", "setattr", "delattr", "__import__",
        "input", "raw_input", "globals", "locals", "vars", "breakpoint", "reload", "apply", "system", "popen",
        "spawn", "load", "loads", "load_inline", "run", "call", "check_call", "check_output", "Popen",
        "attrgetter", "methodcaller", "itemgetter", "partial", "reduce", "runstring", "runpy", "import_module",
    }
)  # fmt: skip


@attrs.frozen
class GlobalClass:
    """How a referenced global is judged: ``category`` and the canonical (Python 3) spelling."""

    category: str
    module: str
    name: str


def classify_global(module: str, name: str, fmt: str, package_modules: frozenset[str]) -> GlobalClass:
    """Judge one global: ``weights`` (allow-listed), ``numpy`` (array data), ``torch-module``,
    ``torchscript``, ``main``, ``package``, ``dangerous``, ``torch-other`` or ``unknown``."""
    cmod, cname = canonical_name(module, name)
    top = cmod.split(".", 1)[0]
    key = (cmod, cname)

    def out(category: str) -> GlobalClass:
        return GlobalClass(category, cmod, cname)

    if (key in tf.TORCH_GLOBALS or key in SAFE_GLOBALS) and cname.isidentifier():
        return out("weights")
    if key in tf.NUMPY_DATA_GLOBALS:
        return out("numpy")
    if "." in cname or not cname.isidentifier() or cname.startswith("__") or module == "<dynamic>":
        return out("dangerous")  # attribute chains (proto 4 dotted names) or dunder access
    if cmod == "__main__":
        return out("main")
    if fmt == "torchscript" and (top == "__torch__" or cmod.startswith("torch.jit._pickle")):
        return out("torchscript")
    if top in DANGEROUS_MODULES or cmod in DANGEROUS_MODULES or cname in DANGEROUS_NAMES:
        return out("dangerous")
    if cmod.startswith(tf.TORCH_MODULE_PACKAGES) and cname[:1].isupper():
        return out("torch-module")
    if top in package_modules:
        return out("package")
    if top == "torch":
        return out("torch-other")
    return out("unknown")


def _pickle_findings(
    path: str, facts: TorchFileFacts, runtime: Runtime, package_modules: frozenset[str]
) -> Iterator[Finding]:
    torch_version = runtime.engine_version_tuple
    python = runtime.python_version
    max_proto = tf.max_protocol_for_python(python)
    protocol_reported = False
    for pickle in facts.pickles:
        where = pickle.where
        if pickle.read_by_torch and facts.format in ("legacy", "zip", "tar") and not protocol_reported:
            needed = pickle.needed_protocol
            if needed > max_proto:
                protocol_reported = True
                declared = f"declares protocol {pickle.protocols[0]}" if pickle.protocols else "has no PROTO"
                yield PROTOCOL.finding(
                    path,
                    f"{where} {declared} and needs pickle protocol {needed}; Python {runtime.python} reads "
                    f"protocol {max_proto} at most ('unsupported pickle protocol: {needed}')",
                )
        for odd in pickle.oddities:
            if odd.kind in ("call-of-value", "dynamic-global", "mutates-global"):
                yield CODE_EXECUTION.finding(path, f"{where}: {odd.detail} (at byte {odd.offset})")
            elif odd.kind == "out-of-band-buffer" and pickle.read_by_torch:
                yield OUT_OF_BAND.finding(path, f"{where}: {odd.detail} (at byte {odd.offset})")
            elif odd.kind == "undecodable-str" and pickle.read_by_torch and python >= (3, 0):
                yield UNDECODABLE.finding(path, f"{where}: {odd.detail} (at byte {odd.offset})")
        seen: set[tuple[str, str]] = set()
        for ref in pickle.globals:
            if (ref.module, ref.name) in seen:
                continue
            seen.add((ref.module, ref.name))
            yield from _global_findings(
                path, facts=facts, pickle=pickle, ref=ref, runtime=runtime, package_modules=package_modules
            )
        if pickle.read_by_torch:
            yield from _arity_findings(path, pickle, torch_version, runtime)


def _global_findings(
    path: str,
    *,
    facts: TorchFileFacts,
    pickle: PickleFacts,
    ref: GlobalRef,
    runtime: Runtime,
    package_modules: frozenset[str],
) -> Iterator[Finding]:
    judged = classify_global(ref.module, ref.name, facts.format, package_modules)
    spelled = f"{ref.module}.{ref.name}"
    qual = f"{judged.module}.{judged.name}"
    shown = spelled if spelled == qual else f"{spelled} (= {qual})"
    at = f"{pickle.where} references {shown} at byte {ref.offset}"
    category = judged.category
    torch_version = runtime.engine_version_tuple
    python = runtime.python_version
    if category == "dangerous":
        yield CODE_EXECUTION.finding(path, f"{at}: this can run arbitrary code when unpickled")
        return
    if category == "main":
        yield MAIN_CLASS.finding(
            path, f"{at}: class {qual} was defined in the saving script and does not exist at load time"
        )
        return
    if category in ("unknown", "torch-other"):
        if category == "unknown" and not _importable(judged.module, python, package_modules):
            yield NOT_IMPORTABLE.finding(
                path, f"{at}: module {judged.module!r} is not importable on {runtime} (nor allow-listed)"
            )
        else:
            yield NOT_ALLOWED.finding(path, f"{at}: not needed by a weights file and may run code")
        return
    if category == "package":
        yield PACKAGE_CLASS.finding(path, f"{at}: loading runs code of the package module {judged.module!r}")
        return
    if not pickle.read_by_torch:
        return
    if python < (3, 0) and ref.module in _compat_pickle.REVERSE_IMPORT_MAPPING:
        py2 = _compat_pickle.REVERSE_IMPORT_MAPPING[ref.module]
        yield NOT_IMPORTABLE.finding(
            path, f"{at}: Python 2 has no module {ref.module!r} (it is {py2!r} there): ImportError"
        )
    since = tf.torch_class_since(judged.module, judged.name)
    if since is not None and since > torch_version:
        yield TORCH_CLASS.finding(
            path,
            f"{at}: {qual} first appears in torch {tf.format_version(since)}; torch {runtime.engine_version} "
            f"has no {judged.name!r} in {judged.module} (AttributeError when the file is loaded)",
        )
    fact = tf.TORCH_GLOBALS.get((judged.module, judged.name))
    if fact is not None and fact.since > torch_version:
        rule = TORCH_TYPE if fact.role in ("storage", "dtype") else TORCH_FUNCTION
        yield rule.finding(
            path,
            f"{at}: {qual} first appears in torch {tf.format_version(fact.since)}; torch "
            f"{runtime.engine_version} has no {judged.name!r} (AttributeError)",
        )
    if category == "numpy":
        since = tf.numpy_module_since(judged.module)
        cap = tf.numpy_max_for_python(python)
        if since is not None and cap is not None and cap < since:
            newest = tf.format_version(cap)
            yield NUMPY_PATH.finding(
                path,
                f"{at}: {judged.module} exists from numpy {tf.format_version(since)} on; the newest numpy for "
                f"{runtime} is {newest} (No module named {judged.module!r})",
            )


def _arity_findings(path: str, pickle: PickleFacts, torch_version: tf.Version, runtime: Runtime) -> Iterator[Finding]:
    reported: set[str] = set()
    for call in pickle.calls:
        if call.func is None or call.nargs is None:
            continue
        fact = tf.TORCH_GLOBALS.get((call.func.module, call.func.name))
        if fact is None or fact.max_args is None or fact.since > torch_version or fact.qualname in reported:
            continue
        if call.nargs > fact.max_args:
            reported.add(fact.qualname)
            yield TORCH_FUNCTION.finding(
                path,
                f"{pickle.where} calls {fact.qualname} with {call.nargs} arguments at byte {call.offset}; "
                f"torch {runtime.engine_version} accepts {fact.max_args} (TypeError)",
            )


_THIRD_PARTY_OK = frozenset({"torch", "numpy", "torchvision"})


def _importable(module: str, python: tuple[int, int], package_modules: frozenset[str]) -> bool:
    top = module.split(".", 1)[0]
    if top in package_modules or top in _THIRD_PARTY_OK:
        return True
    if python < (3, 0):
        return top in _PY2_STDLIB or (
            top in sys.stdlib_module_names and top not in _compat_pickle.REVERSE_IMPORT_MAPPING
        )
    return top in sys.stdlib_module_names


#: Python 2 standard modules that Python 3 renamed (the names a Python 2 pickle uses).
_PY2_STDLIB = frozenset(_compat_pickle.IMPORT_MAPPING) | {"exceptions"}


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
