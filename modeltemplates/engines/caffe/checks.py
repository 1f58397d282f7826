"""Caffe model-file rules: will Caffe 1.0 build this network and copy these weights into it?

Per file: :func:`check_file` reads a ``.prototxt`` against Caffe 1.0's schema (syntax and schema
errors with line and column) or a ``.caffemodel``'s metadata. Together: :func:`check_net` picks the
deployment network among the package's prototxt files and checks it the way ``caffe.Net(prototxt,
caffemodel, caffe.TEST)`` would build it -- layer types, bottoms produced before use, input shapes,
``Python`` layers' modules -- and then ``Net::CopyTrainedLayersFrom``: every layer with parameters
finds a weights layer of its name with as many blobs of the shapes its parameters imply.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from modeltemplates.engines.caffe import facts
from modeltemplates.findings import Basis, Finding, Rule, Severity

__all__ = ["RULES", "check_file", "check_net", "looks_like_caffe"]

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

BAD_TEXT = Rule(
    "CAF001", "Network definition is not valid protobuf text", E,
    what="The `.prototxt` does not parse as protobuf text format (the finding gives line and column).",
    why="Caffe reads it with protobuf's TextFormat parser (ReadProtoFromTextFile); any error stops the "
    "net from being built.",
    fix="Fix the text at the position given: braces, colons, quotes.",
    basis=Basis.SERVICE_FAILS,
    evidence="ReadNetParamsFromTextFileOrDie (src/caffe/util/upgrade_proto.cpp, Caffe 1.0) aborts with "
    "'Failed to parse NetParameter file' on any text-format parse error.",
)
BAD_FIELD = Rule(
    "CAF002", "Field or value Caffe 1.0 does not know", E,
    what="A field name, enum value or value kind that caffe.proto of Caffe 1.0 does not have (a field of a "
    "newer Caffe or of a fork such as SSD's, a misspelt enum, a string where a number belongs).",
    why="protobuf's text parser rejects the file ('Message type \"caffe.LayerParameter\" has no field named "
    "...'), so the net is never built.",
    fix="Use only the fields of Caffe 1.0's caffe.proto, or a custom image with the Caffe fork that has them.",
    basis=Basis.SERVICE_FAILS,
    evidence="protobuf TextFormat reports unknown fields and enum values as errors; caffe.proto of BVLC/caffe "
    "tag 1.0 is the schema (engines/caffe/facts.py).",
)
BAD_WEIGHTS = Rule(
    "CAF003", "Not a readable Caffe weights file", E,
    what="The `.caffemodel` is empty, is not a protobuf NetParameter, is truncated, or a blob stores fewer or "
    "more values than its shape.",
    why="Caffe's ReadProtoFromBinaryFile or Blob::FromProto fails, so the weights are never copied.",
    fix="Copy the file again (compare checksums), or save it again with `net.save(...)`.",
    basis=Basis.SERVICE_FAILS,
    evidence="CopyTrainedLayersFromBinaryProto reads with ReadProtoFromBinaryFileOrDie and Blob::FromProto "
    "checks count_ == data_size (src/caffe/net.cpp, blob.cpp, Caffe 1.0).",
)
LIMITS = Rule(
    "CAF004", "Caffe model file not checked: beyond this tool's limits", W,
    what="The file is larger, deeper or has more layers, blobs or values than this checker reads.",
    why="Real networks stay far inside these bounds; past them this tool stops reading.",
    fix="Check the file is a genuine network; raise the limits if it is.",
    basis=Basis.NOT_CHECKED,
    evidence="A limit of this tool's readers (textformat.TextLimits, net.CaffemodelLimits), not of Caffe.",
)
WHICH_NET = Rule(
    "CAF005", "Which prototxt is the deployment network?", W,
    what="Several `.prototxt` files define networks and none is named `deploy.prototxt`, so the one the "
    "service loads cannot be told.",
    why="The template page names `deploy.prototxt`; a training network (with Data layers) fails at deploy "
    "time.",
    fix="Name the deployment network `deploy.prototxt`, or remove the other networks from the package.",
    basis=Basis.ADVICE,
    evidence="Caffe template pages (modelarts_23_0167..0170): 'deploy.prototxt (Mandatory) Caffe model file, "
    "which contains information such as the model network structure'.",
)
UNKNOWN_LAYER = Rule(
    "CAF010", "Layer type Caffe 1.0 does not have", E,
    what="A layer's type is not registered in Caffe 1.0 (types of forks such as SSD's PriorBox, Normalize or "
    "Permute, newer layers, or a V1 type 1.0 no longer upgrades).",
    why="LayerRegistry::CreateLayer aborts with 'Unknown layer type' when the net is built.",
    fix="Replace the layer with Caffe 1.0 layers, or use a custom image with the Caffe build that has it.",
    basis=Basis.SERVICE_FAILS,
    evidence="The 58 REGISTER_LAYER_CLASS/CREATOR types of BVLC/caffe tag 1.0 (engines/caffe/facts.py); "
    "layer_factory.hpp CHECKs the type is registered.",
)
PYTHON_MODULE = Rule(
    "CAF011", "Python layer whose module is not in the package", E,
    what="A layer of type `Python` names a `python_param.module` that no file or package of the model "
    "folder provides.",
    why="PythonLayer imports the module when the net is built; the import fails.",
    fix="Put the module (`<module>.py`) next to customize_service.py.",
    basis=Basis.SERVICE_FAILS,
    evidence="GetPythonLayer in src/caffe/layer_factory.cpp (Caffe 1.0) does bp::import(module).",
)
UNKNOWN_BOTTOM = Rule(
    "CAF012", "Bottom blob no earlier layer produces", E,
    what="A layer reads a bottom blob that is neither a net input nor the top of an earlier layer (a typo, "
    "a layer out of order, or a cycle of bottoms and tops).",
    why="Net::AppendBottom aborts with \"Unknown bottom blob '<name>' (layer '<layer>', bottom index N)\".",
    fix="Produce the blob in an earlier layer, fix its name, or order the layers so tops come before use.",
    basis=Basis.SERVICE_FAILS,
    evidence="Net::AppendBottom in src/caffe/net.cpp (Caffe 1.0) checks available_blobs before use.",
)
NO_INPUT = Rule(
    "CAF013", "Deployment network without input shapes", E,
    what="The deployment network has no `Input` layer with a shape and no `input` with `input_shape` / "
    "`input_dim`, or it reads data through Data/ImageData/HDF5Data layers (a training network).",
    why="The service feeds requests into the net's input blobs; without shapes they cannot be made, and "
    "data layers open training databases that are not there.",
    fix="Write a deploy network: replace the data layers with `layer { name: \"data\" type: \"Input\" "
    "top: \"data\" input_param { shape: { dim: 1 dim: 3 dim: 224 dim: 224 } } }`.",
    basis=Basis.SERVICE_FAILS,
    evidence="The platform's Caffe example (examples_of_custom_scripts/caffe.rst) rewrites the training "
    "prototxt into a deploy prototxt with an Input layer; DataLayer opens its LMDB source at set-up.",
)
NO_WEIGHTS = Rule(
    "CAF014", "Layer with parameters has no weights", E,
    what="A layer that has learnable blobs (Convolution, InnerProduct, BatchNorm, Scale, ...) has no layer of "
    "the same name in the `.caffemodel`.",
    why="CopyTrainedLayersFrom copies by layer name; an unmatched layer keeps its filler's values, so the "
    "service answers with an untrained layer.",
    fix="Use the weights trained for this network, or rename the layer to its name in the weights.",
    basis=Basis.SERVICE_FAILS,
    evidence="Net::CopyTrainedLayersFrom (src/caffe/net.cpp, Caffe 1.0) matches source and target layers by "
    "name and leaves others as initialised.",
)
BAD_BLOBS = Rule(
    "CAF015", "Weights do not fit the layer", E,
    what="The weights layer of that name has another number of blobs, or a blob shape that disagrees with "
    "the layer's parameters (num_output, kernel, bias_term, group, ...).",
    why="CopyTrainedLayersFrom aborts with 'Incompatible number of blobs for layer' or 'Cannot copy param "
    "N weights from layer ...; shape mismatch'.",
    fix="Save prototxt and weights from the same network, or fix the layer's parameters.",
    basis=Basis.SERVICE_FAILS,
    evidence="Net::CopyTrainedLayersFrom (src/caffe/net.cpp, Caffe 1.0) CHECKs blob count and "
    "Blob::ShapeEquals for every blob.",
)
V1_FORMAT = Rule(
    "CAF016", "Network in the old V1 `layers` format", INFO,
    what="The file uses the V1 `layers` field (enum layer types) that Caffe 1.0 upgrades when it loads it.",
    why="Caffe 1.0 still reads it (UpgradeV1Net) but logs a warning; tools written for the current format "
    "may not.",
    fix="Upgrade with Caffe's `upgrade_net_proto_text` / `upgrade_net_proto_binary` tools.",
    basis=Basis.ADVICE,
    evidence="NetNeedsV1ToV2Upgrade/UpgradeV1Net in src/caffe/util/upgrade_proto.cpp (Caffe 1.0).",
)
UNUSED_WEIGHTS = Rule(
    "CAF017", "Weights for layers the network does not have", INFO,
    what="Layers of the `.caffemodel` whose names no layer of the deployment network has.",
    why="Caffe ignores them ('Ignoring source layer ...'); they only cost upload size (often the "
    "training-only loss and data layers).",
    fix="Nothing to do, or save the weights from the deploy network to make the file smaller.",
    basis=Basis.ADVICE,
    evidence="Net::CopyTrainedLayersFrom logs 'Ignoring source layer' and continues (src/caffe/net.cpp).",
)

RULES: tuple[Rule, ...] = (
    BAD_TEXT, BAD_FIELD, BAD_WEIGHTS, LIMITS, WHICH_NET, UNKNOWN_LAYER, PYTHON_MODULE, UNKNOWN_BOTTOM, NO_INPUT,
    NO_WEIGHTS, BAD_BLOBS, V1_FORMAT, UNUSED_WEIGHTS,
)

_DATA_LAYERS = frozenset({"Data", "ImageData", "HDF5Data", "WindowData"})


def check_file(path: str, f: BinaryIO, size: int, max_text_bytes: int = 64 << 20
               ) -> tuple[list[Finding], dict[str, Any]]:
    """Check one Caffe model file (by suffix); returns findings and JSON-able facts."""
    if path.lower().endswith(".prototxt"):
        return _check_text(path, f, size, max_text_bytes)
    return _check_weights(path, f, size)


def _check_text(path: str, f: BinaryIO, size: int, max_bytes: int) -> tuple[list[Finding], dict[str, Any]]:
    from modeltemplates.engines.caffe.net import net_from_text
    from modeltemplates.engines.caffe.textformat import TextFormatError, TextLimits, parse_text

    if size > max_bytes:
        return [LIMITS.finding(path, f"the file has {size} bytes, more than the {max_bytes} read")], {}
    data = f.read(max_bytes + 1)
    try:
        msg = parse_text(data, "NetParameter", TextLimits(max_bytes=max_bytes))
    except TextFormatError as exc:
        if exc.kind == "schema" and _is_solver(data, max_bytes):
            return [], {"format": "caffe-solver"}
        rule = {"schema": BAD_FIELD, "limit": LIMITS}.get(exc.kind, BAD_TEXT)
        return [rule.finding(path, f"Error parsing text-format caffe.NetParameter: {exc.message}",
                             line=exc.line, column=exc.column)], {}
    net = net_from_text(msg)
    findings: list[Finding] = []
    if net.v1:
        findings.append(V1_FORMAT.finding(path, "the network uses the V1 `layers` field; Caffe 1.0 upgrades it"))
    return findings, net.to_dict()


def _is_solver(data: bytes, max_bytes: int) -> bool:
    from modeltemplates.engines.caffe.textformat import TextFormatError, TextLimits, parse_text

    try:
        parse_text(data, "SolverParameter", TextLimits(max_bytes=max_bytes))
    except TextFormatError:
        return False
    return True


def _check_weights(path: str, f: BinaryIO, size: int) -> tuple[list[Finding], dict[str, Any]]:
    from modeltemplates.engines.caffe.net import CaffemodelError, read_caffemodel

    try:
        net = read_caffemodel(f, size)
    except CaffemodelError as exc:
        rule = LIMITS if exc.kind == "limit" else BAD_WEIGHTS
        return [rule.finding(path, str(exc))], {}
    findings: list[Finding] = []
    if net.v1:
        findings.append(V1_FORMAT.finding(path, "the weights use the V1 `layers` field; Caffe 1.0 upgrades them"))
    return findings, net.to_dict()


def looks_like_caffe(name: str, head: bytes) -> bool | None:
    """Whether a file's first bytes look like Caffe's (``None``: empty, cannot tell).

    A ``.prototxt`` starts (after comments) with a field of NetParameter or SolverParameter; a
    ``.caffemodel`` with the tag of NetParameter's ``name`` (1), ``layers`` (2) or ``layer`` (100).
    """
    if not head:
        return None
    if name.lower().endswith(".prototxt"):
        import re

        text = head.decode("utf-8", "replace")
        m = re.match(r"(?:\s|#[^\n]*\n)*([A-Za-z_]\w*)", text)
        known = {*facts.MESSAGES["NetParameter"], *facts.MESSAGES["SolverParameter"]}
        return m is not None and m.group(1) in known
    return head[:1] in (b"\x0a", b"\x12") or head[:2] == b"\xa2\x06"


def summarize(path: str, facts_: Mapping[str, Any]) -> dict[str, Any]:
    """What a manifest records of a Caffe model file: counts and layer types, not every layer."""
    out: dict[str, Any] = {"path": path, "format": facts_.get("format")}
    layers = facts_.get("layers", [])
    if layers or facts_.get("format") in ("caffe-prototxt", "caffe-caffemodel"):
        out.update({
            "name": facts_.get("name", ""), "layers": len(layers),
            "layer_types": sorted({layer.get("type") or layer.get("v1_type", "") for layer in layers}),
            "v1_layers": facts_.get("v1_layers", False),
        })
    if facts_.get("format") == "caffe-prototxt":
        inputs = [{"name": la["name"], "shape": la["input_shapes"][0]} for la in layers
                  if la.get("type") == "Input" and la.get("input_shapes")]
        inputs += [{"name": n, "shape": s} for n, s in zip(facts_.get("inputs", []),
                                                            facts_.get("input_shapes", []), strict=False)]
        out["inputs"] = inputs
    elif facts_.get("format") == "caffe-caffemodel":
        out["blobs"] = sum(len(la.get("blobs", [])) for la in layers)
    return out


# --------------------------------------------------------------------------------------------
# The network together with its weights


def _active_in_test(layer: Mapping[str, Any]) -> bool:
    phase = layer.get("phase", {})
    include, exclude = phase.get("include", []), phase.get("exclude", [])
    if "TEST" in exclude:
        return False
    return not include or "TEST" in include


def _pick_deploy(nets: dict[str, Mapping[str, Any]]) -> tuple[str | None, list[Finding]]:
    if not nets:
        return None, []
    named = [p for p in nets if p.rsplit("/", 1)[-1] == "deploy.prototxt"]
    if named:
        return named[0], []
    deploy_like = [p for p, n in sorted(nets.items())
                   if not any(layer["type"] in _DATA_LAYERS for layer in n.get("layers", []))]
    candidates = deploy_like or sorted(nets)
    chosen = candidates[0]
    if len(nets) > 1:
        others = ", ".join(f"'{p}'" for p in sorted(nets) if p != chosen)
        return chosen, [WHICH_NET.finding(
            chosen, f"{len(nets)} network definitions and no deploy.prototxt; '{chosen}' is taken as the "
            f"deployment network ({others} {'is' if len(nets) == 2 else 'are'} ignored)")]
    return chosen, []


def check_net(
    model_files: tuple[str, ...], model_facts: Mapping[str, Mapping[str, Any]], package_modules: frozenset[str]
) -> list[Finding]:
    """Findings about the deployment network and the weights together."""
    nets = {p: model_facts[p] for p in model_files
            if p.lower().endswith(".prototxt") and model_facts.get(p, {}).get("format") == "caffe-prototxt"}
    weights = [p for p in model_files if p.lower().endswith(".caffemodel")]
    deploy, findings = _pick_deploy(nets)
    if deploy is None:
        return findings
    net = nets[deploy]
    layers = [layer for layer in net.get("layers", []) if _active_in_test(layer)]
    findings.extend(_network_findings(deploy, net, layers, package_modules))
    if len(weights) == 1 and model_facts.get(weights[0]):
        findings.extend(_weights_findings(deploy, weights[0], layers, model_facts[weights[0]]))
    return findings


def _network_findings(
    path: str, net: Mapping[str, Any], layers: list[Mapping[str, Any]], package_modules: frozenset[str]
) -> Iterator[Finding]:
    available = set(net.get("inputs", []))
    has_input_shape = bool(net.get("inputs")) and bool(net.get("input_shapes"))
    data_layers = []
    for layer in layers:
        ltype, name, line = layer["type"], layer["name"], layer.get("line")
        if layer.get("v1_type") and not ltype:
            yield UNKNOWN_LAYER.finding(
                path, f"layer '{name}' has V1 type {layer['v1_type']}, which Caffe 1.0 no longer upgrades",
                line=line)
        elif ltype not in facts.LAYER_TYPES and ltype not in facts.PYTHON_LAYER_TYPES:
            yield UNKNOWN_LAYER.finding(
                path, f"layer '{name}' has type '{ltype}', which Caffe 1.0 does not register: 'Unknown layer "
                f"type: {ltype}'", line=line)
        if ltype == "Python":
            module = layer.get("python_module", "")
            top = module.split(".")[0]
            if not module or top not in package_modules:
                yield PYTHON_MODULE.finding(
                    path, f"Python layer '{name}' imports module '{module}', which the package does not provide",
                    line=line, hint=f"Add '{top or '<module>'}.py' to the package folder.")
        if ltype in _DATA_LAYERS:
            data_layers.append(name)
        if ltype == "Input" and layer.get("input_shapes"):
            has_input_shape = True
        for index, bottom in enumerate(layer.get("bottom", [])):
            if bottom not in available:
                yield UNKNOWN_BOTTOM.finding(
                    path, f"Unknown bottom blob '{bottom}' (layer '{name}', bottom index {index}): no earlier "
                    "layer's top and no net input has that name", line=line)
        available.update(layer.get("top", []))
    if data_layers:
        yield NO_INPUT.finding(
            path, f"the network reads data through {', '.join(repr(n) for n in data_layers)} "
            "(a training network); the deployment network needs Input layers")
    elif not has_input_shape:
        yield NO_INPUT.finding(path, "the network declares no input shape (no Input layer with input_param "
                               "shape, no input with input_shape/input_dim)")


def _expected_blobs(layer: Mapping[str, Any]) -> tuple[int, list[tuple[int, ...] | None]] | None:
    """How many blobs a layer owns and the shapes its parameters imply (-1: any size; None: unknown)."""
    ltype = layer["type"]
    p = layer.get("params", {})
    bottoms = len(layer.get("bottom", []))
    num = p.get("num_output")
    bias = p.get("bias_term", True)
    if ltype in ("Convolution", "Deconvolution"):
        ks = list(p.get("kernel_size", []))
        kernel: list[int] | None
        if "kernel_h" in p and "kernel_w" in p:
            kernel = [p["kernel_h"], p["kernel_w"]]
        elif len(ks) == 1:
            kernel = [ks[0], ks[0]]
        elif ks:
            kernel = ks
        else:
            kernel = None
        group = p.get("group", 1) or 1
        weight: tuple[int, ...] | None = None
        if num is not None and kernel is not None:
            weight = (num, -1, *kernel) if ltype == "Convolution" else (
                -1, num // group if num % group == 0 else -1, *kernel)
        return 1 + bool(bias), [weight, (num,) if num is not None else None]
    if ltype == "InnerProduct":
        weight = None if num is None else ((-1, num) if p.get("transpose", False) else (num, -1))
        return 1 + bool(bias), [weight, (num,) if num is not None else None]
    if ltype == "Embed":
        dim = p.get("input_dim")
        return 1 + bool(bias), [(dim, num) if dim is not None and num is not None else None,
                                (num,) if num is not None else None]
    if ltype == "BatchNorm":
        return 3, [(-1,), (-1,), (1,)]
    if ltype == "Scale":
        return (1 if bottoms == 1 else 0) + bool(p.get("bias_term", False)), []
    if ltype == "Bias":
        return (1 if bottoms == 1 else 0), []
    if ltype == "PReLU":
        return 1, [(1,) if p.get("channel_shared", False) else (-1,)]
    if ltype == "Parameter":
        shape = p.get("shape")
        return 1, [tuple(shape) if shape is not None else None]
    if ltype == "LSTM":
        return 3, []
    if ltype == "RNN":
        return 5, []
    return None


def _fits(actual: list[int], expected: tuple[int, ...]) -> bool:
    if len(actual) == 4 and len(expected) < 4:  # a legacy num/channels/height/width blob
        expected = (1,) * (4 - len(expected)) + expected
    return len(actual) == len(expected) and all(e < 0 or a == e for a, e in zip(actual, expected, strict=True))


def _shape_text(shape: tuple[int, ...] | list[int]) -> str:
    return " ".join("?" if d < 0 else str(d) for d in shape)


def _weights_findings(
    deploy: str, weights_path: str, layers: list[Mapping[str, Any]], weights: Mapping[str, Any]
) -> Iterator[Finding]:
    by_name: dict[str, Mapping[str, Any]] = {}
    for layer in weights.get("layers", []):
        by_name.setdefault(layer["name"], layer)
    used = set()
    for layer in layers:
        name = layer["name"]
        expected = _expected_blobs(layer)
        source = by_name.get(name)
        if source is not None:
            used.add(name)
        if expected is None or expected[0] == 0:
            continue
        count, shapes = expected
        if source is None:
            yield NO_WEIGHTS.finding(
                deploy, f"layer '{name}' ({layer['type']}) has {count} learnable blob(s) but '{weights_path}' has "
                "no layer of that name: it keeps its initial values", line=layer.get("line"))
            continue
        blobs = source.get("blobs", [])
        if len(blobs) != count:
            yield BAD_BLOBS.finding(
                weights_path, f"Incompatible number of blobs for layer {name}: the network's {layer['type']} has "
                f"{count}, the weights have {len(blobs)}")
            continue
        for index, (actual, want) in enumerate(zip(blobs, shapes, strict=False)):
            if want is not None and not _fits(actual, want):
                yield BAD_BLOBS.finding(
                    weights_path, f"Cannot copy param {index} weights from layer '{name}'; shape mismatch. "
                    f"Source param shape is {_shape_text(actual)}; the network's parameters need "
                    f"{_shape_text(want)}")
    unused = [n for n in by_name if n not in used and by_name[n].get("blobs")]
    if unused:
        listed = ", ".join(repr(n) for n in unused[:5]) + (f" and {len(unused) - 5} more" if len(unused) > 5 else "")
        yield UNUSED_WEIGHTS.finding(weights_path, f"weights of {len(unused)} layer(s) the deployment network "
                                     f"does not have: {listed}; Caffe ignores them")
