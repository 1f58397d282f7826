"""Will TensorFlow 1.8 load this SavedModel? The TensorFlow model-file rules (TFM001-TFM039).

Each check follows what ``tf.saved_model.loader.load(sess, ["serve"], model_dir)`` does in
TensorFlow 1.8 (``saved_model/loader_impl.py``, ``framework/importer.py``, ``core/framework/
versions.cc``, ``node_def_util.cc``, ``util/tensor_bundle``): find ``saved_model.pb``, pick the meta
graph tagged ``serve``, check the GraphDef versions, strip attributes the producer's op list says
are defaults, look every op up, validate every node's attributes against its op, then restore the
variables from ``variables/variables`` through the saver. The messages TensorFlow 1.8 itself gives
(recorded in ``tests/data/tensorflow/labels.json``) are in :mod:`modeltemplates.platform`.

Nothing is imported from TensorFlow; the 1.8 facts come from :mod:`.tf18`.
"""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO, Protocol

import attrs

from modeltemplates.engines import protowire as pw
from modeltemplates.engines.tensorflow import bundle as bd
from modeltemplates.engines.tensorflow import savedmodel as sm
from modeltemplates.engines.tensorflow.tf18 import TensorFlowFacts, tf18
from modeltemplates.findings import Basis, Finding, Rule, Severity

__all__ = ["RULES", "PackageFiles", "SavedModelCheck", "TensorFlowLimits", "check_package", "check_saved_model"]

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
SAVED_MODEL_PB = "saved_model.pb"
SERVE = "serve"
_EXPORT_HINT = (
    "Export a SavedModel: in TensorFlow 1.x `tf.saved_model.builder.SavedModelBuilder(path)` + "
    "`add_meta_graph_and_variables(sess, [tf.saved_model.tag_constants.SERVING], signature_def_map=...)`, "
    "or `tf.saved_model.simple_save(sess, path, inputs, outputs)`; then upload `saved_model.pb` and "
    "`variables/` at the top of `model/`."
)

