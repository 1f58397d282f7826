"""--deep on packages that are not folders: the model file is streamed to torch, never unpacked."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import pytest

import modeltemplates
from modeltemplates.pipeline import Settings
from modeltemplates.templates.modelarts import PyTorchPy37
from tests.builders import SERVICE_PY27, tiny_state_dict, torch_bytes
from tests.test_archives import make_tar, make_zip

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow  # each deep check starts an interpreter that imports torch

PY37 = modeltemplates.get_template("pytorch-py37")


def members(model: bytes) -> dict[str, bytes]:
    return {"model/customize_service.py": SERVICE_PY27.encode(), "model/resnet.pth": model}


def rules(report: modeltemplates.Report) -> set[str]:
    return {f.rule for f in report.findings}


@pytest.mark.parametrize("legacy", [False, True], ids=["zip-format", "legacy-format"])
@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_a_model_in_an_archive_is_loaded_by_torch(tmp_path: Path, kind: str, legacy: bool) -> None:
    data = members(torch_bytes(tiny_state_dict(), legacy=legacy))
    archive = (make_zip(tmp_path / "p.zip", data) if kind == "zip"
               else make_tar(tmp_path / "p.tgz", list(data.items()), "w:gz"))
    report = PY37.validate(archive, deep=True)
    assert not rules(report) & {"MOD030", "MOD031", "MOD032", "MOD033", "MOD036"}, report.findings
    assert not any(p.name != archive.name for p in tmp_path.iterdir()), "nothing is unpacked to disk"


def test_what_torch_loads_is_compared_with_the_metadata(tmp_path: Path) -> None:
    """A streamed file goes through the same comparison: a tensor torch finds under another name than
    the static reader did is MOD032 (the reader's facts are altered here to stand for a crafted file)."""
    from modeltemplates.deepcheck import deep_check
    from modeltemplates.inspect.torchfile import read_torch_file

    data = torch_bytes(tiny_state_dict())
    path = tmp_path / "m.pth"
    path.write_bytes(data)
    with path.open("rb") as fh:
        facts = read_torch_file(fh, len(data)).to_dict()
    facts["tensors"][0]["name"] = "renamed"
    found = deep_check(lambda: path.open("rb"), facts, timeout=120, path="resnet.pth")
    assert {f.rule for f in found} == {"MOD032"} and all(f.path == "resnet.pth" for f in found)


def test_a_damaged_zip_member_in_an_archive_is_found_on_the_same_pass(tmp_path: Path) -> None:
    """torch 2.x does not check CRC-32 on load; the tee on the stream does (MOD002 names the member)."""
    data = bytearray(torch_bytes(tiny_state_dict(), legacy=False))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = next(i for i in zf.infolist() if "/data/" in i.filename)
    head = info.header_offset  # the local header's own name and extra lengths (torch pads the extra)
    at = head + 30 + int.from_bytes(data[head + 26:head + 28], "little") + int.from_bytes(
        data[head + 28:head + 30], "little") + 1
    data[at] ^= 0xFF  # a flipped weight byte: the file still loads, its CRC no longer matches
    archive = make_tar(tmp_path / "p.tar", list(members(bytes(data)).items()))
    report = PY37.validate(archive, deep=True)
    assert any(f.rule == "MOD002" and info.filename.split("/", 1)[1] in f.message for f in report.findings), \
        report.findings


def test_a_file_over_the_streaming_bound_is_reported_not_checked(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "p.zip", members(torch_bytes(tiny_state_dict())))
    report = PY37.validate(archive, deep=True, settings=Settings(deep_stream_limit=100))
    (finding,) = report.by_rule("MOD036")
    assert finding.path == "resnet.pth" and "deep_stream_limit = 100" in finding.message
    assert finding.severity.value == "warning" and not report.by_rule("MOD032")


def test_a_template_whose_deep_check_needs_a_file_on_disk(tmp_path: Path) -> None:
    """A plugin that does not declare deep_check_streams never receives an opener."""
    calls: list[Any] = []

    class DiskOnly(PyTorchPy37):
        id = "test-disk-only-deep"
        title = "disk only"
        aliases: ClassVar[tuple[str, ...]] = ()
        deep_check_streams = False

        def deep_check_model_file(self, file_path: Any, facts: Any, timeout: float, *, path: str = "") -> tuple[
                modeltemplates.Finding, ...]:
            calls.append(file_path)
            return ()

    template = DiskOnly()
    archive = make_zip(tmp_path / "p.zip", members(torch_bytes(tiny_state_dict())))
    report = template.validate(archive, deep=True)
    (finding,) = report.by_rule("MOD036")
    assert "loads files from disk" in finding.message and calls == []
    folder = tmp_path / "model"
    folder.mkdir()
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            (tmp_path / name).write_bytes(zf.read(name))
    assert not template.validate(folder, deep=True).by_rule("MOD036")
    assert calls == [str(folder / "resnet.pth")]


def test_memory_url_package_is_streamed(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for name, data in members(torch_bytes(tiny_state_dict(), legacy=True)).items():
        fs.pipe(f"/deep-stream/{name}", data)
    try:
        report = PY37.validate("memory://deep-stream/model", deep=True)
        assert not rules(report) & {"MOD030", "MOD031", "MOD032", "MOD033", "MOD036"}, report.findings
    finally:
        fs.rm("/deep-stream", recursive=True)

