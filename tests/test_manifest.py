"""Hashing and the manifest: streamed, parallel, deterministic to the byte."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pytest

import modeltemplates
from modeltemplates.manifest import HASH_CHUNK, PackageInvalid, hash_files, sha256_file, sha256_stream
from modeltemplates.package import open_package
from tests.builders import PackageBuilder


def test_hash_of_a_file_larger_than_the_read_buffer_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 * HASH_CHUNK + 12345)
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    assert sha256_file(p) == (hashlib.sha256(data).hexdigest(), len(data))


def test_stream_hash_with_small_chunks() -> None:
    data = b"abc" * 1000
    assert sha256_stream(io.BytesIO(data), chunk=7)[0] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_hash_files_sorted_and_identical_for_any_worker_count(pkg: PackageBuilder, workers: int) -> None:
    for i in range(80):
        pkg.write(f"d{i % 3}/f{i:03d}.bin", os.urandom(i * 97))
    pkg.write("big1.bin", b"\1" * (2 << 20))
    pkg.write("big2.bin", b"\2" * (2 << 20))
    package = open_package(pkg.root)
    records = hash_files(package, list(package.files()), workers=workers)
    assert [r.path for r in records] == sorted(r.path for r in records)
    for r in records:
        assert r.sha256 == hashlib.sha256(pkg.path(r.path).read_bytes()).hexdigest()
    assert records == hash_files(package, list(package.files()), workers=1)


def test_manifest_is_byte_identical_across_runs_and_copies(pkg: PackageBuilder, tmp_path: Path) -> None:
    pkg.valid()
    pkg.write("__pycache__/x.pyc", b"ignored")
    t = modeltemplates.get_template("pytorch-py27")
    first = t.build_manifest(pkg.root).to_json()
    assert t.build_manifest(pkg.root, workers=1).to_json() == first
    # the same package elsewhere, reached through its parent folder
    copy = PackageBuilder(tmp_path / "elsewhere" / "model")
    for rel in ("resnet50.pth", "customize_service.py", "labels.json"):
        copy.write(rel, pkg.path(rel).read_bytes())
    assert t.build_manifest(tmp_path / "elsewhere").to_json() == first


def test_manifest_content(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write(".DS_Store", b"junk")
    manifest = modeltemplates.get_template("PyTorch-py27").build_manifest(pkg.root)
    data = json.loads(manifest.to_json())
    assert data["schema_version"] == 1
    assert data["template"] == "pytorch-py27"
    assert data["engine"] == {"name": "PyTorch", "version": "1.0"}
    assert data["runtime"] == "python2.7"
    assert data["io_mode"] == "undefined"
    assert data["config"]["model_type"] == "PyTorch"
    assert data["config"]["runtime"] == "python2.7"
    assert [f["path"] for f in data["files"]] == ["customize_service.py", "labels.json", "resnet50.pth"]
    model = pkg.path("resnet50.pth").read_bytes()
    assert data["files"][2] == {"path": "resnet50.pth", "size": len(model),
                                "sha256": hashlib.sha256(model).hexdigest()}
    assert data["model_file"]["path"] == "resnet50.pth"
    assert data["totals"]["files"] == 3


def test_manifest_io_mode_override_writes_the_modes_apis(pkg: PackageBuilder) -> None:
    pkg.valid()
    t = modeltemplates.get_template("pytorch-py27")
    data = json.loads(t.build_manifest(pkg.root, io_mode="image_processing").to_json())
    assert data["io_mode"] == "image_processing"
    (api,) = data["config"]["apis"]
    assert api["url"] == "/"
    assert api["request"]["Content-type"] == "multipart/form-data"


def test_manifest_refuses_a_broken_package_unless_allowed(pkg: PackageBuilder) -> None:
    pkg.write("customize_service.py", "print 'no model'\n")
    t = modeltemplates.get_template("pytorch-py27")
    with pytest.raises(PackageInvalid) as info:
        t.build_manifest(pkg.root)
    assert info.value.report.by_rule("LAY002")
    manifest = t.build_manifest(pkg.root, allow_errors=True)
    assert manifest.validation["error"] >= 1
    assert manifest.model_file is None


def test_manifest_never_writes_into_the_package(pkg: PackageBuilder) -> None:
    pkg.valid()
    before = sorted(p.name for p in pkg.root.rglob("*"))
    modeltemplates.get_template("pytorch-py27").build_manifest(pkg.root)
    assert sorted(p.name for p in pkg.root.rglob("*")) == before


@pytest.mark.parametrize("mode", ["undefined", "object_detection", "image_processing", "predictive_analytics"])
@pytest.mark.parametrize("template_id", ["pytorch-py27", "pytorch-py37"])
def test_manifest_config_validates_against_the_published_schema(
    pkg: PackageBuilder, mode: str, template_id: str
) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "docs" / "config-schema.json").read_text())
    pkg.valid()
    config = modeltemplates.get_template(template_id).build_manifest(pkg.root, io_mode=mode).config
    jsonschema.Draft202012Validator(schema).validate(dict(config))
    # and the config the template stands for passes the template's own config.json checks
    pkg.write("config.json", json.dumps(dict(config)))
    assert modeltemplates.get_template(template_id).validate(pkg.root, io_mode=mode).ok


def test_progress_callback_sees_every_hashed_byte_in_order(pkg: PackageBuilder) -> None:
    import threading

    from modeltemplates import Progress

    pkg.write("a.bin", b"a" * (3 << 20))
    pkg.write("b.bin", b"b" * (2 << 20) + b"c")
    pkg.write("c.txt", b"small")
    package = open_package(pkg.root)
    seen: list[Progress] = []
    busy = threading.Lock()

    def record(p: Progress) -> None:
        assert busy.acquire(blocking=False), "two progress calls at once"
        seen.append(p)
        busy.release()

    records = hash_files(package, list(package.files()), workers=4, progress=record)
    total = sum(r.size for r in records)
    assert seen[0] == Progress("hash", 0, total, None)
    assert seen[-1] == Progress("hash", total, total, None)
    dones = [p.done for p in seen]
    assert dones == sorted(dones)
    assert {p.path for p in seen[1:-1]} == {"a.bin", "b.bin", "c.txt"}
