"""The ``modeltemplates`` command: the only part of the project that prints or exits.

Exit status: 0 when the package has no errors, 1 when it has errors, 2 for usage or I/O errors.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from modeltemplates import __version__
from modeltemplates._registry import REGISTRY, TemplateError, get_template, list_templates
from modeltemplates.errors import ModelTemplatesError
from modeltemplates.findings import dumps_canonical
from modeltemplates.report.results import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, PackageResult, RunResult
from modeltemplates.safetext import shown
from modeltemplates.template import Template

if TYPE_CHECKING:
    from modeltemplates.cache import ResultCache
    from modeltemplates.config import Config

#: Every --format of ``validate`` (kept here so ``--help`` needs no renderer imported).
FORMATS = ("text", "json", "sarif", "github", "junit")


def _package_path(text: str) -> str:
    """A PATH argument; an empty one (an unset shell variable) would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path (an unset variable?); give '.' for the current folder")
    return text


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser: of the command ``argv`` names only, when it names one (each
    command and option costs a help formatter and translation look-ups at start-up); else of
    every command, for the tool's own help and errors."""
    parser = argparse.ArgumentParser(
        prog="modeltemplates",
        description="Check a model package against a serving-platform template before upload, "
        "and write the manifest the platform needs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    args = list(sys.argv[1:] if argv is None else argv)
    named = next((a for a in args if not a.startswith("-")), None)
    # An option before the command (``--help validate``) is the tool's own: every command then.
    wanted = named if named in _COMMANDS and args[0] == named else None
    for name, (help_text, add_options) in _COMMANDS.items():
        if wanted in (None, name):
            add_options(sub.add_parser(name, help=help_text))
    return parser


def _list_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", help="only templates of this AI engine (e.g. PyTorch)")
    p.add_argument("--python", help="only templates for this Python version (e.g. 2.7)")
    p.add_argument("--io-mode", help="only templates that can serve this I/O mode")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")


def _describe_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("template")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")


def _validate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", type=_package_path,
                   help="a `model` folder, or the folder that holds it")
    p.add_argument("--from-files", action="store_true",
                   help="the PATHs are changed files (as pre-commit passes them): check the packages holding them")
    add_package_options(p)
    add_output_options(p, formats=FORMATS)
    p.add_argument("--deep", action="store_const", const=True, default=False,
                   help="also load model files with torch in a subprocess (needs the torch extra; "
                   "without torch this is a usage error, exit 2)")
    p.add_argument("--deep-optional", dest="deep", action="store_const", const="optional",
                   help="like --deep, but where it cannot run say so in the report instead of failing")
    p.add_argument("--jobs", "-j", type=_jobs, default=1, metavar="N",
                   help="check up to N packages at once, in worker processes (default 1; 0: one per core)")


def _manifest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", type=_package_path,
                   help="a `model` folder, or the folder that holds it")
    add_package_options(p)
    p.add_argument("-o", "--output", metavar="FILE|DIR",
                   help="write the manifest to FILE instead of standard output; with several packages, "
                   "one NAME.manifest.json per package into the folder DIR")
    p.add_argument("--allow-errors", action="store_true",
                   help="build the manifest even when the package has errors")


def _detect_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", type=_package_path, help="the `model` folder, or the folder that holds it")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    p.add_argument("--cache-dir", metavar="DIR", help="keep per-file results here (as validate)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write cached results")


def _rules_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("rule", nargs="?", help="explain this rule (e.g. SRC001)")
    p.add_argument("--markdown", action="store_true", help="print the Markdown rule reference")


#: Each command: its line in ``--help`` and what adds its options.
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "list": ("list the known templates", _list_options),
    "describe": ("show a template: engine, Python, I/O mode, layout rules", _describe_options),
    "validate": ("check one or more packages", _validate_options),
    "manifest": ("build the import manifest of one or more packages", _manifest_options),
    "detect": ("rank the templates for a package, with the evidence for and against each", _detect_options),
    "rules": ("list every rule id, or explain one", _rules_options),
}


