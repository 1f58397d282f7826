"""A real S3-compatible server on 127.0.0.1 for the tests (moto's standalone server, in a thread),
and a small HTTP proxy in front of it that counts what crosses the wire and injects faults.

The proxy is where bytes and requests are counted ("at the server"): every request the client
makes and every response byte it receives passes through it. Faults are set per test:
``drop`` (close the connection half way through a response body), ``slowdown`` (answer 503
SlowDown), ``deny`` (answer 403 AccessDenied), ``stall`` (accept the request and say nothing),
``mutate`` (let the test change the object, then forward), each for the next ``count`` requests
whose path contains ``match``.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs

ACCESS_KEY = "AKIAMODELTEMPLATESTEST"
#: Recognisable, so a test can prove it never appears in any output.
SECRET_KEY = "sEcReT-do-not-print-7f3a9c1e2b4d6f80"

#: Two buckets in two ModelArts regions.
BUCKETS = {"mt-beijing": "cn-north-4", "mt-singapore": "ap-southeast-3"}


@attrs.define
class Fault:
    kind: str  # "drop", "slowdown", "deny", "stall", "mutate"
    count: int
    match: str = ""
    method: str = ""


@attrs.define
class Counter:
    requests: int = 0
    bytes_out: int = 0  # response bytes sent to the client (headers + body)
    log: list[tuple[str, str, str | None, int]] = attrs.field(factory=list)  # method, path, range, bytes

    def reset(self) -> None:
        self.requests = 0
        self.bytes_out = 0
        self.log.clear()


class FaultProxy:
    """Forwards HTTP/1.1 requests to ``upstream`` and counts them; faults as the test sets them."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.counter = Counter()
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.stall_seconds = 30.0
        #: Answer 403 to requests that carry no signature (a bucket that is not public).
        self.require_auth = False
        #: Called with the request path by a ``mutate`` fault, before the request is forwarded.
        self.mutator: Any = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                proxy.handle(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def inject(self, kind: str, count: int = 1, match: str = "", method: str = "") -> None:
        with self.lock:
            self.faults.append(Fault(kind, count, match, method))

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def _fault_for(self, method: str, path: str) -> str | None:
        with self.lock:
            for f in self.faults:
                if f.count > 0 and f.match in path and (not f.method or f.method == method):
                    f.count -= 1
                    return f.kind
        return None

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(h.rfile)
        fault = self._fault_for(h.command, h.path)
        with self.lock:
            self.counter.requests += 1
        if self.require_auth and "Authorization" not in h.headers:
            fault = "deny"
        if fault == "mutate" and self.mutator is not None:
            self.mutator(h.path)
        if fault == "stall":
            time.sleep(self.stall_seconds)
            h.close_connection = True
            return
        if fault in ("slowdown", "deny"):
            code, status = (b"SlowDown", 503) if fault == "slowdown" else (b"AccessDenied", 403)
            payload = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code + b"</Code>"
                       b"<Message>Refused by the test proxy.</Message></Error>")
            h.send_response(status)
            h.send_header("Content-Type", "application/xml")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
            self._count(h, len(payload) + 150)
            return
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("transfer-encoding",)}
        headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=120)
        try:
            conn.request(h.command, h.path, body=body, headers=headers)
            resp = conn.getresponse()
            size = int(resp.getheader("Content-Length") or 0)
            h.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "server", "date"):
                    h.send_header(k, v)
            if resp.getheader("Content-Length") is None:
                data = resp.read()
                size = len(data)
                h.send_header("Content-Length", str(size))
                h.end_headers()
                if h.command != "HEAD":
                    h.wfile.write(data)
                self._count(h, size + 200)
                return
            h.end_headers()
            sent = 0
            limit = size // 2 if fault == "drop" else size
            while h.command != "HEAD" and sent < limit:
                chunk = resp.read(min(1 << 20, limit - sent))
                if not chunk:
                    break
                h.wfile.write(chunk)
                sent += len(chunk)
            self._count(h, sent + 200)
            if fault == "drop":
                h.wfile.flush()
                h.connection.shutdown(socket.SHUT_RDWR)
                h.close_connection = True
        finally:
            conn.close()

    def _count(self, h: BaseHTTPRequestHandler, n: int) -> None:
        with self.lock:
            self.counter.bytes_out += n
            self.counter.log.append((h.command, h.path, h.headers.get("Range"), n))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _read_chunked(rfile: Any) -> bytes:
    out = bytearray()
    while True:
        line = rfile.readline().strip()
        n = int(line.split(b";")[0], 16)
        if n == 0:
            rfile.readline()
            return bytes(out)
        out += rfile.read(n)
        rfile.readline()


@attrs.define
class S3Server:
    """The moto server, the proxy in front of it, and helpers to upload real packages."""

    moto: Any
    proxy: FaultProxy

    @property
    def endpoint(self) -> str:
        """Through the proxy: what the code under test talks to."""
        return self.proxy.url

    @property
    def direct(self) -> str:
        return f"http://127.0.0.1:{self.moto._server.server_port}"

    def client(self, region: str = "cn-north-4", *, read_timeout: float = 60) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.direct, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name=region,
                            config=Config(read_timeout=read_timeout))

    def upload_folder(self, folder: Path, bucket: str, prefix: str, *, public: bool = False) -> None:
        c = self.client(BUCKETS.get(bucket, "cn-north-4"))
        extra = {"ACL": "public-read"} if public else None
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                key = f"{prefix.rstrip('/')}/{p.relative_to(folder).as_posix()}"
                c.upload_file(str(p), bucket, key, ExtraArgs=extra)

    def upload_file(self, path: Path, bucket: str, key: str) -> None:
        self.client(BUCKETS.get(bucket, "cn-north-4")).upload_file(str(path), bucket, key)


def start() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    proxy = FaultProxy(moto._server.server_port)
    server = S3Server(moto, proxy)
    for bucket, region in BUCKETS.items():
        server.client(region).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    try:
        yield server
    finally:
        proxy.close()
        moto.stop()


def big_torch_file(path: Path, size: int, *, legacy: bool, tensors: int = 8) -> Path:
    """A real ``torch.save`` state_dict of ``tensors`` float32 tensors holding ``size`` bytes in all.

    The bytes are exactly what ``torch.save`` writes; runs of zeros in the storages (all of them:
    each tensor lies in a fresh anonymous mapping, zeros the kernel never had to store) become holes,
    so a 4 GiB model costs a second or two to write, no disk space and no resident memory.
    """
    import mmap
    import warnings

    import torch

    per = size // tensors // 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "the given buffer is not writable": it is
        state = {f"layer{i}.weight": torch.frombuffer(mmap.mmap(-1, per * 4), dtype=torch.float32)
                 for i in range(tensors)}
    with open(path, "wb") as f:
        out = _HoleWriter(f)
        torch.save(state, out, _use_new_zipfile_serialization=not legacy, pickle_protocol=2)
        f.truncate(out.pos)
    del state
    return path


class _HoleWriter:
    """A write-only file that seeks over large all-zero writes instead of writing them."""

    _PIECE = 16 << 20
    _SMALL = 64 << 10

    def __init__(self, f: Any) -> None:
        self.f = f
        self.pos = 0

    def write(self, data: Any) -> int:
        import numpy as np

        view = memoryview(data).cast("B")
        for i in range(0, len(view), self._PIECE):
            piece = view[i : i + self._PIECE]
            if len(piece) < self._SMALL or np.frombuffer(piece, dtype=np.uint8).any():
                self.f.seek(self.pos + i)
                self.f.write(piece)
        self.pos += len(view)
        return len(view)

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        self.f.flush()
