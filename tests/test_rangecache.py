"""The ranged-read cache of remote files (modeltemplates/sources/rangecache.py): reads return the
object's bytes whatever the pattern, isolated reads cost small requests, sequential ones grow,
announced spans are fetched together, and the cache stays bounded."""

from __future__ import annotations

import io
import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modeltemplates.sources.rangecache import RangeReader

BLOB = random.Random(9).randbytes(1 << 20)


class Object:
    """An object on a server: counts the range requests made to it."""

    def __init__(self, data: bytes = BLOB) -> None:
        self.data = data
        self.requests: list[tuple[int, int]] = []
        self.batches: list[int] = []

    def fetch(self, start: int, end: int) -> bytes:
        self.requests.append((start, end))
        return self.data[start:end]

    def fetch_many(self, spans: Sequence[tuple[int, int]]) -> list[bytes]:
        self.batches.append(len(spans))
        return [self.fetch(s, e) for s, e in spans]

    def reader(self, **kwargs: int) -> RangeReader:
        return RangeReader(self.fetch, len(self.data), fetch_many=self.fetch_many, **kwargs)


ops = st.lists(st.one_of(
    st.tuples(st.just("read"), st.integers(0, 1 << 20), st.integers(-1, 70000)),
    st.tuples(st.just("prefetch"), st.integers(0, (1 << 20) + 10), st.integers(0, 5000)),
), max_size=40)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_reads_return_the_objects_bytes(steps: list[tuple[str, int, int]]) -> None:
    obj = Object()
    f = obj.reader(small=1000, max_window=32 << 10, capacity=64 << 10)
    plain = io.BytesIO(BLOB)
    for op, pos, n in steps:
        if op == "prefetch":
            f.prefetch([(pos, n), (pos + 3 * n, n)])
            continue
        f.seek(pos)
        plain.seek(pos)
        assert f.read(n) == plain.read(n)
        assert f.tell() == plain.tell()
        assert f._held <= 64 << 10  # bounded, whatever was read


def test_isolated_small_reads_cost_small_requests() -> None:
    obj = Object()
    f = obj.reader(small=4096)
    for pos in (100_000, 500_000, 900_000):
        f.seek(pos)
        assert f.read(8) == BLOB[pos : pos + 8]
    assert obj.requests == [(100_000, 104_096), (500_000, 504_096), (900_000, 904_096)]
    f.seek(100_010)
    f.read(100)  # inside what was fetched: no request
    f.seek(-20, 2)
    assert f.read() == BLOB[-20:]
    assert len(obj.requests) == 4 and obj.requests[-1] == (len(BLOB) - 20, len(BLOB))


def test_sequential_reads_grow_into_large_requests() -> None:
    obj = Object()
    f = obj.reader(small=4096, max_window=256 << 10)
    out = b"".join(iter(lambda: f.read(1000), b""))
    assert out == BLOB
    sizes = [e - s for s, e in obj.requests]
    # 4 KiB, then twice as much each time up to the window: 1 MiB in 4+8+...+256 KiB and 256 KiB pieces.
    assert sizes[:7] == [4096 << i for i in range(7)] and max(sizes) == 256 << 10
    assert len(obj.requests) <= 10


def test_prefetched_spans_come_in_one_batch_and_are_read_from_the_cache() -> None:
    obj = Object()
    f = obj.reader()
    spans = [(10_000 * i + 5, 44) for i in range(1, 90)]
    f.prefetch([*spans, (len(BLOB) + 5, 8), (-1, 8), (20, 0), (30, 5000)])  # outside, empty, long: left out
    assert obj.batches == [89] and len(obj.requests) == 89
    for start, length in spans:
        f.seek(start)
        assert f.read(length) == BLOB[start : start + length]
    assert len(obj.requests) == 89  # nothing more fetched
    f.prefetch(spans)  # cached already: no request
    assert obj.batches == [89]


def test_many_announced_spans_come_in_batches_as_the_reads_reach_them() -> None:
    obj = Object()
    f = obj.reader()
    spans = [(100 * i + 7, 8) for i in range(10_000)]
    f.prefetch(spans)
    assert obj.batches == [256]
    for start, length in spans:
        f.seek(start)
        assert f.read(length) == BLOB[start : start + length]
    assert obj.batches == [256] * 39 + [16] and len(obj.requests) == 10_000
    assert f._held <= 2 << 20


def test_a_failed_prefetch_is_only_a_lost_hint() -> None:
    obj = Object()

    def broken(spans: Sequence[tuple[int, int]]) -> list[bytes]:
        raise ConnectionError("dropped")

    f = RangeReader(obj.fetch, len(BLOB), fetch_many=broken)
    f.prefetch([(1000, 8), (50_000, 8)])
    f.seek(50_000)
    assert f.read(8) == BLOB[50_000:50_008] and len(obj.requests) == 1


def test_short_object_gives_a_short_read_and_closed_file_refuses() -> None:
    obj = Object(BLOB[:1000])
    f = RangeReader(obj.fetch, 2000)  # listed larger than it is
    f.seek(900)
    assert f.read(500) == BLOB[900:1000]
    closed: list[bool] = []
    g = RangeReader(obj.fetch, 1000, on_close=lambda: closed.append(True))
    with g:
        pass
    assert closed == [True] and g.closed
    with pytest.raises(ValueError):
        g.read(1)
