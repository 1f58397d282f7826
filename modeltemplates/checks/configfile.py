"""config.json: read it tolerantly, judge it by the published schema and the template, build it.

:func:`check_config` reports every problem of a package's ``config.json`` in one run: how the text
leaves strict UTF-8 JSON (with line and column), where it breaks the platform's specification
(``schemas/config.schema.json``, enforced by :mod:`modeltemplates.inspect.minischema`), and where
it disagrees with the template (engine, runtime, I/O mode). :func:`build_config` gives the
``config.json`` a template stands for.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import attrs

from modeltemplates.findings import Basis, Finding, Rule, Severity, sort_findings
from modeltemplates.inspect.jsontext import Deviation, JsonDocument, Kind, PathPart, format_path, read_json
from modeltemplates.inspect.jsontext import Limits as JsonLimits
from modeltemplates.inspect.minischema import SchemaError, Validator, json_type
from modeltemplates.iomodes import IOMode
from modeltemplates.runtime import Runtime

__all__ = [
    "ENGINE_RUNTIMES",
    "RESTRAINTS",
    "RULES",
    "ConfigResult",
    "Dependency",
    "EngineRuntimes",
    "build_config",
    "check_config",
    "config_schema",
    "engine_runtimes",
]

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# --- rules ------------------------------------------------------------------------------------

NOT_UTF8 = Rule(
    "CFG001", "config.json is not UTF-8 text", E,
    what="config.json must be UTF-8 text without a byte order mark. The check recognises UTF-16 and "
    "UTF-32 (with or without a byte order mark), GBK/GB18030 and Windows-1252 text and says which one "
    "it found; NUL bytes mean binary data.",
    why="The platform reads config.json as UTF-8. Text saved in another encoding (Windows editors often "
    "save GBK or UTF-16) fails to parse, or its non-ASCII characters turn into garbage; a byte order "
    "mark is rejected by strict JSON readers.",
    fix="Save the file as UTF-8 without BOM (in most editors: 'Save with encoding' -> UTF-8).",
    basis=Basis.PLATFORM_REJECTS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), 'Configuration File "
        "Format': 'The configuration file is in JSON format' (JSON text is UTF-8, RFC 8259 section 8.1); "
        "error code ModelArts.3015 'Config json file does not conform to the specification'."
)
SYNTAX = Rule(
    "CFG002", "config.json is not valid JSON", E,
    what="The text must be one JSON value (RFC 8259). The finding points at the first place the "
    "reader cannot go past: a missing comma or colon, an unclosed bracket or string, a typographic "
    "quote, a stray word.",
    why="The platform cannot parse the file, so the model import fails before anything else is checked.",
    fix="Correct the text at the line and column given; a JSON-aware editor highlights the spot.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), 'Configuration File "
        "Format'; error code ModelArts.3015."
)
LIMITS = Rule(
    "CFG003", "config.json too large or too deep to check", W,
    what="The file is larger, nests deeper or holds more values than this tool's reader takes (by default "
    "2 MiB, 100 levels, 100,000 values), so it was not checked; numbers that do not fit a 64-bit "
    "integer or a double are reported too.",
    why="These are limits of this tool, not of the platform: the file may be fine, but nothing in it was "
    "checked. Huge numbers lose precision or overflow in the platform's reader.",
    fix="Raise the setting named in the finding (Settings.max_config_bytes, max_json_depth or "
    "max_json_values), or keep config.json to the keys of the specification.",
    basis=Basis.NOT_CHECKED,
    evidence="These bounds are this tool's own (settings max_config_bytes, max_json_depth, max_json_values); the "
        "specification states no size or depth limit for config.json, so exceeding them is reported as not "
        "checked."
)
EXTENSION = Rule(
    "CFG004", "config.json uses syntax that strict JSON forbids", E,
    what="Comments (// /* */ #), trailing commas, single-quoted strings, unquoted keys, NaN/Infinity, "
    "Python's True/False/None, numbers with a leading + or zeros, unknown escapes, raw control "
    "characters in strings, non-ASCII whitespace and text after the value. Each one is reported; the "
    "rest of the file is still checked.",
    why="The platform's reader is a strict JSON parser: any of these makes the whole file unreadable "
    "and the import fails, even though many editors and JavaScript accept them.",
    fix="Rewrite the spot as strict JSON: delete comments and trailing commas, use double quotes, "
    "write true/false/null, and escape control characters (\\n, \\t).",
    basis=Basis.PLATFORM_REJECTS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), 'Configuration File "
        "Format': JSON format (RFC 8259 has no comments, trailing commas or single quotes); error code "
        "ModelArts.3015."
)
DUPLICATE_KEY = Rule(
    "CFG005", "Duplicate key in config.json", W,
    what="The same key appears twice in one object; the finding names both places.",
    why="Readers keep only the last occurrence, silently dropping the first: what you read in the file "
    "is not what the platform uses.",
    fix="Keep one occurrence of the key and delete the other.",
    basis=Basis.ADVICE,
    evidence="RFC 8259 section 4: names within an object SHOULD be unique; readers keep the last one, so the file "
        "still parses."
)
MISSING_KEY = Rule(
    "CFG010", "Required key missing from config.json", E,
    what="Keys the specification makes mandatory: model_algorithm and model_type at the top, "
    "installer and packages in each dependency, package_name in each package, url in health.",
    why="The platform rejects a configuration file without them (ModelArts.3015, 'Config json file "
    "does not conform to the specification').",
    fix="Add the key named in the finding with a value of the documented type.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), Tables 1, 6, 7, 8: "
        "the 'Mandatory: Yes' keys; error code ModelArts.3016 'unsupported fields, types, or formats'."
)
UNKNOWN_KEY = Rule(
    "CFG011", "Unknown key in config.json", E,
    what="Every key must be one the specification defines at that place; the finding names the "
    "closest known key, e.g. 'procotol' -> 'protocol', 'Content-Type' -> 'Content-type'.",
    why="The platform refuses fields it does not know (ModelArts.3016, 'unsupported fields'), and a "
    "misspelt key is a setting that silently never takes effect.",
    fix="Correct the spelling to the suggested key (keys are case-sensitive) or delete the key.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), Tables 1-8 list the "
        "keys; error code ModelArts.3016 'unsupported fields'. Inside an api object the platform is tolerant:"
        " the specification's own 'Example of a Model Configuration File Using a Custom Dependency Package', "
        "which users copy and which deploys, spells the key 'procotol', so unknown keys there are warnings."
)
BAD_VALUE = Rule(
    "CFG012", "Invalid value in config.json", E,
    what="Values must have the type and form the specification gives: model_algorithm starts with a "
    "letter, has at most 36 characters and none of & ! ' \" < > =; apis and dependencies are arrays; "
    "protocol is http or https; url starts with /; and so on.",
    why="The platform rejects a configuration file whose values do not fit the specification, and "
    "the import fails.",
    fix="Give the value the type and form named in the finding.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), Table 1 "
        "(model_algorithm: 'must start with a letter and contain no more than 36 characters'), Table 3; "
        "import event 'Invalid parameter value *xxx* exists in the model configuration file'."
)
ENGINE_MISMATCH = Rule(
    "CFG013", "model_type does not match the template's engine", E,
    what="model_type must name the template's AI engine exactly, e.g. 'PyTorch' (case matters).",
    why="model_type selects the engine image the model runs in: a different engine cannot load this "
    "template's model files, and a wrong case is an unknown engine.",
    fix="Set model_type to the engine named in the finding.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), Table 1 model_type; "
        "error code ModelArts.3053 'Model Type ({0}) not support'; a known engine other than the template's "
        "cannot load its model files (service fails)."
)
RUNTIME_MISMATCH = Rule(
    "CFG014", "runtime does not match the template", E,
    what="runtime must be the template's runtime (e.g. python2.7 for PyTorch-py27) and one the platform "
    "offers for the engine (supported_ai_frameworks, Table 3). A missing runtime means the engine's "
    "default, which is an error when that default is not the template's runtime.",
    why="runtime picks the interpreter and engine build the model runs on; code and model files "
    "written for Python 2.7 fail on a Python 3 runtime and the other way round.",
    fix="Set runtime to the value named in the finding.",
    basis=Basis.SERVICE_FAILS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), Table 1 runtime "
        "('Python 3.6 is used by default'); supported_ai_frameworks (modelarts_05_0128) Table 3; import event"
        " 'Invalid parameter value' for a runtime the engine lacks."
)
API_SHAPE = Rule(
    "CFG015", "Engine models serve one API: POST /", E,
    what="When model_type is an engine (anything but Image), apis may declare only one API, its url "
    "must be / and its method POST. An empty apis list is reported as a warning.",
    why="A built-in AI engine exposes only one inference API, at /; other declared paths or methods "
    "are never served and calls to them fail.",
    fix="Keep one API with url '/' and method 'post'; custom paths need a custom image (model_type Image).",
    basis=Basis.SERVICE_FAILS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), Table 1 apis: 'only "
        "one API whose request path is / can be declared ... because the preconfigured AI engine exposes only"
        " one inference API'."
)
CONTENT_TYPE = Rule(
    "CFG016", "Unsupported Content-type", E,
    what="The Content-type of a request or response must be application/json or multipart/form-data "
    "(the finding suggests the closest, e.g. 'applicaton/json'); machine-learning engines accept only "
    "application/json; a field of type file needs multipart/form-data.",
    why="The platform sends and parses bodies by this Content-type: an unknown one is rejected, and a "
    "file cannot be uploaded as JSON.",
    fix="Use exactly application/json or multipart/form-data, as the finding says.",
    basis=Basis.SERVICE_FAILS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), Tables 4 and 5 "
        "Content-type: 'application/json' or 'multipart/form-data'; 'For machine learning models, only "
        "application/json is supported'. The platform tolerates the misspelling 'applicaton/json': its own "
        "'Example of the Machine Learning Model Configuration File' and 'Example of a Model Configuration "
        "File Using a Custom Dependency Package' use it in the response, so that spelling is a warning."
)
DEPENDENCY = Rule(
    "CFG017", "Invalid dependency declaration", E,
    what="Each dependency has installer 'pip' and a list of packages; each package has a "
    "package_name without version operators, and a package_version comes with a restraint EXACT, "
    "ATLEAST or ATMOST (and a restraint with a version).",
    why="The platform installs the packages with pip when it builds the model image; an invalid entry "
    "fails the build, and 'numpy>=1.16' in package_name is not a package name.",
    fix="Write the package as package_name 'numpy', package_version '1.16.4', restraint 'EXACT' "
    "(or ATLEAST/ATMOST); leave both empty when any version will do.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), Tables 6 and 7; error"
        " code ModelArts.3041 'the version constraint restraint can only be EXACT, ATLEAST, ATMOST'; pip "
        "fails on an invalid requirement when the image is built."
)
SHAPE = Rule(
    "CFG018", "Invalid metrics or health", E,
    what="metrics may hold only the numbers f1, recall, precision and accuracy; health needs a url "
    "starting with /, protocol http, and initial_delay_seconds/timeout_seconds as whole seconds.",
    why="The platform shows metrics on the model page and calls the health interface during rolling "
    "upgrades; values of the wrong shape are rejected at import.",
    fix="Give the field the shape named in the finding.",
    basis=Basis.PLATFORM_REJECTS,
    evidence="specifications_for_compiling_the_model_configuration_file (modelarts_23_0092), Tables 2 and 8 "
        "(metrics are Numbers; health url mandatory, protocol 'Only HTTP is supported'); error code "
        "ModelArts.3016 'unsupported fields, types, or formats'."
)
IO_MODE_MISMATCH = Rule(
    "CFG019", "apis disagree with the selected input and output mode", W,
    what="When an input and output mode is selected, the API in config.json should accept what that "
    "mode sends: e.g. the built-in object detection mode sends multipart/form-data with an 'images' "
    "file.",
    why="The platform's console and batch services send requests as the mode defines them; a model "
    "whose declared API expects something else receives input it cannot read.",
    fix="Declare the API as the mode defines it (see build_config / the manifest), or choose the mode "
    "that matches the model.",
    basis=Basis.ADVICE,
    evidence="input_and_output_modes pages (built-in image processing / object detection / predictive analytics "
        "mode): the request each mode sends; a disagreement is accepted at import."
)

RULES: tuple[Rule, ...] = (
    NOT_UTF8, SYNTAX, LIMITS, EXTENSION, DUPLICATE_KEY, MISSING_KEY, UNKNOWN_KEY, BAD_VALUE,
    ENGINE_MISMATCH, RUNTIME_MISMATCH, API_SHAPE, CONTENT_TYPE, DEPENDENCY, SHAPE, IO_MODE_MISMATCH,
)

# --- runtimes per engine ------------------------------------------------------------------------


@attrs.frozen
class EngineRuntimes:
    """The ``runtime`` values the platform offers for one engine, and the one it uses by default."""

    engine: str
    runtimes: tuple[str, ...]
    default: str
    source: str


#: Model inference runtimes per engine. Source: supported_ai_frameworks.rst (modelarts_05_0128),
#: Table 3 "Supported AI engines and their runtime", with its stated defaults. Table 3 has no
#: python2.7 for MXNet, Caffe or PyTorch, but the platform's templates MXNet-py27 (modelarts_23_0163),
#: Caffe-CPU/GPU-py27 (modelarts_23_0167/0168) and PyTorch-py27 (modelarts_23_0165) run those engines
#: on Python 2.7, so python2.7 is added for them.
ENGINE_RUNTIMES: tuple[EngineRuntimes, ...] = (
    EngineRuntimes(
        "TensorFlow",
        ("python3.6", "python2.7", "tf1.13-python2.7-gpu", "tf1.13-python2.7-cpu", "tf1.13-python3.6-gpu",
         "tf1.13-python3.6-cpu", "tf1.13-python3.7-cpu", "tf1.13-python3.7-gpu", "tf2.1-python3.7"),
        "python2.7",
        "Table 3",
    ),
    EngineRuntimes("MXNet", ("python3.7", "python3.6", "python2.7"), "python3.6", "Table 3; MXNet-py27 template"),
    EngineRuntimes(
        "Caffe",
        ("python3.6", "python3.7", "python3.6-gpu", "python3.7-gpu", "python3.6-cpu", "python3.7-cpu", "python2.7"),
        "python3.6",
        "Table 3; Caffe-CPU/GPU-py27 templates",
    ),
    EngineRuntimes("Spark_MLlib", ("python3.6",), "python3.6", "Table 3"),
    EngineRuntimes("Scikit_Learn", ("python3.6",), "python3.6", "Table 3"),
    EngineRuntimes("XGBoost", ("python3.6",), "python3.6", "Table 3"),
    EngineRuntimes(
        "PyTorch",
        ("python3.6", "python3.7", "pytorch1.4-python3.7", "python2.7"),
        "python3.6",
        "Table 3; PyTorch-py27 template",
    ),
)

#: The runtime when config.json names none and the engine is not in the table (spec Table 1).
DEFAULT_RUNTIME = "python3.6"


def engine_runtimes(engine: str) -> EngineRuntimes | None:
    """The runtimes row of ``engine`` (exact name), or ``None`` when the table has none."""
    return next((row for row in ENGINE_RUNTIMES if row.engine == engine), None)


# --- the schema ---------------------------------------------------------------------------------


def config_schema() -> dict[str, Any]:
    """The published JSON Schema of config.json (a fresh copy)."""
    text = resources.files("modeltemplates").joinpath("schemas/config.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# --- checking -------------------------------------------------------------------------------------


@attrs.frozen
class ConfigResult:
    """The findings about a config.json and its content when it could be read as a JSON object."""

    findings: tuple[Finding, ...]
    config: dict[str, Any] | None


_DEVIATION_RULES: Mapping[Kind, tuple[Rule, Severity | None]] = {
    Kind.ENCODING: (NOT_UTF8, None),
    Kind.BINARY: (NOT_UTF8, None),
    Kind.BOM: (NOT_UTF8, W),
    Kind.SYNTAX: (SYNTAX, None),
    Kind.EMPTY: (SYNTAX, None),
    Kind.TOO_LARGE: (LIMITS, None),
    Kind.TOO_DEEP: (LIMITS, None),
    Kind.TOO_MANY_VALUES: (LIMITS, None),
    Kind.HUGE_NUMBER: (LIMITS, W),
    Kind.DUPLICATE_KEY: (DUPLICATE_KEY, None),
    Kind.TRUNCATED: (EXTENSION, INFO),
}

_DEVIATION_HINTS: Mapping[Kind, str] = {
    Kind.COMMENT: "Delete the comment; JSON has no comment syntax.",
    Kind.TRAILING_COMMA: "Delete the comma after the last item.",
    Kind.SINGLE_QUOTES: "Use double quotes around strings and keys.",
    Kind.UNQUOTED_KEY: "Put the key in double quotes.",
    Kind.NON_FINITE: "Use a finite number, or null.",
    Kind.PYTHON_LITERAL: "Write true, false or null in lower case.",
    Kind.NUMBER_FORMAT: "Write the number without a leading '+' or zeros, with digits around the '.'.",
    Kind.BAD_ESCAPE: "Use a JSON escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX), or write the character itself.",
    Kind.CONTROL_CHAR: "Escape the character (\\n, \\t, \\u0000...) or close the string.",
    Kind.WHITESPACE: "Replace it with a plain space.",
    Kind.TRAILING_DATA: "Delete everything after the closing bracket of the value.",
    Kind.HUGE_NUMBER: "Write a smaller number, or the value as a string.",
}


#: The default of ``Settings.max_config_bytes`` (the reader's own size bound for config.json).
_DEFAULT_CONFIG_BYTES = 2 << 20

#: The setting that raises each of this tool's reader limits.
_LIMIT_SETTINGS: Mapping[Kind, str] = {
    Kind.TOO_LARGE: "max_config_bytes",
    Kind.TOO_DEEP: "max_json_depth",
    Kind.TOO_MANY_VALUES: "max_json_values",
}


def _deviation_finding(path: str, deviation: Deviation) -> Finding:
    rule, severity = _DEVIATION_RULES.get(deviation.kind, (EXTENSION, None))
    message = deviation.message
    setting = _LIMIT_SETTINGS.get(deviation.kind)
    if setting is not None:
        return rule.finding(
            path, f"{message}: a limit of this tool, so config.json was not checked",
            line=deviation.line, column=deviation.column,
            hint=f"Raise Settings.{setting} if the file is genuine, or keep config.json to the specification's keys.",
        )
    if deviation.related is not None:
        message += f" (first at line {deviation.related[0]}, column {deviation.related[1]})"
    return rule.finding(
        path,
        message,
        line=deviation.line,
        column=deviation.column,
        hint=_DEVIATION_HINTS.get(deviation.kind),
        severity=severity,
    )


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    options = list(candidates)
    folded = word.casefold()
    for option in options:
        if option.casefold() == folded:
            return option
    prefixed = [option for option in options if len(folded) >= 3 and option.casefold().startswith(folded)]
    if len(prefixed) == 1:
        return prefixed[0]
    import difflib

    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


def _where(path: tuple[PathPart, ...]) -> str:
    return format_path(path) or "the top level"


class _Checker:
    """Turns what the reader, the schema and the template say into findings for one file."""

    def __init__(self, path: str, document: JsonDocument) -> None:
        self.path = path
        self.positions = document.positions
        self.config = document.value
        self.findings: list[Finding] = []

    def value_at(self, path: tuple[PathPart, ...]) -> Any:
        node = self.config
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def add(
        self,
        rule: Rule,
        message: str,
        at: tuple[PathPart, ...],
        *,
        key: bool = False,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        where = self.positions.key_position(at) if key else None
        where = where or self.positions.nearest(at)
        line, column = where if where is not None else (None, None)
        self.findings.append(
            rule.finding(self.path, message, line=line, column=column, hint=hint, severity=severity)
        )

    # schema errors

    def schema_errors(self, errors: Iterable[SchemaError]) -> None:
        seen: set[tuple[Any, ...]] = set()
        for error in errors:
            top = error.path[0] if error.path else None
            if top in ("model_type", "runtime") or error.names == ("model_type",):
                continue  # the engine and runtime checks say it better
            if error.keyword in ("required", "additionalProperties", "dependentRequired"):
                identity: tuple[Any, ...] = (error.path, error.names)
            else:
                identity = (error.path,)
            if identity in seen:
                continue
            seen.add(identity)
            self.schema_error(error, top)

    def schema_error(self, error: SchemaError, top: PathPart | None) -> None:
        conditional = "then" in error.schema_path or "else" in error.schema_path
        reason = f" ({error.description})" if conditional and error.description else ""
        hint = None if conditional else error.description
        if error.keyword == "additionalProperties":
            key = str(error.path[-1])
            suggestion = _closest(key, error.names)
            message = f"unknown key {key!r} in {_where(error.path[:-1])}"
            message += f"; did you mean {suggestion!r}?" if suggestion else ""
            known = ", ".join(error.names)
            severity = None
            if _in_api_object(error.path[:-1]):
                severity = W
                message += " The platform ignores unknown keys in an API (its own examples spell 'procotol')"
                message += ", so this setting never takes effect."
            self.add(UNKNOWN_KEY, message, error.path, key=True, hint=f"Known keys here: {known}.",
                     severity=severity)
            return
        message = f"{_where(error.path)}: {error.message}{reason}"
        if error.keyword == "pattern" and error.description:
            shown = json.dumps(self.value_at(error.path), ensure_ascii=False)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            message, hint = f"{_where(error.path)}: {shown} is not valid: {error.description}", None
        if error.schema_path[:2] == ("allOf", 0):
            self.add(API_SHAPE, message, error.path)
        elif error.path and error.path[-1] == "Content-type":
            self.content_type_error(error, message)
        elif top == "dependencies":
            self.add(DEPENDENCY, message, error.path, hint=hint)
        elif top in ("health", "metrics"):
            self.add(SHAPE, message, error.path, hint=hint)
        elif error.keyword == "required":
            missing = " and ".join(repr(n) for n in error.names) or "the key"
            self.add(MISSING_KEY, message, error.path,
                     hint=f"Add {missing} to {_where(error.path)} (see docs/config-schema.json).")
        else:
            self.add(BAD_VALUE, message, error.path, hint=hint)

    def content_type_error(self, error: SchemaError, message: str) -> None:
        allowed = [json.loads(name) for name in error.names if name.startswith('"')]
        suggestion = None
        if error.keyword == "enum":
            value = self.value_at(error.path)
            suggestion = _closest(value, allowed) if isinstance(value, str) else None
        if suggestion:
            message += f"; did you mean {suggestion!r}?"
        value = self.value_at(error.path)
        documented = TOLERATED_CONTENT_TYPES.get(value) if isinstance(value, str) else None
        if documented is not None:
            message = (f"{_where(error.path)}: {value!r} is a misspelling of {documented!r} that the platform "
                       "accepts (its own config.json examples use it); write the documented spelling")
            self.add(CONTENT_TYPE, message, error.path, severity=W, hint=f"Write {documented!r}.")
            return
        self.add(CONTENT_TYPE, message, error.path)

    # the template

    def engine(self, config: Mapping[str, Any], runtime: Runtime) -> None:
        if "model_type" not in config:
            message = f"the top level: missing required key 'model_type' (this template needs {runtime.engine!r})"
            self.add(MISSING_KEY, message, ())
            return
        model_type = config["model_type"]
        at = ("model_type",)
        if not isinstance(model_type, str):
            self.add(ENGINE_MISMATCH, f"model_type must be the string {runtime.engine!r}", at)
        elif model_type.casefold() == runtime.engine.casefold() and model_type != runtime.engine:
            self.add(ENGINE_MISMATCH, f"model_type {model_type!r} must be written {runtime.engine!r}", at)
        elif model_type != runtime.engine:
            self.add(
                ENGINE_MISMATCH,
                f"model_type {model_type!r}, but this template runs {runtime.engine} {runtime.engine_version}",
                at,
            )

    def runtime(self, config: Mapping[str, Any], runtime: Runtime) -> None:
        if config.get("model_type") == "Image":
            return  # custom images need no runtime (spec Table 1); the engine check reports the image
        target = runtime.platform_runtime
        row = engine_runtimes(runtime.engine)
        at = ("runtime",)
        if "runtime" not in config:
            default = row.default if row else DEFAULT_RUNTIME
            if default != target:
                self.add(
                    RUNTIME_MISMATCH,
                    f"runtime is missing, so the platform uses {runtime.engine}'s default {default!r}, "
                    f"but this template runs {target!r}",
                    (),
                    hint=f'Add "runtime": "{target}".',
                )
            return
        value = config["runtime"]
        if not isinstance(value, str):
            self.add(RUNTIME_MISMATCH, f"runtime must be the string {target!r}", at)
        elif row is not None and value not in row.runtimes:
            suggestion = _closest(value, row.runtimes)
            self.add(
                RUNTIME_MISMATCH,
                f"runtime {value!r} is not one the platform offers for {runtime.engine} "
                f"({', '.join(row.runtimes)})" + (f"; did you mean {suggestion!r}?" if suggestion else ""),
                at,
                hint=f'Set "runtime": "{target}".',
            )
        elif value not in runtime.platform_runtimes:
            self.add(RUNTIME_MISMATCH, f"runtime {value!r}, but this template runs {target!r}"
                     + (f" on {runtime.device}" if runtime.device else ""), at)

    def apis(self, config: Mapping[str, Any], io_mode: IOMode | None) -> None:
        apis = config.get("apis")
        if not isinstance(apis, list):
            return
        if not apis and config.get("model_type") != "Image":
            self.add(
                API_SHAPE,
                "apis is an empty list: declare the one API (POST /) or leave the key out",
                ("apis",),
                severity=W,
            )
        for index, api in enumerate(apis[:_MAX_APIS_SCANNED]):
            if isinstance(api, dict):
                self.file_fields(api, index)
        if io_mode is None or io_mode.content_type is None or not apis or not isinstance(apis[0], dict):
            return
        self.mode_agreement(apis[0], io_mode)

    def file_fields(self, api: Mapping[str, Any], index: int) -> None:
        request = api.get("request")
        if not isinstance(request, dict):
            return
        content_type = request.get("Content-type", "application/json")
        for name in _file_fields(request.get("data")):
            if content_type == "application/json":
                self.add(
                    CONTENT_TYPE,
                    f"apis[{index}].request declares the file field {name!r} but Content-type "
                    "application/json: files are uploaded as multipart/form-data",
                    ("apis", index, "request", "Content-type"),
                    severity=W,
                )

    def mode_agreement(self, api: Mapping[str, Any], mode: IOMode) -> None:
        request = api.get("request")
        if not isinstance(request, dict):
            return
        content_type = request.get("Content-type", "application/json")
        if content_type != mode.content_type:
            self.add(
                IO_MODE_MISMATCH,
                f"apis[0].request Content-type is {content_type!r}, but the {mode.title} sends "
                f"{mode.content_type!r}",
                ("apis", 0, "request", "Content-type"),
            )
        if mode.input_type == "file" and mode.input_key not in _file_fields(request.get("data")):
            self.add(
                IO_MODE_MISMATCH,
                f"apis[0].request.data declares no file field {mode.input_key!r}, which the "
                f"{mode.title} sends",
                ("apis", 0, "request", "data"),
            )


#: Content-type spellings the platform demonstrably accepts though its specification does not list them,
#: with the documented spelling: the specification's own 'Example of the Machine Learning Model
#: Configuration File' and 'Example of a Model Configuration File Using a Custom Dependency Package'
#: (modelarts_23_0092) declare the response Content-type 'applicaton/json', and users deploy copies.
TOLERATED_CONTENT_TYPES: Mapping[str, str] = {"applicaton/json": "application/json"}


def _in_api_object(path: tuple[PathPart, ...]) -> bool:
    """``apis[i]`` itself, where the platform ignores unknown keys (its example's 'procotol')."""
    return len(path) == 2 and path[0] == "apis" and isinstance(path[1], int)


#: How many apis entries the per-API checks look at (engine models may declare one; this bounds findings).
_MAX_APIS_SCANNED = 100


def _file_fields(data: Any) -> list[str]:
    """Names of the top-level body fields a request data schema declares with type file."""
    if not isinstance(data, dict) or not isinstance(data.get("properties"), dict):
        return []
    return [
        name
        for name, field in data["properties"].items()
        if isinstance(field, dict) and field.get("type") == "file"
    ]


def check_config(
    path: str, data: bytes | str, runtime: Runtime, io_mode: IOMode | None = None,
    *, limits: JsonLimits | None = None,
) -> ConfigResult:
    """Every finding about the config.json at ``path`` (package-relative) holding ``data``.

    ``config`` of the result is the parsed object whenever the text could be read as a JSON
    object, even when findings remain, so later checks can use it. ``limits`` bound the reader
    (default: ``Settings``' defaults); past them the file is reported as not checked.
    """
    limits = limits or JsonLimits(max_bytes=_DEFAULT_CONFIG_BYTES)
    document = read_json(data, limits)
    checker = _Checker(path, document)
    checker.findings.extend(_deviation_finding(path, d) for d in document.deviations)
    if not document.ok:
        return ConfigResult(sort_findings(checker.findings), None)
    config = document.value
    if not isinstance(config, dict):
        checker.add(BAD_VALUE, f"the top level must be a JSON object, not {_kind(config)}", ())
        return ConfigResult(sort_findings(checker.findings), None)
    checker.schema_errors(Validator(config_schema()).errors(config))
    checker.engine(config, runtime)
    checker.runtime(config, runtime)
    checker.apis(config, io_mode)
    return ConfigResult(sort_findings(checker.findings), config)


def _kind(value: Any) -> str:
    return {"array": "an array", "object": "an object", "integer": "a number", "null": "null"}.get(
        json_type(value), f"a {json_type(value)}"
    )


# --- building -------------------------------------------------------------------------------------

#: The ``restraint`` values of a package (spec Table 7).
RESTRAINTS = ("EXACT", "ATLEAST", "ATMOST")
_FORBIDDEN = re.compile(r"[&!'\"<>=]")
_OPERATORS = {"==": "EXACT", ">=": "ATLEAST", "<=": "ATMOST"}


def _check_name(_instance: Any, _attribute: Any, value: str) -> None:
    if not value or _FORBIDDEN.search(value):
        raise ValueError(f"package name {value!r} must be non-empty, without & ! ' \" < > =")


@attrs.frozen
class Dependency:
    """One pip package of config.json's ``dependencies``: name, optional version and restraint."""

    name: str = attrs.field(validator=_check_name)
    version: str = ""
    restraint: str = ""

    def __attrs_post_init__(self) -> None:
        if _FORBIDDEN.search(self.version):
            raise ValueError(f"package version {self.version!r} must be without & ! ' \" < > =")
        if bool(self.version) != bool(self.restraint):
            raise ValueError("a package_version needs a restraint and a restraint needs a version")
        if self.restraint and self.restraint not in RESTRAINTS:
            raise ValueError(f"restraint {self.restraint!r} is not one of {', '.join(RESTRAINTS)}")

    @classmethod
    def parse(cls, requirement: str) -> Dependency:
        """``numpy==1.16.4`` (EXACT), ``numpy>=1.16`` (ATLEAST), ``numpy<=2`` (ATMOST) or ``numpy``."""
        for operator, restraint in _OPERATORS.items():
            name, found, version = requirement.partition(operator)
            if found:
                return cls(name.strip(), version.strip(), restraint)
        return cls(requirement.strip())

    def to_json(self) -> dict[str, str]:
        """The package entry; name only when any version will do (spec Table 7, note)."""
        entry = {"package_name": self.name}
        if self.version:
            entry |= {"package_version": self.version, "restraint": self.restraint}
        return entry


def build_config(
    runtime: Runtime,
    io_mode: IOMode,
    dependencies: Iterable[Dependency | Mapping[str, Any]] = (),
    *,
    model_algorithm: str | None = None,
) -> dict[str, Any]:
    """The config.json a template stands for: engine, runtime, the mode's API, dependencies.

    ``dependencies`` are :class:`Dependency` objects (gathered into one pip entry) and/or whole
    ``dependencies`` entries of an existing config.json (copied as they are).
    """
    config: dict[str, Any] = {
        "model_algorithm": model_algorithm or io_mode.model_algorithm,
        "model_type": runtime.engine,
        "runtime": runtime.platform_runtime,
    }
    apis = io_mode.apis()
    if apis:
        config["apis"] = apis
    given = list(dependencies)
    entries: list[dict[str, Any]] = []
    packages = [d.to_json() for d in given if isinstance(d, Dependency)]
    if packages:
        entries.append({"installer": "pip", "packages": packages})
    entries.extend(copy.deepcopy(dict(d)) for d in given if isinstance(d, Mapping))
    if entries:
        config["dependencies"] = entries
    return config

