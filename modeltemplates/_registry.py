"""The template registry: built-ins, code registration and entry-point plugins, thread-safe.

Third-party templates are found through the entry-point group ``modeltemplates.templates``; each
entry point names a :class:`~modeltemplates.template.Template` subclass (or an instance). They are
loaded lazily, once, the first time a lookup or listing needs them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import attrs

from modeltemplates.errors import InvalidArgumentError, ModelTemplatesError
from modeltemplates.template import Template

ENTRY_POINT_GROUP = "modeltemplates.templates"


class TemplateError(ModelTemplatesError, LookupError):
    """Base of the registry's errors."""


class UnknownTemplateError(TemplateError):
    """No template answers to the name; ``suggestions`` holds the closest known names."""

    def __init__(self, name: str, suggestions: tuple[str, ...]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown template {name!r}{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class DuplicateTemplateError(TemplateError):
    """A template id (or one of its names) is already taken by another template."""


class DuplicateRuleError(TemplateError):
    """A template declares a rule whose id a built-in rule or another template's rule already has."""


@attrs.frozen
class PluginProblem:
    """An entry point that could not be loaded or did not name a template."""

    entry_point: str
    message: str


def normalize_name(name: str) -> str:
    """``PyTorch-py27 General Template`` -> ``pytorch-py27-general-template``."""
    return "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


class TemplateRegistry:
    """Templates by id and by every name they answer to."""

    def __init__(self, builtins: Callable[[], list[type[Template] | Template]] | None = None,
                 entry_point_group: str | None = ENTRY_POINT_GROUP) -> None:
        self._lock = threading.RLock()
        self._by_id: dict[str, Template] = {}
        self._by_name: dict[str, str] = {}
        self._builtins = builtins
        self._group = entry_point_group
        self._loaded_builtins = builtins is None
        self._loaded_plugins = entry_point_group is None
        self._problems: list[PluginProblem] = []

    def register(self, template: type[Template] | Template, *, replace: bool = False) -> Template:
        """Add a template (a subclass or an instance). Duplicate ids or names are an error."""
        instance = template() if isinstance(template, type) else template
        if not isinstance(instance, Template):
            raise InvalidArgumentError(f"{template!r} is not a Template")
        with self._lock:
            self._ensure_builtins()
            return self._add(instance, replace=replace)

    def _add(self, instance: Template, *, replace: bool) -> Template:
        keys = {normalize_name(n) for n in instance.names()}
        if not replace:
            if instance.id in self._by_id:
                raise DuplicateTemplateError(f"a template with id {instance.id!r} is already registered")
            clash = sorted(k for k in keys if k in self._by_name)
            if clash:
                owner = self._by_name[clash[0]]
                raise DuplicateTemplateError(f"template {instance.id!r}: name {clash[0]!r} is taken by {owner!r}")
        self._check_rules(instance)
        if replace and instance.id in self._by_id:
            self._remove(instance.id)
        self._by_id[instance.id] = instance
        for key in keys:
            self._by_name[key] = instance.id
        return instance

    def _check_rules(self, instance: Template) -> None:
        """A template's own rule ids must be new, or the very rule another template declares."""
        if not instance.rules:
            return
        from modeltemplates.rules import builtin_rules

        taken: dict[str, tuple[str, object]] = {rid: ("the built-in rules", r) for rid, r in builtin_rules().items()}
        for other in self._by_id.values():
            if other.id != instance.id:
                taken.update((r.id, (f"template {other.id!r}", r)) for r in other.rules)
        for rule in instance.rules:
            owner = taken.get(rule.id)
            if owner is not None and owner[1] != rule:
                raise DuplicateRuleError(f"template {instance.id!r}: rule id {rule.id} is taken by {owner[0]}")

    def _remove(self, template_id: str) -> None:
        self._by_id.pop(template_id, None)
        for key in [k for k, v in self._by_name.items() if v == template_id]:
            del self._by_name[key]

    def unregister(self, template_id: str) -> None:
        with self._lock:
            if template_id not in self._by_id:
                raise UnknownTemplateError(template_id, ())
            self._remove(template_id)

    def get(self, name: str) -> Template:
        key = normalize_name(name)
        with self._lock:
            self._ensure_builtins()
            found = self._by_name.get(key)
            if found is None:
                self._ensure_plugins()
                found = self._by_name.get(key)
            if found is None:
                raise UnknownTemplateError(name, self._suggest(key))
            return self._by_id[found]

    def all(self) -> list[Template]:
        with self._lock:
            self._ensure_builtins()
            self._ensure_plugins()
            return [self._by_id[k] for k in sorted(self._by_id)]

    def problems(self) -> tuple[PluginProblem, ...]:
        """Plugins that failed to load (they are skipped, not fatal)."""
        with self._lock:
            self._ensure_plugins()
            return tuple(self._problems)

    def _suggest(self, key: str) -> tuple[str, ...]:
        import difflib

        close = difflib.get_close_matches(key, list(self._by_name), n=5, cutoff=0.5)
        ids: list[str] = []
        for name in close:
            template_id = self._by_name[name]
            if template_id not in ids:
                ids.append(template_id)
        return tuple(ids[:3])

    def _ensure_builtins(self) -> None:
        if self._loaded_builtins:
            return
        self._loaded_builtins = True
        assert self._builtins is not None
        for template in self._builtins():
            self._add(template() if isinstance(template, type) else template, replace=False)

    def _ensure_plugins(self) -> None:
        if self._loaded_plugins:
            return
        self._loaded_plugins = True
        assert self._group is not None
        from importlib import metadata

        for ep in sorted(metadata.entry_points(group=self._group), key=lambda e: e.name):
            label = f"{ep.name} = {ep.value}"
            try:
                loaded: Any = ep.load()
                instance = loaded() if isinstance(loaded, type) else loaded
                if not isinstance(instance, Template):
                    raise TypeError(f"{ep.value} is not a Template subclass or instance")
                self._add(instance, replace=False)
            except Exception as exc:  # a broken plugin must not break the tool
                self._problems.append(PluginProblem(label, f"{type(exc).__name__}: {exc}"))


def _builtin_templates() -> list[type[Template] | Template]:
    from modeltemplates.templates.modelarts import BUILTIN_TEMPLATES

    return list(BUILTIN_TEMPLATES)


#: The process-wide registry behind the module-level functions.
REGISTRY = TemplateRegistry(_builtin_templates)


def get_template(name: str) -> Template:
    """The template with this id, title or alias (case, spaces, ``_`` and ``-`` do not matter)."""
    return REGISTRY.get(name)


def register_template(template: type[Template] | Template, *, replace: bool = False) -> Template:
    """Register a template for this process; returns the registered instance."""
    return REGISTRY.register(template, replace=replace)


def list_templates(
    *, engine: str | None = None, python: str | None = None, io_mode: str | None = None
) -> list[Template]:
    """Templates sorted by id, filtered like the platform's own filters.

    ``engine`` matches the engine name case-insensitively ("pytorch"); ``python`` the Python version
    ("2.7"); ``io_mode`` keeps templates that can serve that I/O mode (their default, or any mode when
    the default may be overridden).
    """
    out = []
    mode_id = None
    if io_mode is not None:
        from modeltemplates.iomodes import get_io_mode

        mode_id = get_io_mode(io_mode).id
    for t in REGISTRY.all():
        if engine is not None and t.engine.lower() != engine.strip().lower():
            continue
        if python is not None and t.python != python.strip().removeprefix("python"):
            continue
        if mode_id is not None and mode_id not in t.allowed_io_modes():
            continue
        out.append(t)
    return out
