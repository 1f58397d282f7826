"""Project configuration: ``[tool.modeltemplates]`` in ``pyproject.toml``, or ``modeltemplates.toml``.

Found as ruff finds its own: walking up from each package folder, the first folder holding a
``modeltemplates.toml`` (settings at its top level) or a ``pyproject.toml`` with a
``[tool.modeltemplates]`` table wins; a ``pyproject.toml`` without that table is passed by. The
command line's options override the file's, key by key. Unknown keys and bad values raise
:class:`ConfigError` naming the file, the key and the closest valid name.

Keys (kebab-case, as in ruff): ``template``, ``io-mode``, ``select``, ``ignore``,
``extend-select``, ``per-file-ignores`` (glob -> rule ids), ``severity`` (rule id -> error |
warning | info), ``fail-on`` (error | warning | info) and ``limits`` (the bounds of
:class:`~modeltemplates.pipeline.Settings`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from modeltemplates.findings import Severity

CONFIG_FILE = "modeltemplates.toml"
PYPROJECT = "pyproject.toml"
#: Configuration files larger than this are refused (a pyproject.toml is a few kilobytes).
MAX_CONFIG_FILE_BYTES = 1 << 20

#: ``limits`` keys and the Settings / package Limits field each sets.
LIMIT_KEYS: Mapping[str, str] = {
    "max-text-bytes": "max_text_bytes",
    "max-config-bytes": "max_config_bytes",
    "max-json-depth": "max_json_depth",
    "max-json-values": "max_json_values",
    "deep-timeout": "deep_timeout",
    "deep-stream-limit": "deep_stream_limit",
    "max-entries": "package.max_entries",
    "max-depth": "package.max_depth",
    "max-ignore-file-bytes": "package.max_ignore_file_bytes",
}
KEYS = ("template", "io-mode", "select", "ignore", "extend-select", "per-file-ignores", "severity",
        "fail-on", "limits")
DEFAULT_ORIGIN = "default"


class ConfigError(ValueError):
    """A configuration file or option that cannot be used; the message says where and why."""


@attrs.frozen
class Config:
    """Resolved settings for one package; ``origins`` says where each key's value came from
    (``default``, ``command line`` or ``<file>``)."""

    template: str | None = None
    io_mode: str | None = None
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    severity: Mapping[str, Severity] = attrs.field(factory=dict)
    fail_on: Severity = Severity.ERROR
    limits: Mapping[str, float] = attrs.field(factory=dict)
    file: str | None = None
    origins: Mapping[str, str] = attrs.field(factory=dict)

    def settings(self) -> Any:
        """The :class:`~modeltemplates.pipeline.Settings` these limits give (defaults elsewhere)."""
        from modeltemplates.package import Limits
        from modeltemplates.pipeline import Settings

        top: dict[str, Any] = {}
        package: dict[str, Any] = {}
        for key, value in self.limits.items():
            field = LIMIT_KEYS[key]
            if field.startswith("package."):
                package[field.removeprefix("package.")] = int(value)
            else:
                top[field] = float(value) if field == "deep_timeout" else int(value)
        return Settings(package=Limits(**package), **top)

    def to_dict(self) -> dict[str, Any]:
        """Every key with its value as the configuration file would spell it."""
        return {
            "template": self.template,
            "io-mode": self.io_mode,
            "select": list(self.select),
            "ignore": list(self.ignore),
            "extend-select": list(self.extend_select),
            "per-file-ignores": {k: list(v) for k, v in self.per_file_ignores.items()},
            "severity": {k: v.value for k, v in self.severity.items()},
            "fail-on": self.fail_on.value,
            "limits": dict(self.limits),
        }


def _closest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else f"; valid: {', '.join(choices)}"


def find_config(start: str | os.PathLike[str]) -> tuple[Path, Mapping[str, Any]] | None:
    """The first configuration walking up from ``start`` and its settings table, or ``None``."""
    folder = Path(os.path.abspath(start))
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        own = candidate / CONFIG_FILE
        if own.is_file():
            return own, load_table(own) or {}
        project = candidate / PYPROJECT
        if project.is_file():
            table = load_table(project)
            if table is not None:
                return project, table
    return None


def load_table(path: Path) -> Mapping[str, Any] | None:
    """The settings table of ``path`` (``None`` for a pyproject.toml without one)."""
    import tomllib

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_FILE_BYTES} bytes")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if path.name == PYPROJECT:
        tool = data.get("tool")
        table = tool.get("modeltemplates") if isinstance(tool, dict) else None
        if table is None:
            return None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.modeltemplates] must be a table")
        return table
    return data


def _rule_list(value: Any, where: str, rule_ids: frozenset[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of rule ids or prefixes (e.g. [\"SRC\", \"SVC010\"])")
    out = []
    for code in value:
        code = code.strip().upper()
        if code != "ALL" and not any(r.startswith(code) for r in rule_ids):
            raise ConfigError(f"{where}: unknown rule or prefix {code!r}{_closest(code, sorted(rule_ids))}")
        out.append(code)
    return tuple(out)


def _severity(value: Any, where: str) -> Severity:
    names = tuple(s.value for s in Severity)
    if not isinstance(value, str) or value.lower() not in names:
        raise ConfigError(f"{where}: {value!r} is not a severity{_closest(str(value).lower(), names)}")
    return Severity(value.lower())


def parse_table(table: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Validated values of a settings table, by key (file or command line: the same rules)."""
    rule_ids: frozenset[str] = frozenset()
    if any(key in table for key in ("select", "ignore", "extend-select", "per-file-ignores", "severity")):
        from modeltemplates.rules import all_rules  # imports every check: only when ids are named

        rule_ids = frozenset(all_rules())
    out: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{origin}: {key}"
        if key not in KEYS:
            raise ConfigError(f"{origin}: unknown key {key!r}{_closest(key, KEYS)}")
        if key in ("template", "io-mode"):
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: expected a non-empty string")
            out[key] = value
        elif key in ("select", "ignore", "extend-select"):
            out[key] = _rule_list(value, where, rule_ids)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table of glob = [rule ids]")
            out[key] = {str(glob): _rule_list(codes, f"{where}.{glob}", rule_ids) for glob, codes in value.items()}
        elif key == "severity":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table of rule id = \"error\" | \"warning\" | \"info\"")
            levels = {}
            for rule_id, level in value.items():
                if rule_id not in rule_ids:
                    raise ConfigError(f"{where}: unknown rule {rule_id!r}{_closest(rule_id, sorted(rule_ids))}")
                levels[rule_id] = _severity(level, f"{where}.{rule_id}")
            out[key] = levels
        elif key == "fail-on":
            out[key] = _severity(value, where)
        else:  # limits
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table of limit = number")
            limits: dict[str, float] = {}
            for name, number in value.items():
                if name not in LIMIT_KEYS:
                    raise ConfigError(f"{where}: unknown limit {name!r}{_closest(name, tuple(LIMIT_KEYS))}")
                if isinstance(number, bool) or not isinstance(number, int | float) or number <= 0:
                    raise ConfigError(f"{where}.{name}: expected a positive number, got {number!r}")
                if name != "deep-timeout" and not isinstance(number, int):
                    raise ConfigError(f"{where}.{name}: expected a whole number, got {number!r}")
                limits[name] = number
            out[key] = limits
    return out


