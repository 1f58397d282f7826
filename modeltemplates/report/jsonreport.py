"""JSON: one package gives its :meth:`Report.to_dict` (as before, plus ``suppressed``); several
packages give ``{"schema_version", "ok", "counts", "packages": [...]}``. Every finding is kept."""

from __future__ import annotations

from typing import Any

from modeltemplates._version import TOOL
from modeltemplates.findings import REPORT_SCHEMA_VERSION, dumps_canonical
from modeltemplates.report.results import PackageResult, RenderOptions, RunResult


def package_dict(package: PackageResult) -> dict[str, Any]:
    if package.report is None:
        return {"schema_version": REPORT_SCHEMA_VERSION, "tool": dict(TOOL), "path": package.path,
                "template": package.template, "ok": False, "error": package.error}
    data = package.report.to_dict()
    data["ok"] = not package.failed
    data["suppressed"] = [f.to_dict() for f in package.suppressed]
    return data


def render_json(run: RunResult, options: RenderOptions | None = None) -> str:
    if len(run.packages) == 1:
        return dumps_canonical(package_dict(run.packages[0]))
    return dumps_canonical({
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": dict(TOOL),
        "ok": run.exit_status == 0,
        "counts": run.counts(),
        "suppressed": run.suppressed,
        "packages": [package_dict(p) | {"path": p.path} for p in run.packages],
    })
