"""A seekable file over ranged reads of a remote object, sized to what the reader asks for.

A model file is read in two ways: its pickles front to back, and a few small records far apart (one
storage header per tensor, a zip member's local header, the central directory at the end). A cache
of fixed blocks pays a whole block for each small record; this one fetches what is missing of a
read, grown to at least ``small`` bytes for an isolated read, and for a read that follows on from
the previous fetch to twice that fetch (up to ``max_window``). Sequential reading thus grows into
few, large requests, while a far 8-byte read costs a few KiB.

A reader that knows where its next small reads lie (the storage headers, the zip local headers) can
announce them with :meth:`RangeReader.prefetch`; they are fetched in batches (concurrently, when the
file system can) and kept until read, so the round trips do not add up one after another.

Fetched spans are kept in a least-recently-used cache of at most ``capacity`` bytes. One reader is
used by one thread at a time (the checks open a file per reader).
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: ``fetch(start, end)``: the bytes ``[start, end)`` of the object.
Fetch = Callable[[int, int], bytes]
#: ``fetch_many([(start, end), ...])``: the same for several spans, in order.
FetchMany = Callable[[Sequence[tuple[int, int]]], Sequence[bytes]]

#: Announced spans are fetched in batches of this many (the next when the reads reach it).
PREFETCH_BATCH = 256
#: At most this many announced spans are remembered per file.
MAX_PLANNED_SPANS = 1 << 16


class RangeReader:
    """A read-only binary file of ``size`` bytes whose bytes come from ``fetch``."""

    def __init__(
        self,
        fetch: Fetch,
        size: int,
        *,
        fetch_many: FetchMany | None = None,
        small: int = 4 << 10,
        max_window: int = 1 << 20,
        capacity: int = 2 << 20,
        on_close: Callable[[], Any] | None = None,
    ) -> None:
        self.size = size
        self._fetch = fetch
        self._fetch_many = fetch_many
        self._small = max(1, small)
        self._max_window = max(self._small, max_window)
        self._capacity = max(capacity, 2 * self._max_window)
        self._on_close = on_close
        self._pos = 0
        self._closed = False
        #: Where the last fetch ended (a read starting there continues a sequential run), its size.
        self._last_end = -1
        self._last_size = 0
        #: Cached spans: start -> bytes, least recently used first; ``_starts`` is their sorted starts.
        self._spans: OrderedDict[int, bytes] = OrderedDict()
        self._starts: list[int] = []
        self._held = 0
        #: Spans announced by :meth:`prefetch` ([start, end), in reading order); start -> index of
        #: those not fetched yet.
        self._planned: list[tuple[int, int]] = []
        self._plan_at: dict[int, int] = {}
        #: Requests made and bytes fetched (for tests and benchmarks).
        self.requests = 0
        self.fetched = 0

    # -- the file interface ------------------------------------------------------------------

    def read(self, n: int = -1) -> bytes:
        if self._closed:
            raise ValueError("I/O operation on a closed file")
        start = self._pos
        end = self.size if n is None or n < 0 else min(self.size, start + n)
        if end <= start:
            return b""
        data = self._read(start, end)
        self._pos = end
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            pos = offset
        elif whence == 1:
            pos = self._pos + offset
        elif whence == 2:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence})")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._spans.clear()
            self._starts.clear()
            if self._on_close is not None:
                self._on_close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> RangeReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- read-ahead hints ---------------------------------------------------------------------

    def prefetch(self, spans: Iterable[tuple[int, int]]) -> None:
        """Announce the ``(start, length)`` spans the reader will read next, in that order; a hint.

        The first :data:`PREFETCH_BATCH` are fetched now, together; each later batch when a read
        reaches its first span. Spans empty, outside the file or longer than ``small`` are left
        out; at most :data:`MAX_PLANNED_SPANS` are remembered. A failed batch is only a lost hint:
        the reads then fetch, and report errors, on their own.
        """
        planned: list[tuple[int, int]] = []
        for start, length in spans:
            end = min(self.size, start + max(0, length))
            if start < 0 or end <= start or end - start > self._small:
                continue
            if planned and planned[-1][0] <= start <= planned[-1][1]:
                planned[-1] = (planned[-1][0], max(end, planned[-1][1]))
                continue
            if len(planned) >= MAX_PLANNED_SPANS:
                break
            planned.append((start, end))
        self._planned = planned
        self._plan_at = {s: i for i, (s, _) in enumerate(planned)}
        if planned:
            self._fetch_planned(0)

    def _fetch_planned(self, index: int) -> None:
        chunk = self._planned[index : index + PREFETCH_BATCH]
        for start, _ in chunk:
            self._plan_at.pop(start, None)  # tried once, whatever happens
        wanted = [(s, e) for s, e in chunk if not self._overlaps(s, e)]
        if not wanted:
            return
        try:
            if self._fetch_many is not None:
                pieces = list(self._fetch_many(wanted))
            else:
                pieces = [self._fetch(s, e) for s, e in wanted]
        except Exception:  # a hint: the reads will fetch, and report any error, themselves
            return
        self.requests += len(wanted)
        for (s, e), data in zip(wanted, pieces, strict=False):
            self.fetched += len(data)
            if len(data) == e - s and not self._overlaps(s, e):
                self._keep(s, data)

    # -- the cache ----------------------------------------------------------------------------

    def _read(self, start: int, end: int) -> bytes:
        parts: list[bytes] = []
        pos = start
        while pos < end:
            i = bisect.bisect_right(self._starts, pos) - 1
            if i >= 0:
                span_start = self._starts[i]
                data = self._spans[span_start]
                if span_start + len(data) > pos:  # pos lies in a cached span
                    take = data[pos - span_start : min(end, span_start + len(data)) - span_start]
                    self._spans.move_to_end(span_start)
                    parts.append(take)
                    pos += len(take)
                    continue
            planned = self._plan_at.get(pos)
            if planned is not None:  # the reads reached the next batch of announced spans
                self._fetch_planned(planned)
                continue
            following = self._starts[i + 1] if i + 1 < len(self._starts) else self.size
            gap_end = min(end, following)
            got = self._fill(pos, gap_end, following)
            parts.append(got[: gap_end - pos])
            if len(got) < gap_end - pos:
                break  # the object is shorter than its listed size: a short read, as from a file
            pos = gap_end
        self._trim()
        return b"".join(parts)

    def _fill(self, start: int, end: int, limit: int) -> bytes:
        """Fetch ``[start, end)`` grown as the read pattern suggests (never past ``limit``); cache it."""
        if start == self._last_end:  # a sequential run: fetch ahead, twice as far each time
            want = max(end - start, min(2 * self._last_size, self._max_window))
        else:
            want = max(end - start, self._small)
        data = self._fetch(start, min(limit, start + want))
        self.requests += 1
        self.fetched += len(data)
        self._last_end = start + len(data)
        self._last_size = len(data)
        if len(data) <= self._capacity // 2:
            self._keep(start, data)
        return data

    def _keep(self, start: int, data: bytes) -> None:
        if start in self._spans or not data:
            return
        self._spans[start] = data
        bisect.insort(self._starts, start)
        self._held += len(data)

    def _trim(self) -> None:
        while self._held > self._capacity and self._spans:
            start, data = self._spans.popitem(last=False)
            self._starts.pop(bisect.bisect_left(self._starts, start))
            self._held -= len(data)

    def _covered(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, start) - 1
        if i < 0:
            return False
        s = self._starts[i]
        return s + len(self._spans[s]) >= end

    def _overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self._starts, end) - 1
        if i < 0:
            return False
        s = self._starts[i]
        return s + len(self._spans[s]) > start


# -- fsspec files ------------------------------------------------------------------------------

#: Concurrent requests of one prefetch (s3fs's connection pool holds 10 by default).
PREFETCH_CONCURRENCY = 8


def over_fsspec_file(f: Any, *, small: int, capacity: int) -> Any:
    """``f`` (an open fsspec file) read through a :class:`RangeReader`, when it reads by ranges.

    Files of remote file systems (``AbstractBufferedFile``: s3fs, HTTP, ...) are read with the
    file's own range fetch, which keeps its ETag pin (``If-Match``) and retries; s3fs files fetch
    prefetched spans concurrently on s3fs's event loop. Other files (local, memory) seek for free
    and are returned as they are.
    """
    from fsspec.spec import AbstractBufferedFile  # type: ignore[import-untyped]

    if not isinstance(f, AbstractBufferedFile) or not hasattr(f, "_fetch_range"):
        return f
    return RangeReader(f._fetch_range, int(f.size), fetch_many=_s3_fetch_many(f), small=small,
                       max_window=capacity // 2, capacity=capacity, on_close=f.close)


def _s3_fetch_many(f: Any) -> FetchMany | None:
    """Concurrent ranged GETs for an s3fs file, pinned and retried as its own reads are."""
    try:
        from s3fs.core import S3File, _inner_fetch  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return None
    if not isinstance(f, S3File):
        return None
    import asyncio

    from fsspec.asyn import sync  # type: ignore[import-untyped]

    def fetch_many(spans: Sequence[tuple[int, int]]) -> Sequence[bytes]:
        async def all_spans() -> list[bytes]:
            gate = asyncio.Semaphore(PREFETCH_CONCURRENCY)

            async def one(start: int, end: int) -> bytes:
                async with gate:
                    data: bytes = await _inner_fetch(f.fs, f.bucket, f.key, f.version_id, start, end,
                                                     getattr(f, "read_kw", None) or {}, f.details)
                    return data

            return list(await asyncio.gather(*(one(s, e) for s, e in spans)))

        result: list[bytes] = sync(f.fs.loop, all_spans)
        return result

    return fetch_many
