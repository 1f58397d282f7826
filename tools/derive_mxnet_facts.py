"""Derive the MXNet 1.2.1 facts table (``modeltemplates/engines/mxnet/facts.py``) from MXNet itself.

Reads, never imports:

1. the v1.2.1 sources (``git archive 1.2.1 src plugin`` of apache/mxnet, or an unpacked source
   release): every operator registration -- ``NNVM_REGISTER_OP(name)``,
   ``MXNET_REGISTER_OP_PROPERTY(name, ...)``, ``.add_alias("name")`` -- including those made
   through the sources' own registration macros, which are expanded here (parameters substituted,
   ``##`` pasting and ``#`` stringizing applied), and the auxiliary states of the legacy
   operators (``ListAuxiliaryStates``) and of ``FMutateInputs`` operators;
2. the published wheel ``mxnet-1.2.1-py2.py3-none-manylinux1_x86_64.whl`` (``pip download
   --no-deps mxnet==1.2.1 --platform manylinux1_x86_64 --python-version 36 --only-binary=:all:``):
   a name counts only if it is a NUL-terminated string of its ``libmxnet.so`` (registrations the
   build left out -- CUDA-, cuDNN- or MKL-only operators -- are dropped).

Usage::

    python tools/derive_mxnet_facts.py SOURCES_DIR WHEEL > modeltemplates/engines/mxnet/facts.py
"""

from __future__ import annotations

import pathlib
import re
import sys
import zipfile

_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)\(([^)]*)\)(.*)$")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_GPU_ONLY = re.compile(r"MXNET_USE_CUDNN|MXNET_USE_CUDA|MXNET_USE_MKLDNN|__CUDACC__|MXNET_USE_TENSORRT")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _logical_lines(text: str) -> list[str]:
    out: list[str] = []
    buf = ""
    for line in text.splitlines():
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        out.append(buf + line)
        buf = ""
    if buf:
        out.append(buf)
    return out


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _split_args(text: str, start: int) -> tuple[list[str], int] | None:
    """Arguments of the call whose ``(`` is at ``start``; returns (args, index after ``)``)."""
    depth = 0
    args: list[str] = []
    cur = ""
    i = start
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str:
            cur += c
            if c == "\\" and i + 1 < len(text):
                cur += text[i + 1]
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            cur += c
        elif c in "([{<" and not (c == "<" and depth == 0):
            if depth > 0 or c != "(":
                cur += c
            depth += 1
        elif c in ")]}" or (c == ">" and depth > 1):
            depth -= 1
            if depth == 0:
                args.append(cur.strip())
                return args, i + 1
            cur += c
        elif c == "," and depth == 1:
            args.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    return None


def _statement_end(text: str, start: int) -> int:
    """Where the statement starting at ``start`` ends (its ``;`` at bracket depth 0)."""
    depth = 0
    i = start
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ";" and depth <= 0:
            return i
        i += 1
    return len(text)


def param_fields(files_text: str) -> dict[str, set[str]]:
    """Fields (and aliases) of every dmlc::Parameter struct: DMLC_DECLARE_FIELD / DMLC_DECLARE_ALIAS."""
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"DMLC_DECLARE_PARAMETER\(\s*(\w+)\s*\)\s*\{", files_text):
        depth, i = 1, m.end()
        while i < len(files_text) and depth:
            depth += {"{": 1, "}": -1}.get(files_text[i], 0)
            i += 1
        body = files_text[m.end():i]
        fields = set(re.findall(r"DMLC_DECLARE_FIELD\(\s*(\w+)\s*\)", body))
        fields |= {a for _, a in re.findall(r"DMLC_DECLARE_ALIAS\(\s*(\w+)\s*,\s*(\w+)\s*\)", body)}
        out.setdefault(m.group(1), set()).update(fields)
    return out


def _substitute(body: str, params: list[str], args: list[str]) -> str:
    table = dict(zip(params, args))
    # stringize: #param (not ##)
    body = re.sub(r"(?<!#)#[ \t]*([A-Za-z_$][A-Za-z0-9_$]*)",
                  lambda m: '"' + table[m.group(1)] + '"' if m.group(1) in table else m.group(0), body)
    body = _IDENT.sub(lambda m: table.get(m.group(0), m.group(0)), body)
    return re.sub(r"[ \t]*##[ \t]*", "", body)


def _literal(expr: str) -> str | None:
    """The op name an argument spells: an identifier or (concatenated) string literals."""
    expr = expr.strip()
    if _IDENT.fullmatch(expr):
        return expr
    parts = _STRING.findall(expr)
    if parts and re.fullmatch(r'(\s*"(?:[^"\\]|\\.)*"\s*)+', expr):
        return "".join(parts)
    return None


