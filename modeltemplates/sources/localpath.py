"""Every way a user names a local package: ``.``, ``..``, a trailing slash, a relative path, a path
through a symbolic link, spaces, non-ASCII characters, ``~``; and what to say when the path names a
file instead.

A folder is taken by its real path (links on the way to it resolved, never links inside it), so the
package's name is the folder's real name whatever the spelling: ``validate .`` inside ``model/``
checks a package named ``model``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from modeltemplates.errors import InvalidArgumentError, NotAPackageFolderError, PackageNotFoundError


def as_local_path(path: object) -> Path:
    """``path`` as a :class:`Path` (``~`` expanded when no such literal path exists)."""
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidArgumentError(f"a package path must be a str or os.PathLike, not {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str):
        text = os.fsdecode(text)
    if not text:
        raise InvalidArgumentError("the package path is empty; pass a folder such as '.'")
    given = Path(text)
    if text.startswith("~") and not given.exists() and not given.is_symlink():
        given = given.expanduser()
    return given


def resolve_folder(given: Path) -> Path:
    """An existing folder as it will be shown and named: as the user wrote it when its last part is
    already the folder's real name (``good/model``), else its real path (``.``, ``..``, a link)."""
    real = Path(os.path.realpath(given))
    return given if given.name == real.name else real


def missing(given: Path) -> PackageNotFoundError:
    if given.is_symlink():
        return PackageNotFoundError(f"{given} is a link to {os.readlink(given)!r}, which does not exist")
    return PackageNotFoundError(f"no such folder or archive: {given}")


def not_a_folder(given: Path) -> NotAPackageFolderError:
    """The error for a file that is no archive: name the package folder to pass instead."""
    folder = package_folder_of(given)
    if folder is not None:
        return NotAPackageFolderError(
            f"{given} is a file inside the package; pass the package folder instead: {folder}"
        )
    return NotAPackageFolderError(f"{given} is a file, not a package folder or a zip or tar archive")


def package_folder_of(file: Path) -> Path | None:
    """The nearest folder above ``file`` that is a package: named ``model``, or holding a model
    file, ``customize_service.py`` or ``config.json`` at its top."""
    from modeltemplates.package import PACKAGE_DIR_NAME, has_package_marks

    real = Path(os.path.realpath(file))
    for folder in real.parents:
        if folder.name == PACKAGE_DIR_NAME:
            return folder
    for folder in list(real.parents)[:8]:
        if has_package_marks(folder):
            return folder
    return None


def cannot_read(path: str | os.PathLike[str], is_dir: bool) -> str:
    """Who cannot read ``path``: the current user, or (for root, who reads anything) its owner."""
    user = current_user()
    need = os.R_OK | (os.X_OK if is_dir else 0)
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"it cannot be examined: {exc.strerror or exc}"
    verb = "list" if is_dir else "read"
    if not os.access(path, need, follow_symlinks=False):
        return f"the current user ({user}) cannot {verb} it (mode {stat.filemode(st.st_mode)})"
    return (
        f"its mode {stat.filemode(st.st_mode)} does not let its owner ({owner_name(st.st_uid)}) {verb} it; "
        f"the current user ({user}) can only because it is the superuser, and an upload as the owner fails"
    )


def current_user() -> str:
    import getpass  # its terminal modules load only when a message names the user

    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (containers): say the uid
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "this user"


def owner_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"
