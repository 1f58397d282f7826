"""Layout rules as data: what a template expects where in the ``model/`` folder.

A template declares a :class:`LayoutRules`; :mod:`modeltemplates.checks.layout` runs it and
:meth:`LayoutRules.statements` shows it to people.
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class FileRule:
    """One kind of file the template knows: by exact name or by suffix, how many, and where."""

    role: str
    names: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    required: bool = False
    max_count: int = 1
    top_level_only: bool = True

    def matches(self, name: str) -> bool:
        if name in self.names:
            return True
        lower = name.lower()
        return any(lower.endswith(s) and len(lower) > len(s) for s in self.suffixes)

    def describe(self) -> str:
        what = " or ".join(f"`{n}`" for n in self.names) or "a file ending in " + " or ".join(
            f"`{s}`" for s in self.suffixes
        )
        need = "mandatory" if self.required else "optional"
        count = "exactly one" if self.required and self.max_count == 1 else f"at most {self.max_count}"
        where = "at the top of the package folder" if self.top_level_only else "anywhere in the package"
        return f"{self.role}: {what}, {need}, {count}, {where}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "names": list(self.names),
            "suffixes": list(self.suffixes),
            "required": self.required,
            "max_count": self.max_count,
            "top_level_only": self.top_level_only,
        }


@attrs.frozen
class LayoutRules:
    """The package layout a template accepts."""

    root_name: str
    model_file: FileRule
    inference_script: FileRule
    config_file: FileRule
    custom_packages: bool = True
    helper_modules: bool = True
    #: When the model is several files (MXNet's symbol and params, Caffe's network and weights),
    #: one rule per part; ``model_file`` then matches any part. Empty: the model is one file.
    model_parts: tuple[FileRule, ...] = ()

    def statements(self) -> tuple[str, ...]:
        """The rules in words, one sentence each."""
        out = [f"The package folder must be named `{self.root_name}`."]
        model_rules = self.model_parts or (self.model_file,)
        out.extend(rule.describe() for rule in (*model_rules, self.inference_script, self.config_file))
        if self.custom_packages:
            out.append("Custom Python packages (folders with `__init__.py`) may sit in the package folder.")
        if self.helper_modules:
            out.append("Helper `.py` modules the inference script imports may sit next to it.")
        out.append("Everything else is uploaded as data; `.modelignore` leaves files out.")
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root_name": self.root_name,
            "model_file": self.model_file.to_dict(),
            "inference_script": self.inference_script.to_dict(),
            "config_file": self.config_file.to_dict(),
            "custom_packages": self.custom_packages,
            "helper_modules": self.helper_modules,
            "model_parts": [rule.to_dict() for rule in self.model_parts],
        }