def add_package_options(p: argparse.ArgumentParser) -> None:
    """Options of every command that checks packages (one place, so commands stay alike)."""
    p.add_argument("--template", "-t", default=None,
                   help="template id, title or alias (default: the configuration's, else the best fit "
                   "`modeltemplates detect` finds, named in the first line)")
    p.add_argument("--io-mode", help="override the template's default I/O mode, where allowed")
    add_config_options(p)
    p.add_argument("--cache-dir", metavar="DIR",
                   help="keep per-file results here (default: $MODELTEMPLATES_CACHE, else the user's cache folder)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write cached results")
    _location_options(p)


def _location_options(p: argparse.ArgumentParser) -> None:
    """Where a package in a bucket is: ``obs://bucket/prefix/model``, ``s3://...`` (docs/remote.md)."""
    p.add_argument("--region", help="ModelArts region the package is for (e.g. cn-north-4): picks the OBS "
                   "endpoint and checks that the bucket is in that region")
    p.add_argument("--endpoint-url", help="S3/OBS endpoint to use instead of the region's (or AWS_ENDPOINT_URL)")
    p.add_argument("--anonymous", action="store_true", help="read a public bucket without credentials")
    p.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                   help="seconds to wait for a connection or an answer from the endpoint (default: 10 and 30)")


def _location(args: argparse.Namespace) -> dict[str, Any]:
    """The location keywords of ``inspect``/``build_manifest`` from the options."""
    storage: dict[str, Any] = {"anon": True} if args.anonymous else {}
    if args.timeout is not None:
        storage["config_kwargs"] = {"connect_timeout": args.timeout, "read_timeout": args.timeout}
    return {"region": args.region, "endpoint_url": args.endpoint_url, "storage_options": storage or None}


def add_config_options(p: argparse.ArgumentParser) -> None:
    """Where settings come from (see :mod:`modeltemplates.config`) and the rule-selection options."""
    p.add_argument("--config", action="append", default=[], metavar="FILE|'KEY = VALUE'",
                   help="a configuration file to use instead of the one found, or one TOML setting "
                   "(e.g. --config 'fail-on = \"warning\"'); repeatable")
    p.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    p.add_argument("--select", help="rule ids or prefixes to check (comma-separated; default ALL)")
    p.add_argument("--extend-select", help="rule ids or prefixes to check besides the selected ones")
    p.add_argument("--ignore", help="rule ids or prefixes not to check")
    p.add_argument("--fail-on", choices=("error", "warning", "info"),
                   help="exit with status 1 when a finding is at least this severe (default: error)")
    p.add_argument("--show-settings", action="store_true",
                   help="print the resolved configuration of each package, and where each value came from")


def _overrides(args: argparse.Namespace) -> tuple[dict[str, Any], str | None]:
    """The command line's settings (validated like a file's) and the --config file, if any."""
    from modeltemplates.config import parse_override, parse_table

    table: dict[str, Any] = {}
    config_file = None
    for item in args.config:
        if "=" not in item or os.path.isfile(item):
            config_file = item
        else:
            table.update(parse_override(item))
    for key, value in (("template", args.template), ("io-mode", args.io_mode), ("select", args.select),
                       ("extend-select", args.extend_select), ("ignore", args.ignore),
                       ("fail-on", args.fail_on)):
        if value is not None:
            table[key] = value
    return parse_table(table, "command line"), config_file


def _configs(paths: Sequence[str], args: argparse.Namespace) -> list[Config]:
    from modeltemplates.config import resolve

    overrides, config_file = _overrides(args)
    return [resolve(path, overrides, config_file=config_file, isolated=args.isolated) for path in paths]


