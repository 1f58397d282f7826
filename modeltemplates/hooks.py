"""From changed files to the model packages that hold them (for pre-commit and other hooks)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

#: Files whose presence marks a folder as a package (besides a folder named ``model``).
PACKAGE_MARKERS = ("customize_service.py", "config.json")


def packages_of(files: Iterable[str | os.PathLike[str]], stop: str | os.PathLike[str] | None = None) -> list[str]:
    """The package folders holding ``files``, each once, in the order first met.

    A file's package is its nearest enclosing folder named ``model``, else its nearest enclosing
    folder holding ``customize_service.py`` or ``config.json``. The walk up stops at ``stop``
    (default: the working directory) and never goes above it; files in no package are left out.
    """
    top = Path(os.path.abspath(stop if stop is not None else os.getcwd()))
    found: dict[str, None] = {}
    for name in files:
        path = Path(os.path.abspath(name))
        folders = [p for p in path.parents if p == top or top in p.parents]
        package = next((p for p in folders if p.name == "model"), None)
        if package is None:
            package = next((p for p in folders if any((p / m).is_file() for m in PACKAGE_MARKERS)), None)
        if package is not None:
            found.setdefault(os.path.relpath(package, top) if package != top else ".", None)
    return list(found)
