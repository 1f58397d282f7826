"""Shared fixtures: real package folders built in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.builders import PackageBuilder

if TYPE_CHECKING:
    from tests.s3disk import DiskS3Server
    from tests.s3server import S3Server

#: Reference data committed with the tests (see tests/data/README.md for where each part comes from).
DATA = Path(__file__).resolve().parent / "data"
#: What the real runtimes said about real files: labels.json, models/, sources/.
FIDELITY = DATA / "fidelity"
#: Extracts of the platform's documentation (template pages, specs, example scripts).
REFERENCE = DATA / "reference" / "modelarts"
#: The folder that holds ``fidelity/`` and ``reference/``; the name older tests use for it.
SHARED = DATA


@pytest.fixture
def pkg(tmp_path: Path) -> PackageBuilder:
    """A fresh ``model/`` folder builder under tmp_path."""
    return PackageBuilder(tmp_path / "model")


@pytest.fixture(autouse=True, scope="session")
def _result_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CLI's result cache goes to a temporary folder, never the user's (MODELTEMPLATES_CACHE)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("MODELTEMPLATES_CACHE", str(tmp_path_factory.mktemp("result-cache")))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """A real S3-compatible server (moto) on 127.0.0.1 behind a counting, fault-injecting proxy,
    with a bucket in cn-north-4 and one in ap-southeast-3."""
    pytest.importorskip("moto.server", reason="moto[server] (test extra) is not installed")
    pytest.importorskip("s3fs", reason="s3fs (obs extra) is not installed")
    from tests.s3server import start

    yield from start()


@pytest.fixture(scope="session")
def s3disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DiskS3Server]:
    """A small S3-compatible server on 127.0.0.1 serving a folder from disk (tests/s3disk.py): large
    objects are files written into a bucket's folder, ranges are streamed from them. It counts the
    requests and bytes it sends. Buckets as for ``s3``."""
    pytest.importorskip("s3fs", reason="s3fs (obs extra) is not installed")
    from tests.s3disk import start

    yield from start(tmp_path_factory.mktemp("s3disk"))
