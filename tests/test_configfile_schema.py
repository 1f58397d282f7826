"""The published config.json schema, the in-library validator, and their agreement with jsonschema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modeltemplates.checks.configfile import Dependency, build_config, config_schema
from modeltemplates.inspect.minischema import SUPPORTED_KEYWORDS, UnsupportedSchemaError, Validator
from modeltemplates.iomodes import IO_MODES, IOMode
from modeltemplates.runtime import Runtime
from tests.test_configfile import SPEC_CONFIGS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = config_schema()
OURS = Validator(SCHEMA)
THEIRS = jsonschema.Draft202012Validator(SCHEMA)
TEMPLATES = [Runtime("PyTorch", "1.0", "2.7"), Runtime("PyTorch", "1.0", "3.7")]


def their_paths(instance: Any) -> set[tuple[Any, ...]]:
    return {tuple(e.absolute_path) for e in THEIRS.iter_errors(instance)}


def our_paths(instance: Any) -> set[tuple[Any, ...]]:
    return {e.path[:-1] if e.keyword == "additionalProperties" else e.path for e in OURS.errors(instance)}


def assert_agree(instance: Any) -> None:
    assert OURS.is_valid(instance) == THEIRS.is_valid(instance)
    assert our_paths(instance) == their_paths(instance)


def test_published_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_docs_copy_is_identical_to_the_packaged_schema() -> None:
    packaged = (ROOT / "modeltemplates/schemas/config.schema.json").read_bytes()
    assert (ROOT / "docs/config-schema.json").read_bytes() == packaged
    assert json.loads(packaged) == SCHEMA


def test_schema_uses_only_keywords_the_validator_implements() -> None:
    Validator(SCHEMA)  # raises otherwise
    assert "unevaluatedProperties" not in SUPPORTED_KEYWORDS


@pytest.mark.parametrize("runtime", TEMPLATES, ids=str)
@pytest.mark.parametrize("mode", IO_MODES, ids=lambda m: m.id)
@pytest.mark.parametrize("with_deps", [False, True])
def test_build_config_validates_for_every_mode(runtime: Runtime, mode: IOMode, with_deps: bool) -> None:
    deps = [Dependency.parse("numpy==1.16.4"), Dependency.parse("Pillow>=5.2"), Dependency("six")] if with_deps else []
    config = build_config(runtime, mode, deps)
    assert OURS.errors(config) == []
    THEIRS.validate(config)
    assert config["model_type"] == "PyTorch" and config["runtime"] == runtime.platform_runtime
    assert ("apis" in config) == (mode.content_type is not None)
    assert ("dependencies" in config) == with_deps


@pytest.mark.parametrize("name", list(SPEC_CONFIGS))
def test_validators_agree_on_the_spec_examples(name: str) -> None:
    assert_agree(SPEC_CONFIGS[name][1])


BASE = build_config(TEMPLATES[0], IO_MODES[0], [Dependency.parse("numpy==1.16.4")])

MUTATIONS: list[tuple[str, Any]] = [
    ("model_algorithm", "9starts-with-digit"),
    ("model_algorithm", "x" * 37),
    ("model_algorithm", "has=equals"),
    ("model_type", "pytorch"),
    ("model_type", 3),
    ("runtime", ""),
    ("swr_location", ""),
    ("metrics", {"f1": "high", "acc": 1}),
    ("metrics", []),
    ("apis", {}),
    ("apis", [{"url": "/a", "method": "GET", "protocol": "ftp"}]),
    ("apis", [{"url": "/"}, {"url": "/"}]),
    ("apis", [{"procotol": "http"}]),
    ("apis", [{"request": {"Content-type": "text/plain", "data": "x"}}]),
    ("apis", [{"request": {"Content-Type": "application/json"}}]),
    ("apis", [7]),
    ("dependencies", [{"installer": "conda", "packages": []}]),
    ("dependencies", [{"packages": [{"package_name": "a>=1"}]}]),
    ("dependencies", [{"installer": "pip", "packages": [{"package_name": "a", "package_version": "1"}]}]),
    ("dependencies", [{"installer": "pip", "packages": [{"package_name": "a", "restraint": "EXACT"}]}]),
    ("dependencies", [{"installer": "pip", "packages": [{"package_name": "a", "restraint": "ANY"}]}]),
    (
        "dependencies",
        [{"installer": "pip", "packages": [{"package_name": "a", "package_version": "", "restraint": ""}]}],
    ),
    ("health", {"url": "/health", "protocol": "http", "initial_delay_seconds": "30", "timeout_seconds": 5}),
    ("health", {"url": "health", "timeout_seconds": -1, "initial_delay_seconds": "1.5"}),
    ("health", {"protocol": "https"}),
    ("unknown_top", 1),
]


@pytest.mark.parametrize(("key", "value"), MUTATIONS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(MUTATIONS)])
def test_validators_agree_on_mutations(key: str, value: Any) -> None:
    instance = copy.deepcopy(BASE)
    instance[key] = value
    assert_agree(instance)


def test_image_models_may_declare_several_apis_and_ml_engines_only_json() -> None:
    image = {"model_algorithm": "a", "model_type": "Image", "apis": [{"url": "/a"}, {"url": "/b", "method": "get"}]}
    assert OURS.is_valid(image) and THEIRS.is_valid(image)
    ml = {
        "model_algorithm": "a",
        "model_type": "XGBoost",
        "apis": [{"request": {"Content-type": "multipart/form-data"}}],
    }
    assert_agree(ml)
    assert [e.description for e in OURS.errors(ml)] == [
        "machine-learning engines (Spark_MLlib, Scikit_Learn, XGBoost) only accept application/json"
    ]


json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(-2, 2)
    | st.sampled_from(
        ["", "/", "pip", "EXACT", "http", "post", "application/json", "PyTorch", "Image", "a>=1", "1.0", "x"]
    )
)
KEYS = st.sampled_from(
    [
        "url",
        "method",
        "protocol",
        "request",
        "response",
        "Content-type",
        "data",
        "installer",
        "packages",
        "package_name",
        "package_version",
        "restraint",
        "f1",
        "timeout_seconds",
        "zzz",
    ]
)
json_any = st.recursive(
    json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(KEYS, c, max_size=3), max_leaves=8
)
paths_in_base = [
    ("model_type",),
    ("runtime",),
    ("apis",),
    ("apis", 0),
    ("apis", 0, "request"),
    ("apis", 0, "url"),
    ("dependencies",),
    ("dependencies", 0),
    ("dependencies", 0, "packages", 0),
    ("metrics",),
    ("health",),
]


@settings(max_examples=300, deadline=None)
@given(where=st.sampled_from(paths_in_base), value=json_any)
def test_validators_agree_on_random_replacements(where: tuple[Any, ...], value: Any) -> None:
    instance: Any = copy.deepcopy(BASE)
    node = instance
    for part in where[:-1]:
        node = node[part] if not isinstance(node, list) or part < len(node) else node[-1]
    if isinstance(node, dict) or (isinstance(node, list) and where[-1] < len(node)):
        node[where[-1]] = value
    assert OURS.is_valid(instance) == THEIRS.is_valid(instance)
    assert our_paths(instance) == their_paths(instance)


# --- the validator on keywords the config schema does not use ------------------------------------

KEYWORD_CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 3}]}, ["a", 3, 2, None]),
    ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, [1.5, 1, "x"]),
    ({"not": {"const": 1}}, [1, 1.0, True, 2]),
    ({"enum": [1, True, [1, {"a": None}]]}, [1.0, True, 1, [1, {"a": None}], [True, {"a": None}], False]),
    ({"type": "integer"}, [1, 1.0, 1.5, True]),
    (
        {"patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": False},
        [{"x_a": "s"}, {"x_a": 1}, {"y": 1}],
    ),
    ({"propertyNames": {"maxLength": 2}}, [{"ab": 1}, {"abc": 1}]),
    ({"uniqueItems": True}, [[1, 2], [1, 1.0], [[1], [1]], [True, 1]]),
    ({"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}, [["a", 1, 2], [1], ["a", "b"], []]),
    ({"dependentRequired": {"a": ["b"]}}, [{"a": 1}, {"a": 1, "b": 2}, {"b": 1}]),
    ({"exclusiveMinimum": 0, "exclusiveMaximum": 1, "maximum": 0.5}, [0, 0.5, 0.7, 1]),
    ({"minProperties": 1, "maxProperties": 1}, [{}, {"a": 1}, {"a": 1, "b": 2}]),
    ({"$defs": {"s": {"type": "string"}}, "type": "array", "items": {"$ref": "#/$defs/s"}}, [["a"], [1]]),
    ({"if": {"type": "string"}, "then": {"minLength": 2}, "else": {"type": "integer"}}, ["a", "ab", 1, 1.5]),
    ({"allOf": [True, {"type": "object"}]}, [{}, []]),
    (False, [1]),
]


@pytest.mark.parametrize(("schema", "instances"), KEYWORD_CASES, ids=[str(i) for i in range(len(KEYWORD_CASES))])
def test_validator_keywords_agree_with_jsonschema(schema: Any, instances: list[Any]) -> None:
    full = schema if isinstance(schema, bool) else {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    ours, theirs = Validator(full) if isinstance(full, dict) else None, jsonschema.Draft202012Validator(full)
    for instance in instances:
        if ours is None:
            assert not theirs.is_valid(instance)
            continue
        assert ours.is_valid(instance) == theirs.is_valid(instance), instance


def test_unsupported_schemas_are_refused_when_made() -> None:
    with pytest.raises(UnsupportedSchemaError, match="unevaluatedProperties"):
        Validator({"properties": {"a": {"unevaluatedProperties": False}}})
    with pytest.raises(UnsupportedSchemaError, match="does not resolve"):
        Validator({"$ref": "#/$defs/missing"})
    with pytest.raises(UnsupportedSchemaError, match="only local references"):
        Validator({"$ref": "https://example.org/schema"})


def test_errors_say_what_a_message_needs() -> None:
    errors = OURS.errors({"model_algorithm": "a", "model_type": "PyTorch", "apis": [{"procotol": "http"}]})
    (unknown,) = errors
    assert unknown.path == ("apis", 0, "procotol")
    assert unknown.keyword == "additionalProperties"
    assert unknown.names == ("method", "protocol", "request", "response", "url")
    (missing,) = OURS.errors({"model_type": "PyTorch"})
    assert (missing.path, missing.keyword, missing.names) == ((), "required", ("model_algorithm",))


def test_error_count_and_depth_are_bounded() -> None:
    many = Validator({"type": "array", "items": {"type": "string"}}, max_errors=5)
    assert len(many.errors(list(range(1000)))) == 5
    nested: Any = []
    for _ in range(500):
        nested = [nested]
    deep = Validator({"$defs": {"a": {"type": "array", "items": {"$ref": "#/$defs/a"}}}, "$ref": "#/$defs/a"})
    assert [e.keyword for e in deep.errors(nested)] == ["depth"]
