"""A Caffe network as facts, from a ``.prototxt`` (text) or a ``.caffemodel`` (binary NetParameter).

Both files are a ``caffe.NetParameter`` (src/caffe/proto/caffe.proto of Caffe 1.0): layers in the
current ``layer`` field (100) or the V1 ``layers`` field (2, upgraded by Caffe 1.0 on load), net
inputs as ``input``/``input_shape``/``input_dim``. From a ``.caffemodel`` only the metadata is read:
layer names, types, bottoms, tops and the shape of every blob; blob data (``data``/``double_data``,
packed floats) is stepped over by the wire reader, so a 500 MB weights file costs its layer count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import attrs

from modeltemplates.engines import protowire as pw
from modeltemplates.engines.caffe import facts
from modeltemplates.engines.caffe.textformat import Message

__all__ = ["CaffemodelError", "Layer", "NetFacts", "net_from_text", "read_caffemodel"]


class CaffemodelError(ValueError):
    def __init__(self, message: str, *, kind: str = "malformed") -> None:
        super().__init__(message)
        self.kind = kind


@attrs.frozen
class Layer:
    """One layer: identity, wiring, the parameters that fix blob shapes, and (weights) blob shapes."""

    name: str
    type: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    line: int | None = None
    v1_type: str = ""
    phase_include: tuple[str, ...] = ()
    phase_exclude: tuple[str, ...] = ()
    #: Parameters that decide blob count and shape: num_output, kernel, bias_term, group, ...
    params: tuple[tuple[str, Any], ...] = ()
    blob_shapes: tuple[tuple[int, ...], ...] = ()
    python_module: str = ""
    input_shapes: tuple[tuple[int, ...], ...] = ()

    def param(self, name: str, default: Any = None) -> Any:
        for key, value in self.params:
            if key == name:
                return value
        return default

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "bottom": list(self.bottoms),
                               "top": list(self.tops)}
        if self.line is not None:
            out["line"] = self.line
        if self.v1_type:
            out["v1_type"] = self.v1_type
        if self.phase_include or self.phase_exclude:
            out["phase"] = {"include": list(self.phase_include), "exclude": list(self.phase_exclude)}
        if self.params:
            out["params"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.params}
        if self.blob_shapes:
            out["blobs"] = [list(s) for s in self.blob_shapes]
        if self.python_module:
            out["python_module"] = self.python_module
        if self.input_shapes:
            out["input_shapes"] = [list(s) for s in self.input_shapes]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Layer:
        phase = d.get("phase", {})
        return cls(
            name=d["name"], type=d["type"], bottoms=tuple(d["bottom"]), tops=tuple(d["top"]), line=d.get("line"),
            v1_type=d.get("v1_type", ""), phase_include=tuple(phase.get("include", ())),
            phase_exclude=tuple(phase.get("exclude", ())),
            params=tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in d.get("params", {}).items()),
            blob_shapes=tuple(tuple(s) for s in d.get("blobs", ())), python_module=d.get("python_module", ""),
            input_shapes=tuple(tuple(s) for s in d.get("input_shapes", ())),
        )


@attrs.frozen
class NetFacts:
    name: str
    source: str  # "prototxt" or "caffemodel"
    inputs: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    layers: tuple[Layer, ...]
    v1: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": f"caffe-{self.source}", "name": self.name, "inputs": list(self.inputs),
            "input_shapes": [list(s) for s in self.input_shapes], "v1_layers": self.v1,
            "layer_count": len(self.layers), "layers": [layer.to_dict() for layer in self.layers],
        }


# --------------------------------------------------------------------------------------------
# from text

#: The parameter message of each layer type whose blobs have shapes worth checking.
_SHAPE_PARAMS = {
    "Convolution": "convolution_param", "Deconvolution": "convolution_param",
    "InnerProduct": "inner_product_param", "Embed": "embed_param", "Scale": "scale_param",
    "Bias": "bias_param", "PReLU": "prelu_param", "BatchNorm": "batch_norm_param",
    "Parameter": "parameter_param",
}


def _shape_params(layer_type: str, msg: Message) -> tuple[tuple[str, Any], ...]:
    sub = msg.get(_SHAPE_PARAMS.get(layer_type, ""))
    if layer_type == "Python":
        return ()
    if not isinstance(sub, Message):
        return ()
    out: list[tuple[str, Any]] = []
    for key in ("num_output", "bias_term", "group", "kernel_h", "kernel_w", "input_dim", "channel_shared",
                "transpose", "axis", "num_axes"):
        if key in sub.fields:
            out.append((key, sub.get(key)))
    if sub.all("kernel_size"):
        out.append(("kernel_size", tuple(sub.all("kernel_size"))))
    shape = sub.get("shape")
    if isinstance(shape, Message):
        out.append(("shape", tuple(shape.all("dim"))))
    return tuple(out)


def _blob_shape(msg: Message) -> tuple[int, ...]:
    return tuple(int(d) for d in msg.all("dim"))


def _phases(rules: list[Any]) -> tuple[str, ...]:
    return tuple(r.get("phase") for r in rules if isinstance(r, Message) and r.get("phase") is not None)


def net_from_text(msg: Message) -> NetFacts:
    """The facts of a parsed text NetParameter."""
    layers: list[Layer] = []
    v1 = bool(msg.all("layers"))
    for i, layer in enumerate(msg.all("layer")):
        ltype = layer.get("type", "")
        line = msg.position("layer", i)[0]
        inputs: tuple[tuple[int, ...], ...] = ()
        input_param = layer.get("input_param")
        if isinstance(input_param, Message):
            inputs = tuple(_blob_shape(s) for s in input_param.all("shape"))
        python = layer.get("python_param")
        layers.append(Layer(
            name=layer.get("name", ""), type=ltype, bottoms=tuple(layer.all("bottom")), tops=tuple(layer.all("top")),
            line=line, phase_include=_phases(layer.all("include")), phase_exclude=_phases(layer.all("exclude")),
            params=_shape_params(ltype, layer), python_module=python.get("module", "") if isinstance(python, Message)
            else "", input_shapes=inputs,
            blob_shapes=tuple(_blob_shape(b.get("shape")) if isinstance(b.get("shape"), Message)
                              else _legacy_shape(b) for b in layer.all("blobs")),
        ))
    for i, layer in enumerate(msg.all("layers")):
        v1_name = layer.get("type", "")
        line = msg.position("layers", i)[0]
        layers.append(Layer(
            name=layer.get("name", ""), type=facts.V1_LAYER_TYPES.get(v1_name, ""), v1_type=v1_name or "NONE",
            bottoms=tuple(layer.all("bottom")), tops=tuple(layer.all("top")), line=line,
            phase_include=_phases(layer.all("include")), phase_exclude=_phases(layer.all("exclude")),
            params=_shape_params(facts.V1_LAYER_TYPES.get(v1_name, ""), layer),
        ))
    shapes = [_blob_shape(s) for s in msg.all("input_shape")]
    dims = msg.all("input_dim")
    if dims and not shapes:
        shapes = [tuple(dims[i:i + 4]) for i in range(0, len(dims), 4)]
    return NetFacts(name=msg.get("name", ""), source="prototxt", inputs=tuple(msg.all("input")),
                    input_shapes=tuple(shapes), layers=tuple(layers), v1=v1)


def _legacy_shape(blob: Message) -> tuple[int, ...]:
    return tuple(int(blob.get(k, 0)) for k in ("num", "channels", "height", "width"))


# --------------------------------------------------------------------------------------------
# from a .caffemodel

_NET = facts.MESSAGES["NetParameter"]
_LAYER = facts.MESSAGES["LayerParameter"]
_V1 = facts.MESSAGES["V1LayerParameter"]
_BLOB = facts.MESSAGES["BlobProto"]
_V1_ENUM = {v: k for k, v in facts.ENUMS["V1LayerParameter.LayerType"].items()}


@attrs.frozen
class CaffemodelLimits:
    max_layers: int = 100_000
    max_blobs_per_layer: int = 64
    max_names: int = 4096
    max_string: int = 4096
    max_dims: int = 32


def _text(r: pw.StreamReader, f: pw.Field, limits: CaffemodelLimits) -> str:
    return r.read(f[3], f[4], limit=limits.max_string).decode("utf-8", "backslashreplace")


def _dims(r: pw.StreamReader, start: int, end: int, limits: CaffemodelLimits) -> tuple[int, ...]:
    dims: list[int] = []
    for number, wt, value, s, e in r.fields(start, end):
        if number != 1:
            continue
        if wt == pw.VARINT:
            dims.append(pw.int64(value))
        elif wt == pw.LEN:
            dims.extend(pw.int64(v) for v in pw.packed_varints(r.read(s, e, limit=16 * limits.max_dims), 0, e - s))
        if len(dims) > limits.max_dims:
            raise pw.WireError(f"a blob shape of more than {limits.max_dims} dimensions", s)
    return tuple(dims)


def _blob(r: pw.StreamReader, start: int, end: int, limits: CaffemodelLimits) -> tuple[tuple[int, ...], int]:
    """A BlobProto's shape and how many values it stores (data or double_data), data skipped."""
    shape: tuple[int, ...] | None = None
    legacy: dict[int, int] = {}
    values = 0
    for number, wt, value, s, e in r.fields(start, end):
        if number == 7 and wt == pw.LEN:
            shape = _dims(r, s, e, limits)
        elif number in (1, 2, 3, 4) and wt == pw.VARINT:
            legacy[number] = pw.int32(value)
        elif number == 5:
            values += (e - s) // 4 if wt == pw.LEN else 1
        elif number == 8:
            values += (e - s) // 8 if wt == pw.LEN else 1
    if shape is None:
        shape = tuple(legacy.get(k, 0) for k in (1, 2, 3, 4)) if legacy else ()
    return shape, values