class Expander:
    def __init__(self) -> None:
        self.macros: dict[str, tuple[list[str], str]] = {}
        self.ops: set[str] = set()
        self.legacy: set[str] = set()
        self.op_structs: dict[str, set[str]] = {}
        self.aliases: dict[str, set[str]] = {}

    def collect_macros(self, text: str) -> list[str]:
        body_lines = []
        # Conditional blocks: only the CPU build's view (CUDA, cuDNN and MKL-DNN off), others on.
        stack: list[bool] = []
        for line in _logical_lines(_strip_comments(text)):
            directive = re.match(r"\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)", line)
            if directive:
                kind, cond = directive.groups()
                if kind in ("if", "ifdef", "ifndef"):
                    off = bool(_GPU_ONLY.search(cond)) and kind != "ifndef" and "!" not in cond
                    stack.append(not off)
                elif kind in ("else", "elif") and stack:
                    stack[-1] = not stack[-1] if kind == "else" else stack[-1]
                elif kind == "endif" and stack:
                    stack.pop()
                continue
            if not all(stack):
                continue
            m = _DEFINE.match(line)
            if m:
                params = [p.strip() for p in m.group(2).split(",") if p.strip()]
                self.macros[m.group(1)] = (params, m.group(3))
            elif not line.lstrip().startswith("#"):
                body_lines.append(line)
        return body_lines

    def expand(self, text: str, depth: int = 0) -> None:
        if depth > 12:
            return
        for m in re.finditer(r"\b(NNVM_REGISTER_OP|MXNET_REGISTER_OP_PROPERTY)\s*\(", text):
            got = _split_args(text, m.end() - 1)
            if got and got[0]:
                name = _literal(got[0][0])
                if name:
                    self.ops.add(name)
                    # the statement that registers it: its parameter structs and aliases
                    end = _statement_end(text, got[1])
                    chain = text[got[1]:end]
                    for s in re.findall(r"\b(\w+)::__FIELDS__\s*\(\s*\)", chain):
                        self.op_structs.setdefault(name, set()).add(s)
                    for a in re.findall(r"\.add_alias\s*\(\s*\"(\w+)\"", chain):
                        self.aliases.setdefault(name, set()).add(a)
        # Legacy NDArray functions become operators of the same name (RegisterLegacyNDFunc in
        # src/nnvm/legacy_op_util.cc).
        for m in re.finditer(r"\bMXNET_REGISTER_NDARRAY_FUN\s*\(\s*([A-Za-z_0-9]+)\s*\)", text):
            self.ops.add(m.group(1))
        for m in re.finditer(r"\bMXNET_REGISTER_OP_PROPERTY\s*\(\s*([A-Za-z_0-9]+)\s*,", text):
            # RegisterLegacyOpProp registers "_backward_" + name for every legacy operator.
            self.legacy.add(m.group(1))
        for m in re.finditer(r"\.add_alias\s*\(", text):
            got = _split_args(text, m.end() - 1)
            if got and got[0]:
                name = _literal(got[0][0])
                if name:
                    self.ops.add(name)
        for m in re.finditer(r"\b([A-Z][A-Z0-9_]+)\s*\(", text):
            macro = self.macros.get(m.group(1))
            if macro is None or m.group(1) in ("NNVM_REGISTER_OP", "MXNET_REGISTER_OP_PROPERTY"):
                continue
            got = _split_args(text, m.end() - 1)
            if not got:
                continue
            params, body = macro
            if len(got[0]) != len(params):
                continue
            self.expand(_substitute(body, params, got[0]), depth + 1)


#: Operators whose inputs at these positions are auxiliary states, from the 1.2.1 sources:
#: BatchNorm's FMutateInputs {3, 4} (src/operator/nn/batch_norm.cc, inputs data, gamma, beta,
#: moving_mean, moving_var); the legacy BatchNorm_v1's ListAuxiliaryStates {moving_mean,
#: moving_var} after its arguments data, gamma, beta (src/operator/batch_norm_v1-inl.h);
#: IdentityAttachKLSparseReg's {moving_avg} after data (identity_attach_KL_sparse_reg-inl.h).
#: CuDNNBatchNorm mutates the same inputs but exists only in CUDA builds.
AUX_INPUTS = {"BatchNorm": (3, 4), "BatchNorm_v1": (3, 4), "IdentityAttachKLSparseReg": (1,),
              "CuDNNBatchNorm": (3, 4)}

_AUX_DOC = """#: Inputs that are auxiliary states (saved as ``aux:`` in a params file), by operator.
#: The operator ``Custom`` decides its own at run time and is not listed.
"""

_ATTRS_DOC = """#: The attributes each operator's parameter parser accepts (the fields of the dmlc::Parameter
#: structs its registration lists with add_arguments(X::__FIELDS__()), aliases included). 1.2.1
#: refuses any other attribute when it loads a symbol ('Cannot find argument ...'), except keys
#: written __like_this__. Operators not listed have parsers this table does not describe.
"""

