"""The exceptions modeltemplates raises on purpose, all under one public base class.

A bad *package* is never an exception: every problem in it is a finding. These exceptions are for
misuse of the API (an argument of the wrong type, an unknown template or I/O mode, a path that is
not a package folder), a template class the library refuses, and a result that cannot be produced
(a manifest for a package with errors, a deep check with no torch to run it). Each also derives from
the built-in exception a caller would expect (``TypeError``, ``ValueError``, ``LookupError``,
``OSError``...), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class ModelTemplatesError(Exception):
    """Base of every exception this library raises on purpose."""


class InvalidArgumentError(ModelTemplatesError, TypeError):
    """An argument of the wrong type was passed to the API."""


class IOModeNotAllowedError(ModelTemplatesError, ValueError):
    """The template fixes its I/O mode and another one was asked for."""


class TemplateDefinitionError(ModelTemplatesError, TypeError):
    """A :class:`~modeltemplates.Template` subclass breaks the template contract (raised when the
    class statement runs); the message lists the supported values."""


class PackagePathError(ModelTemplatesError, OSError):
    """The path given cannot be checked as a package folder; the message says what to pass instead."""


class PackageNotFoundError(PackagePathError, FileNotFoundError):
    """Nothing exists at the path given."""


class NotAPackageFolderError(PackagePathError, NotADirectoryError):
    """The path given is a file (for example one inside a package), an archive or a URL."""


class DeepCheckUnavailableError(ModelTemplatesError, RuntimeError):
    """The deep check was requested but cannot run here (torch is not installed)."""
