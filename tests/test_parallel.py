"""Parsing a package's sources on several cores gives the verdicts of one core."""

from __future__ import annotations

import concurrent.futures as cf
from pathlib import Path

import pytest

from modeltemplates import get_template
from modeltemplates.pipeline import Settings
from modeltemplates.python import parallel
from tests.builders import PackageBuilder

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def free_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Act as if both cores were idle, whatever else the machine runs, and small files were big."""
    monkeypatch.setattr(parallel, "idle_cores", lambda: 8)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 4_000)


def _module(seed: int, size: int) -> str:
    """A plain module of about ``size`` bytes, valid as Python 2.7 and 3.7."""
    lines = []
    i = 0
    while sum(map(len, lines)) < size:
        lines.append(f"def f{seed}_{i}(a, b=({i}, 'x')):\n    return [a * k for k in range(b[0])] + [{{'k': b}}]\n")
        i += 1
    return "".join(lines)


def _big_package(root: Path) -> PackageBuilder:
    pkg = PackageBuilder(root / "model").valid()
    for i in range(5):
        pkg.write(f"vendor/mod{i}.py", _module(i, 3_000 + 500 * i))
    pkg.write("vendor/broken27.py", _module(9, 2_000) + "print f'{x}'\n")
    pkg.write("vendor/broken37.py", _module(8, 2_000) + "print 'x'\n")
    for snippet in sorted((DATA / "syntax_snippets").glob("*.py"))[:40]:
        pkg.write(f"vendor/snippets/{snippet.name}", snippet.read_bytes())
    return pkg


def test_plan_lanes_balances_bytes_and_keeps_the_pinned_file_here() -> None:
    assert parallel.plan_lanes([10, 50, 40, 30], 2) == [[1, 0], [2, 3]]
    assert parallel.plan_lanes([10, 50, 40, 30], 2, pinned=0) == [[0, 2, 3], [1]]
    assert parallel.plan_lanes([5], 3) == [[0]]


def test_worth_parallel() -> None:
    big = parallel.MIN_PARALLEL_BYTES
    assert parallel.worth_parallel([big, big], 2)
    assert not parallel.worth_parallel([big, big], 1)
    assert not parallel.worth_parallel([2 * big], 2)
    assert not parallel.worth_parallel([100, 200], 2)
    assert not parallel.worth_parallel([10 * big, big // 4], 2)  # one file holds nearly everything


@pytest.mark.parametrize("template_id", ["pytorch-py27", "pytorch-py37"])
def test_parallel_parse_gives_the_sequential_report(tmp_path: Path, free_cores: None, template_id: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = _big_package(tmp_path)
    template = get_template(template_id)
    one = template.validate(pkg.root, settings=Settings(parse_workers=1))
    started: list[int] = []
    real_pool = cf.ProcessPoolExecutor

    def counting_pool(*args: object, **kwargs: object) -> cf.ProcessPoolExecutor:
        started.append(1)
        return real_pool(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cf, "ProcessPoolExecutor", counting_pool)
    two = template.validate(pkg.root, settings=Settings(parse_workers=2))
    assert started, "the sources were not spread over processes"
    assert two == one
    assert two.to_json() == one.to_json()
    assert any(f.rule == "SRC001" for f in one.findings)
    assert "service" in two.facts  # the inference script's tree stayed in this process


def test_no_processes_means_one_lane(tmp_path: Path, free_cores: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = _big_package(tmp_path)
    template = get_template("pytorch-py27")
    one = template.validate(pkg.root, settings=Settings(parse_workers=1))

    def no_pool(*args: object, **kwargs: object) -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(cf, "ProcessPoolExecutor", no_pool)
    assert template.validate(pkg.root, settings=Settings(parse_workers=2)) == one


def test_lost_worker_lane_is_checked_here(tmp_path: Path, free_cores: None, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = _big_package(tmp_path)
    template = get_template("pytorch-py37")
    one = template.validate(pkg.root, settings=Settings(parse_workers=1))

    class Dying(cf.ThreadPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(2)

        def submit(self, fn: object, /, *args: object, **kwargs: object) -> cf.Future[object]:
            future: cf.Future[object] = cf.Future()
            future.set_exception(cf.process.BrokenProcessPool("killed"))
            return future

    monkeypatch.setattr(cf, "ProcessPoolExecutor", Dying)
    assert template.validate(pkg.root, settings=Settings(parse_workers=4)) == one


def test_busy_machine_parses_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (64.0, 64.0, 64.0))
    assert parallel.idle_cores() == 1
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert parallel.idle_cores() == parallel.usable_cores()
