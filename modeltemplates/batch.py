"""Many packages at once: :func:`validate_many` over any :class:`concurrent.futures.Executor`.

By default the packages are spread over a process pool with one worker per core. Any other
executor works unchanged: a thread pool, or the executor of a Dask distributed client
(``client.get_executor()``), which validates a bucket of packages across machines. Each package is
one task that returns its report; nothing of ours runs in between.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from modeltemplates.report.results import PackageResult, repository_base

if TYPE_CHECKING:
    import concurrent.futures as cf

    from modeltemplates.cache import ResultCache
    from modeltemplates.config import Config
    from modeltemplates.pipeline import Settings
    from modeltemplates.template import Template

#: Tasks handed to the executor ahead of the results read so far, per worker of the default pool
#: (a bucket of 100,000 packages is not submitted at once).
_AHEAD_PER_WORKER = 4
#: Tasks in flight when the caller brings its own executor (whose size we cannot know).
DEFAULT_IN_FLIGHT = 256


def validate_one(
    path: str,
    template: Template | None,
    *,
    io_mode: str | None = None,
    settings: Settings | None = None,
    cache: ResultCache | None = None,
    deep: bool | Literal["optional"] = False,
    config: Config | None = None,
    location: Mapping[str, Any] | None = None,
) -> PackageResult:
    """One package as the command line reports it: its report, or why it could not be checked.

    With ``config`` (:mod:`modeltemplates.config`), its rule selection, severities and
    suppressions are applied (:mod:`modeltemplates.policy`) and its ``fail-on`` decides the status.

    A module-level function, so any executor can ship it to a worker. A path that is not a
    package folder (which :meth:`~modeltemplates.Template.validate` raises for) gives a result
    with ``error`` set and no report. ``location``: ``region``, ``endpoint_url`` and
    ``storage_options`` for a package behind a URL (see :meth:`~modeltemplates.Template.validate`).
    """
    detected = None
    if template is None:  # the best fit, said in the result (see modeltemplates.detect)
        from modeltemplates._registry import get_template
        from modeltemplates.detect import detect

        try:
            detection = detect(path, settings=settings, cache=cache, location=location)
        except (OSError, ValueError) as exc:
            return PackageResult(path=path, template="", title="", error=str(exc))
        if detection.chosen is None:
            return PackageResult(path=path, template="", title="", error=f"{detection.summary()}; pass --template ID")
        template, detected = get_template(detection.chosen.template), detection.summary()
    try:
        inspection = template.inspect(path, io_mode=io_mode, deep=deep, settings=settings, cache=cache,
                                      **dict(location or {}))
    except (OSError, ValueError) as exc:
        return PackageResult(path=path, template=template.id, title=template.title, error=str(exc))
    try:
        package = inspection.package
        root = (os.fspath(package.root) if package.source is None or package.located.how == "top"
                else package.source.shown(package.located.root_key))
        report = inspection.report
        if detected is not None:
            report = attrs.evolve(report, facts={**report.facts, "detected": detected})
        result = PackageResult(
            path=path, template=template.id, title=template.title, root=root,
            located=package.located.how, base=root if "://" in root else repository_base(root),
            report=report, detected=detected,
        )
        if config is not None:  # the policy reads suppression comments from the package: keep its source open
            from modeltemplates.policy import apply_to

            result = apply_to(result, inspection, config, settings)
        return result
    finally:
        if inspection.package.source is not None:
            inspection.package.source.close()


def one_parse_worker(settings: Settings | None) -> Settings:
    """``settings`` for a task of a batch: the batch spreads packages over the cores, so a package
    parses its sources in its own process unless ``parse_workers`` was set explicitly."""
    import attrs

    from modeltemplates.pipeline import Settings

    settings = settings or Settings()
    return settings if settings.parse_workers is not None else attrs.evolve(settings, parse_workers=1)


def validate_many(
    paths: Iterable[str | os.PathLike[str]],
    template: str | Template | None = None,
    executor: cf.Executor | None = None,
    *,
    io_mode: str | None = None,
    settings: Settings | None = None,
    cache: ResultCache | None = None,
    deep: bool | Literal["optional"] = False,
    in_flight: int | None = None,
    config: Config | None = None,
    location: Mapping[str, Any] | None = None,
) -> Iterator[PackageResult]:
    """Validate every package in ``paths``, yielding a
    :class:`~modeltemplates.report.results.PackageResult` as each finishes.

    ``template``: an id, title or alias, a :class:`~modeltemplates.Template`, or ``None`` for the
    best fit of each package (:func:`modeltemplates.detect`, named in the result's ``detected``).
    ``executor``: any ``concurrent.futures.Executor`` (it must be able to ship a
    :class:`~modeltemplates.Template` and a result, which pickle);
    ``None`` runs a process pool over all cores, shut down when the iteration ends. At most
    ``in_flight`` packages are submitted ahead of the results read. Results come in order of
    completion, each naming its package (``path`` as given); each ``report`` is the one
    :meth:`~modeltemplates.Template.validate` gives for that path. A task that dies (a lost
    worker, a broken pool) gives a result with ``error`` set instead of ending the iteration.
    """
    from modeltemplates._registry import get_template

    chosen = get_template(template) if isinstance(template, str) else template
    if io_mode is not None and chosen is not None:
        chosen.resolve_io_mode(io_mode)  # an unusable mode fails here, once, not in every task
    # The batch spreads packages over the cores: each package parses its sources in one process.
    import concurrent.futures as cf  # here, not at the top: one package's run does not need it

    settings = one_parse_worker(settings)
    own = executor is None
    if own:
        from modeltemplates.python.parallel import usable_cores

        workers = usable_cores()
        executor = cf.ProcessPoolExecutor(max_workers=workers)
        limit = in_flight or workers * _AHEAD_PER_WORKER
    else:
        limit = in_flight or DEFAULT_IN_FLIGHT
    assert executor is not None
    if limit < 1:
        raise ValueError("in_flight must be at least 1")
    pending: dict[cf.Future[PackageResult], str] = {}
    todo = iter(paths)
    try:
        exhausted = False
        while True:
            while not exhausted and len(pending) < limit:
                try:
                    path = os.fspath(next(todo))
                except StopIteration:
                    exhausted = True
                    break
                pending[executor.submit(
                    validate_one, path, chosen, io_mode=io_mode, settings=settings, cache=cache, deep=deep,
                    config=config, location=dict(location or {}))] = path
            if not pending:
                return
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                path = pending.pop(future)
                try:
                    yield future.result()
                except Exception as exc:  # the task died (a lost worker, a broken pool): say so, go on
                    yield PackageResult(path=path, template=chosen.id if chosen else "",
                                        title=chosen.title if chosen else "",
                                        error=f"{type(exc).__name__}: {exc}")
    finally:
        for future in pending:
            future.cancel()
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