NOT_SAVED_MODEL = Rule(
    "TFM001", "Frozen graph instead of a SavedModel", E,
    what="The `.pb` file is a bare GraphDef (a frozen graph, e.g. `frozen_inference_graph.pb`), not a SavedModel.",
    why="The TensorFlow templates load the model with `tf.saved_model.loader.load(sess, ['serve'], model_dir)`, "
    "which reads only `saved_model.pb` holding a MetaGraphDef tagged 'serve' with signatures; a GraphDef has "
    "neither.",
    fix=_EXPORT_HINT + " A frozen graph can be wrapped: import it with `tf.import_graph_def` in a new graph and "
    "save that graph with SavedModelBuilder.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 on a frozen graph: 'SavedModel file does not exist' (another name) or 'MetaGraphDef"
        " associated with tags 'serve' could not be found' (named saved_model.pb) "
        '(tests/data/tensorflow/labels.json: tf18_frozen, variants/graphdef_named_saved).'
    ),
)
OTHER_FORMAT = Rule(
    "TFM002", "Keras, TFLite or checkpoint files instead of a SavedModel", E,
    what="The package holds a Keras `.h5`/`.keras` file, a TFLite flatbuffer, or a TensorFlow checkpoint "
    "(`*.index` + `*.data-*` without any graph), but no SavedModel.",
    why="The TensorFlow templates read only a SavedModel (`saved_model.pb` plus `variables/`); TensorFlow 1.8 "
    "cannot serve the other formats at all.",
    fix="Load the model in the framework that wrote it and export a SavedModel: Keras in TF 1.x "
    "`tf.contrib.saved_model.save_keras_model` or SavedModelBuilder on `K.get_session()`; a checkpoint by "
    "restoring it into its graph and saving with SavedModelBuilder.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 on Keras .h5/.keras, TFLite and TF2 checkpoint folders: 'SavedModel file does not "
        "exist' (tests/data/tensorflow/labels.json)."
    ),
)
MISNAMED = Rule(
    "TFM003", "SavedModel not named saved_model.pb", E,
    what="A `.pb` file holds a SavedModel but is not called `saved_model.pb`.",
    why="The loader looks for exactly `saved_model.pb` (or `saved_model.pbtxt`) in the model folder.",
    fix="Rename the file to `saved_model.pb`.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        'TensorFlow 1.8 saved_model/loader_impl.py reads only saved_model.pb or saved_model.pbtxt '
        "('SavedModel file does not exist at: <model>/{saved_model.pbtxt|saved_model.pb}')."
    ),
)
MALFORMED = Rule(
    "TFM004", "Malformed saved_model.pb", E,
    what="`saved_model.pb` is empty, truncated or not a protobuf message at all.",
    why="TensorFlow cannot parse it: the service fails when it loads the model.",
    fix="Export the SavedModel again and check the upload was complete (compare checksums).",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 on damaged files: 'Cannot parse file ... Error parsing message' "
        '(tests/data/tensorflow/labels.json: variants/noise; variants/truncated fails on a half-read node).'
    ),
)
TOO_BIG = Rule(
    "TFM005", "saved_model.pb exceeds inspection limits", E,
    what="The file is larger, deeper nested or has more nodes, functions or signatures than the checker reads.",
    why="protobuf refuses messages above 2 GB and nested deeper than 100; real SavedModels stay far below the "
    "bounds, files that do not are built to exhaust whoever reads them.",
    fix="Keep weights in `variables/` instead of constants in the graph; raise the limits in the settings if "
    "the file is genuine.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "protobuf's recursion limit of 100 makes TensorFlow 1.8.0 refuse a graph nested deeper "
        '(tests/data/tensorflow/labels.json: variants/deep fails, variants/shallow loads); files above the '
        "reader's size and count bounds are refused as a safety measure."
    ),
)
NO_SERVE = Rule(
    "TFM010", "No meta graph tagged 'serve'", E,
    what="No MetaGraphDef in `saved_model.pb` carries the tag 'serve'.",
    why="The service loads the meta graph tagged 'serve' and fails when there is none.",
    fix="Save with `tags=[tf.saved_model.tag_constants.SERVING]`.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 with tags ['train'] only: 'MetaGraphDef associated with tags 'serve' could not be "
        "found' (tests/data/tensorflow/labels.json: variants/tags)."
    ),
)
NO_SIGNATURE = Rule(
    "TFM011", "No serving signature", E,
    what="The 'serve' meta graph has no SignatureDef with inputs and outputs.",
    why="TensorFlow 1.8 loads such a graph, but the platform's TfServingBaseService maps the request's fields "
    "to a signature's inputs and answers with its outputs: without one it cannot serve a request.",
    fix="Pass `signature_def_map={'serving_default': predict_signature_def(inputs, outputs)}` when saving.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        'TensorFlow 1.8.0 loads a graph with 0 signatures (tests/data/tensorflow/labels.json: '
        'variants/nosig), but TfServingBaseService answers requests through a signature '
        '(specifications_for_writing_model_inference_code.rst, TensorFlow example).'
    ),
)
VERSIONS = Rule(
    "TFM012", "GraphDef version outside TensorFlow 1.8's range", E,
    what="The graph's `versions` exclude TensorFlow 1.8 (GraphDef version 26): `min_consumer` above 26, 26 "
    "listed in `bad_consumers`, or a producer older than TensorFlow 1.8 accepts.",
    why="TensorFlow refuses to import the graph before looking at any op.",
    fix="Export the model with TensorFlow 1.8 (or a version whose graphs TensorFlow 1.8 accepts).",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0: 'GraphDef min consumer version 27 above current version 26' and 'GraphDef "
        "disallows consumer version 26' (tests/data/tensorflow/labels.json: variants/mc, variants/bad)."
    ),
)
UNKNOWN_OP = Rule(
    "TFM013", "Op TensorFlow 1.8 lacks", E,
    what="A node of the graph or of its function library uses an op TensorFlow 1.8 does not register (added "
    "later, e.g. StatefulPartitionedCall, StaticRegexFullMatch, AddV2, or custom), and no function of the "
    "library has that name.",
    why="Importing the graph fails at the first such node, so the service never starts.",
    fix="Export the model with TensorFlow 1.8 itself (TF 2.x SavedModels use ops 1.8 lacks), or rewrite the "
    "graph with ops 1.8 has; for tf.contrib ops, import that contrib module in customize_service.py.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0: KeyError: 'StatefulPartitionedCall' (TF 2.15 SavedModel), KeyError: "
        "'StaticRegexFullMatch' (TF 2.15 compat.v1 graph), 'Op type not registered' "
        '(tests/data/tensorflow/labels.json).'
    ),
)
UNKNOWN_ATTR = Rule(
    "TFM014", "Attribute TensorFlow 1.8 does not know", E,
    what="A node sets an attribute its op does not have in TensorFlow 1.8, and the producer's op list does not "
    "give it a default equal to the node's value (which 1.8 would strip).",
    why="TensorFlow 1.8 rejects the node: \"NodeDef mentions attr ... not in Op\".",
    fix="Export with TensorFlow 1.8, or save with `strip_default_attrs=True` so attributes left at their "
    "defaults are dropped.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0: 'NodeDef mentions attr 'grad_a' not in Op<name=MatMul...>' "
        "(tests/data/tensorflow/labels.json: variants/attr; variants/attr_strip_default, where the producer's"
        ' default equals the value, loads).'
    ),
)
MISSING_ATTR = Rule(
    "TFM015", "Attribute TensorFlow 1.8 requires is missing", E,
    what="A node lacks an attribute its op requires in TensorFlow 1.8 (one without a default).",
    why="TensorFlow 1.8 rejects the node: \"NodeDef missing attr ... from Op\".",
    fix="Export the graph with TensorFlow 1.8.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0: 'NodeDef missing attr 'T' from Op<name=MatMul...>' "
        '(tests/data/tensorflow/labels.json: variants/missing_attr).'
    ),
)
REMOVED_OP = Rule(
    "TFM016", "Op removed at the graph's version", E,
    what="A node uses an op TensorFlow marked as removed at a GraphDef version at or below the graph's producer.",
    why="TensorFlow 1.8 refuses the op: \"Op X is not available in GraphDef version N\".",
    fix="Use the replacement op the message names and export again.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0: 'Op BatchMatrixDiag is not available in GraphDef version 26. It has been removed "
        "in version 14.' (tests/data/tensorflow/labels.json: variants/dep)."
    ),
)
NO_VARIABLES = Rule(
    "TFM020", "variables/ missing or empty", E,
    what="The graph restores variables, but `variables/variables.index` is missing (no `variables/` folder, "
    "or an empty one).",
    why="The loader restores from `variables/variables`; without the bundle the restore fails.",
    fix="Upload the `variables/` folder the SavedModel was exported with, next to `saved_model.pb`.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 without variables/: 'Unsuccessful TensorSliceReader constructor: Failed to get "
        "matching files on <model>/variables/variables' (tests/data/tensorflow/labels.json: variants/novars)."
    ),
)
BAD_INDEX = Rule(
    "TFM021", "Corrupt variables.index", E,
    what="`variables/variables.index` is not a well-formed bundle index: too short, no table magic, a block "
    "checksum mismatch, a bad block or entry.",
    why="TensorFlow cannot read the bundle, so no variable is restored.",
    fix="Export again and upload the whole `variables/` folder unchanged.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 on a flipped byte in variables.index: 'DataLossError: ... block checksum mismatch' "
        '(tests/data/tensorflow/labels.json: variants/corrupt_index).'
    ),
)
MISSING_SHARD = Rule(
    "TFM022", "Variables data shard missing", E,
    what="A data shard the index names (`variables.data-0000N-of-0000M`) is not in `variables/`.",
    why="Restoring a variable stored in that shard fails.",
    fix="Upload every `variables.data-*` file the export wrote.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 without the data shard: 'NotFoundError: "
        "<model>/variables/variables.data-00000-of-00001; No such file or directory' "
        '(tests/data/tensorflow/labels.json: variants/noshard).'
    ),
)
OUTSIDE_SHARD = Rule(
    "TFM023", "Variable bytes outside their shard", E,
    what="A bundle entry's offset and size point past the end of its data shard (a truncated upload, or "
    "files from different exports).",
    why="TensorFlow reads fewer bytes than the entry needs and the restore fails.",
    fix="Upload the data shards of the same export, completely.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 on a cut data shard: 'OutOfRangeError: Read less bytes than requested' "
        '(tests/data/tensorflow/labels.json: variants/shortshard).'
    ),
)
MISSING_VARIABLE = Rule(
    "TFM024", "Variable missing from the bundle", E,
    what="The graph's saver restores a tensor name that `variables.index` does not hold.",
    why="The restore op fails: \"Key ... not found in checkpoint\".",
    fix="Export graph and variables together (one SavedModelBuilder call); do not mix files of two exports.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0: 'NotFoundError: Key dense/bias not found in checkpoint' "
        '(tests/data/tensorflow/labels.json: variants/missing_var).'
    ),
)
VARIABLE_MISMATCH = Rule(
    "TFM025", "Variable dtype or shape differs from the graph", E,
    what="A bundle entry has another dtype than the saver's RestoreV2 expects, or another shape than the "
    "variable it is assigned to.",
    why="The restore fails (dtype) or the Assign does (\"Assign requires shapes of both tensors to match\").",
    fix="Export graph and variables together; do not mix files of two exports.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0: 'Invalid size in bundle entry: key dense/bias' (dtype) and 'Assign requires shapes"
        " of both tensors to match' (shape) (tests/data/tensorflow/labels.json: variants/dtype_mismatch, "
        'variants/shape_mismatch).'
    ),
)
UNUSED_ENTRIES = Rule(
    "TFM026", "Bundle entries the graph never restores", W,
    what="`variables.index` holds tensors no restore op of the graph reads.",
    why="They cost upload size and suggest graph and variables come from different exports.",
    fix="Export graph and variables together.",
    basis=Basis.ADVICE,
    evidence=(
        "TensorFlow's RestoreV2 reads only the keys it names; other entries are never read "
        '(tensorflow/core/util/tensor_bundle).'
    ),
)
MISSING_ASSET = Rule(
    "TFM027", "Asset file missing", E,
    what="The meta graph names an asset file (vocabulary, table) that is not in `assets/`.",
    why="The loader feeds the asset's path to the graph; the table initialisation fails without the file.",
    fix="Upload the `assets/` folder the export wrote.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 on the vocabulary model without assets/vocab.txt: 'NotFoundError: "
        "<model>/assets/vocab.txt; No such file or directory' (tests/data/tensorflow/labels.json: "
        "variants/noasset; tf18_assets loads). TF 1.x lists assets in the 'saved_model_assets' collection."
    ),
)
CONTRIB_OP = Rule(
    "TFM017", "Op only tf.contrib registers", E,
    what="The graph uses ops TensorFlow 1.8 registers only when their tf.contrib module is loaded (e.g. "
    "resampler, image, rnn block ops). Error when customize_service.py never touches tf.contrib; a warning "
    "when it does, since it must do so before the model is loaded.",
    why="TensorFlow 1.8 loads contrib ops lazily: importing the graph first fails with \"Op type not "
    "registered\", whose message itself says to access the contrib module before importing the graph.",
    fix="In customize_service.py, import the contrib module at the top (e.g. `import tensorflow.contrib.resampler`) "
    "so its ops exist before the service loads the model, or export the model without contrib ops.",
    basis=Basis.SERVICE_FAILS,
    evidence=(
        "TensorFlow 1.8.0 op registry: these op names appear only in tensorflow/contrib/**/gen_*_ops.py of "
        "its wheel (tf18_ops.json 'contrib_ops'). TensorFlow 1.8.0 on tests/data/tensorflow/tf18_contrib: "
        "KeyError: 'ImageProjectiveTransform' (labels.json); after `import tensorflow.contrib.image` it loads."
    ),
)
TF2_MODEL = Rule(
    "TFM028", "TensorFlow 2 SavedModel", INFO,
    what="The SavedModel was written by TensorFlow 2 (`tf.saved_model.save`, with an object graph).",
    why="TensorFlow 1.8 ignores the object graph and loads only the graph; it works only if every op exists "
    "in 1.8, which TFM013 checks.",
    fix="Nothing, unless TFM013 reports ops: then export with TensorFlow 1.x.",
    basis=Basis.ADVICE,
    evidence=(
        'TensorFlow 1.8 parses a TF2 SavedModel and ignores its object graph (an unknown field to it); its '
        'ops decide (tests/data/tensorflow/labels.json: tf2_savedmodel).'
    ),
)

