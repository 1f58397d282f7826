"""The ``modeltemplates`` command: the only part of the project that prints or exits.

Exit status: 0 when the package has no errors, 1 when it has errors, 2 for usage or I/O errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from modeltemplates import __version__
from modeltemplates._registry import REGISTRY, TemplateError, get_template, list_templates
from modeltemplates.findings import Report, Severity, dumps_canonical
from modeltemplates.manifest import ManifestError, PackageInvalid

DEFAULT_TEMPLATE = "pytorch-py27"
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modeltemplates",
        description="Check a model package against a serving-platform template before upload, "
        "and write the manifest the platform needs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the known templates")
    p.add_argument("--engine", help="only templates of this AI engine (e.g. PyTorch)")
    p.add_argument("--python", help="only templates for this Python version (e.g. 2.7)")
    p.add_argument("--io-mode", help="only templates that can serve this I/O mode")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("describe", help="show a template: engine, Python, I/O mode, layout rules")
    p.add_argument("template")
    p.add_argument("--json", action="store_true", help="print JSON")

    for name, text in (("validate", "check a package folder"), ("manifest", "build the import manifest")):
        p = sub.add_parser(name, help=text)
        p.add_argument("path", help="the `model` folder, or the folder that holds it")
        p.add_argument("--template", "-t", default=DEFAULT_TEMPLATE,
                       help=f"template id, title or alias (default: {DEFAULT_TEMPLATE})")
        p.add_argument("--io-mode", help="override the template's default I/O mode, where allowed")
        if name == "validate":
            p.add_argument("--format", choices=("text", "json"), default="text")
            p.add_argument("--deep", action="store_true",
                           help="also load model files with torch in a subprocess (needs the torch extra)")
        else:
            p.add_argument("-o", "--output", help="write the manifest here instead of standard output")
            p.add_argument("--allow-errors", action="store_true",
                           help="build the manifest even when the package has errors")

    p = sub.add_parser("rules", help="list every rule id")
    p.add_argument("--markdown", action="store_true", help="print the Markdown rule reference")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        if args.command == "list":
            return _cmd_list(args, out, err)
        if args.command == "describe":
            description = get_template(args.template).describe()
            out.write(description.to_json() if args.json else description.to_text())
            return EXIT_OK
        if args.command == "validate":
            return _cmd_validate(args, out, err)
        if args.command == "manifest":
            return _cmd_manifest(args, out, err)
        if args.command == "rules":
            return _cmd_rules(args, out)
    except TemplateError as exc:
        err.write(f"modeltemplates: {exc}\n")
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        err.write(f"modeltemplates: {exc}\n")
        return EXIT_USAGE
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE  # pragma: no cover


def _cmd_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    templates = list_templates(engine=args.engine, python=args.python, io_mode=args.io_mode)
    if args.json:
        out.write(dumps_canonical([t.describe().to_dict() for t in templates]))
    else:
        for t in templates:
            out.write(f"{t.id:<16} {t.title:<16} {t.engine} {t.engine_version}, Python {t.python}, "
                      f"I/O mode {t.default_io_mode}{' (overridable)' if t.io_mode_overridable else ''}\n")
    for problem in REGISTRY.problems():
        err.write(f"modeltemplates: plugin {problem.entry_point} skipped: {problem.message}\n")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    template = get_template(args.template)
    inspection = template.inspect(args.path, io_mode=args.io_mode, deep=args.deep)
    report = inspection.report
    if args.format == "json":
        out.write(report.to_json())
    else:
        out.write(render_text(report, template.title, os.fspath(inspection.package.root),
                              inspection.package.located.how))
    return EXIT_OK if report.ok else EXIT_FINDINGS


def _cmd_manifest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    template = get_template(args.template)
    try:
        manifest = template.build_manifest(args.path, io_mode=args.io_mode, allow_errors=args.allow_errors)
    except PackageInvalid as exc:
        err.write(render_text(exc.report, template.title, args.path, None))
        err.write("modeltemplates: no manifest written (use --allow-errors to write one anyway)\n")
        return EXIT_FINDINGS
    except ManifestError as exc:
        err.write(f"modeltemplates: {exc}\n")
        return EXIT_USAGE
    if args.output:
        manifest.write(args.output)
        err.write(f"modeltemplates: manifest written to {args.output} ({len(manifest.files)} files)\n")
    else:
        out.write(manifest.to_json())
    return EXIT_OK


def _cmd_rules(args: argparse.Namespace, out: TextIO) -> int:
    from modeltemplates.rules import all_rules, rules_markdown

    if args.markdown:
        out.write(rules_markdown())
        return EXIT_OK
    for rule in all_rules().values():
        out.write(f"{rule.id}  {rule.severity.value:<7}  {rule.title}\n")
    return EXIT_OK


_LOCATED = {
    "given": "the folder itself",
    "child": "its `model` subfolder",
    "unnamed": "the folder itself (not named `model`)",
    "marked": "the folder itself: it holds the package's files (not named `model`)",
}


def render_text(report: Report, title: str, root: str, located: str | None) -> str:
    """The human-readable report: one block per finding, then a summary line."""
    lines = [f"{title}: checking {root}" + (f" ({_LOCATED.get(located, located)})" if located else "")]
    for f in report.findings:
        lines.append(f"{f.location()}: {f.severity.value} {f.rule}: {f.message}")
        if f.hint:
            lines.append(f"    fix: {f.hint}")
    counts = report.counts()
    verdict = "OK" if report.ok else "FAILED"
    summary = ", ".join(f"{counts[s.value]} {s.value}{'s' if counts[s.value] != 1 else ''}" for s in Severity)
    lines.append(f"{verdict}: {summary}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
