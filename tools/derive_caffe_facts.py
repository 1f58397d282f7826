"""Derive the Caffe 1.0 facts table (``modeltemplates/engines/caffe/facts.py``) from Caffe 1.0 itself.

Reads the 1.0 sources of BVLC/caffe (``git archive 1.0 src`` of github.com/BVLC/caffe, the tag of
the 1.0 release), never builds or imports them:

- ``src/caffe/proto/caffe.proto``: every message with its fields (name, number, label, type) and
  every enum with its values -- the schema Caffe's text-format parser (``ReadProtoFromTextFile``)
  and binary parser (``ReadProtoFromBinaryFile``) apply;
- ``src/caffe/layers/*.cpp`` and ``src/caffe/layer_factory.cpp``: the layer types Caffe 1.0
  registers (``REGISTER_LAYER_CLASS(Name)`` and ``REGISTER_LAYER_CREATOR(Name, ...)``); ``Python``
  is registered only in builds made WITH_PYTHON_LAYER and is marked so;
- ``src/caffe/util/upgrade_proto.cpp``: the V1 layer enum -> type name mapping of
  ``UpgradeV1LayerType`` (how 1.0 reads nets written with the old ``layers`` field).

Usage::

    python tools/derive_caffe_facts.py CAFFE_1_0_SOURCES > modeltemplates/engines/caffe/facts.py
"""

from __future__ import annotations

import pathlib
import re
import sys

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_.]*|-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[{}=;\[\](),<>]')


def _tokens(text: str) -> list[str]:
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return _TOKEN.findall(text)


def parse_proto(text: str) -> tuple[dict[str, dict[str, tuple[int, str, str]]], dict[str, dict[str, int]]]:
    """messages: full name -> field name -> (number, label, type); enums: full name -> value -> number."""
    toks = _tokens(text)
    messages: dict[str, dict[str, tuple[int, str, str]]] = {}
    enums: dict[str, dict[str, int]] = {}
    scope: list[tuple[str, str]] = []  # (kind, name)
    i = 0
    while i < len(toks):
        t = toks[i]
        if t in ("syntax", "package", "option", "import"):
            while toks[i] != ";":
                i += 1
            i += 1
            continue
        if t in ("message", "enum"):
            name = ".".join([n for _, n in scope] + [toks[i + 1]])
            scope.append((t, name.split(".")[-1]))
            (messages if t == "message" else enums)[name] = {}
            i += 3
            continue
        if t == "}":
            scope.pop()
            i += 1
            continue
        if t == "reserved" or t == "extensions":
            while toks[i] != ";":
                i += 1
            i += 1
            continue
        current = ".".join(n for _, n in scope)
        if scope and scope[-1][0] == "enum":
            # NAME = number [options];
            enums[current][t] = int(toks[i + 2])
            while toks[i] != ";":
                i += 1
            i += 1
            continue
        if t in ("optional", "repeated", "required"):
            label, ftype, fname, number = t, toks[i + 1], toks[i + 2], int(toks[i + 4])
            messages[current][fname] = (number, label, ftype)
            while toks[i] != ";":
                i += 1
            i += 1
            continue
        raise SystemExit(f"unexpected token {t!r} at {i}")
    return messages, enums


def resolve(messages: dict[str, dict[str, tuple[int, str, str]]], enums: dict[str, dict[str, int]]
            ) -> dict[str, dict[str, tuple[int, str, str]]]:
    """Qualify every message/enum type by protobuf's scoping rules (innermost scope first)."""
    out: dict[str, dict[str, tuple[int, str, str]]] = {}
    for msg, fields in messages.items():
        out[msg] = {}
        for fname, (number, label, ftype) in fields.items():
            kind = ftype
            parts = msg.split(".")
            for depth in range(len(parts), -1, -1):
                candidate = ".".join([*parts[:depth], ftype])
                if candidate in messages:
                    kind = "message:" + candidate
                    break
                if candidate in enums:
                    kind = "enum:" + candidate
                    break
            out[msg][fname] = (number, label, kind)
    return out


