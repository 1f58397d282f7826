"""Ignore rules: built-in defaults plus a gitignore-style ``.modelignore`` at the package root."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:  # pathspec is imported on first use: `import modeltemplates` stays cheap
    import pathspec

    from modeltemplates.sources.base import PackageSource

#: The file a user writes at the package root to leave files out of checks and the manifest.
IGNORE_FILE_NAME = ".modelignore"

#: Left out of every package unless a ``.modelignore`` line re-includes them with ``!``.
DEFAULT_IGNORES: tuple[str, ...] = (
    "__pycache__/",
    "*.pyc",
    "*.pyo",
    ".ipynb_checkpoints/",
    ".DS_Store",
    "._*",
    ".git/",
    ".svn/",
    ".hg/",
    IGNORE_FILE_NAME,
)


@attrs.frozen
class IgnoreProblem:
    """A line of ``.modelignore`` that could not be used, or a file that could not be read."""

    line: int | None
    message: str


@attrs.frozen
class IgnoreRules:
    """Compiled ignore patterns with the origin of each, for "ignored by ..." explanations.

    ``spec`` is ``None`` when the package has no ``.modelignore``: the defaults alone are matched
    without pathspec, whose import costs more than the rest of a package walk.
    """

    origins: tuple[str, ...]
    spec: pathspec.GitIgnoreSpec | None = attrs.field(eq=False)
    user_file: bool = False
    problems: tuple[IgnoreProblem, ...] = ()

    def match(self, path: str, *, is_dir: bool = False) -> str | None:
        """The origin of the deciding pattern if ``path`` is ignored, else ``None``."""
        probe = path + "/" if is_dir else path
        if self.spec is None:
            index = match_defaults(probe)
            return None if index is None else self.origins[index]
        result = self.spec.check_file(probe)
        if result.include and result.index is not None:
            return self.origins[result.index]
        return None


def match_defaults(probe: str) -> int | None:
    """Index of the deciding :data:`DEFAULT_IGNORES` pattern for ``probe`` (a directory ends in ``/``).

    Gitignore semantics for these patterns, as pathspec's ``GitIgnoreSpec`` applies them: none has
    a slash before its end, so each matches one path component at any depth (``*`` within it);
    ``name/`` matches directories only, and what lies below a matched component is matched too.
    Every default includes; a pattern matching the last component itself outranks one matching a
    folder above it, and among equals the later pattern decides. (A test compares this with
    pathspec over every combination of the patterns' names.)
    """
    parts = probe.split("/")
    dirs, last = parts[:-1], parts[-1]
    best: tuple[int, int] | None = None
    for index, (name, dir_only) in enumerate(_DEFAULT_PARTS):
        if not dir_only and last and _name_matches(last, name):
            rank = (2, index)
        elif any(_name_matches(part, name) for part in dirs if part):
            rank = (1, index)
        else:
            continue
        if best is None or rank > best:
            best = rank
    return None if best is None else best[1]


def _name_matches(name: str, pattern: str) -> bool:
    """``fnmatchcase(name, pattern)``, without compiling a regular expression for the plain names
    and single-``*`` patterns the defaults are."""
    if "?" in pattern or "[" in pattern or pattern.count("*") > 1:
        return fnmatchcase(name, pattern)
    head, star, tail = pattern.partition("*")
    if not star:
        return name == pattern
    return len(name) >= len(head) + len(tail) and name.startswith(head) and name.endswith(tail)


_DEFAULT_PARTS: tuple[tuple[str, bool], ...] = tuple(
    (pattern.rstrip("/"), pattern.endswith("/")) for pattern in DEFAULT_IGNORES
)


def build_rules(user_lines: list[tuple[int, str]], *, user_file: bool = False,
                problems: tuple[IgnoreProblem, ...] = ()) -> IgnoreRules:
    """Compile the defaults followed by the user's lines; unusable lines become problems."""
    lines: list[str] = []
    origins: list[str] = []
    bad: list[IgnoreProblem] = list(problems)
    for pattern in DEFAULT_IGNORES:
        lines.append(pattern)
        origins.append(f"default pattern '{pattern}'")
    patterns = [(number, text.rstrip("\r")) for number, text in user_lines]
    patterns = [(number, text) for number, text in patterns if text.strip() and not text.startswith("#")]
    if not patterns:  # the defaults alone: matched without pathspec (see match_defaults)
        return IgnoreRules(origins=tuple(origins), spec=None, user_file=user_file, problems=tuple(bad))
    import pathspec

    for number, stripped in patterns:
        try:
            pathspec.GitIgnoreSpec.from_lines([stripped])
        except Exception as exc:  # pathspec raises its own error types for bad patterns
            bad.append(IgnoreProblem(number, f"unusable pattern {stripped!r}: {exc}"))
            continue
        lines.append(stripped)
        origins.append(f"{IGNORE_FILE_NAME} line {number}")
    # Only real patterns are compiled, one per line, so pattern indexes line up with ``origins``.
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    if len(spec.patterns) != len(origins):  # pragma: no cover - defensive against pathspec changes
        origins = ["an ignore pattern"] * len(spec.patterns)
    return IgnoreRules(origins=tuple(origins), spec=spec, user_file=user_file, problems=tuple(bad))


def load_ignore_rules(root: Path, max_bytes: int) -> IgnoreRules:
    """Read ``root/.modelignore`` (bounded, never following a link) and compile it with the defaults."""
    from modeltemplates.sources.folder import FolderSource

    return load_ignore_rules_from(FolderSource(root), "", max_bytes)


def load_ignore_rules_from(source: PackageSource, root_key: str, max_bytes: int) -> IgnoreRules:
    """Read the ``.modelignore`` at ``root_key`` of ``source`` (bounded) and compile it with the defaults."""
    from modeltemplates.sources.base import EntryKind, NotARegularFile, join_key

    key = join_key(root_key, IGNORE_FILE_NAME)
    node = source.stat(key)
    if node is None:
        return build_rules([])
    try:
        if node.kind is not EntryKind.FILE:
            raise NotARegularFile(key)
        with source.open(key) as f:
            data = f.read(max_bytes + 1)
    except NotARegularFile:
        return build_rules([], problems=(IgnoreProblem(None, "is not a regular file; not used"),))
    except OSError as exc:
        return build_rules([], problems=(IgnoreProblem(None, f"cannot be read ({_who(source, key, exc)}); not used"),))
    problems: list[IgnoreProblem] = []
    if not node.readable:
        problems.append(IgnoreProblem(None, f"is not readable ({_who(source, key, None)}); its patterns were used"))
    if len(data) > max_bytes:
        problems.append(IgnoreProblem(None, f"is larger than {max_bytes} bytes; only the start is used"))
        data = data[:max_bytes]
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        problems.append(IgnoreProblem(None, "is not valid UTF-8; undecodable bytes were replaced"))
    user_lines = list(enumerate(text.split("\n"), start=1))
    return build_rules(user_lines, user_file=True, problems=tuple(problems))


def _who(source: PackageSource, key: str, exc: OSError | None) -> str:
    from modeltemplates.sources.localpath import cannot_read

    local = source.local_path(key)
    if local is None:
        return str(exc.strerror or exc) if exc is not None else "the source does not allow it"
    return cannot_read(local, False)
