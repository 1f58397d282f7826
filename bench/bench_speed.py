"""How fast ``modeltemplates validate`` is on real-shaped packages, one package and many, in one run.

    python bench/bench_speed.py [--repeat 7] [--batch 8] [--workdir DIR] [--keep] [--parser-only]

Builds a corpus (see ``build_corpus``): for each template (pytorch-py27, pytorch-py37) a *typical*
package (a ~30 KB inference script, three helper modules, ``config.json``, a 100 MB ``torch.save``
checkpoint) and a *vendored* one (the same plus a vendored framework of ~1.5 MB of Python in ~100
files). The code is real code: CPython's own library, 2.7's when a CPython 2.7 is found (for the
2.7 packages), this interpreter's otherwise, keeping only the files the target version accepts.

Then prints, in one run:

* yardsticks: ``python -c pass`` and ``python -m py_compile`` of each package's Python files;
* the CLI wall time per package: *cold* (an empty result cache) and *warm* (an unchanged re-run,
  cache filled), pinned to one core, plus cold on every core (vendored packages parse on two);
* parser throughput per grammar (MB/s), beside ``compile()`` of the same bytes in this process
  (and CPython 2.7's own ``compile()`` when it is installed);
* packages per second of ``validate_many`` with 1 and 2 worker processes;
* a closing ``targets`` block.

Children get a bytecode cache (as an installed package has), and one untimed run fills it.
Wall times are the best of ``--repeat``; CPU is user+sys of that best run. Other work on the
machine skews wall times: the header and footer print the load average. It never asserts.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = {"py27": "pytorch-py27", "py37": "pytorch-py37"}
SCRIPT_BYTES = 30_000
VENDOR_BYTES = 1_500_000


# ----------------------------------------------------------------------------- corpus


def python27() -> str | None:
    """A CPython 2.7 executable, if this machine has one (pyenv or PATH)."""
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7")))
    return found[-1] if found else shutil.which("python2.7")


def stdlib_files(version: str) -> list[Path]:
    """Library files of the interpreter of that version (2.7's own when installed)."""
    if version == "py27":
        exe = python27()
        if exe:
            lib = subprocess.run([exe, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            return sorted(p for p in Path(lib).rglob("*.py") if _library_file(p, Path(lib)))
    lib = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in lib.rglob("*.py") if _library_file(p, lib))


def _library_file(path: Path, lib: Path) -> bool:
    parts = path.relative_to(lib).parts
    return not any(p in {"test", "tests", "site-packages", "idlelib", "lib2to3", "ensurepip"} or p.startswith(".")
                   for p in parts)


def accepted(files: list[Path], python: tuple[int, int], enough: int) -> list[tuple[Path, bytes]]:
    """Files the target version accepts (by this tool's parser, which the fidelity tests hold to
    the real interpreters), in name order, until ``enough`` bytes."""
    from modeltemplates.inspect.pyparse import parse

    out = []
    total = 0
    for path in files:
        data = path.read_bytes()
        if 0 < len(data) < 200_000 and b"__future__" not in data and parse(data, python).ok:
            out.append((path, data))
            total += len(data)
            if total >= enough:
                break
    return out


def write_model(path: Path, mib: int) -> None:
    """A real legacy-format ``torch.save`` state_dict of ``mib`` MiB (built in a child: torch
    never enters this process)."""
    code = (
        "import sys, torch\n"
        "n = int(sys.argv[2]) * (1 << 20) // 4 // 4\n"
        "sd = {'layer%d.weight' % i: torch.zeros(n) for i in range(4)}\n"
        "torch.save(sd, sys.argv[1], _use_new_zipfile_serialization=False)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path), str(mib)], check=True)


def build_corpus(workdir: Path, model_mib: int) -> dict[str, Path]:
    """Four packages: typical-py27/-py37 and vendored-py27/-py37 (see the module docstring)."""
    packages: dict[str, Path] = {}
    model = workdir / "shared-model.pth"
    if not model.exists():
        write_model(model, model_mib)
    service = (REPO / "examples" / "pytorch-py27" / "model" / "customize_service.py").read_bytes()
    for version in TEMPLATES:
        python = (2, 7) if version == "py27" else (3, 7)
        pool = accepted(stdlib_files(version), python, VENDOR_BYTES + 400_000)
        small = [item for item in pool if 8_000 <= len(item[1]) <= 20_000]
        # The inference script: the example service, then library code up to ~30 KB.
        script = bytearray(service)
        used = set()
        for path, data in small:
            if len(script) >= SCRIPT_BYTES:
                break
            script += b"\n\n" + data
            used.add(path)
        helpers = [item for item in small if item[0] not in used][:3]
        vendored = []
        total = 0
        for path, data in pool:
            if path in used or total >= VENDOR_BYTES:
                continue
            vendored.append((path, data))
            total += len(data)
        for kind in ("typical", "vendored"):
            name = f"{kind}-{version}"
            root = workdir / name / "model"
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            (root / "customize_service.py").write_bytes(bytes(script))
            (root / "utils").mkdir()
            (root / "utils" / "__init__.py").write_bytes(b"")
            for i, (_path, data) in enumerate(helpers):
                (root / "utils" / f"helper{i}.py").write_bytes(data)
            (root / "label.json").write_text('["zero", "one", "two"]\n')
            (root / "config.json").write_text(json.dumps({
                "model_type": "PyTorch", "runtime": f"python{python[0]}.{python[1]}",
                "model_algorithm": "image_classification",
                "metrics": {"f1": 0.9, "accuracy": 0.9, "precision": 0.9, "recall": 0.9},
            }, indent=2))
            os.link(model, root / "model.pth")
            if kind == "vendored":
                for i, (path, data) in enumerate(vendored):
                    target = root / "vendor" / f"pkg{i // 20}" / f"{path.stem}.py"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                for folder in (root / "vendor").rglob("*"):
                    if folder.is_dir():
                        (folder / "__init__.py").touch()
                (root / "vendor" / "__init__.py").touch()
            packages[name] = root
    # Old enough that the cache may remember the checkpoint by its identity (2 s rule).
    old = time.time() - 60
    for root in packages.values():
        for f in root.rglob("*"):
            os.utime(f, (old, old), follow_symlinks=False)
    time.sleep(2.1)  # change times (which utime cannot set back) age past the 2 s rule too
    return packages


# ----------------------------------------------------------------------------- running children


def child_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    env.pop("MODELTEMPLATES_CACHE", None)
    return env


def run(cmd: list[str], env: dict[str, str], cpus: set[int] | None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user+sys) and stdout of one child."""
    def pin() -> None:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            preexec_fn=pin)  # noqa: PLW1509 - the bench runs no threads
    out = proc.stdout.read() if proc.stdout else b""
    _, _status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = 0
    return wall, usage.ru_utime + usage.ru_stime, out.decode("utf-8", "replace")


def best(times: list[tuple[float, float, str]]) -> tuple[float, float]:
    wall, cpu, _ = min(times)
    return wall, cpu


# ----------------------------------------------------------------------------- measurements


def measure(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-speed-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = child_env(workdir)
    one_core = {min(os.sched_getaffinity(0))}
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip() or "?"
    print(f"python {sys.version.split()[0]}; modeltemplates at {commit}; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f} at start; best of {args.repeat}")
    t_build = time.perf_counter()
    packages = build_corpus(workdir, 1 if args.parser_only else args.model_mib)
    print(f"corpus built in {time.perf_counter() - t_build:.1f} s under {workdir}")
    py27 = python27()
    print(f"2.7 code from: {py27 or 'this interpreter (no CPython 2.7 found)'}")
    if args.parser_only:
        ratios = parser_throughput(packages, args.repeat, py27)
        print(f"\n== targets (load average {os.getloadavg()[0]:.2f} at the end)")
        print_parser_targets(ratios)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        return

    base = [sys.executable, "-m", "modeltemplates", "validate", "--format", "json"]
    for name, root in packages.items():  # fill the bytecode cache
        run([*base, "--template", TEMPLATES[name[-4:]], "--no-cache", str(root)], env, None)

    # yardsticks
    pass_t = best([run([sys.executable, "-c", "pass"], env, one_core) for _ in range(args.repeat)])
    print("\n== yardsticks (one core)")
    print(f"python -c pass                    {pass_t[0]:.3f} s wall  {pass_t[1]:.3f} s CPU")

    print("\n== validate (CLI, one package; wall / CPU seconds)")
    print(f"{'package':<15} {'py files':>8} {'py KB':>7} {'model MB':>8}  {'cold 1 core':>13}  "
          f"{'warm 1 core':>13}  {'cold 2 cores':>13}  {'py_compile':>13}")
    rows = {}
    for name, root in packages.items():
        cli = [*base, "--template", TEMPLATES[name[-4:]]]
        py_files = sorted(root.rglob("*.py"))
        py_bytes = sum(p.stat().st_size for p in py_files)
        model_mb = (root / "model.pth").stat().st_size / 1e6
        cold, cold2, warm = [], [], []
        for i in range(args.repeat):
            fresh = workdir / "caches" / f"{name}-cold-{i}"
            shutil.rmtree(fresh, ignore_errors=True)  # cold: an empty cache, also with --workdir reused
            cold.append(run([*cli, "--cache-dir", str(fresh), str(root)], env, one_core))
            if name.startswith("vendored"):  # enough source to parse on two cores
                fresh2 = workdir / "caches" / f"{name}-cold2-{i}"
                shutil.rmtree(fresh2, ignore_errors=True)
                cold2.append(run([*cli, "--cache-dir", str(fresh2), str(root)], env, None))
        filled = workdir / "caches" / f"{name}-cold-0"
        for _ in range(args.repeat):
            warm.append(run([*cli, "--cache-dir", str(filled), str(root)], env, one_core))
        reports = {r[2] for r in cold + warm + cold2}
        same = "same report" if len(reports) == 1 else f"{len(reports)} DIFFERENT reports"
        comp = py_compile_time(name, py_files, workdir, env, cpus=one_core, repeat=args.repeat, py27=py27)
        rows[name] = (best(cold), best(warm), best(cold2) if cold2 else (0.0, 0.0))
        comp_text = f"{comp[0]:.3f}/{comp[1]:.3f}" if comp else "-"
        two = f"{rows[name][2][0]:.3f}/{rows[name][2][1]:.3f}" if cold2 else "-"
        print(f"{name:<15} {len(py_files):>8} {py_bytes / 1e3:>7.0f} {model_mb:>8.1f}  "
              f"{rows[name][0][0]:.3f}/{rows[name][0][1]:.3f}  {rows[name][1][0]:.3f}/{rows[name][1][1]:.3f}  "
              f"{two:>13}  {comp_text:>13}   {same}")

    ratios = parser_throughput(packages, args.repeat, py27)
    rates = batch_rates(packages["typical-py27"], workdir, env, args.batch)

    print(f"\n== targets (load average {os.getloadavg()[0]:.2f} at the end)")
    for name in ("typical-py27", "typical-py37"):
        cold, warm, _ = rows[name]
        print(f"{name}: cold validate {cold[0]:.3f} s wall (target < 0.25): {'met' if cold[0] < 0.25 else 'NOT met'}; "
              f"unchanged re-run {warm[0]:.3f} s (target < 0.15): {'met' if warm[0] < 0.15 else 'NOT met'}")
    print_parser_targets(ratios)
    for name in ("vendored-py27", "vendored-py37"):
        cold1, _, cold2 = rows[name]
        print(f"{name}: cold on 2 cores {cold2[0]:.3f} s vs 1 core {cold1[0]:.3f} s ({cold1[0] / cold2[0]:.2f}x)")
    print(f"validate_many: {rates[2]:.1f} packages/s with 2 workers vs {rates[1]:.1f} with 1 "
          f"({rates[2] / rates[1]:.2f}x)")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


def print_parser_targets(ratios: dict[str, float]) -> None:
    """One line per grammar: the one-core ratio (the target) and, beside it, the two-core one."""
    for grammar, ratio in ratios.items():
        if grammar.endswith(" on 2 cores"):
            continue
        two = ratios.get(f"{grammar} on 2 cores")
        beside = f"; the validator's check on two cores: {two:.2f}x" if two is not None else ""
        print(f"parser {grammar}: {ratio:.2f}x compile() of the same bytes on one core (target <= 3): "
              f"{'met' if ratio <= 3 else 'NOT met'}{beside}")


def py_compile_time(name: str, files: list[Path], workdir: Path, env: dict[str, str], *, cpus: set[int],
                    repeat: int, py27: str | None) -> tuple[float, float] | None:
    """``python -m py_compile`` of the package's files (2.7's interpreter for 2.7 packages), on a
    copy so no bytecode lands in the package."""
    exe = py27 if name.endswith("py27") else sys.executable
    if exe is None:
        return None
    scratch = workdir / "py_compile" / name
    shutil.rmtree(scratch, ignore_errors=True)
    copies = []
    for i, f in enumerate(files):
        target = scratch / f"m{i}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
        copies.append(str(target))
    env = dict(env, PYTHONPYCACHEPREFIX=str(workdir / "py_compile-pycache"))
    return best([run([exe, "-m", "py_compile", *copies], env, cpus) for _ in range(repeat)])


def parser_throughput(packages: dict[str, Path], repeat: int, py27: str | None) -> dict[str, float]:
    """MB/s of the parser per grammar beside compile() of the same bytes; returns the ratios.

    Each parse run alternates with a compile() run and the best of each counts, so a change of
    the machine's load between them skews the ratio less. Rows: each result dropped (what the
    validator pays for a file: it keeps no tree but the inference script's); every result kept
    alive (the cyclic collector then sees all of them); each tree also made as Node objects
    (``ParseResult.tree``, which a parse makes only when it is read).
    """
    from modeltemplates.inspect.pyparse import parse

    print("\n== parser throughput (this process, one core; best of repeat, alternating with compile(); CPU time)")
    print(f"{'grammar':<8} {'files':>5} {'MB':>6} {'parse MB/s':>11} {'compile() MB/s':>15} {'ratio':>6}  "
          f"compile() by")
    ratios = {}
    for version, python in (("py27", (2, 7)), ("py37", (3, 7))):
        files = [p.read_bytes() for p in sorted(packages[f"vendored-{version}"].rglob("*.py"))]
        both = []
        for data in files:
            try:
                compile(data, "<bench>", "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                continue
            if parse(data, python).ok:
                both.append(data)
        mb = sum(map(len, both)) / 1e6
        name = f"{python[0]}.{python[1]}"
        rows = (
            ("each result dropped", lambda both=both, python=python: _each(both, parse, python),
             lambda both=both: _each(both, _compile)),
            ("every result kept", lambda both=both, python=python: [parse(d, python) for d in both],
             lambda both=both: [_compile(d) for d in both]),
            ("each tree made as Node objects", lambda both=both, python=python: _each(both, _parse_tree, python),
             lambda both=both: _each(both, _compile)),
        )
        for index, (what, run_parse, run_compile) in enumerate(rows):
            t_parse, t_comp = _best_pair(repeat, run_parse, run_compile)
            if index == 0:
                ratios[name] = t_parse / t_comp
            label = f"{name:<8} {len(both):>5} {mb:>6.2f}" if index == 0 else f"{'':<8} {'':>5} {'':>6}"
            print(f"{label} {mb / t_parse:>11.2f} {mb / t_comp:>15.2f} {t_parse / t_comp:>6.2f}  "
                  f"Python {sys.version.split()[0]} (files both accept), {what}")
        if len(os.sched_getaffinity(0)) >= 2:
            t_two, t_comp = _best_pair(repeat, lambda both=both, python=python: _two_cores(both, python),
                                       lambda both=both: _each(both, _compile), wall=True)
            ratios[f"{name} on 2 cores"] = t_two / t_comp
            print(f"{'':<8} {'':>5} {'':>6} {mb / t_two:>11.2f} {mb / t_comp:>15.2f} {t_two / t_comp:>6.2f}  "
                  f"the validator's syntax check on two cores (wall), against compile() on one")
        if version == "py27" and py27:
            accepted_27 = [d for d in files if parse(d, python).ok]
            mb27 = sum(map(len, accepted_27)) / 1e6
            t27 = compile_in(py27, accepted_27, repeat)
            t_ours = _best_cpu(repeat, lambda a=accepted_27: _each(a, parse, (2, 7)))
            print(f"{'2.7':<8} {len(accepted_27):>5} {mb27:>6.2f} {mb27 / t_ours:>11.2f} {mb27 / t27:>15.2f} "
                  f"{t_ours / t27:>6.2f}  CPython 2.7 ({py27}), each result dropped")
    return ratios


def _compile(data: bytes) -> object:
    return compile(data, "<bench>", "exec", dont_inherit=True)


def _parse_tree(data: bytes, python: tuple[int, int]) -> object:
    from modeltemplates.inspect.pyparse import parse

    return parse(data, python).tree


def _each(sources: list[bytes], fn, *args) -> None:  # type: ignore[no-untyped-def]
    """Run ``fn(source, *args)`` on every source, dropping each result (as the validator drops
    each tree once the file is checked)."""
    for data in sources:
        fn(data, *args)


def _two_cores(sources: list[bytes], python: tuple[int, int]) -> None:
    """The syntax check of every source as the validator runs it with two workers (one lane
    here, one in a forked process; it falls back to one lane on a machine that is busy)."""
    from modeltemplates.python.parallel import check_sources

    check_sources([(f"m{i}.py", data) for i, data in enumerate(sources)], python, workers=2)


def _best_pair(repeat: int, first, second, wall: bool = False) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Best seconds of ``first()`` and of ``second()``, run alternately ``repeat`` times: CPU
    seconds of this process, or wall seconds for ``first`` when ``wall`` (it uses other processes)."""
    clock_first = time.perf_counter if wall else time.process_time
    best_first = best_second = float("inf")
    for _ in range(repeat):
        t0 = clock_first()
        first()
        t1 = clock_first()
        t2 = time.process_time()
        second()
        t3 = time.process_time()
        best_first, best_second = min(best_first, t1 - t0), min(best_second, t3 - t2)
    return best_first, best_second


def compile_in(exe: str, sources: list[bytes], repeat: int) -> float:
    """Best CPU seconds of ``compile()`` over ``sources`` inside another interpreter."""
    with tempfile.TemporaryDirectory() as tmp:
        for i, data in enumerate(sources):
            Path(tmp, f"{i}.py").write_bytes(data)
        code = (
            "import glob, os, time\n"
            f"srcs = [open(p, 'rb').read() for p in sorted(glob.glob(os.path.join({tmp!r}, '*.py')))]\n"
            "best = 1e9\n"
            f"for _ in range({repeat}):\n"
            "    t = time.clock() if hasattr(time, 'clock') else time.process_time()\n"
            "    for s in srcs: compile(s, '<bench>', 'exec')\n"
            "    best = min(best, (time.clock() if hasattr(time, 'clock') else time.process_time()) - t)\n"
            "print(best)\n"
        )
        out = subprocess.run([exe, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def _best_cpu(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def batch_rates(typical: Path, workdir: Path, env: dict[str, str], count: int) -> dict[int, float]:
    """Packages per second of validate_many over ``count`` copies of a typical package, no cache."""
    copies = []
    for i in range(count):
        target = workdir / "batch" / f"p{i}" / "model"
        if not target.exists():
            shutil.copytree(typical, target, copy_function=os.link)
        copies.append(str(target))
    code = (
        "import sys, time, json\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from modeltemplates import validate_many\n"
        "paths = json.loads(sys.argv[2])\n"
        "t = time.perf_counter()\n"
        "with ProcessPoolExecutor(int(sys.argv[1])) as pool:\n"
        "    n = sum(1 for r in validate_many(paths, 'pytorch-py27', pool) if r.report is not None)\n"
        "print(n / (time.perf_counter() - t))\n"
    )
    print(f"\n== validate_many over {count} copies of typical-py27 (no cache; pool start included)")
    rates = {}
    for workers in (1, 2):
        runs = [run([sys.executable, "-c", code, str(workers), json.dumps(copies)], env, None) for _ in range(3)]
        rates[workers] = max(float(r[2].strip()) for r in runs)
        print(f"{workers} worker{'s' if workers > 1 else ' '}: {rates[workers]:.1f} packages/s")
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per measurement; the best is shown")
    ap.add_argument("--batch", type=int, default=8, help="package copies for validate_many")
    ap.add_argument("--model-mib", type=int, default=100, help="checkpoint size in MiB")
    ap.add_argument("--workdir", help="where the corpus is built (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    ap.add_argument("--parser-only", action="store_true",
                    help="only the parser throughput (the corpus gets a 1 MiB checkpoint)")
    measure(ap.parse_args())


if __name__ == "__main__":
    main()