def _layer(r: pw.StreamReader, start: int, end: int, v1: bool, limits: CaffemodelLimits) -> Layer:
    fields = _V1 if v1 else _LAYER
    num = {name: spec[0] for name, spec in fields.items()}
    name, ltype, v1_type = "", "", ""
    bottoms: list[str] = []
    tops: list[str] = []
    blobs: list[tuple[int, ...]] = []
    for number, wt, value, s, e in r.fields(start, end):
        if number == num["name"] and wt == pw.LEN:
            name = r.read(s, e, limit=limits.max_string).decode("utf-8", "backslashreplace")
        elif number == num["type"]:
            if v1 and wt == pw.VARINT:
                v1_type = _V1_ENUM.get(value, f"#{value}")
                ltype = facts.V1_LAYER_TYPES.get(v1_type, "")
            elif not v1 and wt == pw.LEN:
                ltype = r.read(s, e, limit=limits.max_string).decode("utf-8", "backslashreplace")
        elif number == num["bottom"] and wt == pw.LEN:
            bottoms.append(r.read(s, e, limit=limits.max_string).decode("utf-8", "backslashreplace"))
        elif number == num["top"] and wt == pw.LEN:
            tops.append(r.read(s, e, limit=limits.max_string).decode("utf-8", "backslashreplace"))
        elif number == num["blobs"] and wt == pw.LEN:
            if len(blobs) >= limits.max_blobs_per_layer:
                raise pw.WireError(f"layer {name!r} has more than {limits.max_blobs_per_layer} blobs", s)
            shape, stored = _blob(r, s, e, limits)
            expected = 1
            for d in shape:
                expected *= d
            if shape and stored != expected:
                raise CaffemodelError(f"layer {name!r} blob {len(blobs)}: shape {shape} needs {expected} values, "
                                      f"the blob stores {stored} (Blob::FromProto fails)")
            blobs.append(shape)
        if len(bottoms) + len(tops) > limits.max_names:
            raise pw.WireError(f"layer {name!r} has more than {limits.max_names} bottoms and tops", s)
    return Layer(name=name, type=ltype, v1_type=v1_type if v1 else "", bottoms=tuple(bottoms), tops=tuple(tops),
                 blob_shapes=tuple(blobs))


