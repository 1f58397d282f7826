"""Derive the TensorFlow 1.8 facts table (modeltemplates/engines/tensorflow/tf18_ops.json) from the
published TensorFlow 1.8.0 wheel itself, without importing TensorFlow.

    pip download --no-deps tensorflow==1.8.0 --platform manylinux1_x86_64 --python-version 36 \
        --only-binary=:all: -d /tmp/tf18
    python tools/derive_tf18_facts.py /tmp/tf18/tensorflow-1.8.0-cp36-cp36m-manylinux1_x86_64.whl

Sources inside the wheel:
- every generated op wrapper outside tf.contrib (``tensorflow/python/**/gen_*_ops.py``) ends with
  ``_op_def_lib = _InitOpDefLibrary(b"...")``: the serialized ``OpList`` of the ops it wraps, each
  ``OpDef`` with its attributes, their defaults and its deprecation. The literal is read with
  ``ast.literal_eval`` (a bytes literal, nothing executed) and decoded with our own wire reader;
- ops of ``tf.contrib`` (``tensorflow/contrib/**/gen_*_ops.py``): registered only once the script
  touches that contrib module, so they are kept apart;
- the GraphDef version range: ``TF_GRAPH_DEF_VERSION``, ``TF_GRAPH_DEF_VERSION_MIN_CONSUMER`` and
  ``TF_GRAPH_DEF_VERSION_MIN_PRODUCER`` in ``tensorflow/include/tensorflow/core/public/version.h``;
- ops the C++ runtime registers without any Python wrapper (``_Arg``, ``_Retval``, ``_Send`` ...):
  the short list below, each confirmed by finding its name as a C string in the wheel's
  ``_pywrap_tensorflow_internal.so``.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modeltemplates.engines import protowire as pw  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "modeltemplates" / "engines" / "tensorflow" / "tf18_ops.json"
# Registered in C++ only (graph/function plumbing); kept when the .so names them.
CPP_ONLY = ("_Arg", "_Retval", "_Send", "_Recv", "_HostSend", "_HostRecv", "_ListToArray", "_ArrayToList",
            "_ParallelConcatStart", "_ParallelConcatUpdate", "_HostCast", "_UnaryOpsComposition")
_LITERAL = re.compile(rb'_op_def_lib = _InitOpDefLibrary\((b".*")\)\s*$', re.M)


def _attr_default(buf: bytes, s: int, e: int) -> object:
    """An AttrValue default, as JSON (enough to compare with a node's value)."""
    for num, wt, v, fs, fe in pw.iter_fields(buf, s, e):
        if num == 2:
            return {"s": buf[fs:fe].decode("utf-8", "replace")}
        if num == 3:
            return {"i": pw.int64(v)}
        if num == 4:
            return {"f": pw.float32(v)}
        if num == 5:
            return {"b": bool(v)}
        if num == 6:
            return {"type": v}
        if num in (1, 7, 8, 9, 10):
            return {"raw": buf[fs:fe].hex(), "field": num}
        del wt
    return {}


def parse_op_list(buf: bytes) -> dict[str, dict[str, object]]:
    ops: dict[str, dict[str, object]] = {}
    for num, _, _, s, e in pw.iter_fields(buf):
        if num != 1:
            continue
        name = ""
        attrs: list[list[object]] = []
        deprecation: list[object] | None = None
        for fnum, _, _, fs, fe in pw.iter_fields(buf, s, e):
            if fnum == 1:
                name = buf[fs:fe].decode()
            elif fnum == 4:
                aname, atype, default = "", "", None
                for anum, _, _, as_, ae in pw.iter_fields(buf, fs, fe):
                    if anum == 1:
                        aname = buf[as_:ae].decode()
                    elif anum == 2:
                        atype = buf[as_:ae].decode()
                    elif anum == 3:
                        default = _attr_default(buf, as_, ae)
                attrs.append([aname, atype, default])
            elif fnum == 8:
                version, explanation = 0, ""
                for dnum, _, dv, ds, de in pw.iter_fields(buf, fs, fe):
                    if dnum == 1:
                        version = dv
                    elif dnum == 2:
                        explanation = buf[ds:de].decode()
                deprecation = [version, explanation]
        row: dict[str, object] = {"attrs": attrs}
        if deprecation:
            row["deprecation"] = deprecation
        ops[name] = row
    return ops


def main(wheel: str) -> None:
    digest = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
    core: dict[str, dict[str, object]] = {}
    contrib: set[str] = set()
    versions: dict[str, int] = {}
    with zipfile.ZipFile(wheel) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            name = info.filename
            if "/include/" in name:
                if name.endswith("tensorflow/core/public/version.h"):
                    text = zf.read(info).decode()
                    for key in ("TF_GRAPH_DEF_VERSION", "TF_GRAPH_DEF_VERSION_MIN_CONSUMER",
                                "TF_GRAPH_DEF_VERSION_MIN_PRODUCER"):
                        m = re.search(rf"#define {key} (\d+)", text)
                        assert m, key
                        versions[key] = int(m.group(1))
                continue
            if not re.search(r"/gen_[a-z0-9_]+\.py$", name):
                continue
            m = _LITERAL.search(zf.read(info))
            if not m:
                continue
            ops = parse_op_list(ast.literal_eval(m.group(1).decode("latin-1")))
            if "/contrib/" in name:
                contrib.update(ops)
            else:
                core.update(ops)
        so = next(i for i in zf.infolist() if i.filename.endswith("/_pywrap_tensorflow_internal.so"))
        blob = zf.read(so)
    for name in CPP_ONLY:
        if b"\0" + name.encode() + b"\0" in blob and name not in core:
            core[name] = {"attrs": [], "cpp_only": True}
    table = {
        "source": (
            "TensorFlow 1.8.0, tensorflow-1.8.0-cp36-cp36m-manylinux1_x86_64.whl from PyPI "
            f"(sha256 {digest}): OpLists serialized in its gen_*_ops.py wrappers, version.h, "
            "and C++-only op names found in _pywrap_tensorflow_internal.so; derived by "
            "tools/derive_tf18_facts.py"
        ),
        "tensorflow_version": "1.8.0",
        "graph_def_version": versions["TF_GRAPH_DEF_VERSION"],
        "graph_def_version_min_consumer": versions["TF_GRAPH_DEF_VERSION_MIN_CONSUMER"],
        "graph_def_version_min_producer": versions["TF_GRAPH_DEF_VERSION_MIN_PRODUCER"],
        "ops": {k: core[k] for k in sorted(core)},
        "contrib_ops": sorted(contrib - set(core)),
    }
    OUT.write_text(json.dumps(table, indent=0, sort_keys=False, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(core)} ops, {len(table['contrib_ops'])} contrib-only ops, versions {versions}")


if __name__ == "__main__":
    main(sys.argv[1])
