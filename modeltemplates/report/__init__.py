"""Renderers: one module per output format, all fed the same :class:`~.results.RunResult`.

The library builds results; the CLI picks a renderer and writes what it returns. Nothing here
prints, and nothing here is imported by ``import modeltemplates``.
"""

from __future__ import annotations

from collections.abc import Callable

from modeltemplates.report.results import PackageResult, RenderOptions, RunResult

Renderer = Callable[[RunResult, RenderOptions], str]

#: Every ``--format`` the ``validate`` command knows, in the order ``--help`` lists them.
FORMATS: tuple[str, ...] = ("text", "json", "sarif", "github", "junit")


def renderer(name: str) -> Renderer:
    """The render function of format ``name`` (one of :data:`FORMATS`)."""
    if name == "text":
        from modeltemplates.report.text import render_text

        return render_text
    if name == "json":
        from modeltemplates.report.jsonreport import render_json

        return render_json
    if name == "sarif":
        from modeltemplates.report.sarif import render_sarif

        return render_sarif
    if name == "github":
        from modeltemplates.report.github import render_github

        return render_github
    if name == "junit":
        from modeltemplates.report.junit import render_junit

        return render_junit
    raise ValueError(f"unknown output format {name!r}; choose one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "PackageResult", "RenderOptions", "Renderer", "RunResult", "renderer"]