def parse_override(text: str) -> dict[str, Any]:
    """``--config 'KEY = VALUE'`` (one TOML assignment) as a table."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {text!r}: not a TOML `key = value` pair: {exc}") from None


def resolve(
    package: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: str | os.PathLike[str] | None = None,
    isolated: bool = False,
) -> Config:
    """The configuration for ``package``: defaults, then the file found (or ``config_file``;
    none when ``isolated``), then ``overrides`` (already-validated command-line values)."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = dict.fromkeys(KEYS, DEFAULT_ORIGIN)
    found_file: str | None = None
    if not isolated:
        if config_file is not None:
            path = Path(config_file)
            table = load_table(path)
            if table is None:
                raise ConfigError(f"{path}: has no [tool.modeltemplates] table")
            found: tuple[Path, Mapping[str, Any]] | None = (path, table)
        else:
            found = find_config(package)
        if found is not None:
            found_file = str(found[0])
            for key, value in parse_table(found[1], found_file).items():
                values[key] = value
                origins[key] = found_file
    for key, value in (overrides or {}).items():
        if key == "extend-select" and key in values:
            value = values[key] + tuple(v for v in value if v not in values[key])
        values[key] = value
        origins[key] = "command line"
    return Config(
        template=values.get("template"),
        io_mode=values.get("io-mode"),
        select=values.get("select", ("ALL",)),
        ignore=values.get("ignore", ()),
        extend_select=values.get("extend-select", ()),
        per_file_ignores=values.get("per-file-ignores", {}),
        severity=values.get("severity", {}),
        fail_on=values.get("fail-on", Severity.ERROR),
        limits=values.get("limits", {}),
        file=found_file,
        origins=origins,
    )
