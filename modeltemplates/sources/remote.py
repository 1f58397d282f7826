"""A package behind an fsspec URL: ``obs://`` and ``s3://`` buckets (through s3fs), ``file://``,
``memory://`` and any other fsspec filesystem; a URL naming an object is read as an archive.

Needs the ``obs`` extra (``pip install 'modeltemplates[obs]'``): fsspec and s3fs are imported here,
on first use, never by ``import modeltemplates``.

What is read: one listing of the prefix (paged by the server), the bucket's location when a region
is given, and for each file opened a HEAD plus ranged GETs through a bounded block cache, each
pinned to the ETag the file had when it was opened (``If-Match``), so a file that changes while it
is read fails instead of mixing two versions. Credentials come from the environment or the
fsspec/s3fs configuration and are never put into a message, a finding or a manifest.
"""

from __future__ import annotations

import errno
import io
import os
import threading
import time
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from modeltemplates.findings import Finding
from modeltemplates.sources import remote_rules as R
from modeltemplates.sources.base import (
    ArchiveLimits,
    EntryKind,
    Node,
    NotARegularFile,
    PackageSource,
    SourceError,
    join_key,
)
from modeltemplates.sources.options import RemoteOptions
from modeltemplates.sources.regions import MODELARTS_REGIONS, obs_endpoint, region_label

#: URL schemes read through s3fs: ``obs://`` is Huawei OBS, which speaks the S3 API.
S3_SCHEMES = ("s3", "s3a", "obs")

#: Environment variables that name an endpoint, in the order they win (after ``endpoint_url=``).
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


class ObjectChanged(OSError):
    """A file changed (new ETag) between the listing and a read."""


def open_url(url: str, options: RemoteOptions, archive_limits: ArchiveLimits | None = None) -> PackageSource:
    """A source for ``url``: the folder (prefix) it names, or the archive object it names."""
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError:
        raise SourceError("reading a URL needs the obs extra: pip install 'modeltemplates[obs]'") from None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    shown = _shown_url(url)
    endpoint: str | None = None
    anonymous = False
    if scheme in S3_SCHEMES:
        try:
            import s3fs  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
        except ImportError:
            raise SourceError(f"reading {scheme}:// needs the obs extra: pip install 'modeltemplates[obs]'") from None
        endpoint = _endpoint(scheme, options)
        s3_options = _s3_options(options, endpoint)
        anonymous = bool(s3_options.get("anon"))
        fs = fsspec.filesystem("s3", **s3_options)
        fs.retries = options.retries  # s3fs's own attempts (throttling and dropped connections)
        path = f"{parts.netloc}{parts.path}".rstrip("/")
        if not parts.netloc:
            raise SourceError(f"{shown}: no bucket in the URL")
    else:
        try:
            fs = fsspec.filesystem(scheme, skip_instance_cache=True, **dict(options.storage_options))
        except (ImportError, ValueError) as exc:
            raise SourceError(f"{shown}: no filesystem for {scheme}:// ({type(exc).__name__})") from None
        path = fs._strip_protocol(url).rstrip("/") or "/"
    return _open(fs, scheme, path, shown, guard=_Guard(shown, endpoint, anonymous=anonymous), options=options,
                 limits=archive_limits)


def _open(fs: Any, scheme: str, path: str, shown: str, *, guard: _Guard, options: RemoteOptions,
          limits: ArchiveLimits | None) -> PackageSource:
    with guard:
        info = _info(fs, path, options.retries)
    if info is not None and info.get("type") == "file":
        etag = info.get("ETag")
        size = int(info.get("size") or 0)

        def opener() -> BinaryIO:
            with guard:
                f = fs.open(path, "rb", block_size=options.block_size, cache_type="none")
            _check_etag(f, etag, shown)
            return _Guarded(_ranged(f, options), guard)  # type: ignore[return-value]

        from modeltemplates.sources import open_archive

        source = open_archive(opener, size, shown, limits)
        region_findings: tuple[Finding, ...] = ()
        if scheme in S3_SCHEMES:
            region_findings = _region_findings(fs, path.split("/", 1)[0], options, guard)
        return _WithFindings(source, region_findings, guard)
    with guard:
        try:
            listing = (_list_s3(fs, path, shown, options.max_objects) if scheme in S3_SCHEMES
                       else fs.find(path, withdirs=True, detail=True))
        except FileNotFoundError:
            listing = {}
    if len(listing) > options.max_objects:
        raise SourceError(_too_many(shown, options.max_objects))
    if not listing:
        if scheme in S3_SCHEMES:
            with guard:
                try:
                    bucket_exists = bool(fs.call_s3("head_bucket", Bucket=path.split("/", 1)[0]))
                except FileNotFoundError:
                    bucket_exists = False
            if not bucket_exists:
                raise SourceError(f"{shown}: no such bucket")
        raise SourceError(f"{shown}: nothing there (no such prefix, or it is empty)")
    if not any(info.get("type") == "file" and not name.endswith("/") and name.rstrip("/") != path
               for name, info in listing.items()):
        raise SourceError(f"{shown}: the prefix is empty (folder markers only, no files): nothing there to check")
    found: tuple[Finding, ...] = ()
    if scheme in S3_SCHEMES:
        found = _region_findings(fs, path.split("/", 1)[0], options, guard)
    return RemoteSource(fs, scheme, path, shown, listing=listing, options=options, guard=guard, region_findings=found)


