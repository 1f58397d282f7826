"""Syntax checks of many sources on several cores, when a package brings enough of them.

Parsing is pure Python and bound to one core; a package that vendors a framework has megabytes of
it. :func:`check_sources` spreads the files over lanes of about equal bytes (largest first): lane 0
is this process, which also keeps the tree of the file it must analyse further; every other lane
is one task in a short-lived process pool. The verdicts are the ones a sequential run gives: each
file is checked by the same :func:`~modeltemplates.checks.syntax.check_source`, and a lane whose
process cannot start or dies is checked here instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modeltemplates.checks.internal import check_failed

if TYPE_CHECKING:
    from modeltemplates.findings import Finding

#: Below this many bytes of source to parse, starting processes costs more than it saves.
MIN_PARALLEL_BYTES = 256 * 1024
#: ... and when one file holds most of the bytes, no split can finish much earlier.
MAX_SHARE_OF_LARGEST = 0.75

#: path -> (syntax findings, parses?, tree or None, finding for a check that itself failed)
Outcome = tuple[list["Finding"], bool, Any, "Finding | None"]


def usable_cores() -> int:
    """Cores this process may run on (a ``taskset`` or container limit counts)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def idle_cores() -> int:
    """Usable cores not already busy (the 1-minute load average counts this process too).

    A second process only pays on a core that is free: on a machine already running other work
    it would compete with this one. The verdicts never depend on it, only the time.
    """
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - no load average on this platform
        busy = 0.0
    return max(1, usable_cores() - max(0, int(busy + 0.5) - 1))


def worth_parallel(sizes: Sequence[int], workers: int) -> bool:
    """True when ``workers`` lanes would finish the files clearly sooner than one."""
    total = sum(sizes)
    return (
        workers > 1 and len(sizes) > 1 and total >= MIN_PARALLEL_BYTES
        and max(sizes) <= MAX_SHARE_OF_LARGEST * total
    )


def plan_lanes(sizes: Sequence[int], lanes: int, pinned: int | None = None) -> list[list[int]]:
    """Indexes of ``sizes`` per lane, largest first onto the lightest lane; ``pinned`` goes to lane 0."""
    plan: list[list[int]] = [[] for _ in range(lanes)]
    load = [0] * lanes
    if pinned is not None:
        plan[0].append(pinned)
        load[0] += sizes[pinned]
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        if i == pinned:
            continue
        lane = min(range(lanes), key=lambda n: (load[n], n))
        plan[lane].append(i)
        load[lane] += sizes[i]
    return [lane for lane in plan if lane]


def check_one(path: str, data: bytes, python: tuple[int, int], want_tree: bool = True) -> Outcome:
    """The syntax check of one file, as the pipeline runs it (a failing check is a finding).

    The tree is made only when ``want_tree`` (a parse keeps its tree as plain tuples, and most
    files' trees are never read); ``parses?`` is the same either way.
    """
    from modeltemplates.checks.syntax import check_source

    try:
        result = check_source(path, data, python)
    except Exception as exc:  # never let one odd file end the run: say so instead
        return [], False, None, check_failed(path, "Python source", exc)
    found = list(result.findings)
    if result.parse.error is None:
        return found, True, result.parse.tree if want_tree else None, None
    # every further error too, and the tree of what could be read
    from modeltemplates.checks.further import further_findings

    tree = None
    try:
        recovery = further_findings(path, data, python, result.parse.error)
    except Exception as exc:
        found.append(check_failed(path, "Python source (further errors)", exc))
    else:
        found.extend(recovery.findings)
        tree = recovery.tree
    return found, tree is not None, tree if want_tree else None, None


def _check_lane(items: list[tuple[str, bytes]], python: tuple[int, int]) -> list[Outcome]:
    """One lane in a worker process: outcomes without trees (they stay where they are built)."""
    out = []
    for path, data in items:
        out.append(check_one(path, data, python, want_tree=False))
    return out


def check_sources(
    items: Sequence[tuple[str, bytes]], python: tuple[int, int], workers: int, keep_tree: str | None = None
) -> dict[str, Outcome]:
    """Check every ``(path, bytes)``; the tree is kept for ``keep_tree`` only (checked here)."""
    sizes = [len(data) for _, data in items]
    pinned = next((i for i, (path, _) in enumerate(items) if path == keep_tree), None)
    outcomes: dict[str, Outcome] = {}
    if not worth_parallel(sizes, min(workers, idle_cores())):
        for path, data in items:
            outcomes[path] = check_one(path, data, python, want_tree=path == keep_tree)
        return outcomes
    import concurrent.futures as cf
    import multiprocessing

    from modeltemplates.checks import syntax  # loaded before a fork, so the workers inherit it

    del syntax
    lanes = plan_lanes(sizes, min(workers, len(items)), pinned)
    # fork is the cheapest start and safe while this is the only thread; otherwise spawn.
    method = "fork" if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods() else "spawn"
    remote = lanes[1:]
    futures: list[cf.Future[list[Outcome]] | None] = []
    pool = None
    try:
        pool = cf.ProcessPoolExecutor(max_workers=len(remote), mp_context=multiprocessing.get_context(method))
        for lane in remote:
            futures.append(pool.submit(_check_lane, [items[i] for i in lane], python))
    except (OSError, RuntimeError, ValueError):  # no processes here (sandbox, limits): one lane
        futures += [None] * (len(remote) - len(futures))
    try:
        for i in lanes[0]:
            path, data = items[i]
            outcomes[path] = check_one(path, data, python, want_tree=path == keep_tree)
        for lane, future in zip(remote, futures, strict=True):
            results: list[Outcome] | None = None
            if future is not None:
                try:
                    results = future.result()
                except Exception:  # a lost worker: check its files here instead
                    results = None
            if results is None:
                results = [check_one(items[i][0], items[i][1], python, want_tree=False) for i in lane]
            for i, outcome in zip(lane, results, strict=True):
                outcomes[items[i][0]] = outcome
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return outcomes
