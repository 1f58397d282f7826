"""Derive which torch release first defines each class of ``torch.nn``, ``torch.optim`` and ``torch.utils``.

Reads the Python sources inside published torch wheels (never imports or installs them): every
top-level ``class`` statement of every module under ``torch/nn/``, ``torch/optim/`` and
``torch/utils/``, keyed by the module path a pickle names (``torch.nn.modules.activation.GELU``: a
pickled object's class is looked up by its defining module and name). A class's release is the
first wheel whose sources define it under that module. The oldest wheel read stands for itself
and everything before it.

The wheels are the CPU builds of each minor release on PyPI (``pip download --no-deps
--only-binary=:all: --platform macosx_10_9_x86_64 --python-version 3.7 torch==1.4.0``, and the
macOS arm64 builds for 2.3 on); only their ``.py`` members are read. A local torch installation
(``torch`` folder of a site-packages) may be given too; its version comes from its ``version.py``.

Usage::

    python tools/derive_torch_classes.py WHEEL_OR_TORCH_DIR... > modeltemplates/inspect/torch_classes.json
"""

from __future__ import annotations

import ast
import json
import pathlib
import re
import sys
import zipfile
from collections.abc import Iterator

_PREFIXES = ("torch/nn/", "torch/optim/", "torch/utils/")
_CLASS_LINE = re.compile(r"^class\s+([A-Za-z_][A-Za-z0-9_]*)\s*[(:]", re.MULTILINE)
_VERSION = re.compile(r"""^__version__\s*=\s*['"]([0-9]+)\.([0-9]+)""", re.MULTILINE)


def _classes(source: bytes) -> list[str]:
    text = source.decode("utf-8", "replace")
    try:
        tree = ast.parse(text)
    except SyntaxError:  # old sources may use names newer Pythons reserve: fall back to the lines
        return _CLASS_LINE.findall(text)
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


def _module(path: str) -> str:
    dotted = path[:-3].replace("/", ".")
    return dotted[: -len(".__init__")] if dotted.endswith(".__init__") else dotted


def _sources(location: pathlib.Path) -> Iterator[tuple[str, bytes]]:
    if location.is_dir():
        root = location.parent
        for file in sorted(location.rglob("*.py")):
            rel = file.relative_to(root).as_posix()
            yield rel, file.read_bytes()
        return
    with zipfile.ZipFile(location) as zf:
        for info in zf.infolist():
            yield info.filename, zf.read(info) if info.filename.endswith(".py") and (
                info.filename.startswith(_PREFIXES) or info.filename == "torch/version.py") else b""


def read_release(location: pathlib.Path) -> tuple[tuple[int, int], dict[str, list[str]]]:
    version: tuple[int, int] | None = None
    found: dict[str, list[str]] = {}
    for path, data in _sources(location):
        if path == "torch/version.py":
            match = _VERSION.search(data.decode("utf-8", "replace"))
            if match:
                version = (int(match.group(1)), int(match.group(2)))
        if not path.endswith(".py") or not path.startswith(_PREFIXES) or "/test" in path:
            continue
        names = _classes(data)
        if names:
            found[_module(path)] = names
    if version is None:
        raise SystemExit(f"{location}: no torch/version.py")
    return version, found


def main(argv: list[str]) -> int:
    releases = sorted((read_release(pathlib.Path(a)) for a in argv), key=lambda r: r[0])
    since: dict[str, dict[str, str]] = {}
    for version, modules in releases:
        label = f"{version[0]}.{version[1]}"
        for module, names in modules.items():
            row = since.setdefault(module, {})
            for name in names:
                row.setdefault(name, label)
    table = {
        "source": "top-level class statements under torch/nn, torch/optim and torch/utils in the Python sources "
        "of the published torch wheels of each release (tools/derive_torch_classes.py); the oldest release "
        "read stands for itself and every earlier one",
        "releases": [f"{v[0]}.{v[1]}" for v, _ in releases],
        "classes": {m: dict(sorted(since[m].items())) for m in sorted(since)},
    }
    sys.stdout.write(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