def _list_s3(fs: Any, path: str, shown: str, limit: int) -> dict[str, dict[str, Any]]:
    """Every object under the prefix ``path`` (``bucket/key``), page by page, stopping with a
    :class:`SourceError` past ``limit`` objects: a prefix can hold millions, and a package does not."""
    bucket, _, key = path.partition("/")
    request: dict[str, Any] = {"Bucket": bucket, "Prefix": f"{key}/" if key else ""}
    out: dict[str, dict[str, Any]] = {}
    while True:
        page = fs.call_s3("list_objects_v2", **request)
        for item in page.get("Contents", []):
            name = f"{bucket}/{item['Key']}"
            folder = name.endswith("/")  # a folder marker, as consoles and obsutil create them
            out[name] = {**item, "Key": name, "name": name, "type": "directory" if folder else "file",
                         "size": int(item.get("Size") or 0)}
        if len(out) > limit:
            raise SourceError(_too_many(shown, limit))
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            break
        request["ContinuationToken"] = token
    # What s3fs's own listing does: remember each folder's files, so opening one needs no HEAD.
    folders: dict[str, list[dict[str, Any]]] = {}
    for name, info in out.items():
        if info["type"] == "file":
            folders.setdefault(name.rpartition("/")[0], []).append(info)
    fs.dircache.update(folders)
    return out


def _too_many(shown: str, limit: int) -> str:
    return (f"{shown}: more than {limit:,} objects under this prefix, more than a model package holds; "
            "point at the package's `model` folder (or raise RemoteOptions.max_objects)")


