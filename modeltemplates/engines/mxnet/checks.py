"""MXNet model-file rules: will MXNet 1.2.1 load this symbol and these parameters, and do they agree?

Per file: :func:`check_symbol_file` and :func:`check_params_file` read one file each (never MXNet)
and say what 1.2.1 cannot read. Together: :func:`check_pair` matches each symbol with its params
file the way ``mx.model.load_checkpoint(prefix, epoch)`` does (``prefix-symbol.json`` and
``prefix-%04d.params``), compares what the graph needs with what the file holds, and compares the
epoch with the one the inference code loads where the code says it literally.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from modeltemplates.engines.mxnet import facts
from modeltemplates.findings import Basis, Finding, Rule, Severity

__all__ = ["PARAMS_SUFFIX", "RULES", "SYMBOL_SUFFIX", "check_file", "check_pair"]

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
SYMBOL_SUFFIX = "-symbol.json"
PARAMS_SUFFIX = ".params"

NOT_SYMBOL = Rule(
    "MXN001", "Not a readable MXNet symbol file", E,
    what="The `-symbol.json` file is empty, not JSON, or JSON that is not an MXNet graph (nodes with op, "
    "name and inputs that name earlier nodes, heads, the mxnet_version attribute).",
    why="`mx.sym.load` on the platform fails on it, so the service cannot build the network.",
    fix="Export the network again with `sym.save('<name>-symbol.json')` (or `HybridBlock.export`).",
    basis=Basis.SERVICE_FAILS,
    evidence="MXNet 1.2.1's Symbol.load runs nnvm's LoadJSON pass (src/nnvm/legacy_json_util.cc), which fails on "
        'text that is not a graph of earlier-node inputs.',
)
NOT_PARAMS = Rule(
    "MXN002", "Not an MXNet parameters file", E,
    what="The `.params` file is empty or does not start with the NDArray-list magic 0x112 that "
    "`mx.nd.save` writes.",
    why="`mx.nd.load` fails with 'Invalid NDArray file format'.",
    fix="Save the parameters with `mx.model.save_checkpoint` or `mx.nd.save` (or `HybridBlock.export`).",
    basis=Basis.SERVICE_FAILS,
    evidence="NDArray::Load of a list checks the header 0x112 and fails with 'Invalid NDArray file format' "
        '(src/ndarray/ndarray.cc, v1.2.1).',
)
CORRUPT_PARAMS = Rule(
    "MXN003", "Corrupt or truncated MXNet parameters file", E,
    what="The parameters file ends inside an array, has names that do not match its arrays, an unknown "
    "storage type or a malformed shape.",
    why="`mx.nd.load` fails with 'Invalid NDArray file format' or reads garbage.",
    fix="Copy the file again (compare checksums) or save it again with MXNet.",
    basis=Basis.SERVICE_FAILS,
    evidence="NDArray::Load returns false on a short read or a name count other than 0 or n: 'Invalid NDArray file"
        " format' (src/ndarray/ndarray.cc, v1.2.1).",
)
LIMITS = Rule(
    "MXN004", "MXNet model file not checked: beyond this tool's limits", W,
    what="The file is larger, deeper or has more nodes, arrays or dimensions than this checker reads.",
    why="Real checkpoints stay far inside these bounds; files beyond them are built to exhaust whoever "
    "reads them.",
    fix="Check the file is a genuine checkpoint; raise the limits in the settings if it is.",
    basis=Basis.NOT_CHECKED,
    evidence="Real checkpoints stay far inside the reader's bounds (ResNet-152: ~2,000 nodes); past them this tool"
        ' stops reading, which says nothing about MXNet.',
)
UNKNOWN_OP = Rule(
    "MXN010", "Operator MXNet 1.2.1 does not have", E,
    what="A node of the symbol uses an operator that MXNet 1.2.1 does not register (it was added later, "
    "or comes from a custom build or plugin).",
    why="Loading the symbol fails in nnvm's LoadJSON ('Operator X is not registered'), so the service "
    "never starts.",
    fix="Rebuild the network with operators MXNet 1.2.1 has (the finding names the nodes), or use a "
    "custom image with a newer MXNet.",
    basis=Basis.SERVICE_FAILS,
    evidence="nnvm's LoadJSON looks every op up in the registry and fails for an unregistered name; the 1.2.1 "
        'registry is the 610 names of engines/mxnet/facts.py, derived from its sources and wheel.',
)
NEWER_SYMBOL = Rule(
    "MXN011", "Symbol saved by a newer MXNet", W,
    what="The symbol's mxnet_version attribute is above 1.2.1's (10201).",
    why="MXNet 1.2.1 loads it with the warning 'loading symbol saved by MXNet version ... with lower "
    "version ... May cause undefined behavior': attributes added later make the load fail, and "
    "changed defaults change results.",
    fix="Export the symbol with MXNet 1.2.1, or check every operator and attribute against 1.2.1.",
    basis=Basis.ADVICE,
    evidence="LoadLegacyJSONPass in src/nnvm/legacy_json_util.cc (v1.2.1) only logs 'May cause undefined behavior'"
        ' for a newer mxnet_version; real failures come from the operators (MXN010).',
)
NEWER_PARAMS = Rule(
    "MXN012", "Parameters MXNet 1.2.1 cannot read", E,
    what="An array in the parameters file uses a format or dtype MXNet 1.2.1 does not know: the NumPy-shape "
    "magic 0xF993FACA of MXNet 1.6+, or a later dtype (bool, int16, bfloat16, ...).",
    why="1.2.1's NDArray::Load reads the unknown magic as a dimension count, or rejects the type flag: the "
    "load fails.",
    fix="Save the parameters with `npx.reset_np()` in effect and cast them to float32/float16, or save "
    "them with MXNet 1.2.1.",
    basis=Basis.SERVICE_FAILS,
    evidence='v1.2.1 NDArray::Load knows the magics 0xF993FAC8/0xF993FAC9 only and the type flags 0-6 '
        '(src/ndarray/ndarray.cc, mshadow base.h); 0xF993FACA appeared in MXNet 1.6.',
)
UNPAIRED = Rule(
    "MXN013", "Symbol and parameters file do not belong together", E,
    what="The `<name>-symbol.json` and `<name>-<epoch>.params` files do not share a name, or one is missing: "
    "`mx.model.load_checkpoint(prefix, epoch)` opens `prefix-symbol.json` and `prefix-%04d.params`.",
    why="The loader looks for the partner by name and fails with 'No such file' when it is not there.",
    fix="Rename the files so they share the prefix (`resnet-50-symbol.json`, `resnet-50-0000.params`).",
    basis=Basis.SERVICE_FAILS,
    evidence="mx.model.load_checkpoint(prefix, epoch) opens '%s-symbol.json' % prefix and '%s-%04d.params' % "
        '(prefix, epoch) (python/mxnet/model.py, v1.2.1).',
)
MISSING_PARAM = Rule(
    "MXN014", "Weight or auxiliary state missing from the parameters", E,
    what="A learned argument (weight, bias, gamma, ...) or auxiliary state (moving mean/var) the graph reads "
    "has no `arg:`/`aux:` array in the parameters file.",
    why="`Module.set_params` fails with '<name> is not presented', or, with allow_missing, the service "
    "runs with uninitialised weights.",
    fix="Save the checkpoint from the module/block that owns this symbol (`mod.save_checkpoint` or "
    "`HybridBlock.export`) so every parameter is written.",
    basis=Basis.SERVICE_FAILS,
    evidence="Module.init_params raises RuntimeError('%s is not presented') for a missing parameter unless "
        'allow_missing (python/mxnet/module/module.py, v1.2.1).',
)
STRAY_PARAM = Rule(
    "MXN015", "Parameter the graph does not use", W,
    what="An array of the parameters file names no variable of the symbol.",
    why="MXNet 1.2.1 loads and binds the pair and ignores the array, but it usually means the symbol and "
    "the parameters come from different networks (or a training head was cut off), and it costs upload size.",
    fix="Save parameters and symbol from the same network, or drop the extra arrays.",
    basis=Basis.ADVICE,
    evidence="Real MXNet 1.2.1 (CPython 3.6): load_checkpoint + Module.bind + set_params of a checkpoint with an "
    "extra 'arg:fc9_weight' succeeds.",
)
BAD_SHAPE = Rule(
    "MXN016", "Parameter shape does not fit the graph", E,
    what="An array's shape disagrees with the operator that reads it (fully connected num_hidden, "
    "convolution num_filter and kernel, batch-norm channels, embedding sizes, a variable's __shape__).",
    why="Binding the module fails with a shape inconsistency error, so the service never starts.",
    fix="Save symbol and parameters from the same trained network.",
    basis=Basis.SERVICE_FAILS,
    evidence='Binding checks every array against the inferred shapes and fails with a shape inconsistency '
        '(src/executor/graph_executor.cc, v1.2.1).',
)
NO_PREFIXES = Rule(
    "MXN017", "Parameters without arg:/aux: prefixes (Gluon format)", E,
    what="The arrays are named without the `arg:`/`aux:` prefixes of a checkpoint, as Gluon's "
    "`save_parameters` writes them.",
    why="`mx.model.load_checkpoint` splits each name at ':' and fails ('not enough values to unpack').",
    fix="Export with `net.hybridize(); net(x); net.export('<name>')`, which writes a checkpoint pair.",
    basis=Basis.SERVICE_FAILS,
    evidence="load_checkpoint does `tp, name = k.split(':', 1)` for every key (python/mxnet/model.py, v1.2.1): a "
        'bare name raises ValueError.',
)
WRONG_PREFIX = Rule(
    "MXN018", "Parameter saved with the wrong prefix", E,
    what="An auxiliary state saved as `arg:` or a learned argument saved as `aux:`, or a prefix that is "
    "neither.",
    why="`load_checkpoint` sorts arrays by prefix: the state then counts as missing and as extra.",
    fix="Save the checkpoint with `mod.save_checkpoint`/`mx.model.save_checkpoint`, which use the right "
    "prefixes.",
    basis=Basis.SERVICE_FAILS,
    evidence="load_checkpoint keeps 'arg' keys as arguments and 'aux' keys as auxiliary states and drops others "
        '(python/mxnet/model.py, v1.2.1); set_params then misses them.',
)
EPOCH = Rule(
    "MXN019", "Epoch the code loads is not the one in the package", E,
    what="The inference code calls `load_checkpoint(prefix, N)` (or names a `-NNNN.params` file) with an "
    "epoch or prefix whose file is not in the package.",
    why="The load fails with 'No such file or directory' when the service starts.",
    fix="Load the epoch whose `.params` file you ship, or ship the file the code names.",
    basis=Basis.SERVICE_FAILS,
    evidence="load_checkpoint opens '%s-%04d.params' % (prefix, epoch) (python/mxnet/model.py, v1.2.1): a file "
        'that is not shipped raises at start-up.',
)
LEFTOVERS = Rule(
    "MXN020", "Data MXNet does not use", W,
    what="Bytes after the last name of the parameters file, or empty (none) arrays in it.",
    why="They waste upload size and show the file was edited by another tool.",
    fix="Save the parameters again with MXNet.",
    basis=Basis.ADVICE,
    evidence='NDArray::Load of a list stops after the names and ignores what follows (src/ndarray/ndarray.cc, v1.2.1).',
)

UNKNOWN_ATTRIBUTE = Rule(
    "MXN021", "Operator attribute MXNet 1.2.1 does not know", E,
    what="A node sets an attribute its operator's parameters do not have in MXNet 1.2.1 (added by a later "
    "release, e.g. Pooling's count_include_pad, or misspelt).",
    why="Loading the symbol runs the operator's parameter parser, which refuses unknown attributes: "
    "\"Cannot find argument 'x', Possible Arguments: ...\"; the service never starts.",
    fix="Remove the attribute (or export the symbol with MXNet 1.2.1); check the operator's arguments in the "
    "1.2.1 documentation.",
    basis=Basis.SERVICE_FAILS,
    evidence="Real MXNet 1.2.1 (CPython 3.6): a Convolution node with 'lr_mult' or an Activation node with an "
    "unknown key fails in mx.sym.load; keys written __like_this__ are ignored. Attribute names per operator: "
    "engines/mxnet/facts.py ATTRIBUTES, derived from the 1.2.1 sources and equal to the real registry's.",
)

RULES: tuple[Rule, ...] = (
    NOT_SYMBOL, NOT_PARAMS, CORRUPT_PARAMS, LIMITS, UNKNOWN_OP, NEWER_SYMBOL, NEWER_PARAMS, UNPAIRED,
    MISSING_PARAM, STRAY_PARAM, BAD_SHAPE, NO_PREFIXES, WRONG_PREFIX, EPOCH, LEFTOVERS, UNKNOWN_ATTRIBUTE,
)

_PARAMS_NAME = re.compile(r"^(?P<prefix>.+)-(?P<epoch>\d{4,})\.params$")


def _version_text(v: int) -> str:
    return f"{v // 10000}.{(v // 100) % 100}.{v % 100}"


def check_file(
    path: str, f: BinaryIO, size: int, max_symbol_bytes: int = 64 << 20
) -> tuple[list[Finding], dict[str, Any]]:
    """Check one MXNet model file (symbol or params, by name); returns findings and JSON-able facts."""
    if path.lower().endswith(SYMBOL_SUFFIX):
        return _check_symbol(path, f, size, max_symbol_bytes)
    return _check_params(path, f, size)


def _check_symbol(path: str, f: BinaryIO, size: int, max_bytes: int) -> tuple[list[Finding], dict[str, Any]]:
    from modeltemplates.engines.mxnet.symbol import SymbolError, SymbolLimits, read_symbol

    if size > max_bytes:
        return [LIMITS.finding(path, f"the symbol file has {size} bytes, more than the {max_bytes} read")], {}
    data = f.read(max_bytes + 1)
    try:
        sym = read_symbol(data, SymbolLimits(max_bytes=max_bytes))
    except SymbolError as exc:
        rule = LIMITS if exc.kind == "limit" else NOT_SYMBOL
        return [rule.finding(path, str(exc), line=exc.line, column=exc.column)], {}
    findings: list[Finding] = []
    missing: dict[str, list[tuple[str, int | None]]] = {}
    for use in sym.ops:
        if use.op not in facts.OPERATORS:
            missing.setdefault(use.op, []).append((use.name, use.line))
    for op, uses in sorted(missing.items()):
        nodes = ", ".join(repr(n) for n, _ in uses[:5]) + (f" and {len(uses) - 5} more" if len(uses) > 5 else "")
        findings.append(UNKNOWN_OP.finding(
            path, f"operator {op!r} (node{'s' if len(uses) > 1 else ''} {nodes}) does not exist in MXNet 1.2.1; "
            f"loading fails with 'Operator {op} is not registered'", line=uses[0][1]))
    findings.extend(_attribute_findings(path, sym))
    if sym.mxnet_version is not None and sym.mxnet_version > facts.MXNET_VERSION:
        findings.append(NEWER_SYMBOL.finding(
            path, f"saved by MXNet {_version_text(sym.mxnet_version)} (mxnet_version {sym.mxnet_version}); "
            f"MXNet 1.2.1 warns 'May cause undefined behavior' when it loads it"))
    return findings, sym.to_dict()


#: Keys 1.2.1 hides from the parser when it upgrades a symbol of an older release (kHiddenKeys in
#: src/c_api/c_api_symbolic.cc, applied by UpgradeJSON_FixParsing in src/nnvm/legacy_json_util.cc).
_HIDDEN_KEYS = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage")


def _attribute_findings(path: str, sym: Any) -> list[Finding]:
    upgraded = sym.mxnet_version is None or sym.mxnet_version < facts.MXNET_VERSION
    unknown: dict[tuple[str, str], list[tuple[str, int | None]]] = {}
    for use in sym.ops:
        known = facts.ATTRIBUTES.get(use.op)
        if known is None:
            continue
        for key in use.attribute_names:
            if key.startswith("__") and key.endswith("__"):
                continue  # kept as a user attribute, never parsed
            if upgraded and any(key.startswith(h) or key.endswith(h) for h in _HIDDEN_KEYS):
                continue
            if key not in known:
                unknown.setdefault((use.op, key), []).append((use.name, use.line))
    out = []
    for (op, key), uses in sorted(unknown.items()):
        nodes = ", ".join(repr(n) for n, _ in uses[:5]) + (f" and {len(uses) - 5} more" if len(uses) > 5 else "")
        out.append(UNKNOWN_ATTRIBUTE.finding(
            path, f"{op} attribute {key!r} (node{'s' if len(uses) > 1 else ''} {nodes}) is not an argument of "
            f"{op} in MXNet 1.2.1 ({', '.join(sorted(facts.ATTRIBUTES[op]))}); loading fails with "
            f"\"Cannot find argument '{key}'\"", line=uses[0][1]))
    return out


def _check_params(path: str, f: BinaryIO, size: int) -> tuple[list[Finding], dict[str, Any]]:
    from modeltemplates.engines.mxnet.params import ParamsError, read_params

    try:
        params = read_params(f, size)
    except ParamsError as exc:
        rule = {"unrecognised": NOT_PARAMS, "limit": LIMITS, "dtype": NEWER_PARAMS}.get(exc.kind, CORRUPT_PARAMS)
        return [rule.finding(path, str(exc))], {}
    findings: list[Finding] = []
    for index, why in params.unreadable:
        name = params.arrays[index].name or f"#{index}"
        findings.append(NEWER_PARAMS.finding(path, f"array {name!r} was {why}; MXNet 1.2.1 cannot read it"))
    if params.trailing_bytes:
        findings.append(LEFTOVERS.finding(path, f"{params.trailing_bytes} bytes after the last array name"))
    empty = [a.name for a in params.arrays if a.dtype == "none"]
    if empty:
        findings.append(LEFTOVERS.finding(path, f"{len(empty)} empty array(s): {', '.join(empty[:5])}"))
    if params.named and params.arrays and all(not a.prefix for a in params.arrays):
        findings.append(NO_PREFIXES.finding(
            path, f"none of the {len(params.arrays)} arrays has an arg:/aux: prefix (e.g. "
            f"{params.arrays[0].name!r}): this is a Gluon save_parameters file, not a checkpoint"))
    elif not params.named and params.arrays:
        findings.append(NO_PREFIXES.finding(path, "the arrays have no names at all; load_checkpoint needs "
                                            "arg:/aux: names"))
    return findings, params.to_dict()


def summarize(path: str, facts_: Mapping[str, Any]) -> dict[str, Any]:
    """What a manifest records of an MXNet model file: counts and names, not every node or array."""
    out: dict[str, Any] = {"path": path, "format": facts_.get("format")}
    if facts_.get("format") == "mxnet-symbol":
        variables = facts_.get("variables", [])
        out.update({
            "mxnet_version": facts_.get("mxnet_version"), "nodes": facts_.get("nodes"), "ops": facts_.get("ops", []),
            "inputs": [v["name"] for v in variables if v.get("role") == "input"],
            "arguments": len([v for v in variables if v.get("role") == "arg"]),
            "auxiliary_states": len([v for v in variables if v.get("role") == "aux"]),
            "heads": facts_.get("heads", []),
        })
    elif facts_.get("format") == "mxnet-params":
        arrays = facts_.get("arrays", [])
        out.update({"arrays": len(arrays), "bytes": facts_.get("bytes"),
                    "dtypes": sorted({a.get("dtype") for a in arrays if a.get("dtype") != "none"})})
    return out


# --------------------------------------------------------------------------------------------
# The pair


_LOAD_CHECKPOINT = re.compile(
    rb"load_checkpoint\s*\(\s*(?P<prefix>[^,()]*?)\s*,\s*(?P<epoch>\d+)\s*[,)]")
_PARAMS_LITERAL = re.compile(rb"""['"](?:[^'"\n]*/)?(?P<name>[^'"/\n]+-\d{4,}\.params)['"]""")
_STRING = re.compile(r"""^[rRuUbB]?(['"])(.*)\1$""")


def _line_of(source: bytes, offset: int) -> int:
    return source.count(b"\n", 0, offset) + 1


def check_pair(
    model_files: tuple[str, ...], model_facts: Mapping[str, Mapping[str, Any]],
    files: frozenset[str], script_path: str | None, script_source: bytes | None,
) -> list[Finding]:
    """Findings about the symbol and params files together (paths are package paths)."""
    findings: list[Finding] = []
    symbols = [p for p in model_files if p.lower().endswith(SYMBOL_SUFFIX)]
    params = [p for p in model_files if p.lower().endswith(PARAMS_SUFFIX)]
    if len(symbols) != 1 or len(params) != 1:
        return findings  # the layout rules report a missing part or several of them
    sym_path, par_path = symbols[0], params[0]
    prefix = sym_path[: -len(SYMBOL_SUFFIX)]
    m = _PARAMS_NAME.match(par_path)
    if m is None:
        findings.append(UNPAIRED.finding(
            par_path, f"'{par_path}' is not named '<prefix>-<epoch>.params' (e.g. '{prefix}-0000.params'); "
            "load_checkpoint cannot find it", hint=f"Rename it to '{prefix}-0000.params' (with its epoch)."))
    elif m.group("prefix") != prefix:
        findings.append(UNPAIRED.finding(
            par_path, f"'{par_path}' has prefix '{m.group('prefix')}' but the symbol is '{sym_path}': "
            f"load_checkpoint('{prefix}', {int(m.group('epoch'))}) looks for "
            f"'{prefix}-{m.group('epoch')}.params'",
            hint=f"Rename one so both share a prefix, e.g. '{prefix}-{m.group('epoch')}.params'."))
    epoch = int(m.group("epoch")) if m is not None else None
    if script_path is not None and script_source is not None:
        findings.extend(_epoch_findings(script_path, script_source, prefix if m else None, epoch, files))
    sym, par = model_facts.get(sym_path), model_facts.get(par_path)
    if sym and par:
        findings.extend(_agreement(sym_path, par_path, sym, par))
    return findings


def _epoch_findings(
    script_path: str, source: bytes, prefix: str | None, epoch: int | None, files: frozenset[str]
) -> Iterator[Finding]:
    for m in _LOAD_CHECKPOINT.finditer(source):
        wanted = int(m.group("epoch"))
        literal = _STRING.match(m.group("prefix").decode("utf-8", "replace").strip())
        named = literal.group(2).rsplit("/", 1)[-1] if literal else None
        if epoch is not None and wanted != epoch and (named is None or named == prefix):
            yield EPOCH.finding(
                script_path, f"the code loads epoch {wanted} (load_checkpoint(..., {wanted})), but the package "
                f"ships epoch {epoch} ('{prefix}-{epoch:04d}.params')", line=_line_of(source, m.start()),
                hint=f"Load epoch {epoch}, or ship '{prefix}-{wanted:04d}.params'.")
        elif named is not None and prefix is not None and named != prefix:
            yield EPOCH.finding(
                script_path, f"the code loads the checkpoint '{named}', but the package's is '{prefix}'",
                line=_line_of(source, m.start()))
    for m in _PARAMS_LITERAL.finditer(source):
        name = m.group("name").decode("utf-8", "replace")
        if name not in files:
            yield EPOCH.finding(script_path, f"the code names '{name}', which is not in the package",
                                line=_line_of(source, m.start()))


def _agreement(
    sym_path: str, par_path: str, sym: Mapping[str, Any], par: Mapping[str, Any]
) -> Iterator[Finding]:
    arrays = [a for a in par.get("arrays", []) if a.get("dtype") != "none"]
    if not arrays or not all(":" in a["name"] for a in arrays):
        return  # MXN017 already says the file is no checkpoint
    stored: dict[tuple[str, str], Mapping[str, Any]] = {}
    for a in arrays:
        kind, _, name = a["name"].partition(":")
        stored[(kind, name)] = a
    variables = {v["name"]: v for v in sym.get("variables", [])}
    for name, var in variables.items():
        role = var["role"]
        if role == "input":
            continue
        other = "aux" if role == "arg" else "arg"
        found = stored.get((role, name))
        if found is None and (other, name) in stored:
            yield WRONG_PREFIX.finding(
                par_path, f"'{name}' is {'an auxiliary state' if role == 'aux' else 'a learned argument'} of the "
                f"graph ({var['consumer']}) but is saved as '{other}:{name}'", line=None)
            continue
        if found is None:
            yield MISSING_PARAM.finding(
                par_path, f"the graph's {'auxiliary state' if role == 'aux' else 'argument'} '{name}' (read by "
                f"{var['consumer']}) has no '{role}:{name}' array; set_params fails with "
                f"'{name} is not presented'", line=None)
            continue
        expected = var.get("expected_shape")
        shape = list(found["shape"])
        if expected is not None and not _fits(shape, expected):
            yield BAD_SHAPE.finding(
                par_path, f"'{role}:{name}' has shape {tuple(shape)} but {var['shape_reason']} needs "
                f"{_shape_text(expected)}", line=None)
    # batch-norm parameters share one shape
    groups: dict[str, list[tuple[str, list[int]]]] = {}
    for name, var in variables.items():
        if var["consumer"].startswith(("BatchNorm:", "BatchNorm_v1:")) and var["role"] != "input":
            found = stored.get((var["role"], name))
            if found is not None:
                groups.setdefault(var["shape_reason"], []).append((name, list(found["shape"])))
    for reason, members in sorted(groups.items()):
        shapes = {tuple(s) for _, s in members}
        if len(shapes) > 1:
            listed = ", ".join(f"{n} {tuple(s)}" for n, s in members)
            yield BAD_SHAPE.finding(par_path, f"{reason}, but the file has {listed}")
    for (kind, name), a in sorted(stored.items()):
        if kind not in ("arg", "aux"):
            yield WRONG_PREFIX.finding(par_path, f"'{a['name']}' has prefix '{kind}', neither 'arg' nor 'aux'; "
                                       "load_checkpoint drops it")
        elif name not in variables:
            yield STRAY_PARAM.finding(
                par_path, f"'{a['name']}' names no variable of '{sym_path}'; MXNet ignores it")
        elif variables[name]["role"] == "input" and kind == "arg":
            continue  # a saved input (e.g. a label) is harmless only if bound; MXNet keeps it as an argument


def _fits(shape: list[int], expected: list[int] | tuple[int, ...]) -> bool:
    if len(shape) != len(expected):
        return False
    return all(e < 0 or e == s for s, e in zip(shape, expected, strict=True))


def _shape_text(expected: list[int] | tuple[int, ...]) -> str:
    return "(" + ", ".join("?" if d < 0 else str(d) for d in expected) + (",)" if len(expected) == 1 else ")")
