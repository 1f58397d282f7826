"""CRC-32 of every zip member, verified when the bytes are read anyway (issue 8, requirement 7)."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

import modeltemplates
from modeltemplates.manifest import PackageInvalid
from modeltemplates.zipcrc import CrcChecker
from tests.builders import PackageBuilder, tiny_state_dict, torch_bytes


def _data_start(data: bytes, info: zipfile.ZipInfo) -> int:
    """Where a member's bytes start: after its local header (whose extra field torch pads)."""
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    return info.header_offset + 30 + name_len + extra_len


def _damaged_zip_model() -> bytes:
    """A real zip-format torch.save file with one bit flipped inside a tensor's storage member."""
    data = bytearray(torch_bytes(tiny_state_dict(), legacy=False))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = next(i for i in zf.infolist() if "/data/" in i.filename and i.file_size)
        offset = _data_start(bytes(data), info)
    data[offset + 1] ^= 0x10
    return bytes(data)


def _py37() -> modeltemplates.Template:
    return modeltemplates.get_template("pytorch-py37")


def test_checker_follows_chunks_across_member_boundaries() -> None:
    data = torch_bytes(tiny_state_dict(), legacy=False)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = []
        for i in zf.infolist():
            members.append({"name": i.filename, "offset": _data_start(data, i), "compressed_size": i.compress_size,
                            "compression": i.compress_type, "crc32": i.CRC})
    for size in (1, 7, 64, 4096, len(data)):
        checker = CrcChecker(members)
        for pos in range(0, len(data), size):
            checker.update(data[pos:pos + size])
        assert checker.mismatches() == ()
    bad = CrcChecker([{**members[-1], "crc32": members[-1]["crc32"] ^ 1}])
    bad.update(data)
    assert [m.member for m in bad.mismatches()] == [members[-1]["name"]]


def test_static_check_does_not_read_tensor_data_but_the_manifest_does(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("resnet50.pth", _damaged_zip_model())
    t = _py37()
    report = t.validate(pkg.root)
    assert not any("CRC" in f.message for f in report.findings)  # metadata only: tensor bytes unread
    # (torch 1.0 cannot read the zip format at all: MOD010, so the manifest needs allow_errors)
    errors_before = report.counts()["error"]
    manifest = t.build_manifest(pkg.root, allow_errors=True)
    assert manifest.validation["error"] == errors_before + 1
    with pytest.raises(PackageInvalid) as caught:
        t.build_manifest(pkg.root)
    assert not any("CRC" in f.message for f in caught.value.report.findings)  # refused before hashing


def test_intact_zip_model_has_no_crc_finding(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("resnet50.pth", torch_bytes(tiny_state_dict(), legacy=False))
    t = _py37()
    assert t.build_manifest(pkg.root, allow_errors=True).validation == t.validate(pkg.root).counts() | {}


def test_crc_findings_name_the_member(pkg: PackageBuilder) -> None:
    from modeltemplates.manifest import crc_findings, zip_crc_checkers

    pkg.valid()
    data = _damaged_zip_model()
    pkg.write("resnet50.pth", data)
    inspection = _py37().inspect(pkg.root)
    checkers = zip_crc_checkers(inspection.model_facts)
    checkers["resnet50.pth"].update(data)
    (f,) = crc_findings(checkers)
    assert f.rule == "MOD002" and f.severity.value == "error" and "/data/" in f.message and "CRC-32" in f.message


def test_deep_pass_verifies_crc_of_the_file_it_reads(pkg: PackageBuilder) -> None:
    from modeltemplates.pipeline import _verify_crc

    pkg.valid()
    pkg.write("resnet50.pth", _damaged_zip_model())
    inspection = _py37().inspect(pkg.root)
    entry = inspection.package.get("resnet50.pth")
    assert entry is not None
    (f,) = _verify_crc(inspection.package, entry, inspection.model_facts["resnet50.pth"])
    assert f.rule == "MOD002" and "CRC-32" in f.message
