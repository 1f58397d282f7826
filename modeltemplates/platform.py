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
    "SRC001": (f"{_DEPLOY}: SyntaxError when the service imports the file; the service never starts.",),
    "SRC002": (f"{_DEPLOY}: SyntaxError: Non-ASCII character '\\xe5' in file ... but no encoding declared",),
    "SRC003": (f"{_DEPLOY}: TabError: inconsistent use of tabs and spaces in indentation",),
    "SRC004": (f"{_DEPLOY}: SyntaxError: future feature annotations is not defined",),
    "SVC007": (f"{_DEPLOY}: TypeError: super() takes at least 1 argument (0 given)",),
    "SVC009": (f"{_DEPLOY}: ValueError: Attempted relative import beyond toplevel package",),
    "SVC010": (f"{_DEPLOY}: ImportError: No module named *xxx*",),
    "SVC011": (f"{_DEPLOY}: ImportError: No module named *xxx*",),
})
