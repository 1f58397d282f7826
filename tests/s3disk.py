"""A small S3-compatible HTTP server that serves a folder from disk, for the tests and bench/.

moto (tests/s3server.py) keeps every object in memory and reads and copies an object's whole value
for each ranged GET, so a 4 GiB model costs minutes and gigabytes per read. This server answers
from files instead: a range is streamed from the file (``socket.sendfile``), never read whole.

Layout: ``root/<bucket>/<key>``; each bucket is a sub-folder with a region (GetBucketLocation).
Files written into a bucket's folder are objects at once, nothing is uploaded. It implements what
s3fs/botocore send for reading: HeadBucket, GetBucketLocation, ListObjectsV2 (prefix, delimiter,
max-keys, continuation, start-after, ``encoding-type=url``), HeadObject and GetObject (``Range``,
``If-Match``/``If-None-Match``), path-style on 127.0.0.1. ETag and Last-Modified come from the
file's size, inode and modification time, so they are stable while a file is left alone and change
when it is rewritten. SigV4 signatures are not verified: a request that carries one must name the
server's access key (else 403 InvalidAccessKeyId); unsigned requests are anonymous, allowed unless
``allow_anonymous`` is off. Writes are refused (501).

The server counts what it sends (:class:`WireCounter`): requests, header bytes and body bytes, with
a log of each request, so a test can assert a reader's budget "at the server".
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

import attrs

from tests.s3server import ACCESS_KEY, BUCKETS

_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


@attrs.define
class Request:
    method: str
    path: str
    range: str | None
    status: int
    header_bytes: int
    body_bytes: int


@attrs.define
class WireCounter:
    """What the server sent since the last :meth:`reset` (thread-safe through the server's lock)."""

    requests: int = 0
    header_bytes: int = 0
    body_bytes: int = 0
    log: list[Request] = attrs.field(factory=list)
    #: Requests being answered now, and the most at once since the last reset (concurrency).
    in_flight: int = 0
    max_in_flight: int = 0
    #: Bumped by each reset: a request that arrived before a reset is not counted after it (the
    #: client can see a response, and reset, before the server thread has recorded that response).
    generation: int = 0

    @property
    def bytes_out(self) -> int:
        """Every byte of every response: status lines and headers plus bodies."""
        return self.header_bytes + self.body_bytes

    def reset(self) -> None:
        self.requests = self.header_bytes = self.body_bytes = self.max_in_flight = 0
        self.log.clear()
        self.generation += 1

    def to(self, path_part: str) -> list[Request]:
        """The logged requests whose path contains ``path_part``."""
        return [r for r in self.log if path_part in r.path]


class _Reply(Exception):
    """An S3 error answer."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


class DiskS3Server:
    """Serves ``root`` on 127.0.0.1 at an ephemeral port; see the module docstring."""

    def __init__(self, root: Path, buckets: dict[str, str] | None = None, *, access_key: str = ACCESS_KEY) -> None:
        self.root = root
        self.buckets = dict(BUCKETS if buckets is None else buckets)
        self.access_key = access_key
        self.allow_anonymous = True
        #: Seconds each object GET waits before answering (a round trip to a far server).
        self.delay = 0.0
        self.counter = WireCounter()
        self.lock = threading.Lock()
        for bucket in self.buckets:
            (root / bucket).mkdir(parents=True, exist_ok=True)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "s3disk"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def end_headers(self) -> None:
                self.header_bytes = sum(len(b) for b in getattr(self, "_headers_buffer", [])) + 2
                super().end_headers()

            def do_GET(self) -> None:
                server._handle(self)

            do_HEAD = do_GET

            def do_PUT(self) -> None:
                server._refuse(self)

            do_POST = do_DELETE = do_PUT

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hangs up mid-body is not the test's business

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="s3disk", daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def bucket_dir(self, bucket: str) -> Path:
        return self.root / bucket

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- requests ---------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            generation = self.counter.generation
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            h.rfile.read(length)
        parts = urlsplit(h.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        sent = (0, 200, 0)
        with self.lock:
            self.counter.in_flight += 1
            self.counter.max_in_flight = max(self.counter.max_in_flight, self.counter.in_flight)
        try:
            self._authorise(h)
            if bucket not in self.buckets or not self.bucket_dir(bucket).is_dir():
                raise _Reply(404, "NoSuchBucket", "The specified bucket does not exist")
            if not key:
                sent = self._bucket(h, bucket, query)
            else:
                sent = self._object(h, bucket, key)
        except _Reply as reply:
            sent = self._error(h, reply)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True
            sent = (0, 499, 0)
        header_bytes, status, body_bytes = sent
        with self.lock:
            self.counter.in_flight -= 1
            if self.counter.generation != generation:
                return
            self.counter.requests += 1
            self.counter.header_bytes += header_bytes
            self.counter.body_bytes += body_bytes
            self.counter.log.append(Request(h.command, h.path, h.headers.get("Range"), status, header_bytes,
                                            body_bytes))

    def _refuse(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            h.rfile.read(length)
        sent = self._error(h, _Reply(501, "NotImplemented", "This test server only reads: write the files "
                                     "into the bucket's folder"))
        with self.lock:
            self.counter.requests += 1
            self.counter.header_bytes += sent[0]
            self.counter.body_bytes += sent[2]
            self.counter.log.append(Request(h.command, h.path, None, sent[1], sent[0], sent[2]))

    def _authorise(self, h: BaseHTTPRequestHandler) -> None:
        auth = h.headers.get("Authorization")
        if auth is None:
            if not self.allow_anonymous:
                raise _Reply(403, "AccessDenied", "Access Denied")
            return
        found = _CREDENTIAL.search(auth)
        if found is None or found.group(1) != self.access_key:
            raise _Reply(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")

    def _bucket(self, h: BaseHTTPRequestHandler, bucket: str, query: dict[str, list[str]]) -> tuple[int, int, int]:
        region = self.buckets[bucket]
        if h.command == "HEAD":
            return self._send(h, 200, b"", {"x-amz-bucket-region": region})
        if "location" in query:
            body = f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{_XMLNS}">{region}' \
                   "</LocationConstraint>"
            return self._send(h, 200, body.encode(), {"Content-Type": "application/xml"})
        if query.get("list-type", [""])[0] != "2":
            raise _Reply(501, "NotImplemented", "only ListObjectsV2 (list-type=2) is served")
        return self._send(h, 200, self._list(bucket, query), {"Content-Type": "application/xml"})

    def _list(self, bucket: str, query: dict[str, list[str]]) -> bytes:
        def arg(name: str, default: str = "") -> str:
            return query.get(name, [default])[0]

        prefix, delimiter = arg("prefix"), arg("delimiter")
        url = arg("encoding-type") == "url"
        max_keys = max(0, min(int(arg("max-keys", "1000") or 1000), 1000))
        token = arg("continuation-token")
        after = _untoken(token) if token else arg("start-after")
        contents: list[tuple[str, os.stat_result]] = []
        prefixes: list[str] = []
        truncated = False
        last = ""
        for key, st in self._keys(bucket, prefix):
            if after and (key <= after or (after.endswith(delimiter or "\0") and key.startswith(after))):
                continue
            rest = key[len(prefix):]
            common = prefix + rest[: rest.index(delimiter) + len(delimiter)] if delimiter in rest else ""
            if delimiter and common and prefixes and prefixes[-1] == common:
                continue
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            if delimiter and common:
                prefixes.append(common)
                last = common
            else:
                contents.append((key, st))
                last = key

        def enc(text: str) -> str:
            return escape(quote(text, safe="/") if url else text)

        out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{_XMLNS}">',
               f"<Name>{bucket}</Name><Prefix>{enc(prefix)}</Prefix><KeyCount>{len(contents) + len(prefixes)}"
               f"</KeyCount><MaxKeys>{max_keys}</MaxKeys>"]
        if delimiter:
            out.append(f"<Delimiter>{enc(delimiter)}</Delimiter>")
        if url:
            out.append("<EncodingType>url</EncodingType>")
        if token:
            out.append(f"<ContinuationToken>{escape(token)}</ContinuationToken>")
        if arg("start-after"):
            out.append(f"<StartAfter>{enc(arg('start-after'))}</StartAfter>")
        out.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
        if truncated:
            out.append(f"<NextContinuationToken>{_token(last)}</NextContinuationToken>")
        for key, st in contents:
            out.append(f"<Contents><Key>{enc(key)}</Key><LastModified>{_iso(st)}</LastModified>"
                       f"<ETag>{escape(_etag(st))}</ETag><Size>{st.st_size}</Size>"
                       "<StorageClass>STANDARD</StorageClass></Contents>")
        out.extend(f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>" for p in prefixes)
        out.append("</ListBucketResult>")
        return "".join(out).encode("utf-8")

    def _keys(self, bucket: str, prefix: str) -> Iterator[tuple[str, os.stat_result]]:
        """Every regular file under the bucket whose key starts with ``prefix``, in S3's (byte) order."""
        top = self.bucket_dir(bucket)
        base = prefix.rpartition("/")[0]
        start = _inside(top, base) if base else top
        if start is None or not start.is_dir():
            return
        found = []
        for folder, dirs, files in os.walk(start):
            dirs.sort()
            rel = Path(folder).relative_to(top).as_posix()
            for name in files:
                key = name if rel == "." else f"{rel}/{name}"
                if not key.startswith(prefix):
                    continue
                st = os.lstat(os.path.join(folder, name))
                if os.path.isfile(os.path.join(folder, name)) and not os.path.islink(os.path.join(folder, name)):
                    found.append((key, st))
        found.sort(key=lambda item: item[0].encode("utf-8", "surrogateescape"))
        yield from found

    def _object(self, h: BaseHTTPRequestHandler, bucket: str, key: str) -> tuple[int, int, int]:
        path = _inside(self.bucket_dir(bucket), key)
        if path is None or key.endswith("/") or not path.is_file() or path.is_symlink():
            raise _Reply(404, "NoSuchKey", "The specified key does not exist.")
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            etag = _etag(st)
            size = st.st_size
            headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True),
                       "Accept-Ranges": "bytes", "Content-Type": "binary/octet-stream"}
            wanted = h.headers.get("If-Match")
            if wanted is not None and wanted.strip() not in ("*", etag):
                raise _Reply(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
            unwanted = h.headers.get("If-None-Match")
            if unwanted is not None and unwanted.strip() in ("*", etag):
                return self._send(h, 304, b"", headers)
            if self.delay and h.command == "GET":
                time.sleep(self.delay)
            start, end, status = 0, size, 200
            spec = h.headers.get("Range")
            if spec is not None:
                start, end = _range(spec, size)
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
            headers["Content-Length"] = str(end - start)
            h.send_response(status)
            for name, value in headers.items():
                h.send_header(name, value)
            h.end_headers()
            header_bytes = h.header_bytes  # type: ignore[attr-defined]
            if h.command == "HEAD" or end == start:
                return header_bytes, status, 0
            sent = 0
            try:
                while sent < end - start:  # sendfile streams from the page cache, a piece at a time
                    n = h.connection.sendfile(f, start + sent, min(8 << 20, end - start - sent))
                    if n == 0:
                        break
                    sent += n
            except OSError:
                h.close_connection = True
            return header_bytes, status, sent

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes,
              headers: dict[str, str]) -> tuple[int, int, int]:
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        if "Content-Length" not in headers:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD" and body:
            h.wfile.write(body)
            return h.header_bytes, status, len(body)  # type: ignore[attr-defined]
        return h.header_bytes, status, 0  # type: ignore[attr-defined]

    def _error(self, h: BaseHTTPRequestHandler, reply: _Reply) -> tuple[int, int, int]:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{reply.code}</Code>'
                f"<Message>{escape(reply.message)}</Message><RequestId>s3disk</RequestId></Error>").encode()
        headers = {"Content-Type": "application/xml", **reply.headers}
        if h.command == "HEAD":
            headers["Content-Length"] = "0"
        return self._send(h, reply.status, body, headers)


