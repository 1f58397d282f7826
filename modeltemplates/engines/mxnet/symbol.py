"""The ``<name>-symbol.json`` file MXNet writes with ``Symbol.save``/``tojson``, read as data.

The file is nnvm's graph JSON: ``nodes`` (each ``op``, ``name``, ``attrs`` -- ``attr`` or ``param``
in files of MXNet before 0.9 --, and ``inputs`` as ``[node, output, version]`` entries, two items in
old files), ``arg_nodes`` (indexes of the variable nodes), ``heads`` (the outputs) and the graph
``attrs``, where ``mxnet_version`` is ``["int", 10201]``. A variable is a node whose op is ``"null"``.

The text is read by the project's bounded JSON reader (:mod:`modeltemplates.inspect.jsontext`), so
a broken file gives the line and column where it stops being JSON, and every node keeps its line.
What the graph needs from the params file is worked out here: which variables are learned
arguments or auxiliary states (by the operator and input position that consume them, see
:data:`~modeltemplates.engines.mxnet.facts.AUX_INPUTS`), and the shape an operator's attributes
imply for them where that is cheap to see (fully connected, convolution, batch norm, embedding).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from modeltemplates.engines.mxnet import facts
from modeltemplates.inspect.jsontext import Limits, read_json

__all__ = ["SymbolError", "SymbolFacts", "SymbolLimits", "Variable", "read_symbol"]


class SymbolError(ValueError):
    """The file is not a readable MXNet symbol; ``line``/``column`` point at the cause when known."""

    def __init__(self, message: str, *, kind: str = "malformed", line: int | None = None,
                 column: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.line = line
        self.column = column


@attrs.frozen
class SymbolLimits:
    """Bounds of the reader; real symbols (ResNet-152: ~2,000 nodes, 200 KB) stay far inside."""

    max_bytes: int = 64 << 20
    max_nodes: int = 500_000
    max_depth: int = 64


@attrs.frozen
class Variable:
    """A ``null`` node and what the graph needs of it."""

    name: str
    role: str  # "arg" (learned argument), "aux" (auxiliary state) or "input" (data/label)
    consumer: str  # "op:input_index" of the first node that reads it, "" for a head or unused
    expected_shape: tuple[int, ...] | None
    shape_reason: str
    line: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "role": self.role, "consumer": self.consumer,
            "expected_shape": None if self.expected_shape is None else list(self.expected_shape),
            "shape_reason": self.shape_reason, "line": self.line,
        }


@attrs.frozen
class OpUse:
    """One operator node: its op, name, the line it starts on and its attribute names."""

    op: str
    name: str
    line: int | None
    attribute_names: tuple[str, ...] = ()


@attrs.frozen
class SymbolFacts:
    """What a symbol file says."""

    mxnet_version: int | None
    node_count: int
    ops: tuple[OpUse, ...]
    variables: tuple[Variable, ...]
    heads: tuple[str, ...]
    legacy_keys: bool

    @property
    def op_names(self) -> tuple[str, ...]:
        return tuple(sorted({u.op for u in self.ops}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "mxnet-symbol",
            "mxnet_version": self.mxnet_version,
            "nodes": self.node_count,
            "ops": list(self.op_names),
            "op_nodes": [[u.op, u.name, u.line] for u in self.ops],
            "variables": [v.to_dict() for v in self.variables],
            "heads": list(self.heads),
            "legacy_keys": self.legacy_keys,
        }


#: Input positions that hold learned weights, by operator (FListInputNames in the 1.2.1 sources:
#: src/operator/nn/fully_connected.cc, convolution.cc, deconvolution.cc, batch_norm.cc,
#: src/operator/tensor/indexing_op.cc (Embedding), leaky_relu (prelu gamma), instance_norm,
#: layer_norm, rnn (parameters)). Other variables are graph inputs (data, labels).
_WEIGHT_INPUTS: Mapping[str, tuple[int, ...]] = {
    "FullyConnected": (1, 2), "Convolution": (1, 2), "Convolution_v1": (1, 2), "Deconvolution": (1, 2),
    "BatchNorm": (1, 2, 3, 4), "BatchNorm_v1": (1, 2, 3, 4), "Embedding": (1,), "LeakyReLU": (1,),
    "InstanceNorm": (1, 2), "LayerNorm": (1, 2), "RNN": (1,), "IdentityAttachKLSparseReg": (1,),
    "_contrib_DeformableConvolution": (2, 3), "_contrib_SparseEmbedding": (1,),
}

_TUPLE = re.compile(r"^\s*[\[(]?\s*(-?\d+(?:\s*,\s*-?\d+)*)?\s*,?\s*[\])]?\s*$")


def _int_attr(attrs_: Mapping[str, Any], key: str) -> int | None:
    value = attrs_.get(key)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    return None


def _tuple_attr(attrs_: Mapping[str, Any], key: str) -> tuple[int, ...] | None:
    value = attrs_.get(key)
    if not isinstance(value, str):
        return None
    m = _TUPLE.match(value)
    if m is None or m.group(1) is None:
        return None
    return tuple(int(x) for x in m.group(1).split(","))


def _expected_shape(op: str, attrs_: Mapping[str, Any], index: int) -> tuple[tuple[int, ...] | None, str]:
    """The shape an operator's attributes fix for its input ``index`` (-1 marks a free dimension)."""
    if op == "FullyConnected":
        hidden = _int_attr(attrs_, "num_hidden")
        if hidden is None:
            return None, ""
        if index == 1:
            return (hidden, -1), f"{op} num_hidden={hidden}"
        return (hidden,), f"{op} num_hidden={hidden}"
    if op in ("Convolution", "Convolution_v1", "Deconvolution"):
        filters = _int_attr(attrs_, "num_filter")
        kernel = _tuple_attr(attrs_, "kernel")
        if filters is None:
            return None, ""
        if index == 2:
            return (filters,), f"{op} num_filter={filters}"
        if kernel is None:
            return None, ""
        groups = _int_attr(attrs_, "num_group") or 1
        why = f"{op} num_filter={filters}, kernel={kernel}"
        if op == "Deconvolution":
            return (-1, filters // groups if filters % groups == 0 else -1, *kernel), why
        return (filters, -1, *kernel), why
    if op == "Embedding":
        dims = _int_attr(attrs_, "input_dim"), _int_attr(attrs_, "output_dim")
        if dims[0] is None or dims[1] is None:
            return None, ""
        return (dims[0], dims[1]), f"{op} input_dim={dims[0]}, output_dim={dims[1]}"
    return None, ""


def _line(doc_positions: Any, parts: tuple[Any, ...]) -> int | None:
    found = doc_positions.locate(parts)
    return None if found is None else int(found[0])


def read_symbol(data: bytes, limits: SymbolLimits | None = None) -> SymbolFacts:
    """Read a symbol file's bytes. Raises :class:`SymbolError` for anything MXNet would not load."""
    limits = limits or SymbolLimits()
    if not data.strip():
        raise SymbolError("the file is empty", kind="unrecognised")
    if len(data) > limits.max_bytes:
        raise SymbolError(f"the file has {len(data)} bytes, more than the limit of {limits.max_bytes}",
                          kind="limit")
    doc = read_json(data, Limits(max_bytes=limits.max_bytes, max_depth=limits.max_depth,
                                 max_values=limits.max_nodes * 16))
    if not doc.ok:
        fatal = next((d for d in doc.deviations if d.fatal), None)
        kind = "limit" if fatal is not None and fatal.kind.value in ("too-deep", "too-many-values") else "json"
        message = fatal.message if fatal is not None else "the file is not JSON"
        raise SymbolError(f"not JSON: {message}", kind=kind,
                          line=fatal.line if fatal else None, column=fatal.column if fatal else None)
    root = doc.value
    if not isinstance(root, dict) or not isinstance(root.get("nodes"), list):
        raise SymbolError("JSON, but not an MXNet symbol: no top-level 'nodes' list", kind="unrecognised")
    nodes: list[Any] = root["nodes"]
    if len(nodes) > limits.max_nodes:
        raise SymbolError(f"{len(nodes)} nodes, more than the limit of {limits.max_nodes}", kind="limit")
    pos = doc.positions
    legacy = False
    names: list[str] = []
    ops: list[str] = []
    node_attrs: list[Mapping[str, Any]] = []
    inputs: list[list[int]] = []
    for i, node in enumerate(nodes):
        where = _line(pos, ("nodes", i))
        if not isinstance(node, dict):
            raise SymbolError(f"node {i} is not an object", line=where)
        op, name = node.get("op"), node.get("name")
        if not isinstance(op, str) or not isinstance(name, str):
            raise SymbolError(f"node {i} has no string 'op' and 'name'", line=where)
        found_attrs: Any = {}
        for key in ("attrs", "attr", "param"):
            if key in node:
                legacy = legacy or key != "attrs"
                value = node[key]
                if not isinstance(value, dict):
                    raise SymbolError(f"node {i} ({name}): '{key}' is not an object", line=where)
                found_attrs = {**found_attrs, **value}
        refs: list[int] = []
        raw_inputs = node.get("inputs", [])
        if not isinstance(raw_inputs, list):
            raise SymbolError(f"node {i} ({name}): 'inputs' is not a list", line=where)
        for entry in raw_inputs:
            if (not isinstance(entry, list) or len(entry) not in (2, 3)
                    or not all(isinstance(x, int) and not isinstance(x, bool) for x in entry)):
                raise SymbolError(f"node {i} ({name}): an input is not [node, output(, version)]", line=where)
            if not 0 <= entry[0] < i:
                # nnvm's LoadJSON requires inputs to name earlier nodes; a later one is a cycle or junk.
                raise SymbolError(f"node {i} ({name}) reads node {entry[0]}, which is not an earlier node",
                                  line=where)
            refs.append(entry[0])
        names.append(name)
        ops.append(op)
        node_attrs.append(found_attrs)
        inputs.append(refs)
    heads: list[str] = []
    raw_heads = root.get("heads", [])
    if not isinstance(raw_heads, list):
        raise SymbolError("'heads' is not a list", line=_line(pos, ("heads",)))
    for entry in raw_heads:
        if not isinstance(entry, list) or not entry or not isinstance(entry[0], int) or not 0 <= entry[0] < len(nodes):
            raise SymbolError("a head does not name a node of the graph", line=_line(pos, ("heads",)))
        heads.append(names[entry[0]])
    version = None
    graph_attrs = root.get("attrs")
    if isinstance(graph_attrs, dict) and "mxnet_version" in graph_attrs:
        raw = graph_attrs["mxnet_version"]
        if (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[1], int)
                and not isinstance(raw[1], bool)):
            version = raw[1]
        else:
            raise SymbolError("attribute mxnet_version is not [\"int\", N]",
                              line=_line(pos, ("attrs", "mxnet_version")))

    roles: dict[int, tuple[str, str, tuple[int, ...] | None, str]] = {}
    for i, refs in enumerate(inputs):
        op = ops[i]
        if op == "null":
            continue
        aux = facts.AUX_INPUTS.get(op, ())
        weights = _WEIGHT_INPUTS.get(op, ())
        for index, ref in enumerate(refs):
            if ops[ref] != "null" or ref in roles:
                continue
            if index in aux:
                role = "aux"
            elif index in weights:
                role = "arg"
            else:
                role = "input"
            shape, why = _expected_shape(op, node_attrs[i], index)
            if op in ("BatchNorm", "BatchNorm_v1") and index >= 1:
                why = f"{op} {names[i]}: gamma, beta, moving_mean and moving_var have one shape"
            roles[ref] = (role, f"{op}:{index}", shape, why)
    variables = []
    for i, op in enumerate(ops):
        if op != "null":
            continue
        role, consumer, shape, why = roles.get(i, ("input", "", None, ""))
        declared = _tuple_attr(node_attrs[i], "__shape__")
        if declared is not None and shape is None and role != "input":
            shape, why = declared, "the variable's __shape__ attribute"
        variables.append(Variable(names[i], role, consumer, shape, why, _line(pos, ("nodes", i))))
    op_uses = tuple(OpUse(op, names[i], _line(pos, ("nodes", i)), tuple(sorted(node_attrs[i])))
                    for i, op in enumerate(ops) if op != "null")
    return SymbolFacts(
        mxnet_version=version, node_count=len(nodes), ops=op_uses, variables=tuple(variables),
        heads=tuple(heads), legacy_keys=legacy,
    )


def batchnorm_groups(symbol_facts: Mapping[str, Any]) -> dict[str, list[str]]:
    """Variables that must share one shape, grouped by the batch-norm node reading them."""
    groups: dict[str, list[str]] = {}
    for var in symbol_facts.get("variables", []):
        consumer = var.get("consumer", "")
        if consumer.startswith(("BatchNorm:", "BatchNorm_v1:")) and var.get("shape_reason"):
            groups.setdefault(var["shape_reason"], []).append(var["name"])
    return groups