RULES: tuple[Rule, ...] = (
    NOT_SAVED_MODEL, OTHER_FORMAT, MISNAMED, MALFORMED, TOO_BIG, NO_SERVE, NO_SIGNATURE, VERSIONS, UNKNOWN_OP,
    UNKNOWN_ATTR, MISSING_ATTR, REMOVED_OP, CONTRIB_OP, NO_VARIABLES, BAD_INDEX, MISSING_SHARD, OUTSIDE_SHARD,
    MISSING_VARIABLE, VARIABLE_MISMATCH, UNUSED_ENTRIES, MISSING_ASSET, TF2_MODEL,
)


@attrs.frozen
class TensorFlowLimits:
    """Bounds of the TensorFlow readers."""

    max_saved_model_bytes: int = 1 << 30
    saved_model: sm.SavedModelLimits = attrs.field(factory=sm.SavedModelLimits)
    bundle: bd.BundleLimits = attrs.field(factory=bd.BundleLimits)
    #: Ops/attributes/nodes named per finding before "and N more".
    max_listed: int = 20


class PackageFiles(Protocol):
    """The read-only view of the package :func:`check_package` needs."""

    def size(self, path: str) -> int | None:
        """Size of the file at ``path`` (package-relative, POSIX), None when there is none."""

    def read(self, path: str, limit: int) -> bytes:
        """The first ``limit`` bytes of the file at ``path``."""

    def paths(self) -> Iterable[str]:
        """Every file of the package."""