def layer_types(src: pathlib.Path) -> tuple[list[str], list[str]]:
    always: set[str] = set()
    python_only: set[str] = set()
    for path in sorted([*src.joinpath("caffe/layers").glob("*.cpp"), src / "caffe/layer_factory.cpp"]):
        text = path.read_text("utf-8")
        guarded = False
        for line in text.splitlines():
            if line.startswith("#ifdef WITH_PYTHON_LAYER"):
                guarded = True
            elif line.startswith("#endif"):
                guarded = False
            m = re.match(r"\s*REGISTER_LAYER_(?:CLASS|CREATOR)\(\s*(\w+)", line)
            if m:
                (python_only if guarded else always).add(m.group(1))
    return sorted(always), sorted(python_only - always)


def v1_types(src: pathlib.Path) -> dict[str, str]:
    text = src.joinpath("caffe/util/upgrade_proto.cpp").read_text("utf-8")
    body = text[text.index("UpgradeV1LayerType"):]
    out: dict[str, str] = {}
    for m in re.finditer(r"case V1LayerParameter_LayerType_(\w+):\s*return \"(\w*)\";", body):
        out[m.group(1)] = m.group(2)
    return out


def main() -> None:
    root = pathlib.Path(sys.argv[1])
    messages, enums = parse_proto(root.joinpath("src/caffe/proto/caffe.proto").read_text("utf-8"))
    fields = resolve(messages, enums)
    always, python_only = layer_types(root / "src")
    v1 = v1_types(root / "src")
    w = sys.stdout.write
    w('"""Caffe 1.0 facts as data: its layer types and the protobuf schema of its network files.\n\n')
    w("Generated by ``tools/derive_caffe_facts.py`` (read its docstring) from the sources of BVLC/caffe at\n")
    w("tag 1.0: src/caffe/proto/caffe.proto, the REGISTER_LAYER_* lines of src/caffe/layers/*.cpp and\n")
    w("src/caffe/layer_factory.cpp, and UpgradeV1LayerType in src/caffe/util/upgrade_proto.cpp.\n")
    w('Do not edit by hand.\n"""\n\nfrom __future__ import annotations\n\n')
    w(f"#: Layer types Caffe 1.0 registers in every build: {len(always)} names.\n")
    w("LAYER_TYPES: frozenset[str] = frozenset({\n")
    for name in always:
        w(f"    {name!r},\n")
    w("})\n")
    w("#: Layer types registered only in builds made WITH_PYTHON_LAYER.\n")
    w(f"PYTHON_LAYER_TYPES: frozenset[str] = frozenset({set(python_only)!r})\n\n")
    w("#: V1LayerParameter.LayerType enum name -> the type 1.0 upgrades it to ('' = no longer supported).\n")
    w("V1_LAYER_TYPES: dict[str, str] = {\n")
    for k, v in sorted(v1.items()):
        w(f"    {k!r}: {v!r},\n")
    w("}\n\n")
    w("#: Messages of caffe.proto: field name -> (number, label, type). Types are scalar names,\n")
    w("#: 'message:<Name>' or 'enum:<Name>' (nested names joined with '.').\n")
    w("MESSAGES: dict[str, dict[str, tuple[int, str, str]]] = {\n")
    for msg in sorted(fields):
        w(f"    {msg!r}: {{\n")
        for fname, spec in sorted(fields[msg].items(), key=lambda kv: kv[1][0]):
            w(f"        {fname!r}: {spec!r},\n")
        w("    },\n")
    w("}\n\n")
    w("#: Enums of caffe.proto: value name -> number.\n")
    w("ENUMS: dict[str, dict[str, int]] = {\n")
    for enum in sorted(enums):
        w(f"    {enum!r}: {{\n")
        for value, number in enums[enum].items():
            w(f"        {value!r}: {number},\n")
        w("    },\n")
    w("}\n")
    sys.stderr.write(f"{len(always)} layer types (+{len(python_only)} Python-only), {len(v1)} V1 types, "
                     f"{len(fields)} messages, {len(enums)} enums\n")


if __name__ == "__main__":
    main()
