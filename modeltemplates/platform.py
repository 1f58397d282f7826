"""What the platform itself reports when a rule is broken: the message a user would otherwise meet.

Sources (under ``shared/reference/modelarts/``): ``model_error_codes.txt`` (API error codes
ModelArts.30xx), ``model_import_events.rst`` (the model's import events), and for failures at
deploy time the exception texts the real runtimes raise (``shared/fidelity/labels.json``: torch 1.0.0
on CPython 2.7.18 and 3.7.8), or CPython's own messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Size above which the platform refuses a model file (ModelArts.3044: "larger than 20G").
MAX_IMPORT_BYTES = 20 * 1024**3

_EVENT = "import event"
_CODE = "error code"
_DEPLOY = "at deploy time"

PLATFORM_REPORTS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "LAY001": (f"{_CODE} ModelArts.3017: Failed to publish model because source location noncompliance.",),
    "LAY002": (f"{_EVENT}: Failed to calculate the model size. The model of the *xxx* type does not exist "
               "in path *xxx*.",),
    "LAY003": (f"{_EVENT}: Failed to calculate the model size. More than one *xxx* model file is stored in "
               "path *xxx*.",),
    "LAY020": (f"{_CODE} ModelArts.3044: Model file ({{0}}) is larger than 20G and cannot be imported.",
               f"{_EVENT}: Failed to import data because *xxx* is larger than *xxx* GB."),
    "CFG001": (f"{_CODE} ModelArts.3015: Config json file does not conform to the specification.",),
    "CFG002": (f"{_CODE} ModelArts.3015: Config json file does not conform to the specification.",),
    "CFG004": (f"{_CODE} ModelArts.3015: Config json file does not conform to the specification.",),
    "CFG010": (f"{_CODE} ModelArts.3016: Failed to parse config json file because of unsupported fields, "
               "types, or formats({0}, {1}).",),
    "CFG011": (f"{_CODE} ModelArts.3016: Failed to parse config json file because of unsupported fields, "
               "types, or formats({0}, {1}).",),
    "CFG012": (f"{_EVENT}: Invalid parameter value *xxx* exists in the model configuration file.",
               f"{_CODE} ModelArts.3016: Failed to parse config json file because of unsupported fields, "
               "types, or formats({0}, {1})."),
    "CFG013": (f"{_CODE} ModelArts.3053: Model Type ({{0}}) not support.",),
    "CFG014": (f"{_EVENT}: Invalid parameter value *xxx* exists in the model configuration file.",),
    "CFG017": (f"{_CODE} ModelArts.3041: When the installer installer is conda or pip, and the version "
               "packageVersion exists, the version constraint restraint can only be EXACT, ATLEAST, ATMOST.",),
    "MOD010": (f"{_DEPLOY}: UnpicklingError: A load persistent id instruction was encountered, but no "
               "persistent_load function was specified.",),
    "MOD011": (f"{_DEPLOY}: ValueError: unsupported pickle protocol: 4",),
    "MOD012": (f"{_DEPLOY}: AttributeError: 'module' object has no attribute 'BFloat16Storage' (Python 2.7); "
               "Can't get attribute 'BoolStorage' on <module 'torch'> (Python 3.7)",),
    "MOD014": (f"{_DEPLOY}: ImportError: No module named _core.multiarray (Python 2.7); "
               "ModuleNotFoundError: No module named 'numpy._core' (Python 3.7)",),
    "MOD015": (f"{_DEPLOY}: AttributeError: 'module' object has no attribute 'Net' (Python 2.7); "
               "Can't get attribute 'Net' on <module '__main__'> (Python 3.7)",),
    "MOD016": (f"{_DEPLOY}: ImportError: No module named *xxx*",),
    # TensorFlow 1.8.0 on CPython 3.6.15, tf.saved_model.loader.load(sess, ["serve"], model_dir):
    # tests/data/tensorflow/labels.json (<model> is the model folder).
    "TFM001": (f"{_DEPLOY}: OSError: SavedModel file does not exist at: "
               "<model>/{saved_model.pbtxt|saved_model.pb} (a frozen graph under another name); RuntimeError: "
               "MetaGraphDef associated with tags 'serve' could not be found in SavedModel (a frozen graph "
               "named saved_model.pb)",),
    "TFM002": (f"{_DEPLOY}: OSError: SavedModel file does not exist at: <model>/{{saved_model.pbtxt|saved_model.pb}}",),
    "TFM003": (f"{_DEPLOY}: OSError: SavedModel file does not exist at: <model>/{{saved_model.pbtxt|saved_model.pb}}",),
    "TFM004": (f"{_DEPLOY}: OSError: Cannot parse file b'<model>/saved_model.pb': Error parsing message.",),
    "TFM005": (f"{_DEPLOY}: OSError: Cannot parse file b'<model>/saved_model.pb': Error parsing message. "
               "(nested deeper than protobuf's limit of 100)",),
    "TFM011": (f"{_DEPLOY}: TensorFlow 1.8 loads the graph (0 signatures); the service has no signature to map "
               "a request to",),
    "TFM017": (f"{_DEPLOY}: KeyError: 'ImageProjectiveTransform' (a tf.contrib.image op; loads once the script "
               "imports tensorflow.contrib.image first)",),
    "TFM027": (f"{_DEPLOY}: NotFoundError: <model>/assets/vocab.txt; No such file or directory",),
    "TFM028": (f"{_DEPLOY}: KeyError: 'StatefulPartitionedCall' (a TF 2.15 SavedModel: its ops decide)",),
    "TFM010": (f"{_DEPLOY}: RuntimeError: MetaGraphDef associated with tags 'serve' could not be found in "
               "SavedModel. To inspect available tag-sets in the SavedModel, please use the SavedModel CLI: "
               "`saved_model_cli`",),
    "TFM012": (f"{_DEPLOY}: ValueError: GraphDef min consumer version 27 above current version 26 for "
               "TensorFlow 1.8.0.  Please upgrade TensorFlow.",
               f"{_DEPLOY}: ValueError: GraphDef disallows consumer version 26.  Please upgrade TensorFlow: "
               "this version is likely buggy."),
    "TFM013": (f"{_DEPLOY}: KeyError: 'StatefulPartitionedCall' (an op the producer's op list names)",
               f"{_DEPLOY}: NotFoundError: Op type not registered 'Gelu' in binary running on *host*. Make sure "
               "the Op and Kernel are registered in the binary running in this process."),
    "TFM014": (f"{_DEPLOY}: ValueError: NodeDef mentions attr 'grad_a' not in Op<name=MatMul; ...>; NodeDef: "
               "... (Check whether your GraphDef-interpreting binary is up to date with your "
               "GraphDef-generating binary.).",),
    "TFM015": (f"{_DEPLOY}: ValueError: NodeDef missing attr 'T' from Op<name=MatMul; ...>; NodeDef: ...",),
    "TFM016": (f"{_DEPLOY}: UnimplementedError: Op BatchMatrixDiag is not available in GraphDef version 26. It "
               "has been removed in version 14. Use MatrixDiag.",),
    "TFM020": (f"{_DEPLOY}: InvalidArgumentError: Unsuccessful TensorSliceReader constructor: Failed to get "
               "matching files on <model>/variables/variables: Not found: <model>/variables; No such file or "
               "directory",
               f"{_DEPLOY}: NotFoundError: Unsuccessful TensorSliceReader constructor: Failed to find any "
               "matching files for <model>/variables/variables (an empty variables/)"),
    "TFM021": (f"{_DEPLOY}: DataLossError: Unable to read file (<model>/variables/variables.index). Perhaps the "
               "file is corrupt or was produced by a newer version of TensorFlow with format changes (failed "
               "to seek to header entry): block checksum mismatch",),
    "TFM022": (f"{_DEPLOY}: NotFoundError: <model>/variables/variables.data-00000-of-00001; No such file or "
               "directory",),
    "TFM023": (f"{_DEPLOY}: OutOfRangeError: Read less bytes than requested",),
    "TFM024": (f"{_DEPLOY}: NotFoundError: Key dense/bias not found in checkpoint",),
    "TFM025": (f"{_DEPLOY}: DataLossError: Invalid size in bundle entry: key dense/bias; stored size 24; "
               "expected size 12 (dtype)",
               f"{_DEPLOY}: InvalidArgumentError: Assign requires shapes of both tensors to match. lhs shape= "
               "[3] rhs shape= [5] (shape)"),
    # Real MXNet 1.2.1 on CPython 3.6.15 (mxnet==1.2.1 wheel), loading the checkpoint the way
    # load_checkpoint + Module.bind + set_params do:
    "MXN002": (f"{_DEPLOY}: MXNetError: Check failed: header == kMXAPINDArrayListMagic Invalid NDArray file format",),
    "MXN003": (f"{_DEPLOY}: MXNetError: Check failed: fi->Read(data) Invalid NDArray file format",),
    "MXN010": (f"{_DEPLOY}: MXNetError: Failed loading Op relu1 of type GroupNorm: Check failed: op != nullptr "
               "Operator GroupNorm is not registered",),
    "MXN021": (f"{_DEPLOY}: MXNetError: Cannot find argument 'bogus', Possible Arguments: ...",),
    "MXN012": (f"{_DEPLOY}: terminate called after throwing an instance of 'std::bad_alloc' (an array with the "
               "magic 0xF993FACA: the process dies)",),
    "MXN014": (f"{_DEPLOY}: RuntimeError: fc1_bias is not presented",),
    "MXN016": (f"{_DEPLOY}: MXNetError: Check failed: assign(&dattr, (*vec)[i]) Incompatible attr in node at "
               "0-th output: expected [5,36], got [3,36]",),
    "MXN017": (f"{_DEPLOY}: ValueError: not enough values to unpack (expected 2, got 1)",),
    "MXN019": (f"{_DEPLOY}: MXNetError: LocalFileSystem::Open \"convnet-0003.params\": No such file or directory",),
    "SRC001": (f"{_DEPLOY}: SyntaxError when the service imports the file; the service never starts.",),
    "SRC002": (f"{_DEPLOY}: SyntaxError: Non-ASCII character '\\xe5' in file ... but no encoding declared",),
    "SRC003": (f"{_DEPLOY}: TabError: inconsistent use of tabs and spaces in indentation",),
    "SRC004": (f"{_DEPLOY}: SyntaxError: future feature annotations is not defined",),
    "SVC007": (f"{_DEPLOY}: TypeError: super() takes at least 1 argument (0 given)",),
    "SVC009": (f"{_DEPLOY}: ValueError: Attempted relative import beyond toplevel package",),
    "SVC010": (f"{_DEPLOY}: ImportError: No module named *xxx*",),
    "SVC011": (f"{_DEPLOY}: ImportError: No module named *xxx*",),
})