def _inside(top: Path, key: str) -> Path | None:
    """The file of ``key`` under ``top``; None for a key that would leave it."""
    parts = key.rstrip("/").split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        return None
    return top.joinpath(*parts)


def _range(spec: str, size: int) -> tuple[int, int]:
    """``[start, end)`` of a ``Range: bytes=...`` header, as S3 reads one."""
    m = _RANGE.match(spec.strip())
    unsatisfiable = _Reply(416, "InvalidRange", "The requested range is not satisfiable",
                           {"Content-Range": f"bytes */{size}"})
    if m is None or (not m.group(1) and not m.group(2)):
        return 0, size  # S3 ignores a range it cannot parse and sends the whole object
    first, last = m.group(1), m.group(2)
    if not first:
        n = int(last)
        if n == 0:
            raise unsatisfiable
        return max(0, size - n), size
    start = int(first)
    end = min(size, int(last) + 1) if last else size
    if start >= size or end <= start:
        raise unsatisfiable
    return start, end


def _etag(st: os.stat_result) -> str:
    """Stable while the file is left alone; a rewrite (new size, inode or time) changes it."""
    ident = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode()
    return f'"{hashlib.md5(ident, usedforsecurity=False).hexdigest()}"'


def _iso(st: os.stat_result) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(st.st_mtime))


def _token(key: str) -> str:
    return key.encode("utf-8", "surrogateescape").hex()


def _untoken(token: str) -> str:
    try:
        return bytes.fromhex(token).decode("utf-8", "surrogateescape")
    except ValueError:
        raise _Reply(400, "InvalidArgument", "The continuation token provided is incorrect") from None


def start(root: Path) -> Iterator[DiskS3Server]:
    """A server over ``root`` with the test buckets, closed when the generator is."""
    server = DiskS3Server(root)
    try:
        yield server
    finally:
        server.close()


def sparse_ok(folder: Path) -> bool:
    """Whether files in ``folder`` can have holes (a 64 MiB seek costs no disk blocks)."""
    probe = folder / ".sparse-probe"
    try:
        with open(probe, "wb") as f:
            f.seek(64 << 20)
            f.write(b"\0")
        return os.stat(probe).st_blocks * 512 < (1 << 20)
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)

