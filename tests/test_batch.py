"""validate_many: the same reports as one call per package, as they finish, over any executor."""

from __future__ import annotations

import concurrent.futures as cf
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modeltemplates
from modeltemplates import get_template, validate_many
from modeltemplates.batch import validate_one
from modeltemplates.cache import ResultCache
from modeltemplates.cli import main
from tests.builders import SERVICE_PY27, PackageBuilder


def _packages(root: Path) -> list[str]:
    """Valid, broken and missing packages (the last is not a folder at all)."""
    paths: list[str] = []
    for i in range(4):
        pkg = PackageBuilder(root / f"ok{i}" / "model").valid()
        pkg.write(f"helper{i}.py", f"X = {i}\n")
        paths.append(str(pkg.root))
    bad = PackageBuilder(root / "bad" / "model").valid()
    bad.write("customize_service.py", SERVICE_PY27 + "print f'{x}'\n")
    paths.append(str(bad.root))
    no_model = PackageBuilder(root / "no-model" / "model")
    no_model.write("customize_service.py", SERVICE_PY27)
    paths.append(str(no_model.root))
    paths.append(str(root / "missing"))
    return paths


def _sequential(paths: list[str], template_id: str | None = None) -> dict[str, Any]:
    """What validate_one gives for each path: with ``None``, the best fit detect finds for each."""
    template = get_template(template_id) if template_id is not None else None
    return {p: validate_one(p, template) for p in paths}


def _check_same(results: list[Any], expected: dict[str, Any]) -> None:
    assert sorted(r.path for r in results) == sorted(expected)
    for r in results:
        want = expected[r.path]
        assert r == want, r.path
        if r.report is not None:
            assert r.report.to_json() == want.report.to_json()
            alone = get_template(r.template).validate(r.path)
            assert r.report.findings == alone.findings
            assert {k: v for k, v in r.report.facts.items() if k != "detected"} == alone.facts
            assert (r.detected is None) == ("detected" not in r.report.facts)


def test_default_process_pool_gives_the_sequential_reports(tmp_path: Path) -> None:
    paths = _packages(tmp_path)
    results = list(validate_many(paths))
    _check_same(results, _sequential(paths))
    by_path = {r.path: r for r in results}
    assert by_path[paths[-1]].report is None and by_path[paths[-1]].error
    assert not by_path[paths[4]].report.ok  # type: ignore[union-attr]


def test_thread_pool_with_template_cache_and_io_mode(tmp_path: Path) -> None:
    paths = _packages(tmp_path)[:3]
    cache = ResultCache(tmp_path / "cache")
    template = get_template("pytorch-py37")
    with cf.ThreadPoolExecutor(2) as pool:
        results = list(validate_many(paths, template, pool, cache=cache, io_mode="undefined", in_flight=1))
    _check_same(results, _sequential(paths, "pytorch-py37"))
    with pytest.raises(ValueError):
        list(validate_many(paths, "pytorch-py27", io_mode="no-such-mode"))


class _GatedExecutor(cf.Executor):
    """Runs tasks on threads, each waiting for its gate: the test picks the finishing order."""

    def __init__(self, first: int) -> None:
        self.gates: list[threading.Event] = []
        self.first = first
        self.pool = cf.ThreadPoolExecutor(8)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        gate = threading.Event()
        if len(self.gates) == self.first:
            gate.set()
        self.gates.append(gate)

        def run() -> Any:
            assert gate.wait(60)
            return fn(*args, **kwargs)

        return self.pool.submit(run)


def test_results_come_in_order_of_completion(tmp_path: Path) -> None:
    paths = _packages(tmp_path)[:4]
    order = [3, 1, 0, 2]
    executor = _GatedExecutor(first=order[0])
    seen: list[str] = []
    for result in validate_many(paths, executor=executor):
        seen.append(result.path)
        if len(seen) < len(order):
            executor.gates[order[len(seen)]].set()  # the next one may finish only now
    assert seen == [paths[i] for i in order]
    executor.pool.shutdown()


def test_dead_task_is_a_result_with_an_error(tmp_path: Path) -> None:
    class Broken(cf.ThreadPoolExecutor):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
            future: cf.Future[Any] = cf.Future()
            future.set_exception(cf.process.BrokenProcessPool("a worker died"))
            return future

    paths = _packages(tmp_path)[:2]
    results = list(validate_many(paths, executor=Broken()))
    assert sorted(r.path for r in results) == sorted(paths)
    assert all(r.report is None and "BrokenProcessPool: a worker died" in (r.error or "") for r in results)


def test_dask_distributed_local_cluster(tmp_path: Path) -> None:
    """A real Dask distributed cluster's executor: the platform passes it, nothing of ours in between."""
    distributed = pytest.importorskip("distributed")
    paths = _packages(tmp_path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        results = list(validate_many(paths, "pytorch-py27", client.get_executor()))
    _check_same(results, _sequential(paths, "pytorch-py27"))


def test_import_stays_light_and_validate_many_is_exported() -> None:
    assert "validate_many" in modeltemplates.__all__
    assert modeltemplates.validate_many is validate_many


def test_cli_jobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _packages(tmp_path)[:5]
    assert main(["validate", "--format", "json", *paths]) == 1
    one = capsys.readouterr().out
    assert main(["validate", "--format", "json", "--jobs", "2", *paths]) == 1
    two = capsys.readouterr().out
    assert two == one
    assert len(json.loads(two)) >= 1
    assert main(["validate", "-j", "0", *paths]) == 1
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["validate", "--jobs", "-1", *paths])


def test_threads_parsing_their_first_files_at_once_agree() -> None:
    """Threads of one process (a thread pool, a Dask worker) start parsing together: the grammar
    tables are built once and every parse sees the same verdict (a fresh interpreter: cold tables)."""
    code = (
        "import concurrent.futures as cf, json\n"
        "from modeltemplates.inspect.pyparse import parse\n"
        "src = open('examples/pytorch-py27/model/customize_service.py', 'rb').read()\n"
        "def go(v):\n"
        "    r = parse(src, v)\n"
        "    return None if r.ok else r.error.describe()\n"
        "with cf.ThreadPoolExecutor(6) as ex:\n"
        "    print(json.dumps(list(ex.map(go, [(2, 7)] * 6 + [(3, 7)] * 6))))\n"
    )
    repo = Path(__file__).resolve().parents[1]
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              timeout=120, cwd=repo)
        assert json.loads(done.stdout) == [None] * 12  # the example is valid 2.7 and 3.7
