"""The terminal progress bar for long work (hashing a manifest's files), drawn by ``tqdm``.

It feeds on :class:`~modeltemplates.progress.Progress` callbacks from the library, draws on
standard error only when that is a terminal, and appears only once the work has taken
:data:`DELAY` seconds (``MODELTEMPLATES_PROGRESS_DELAY`` changes it), so quick runs stay quiet.
tqdm is imported when a bar is first needed, never by ``import modeltemplates``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TextIO

from modeltemplates.progress import Progress

#: Seconds of work before a bar appears.
DELAY = 2.0

_STAGES = {"hash": "hashing"}


def progress_wanted(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """A bar only on a terminal (and never with ``TERM=dumb``)."""
    if environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, OSError, ValueError):
        return False


class ProgressBar:
    """A callable for ``progress=``: one tqdm bar per stage, in bytes, with rate and time left."""

    def __init__(self, stream: TextIO, *, delay: float | None = None, label: str = "") -> None:
        self.stream = stream
        self.delay = delay if delay is not None else _delay(os.environ)
        self.label = label
        self._bar: Any = None
        self._stage: str | None = None

    def __call__(self, progress: Progress) -> None:
        if self._bar is None or progress.stage != self._stage:
            self.close()
            import importlib

            tqdm = importlib.import_module("tqdm").tqdm  # untyped; imported on the first bar only
            self._stage = progress.stage
            desc = _STAGES.get(progress.stage, progress.stage)
            size = _size(self.stream)  # (columns, rows), or None to follow the terminal
            self._bar = tqdm(
                total=progress.total, unit="B", unit_scale=True, unit_divisor=1024, file=self.stream,
                delay=self.delay, leave=False, dynamic_ncols=size is None, mininterval=0.2,
                ncols=size[0] if size else None, nrows=size[1] if size else None,
                desc=f"{self.label}: {desc}" if self.label else desc,
            )
        step = progress.done - self._bar.n
        if step > 0:
            self._bar.update(step)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _size(stream: TextIO) -> tuple[int, int] | None:
    """``None`` (tqdm follows the terminal) unless the terminal reports no size, as a fresh
    pseudo-terminal does (tqdm would then hide the bar); then 80 x 24."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return 80, 24
    return None if size.columns > 0 and size.lines > 0 else (80, 24)


def _delay(environ: Mapping[str, str]) -> float:
    try:
        return max(0.0, float(environ.get("MODELTEMPLATES_PROGRESS_DELAY", DELAY)))
    except ValueError:
        return DELAY
