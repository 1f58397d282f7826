"""A small JSON Schema (draft 2020-12) validator for the keywords this package's schemas use.

The library may depend only on attrs and pathspec, so the published schemas are enforced by this
module rather than by the ``jsonschema`` package (the tests check that both agree). A
:class:`Validator` refuses, when made, a schema with a keyword it does not implement, so a schema
can never be silently half-checked. Errors carry the instance path, the failing keyword and what a
good message needs (known key names, allowed values, the schema's ``description``).

Supported: ``type enum const`` · ``properties required additionalProperties patternProperties
propertyNames minProperties maxProperties dependentRequired`` · ``items prefixItems minItems maxItems
uniqueItems`` · ``minLength maxLength pattern`` · ``minimum maximum exclusiveMinimum
exclusiveMaximum`` · ``allOf anyOf oneOf not if then else`` · ``$ref`` (local JSON pointers) and
``$defs``; annotations (``title``, ``description``, ``$comment``...) are ignored.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

__all__ = ["SUPPORTED_KEYWORDS", "SchemaError", "UnsupportedSchemaError", "Validator", "json_type"]

PathPart = str | int

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated",
     "readOnly", "writeOnly"}
)
_ONE_SCHEMA = frozenset({"additionalProperties", "items", "propertyNames", "not", "if", "then", "else"})
_SCHEMA_LIST = frozenset({"prefixItems", "allOf", "anyOf", "oneOf"})
_SCHEMA_MAP = frozenset({"properties", "patternProperties", "$defs"})
_VALUES = frozenset(
    {"$ref", "type", "enum", "const", "required", "minProperties", "maxProperties", "dependentRequired",
     "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
     "exclusiveMinimum", "exclusiveMaximum"}
)
#: Every keyword a :class:`Validator` accepts in a schema.
SUPPORTED_KEYWORDS = _ANNOTATIONS | _ONE_SCHEMA | _SCHEMA_LIST | _SCHEMA_MAP | _VALUES


class UnsupportedSchemaError(ValueError):
    """The schema uses a keyword or reference this validator does not implement."""


@attrs.frozen
class SchemaError:
    """One way an instance fails a schema.

    ``path`` locates the offending value in the instance (for ``additionalProperties`` and
    ``propertyNames``, the offending key). ``names`` holds the known keys (``additionalProperties``),
    the allowed values as JSON text (``enum``, ``const``) or the missing key (``required``).
    ``description`` is the failing schema's own, or that of the ``if`` whose branch failed.
    """

    path: tuple[PathPart, ...]
    keyword: str
    message: str
    schema_path: tuple[PathPart, ...]
    names: tuple[str, ...] = ()
    description: str | None = None


def json_type(value: Any) -> str:
    """The JSON type name of a Python value as :mod:`json` would produce it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _is_type(value: Any, name: str) -> bool:
    actual = json_type(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == name


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1."""
    ta, tb = json_type(a), json_type(b)
    if {ta, tb} <= {"integer", "number"}:
        return bool(a == b)
    if ta != tb:
        return False
    if ta == "array":
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if ta == "object":
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _show(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _resolve(root: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#"):
        raise UnsupportedSchemaError(f"only local references are supported, not {ref!r}")
    node: Any = root
    for token in filter(None, ref[1:].split("/")):
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise UnsupportedSchemaError(f"reference {ref!r} does not resolve")
    return node


def _subschemas(schema: Mapping[str, Any]) -> Iterator[Any]:
    for keyword, value in schema.items():
        if keyword in _ONE_SCHEMA:
            yield value
        elif keyword in _SCHEMA_LIST:
            yield from value
        elif keyword in _SCHEMA_MAP:
            yield from value.values()


def _check_schema(root: Mapping[str, Any]) -> None:
    pending: list[Any] = [root]
    while pending:
        schema = pending.pop()
        if isinstance(schema, bool):
            continue
        if not isinstance(schema, Mapping):
            raise UnsupportedSchemaError(f"a schema must be an object or a boolean, not {_show(schema)}")
        unknown = sorted(set(schema) - SUPPORTED_KEYWORDS)
        if unknown:
            raise UnsupportedSchemaError(f"unsupported keyword(s): {', '.join(unknown)}")
        if "$ref" in schema:
            _resolve(root, schema["$ref"])
        if "pattern" in schema:
            re.compile(schema["pattern"])
        pending.extend(_subschemas(schema))


def _validate_schema(_instance: Any, _attribute: Any, schema: Mapping[str, Any]) -> None:
    _check_schema(schema)


class _TooMany(Exception):
    pass


@attrs.frozen
class _At:
    """Where a walk is: instance path, schema path, depth, and the note of an enclosing ``if``."""

    path: tuple[PathPart, ...] = ()
    spath: tuple[PathPart, ...] = ()
    depth: int = 0
    note: str | None = None

    def into(self, key: PathPart | None, *schema_keys: PathPart, note: str | None = None) -> _At:
        path = self.path if key is None else (*self.path, key)
        return _At(path, (*self.spath, *schema_keys), self.depth + 1, note or self.note)


@attrs.frozen
class Validator:
    """Validates instances against one schema (checked for supported keywords when made)."""

    schema: Mapping[str, Any] = attrs.field(validator=_validate_schema)
    max_errors: int = 100
    max_depth: int = 200

    def errors(self, instance: Any) -> list[SchemaError]:
        """Every error (at most ``max_errors``), in the order the schema's keywords find them."""
        return _Run(self.schema, self.max_errors, self.max_depth).collect(instance, self.schema, _At())

    def is_valid(self, instance: Any) -> bool:
        return not _Run(self.schema, 1, self.max_depth).collect(instance, self.schema, _At())


class _Run:
    """One validation: walks instance and schema together, gathering errors."""

    def __init__(self, root: Mapping[str, Any], limit: int, max_depth: int) -> None:
        self.root = root
        self.limit = limit
        self.max_depth = max_depth
        self.out: list[SchemaError] = []

    def collect(self, instance: Any, schema: Any, at: _At) -> list[SchemaError]:
        with contextlib.suppress(_TooMany):
            self.check(instance, schema, at)
        return self.out

    def probe(self, instance: Any, schema: Any, at: _At, limit: int | None = None) -> list[SchemaError]:
        """Errors of a sub-validation that decides something but is not itself reported."""
        return _Run(self.root, limit or self.limit, self.max_depth).collect(instance, schema, at)

    def fails(self, instance: Any, schema: Any, at: _At) -> bool:
        return bool(self.probe(instance, schema, at, limit=1))

    def fail(
        self,
        at: _At,
        schema: Mapping[str, Any],
        keyword: str,
        message: str,
        *,
        names: tuple[str, ...] = (),
        key: PathPart | None = None,
    ) -> None:
        description = at.note or schema.get("description")
        path = at.path if key is None else (*at.path, key)
        self.out.append(SchemaError(path, keyword, message, (*at.spath, keyword), names, description))
        if len(self.out) >= self.limit:
            raise _TooMany

    def check(self, instance: Any, schema: Any, at: _At) -> None:
        if schema is True:
            return
        if schema is False:
            self.fail(at, {}, "false", "no value is allowed here")
            return
        if at.depth > self.max_depth:
            self.fail(at, schema, "depth", f"nested deeper than {self.max_depth} levels")
            return
        if "$ref" in schema:
            self.check(instance, _resolve(self.root, schema["$ref"]), at.into(None, "$ref"))
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_is_type(instance, t) for t in types):
                self.fail(at, schema, "type", f"expected {' or '.join(types)}, got {json_type(instance)}")
                return
        if "const" in schema and not _equal(instance, schema["const"]):
            shown = _show(schema["const"])
            self.fail(at, schema, "const", f"must be {shown}, not {_show(instance)}", names=(shown,))
        if "enum" in schema and not any(_equal(instance, v) for v in schema["enum"]):
            allowed = tuple(_show(v) for v in schema["enum"])
            self.fail(at, schema, "enum", f"{_show(instance)} is not one of {', '.join(allowed)}", names=allowed)
        kind = json_type(instance)
        if kind == "string":
            self.check_string(instance, schema, at)
        elif kind in ("integer", "number"):
            self.check_number(instance, schema, at)
        elif kind == "object":
            self.check_object(instance, schema, at)
        elif kind == "array":
            self.check_array(instance, schema, at)
        self.check_combinators(instance, schema, at)

    def check_string(self, instance: str, schema: Mapping[str, Any], at: _At) -> None:
        if "minLength" in schema and len(instance) < schema["minLength"]:
            self.fail(at, schema, "minLength", f"must have at least {_plural(schema['minLength'], 'character')}")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            self.fail(at, schema, "maxLength", f"must have at most {_plural(schema['maxLength'], 'character')}")
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            self.fail(at, schema, "pattern", f"{_show(instance)} does not match the pattern {schema['pattern']}")

    def check_number(self, instance: float, schema: Mapping[str, Any], at: _At) -> None:
        for keyword, words in _BOUNDS.items():
            if keyword in schema and not _within(keyword, instance, schema[keyword]):
                self.fail(at, schema, keyword, f"must be {words} {schema[keyword]}, not {_show(instance)}")

    def check_object(self, instance: Mapping[str, Any], schema: Mapping[str, Any], at: _At) -> None:
        for name in schema.get("required", ()):
            if name not in instance:
                self.fail(at, schema, "required", f"missing required key {name!r}", names=(name,))
        count = len(instance)
        if "minProperties" in schema and count < schema["minProperties"]:
            self.fail(at, schema, "minProperties", f"must have at least {_plural(schema['minProperties'], 'key')}")
        if "maxProperties" in schema and count > schema["maxProperties"]:
            self.fail(at, schema, "maxProperties", f"must have at most {_plural(schema['maxProperties'], 'key')}")
        for name, needed in schema.get("dependentRequired", {}).items():
            for other in needed if name in instance else ():
                if other not in instance:
                    message = f"{other!r} is required when {name!r} is present"
                    self.fail(at, schema, "dependentRequired", message, names=(other,))
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key, value in instance.items():
            matched = key in properties
            if matched:
                self.check(value, properties[key], at.into(key, "properties", key))
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    matched = True
                    self.check(value, sub, at.into(key, "patternProperties", pattern))
            extra = schema.get("additionalProperties", True)
            if not matched and extra is False:
                known = tuple(sorted(properties))
                self.fail(at, schema, "additionalProperties", f"unknown key {key!r}", names=known, key=key)
            elif not matched:
                self.check(value, extra, at.into(key, "additionalProperties"))
            if "propertyNames" in schema:
                self.check(key, schema["propertyNames"], at.into(key, "propertyNames"))

    def check_array(self, instance: Sequence[Any], schema: Mapping[str, Any], at: _At) -> None:
        count = len(instance)
        if "minItems" in schema and count < schema["minItems"]:
            self.fail(at, schema, "minItems", f"must have at least {_plural(schema['minItems'], 'item')}, has {count}")
        if "maxItems" in schema and count > schema["maxItems"]:
            self.fail(at, schema, "maxItems", f"must have at most {_plural(schema['maxItems'], 'item')}, has {count}")
        if schema.get("uniqueItems"):
            for index, item in enumerate(instance):
                if any(_equal(item, earlier) for earlier in instance[:index]):
                    self.fail(at, schema, "uniqueItems", f"item {index} repeats an earlier item", key=index)
        prefix = schema.get("prefixItems", [])
        for index, item in enumerate(instance):
            if index < len(prefix):
                self.check(item, prefix[index], at.into(index, "prefixItems", index))
            elif "items" in schema:
                self.check(item, schema["items"], at.into(index, "items"))
            else:
                break

    def check_combinators(self, instance: Any, schema: Mapping[str, Any], at: _At) -> None:
        for index, sub in enumerate(schema.get("allOf", ())):
            self.check(instance, sub, at.into(None, "allOf", index))
        for keyword in ("anyOf", "oneOf"):
            if keyword not in schema:
                continue
            failures = [self.probe(instance, sub, at.into(None, keyword, i)) for i, sub in enumerate(schema[keyword])]
            passing = sum(1 for f in failures if not f)
            if passing == 0:
                closest = min(failures, key=len)[0].message
                message = f"matches none of the {len(failures)} allowed forms; closest: {closest}"
                self.fail(at, schema, keyword, message)
            elif keyword == "oneOf" and passing > 1:
                self.fail(at, schema, keyword, f"matches {passing} of the forms where exactly one must match")
        if "not" in schema and not self.fails(instance, schema["not"], at.into(None, "not")):
            self.fail(at, schema, "not", f"{_show(instance)} is not allowed here")
        if "if" in schema:
            branch = "else" if self.fails(instance, schema["if"], at.into(None, "if")) else "then"
            if branch in schema:
                self.check(instance, schema[branch], at.into(None, branch, note=schema.get("description")))


_BOUNDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "greater than",
    "exclusiveMaximum": "less than",
}


def _within(keyword: str, value: float, bound: float) -> bool:
    if keyword == "minimum":
        return value >= bound
    if keyword == "maximum":
        return value <= bound
    if keyword == "exclusiveMinimum":
        return value > bound
    return value < bound
