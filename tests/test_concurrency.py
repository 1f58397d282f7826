"""Thread- and process-safety from the first call: an embedding platform's worker pools.

Every lazy initialisation (template registry and plugins, grammar tables, rule catalogue, JSON
schema, torch facts, ignore patterns) happens inside the measured calls: each scenario runs in a
fresh interpreter, and its results are compared with a single-threaded run in another fresh one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import SERVICE_PY27, PackageBuilder, tiny_state_dict, torch_bytes

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ("pytorch-py27", "pytorch-py37", "tensorflow-py36", "mxnet-py37")

#: One run over every (template, package) pair; prints {pair: outputs} as JSON. ``mode`` is how:
#: "serial" (one thread), "threads" (16 threads released at once by a barrier, each doing every
#: pair in its own order), "fork-cold" / "fork-warm" / "spawn" (a pool of 4 processes started that
#: way, before the parent used the library or after it used every part once).
_SCRIPT = r"""
import json, sys, threading
mode, templates, packages = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
PAIRS = [(t, p) for t in templates for p in packages]

def run(pair):
    import modeltemplates
    from modeltemplates.rules import all_rules
    t, p = pair
    template = modeltemplates.get_template(t)
    report = template.validate(p)
    manifest = template.build_manifest(p, allow_errors=True, workers=1)
    return [report.to_json(), manifest.to_json(), template.describe().to_json(), sorted(all_rules())]

def key(pair):
    return pair[0] + " " + pair[1]

if __name__ == "__main__":
    out = {}
    if mode == "serial":
        for pair in PAIRS:
            out[key(pair)] = run(pair)
    elif mode == "threads":
        barrier, lock, errors = threading.Barrier(16), threading.Lock(), []
        def work(i):
            try:
                barrier.wait()
                order = PAIRS[i % len(PAIRS):] + PAIRS[:i % len(PAIRS)]
                for pair in order:
                    result = run(pair)
                    with lock:
                        previous = out.setdefault(key(pair), result)
                        if previous != result:
                            errors.append("thread %d disagrees on %s" % (i, key(pair)))
            except BaseException as exc:
                errors.append("thread %d: %r" % (i, exc))
        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for th in threads: th.start()
        for th in threads: th.join()
        if errors:
            print(json.dumps({"errors": errors})); sys.exit(1)
    else:
        import multiprocessing
        method, _, when = mode.partition("-")
        if when == "warm":  # the parent has used everything once: children inherit the state
            for pair in PAIRS:
                run(pair)
        with multiprocessing.get_context(method).Pool(4) as pool:
            results = pool.map(run, PAIRS * 2, chunksize=1)
        for i, pair in enumerate(PAIRS * 2):
            previous = out.setdefault(key(pair), results[i])
            if previous != results[i]:
                print(json.dumps({"errors": ["pool disagrees on " + key(pair)]})); sys.exit(1)
    print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three real packages that exercise different lazy parts: torch reader, 2.7 and 3.x grammars,
    config.json schema, .modelignore patterns, a broken model file."""
    top = tmp_path_factory.mktemp("concurrency")
    a = PackageBuilder(top / "a" / "model").valid()
    b = PackageBuilder(top / "b" / "model")
    b.write("resnet50.pth", torch_bytes(tiny_state_dict(), legacy=False))
    b.write("customize_service.py", "import numpy\nname = 'x'\nprint(f'{name!r:>10}')\n" + SERVICE_PY27)
    b.write("helper/__init__.py", "from .core import run\n")
    b.write("helper/core.py", "def run(x, *, y=1):\n    return x\n")
    b.write("config.json", json.dumps({"model_algorithm": "image_classification", "model_type": "PyTorch",
                                       "runtime": "python3.7", "apis": []}))
    b.write(".modelignore", "*.log\nscratch/\n")
    b.write("scratch/out.log", "x")
    c = PackageBuilder(top / "c" / "model")
    c.write("model.pth", b"PK\x03\x04 not really a zip")
    c.write("customize_service.py", "print 'python 2 only'\nexec 'x = 1'\n")
    c.write("saved_model.pb", b"\x08\x01")
    return [str(a.root), str(b.root), str(c.root)]


def _run(mode: str, packages: list[str]) -> dict[str, list[object]]:
    # A file, not -c: spawned workers import the main module by its path to find run().
    script = Path(packages[0]).parents[1] / "scenario.py"
    script.write_text(_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), mode, ",".join(TEMPLATES), *packages],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
    )
    assert done.returncode == 0, (mode, done.stdout[-2000:], done.stderr[-4000:])
    result: dict[str, list[object]] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def serial(packages: list[str]) -> dict[str, list[object]]:
    result = _run("serial", packages)
    assert len(result) == len(TEMPLATES) * len(packages)
    return result


@pytest.mark.timeout(400)
def test_sixteen_threads_cold_start_agree_with_one_thread(packages: list[str], serial: dict[str, list[object]]) -> None:
    threads = _run("threads", packages)
    assert threads.keys() == serial.keys()
    for pair, expected in serial.items():
        assert threads[pair] == expected, pair


@pytest.mark.timeout(400)
@pytest.mark.parametrize("mode", ["fork-cold", "fork-warm", "spawn"])
def test_process_pools_agree_with_one_thread(
    mode: str, packages: list[str], serial: dict[str, list[object]]
) -> None:
    import multiprocessing

    if mode.partition("-")[0] not in multiprocessing.get_all_start_methods():
        pytest.skip(f"this platform has no {mode.partition('-')[0]!r} start method")
    pooled = _run(mode, packages)
    for pair, expected in serial.items():
        assert pooled[pair] == expected, pair


def test_the_scenarios_cover_both_python_lines_and_the_errors(serial: dict[str, list[object]]) -> None:
    """The comparison means something: verdicts differ between templates and packages."""
    reports = {pair: json.loads(str(outputs[0])) for pair, outputs in serial.items()}
    oks = {pair: r["ok"] for pair, r in reports.items()}
    assert any(oks.values()) and not all(oks.values())
    rules = {f["rule"] for r in reports.values() for f in r["findings"]}
    assert {"SRC001", "MOD010"} & rules  # 2.7-only source under 3.x; the zip format under torch 1.0