class RemoteSource(PackageSource):
    """The objects under one prefix, as a tree. Keys are the object paths relative to the prefix."""

    def __init__(self, fs: Any, scheme: str, root: str, shown: str, *, listing: dict[str, dict[str, Any]],
                 options: RemoteOptions, guard: _Guard, region_findings: tuple[Finding, ...]) -> None:
        self.kind = "s3" if scheme in S3_SCHEMES else scheme
        if scheme == "obs":
            self.kind = "obs"
        self._fs = fs
        self._root = root
        self._shown = shown
        self._options = options
        self._guard = guard
        self._region_findings = region_findings
        self._files: dict[str, dict[str, Any]] = {}
        self._children: dict[str, dict[str, str]] = {"": {}}
        self._changed: list[str] = []
        self._lock = threading.Lock()
        #: Small files already fetched whole (key -> bytes) and their total size.
        self._small: dict[str, bytes] = {}
        self._small_total = 0
        prefix = root.rstrip("/") + "/"
        for name, info in listing.items():
            name = name.rstrip("/")
            if not name.startswith(prefix):
                continue
            key = name[len(prefix):]
            if not key:
                continue
            parent = ""
            for part in key.split("/")[:-1]:
                here = join_key(parent, part)
                self._children.setdefault(parent, {})[part] = here
                self._children.setdefault(here, {})
                parent = here
            self._children.setdefault(parent, {})[key.rpartition("/")[2]] = key
            if info.get("type") == "directory":
                self._children.setdefault(key, {})
            else:
                self._files[key] = info

    @property
    def location(self) -> str:
        return self._shown

    def path_of(self, key: str) -> PurePosixPath:
        top = PurePosixPath(self._root)
        return top.joinpath(*key.split("/")) if key else top

    def shown(self, key: str) -> str:
        return f"{self._shown.rstrip('/')}/{key}" if key else self._shown

    def stat(self, key: str) -> Node | None:
        if key == "":
            return Node(key="", name=self.path_of("").name, kind=EntryKind.DIR)
        if key in self._files:
            return self._node(key)
        if key in self._children:
            return Node(key=key, name=key.rpartition("/")[2], kind=EntryKind.DIR)
        return None

    def list(self, key: str) -> list[Node]:
        children = self._children.get(key)
        if children is None:
            raise NotADirectoryError(f"{key} is not a folder")
        out = []
        for name in sorted(children, key=lambda n: n.encode("utf-8", "surrogateescape")):
            child = children[name]
            if child in self._files and child not in self._children:
                out.append(self._node(child))
            else:
                out.append(Node(key=child, name=name, kind=EntryKind.DIR))
        return out

    def open(self, key: str, *, sequential: bool = False) -> BinaryIO:
        info = self._files.get(key)
        if info is None:
            raise NotARegularFile(f"{key} is not a file")
        path = f"{self._root}/{key}"
        opts = self._options
        with self._lock:
            kept = self._small.get(key)
        if kept is not None:
            return io.BytesIO(kept)
        if int(info.get("size") or 0) <= opts.small_file:
            return io.BytesIO(self._fetch_small(key, path))
        if sequential:
            f = self._open_pinned(key, path, block_size=opts.stream_block_size, cache_type="readahead")
        else:
            f = _ranged(self._open_pinned(key, path, block_size=opts.block_size, cache_type="none"), opts)
        return _Guarded(f, self._guard, on_change=lambda: self._note_changed(key))  # type: ignore[return-value]

    def _open_pinned(self, key: str, path: str, **how: Any) -> Any:
        """The fsspec file of ``key``, refused (and noted) when its ETag is no longer the listed one."""
        with self._guard:
            f = self._fs.open(path, "rb", **how)
        try:
            _check_etag(f, self._files[key].get("ETag"), key)
        except ObjectChanged:
            f.close()
            self._note_changed(key)
            raise
        return f

    def _fetch_small(self, key: str, path: str) -> bytes:
        """A small file's bytes in one request (ETag-pinned like every read), kept for later opens."""
        opts = self._options
        f = self._open_pinned(key, path, block_size=opts.small_file, cache_type="none")
        guarded = _Guarded(f, self._guard, on_change=lambda: self._note_changed(key))
        try:
            data = guarded.read(opts.small_file + 1)
        finally:
            guarded.close()
        with self._lock:
            if key not in self._small and self._small_total + len(data) <= opts.small_files_total:
                self._small[key] = data
                self._small_total += len(data)
        return data

    def findings(self, root_key: str) -> tuple[Finding, ...]:
        out = list(self._region_findings)
        with self._lock:
            changed = sorted(set(self._changed))
        prefix = root_key + "/" if root_key else ""
        for key in changed:
            rel = key[len(prefix):] if key.startswith(prefix) else key
            out.append(R.CHANGED.finding(rel, f"'{rel}' changed on the server while it was being read; "
                                         "nothing read from the package is reported"))
        if self._guard.changed and not changed:
            out.append(R.CHANGED.finding("", "an object changed on the server while it was being read; nothing "
                                         "read from the package is reported"))
        return tuple(out)

    def changed(self) -> bool:
        with self._lock:
            return bool(self._changed) or self._guard.changed

    def failure(self) -> SourceError | None:
        return self._guard.failure

    def _note_changed(self, key: str) -> None:
        with self._lock:
            self._changed.append(key)

    def _node(self, key: str) -> Node:
        info = self._files[key]
        return Node(key=key, name=key.rpartition("/")[2], kind=EntryKind.FILE, size=int(info.get("size") or 0))


class _WithFindings(PackageSource):
    """Another source plus findings about its location (an archive in a bucket: the bucket's region)."""

    def __init__(self, inner: PackageSource, extra: tuple[Finding, ...], guard: _Guard) -> None:
        self._inner = inner
        self._extra = extra
        self._guard = guard
        self.kind = inner.kind
        self.named_top = inner.named_top  # type: ignore[misc]

    @property
    def location(self) -> str:
        return self._inner.location

    @property
    def concurrent(self) -> bool:
        return self._inner.concurrent

    def path_of(self, key: str) -> PurePosixPath:
        return PurePosixPath(self._inner.path_of(key))

    def shown(self, key: str) -> str:
        return self._inner.shown(key)

    def stat(self, key: str) -> Node | None:
        return self._inner.stat(key)

    def list(self, key: str) -> list[Node]:
        return self._inner.list(key)

    def open(self, key: str, *, sequential: bool = False) -> BinaryIO:
        return self._inner.open(key, sequential=sequential)

    def order(self, key: str) -> int:
        return self._inner.order(key)

    def findings(self, root_key: str) -> tuple[Finding, ...]:
        changed = (R.CHANGED.finding("", f"{self.location} changed on the server while it was being read; "
                                     "nothing read from it is reported"),) if self._guard.changed else ()
        return self._extra + changed + self._inner.findings(root_key)

    def changed(self) -> bool:
        return self._guard.changed

    def failure(self) -> SourceError | None:
        return self._guard.failure

    def close(self) -> None:
        self._inner.close()


