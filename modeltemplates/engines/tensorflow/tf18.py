"""TensorFlow 1.8.0 as data: its GraphDef version range and every op it registers, with attributes.

The table ``tf18_ops.json`` beside this module was derived from the published TensorFlow 1.8.0
wheel by ``tools/derive_tf18_facts.py`` (its ``source`` field names the wheel and its sha256):
the ``OpList`` each generated op wrapper carries, ``core/public/version.h``, and the C++-only ops
found in the wheel's shared library. Loaded once, on first use.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

import attrs

__all__ = ["AttrDef", "OpDef", "TensorFlowFacts", "tf18"]


@attrs.frozen
class AttrDef:
    name: str
    type: str
    has_default: bool


@attrs.frozen
class OpDef:
    name: str
    attrs: tuple[AttrDef, ...]
    #: (GraphDef version the op was removed at, explanation) or None.
    deprecation: tuple[int, str] | None = None

    def attr(self, name: str) -> AttrDef | None:
        for a in self.attrs:
            if a.name == name:
                return a
        return None


@attrs.frozen
class TensorFlowFacts:
    version: str
    source: str
    graph_def_version: int
    min_consumer: int
    min_producer: int
    ops: Mapping[str, OpDef]
    #: Ops that only ``tf.contrib`` registers, when the script imports that contrib module.
    contrib_ops: frozenset[str]


@functools.cache
def tf18() -> TensorFlowFacts:
    """The TensorFlow 1.8.0 facts (read from the package data once; safe to call from any thread)."""
    raw = json.loads(resources.files(__package__).joinpath("tf18_ops.json").read_text("utf-8"))
    ops = {
        name: OpDef(
            name,
            tuple(AttrDef(a, t, d is not None) for a, t, d in row["attrs"]),
            (int(row["deprecation"][0]), str(row["deprecation"][1])) if row.get("deprecation") else None,
        )
        for name, row in raw["ops"].items()
    }
    return TensorFlowFacts(
        version=raw["tensorflow_version"],
        source=raw["source"],
        graph_def_version=raw["graph_def_version"],
        min_consumer=raw["graph_def_version_min_consumer"],
        min_producer=raw["graph_def_version_min_producer"],
        ops=MappingProxyType(ops),
        contrib_ops=frozenset(raw["contrib_ops"]),
    )