def _show_settings(paths: Sequence[str], configs: Sequence[Config], out: TextIO) -> int:
    import json

    def near(origin: str) -> str:  # a file below the working directory, relative to it
        if not os.path.isabs(origin):
            return origin
        rel = os.path.relpath(origin)
        return origin if rel.startswith("..") else rel

    for path, config in zip(paths, configs, strict=True):
        out.write(f"# {shown(path)}: {shown(near(config.file)) if config.file else 'no configuration file'}\n")
        for key, value in config.to_dict().items():
            if key == "template" and value is None:
                value = "(the best fit `modeltemplates detect` finds)"
            origin = near(config.origins.get(key, "default"))
            shown_value = "(the template's default)" if value is None else json.dumps(value, ensure_ascii=False)
            out.write(f"{key} = {shown(shown_value)}  # {shown(origin)}\n")
    return EXIT_OK


def _cache(args: argparse.Namespace) -> ResultCache | None:
    """The result cache the options (or ``MODELTEMPLATES_CACHE``) ask for; ``None`` when off."""
    from modeltemplates.cache import ResultCache, default_cache_dir

    if args.no_cache:
        return None
    folder = args.cache_dir or default_cache_dir()
    return ResultCache(folder) if folder is not None else None


def add_output_options(p: argparse.ArgumentParser, *, formats: Sequence[str]) -> None:
    """``--format`` (``--json`` as its alias), ``--output``, ``--quiet`` and ``--verbose``."""
    p.add_argument("--format", choices=formats, default="text", help="report format (default: text)")
    p.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    volume = p.add_mutually_exclusive_group()
    volume.add_argument("--quiet", "-q", dest="verbosity", action="store_const", const=-1, default=0,
                        help="only errors and the summary")
    volume.add_argument("--verbose", "-v", dest="verbosity", action="store_const", const=1,
                        help="every finding (none folded) and the suppressed ones")


#: Allocations between two collections of the youngest generation when the command line is the
#: program (CPython's default: 700). Measured on one core, cold, no cache: 10,000 gave the
#: vendored 3.7 bench package 0.77 s CPU against 0.80 s at 700 and 0.89 s at 50,000 (a young
#: generation that large no longer fits the CPU's caches), and the typical one 0.314 s, the
#: fastest of the three.
GC_THRESHOLD = 10_000


def run() -> int:
    """The ``modeltemplates`` program (its console script and ``python -m modeltemplates``).

    :func:`main` in a process of its own, with the cyclic collector set for a short run: a run
    builds token lists, parse trees and facts that live until its report is written, and at
    CPython's default threshold the collector traverses them again and again (a tenth of a cold
    run, most of a large package's). What the imports made is frozen (never traversed again), and
    young objects are collected every :data:`GC_THRESHOLD` allocations: a few megabytes of cyclic
    garbage at most between two collections. Memory stays bounded; only the traversals go.
    """
    import gc

    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser(argv)
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        if args.command == "list":
            return _cmd_list(args, out, err)
        if args.command == "describe":
            description = get_template(args.template).describe()
            out.write(description.to_json() if args.format == "json" else description.to_text())
            return EXIT_OK
        if args.command == "validate":
            return _cmd_validate(args, out, err)
        if args.command == "manifest":
            return _cmd_manifest(args, out, err)
        if args.command == "rules":
            return _cmd_rules(args, out, err)
        if args.command == "detect":
            return _cmd_detect(args, out, err)
    except (TemplateError, ModelTemplatesError) as exc:
        err.write(f"modeltemplates: {shown(str(exc))}\n")
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        err.write(f"modeltemplates: {shown(str(exc))}\n")
        return EXIT_USAGE
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE  # pragma: no cover


