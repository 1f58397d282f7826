"""A content-addressed cache of per-file check results, kept as JSON files in the user's cache folder.

An entry is addressed by a SHA-256 key over everything its result depends on: the file's bytes
(or, for model files, which are never read whole, the identity the file system gives them; see
:func:`file_identity`), the check's inputs (grammar version, template, settings) and the tool
itself (:func:`tool_fingerprint`: version plus the size and time of every module of this package,
so an edited checkout never reuses stale results). A hit returns exactly what the check returned.

Entries are plain JSON, never pickles, so no entry can run code; and a folder that another user
owns or that everyone may write to is not used at all (its entries could hide a finding). Writes
go to a temporary file renamed into place, so concurrent writers (several processes of
:func:`~modeltemplates.validate_many`, two CI jobs) never leave a half-written entry under a key;
a corrupted or foreign entry reads as a miss. A read-only or full disk turns the cache off for
the rest of the run: the cache never makes a run fail.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The environment variable naming the cache folder; ``off``, ``0``, ``no``, ``false`` or an
#: empty value turn the cache off.
ENV_VAR = "MODELTEMPLATES_CACHE"
_OFF = frozenset({"", "0", "off", "no", "false", "none"})
#: Bumped when the layout or the meaning of entries changes.
CACHE_FORMAT = 1
#: An entry larger than this is not read (a cache entry is a few KB of findings and facts).
MAX_ENTRY_BYTES = 16 << 20
#: A model file changed less than this many seconds ago is not remembered by identity: a rewrite
#: within the file system's timestamp granularity could keep size and times (git's "racy" case).
RACY_SECONDS = 2.0


def user_cache_dir() -> Path:
    """The per-user cache folder of this tool, by the platform's convention.

    Linux and other Unix: ``$XDG_CACHE_HOME/modeltemplates`` (default ``~/.cache``); macOS:
    ``~/Library/Caches/modeltemplates``; Windows: ``%LOCALAPPDATA%\\modeltemplates\\Cache``.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData", "Local")
        return Path(base) / "modeltemplates" / "Cache"
    if sys.platform == "darwin":
        return Path(os.path.expanduser("~/Library/Caches")) / "modeltemplates"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.expanduser("~/.cache")
    return Path(base) / "modeltemplates"


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the command line keeps its cache: ``$MODELTEMPLATES_CACHE``, else :func:`user_cache_dir`.

    ``None`` when the variable turns the cache off.
    """
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR)
    if value is None:
        return user_cache_dir()
    if value.strip().lower() in _OFF:
        return None
    return Path(os.path.expanduser(value))


def _builtin_sha256() -> Any:
    """CPython's own SHA-256 (``_sha2`` from 3.12, ``_sha256`` before), or ``None``."""
    for name in ("_sha2", "_sha256"):
        try:
            return importlib.import_module(name).sha256
        except (ImportError, AttributeError):
            continue
    return None


class _Sha256:
    """SHA-256 objects: CPython's built-in implementation for the first bytes a process hashes,
    OpenSSL's (``hashlib``) after that. Loading ``hashlib`` costs about as much as a re-run of a
    typical package spends on everything else of its own, while the built-in one is several times
    slower per byte: the digests are the same either way."""

    def __init__(self, budget: int) -> None:
        self._lock = threading.Lock()
        self._builtin = _builtin_sha256()
        self._left = budget

    def __call__(self, data: bytes = b"") -> Any:
        with self._lock:
            builtin = self._builtin is not None and len(data) <= self._left
            if builtin:
                self._left -= len(data)
        if builtin:
            return self._builtin(data)
        import hashlib

        return hashlib.sha256(data)


#: Bytes of file content hashed with the built-in SHA-256 before ``hashlib`` is loaded.
_sha256 = _Sha256(256 << 10)


@functools.cache
def tool_fingerprint() -> str:
    """This tool's identity for cache keys: version, host Python, and every module's size and time."""
    import unicodedata

    from modeltemplates import __version__

    h = _sha256()
    h.update(f"{CACHE_FORMAT}|{__version__}|{sys.version_info[:2]}|{unicodedata.unidata_version}".encode())
    _hash_modules(h, os.path.dirname(os.path.realpath(__file__)), "")
    return str(h.hexdigest())


