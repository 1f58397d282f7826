"""CRC-32 of every stored zip member, checked while the file's bytes stream past anyway.

The static check reads a zip-format model's metadata, never its tensor data, so it cannot see a
flipped bit in a weight. When something reads the whole file regardless (hashing for the manifest,
the ``--deep`` load), a :class:`CrcChecker` fed the same chunks verifies every stored member's CRC-32
against the central directory at no extra read.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["CrcChecker", "CrcMismatch"]

_STORED = 0


@attrs.frozen
class CrcMismatch:
    """A member whose bytes do not match the CRC-32 the archive records."""

    member: str
    expected: int
    actual: int

    def message(self) -> str:
        return (f"zip member {self.member!r} fails its CRC-32 check (recorded {self.expected:08x}, "
                f"computed {self.actual:08x}): its bytes were damaged after torch.save wrote them")


@attrs.define
class _Span:
    start: int
    end: int
    name: str
    expected: int
    actual: int = 0


class CrcChecker:
    """Feed it a file's bytes in order (:meth:`update`); :meth:`mismatches` then lists the damaged members.

    ``members`` are the model reader's member facts (``name``, ``offset`` of the data, ``compressed_size``,
    ``compression``, ``crc32``); compressed members are left out (torch.save stores members).
    """

    def __init__(self, members: Iterable[Mapping[str, Any]]) -> None:
        spans = []
        for m in members:
            if m.get("compression") != _STORED or "crc32" not in m:
                continue
            start = int(m["offset"])
            spans.append(_Span(start, start + int(m["compressed_size"]), str(m["name"]), int(m["crc32"])))
        self._spans = sorted(spans, key=lambda s: (s.start, s.end, s.name))
        self._pos = 0
        self._first = 0  # index of the first span not yet wholly behind us

    @property
    def empty(self) -> bool:
        return not self._spans

    def update(self, chunk: bytes | memoryview) -> None:
        start, end = self._pos, self._pos + len(chunk)
        spans = self._spans
        i = self._first
        while i < len(spans) and spans[i].end <= start:
            i += 1
        self._first = i
        while i < len(spans) and spans[i].start < end:
            span = spans[i]
            lo, hi = max(span.start, start), min(span.end, end)
            if lo < hi:
                span.actual = zlib.crc32(chunk[lo - start : hi - start], span.actual)
            i += 1
        self._pos = end

    def mismatches(self) -> tuple[CrcMismatch, ...]:
        """Members whose CRC-32 differs (members the stream did not reach are not judged)."""
        return tuple(
            CrcMismatch(s.name, s.expected, s.actual)
            for s in self._spans
            if s.end <= self._pos and s.actual != s.expected
        )
