"""Progress of long work (hashing a manifest's files), reported to a callback the caller supplies.

The library never prints: a front end (the CLI's progress bar, a GUI) passes ``progress=callable``
and draws what it receives. Calls are serialised, so the callable needs no lock of its own, and
``done`` never goes backwards within a stage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import attrs


@attrs.frozen
class Progress:
    """One step of a stage: ``done`` of ``total`` bytes, while working on ``path``.

    ``stage`` is ``"hash"`` (the manifest hashes every kept file). A stage starts with ``done == 0``
    and ends with ``done == total``.
    """

    stage: str
    done: int
    total: int
    path: str | None = None


#: What ``progress=`` accepts.
ProgressCallback = Callable[[Progress], None]


class ProgressMeter:
    """Adds up work done by any number of threads and forwards it, serialised, to a callback."""

    def __init__(self, callback: ProgressCallback | None, stage: str, total: int) -> None:
        self._callback = callback
        self._stage = stage
        self._total = total
        self._done = 0
        self._lock = threading.Lock()
        self._emit(None)

    def advance(self, n: int, path: str | None = None) -> None:
        if self._callback is None:
            return
        with self._lock:
            self._done += n
            self._callback(Progress(self._stage, self._done, self._total, path))

    def finish(self) -> None:
        """Report the stage complete (``done == total``) even when sizes changed meanwhile."""
        if self._callback is None:
            return
        with self._lock:
            self._done = self._total
            self._callback(Progress(self._stage, self._done, self._total, None))

    def _emit(self, path: str | None) -> None:
        if self._callback is not None:
            with self._lock:
                self._callback(Progress(self._stage, self._done, self._total, path))