def _hash_modules(h: Any, folder: str, prefix: str) -> None:
    """Size and time of every ``.py``/``.json`` file below ``folder``: files by name, then each
    sub-folder by name (``__pycache__`` left out; symbolic links to folders not followed)."""
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    folders = []
    for entry in entries:
        if entry.is_dir():
            if entry.name != "__pycache__" and not entry.is_symlink():
                folders.append(entry)
        elif entry.name.endswith((".py", ".json")):
            st = entry.stat()
            h.update(f"|{prefix}{entry.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    for entry in folders:
        _hash_modules(h, entry.path, f"{prefix}{entry.name}{os.sep}")


def file_identity(st: os.stat_result, now: float) -> str | None:
    """A model file's identity for a key, or ``None`` when it is too fresh to be trusted.

    Device, inode, size, modification and change times: any write changes the change time,
    which no user tool can set back. Hashing the bytes instead would cost more than the check
    (which reads a checkpoint's metadata, not its gigabytes of weights).
    """
    if now - max(st.st_mtime, st.st_ctime) < RACY_SECONDS:
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _owned_by_us(folder: Path) -> bool:
    """The folder is ours and not writable by everyone (or, while it does not exist yet, nobody
    but us could create it first: its nearest existing parent is ours, closed or sticky)."""
    if not hasattr(os, "geteuid"):  # pragma: no cover - Windows: the user's profile folder
        return True
    probe = folder
    while True:
        try:
            st = os.stat(probe)
            break
        except FileNotFoundError:
            if probe.parent == probe:
                return False
            probe = probe.parent
        except OSError:
            return False
    if probe != folder:  # created by us when the first entry is written
        return st.st_uid == os.geteuid() or not st.st_mode & 0o002 or bool(st.st_mode & 0o1000)
    return st.st_uid == os.geteuid() and not st.st_mode & 0o002


def digest(data: bytes) -> str:
    """The content part of a key: SHA-256 of a file's bytes."""
    return str(_sha256(data).hexdigest())


class ResultCache:
    """Per-file check results under ``root``, safe to share between threads and processes."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._writable = True
        self._trusted: bool | None = None
        self._hits = 0
        self._misses = 0

    @property
    def usable(self) -> bool:
        """False when someone else could have written the entries: the folder belongs to another
        user or everyone may write to it. A cache others can fill could hide a finding, so such a
        folder is neither read nor written."""
        with self._lock:
            if self._trusted is None:
                self._trusted = _owned_by_us(self.root)
            return self._trusted

    def __repr__(self) -> str:
        return f"ResultCache({str(self.root)!r})"

    def __reduce__(self) -> tuple[type[ResultCache], tuple[str]]:
        # Sent to worker processes by its folder only (locks and counters are per process).
        return (ResultCache, (str(self.root),))

    @property
    def stats(self) -> dict[str, int]:
        """Hits and misses of this instance so far."""
        with self._lock:
            return {"hits": self._hits, "misses": self._misses}

    def key(self, kind: str, *parts: object) -> str:
        """The address of a result of ``kind`` that depends on ``parts`` (and on this tool)."""
        h = _sha256()
        h.update(f"{tool_fingerprint()}|{kind}".encode())
        for part in parts:
            h.update(b"\x00")
            h.update(json.dumps(part, sort_keys=True, default=repr).encode())
        return str(h.hexdigest())

    def _path(self, kind: str, key: str) -> Path:
        return self.root / f"v{CACHE_FORMAT}" / kind / key[:2] / f"{key[2:]}.json"

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """The stored result, or ``None`` (missing, unreadable, corrupted or not this key's)."""
        if not self.usable:
            self._count(hit=False)
            return None
        try:
            with open(self._path(kind, key), "rb") as f:
                raw = f.read(MAX_ENTRY_BYTES + 1)
            if len(raw) > MAX_ENTRY_BYTES:
                raise ValueError("entry too large")
            entry = json.loads(raw)
            if not (isinstance(entry, dict) and entry.get("key") == key and isinstance(entry.get("value"), dict)):
                raise ValueError("not an entry of this key")
        except (OSError, ValueError, RecursionError):
            self._count(hit=False)
            return None
        self._count(hit=True)
        value: dict[str, Any] = entry["value"]
        return value

    def put(self, kind: str, key: str, value: Mapping[str, Any]) -> None:
        """Store ``value`` (JSON-ready) under ``key``; any failure only turns writing off."""
        with self._lock:
            if not self._writable:
                return
        if not self.usable:
            return
        try:
            text = json.dumps({"key": key, "value": value}, sort_keys=True, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            return  # not JSON-ready: this result is simply not remembered
        import tempfile

        target = self._path(kind, key)
        tmp_name = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=target.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(text.encode("utf-8"))
            os.replace(tmp_name, target)
            tmp_name = None
        except OSError:
            with self._lock:  # read-only, full or otherwise unusable: stop trying for this run
                self._writable = False
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)

    def _count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self._hits += 1
            else:
                self._misses += 1