@attrs.frozen
class Restore:
    """One tensor the graph's saver restores: bundle key, dtype RestoreV2 expects, variable shape."""

    key: str
    dtype: str
    shape: tuple[int, ...] | None
    sliced: bool

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "dtype": self.dtype, "shape": list(self.shape) if self.shape is not None else None,
                "sliced": self.sliced}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Restore:
        shape = data.get("shape")
        return cls(str(data["key"]), str(data["dtype"]), tuple(shape) if shape is not None else None,
                   bool(data.get("sliced")))


@attrs.frozen
class SavedModelCheck:
    """Findings and JSON facts of one ``.pb``. For a SavedModel the facts carry what
    :func:`check_package` needs: ``restores`` (what the saver reads from the bundle),
    ``uses_variables`` (whether the graph restores from ``variables/``) and ``assets``."""

    findings: tuple[Finding, ...]
    facts: Mapping[str, Any]


def _listed(items: Iterable[str], limit: int) -> str:
    items = list(items)
    shown = ", ".join(f"'{i}'" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# -- one saved_model.pb ------------------------------------------------------------------------------

def check_saved_model(path: str, f: BinaryIO, size: int, limits: TensorFlowLimits | None = None) -> SavedModelCheck:
    """Read one ``.pb`` file of the package and say whether TensorFlow 1.8 loads it as a SavedModel."""
    limits = limits or TensorFlowLimits()
    if size > limits.max_saved_model_bytes:
        return SavedModelCheck((TOO_BIG.finding(
            path, f"{size} bytes, above the limit of {limits.max_saved_model_bytes} bytes"),), {"format": "unread"})
    data = f.read(size + 1)[:size]
    kind = sm.sniff(data[:64], data[-8:])
    name = posixpath.basename(path)
    if kind == sm.FileKind.EMPTY:
        return SavedModelCheck((MALFORMED.finding(path, "the file is empty"),), {"format": "empty"})
    if kind == sm.FileKind.GRAPH_DEF or (kind != sm.FileKind.SAVED_MODEL and name != SAVED_MODEL_PB):
        return _graph_def(path, data, limits)
    try:
        model = sm.read_saved_model(data, limits.saved_model)
    except sm.SavedModelError as exc:
        rule = TOO_BIG if exc.limit else MALFORMED
        return SavedModelCheck((rule.finding(path, f"not a readable SavedModel: {exc.reason} (byte {exc.offset})"),),
                               {"format": "unreadable"})
    findings: list[Finding] = []
    if name != SAVED_MODEL_PB:
        findings.append(MISNAMED.finding(path, f"'{path}' is a SavedModel, but the loader reads only "
                                               f"'{SAVED_MODEL_PB}'"))
    serving = [m for m in model.meta_graphs if SERVE in m.tags]
    facts: dict[str, Any] = {
        "format": "saved_model",
        "schema_version": model.schema_version,
        "meta_graphs": [list(m.tags) for m in model.meta_graphs],
    }
    if not serving:
        tags = "; ".join(",".join(m.tags) or "(no tags)" for m in model.meta_graphs) or "no meta graph at all"
        findings.append(NO_SERVE.finding(path, f"no meta graph tagged 'serve' (found: {tags})"))
        return SavedModelCheck(tuple(findings), facts)
    meta = serving[0]
    facts.update(_meta_facts(meta))
    try:  # attribute values are decoded lazily, so malformed ones surface here
        findings.extend(_meta_findings(path, model, meta, tf18(), limits))
        restores = _restores(model, meta, limits)
    except (pw.WireError, sm.SavedModelError) as exc:
        rule = TOO_BIG if getattr(exc, "limit", False) else MALFORMED
        findings.append(rule.finding(path, f"not a readable SavedModel: {exc.reason} (byte {exc.offset})"))
        return SavedModelCheck(tuple(findings), facts)
    tf = tf18()
    contrib_names = (set(facts["ops"]) & tf.contrib_ops) - set(tf.ops) - set(meta.functions)
    contrib: dict[str, str] = {}
    if contrib_names:
        for node in (*meta.nodes, *meta.function_nodes):
            if node.op in contrib_names:
                contrib.setdefault(node.op, node.name)
    if contrib:
        facts["contrib_ops"] = dict(sorted(contrib.items()))
    facts["restores"] = [r.to_dict() for r in restores]
    facts["uses_variables"] = bool(restores) or meta.saver_version is not None
    facts["assets"] = list(meta.asset_files)
    return SavedModelCheck(tuple(findings), facts)


def _graph_def(path: str, data: bytes, limits: TensorFlowLimits) -> SavedModelCheck:
    try:
        graph = sm.read_graph_def(data, limits.saved_model)
    except sm.SavedModelError as exc:
        rule = TOO_BIG if exc.limit else MALFORMED
        return SavedModelCheck((rule.finding(path, f"neither a SavedModel nor a GraphDef: {exc.reason} "
                                                   f"(byte {exc.offset})"),), {"format": "unreadable"})
    nodes = graph["nodes"]
    if not nodes:
        return SavedModelCheck((MALFORMED.finding(path, "not a SavedModel, and no graph nodes either"),),
                               {"format": "unknown"})
    placeholders = [n.name for n in nodes if n.op == "Placeholder"]
    msg = (f"'{path}' is a frozen GraphDef ({len(nodes)} nodes, inputs {_listed(placeholders, 5) or 'none'}), "
           "not a SavedModel: the TensorFlow templates load only 'saved_model.pb' with a 'serve' meta graph "
           "and signatures")
    return SavedModelCheck((NOT_SAVED_MODEL.finding(path, msg),),
                           {"format": "frozen_graph_def", "nodes": len(nodes), "inputs": placeholders[:100]})


def _meta_facts(meta: sm.MetaGraph) -> dict[str, Any]:
    return {
        "tags": list(meta.tags),
        "tensorflow_version": meta.tensorflow_version,
        "producer": meta.producer,
        "min_consumer": meta.min_consumer,
        "tf2_object_graph": meta.object_graph,
        "signatures": {s.key: s.to_dict() for s in meta.signatures},
        "op_count": len(meta.nodes) + len(meta.function_nodes),
        "ops": meta.op_counts(),
        "functions": len(meta.functions),
    }


def _meta_findings(
    path: str, model: sm.SavedModel, meta: sm.MetaGraph, facts: TensorFlowFacts, limits: TensorFlowLimits
) -> Iterator[Finding]:
    if meta.object_graph:
        yield TF2_MODEL.finding(path, f"written by TensorFlow {meta.tensorflow_version or '2.x'} "
                                      "(tf.saved_model.save); TensorFlow 1.8 reads only its graph")
    usable = [s for s in meta.signatures if s.inputs and s.outputs]
    if not usable:
        yield NO_SIGNATURE.finding(path, "the 'serve' meta graph has no signature with inputs and outputs "
                                         f"({len(meta.signatures)} signatures in all)")
    # GraphDef versions (core/framework/versions.cc: CheckVersions).
    version = facts.graph_def_version
    producer = meta.producer if meta.producer is not None else 0
    if meta.has_graph and meta.producer is not None:
        if producer < facts.min_producer:
            yield VERSIONS.finding(path, f"GraphDef producer version {producer} below min producer "
                                         f"{facts.min_producer} supported by TensorFlow {facts.version}")
        if meta.min_consumer > version:
            yield VERSIONS.finding(path, f"GraphDef min consumer version {meta.min_consumer} above current version "
                                         f"{version} for TensorFlow {facts.version} (written by producer "
                                         f"{producer})")
        if version in meta.bad_consumers:
            yield VERSIONS.finding(path, f"GraphDef disallows consumer version {version} (TensorFlow "
                                         f"{facts.version})")
    yield from _op_findings(path, model, meta, facts, producer=producer, limits=limits)


def _op_findings(
    path: str, model: sm.SavedModel, meta: sm.MetaGraph, facts: TensorFlowFacts, *, producer: int,
    limits: TensorFlowLimits,
) -> Iterator[Finding]:
    functions = set(meta.functions)
    unknown: dict[str, list[sm.Node]] = {}
    removed: dict[str, list[sm.Node]] = {}
    bad_attrs: list[tuple[sm.Node, str]] = []
    missing_attrs: list[tuple[sm.Node, str]] = []
    # Per op, once: the attribute names 1.8 knows, those it requires, the producer's defaults.
    per_op: dict[str, tuple[frozenset[str], tuple[str, ...], dict[str, tuple[int, int] | None]] | None] = {}
    data = model.data
    for node in (*meta.nodes, *meta.function_nodes):
        op_name = node.op
        if op_name in per_op:
            info = per_op[op_name]
        else:
            op = facts.ops.get(op_name)
            if op is None:
                info = None
            else:
                if op.deprecation is not None and producer >= op.deprecation[0]:
                    removed[op_name] = []
                info = (frozenset(a.name for a in op.attrs), tuple(a.name for a in op.attrs if not a.has_default),
                        {a.name: a.default for a in meta.producer_ops.get(op_name, ())})
            per_op[op_name] = info
        if info is None:
            if op_name not in functions and op_name not in facts.contrib_ops:  # contrib: TFM017
                unknown.setdefault(op_name, []).append(node)
            continue
        if op_name in removed:
            removed[op_name].append(node)
        known, required, producer_defaults = info
        for key, packed in node.attrs.items():
            if key in known or key[:1] == "_":
                continue
            default = producer_defaults.get(key)
            # importer._RemoveDefaultAttrs: dropped when the producer's default equals the value.
            if default is not None and data[default[0]:default[1]] == data[packed >> 32:packed & 0xFFFFFFFF]:
                continue
            bad_attrs.append((node, key))
        if required and not node.function:
            missing_attrs.extend((node, a) for a in required if a not in node.attrs)
    if unknown:
        # importer._RemoveDefaultAttrs looks up, in node order, every op the producer's op list
        # names (KeyError on the first unknown); the C++ import then meets the others.
        in_graph = sorted((n for nodes in unknown.values() for n in nodes if not n.function), key=lambda n: n.offset)
        listed_first = [n for n in in_graph if n.op in meta.producer_ops]
        first = (listed_first or in_graph)[0] if in_graph else None
        where = "; ".join(
            f"{op} ({len(nodes)}x, e.g. node '{nodes[0].name}'"
            + (f" in function '{nodes[0].function}'" if nodes[0].function else "") + ")"
            for op, nodes in sorted(unknown.items())[: limits.max_listed]
        )
        more = f" and {len(unknown) - limits.max_listed} more" if len(unknown) > limits.max_listed else ""
        said = ""
        if first is not None:
            listed = first.op in meta.producer_ops
            said = (f"; TensorFlow 1.8 stops with KeyError: '{first.op}'" if listed else
                    f"; TensorFlow 1.8 stops with \"Op type not registered '{first.op}'\"")
        yield UNKNOWN_OP.finding(path, f"{len(unknown)} op(s) TensorFlow 1.8 does not have: {where}{more}{said}")
    for op_name, nodes in sorted(removed.items()):
        dep = facts.ops[op_name].deprecation
        assert dep is not None
        yield REMOVED_OP.finding(path, f"Op {op_name} is not available in GraphDef version {producer}. It has been "
                                       f"removed in version {dep[0]}. {dep[1]} (node '{nodes[0].name}')")
    for node, key in bad_attrs[: limits.max_listed]:
        where = f" in function '{node.function}'" if node.function else ""
        yield UNKNOWN_ATTR.finding(path, f"node '{node.name}'{where} ({node.op}) sets attr '{key}', which "
                                         f"{node.op} does not have in TensorFlow 1.8")
    if len(bad_attrs) > limits.max_listed:
        yield UNKNOWN_ATTR.finding(path, f"and {len(bad_attrs) - limits.max_listed} more attributes TensorFlow "
                                         "1.8 does not know")
    for node, key in missing_attrs[: limits.max_listed]:
        yield MISSING_ATTR.finding(path, f"node '{node.name}' ({node.op}) lacks attr '{key}', which {node.op} "
                                         "requires in TensorFlow 1.8")


_TENSOR_REF = re.compile(r"^\^?(?P<node>[^:]+)(?::(?P<index>\d+))?$")


def _restores(model: sm.SavedModel, meta: sm.MetaGraph, limits: TensorFlowLimits) -> tuple[Restore, ...]:
    """What the graph's RestoreV2 ops read from the bundle (key, dtype) and where it goes (shape)."""
    by_name = {n.name: n for n in meta.nodes}
    consumers: dict[tuple[str, int], list[sm.Node]] = {}
    for node in meta.nodes:
        if node.op not in ("Assign", "AssignVariableOp", "Identity"):
            continue
        for ref in node.inputs:
            m = _TENSOR_REF.match(ref)
            if m and not ref.startswith("^"):
                consumers.setdefault((m["node"], int(m["index"] or 0)), []).append(node)
    out: list[Restore] = []
    for node in meta.nodes:
        if node.op not in ("RestoreV2", "Restore", "RestoreSlice"):
            continue
        if node.op != "RestoreV2" or len(node.inputs) < 3:
            continue
        names_node = by_name.get(node.inputs[1].split(":")[0].lstrip("^"))
        slices_node = by_name.get(node.inputs[2].split(":")[0].lstrip("^"))
        names = model.const_strings(names_node, limits.saved_model.max_string_values) if names_node else None
        slices = model.const_strings(slices_node, limits.saved_model.max_string_values) if slices_node else None
        dtypes = model.attr_type_list(node, "dtypes") or ()
        for i, key in enumerate(names or ()):
            dtype = sm.dtype_name(dtypes[i]) if i < len(dtypes) else "invalid"
            sliced = bool(slices and i < len(slices) and slices[i])
            out.append(Restore(key, dtype, _target_shape(model, by_name, consumers, node.name, i), sliced))
    return tuple(out)


def _target_shape(
    model: sm.SavedModel, by_name: Mapping[str, sm.Node], consumers: Mapping[tuple[str, int], list[sm.Node]],
    node: str, index: int,
) -> tuple[int, ...] | None:
    for _ in range(3):  # RestoreV2 -> [Identity ->] Assign / AssignVariableOp
        for consumer in consumers.get((node, index), ()):
            if consumer.op in ("Assign", "AssignVariableOp") and consumer.inputs:
                var = by_name.get(consumer.inputs[0].split(":")[0].lstrip("^"))
                if var is not None and var.op in ("VariableV2", "Variable", "VarHandleOp"):
                    return model.attr_shape(var, "shape")
                return None
        nxt = [c for c in consumers.get((node, index), ()) if c.op == "Identity"]
        if not nxt:
            return None
        node, index = nxt[0].name, 0
    return None


# -- the package around it ---------------------------------------------------------------------------

#: ``.pb`` files TensorFlow writes beside ``saved_model.pb`` that no loader of 1.8 reads
#: (``fingerprint.pb``: TensorFlow 2.9+, a FingerprintDef).
_COMPANION_PB = frozenset({"fingerprint.pb"})


def check_package(
    files: PackageFiles, checked: Mapping[str, Mapping[str, Any]], limits: TensorFlowLimits | None = None,
    *, others: bool = False, script_source: bytes | None = None,
) -> tuple[tuple[Finding, ...], dict[str, Any]]:
    """Check what lies beside ``saved_model.pb``: the variables bundle, assets, other model formats.

    ``checked`` maps each ``saved_model.pb`` path to the facts :func:`check_saved_model` found. With
    ``others``, every other top-level ``.pb`` file is read too (a frozen graph or a misnamed
    SavedModel). Returns the findings and the facts to add to the SavedModel's (``variables``).
    """
    limits = limits or TensorFlowLimits()
    findings: list[Finding] = []
    facts: dict[str, Any] = {}
    all_paths = sorted(files.paths())
    if others:
        for path in all_paths:
            if "/" in path or not path.lower().endswith(".pb") or path in checked or path in _COMPANION_PB:
                continue
            size = files.size(path)
            if size is None:
                continue
            if size > limits.max_saved_model_bytes:
                findings.append(TOO_BIG.finding(path, f"{size} bytes, above the limit of "
                                                      f"{limits.max_saved_model_bytes} bytes"))
                continue
            other = check_saved_model(path, io.BytesIO(files.read(path, size)), size, limits)
            findings.extend(other.findings)
    saved = {p: c for p, c in checked.items() if c.get("format") == "saved_model"}
    if not saved:
        findings.extend(_other_formats(files, all_paths))
        return tuple(findings), facts
    path, model_facts = sorted(saved.items())[0]
    contrib = model_facts.get("contrib_ops")
    if isinstance(contrib, Mapping) and contrib:
        findings.append(_contrib_finding(path, contrib, script_source))
    restores = tuple(Restore.from_dict(r) for r in model_facts.get("restores", ()))
    folder = posixpath.dirname(path)
    for asset in model_facts.get("assets", ()):
        asset_path = posixpath.join(folder, "assets", asset)
        if files.size(asset_path) is None:
            findings.append(MISSING_ASSET.finding(asset_path, f"the meta graph needs asset '{asset}', "
                                                              f"but '{asset_path}' is not in the package"))
    if not model_facts.get("uses_variables"):
        return tuple(findings), facts
    index_path = posixpath.join(folder, "variables", "variables.index")
    index_size = files.size(index_path)
    if index_size is None:
        variables = posixpath.join(folder, "variables")
        in_vars = [p for p in all_paths if p.startswith(variables + "/")]
        if files.size(variables) is not None:  # a file where the folder should be
            where, state = variables, "'variables' is a file, not the folder TensorFlow reads the bundle from"
        else:
            where, state = index_path, (f"'variables/' holds only {_listed(in_vars, 5)}" if in_vars
                                        else "there is no 'variables/' folder (or it is empty)")
        findings.append(NO_VARIABLES.finding(where, f"the graph restores {len(restores)} variables from "
                                                    f"variables/variables, but {state}"))
        return tuple(findings), facts
    try:
        bundle = bd.read_bundle_index(files.read(index_path, limits.bundle.max_index_bytes + 1), limits.bundle)
    except bd.BundleError as exc:
        rule = TOO_BIG if exc.limit else BAD_INDEX
        findings.append(rule.finding(index_path, f"not a readable bundle index: {exc.reason}"))
        return tuple(findings), facts
    shard_sizes: dict[int, int | None] = {}
    for i, name in enumerate(bundle.shard_names):
        shard_path = posixpath.join(folder, "variables", name)
        shard_sizes[i] = files.size(shard_path)
        if shard_sizes[i] is None:
            findings.append(MISSING_SHARD.finding(shard_path, f"the index names shard '{name}', which is not in "
                                                              "the package"))
    outside = []
    for entry in bundle.entries:
        shard_size = shard_sizes.get(entry.shard_id)
        if entry.shard_id not in shard_sizes:
            outside.append(f"'{entry.key}' names shard {entry.shard_id} of {bundle.num_shards}")
        elif shard_size is not None and (entry.offset < 0 or entry.size < 0 or entry.offset + entry.size > shard_size):
            outside.append(f"'{entry.key}' needs bytes {entry.offset}..{entry.offset + entry.size} of "
                           f"{bd.shard_name('variables', entry.shard_id, bundle.num_shards)} ({shard_size} bytes)")
    for text in outside[: limits.max_listed]:
        findings.append(OUTSIDE_SHARD.finding(index_path, text))
    entries = {e.key: e for e in bundle.entries}
    missing = [r.key for r in restores if r.key not in entries]
    if missing:
        findings.append(MISSING_VARIABLE.finding(
            index_path, f"the graph restores {_listed(missing, limits.max_listed)}, not in the bundle "
                        f"(TensorFlow 1.8: \"Key {missing[0]} not found in checkpoint\")"))
    for r in restores:
        e = entries.get(r.key)
        if e is None:
            continue
        if r.dtype != e.dtype:
            findings.append(VARIABLE_MISMATCH.finding(
                index_path, f"'{r.key}': the graph restores it as {r.dtype}, the bundle holds {e.dtype}"))
        elif r.shape is not None and not r.sliced and e.slices == 0 and tuple(r.shape) != e.shape and -1 not in r.shape:
            findings.append(VARIABLE_MISMATCH.finding(
                index_path, f"'{r.key}': the variable has shape {list(r.shape)}, the bundle holds {list(e.shape)} "
                            "(Assign requires shapes of both tensors to match)"))
    restored = {r.key for r in restores}
    unused = [k for k in entries if k not in restored and k != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    if unused and restored:
        findings.append(UNUSED_ENTRIES.finding(index_path, f"{len(unused)} entries no restore op reads: "
                                                           f"{_listed(unused, 10)}"))
    facts["variables"] = {
        "count": len(bundle.entries),
        "bytes": sum(e.size for e in bundle.entries),
        "shards": bundle.num_shards,
        "entries": {e.key: e.to_dict() for e in bundle.entries[:10_000]},
    }
    return tuple(findings), facts


def _other_formats(files: PackageFiles, paths: list[str]) -> Iterator[Finding]:
    """What the user uploaded instead of a SavedModel, recognised by content."""
    found: list[str] = []
    for path in paths:
        if "/" in path:
            continue
        lower = path.lower()
        if lower.endswith((".h5", ".hdf5", ".keras", ".tflite", ".lite", ".index")):
            size = files.size(path) or 0
            head = files.read(path, 64)
            tail = files.read(path, size)[-8:] if lower.endswith(".index") and size <= 1 << 20 else b""
            kind = sm.sniff(head, tail)
            label = {sm.FileKind.HDF5: "a Keras HDF5 model", sm.FileKind.KERAS_ZIP: "a Keras v3 (.keras) model",
                     sm.FileKind.TFLITE: "a TFLite flatbuffer",
                     sm.FileKind.CHECKPOINT_INDEX: "a checkpoint index (weights without a graph)"}.get(kind)
            if label:
                found.append(f"'{path}' is {label}")
    if found:
        yield OTHER_FORMAT.finding("", "no SavedModel in the package; " + "; ".join(found))


_CONTRIB_USE = re.compile(rb"(?m)^\s*(?:from|import)\s+tensorflow\.contrib\b|\btf\.contrib\.\w")


def _contrib_finding(path: str, contrib: Mapping[str, Any], script: bytes | None) -> Finding:
    ops = "; ".join(f"{op} (e.g. node '{node}')" for op, node in list(contrib.items())[:20])
    if script is not None and _CONTRIB_USE.search(script):
        return CONTRIB_OP.finding(
            path, f"ops registered only by tf.contrib: {ops}; customize_service.py uses tf.contrib, which loads "
                  "them if it runs before the service loads the model", severity=Severity.WARNING)
    first = next(iter(contrib))
    return CONTRIB_OP.finding(
        path, f"ops registered only by tf.contrib: {ops}; nothing in customize_service.py loads tf.contrib, so "
              f"TensorFlow 1.8 stops with KeyError: '{first}' (or \"Op type not registered\")")
