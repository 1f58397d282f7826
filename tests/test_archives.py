"""Archive rules (ARC...) on real zip and tar files built here, member by member."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

import modeltemplates
from modeltemplates.cli import main
from modeltemplates.pipeline import Settings
from modeltemplates.sources import ArchiveLimits
from tests.builders import SERVICE_PY27, tiny_state_dict, torch_bytes

PY27 = modeltemplates.get_template("pytorch-py27")


def good_members() -> dict[str, bytes]:
    return {
        "model/customize_service.py": SERVICE_PY27.encode(),
        "model/resnet.pth": torch_bytes(tiny_state_dict()),
        "model/labels.json": b'["cat", "dog"]\n',
    }


def make_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def make_tar(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tf:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tf.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tf.addfile(info, io.BytesIO(m[1]))
    return path


def rules(report: modeltemplates.Report) -> set[str]:
    return {f.rule for f in report.findings}


def test_a_good_archive_says_only_that_the_platform_imports_a_folder(tmp_path: Path) -> None:
    report = PY27.validate(make_zip(tmp_path / "ok.zip", good_members()))
    assert report.ok
    (advice,) = report.by_rule("ARC014")
    assert "obsutil cp -r -f model obs://" in advice.hint  # type: ignore[operator]
    assert report.facts["package"]["source"] == "zip"


def test_names_that_escape_or_use_backslashes(tmp_path: Path) -> None:
    members = good_members() | {"../evil.py": b"x", "/etc/cron.d/x": b"x", "C:/win.ini": b"x",
                                "model/..\\..\\up.py": b"x", "model/a/../../../out.txt": b"x"}
    report = PY27.validate(make_zip(tmp_path / "bad.zip", members))
    escaped = {f.path for f in report.by_rule("ARC001")}
    assert escaped == {"../evil.py", "/etc/cron.d/x", "C:/win.ini", "a/../../../out.txt"}  # package-relative
    assert [f.path for f in report.by_rule("ARC002")] == ["..\\..\\up.py"]
    assert not report.ok


def test_duplicates_links_devices(tmp_path: Path) -> None:
    sym_out = tarfile.TarInfo("model/passwd")
    sym_out.type, sym_out.linkname = tarfile.SYMTYPE, "../../etc/passwd"
    sym_in = tarfile.TarInfo("model/labels-link.json")
    sym_in.type, sym_in.linkname = tarfile.SYMTYPE, "labels.json"
    hard = tarfile.TarInfo("model/copy.json")
    hard.type, hard.linkname = tarfile.LNKTYPE, "model/labels.json"
    hard_out = tarfile.TarInfo("model/shadow")
    hard_out.type, hard_out.linkname = tarfile.LNKTYPE, "/etc/shadow"
    dev = tarfile.TarInfo("model/null")
    dev.type = tarfile.CHRTYPE
    fifo = tarfile.TarInfo("model/pipe")
    fifo.type = tarfile.FIFOTYPE
    members: list[tarfile.TarInfo | tuple[str, bytes]] = list(good_members().items())
    members += [("model/labels.json", b"[]"), sym_out, sym_in, hard, hard_out, dev, fifo]
    report = PY27.validate(make_tar(tmp_path / "links.tar", members))
    assert [f.path for f in report.by_rule("ARC003")] == ["labels.json"]
    assert {f.path for f in report.by_rule("ARC004")} == {"passwd", "shadow"}
    assert [f.path for f in report.by_rule("ARC005")] == ["copy.json"]
    assert {f.path for f in report.by_rule("ARC006")} == {"null", "pipe"}
    assert {f.path for f in report.by_rule("LAY011")} == {"passwd", "labels-link.json"}  # links, as in a folder
    manifest = PY27.build_manifest(tmp_path / "links.tar", allow_errors=True)
    by_path = {f.path: f for f in manifest.files}
    assert by_path["copy.json"].sha256 == by_path["labels.json"].sha256  # the hard link reads as its target


def test_encrypted_member(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "enc.zip", good_members(), zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    name = b"model/labels.json"
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local header and central directory
        at = 0
        while (at := data.find(sig, at)) >= 0:
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                data[at + flag_at] |= 0x1
            at += 4
    path.write_bytes(bytes(data))
    report = PY27.validate(path)
    assert [f.path for f in report.by_rule("ARC007")] == ["labels.json"]


def test_size_ratio_and_count_bombs_are_bounded(tmp_path: Path) -> None:
    members = good_members() | {"model/zeros.bin": bytes(20 << 20)}
    bomb = make_zip(tmp_path / "bomb.zip", members)
    assert bomb.stat().st_size < 1 << 20
    report = PY27.validate(bomb)
    assert [f.path for f in report.by_rule("ARC009")] == ["zeros.bin"]
    tgz = make_tar(tmp_path / "bomb.tgz", list(members.items()), "w:gz")
    assert PY27.validate(tgz).by_rule("ARC009")
    small = Settings(archive=ArchiveLimits(max_total_bytes=1000, max_members=2))
    report = PY27.validate(make_zip(tmp_path / "ok.zip", good_members()), settings=small)
    assert report.by_rule("ARC008") and report.by_rule("ARC010") and not report.ok


def test_top_folder_nested_archives(tmp_path: Path) -> None:
    flat = {name.removeprefix("model/"): data for name, data in good_members().items()}
    report = PY27.validate(make_zip(tmp_path / "flat.zip", flat))
    assert report.by_rule("ARC011") and report.ok  # checked as the model folder it unpacks into
    nested = {f"proj/v1/{name}": data for name, data in good_members().items()}
    report = PY27.validate(make_zip(tmp_path / "nested.zip", nested))
    assert report.by_rule("ARC011") and "proj/v1/model" in report.by_rule("LAY001")[0].message
    inner = make_zip(tmp_path / "inner.zip", {"a.txt": b"a"})
    report = PY27.validate(make_zip(tmp_path / "outer.zip", good_members() | {"model/data.zip": inner.read_bytes()}))
    assert [f.path for f in report.by_rule("ARC012")] == ["data.zip"]


def test_recognised_by_content_and_not_archives_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "package.dat"
    odd.write_bytes(make_zip(tmp_path / "x.zip", good_members()).read_bytes())
    assert PY27.validate(odd).ok
    for name, data in (("notes.txt", b"hello"), ("fake.zip", b"PK\x03\x04 not really"), ("x.gz", b"\x1f\x8bjunk")):
        path = tmp_path / name
        path.write_bytes(data)
        code = main(["validate", str(path)])
        out, err = capsys.readouterr()
        assert code == 2 and "Traceback" not in out + err, name
        assert "zip" in out + err or "archive" in out + err


def test_compressed_tar_kinds_hash_in_one_pass(tmp_path: Path) -> None:
    for mode, name in (("w:gz", "p.tgz"), ("w:bz2", "p.tbz2"), ("w:xz", "p.txz")):
        path = make_tar(tmp_path / name, list(good_members().items()), mode)
        manifest = PY27.build_manifest(path)
        assert manifest.source == {"kind": "tar." + mode[2:], "location": name}


def test_any_fsspec_url_memory(tmp_path: Path) -> None:
    """A package on an fsspec filesystem other than S3 (memory://) gives the folder's findings and manifest."""
    fsspec = pytest.importorskip("fsspec")
    folder = tmp_path / "model"
    members = good_members()
    for name, data in members.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    mem = fsspec.filesystem("memory")
    for name, data in members.items():
        mem.pipe(f"/mt-test/{tmp_path.name}/{name}", data)
    url = f"memory://mt-test/{tmp_path.name}/model"
    assert [f.rule for f in PY27.validate(url).findings] == [f.rule for f in PY27.validate(folder).findings]
    remote = PY27.build_manifest(url).to_dict()
    local = PY27.build_manifest(folder).to_dict()
    assert remote.pop("source") == {"kind": "memory", "location": url}
    local.pop("source")
    assert remote == local
    mem.rm(f"/mt-test/{tmp_path.name}", recursive=True)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit"])
def test_command_line_reads_a_zip_archive_to_the_end(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     fmt: str) -> None:
    """The CLI applies suppression comments after inspecting: the archive must still be open then
    (it used to be closed first: 'seek of closed file', exit 2, for every .zip)."""
    members = good_members()
    members["model/customize_service.py"] += (
        b"\n    def _inference(self, data):  # modeltemplates: ignore[SVC006]\n        return data\n")
    archive = make_zip(tmp_path / "ok.zip", members)
    for args in (["validate", str(archive)], ["validate", str(archive), "-t", "pytorch-py27", "--format", fmt]):
        code = main(args)
        out, err = capsys.readouterr()
        assert code == 0, (args, out, err)
        assert "closed file" not in out + err and "Traceback" not in out + err
        assert "SVC006" not in out or args[-1] != "text"  # suppressed by the comment read from the archive
    assert main(["manifest", str(archive)]) == 0
    assert '"model_type": "PyTorch"' in capsys.readouterr().out


@pytest.mark.parametrize(("mode", "name", "unpack", "pack"), [
    ("w", "p.tar", "tar xf ../p.tar", "tar cf pkg.tar model"),
    ("w:gz", "p.tgz", "tar xf ../p.tgz", "tar czf pkg.tar.gz model"),
    ("w:bz2", "p.tar.bz2", "tar xf ../p.tar.bz2", "tar cjf pkg.tar.bz2 model"),
    ("w:xz", "p.tar.xz", "tar xf ../p.tar.xz", "tar cJf pkg.tar.xz model"),
    (None, "p.zip", "unzip ../p.zip", "zip -r pkg.zip model"),
])
def test_hints_give_the_commands_of_the_archive_kind(tmp_path: Path, mode: str | None, name: str, unpack: str,
                                                     pack: str) -> None:
    flat = {k.removeprefix("model/"): v for k, v in good_members().items()}
    archive = (make_zip(tmp_path / name, flat) if mode is None
               else make_tar(tmp_path / name, list(flat.items()), mode))
    report = PY27.validate(archive)
    (given,) = report.by_rule("ARC014")
    (top,) = report.by_rule("ARC011")
    assert unpack in (given.hint or "") and pack in (top.hint or "")
    other = "tar" if mode is None else "unzip"
    assert other not in (given.hint or "") + (top.hint or "")


def test_header_of_an_archive_with_the_package_at_its_top(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flat = {k.removeprefix("model/"): v for k, v in good_members().items()}
    archive = make_zip(tmp_path / "flat.zip", flat)
    assert main(["validate", str(archive), "--no-cache", "--template", "pytorch-py27"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (f"PyTorch-py27: checking model (the top level of {archive}, as the `model` folder it "
                     "unpacks into)"), first


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "soon"])
def test_timeout_must_be_a_positive_number_of_seconds(tmp_path: Path, value: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    archive = make_zip(tmp_path / "ok.zip", good_members())
    with pytest.raises(SystemExit) as stop:
        main(["validate", str(archive), "--timeout", value])
    assert stop.value.code == 2 and "--timeout" in capsys.readouterr().err
