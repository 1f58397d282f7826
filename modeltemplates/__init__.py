"""modeltemplates: validate ML model packages against serving-platform templates before upload.

>>> import modeltemplates
>>> t = modeltemplates.get_template("pytorch-py27")
>>> report = t.validate("path/to/model")        # doctest: +SKIP
>>> manifest = t.build_manifest("path/to/model")  # doctest: +SKIP

Importing this package is cheap: checks, torch-file readers and parsers load on first use, and
torch itself is only ever used by the optional deep check, in a subprocess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from modeltemplates.batch import validate_many

from modeltemplates._version import __version__


def __getattr__(name: str) -> object:
    # Batch validation loads concurrent.futures: only on first use, to keep this import light.
    if name == "validate_many":
        from modeltemplates.batch import validate_many

        return validate_many
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
