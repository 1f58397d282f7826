"""Speed and memory of ``validate`` and ``build_manifest`` on real ``torch.save`` files.

    python bench/bench_modelfile.py [--sizes 100M,1G,4G] [--keep] [--workdir DIR] [--repeat 3]

Builds state_dicts with real ``torch.save`` in both formats (zip, the default since torch 1.6, and the
legacy format), one package folder ``model/`` per file, then runs every operation in a fresh
subprocess and prints its wall time and peak RSS next to the same figures for ``torch.load``,
``picklescan`` and ``sha256sum``. It prints figures; it never asserts.

Each operation runs once "cold" (the file's pages evicted from the page cache first with
``posix_fadvise(POSIX_FADV_DONTNEED)``, which needs no root) and then ``--repeat`` times warm; the
warm figure is the best of those runs. Peak RSS is the child's own ``ru_maxrss`` from ``os.wait4``,
the highest of all its runs. This parent never imports torch or modeltemplates, so it stays small
and its own memory never leaks into a child's figure.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MiB = 1 << 20
GiB = 1 << 30
#: Big state_dicts are made of float32 tensors of this many columns and at most CHUNK bytes each,
#: so building a 4 GiB file holds the tensors once (4 GiB) and never a second copy.
COLUMNS = 8192
CHUNK = 256 * MiB
#: The many-small-tensors file: this many tensors (default), in conv/batch-norm blocks like a real network.
SMALL_TENSORS = 2000
#: Free space kept on the disk beyond the files being built.
DISK_MARGIN = 1 * GiB
TEMPLATES = {"zip": "pytorch-py37", "legacy": "pytorch-py27"}
#: Every package also carries inference code, so validate runs its syntax and service checks too.
#: Python 2.7 and 3.7 alike; it is parsed, never run.
SERVICE = '''\
# -*- coding: utf-8 -*-
"""Bench package: serve a state_dict of plain weight matrices."""
import logging

import torch
from model_service.pytorch_model_service import PTServingBaseService

logger = logging.getLogger(__name__)


class WeightsService(PTServingBaseService):
    def __init__(self, model_name, model_path):
        super(WeightsService, self).__init__(model_name, model_path)
        self.state = torch.load(model_path, map_location="cpu")

    def _preprocess(self, data):
        return dict((k, torch.tensor(v)) for k, v in data.items())

    def _inference(self, data):
        with torch.no_grad():
            return dict((k, v.sum()) for k, v in data.items())

    def _postprocess(self, data):
        logger.info("served %d inputs", len(data))
        return [{k: float(v)} for k, v in sorted(data.items())]
'''


# --------------------------------------------------------------------------------------------
# Child side: one operation per process, result as one JSON line on stdout.
# --------------------------------------------------------------------------------------------

def _peak_mb() -> float:
    """This process's peak RSS so far (read right after the operation, before anything else runs)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MiB