def _cmd_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    templates = list_templates(engine=args.engine, python=args.python, io_mode=args.io_mode)
    if args.format == "json":
        out.write(dumps_canonical([t.describe().to_dict() for t in templates]))
    else:
        for t in templates:
            out.write(f"{t.id:<16} {t.title:<16} {t.engine} {t.engine_version}, Python {t.python}, "
                      f"I/O mode {t.default_io_mode}{' (overridable)' if t.io_mode_overridable else ''}\n")
    if not templates and (args.engine or args.python or args.io_mode):
        every = list_templates()
        known = {"--engine": sorted({t.engine for t in every}), "--python": sorted({t.python for t in every})}
        given = {"--engine": args.engine, "--python": args.python, "--io-mode": args.io_mode}
        said = "; ".join(f"{flag} takes {', '.join(known[flag])}" for flag, value in given.items()
                         if value and flag in known)
        err.write(f"modeltemplates: no template matches {shown(' '.join(f'{k} {v}' for k, v in given.items() if v))}"
                  + (f" ({shown(said)})" if said else "") + "\n")
    for problem in REGISTRY.problems():
        err.write(f"modeltemplates: plugin {shown(problem.entry_point)} skipped: {shown(problem.message)}\n")
    return EXIT_OK


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("must be a number of seconds above 0")
    return value