def _iter_layers(r: pw.StreamReader, limits: CaffemodelLimits) -> Iterator[tuple[str, int, int, int]]:
    count = 0
    for number, wt, _value, s, e in r.fields(0, r.size):
        if number in (_NET["layer"][0], _NET["layers"][0]):
            if wt != pw.LEN:
                raise pw.WireError(f"field {number} should be a message", s)
            count += 1
            if count > limits.max_layers:
                raise CaffemodelError(f"more than {limits.max_layers} layers", kind="limit")
            yield ("layers" if number == _NET["layers"][0] else "layer"), number, s, e
        elif number == _NET["name"][0]:
            yield "name", number, s, e


def read_caffemodel(f: BinaryIO, size: int, limits: CaffemodelLimits | None = None) -> NetFacts:
    """Read a binary NetParameter's metadata, seeking over blob data. Raises :class:`CaffemodelError`."""
    limits = limits or CaffemodelLimits()
    if size == 0:
        raise CaffemodelError("the file is empty", kind="unrecognised")
    r = pw.StreamReader(f, size)
    layers: list[Layer] = []
    name = ""
    v1 = False
    try:
        for kind, _number, s, e in _iter_layers(r, limits):
            if kind == "name":
                name = r.read(s, e, limit=limits.max_string).decode("utf-8", "backslashreplace")
            else:
                v1 = v1 or kind == "layers"
                layers.append(_layer(r, s, e, kind == "layers", limits))
    except pw.WireError as exc:
        kind = "unrecognised" if not layers and exc.offset < 64 else "malformed"
        raise CaffemodelError(f"not a valid NetParameter: {exc}", kind=kind) from None
    if not layers:
        raise CaffemodelError("a protobuf message without any layer: not a Caffe weights file",
                              kind="unrecognised")
    return NetFacts(name=name, source="caffemodel", inputs=(), input_shapes=(), layers=tuple(layers), v1=v1)