# -- reaching the server ----------------------------------------------------------------------


def _endpoint(scheme: str, options: RemoteOptions) -> str | None:
    """``endpoint_url=`` wins, then the environment, then the OBS endpoint of ``region``."""
    if options.endpoint_url:
        return options.endpoint_url
    for name in ENDPOINT_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    if options.storage_options.get("endpoint_url"):
        return str(options.storage_options["endpoint_url"])
    if scheme == "obs":
        if options.region is None:
            raise SourceError("obs:// needs a region (--region, e.g. cn-north-4) or an endpoint (--endpoint-url)")
        return obs_endpoint(options.region)
    return None


def _s3_options(options: RemoteOptions, endpoint: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = dict(options.storage_options)
    kwargs.setdefault("skip_instance_cache", True)
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    client = dict(kwargs.pop("client_kwargs", {}) or {})
    if options.region and "region_name" not in client:
        client["region_name"] = options.region
    kwargs["client_kwargs"] = client
    config = dict(kwargs.pop("config_kwargs", {}) or {})
    config.setdefault("connect_timeout", options.connect_timeout)
    config.setdefault("read_timeout", options.read_timeout)
    # s3fs retries (throttling, timeouts, dropped connections) with its own backoff: one attempt each.
    config.setdefault("retries", {"max_attempts": 1, "mode": "standard"})
    kwargs["config_kwargs"] = config
    if "anon" not in kwargs and "key" not in kwargs and not _have_credentials(kwargs):
        kwargs["anon"] = True  # no credentials anywhere: a public bucket can still be read
    return kwargs


def _have_credentials(kwargs: dict[str, Any]) -> bool:
    try:
        import botocore.session  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - s3fs depends on botocore
        return False
    session = botocore.session.Session(profile=kwargs.get("profile"))
    try:
        return session.get_credentials() is not None
    except Exception:
        return False


def _region_findings(fs: Any, bucket: str, options: RemoteOptions, guard: _Guard) -> tuple[Finding, ...]:
    """The same-region rule: the bucket's location against the target region."""
    try:
        with guard:
            answer = fs.call_s3("get_bucket_location", Bucket=bucket)
    except SourceError as exc:
        reason = getattr(exc, "reason", "refused")
        target = f"make sure it is in {region_label(options.region)}" if options.region else "region not checked"
        return (R.REGION_UNKNOWN.finding("", f"the location of bucket '{bucket}' could not be read ({reason}); "
                                         f"{target}"),)
    location = answer.get("LocationConstraint") or answer.get("Location") or "us-east-1"
    if options.region is None:
        known = "" if location in MODELARTS_REGIONS else " (not a ModelArts region)"
        return (R.BUCKET_REGION.finding("", f"bucket '{bucket}' is in {region_label(location)}{known}; ModelArts "
                                        "must be used in the same region"),)
    if location != options.region:
        return (R.REGION_MISMATCH.finding(
            "", f"bucket '{bucket}' is in {region_label(location)}, but the package is for ModelArts in "
            f"{region_label(options.region)}; the platform cannot import a model from a bucket in another region"),)
    return (R.BUCKET_REGION.finding("", f"bucket '{bucket}' is in {region_label(location)}, the target region"),)


def _info(fs: Any, path: str, attempts: int = 5) -> dict[str, Any] | None:
    """The object or folder at ``path``, or ``None``. A throttled HEAD is tried again here: its 503 has
    no body naming SlowDown, so s3fs does not recognise it as throttling and gives up at once."""
    for attempt in range(max(1, attempts)):
        try:
            return dict(fs.info(path))
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno != errno.EBUSY or attempt + 1 >= attempts:  # s3fs's EBUSY is HTTP 503
                raise
            time.sleep(min(0.1 * 1.7 ** attempt, 5.0))
    return None


def _ranged(f: Any, options: RemoteOptions) -> Any:
    """Random access to a remote file: reads sized to what is asked (see ``rangecache``)."""
    from modeltemplates.sources.rangecache import over_fsspec_file

    return over_fsspec_file(f, small=options.small_read, capacity=options.block_size * options.max_blocks)


def _check_etag(f: Any, expected: str | None, where: str) -> None:
    details = getattr(f, "details", None)
    now = details.get("ETag") if isinstance(details, dict) else None
    if expected is not None and now is not None and now != expected:
        raise ObjectChanged(f"{where} changed on the server since it was listed")


def _shown_url(url: str) -> str:
    """The URL without user info or query (where credentials could hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


class _Guard:
    """Turns client errors into one-line :class:`SourceError` messages that never carry credentials."""

    def __init__(self, shown: str, endpoint: str | None, *, anonymous: bool = False) -> None:
        self.shown = shown
        self.endpoint = endpoint
        self.anonymous = anonymous
        #: Set once any read found an object changed (the report then says only that).
        self.changed = False
        #: The first error reaching the location, whoever caught it afterwards.
        self.failure: SourceError | None = None

    def __enter__(self) -> _Guard:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, ObjectChanged):
            self.changed = True
        if exc is None or isinstance(exc, (SourceError, NotARegularFile, ObjectChanged)):
            return
        error = translate(exc, self.shown, self.endpoint, anonymous=self.anonymous)
        if error is None:
            return
        if isinstance(error, ObjectChanged):
            self.changed = True
        elif self.failure is None:
            self.failure = error
        raise error from None


def translate(
    exc: BaseException, shown: str, endpoint: str | None, *, anonymous: bool = False
) -> SourceError | ObjectChanged | None:
    """The one-line error for a client exception, or ``None`` when it is not about reaching the data."""
    name = type(exc).__name__
    text = str(exc)
    where = f" at {endpoint}" if endpoint else ""
    if name == "FileExpired" or "PreconditionFailed" in text or "pre-conditions" in text:
        return ObjectChanged(f"{shown}: an object changed on the server while it was being read")
    if name in ("NoCredentialsError", "PartialCredentialsError", "NoAuthTokenError"):
        return _error(f"{shown}: no credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                      "(or a profile), or read a public bucket anonymously", "no credentials")
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "InvalidAccessKeyId" in text \
            or "SignatureDoesNotMatch" in text or "Forbidden" in text:
        if anonymous:
            return _error(f"{shown}: access denied{where}: no credentials were found, so the bucket was read "
                          "anonymously; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile)",
                          "no credentials")
        return _error(f"{shown}: access denied{where}; check the credentials and the bucket policy", "access denied")
    if "NoSuchBucket" in text:
        return _error(f"{shown}: no such bucket{where}", "no such bucket")
    if isinstance(exc, FileNotFoundError):
        return _error(f"{shown}: not found{where}", "not found")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
                "ClientConnectorError", "ServerDisconnectedError", "ClientPayloadError", "FSTimeoutError",
                "TimeoutError", "IncompleteRead", "ResponseStreamingError", "ConnectionError",
                "ClientOSError", "ProxyConnectionError") or isinstance(exc, (ConnectionError, TimeoutError)):
        return _error(f"{shown}: cannot reach the endpoint{where or ''} ({name}); check the network, the "
                      "endpoint URL and the region", "connection failed")
    if "SlowDown" in text or "503" in text or "ServiceUnavailable" in text:
        return _error(f"{shown}: the server kept throttling (503 SlowDown) after retries{where}; try again later",
                      "throttled")
    if name == "ClientError" or isinstance(exc, OSError):
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
        return _error(f"{shown}: the server refused the request{where} ({code or name})", code or name)
    return None


def _error(message: str, reason: str) -> SourceError:
    err = SourceError(message)
    err.reason = reason  # type: ignore[attr-defined]
    return err


class _Guarded:
    """A file whose read errors become one-line :class:`SourceError`/:class:`ObjectChanged`."""

    def __init__(self, f: Any, guard: _Guard, on_change: Callable[[], None] | None = None) -> None:
        self._f = f
        self._guard = guard
        self._on_change = on_change

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            with self._guard:
                return fn(*args)
        except ObjectChanged:
            if self._on_change is not None:
                self._on_change()
            raise

    def read(self, n: int = -1) -> bytes:
        return self._call(self._f.read, n)  # type: ignore[no-any-return]

    def readinto(self, buffer: Any) -> int:
        return self._call(self._f.readinto, buffer)  # type: ignore[no-any-return]

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._call(self._f.seek, offset, whence)  # type: ignore[no-any-return]

    def tell(self) -> int:
        return self._f.tell()  # type: ignore[no-any-return]

    def prefetch(self, spans: list[tuple[int, int]]) -> None:
        """A read-ahead hint: the ``(start, length)`` spans to be read next (see ``rangecache``)."""
        hint = getattr(self._f, "prefetch", None)
        if hint is not None:
            self._call(hint, spans)

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._f.close()

    @property
    def closed(self) -> bool:
        return bool(self._f.closed)

    def __enter__(self) -> _Guarded:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