_VERSION_DOC = """#: MXNET_VERSION of 1.2.1 (include/mxnet/base.h: MAJOR*10000 + MINOR*100 + PATCH).
MXNET_VERSION = 10201
#: A symbol without the ``mxnet_version`` attribute is read as saved by 0.8.0
#: (LoadLegacyJSONPass in src/nnvm/legacy_json_util.cc), which then upgrades it.
UNVERSIONED = 800
#: Magic numbers of the NDArray list file and of each NDArray (src/ndarray/ndarray.cc):
#: kMXAPINDArrayListMagic, NDARRAY_V1_MAGIC and NDARRAY_V2_MAGIC. 1.2.1 reads any other value in
#: an array's first four bytes as the dimension count of the oldest format.
LIST_MAGIC = 0x112
NDARRAY_V1_MAGIC = 0xF993FAC8
NDARRAY_V2_MAGIC = 0xF993FAC9
#: Written by MXNet 1.6 and later in NumPy-shape mode (src/ndarray/ndarray.cc of those releases);
#: 1.2.1 does not know it.
NDARRAY_V3_MAGIC = 0xF993FACA
#: mshadow type flags 1.2.1 knows (python/mxnet/ndarray/ndarray.py, _DTYPE_MX_TO_NP), item sizes.
DTYPES: dict[int, tuple[str, int]] = {
    0: ("float32", 4), 1: ("float64", 8), 2: ("float16", 2), 3: ("uint8", 1),
    4: ("int32", 4), 5: ("int8", 1), 6: ("int64", 8),
}
#: Type flags of later releases (mshadow/base.h of MXNet 1.5-2.0), for the message only.
LATER_DTYPES: dict[int, str] = {7: "bool", 8: "int16", 9: "uint16", 10: "uint32", 11: "uint64", 12: "bfloat16"}
#: Storage types (include/mxnet/ndarray.h): default, row_sparse (1 aux array), csr (2).
STORAGE_AUX: dict[int, tuple[str, int]] = {0: ("default", 0), 1: ("row_sparse", 1), 2: ("csr", 2)}
"""


def so_data(wheel: pathlib.Path) -> bytes:
    with zipfile.ZipFile(wheel) as z:
        return z.read("mxnet/libmxnet.so")


def main() -> None:
    sources, wheel = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    files = sorted(
        p for p in [*sources.joinpath("src").rglob("*"), *sources.joinpath("plugin").rglob("*")]
        if p.suffix in (".cc", ".h") and p.is_file()
    )
    exp = Expander()
    bodies = {p: exp.collect_macros(p.read_text("utf-8", "replace")) for p in files}
    for lines in bodies.values():
        exp.expand("\n".join(lines))
    data = so_data(wheel)
    # The linker merges a string into the tail of a longer one ("Activation" ends
    # "SoftmaxActivation"), so a name counts when it ends some NUL-terminated string.
    kept = {n for n in exp.ops if "$" not in n and n.encode() + b"\0" in data}
    # The legacy backward names are built at run time, so they are kept with their operator.
    ops = sorted(kept | {"_backward_" + n for n in exp.legacy if n in kept})
    dropped = sorted(n for n in exp.ops if n not in ops)
    out = sys.stdout
    out.write('"""MXNet 1.2.1 facts as data: the operators it registers and how its files are versioned.\n\n')
    out.write("Generated by ``tools/derive_mxnet_facts.py`` (read its docstring) from the v1.2.1 sources of\n")
    out.write("apache/mxnet (tag 1.2.1) and the published wheel mxnet-1.2.1-py2.py3-none-manylinux1_x86_64.whl\n")
    out.write("(a name is kept only when its libmxnet.so holds it). Do not edit by hand.\n")
    out.write('"""\n\nfrom __future__ import annotations\n\n')
    out.write(f"#: Every operator name (aliases included) MXNet 1.2.1 registers: {len(ops)} names.\n")
    out.write("OPERATORS: frozenset[str] = frozenset({\n")
    for name in ops:
        out.write(f"    {name!r},\n")
    out.write("})\n\n")
    out.write(_AUX_DOC)
    out.write("AUX_INPUTS: dict[str, tuple[int, ...]] = {\n")
    for name, idx in sorted(AUX_INPUTS.items()):
        if name in ops:
            out.write(f"    {name!r}: {idx!r},\n")
    out.write("}\n\n")
    structs = param_fields("\n".join("\n".join(b) for b in bodies.values()))
    attrs: dict[str, set[str]] = {}
    for op, names in exp.op_structs.items():
        if op in kept and all(n in structs for n in names):
            fields = set().union(*(structs[n] for n in names))
            attrs[op] = fields
            for alias in exp.aliases.get(op, ()):
                if alias in kept:
                    attrs[alias] = fields
    out.write(_ATTRS_DOC)
    out.write("ATTRIBUTES: dict[str, frozenset[str]] = {\n")
    for op in sorted(attrs):
        out.write(f"    {op!r}: frozenset({{\n")
        for field in sorted(attrs[op]):
            out.write(f"        {field!r},\n")
        out.write("    }),\n")
    out.write("}\n\n")
    out.write(_VERSION_DOC)
    sys.stderr.write(f"{len(ops)} operators; {len(dropped)} registrations not in the wheel's library\n")


if __name__ == "__main__":
    main()