def _jobs(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (one per core) or more")
    return value or (os.cpu_count() or 1)


def _cmd_detect(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from modeltemplates.detect import detect

    detection = detect(args.path, cache=_cache(args), location=_location(args) if hasattr(args, "region") else None)
    out.write(dumps_canonical(detection.to_dict()) if args.format == "json" else detection.to_text())
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.from_files:
        from modeltemplates.hooks import packages_of

        args.paths = packages_of(args.paths)
        if not args.paths:
            return EXIT_OK  # no changed file belongs to a package
    configs = _configs(args.paths, args)
    if args.show_settings:
        return _show_settings(args.paths, configs, out)
    templates = [get_template(c.template) if c.template else None for c in configs]
    if args.jobs > 1 and len(args.paths) > 1:
        run = RunResult(_check_many(args.paths, templates, configs, args))
    else:
        run = RunResult([_check(path, t, c, args) for path, t, c in zip(args.paths, templates, configs, strict=True)])
    _write_report(run, args, out)
    return run.exit_status


def _check(path: str, template: Template | None, config: Config, args: argparse.Namespace) -> PackageResult:
    """One package's result; a path that cannot be checked is a result with an ``error``."""
    from modeltemplates.batch import validate_one

    return validate_one(path, template, io_mode=config.io_mode, settings=config.settings(), cache=_cache(args),
                        deep=args.deep, config=config, location=_location(args))


def _check_many(paths: Sequence[str], templates: Sequence[Template | None], configs: Sequence[Config],
                args: argparse.Namespace) -> list[PackageResult]:
    """The packages' results from ``--jobs`` worker processes, in the order of ``paths``."""
    from concurrent.futures import ProcessPoolExecutor

    from modeltemplates.batch import one_parse_worker, validate_one

    cache = _cache(args)
    with ProcessPoolExecutor(max_workers=min(args.jobs, len(paths))) as pool:
        futures = [pool.submit(validate_one, path, template, io_mode=config.io_mode,
                               settings=one_parse_worker(config.settings()),
                               cache=cache, deep=args.deep, config=config,
                               location=_location(args))
                   for path, template, config in zip(paths, templates, configs, strict=True)]
        return [f.result() for f in futures]


def _write_report(run: RunResult, args: argparse.Namespace, out: TextIO) -> None:
    from modeltemplates.report import RenderOptions, renderer

    to_file = bool(getattr(args, "output", None))
    color = False
    if not to_file and args.format == "text":
        from modeltemplates.report.text import color_wanted

        color = color_wanted(out, os.environ)
    text = renderer(args.format)(run, RenderOptions(color=color, verbosity=args.verbosity))
    if to_file:
        with open(args.output, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    else:
        out.write(text)


def _cmd_manifest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    configs = _configs(args.paths, args)
    if args.show_settings:
        return _show_settings(args.paths, configs, out)
    several = len(args.paths) > 1
    if several and not args.output:
        err.write("modeltemplates: several packages need -o DIR (one manifest file per package)\n")
        return EXIT_USAGE
    if several:
        os.makedirs(args.output, exist_ok=True)
    names: set[str] = set()
    status = EXIT_OK
    for path, config in zip(args.paths, configs, strict=True):
        target = os.path.join(args.output, _manifest_name(path, names)) if several else args.output
        status = max(status, _one_manifest(path, config, target, args, out=out, err=err))
    return status


def _manifest_name(path: str, taken: set[str]) -> str:
    """``NAME.manifest.json`` for a package: its folder's name (its parent's for a `model` folder),
    numbered when two packages share a name."""
    stem = _package_label(path)
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}"
    taken.add(name)
    return f"{name}.manifest.json"


def _package_label(path: str) -> str:
    """A short name for a package: its folder's name, or its parent's for a folder named `model`."""
    parts = os.path.abspath(path).rstrip(os.sep).split(os.sep)
    stem = parts[-1] if parts[-1] != "model" or len(parts) < 2 else parts[-2]
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem) or "package"


def _one_manifest(path: str, config: Config, target: str | None, args: argparse.Namespace, *,
                  out: TextIO, err: TextIO) -> int:
    from modeltemplates.manifest import ManifestError, PackageInvalid
    from modeltemplates.report.progressbar import ProgressBar, progress_wanted

    if config.template is None:
        from modeltemplates.detect import detect

        detection = detect(path, settings=config.settings(), cache=_cache(args), location=_location(args))
        if detection.chosen is None:
            err.write(f"modeltemplates: {shown(path)}: {shown(detection.summary())}; pass --template ID\n")
            return EXIT_USAGE
        template = get_template(detection.chosen.template)
        err.write(f"modeltemplates: {shown(path)}: no --template given: {shown(detection.summary())}\n")
    else:
        template = get_template(config.template)
    bar = ProgressBar(err, label=_package_label(path)) if progress_wanted(err, os.environ) else None
    try:
        with bar if bar is not None else contextlib.nullcontext():
            manifest = template.build_manifest(path, io_mode=config.io_mode, allow_errors=args.allow_errors,
                                               cache=_cache(args), settings=config.settings(), progress=bar,
                                               **_location(args))
    except PackageInvalid as exc:
        from modeltemplates.report.text import render_text

        failed = PackageResult(path=path, template=template.id, title=template.title, root=path,
                               report=exc.report)
        err.write(render_text(RunResult([failed])))
        err.write(f"modeltemplates: no manifest written for {shown(path)} (use --allow-errors to write one anyway)\n")
        return EXIT_FINDINGS
    except (ManifestError, OSError, ValueError) as exc:
        err.write(f"modeltemplates: {shown(path)}: {shown(str(exc))}\n")
        return EXIT_USAGE
    if target:
        manifest.write(target)
        err.write(f"modeltemplates: manifest written to {shown(target)} ({len(manifest.files)} files)\n")
    else:
        out.write(manifest.to_json())
    return EXIT_OK


def _cmd_rules(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from modeltemplates.rules import all_rules, rules_markdown

    if args.markdown:
        out.write(rules_markdown())
        return EXIT_OK
    rules = all_rules()
    if args.rule:
        rule = rules.get(args.rule.upper())
        if rule is None:
            import difflib

            close = difflib.get_close_matches(args.rule.upper(), list(rules), n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            err.write(f"modeltemplates: unknown rule {args.rule!r}{hint}\n")
            return EXIT_USAGE
        out.write(f"{rule.id}: {rule.title} ({rule.severity.value})\n\n"
                  f"What it checks: {rule.what}\n\nWhy: {rule.why}\n\nHow to fix: {rule.fix}\n")
        return EXIT_OK
    for rule in rules.values():
        out.write(f"{rule.id}  {rule.severity.value:<7}  {rule.title}\n")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
