"""modeltemplates: validate ML model packages against serving-platform templates before upload.

>>> import modeltemplates
>>> t = modeltemplates.get_template("pytorch-py27")
>>> report = t.validate("path/to/model")        # doctest: +SKIP
>>> manifest = t.build_manifest("path/to/model")  # doctest: +SKIP

Importing this package is cheap: checks, torch-file readers and parsers load on first use, and
torch itself is only ever used by the optional deep check, in a subprocess.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

from modeltemplates._version import __version__

if TYPE_CHECKING:
    from modeltemplates._registry import (
        ENTRY_POINT_GROUP,
        DuplicateRuleError,
        DuplicateTemplateError,
        TemplateError,
        TemplateRegistry,
        UnknownTemplateError,
        get_template,
        list_templates,
        register_template,
    )
    from modeltemplates.batch import validate_many
    from modeltemplates.detect import Detection, Fit, detect
    from modeltemplates.errors import (
        DeepCheckUnavailableError,
        InvalidArgumentError,
        IOModeNotAllowedError,
        ModelTemplatesError,
        NotAPackageFolderError,
        PackageNotFoundError,
        PackagePathError,
        TemplateDefinitionError,
    )
    from modeltemplates.findings import Finding, Report, Rule, Severity
    from modeltemplates.iomodes import UnknownIOModeError
    from modeltemplates.layout import FileRule, LayoutRules
    from modeltemplates.manifest import FileRecord, Manifest, ManifestError, PackageInvalid
    from modeltemplates.pipeline import Settings
    from modeltemplates.progress import Progress
    from modeltemplates.runtime import Runtime
    from modeltemplates.template import ModelFileCheck, ModelSetContext, Template, TemplateDescription

#: Where each public name lives. They load on first use (PEP 562), so that ``import
#: modeltemplates`` (and with it every run of the command line, which imports only what the
#: package at hand needs) does not pay for modules it never touches.
_PUBLIC = {
    "_registry": ("ENTRY_POINT_GROUP", "DuplicateRuleError", "DuplicateTemplateError", "TemplateError",
                  "TemplateRegistry", "UnknownTemplateError", "get_template", "list_templates", "register_template"),
    "batch": ("validate_many",),
    "detect": ("Detection", "Fit", "detect"),
    "errors": ("DeepCheckUnavailableError", "InvalidArgumentError", "IOModeNotAllowedError", "ModelTemplatesError",
               "NotAPackageFolderError", "PackageNotFoundError", "PackagePathError", "TemplateDefinitionError"),
    "findings": ("Finding", "Report", "Rule", "Severity"),
    "iomodes": ("UnknownIOModeError",),
    "layout": ("FileRule", "LayoutRules"),
    "manifest": ("FileRecord", "Manifest", "ManifestError", "PackageInvalid"),
    "pipeline": ("Settings",),
    "progress": ("Progress",),
    "runtime": ("Runtime",),
    "template": ("ModelFileCheck", "ModelSetContext", "Template", "TemplateDescription"),
}
_HOME = {name: f"{__name__}.{module}" for module, names in _PUBLIC.items() for name in names}


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


class _Package(types.ModuleType):
    """``modeltemplates.detect`` is the function: importing the submodule of that name (which
    the import system binds on its package) leaves it so."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "detect" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "ENTRY_POINT_GROUP",
    "DeepCheckUnavailableError",
    "Detection",
    "DuplicateRuleError",
    "DuplicateTemplateError",
    "FileRecord",
    "FileRule",
    "Finding",
    "Fit",
    "IOModeNotAllowedError",
    "InvalidArgumentError",
    "LayoutRules",
    "Manifest",
    "ManifestError",
    "ModelFileCheck",
    "ModelSetContext",
    "ModelTemplatesError",
    "NotAPackageFolderError",
    "PackageInvalid",
    "PackageNotFoundError",
    "PackagePathError",
    "Progress",
    "Report",
    "Rule",
    "Runtime",
    "Settings",
    "Severity",
    "Template",
    "TemplateDefinitionError",
    "TemplateDescription",
    "TemplateError",
    "TemplateRegistry",
    "UnknownIOModeError",
    "UnknownTemplateError",
    "__version__",
    "detect",
    "get_template",
    "list_templates",
    "register_template",
    "validate_many",
]