def _child_build(fmt: str, kind: str, size: int, path: str) -> dict[str, Any]:
    """``size``: bytes of weights for a big file, the tensor count for a small one."""
    import torch

    gen = torch.Generator().manual_seed(0)
    state: dict[str, Any] = {}
    if kind == "small":
        # Blocks of conv weight + batch-norm weight/bias/running stats/num_batches_tracked.
        blocks = max(1, size // 5)
        for i in range(blocks):
            ch = 16 + 16 * (i % 4)
            state[f"features.{i}.conv.weight"] = torch.rand(ch, ch, 3, 3, generator=gen)
            state[f"features.{i}.bn.weight"] = torch.rand(ch, generator=gen)
            state[f"features.{i}.bn.bias"] = torch.rand(ch, generator=gen)
            state[f"features.{i}.bn.running_mean"] = torch.rand(ch, generator=gen)
            state[f"features.{i}.bn.num_batches_tracked"] = torch.tensor(i, dtype=torch.int64)
    else:
        base = torch.rand(min(size, CHUNK) // 4 // COLUMNS, COLUMNS, generator=gen)
        remaining, i = size, 0
        while remaining >= COLUMNS * 4:
            rows = min(remaining, CHUNK) // 4 // COLUMNS
            state[f"layers.{i}.weight"] = base[:rows] + float(i)  # a fresh storage each time
            remaining -= rows * COLUMNS * 4
            i += 1
    torch.save(state, path, _use_new_zipfile_serialization=(fmt == "zip"))
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return {"tensors": len(state)}


def _report_info(report: Any) -> dict[str, Any]:
    counts = report.counts()
    rules = sorted({f.rule for f in report.findings})
    tensors = None  # what the reader saw: shows the pickle was really walked
    for facts in (report.facts.get("model_files") or {}).values():
        tensors = (facts.get("totals") or {}).get("tensors")
    return {"counts": counts, "rules": rules, "tensors": tensors}


def _child(op: str, args: Sequence[str]) -> dict[str, Any]:
    """Run one operation; ``wall`` is the operation alone (after imports), not the process."""
    if op == "build":
        fmt, kind, size, path = args
        start = time.perf_counter()
        info = _child_build(fmt, kind, int(size), path)
        return {"wall": time.perf_counter() - start, **info}
    if op == "import":
        for name in args:
            __import__(name)
        return {"wall": 0.0, "rss_before": _rss_mb()}
    if op in ("validate", "manifest"):
        sys.path.insert(0, str(REPO))
        import modeltemplates

        template_id, package = args
        before = _rss_mb()
        start = time.perf_counter()
        template = modeltemplates.get_template(template_id)
        if op == "validate":
            report = template.validate(package)
            wall, peak = time.perf_counter() - start, _peak_mb()
            info = _report_info(report)
            del report
            again = time.perf_counter()  # a second call: the lazy imports are done by now
            template.validate(package)
            return {"wall": wall, "rss_peak": peak, "rss_before": before,
                    "second_call_s": round(time.perf_counter() - again, 4), **info}
        manifest = template.build_manifest(package, allow_errors=True)
        wall = time.perf_counter() - start
        return {"wall": wall, "rss_before": before, "files": len(manifest.files),
                "bytes": manifest.total_bytes, "validation": dict(manifest.validation)}
    if op == "torch_load":
        import torch

        path, mmap = args[0], args[1] == "1"
        before = _rss_mb()
        start = time.perf_counter()
        try:
            state = torch.load(path, weights_only=True, mmap=mmap)
        except Exception as exc:  # the legacy format refuses mmap=True: that is the figure
            return {"wall": time.perf_counter() - start, "rss_before": before,
                    "error": f"{type(exc).__name__}: {exc}"}
        wall = time.perf_counter() - start
        return {"wall": wall, "rss_before": before, "tensors": len(state)}
    if op == "picklescan":
        from picklescan.scanner import scan_file_path

        before = _rss_mb()
        start = time.perf_counter()
        result = scan_file_path(args[0])
        wall = time.perf_counter() - start
        return {"wall": wall, "rss_before": before, "globals": len(result.globals),
                "issues": result.issues_count, "scan_err": bool(result.scan_err)}
    raise SystemExit(f"unknown child operation {op}")


# --------------------------------------------------------------------------------------------
# Parent side: build files, run children, print tables.
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Run:
    wall: float  # the operation's own seconds (child-reported for Python, process wall otherwise)
    proc_wall: float  # the whole process, interpreter start and imports included
    rss_mb: float  # peak RSS of the process
    info: dict[str, Any]
    error: str = ""


@dataclasses.dataclass
class Row:
    label: str
    cold: Run | None = None
    warm: list[Run] = dataclasses.field(default_factory=list)
    note: str = ""

    @property
    def best(self) -> Run | None:
        ok = [r for r in self.warm if not r.error]
        return min(ok, key=lambda r: r.wall) if ok else None

    @property
    def peak_mb(self) -> float:
        runs = [*self.warm, *([self.cold] if self.cold else [])]
        return max((r.rss_mb for r in runs if not r.error), default=0.0)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    fmt: str  # "zip" or "legacy"
    kind: str  # "big" or "small"
    size: int  # bytes of tensor data (big) or number of tensors (small)

    @property
    def template(self) -> str:
        return TEMPLATES[self.fmt]


def evict(path: Path) -> None:
    """Drop a file's clean pages from the page cache (no root needed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def eviction_check(path: Path) -> str:
    """Show, with util-linux ``fincore`` where present, that eviction really empties the cache."""
    fincore = shutil.which("fincore")
    if not fincore:
        return "(fincore not found: page-cache eviction not verified)"

    def resident() -> str:
        done = subprocess.run([fincore, "--bytes", "--noheadings", "--output", "RES", str(path)],
                              capture_output=True, text=True, check=False)
        return done.stdout.strip() or "?"

    before = resident()
    evict(path)
    return f"(page-cache check with fincore: {before} bytes of {path.name} resident, {resident()} after eviction)"


def run(argv: Sequence[str], *, python_op: bool) -> Run:
    """Run a command to completion; peak RSS is this child's own, from ``wait4``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc_wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    rss = usage.ru_maxrss / 1024  # KiB on Linux
    if proc.returncode != 0:
        tail = (stderr.strip().splitlines() or ["?"])[-1]
        return Run(proc_wall, proc_wall, rss, {}, error=f"exit {proc.returncode}: {tail[:200]}")
    if not python_op:
        return Run(proc_wall, proc_wall, rss, {})
    info = json.loads(stdout.strip().splitlines()[-1])
    rss = info.pop("rss_peak", rss)  # the child's own reading, when it did more after the operation
    proc_wall -= info.get("second_call_s", 0.0)  # that extra call is not part of a one-shot run
    return Run(info.pop("wall"), proc_wall, rss, info, error=info.pop("error", ""))


def child_argv(op: str, *args: object) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", op, *map(str, args)]


def measure(label: str, argv: Sequence[str], evict_paths: Sequence[Path], repeat: int, *,
            python_op: bool = True) -> Row:
    row = Row(label)
    for p in evict_paths:
        evict(p)
    row.cold = run(argv, python_op=python_op)
    if row.cold.error:
        row.note = row.cold.error
        return row
    row.warm = [run(argv, python_op=python_op) for _ in range(repeat)]
    return row


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in filter(None, text.split(",")):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)i?B?\s*", part, re.IGNORECASE)
        if not m:
            raise argparse.ArgumentTypeError(f"bad size {part!r} (use e.g. 100M, 1G, 4G)")
        unit = {"": 1, "K": 1 << 10, "M": MiB, "G": GiB}[m.group(2).upper()]
        sizes.append(int(float(m.group(1)) * unit))
    return sorted(set(sizes))


def size_label(n: int) -> str:
    return f"{n / GiB:g}G" if n >= GiB else f"{n / MiB:g}M"


def work_root(requested: str | None) -> tuple[Path, bool]:
    """The work dir, and whether this run created it (and so may delete it)."""
    if requested:
        path = Path(requested)
        path.mkdir(parents=True, exist_ok=True)
        return path, False
    tmp = Path(tempfile.gettempdir())
    # Same disk as the repository, so the figures are those of the disk the user's work sits on.
    base = tmp if tmp.stat().st_dev == REPO.stat().st_dev else REPO.parent
    return Path(tempfile.mkdtemp(prefix="mt-bench-", dir=base)), True


def build(case: Case, root: Path) -> tuple[Path, Run] | str:
    """Build the case's package; a string says why it was skipped."""
    package = root / case.name / "model"
    package.mkdir(parents=True, exist_ok=True)
    path = package / f"{case.name}.pth"
    (package / "customize_service.py").write_text(SERVICE, encoding="utf-8")
    need = (case.size if case.kind == "big" else case.size * 32 * 1024) + DISK_MARGIN
    free = shutil.disk_usage(root).free
    if free < need:
        return f"skipped: needs {need / GiB:.1f} GiB free, {free / GiB:.1f} GiB available"
    result = run(child_argv("build", case.fmt, case.kind, case.size, path), python_op=True)
    if result.error:
        return f"build failed: {result.error}"
    return path, result


def operations(case: Case, path: Path, picklescan: bool, openssl: str | None) -> list[tuple[str, list[str], bool]]:
    package = path.parent
    ops: list[tuple[str, list[str], bool]] = [
        ("validate", child_argv("validate", case.template, package), True),
        ("build_manifest", child_argv("manifest", case.template, package), True),
    ]
    if case.fmt == "zip":
        ops.append(("torch.load(weights_only, mmap)", child_argv("torch_load", path, 1), True))
    else:
        ops.append(("torch.load(weights_only)", child_argv("torch_load", path, 0), True))
    if picklescan:
        ops.append(("picklescan", child_argv("picklescan", path), True))
    ops.append(("sha256sum", ["sha256sum", str(path)], False))
    if openssl:
        ops.append(("openssl dgst -sha256 (ref.)", [openssl, "dgst", "-sha256", str(path)], False))
    return ops


def cell(value: float | None, width: int, digits: int) -> str:
    return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return f"{'-':>9}"
    r = a / b
    return f"{r:8.1f}x" if r >= 10 else f"{r:8.2f}x" if r >= 0.1 else f"{r:8.4f}x"


def print_table(case: Case, path: Path, tensors: int, rows: list[Row]) -> None:
    size = path.stat().st_size
    print(f"\n== {case.name}: {case.fmt} format, {size / MiB:,.1f} MiB, {tensors} tensors, "
          f"template {case.template}")
    print(f"{'operation':<31}{'cold s':>8}{'warm s':>9}{'proc s':>8}{'peak MB':>9}{'+op MB':>8}"
          f"{'/validate':>10}{'/sha256sum':>11}")
    base = {r.label: r.best.wall for r in rows if r.best}
    for row in rows:
        best = row.best
        plus = max(0.0, best.rss_mb - best.info["rss_before"]) if best and "rss_before" in best.info else None
        wall = best.wall if best else None
        print(f"{row.label:<31}{cell(row.cold.wall if row.cold and not row.cold.error else None, 8, 3)}"
              f"{cell(wall, 9, 3)}{cell(best.proc_wall if best else None, 8, 2)}"
              f"{cell(row.peak_mb or None, 9, 1)}{cell(plus, 8, 1)}"
              f"{ratio(wall, base.get('validate')):>10}{ratio(wall, base.get('sha256sum')):>11}")
    for row in rows:
        best = row.best or row.cold
        extra = {k: v for k, v in (best.info if best else {}).items() if k != "rss_before"}
        if row.note or extra:
            print(f"   {row.label}: {row.note or json.dumps(extra, sort_keys=True)}")


def throughput(size: int, row: Row | None, cold: bool) -> float | None:
    if row is None:
        return None
    run_ = row.cold if cold else row.best
    return size / run_.wall / MiB if run_ and not run_.error and run_.wall > 0 else None


def load() -> str:
    """Other work on the machine skews the figures: show how busy it was."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def git_head() -> str:
    """The commit measured, and whether the tree under modeltemplates/ differed from it."""
    def git(*cmd: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *cmd], capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "?"
    dirty = git("status", "--porcelain", "--", "modeltemplates")
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("100M,1G,4G"),
                        help="tensor-data sizes of the big state_dicts, '' for none (default 100M,1G,4G)")
    parser.add_argument("--keep", action="store_true", help="keep the built files")
    parser.add_argument("--workdir", help="where to build (default: a temp dir on the repository's disk)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per operation (best is shown)")
    parser.add_argument("--small-tensors", type=int, default=SMALL_TENSORS,
                        help=f"tensors in the many-small-tensors file, 0 to skip it (default {SMALL_TENSORS})")
    args = parser.parse_args(argv)

    root, created = work_root(args.workdir)
    # Children cache bytecode (in the work dir, not the repository) as an installed package does,
    # even when the shell sets PYTHONDONTWRITEBYTECODE; otherwise every run would time compiling.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    if created and not args.keep:
        atexit.register(shutil.rmtree, root, ignore_errors=True)
    has_picklescan = importlib.util.find_spec("picklescan") is not None
    openssl = shutil.which("openssl")
    started = time.perf_counter()

    print(f"modeltemplates bench, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / GiB:.1f} GiB RAM; "
          f"Python {platform.python_version()}; work dir {root} "
          f"({shutil.disk_usage(root).free / GiB:.0f} GiB free); load average {load()}")
    versions = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True, check=False
    )
    scan = (f"picklescan {importlib.metadata.version('picklescan')}" if has_picklescan
            else "picklescan NOT installed (pip install picklescan): not measured")
    print(f"torch {versions.stdout.strip() or '?'}; {scan}; modeltemplates at {git_head()}")
    print(f"method: each operation in a fresh subprocess; 'cold' = one run after evicting the file from "
          f"the page cache (posix_fadvise DONTNEED); 'warm' = best of {args.repeat} runs after it; "
          f"'proc s' = whole process incl. interpreter start and imports; 'peak MB' = max ru_maxrss of "
          f"the process over all runs; '+op MB' = peak minus RSS just before the operation; bytecode is "
          f"cached (PYTHONPYCACHEPREFIX in the work dir), as for an installed package.")
    for label, modules in (("interpreter only", []), ("import modeltemplates", ["modeltemplates"]),
                           ("import torch", ["torch"]), ("import picklescan", ["picklescan.scanner"])):
        if modules and modules[0].startswith("picklescan") and not has_picklescan:
            continue
        base = run(child_argv("import", *modules), python_op=True)
        print(f"baseline {label}: peak RSS {base.rss_mb:.1f} MB, process {base.proc_wall:.2f} s"
              + (f" ({base.error})" if base.error else ""))

    cases: list[Case] = []
    if args.small_tensors > 0:
        cases += [Case(f"small-{fmt}", fmt, "small", args.small_tensors) for fmt in ("zip", "legacy")]
    for size in args.sizes:
        cases += [Case(f"{fmt}-{size_label(size)}", fmt, "big", size) for fmt in ("zip", "legacy")]

    results: dict[str, tuple[Case, int, dict[str, Row]]] = {}
    warmed = False
    for case in cases:
        built = build(case, root)
        if isinstance(built, str):
            print(f"\n== {case.name}: {built}")
            continue
        path, made = built
        print(f"\n(built {path.name} in {made.wall:.1f} s, builder peak RSS {made.rss_mb:,.0f} MB)")
        if not warmed:  # fill the bytecode cache of the lazily imported checks; not reported
            for op in ("validate", "manifest"):
                run(child_argv(op, case.template, path.parent), python_op=True)
            warmed = True
            print(eviction_check(path))
        rows = []
        for label, cmd, python_op in operations(case, path, has_picklescan, openssl):
            if label == "torch.load(weights_only)":  # legacy: show what mmap=True does first
                probe = run(child_argv("torch_load", path, 1), python_op=True)
                why = (probe.error or "it loaded (unexpected)").replace(str(path), "FILE")
                rows.append(Row("torch.load(weights_only, mmap)", cold=probe, note=f"not applicable: {why}"))
            rows.append(measure(label, cmd, [path], args.repeat, python_op=python_op))
        print_table(case, path, int(made.info.get("tensors", 0)), rows)
        results[case.name] = (case, path.stat().st_size, {r.label: r for r in rows})
        if not args.keep:
            shutil.rmtree(path.parent.parent, ignore_errors=True)

    print_summary(results)
    print(f"\ntotal bench time {time.perf_counter() - started:.0f} s; load average {load()}; files "
          f"{'kept in ' + str(root) if args.keep else 'removed'}")
    return 0


def print_summary(results: dict[str, tuple[Case, int, dict[str, Row]]]) -> None:
    print("\n== targets")
    for fmt in ("zip", "legacy"):
        big = sorted((size, rows) for case, size, rows in results.values()
                     if case.fmt == fmt and case.kind == "big")
        if not big:
            continue
        (small_size, small_rows), (top_size, top_rows) = big[0], big[-1]
        v, v0 = top_rows.get("validate"), small_rows.get("validate")
        if v and v.best and v.cold:
            worst = max(v.best.wall, v.cold.wall)
            print(f"[{fmt} {top_size / MiB:,.0f} MiB] validate < 0.5 s: "
                  f"{'met' if worst < 0.5 else 'NOT met'} (cold {v.cold.wall:.3f} s, warm {v.best.wall:.3f} s)")
            print(f"[{fmt} {top_size / MiB:,.0f} MiB] validate < 100 MB peak RSS: "
                  f"{'met' if v.peak_mb < 100 else 'NOT met'} ({v.peak_mb:.1f} MB)")
        if v and v0 and v.best and v0.best and top_size != small_size:
            print(f"[{fmt}] validate flat in size: {small_size / MiB:,.0f} -> {top_size / MiB:,.0f} MiB "
                  f"({top_size / small_size:.0f}x data): warm {v0.best.wall:.3f} -> {v.best.wall:.3f} s, "
                  f"peak {v0.peak_mb:.1f} -> {v.peak_mb:.1f} MB")
        for cold in (False, True):
            m = throughput(top_size, top_rows.get("build_manifest"), cold)
            s = throughput(top_size, top_rows.get("sha256sum"), cold)
            o = throughput(top_size, top_rows.get("openssl dgst -sha256 (ref.)"), cold)
            if m and s:
                tag = "cold" if cold else "warm"
                ref = f"; openssl {o:,.0f} MiB/s, manifest = {100 * m / o:.0f} % of it" if o else ""
                print(f"[{fmt} {top_size / MiB:,.0f} MiB, {tag}] manifest hashing >= 90 % of sha256sum: "
                      f"{'met' if m >= 0.9 * s else 'NOT met'} (build_manifest {m:,.0f} MiB/s, sha256sum "
                      f"{s:,.0f} MiB/s = {100 * m / s:.0f} %{ref})")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3:])))
        sys.exit(0)
    sys.exit(main())
