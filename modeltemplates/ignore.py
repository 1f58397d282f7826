"""Ignore rules: built-in defaults plus a gitignore-style ``.modelignore`` at the package root."""

from __future__ import annotations

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
    """Compiled ignore patterns with the origin of each, for "ignored by ..." explanations."""

    origins: tuple[str, ...]
    spec: pathspec.GitIgnoreSpec = attrs.field(eq=False)
    user_file: bool = False
    problems: tuple[IgnoreProblem, ...] = ()

    def match(self, path: str, *, is_dir: bool = False) -> str | None:
        """The origin of the deciding pattern if ``path`` is ignored, else ``None``."""
        probe = path + "/" if is_dir else path
        result = self.spec.check_file(probe)
        if result.include and result.index is not None:
            return self.origins[result.index]
        return None


def build_rules(user_lines: list[tuple[int, str]], *, user_file: bool = False,
                problems: tuple[IgnoreProblem, ...] = ()) -> IgnoreRules:
    """Compile the defaults followed by the user's lines; unusable lines become problems."""
    import pathspec

    lines: list[str] = []
    origins: list[str] = []
    bad: list[IgnoreProblem] = list(problems)
    for pattern in DEFAULT_IGNORES:
        lines.append(pattern)
        origins.append(f"default pattern '{pattern}'")
    for number, text in user_lines:
        stripped = text.rstrip("\r")
        if not stripped.strip() or stripped.startswith("#"):
            continue
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
        return build_rules([], problems=(IgnoreProblem(None, f"cannot be read: {exc.strerror or exc}"),))
    problems: list[IgnoreProblem] = []
    if len(data) > max_bytes:
        problems.append(IgnoreProblem(None, f"is larger than {max_bytes} bytes; only the start is used"))
        data = data[:max_bytes]
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        problems.append(IgnoreProblem(None, "is not valid UTF-8; undecodable bytes were replaced"))
    user_lines = list(enumerate(text.split("\n"), start=1))
    return build_rules(user_lines, user_file=True, problems=tuple(problems))
