"""Packages in buckets, against a real S3-compatible server on 127.0.0.1 (see tests/s3server.py):
same findings and manifest as the folder, the same-region rule, and every fault of the issue."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

import modeltemplates
from modeltemplates.cli import main
from tests.builders import SERVICE_PY27, PackageBuilder, tiny_state_dict, torch_bytes
from tests.s3server import ACCESS_KEY, SECRET_KEY, S3Server

PY27 = modeltemplates.get_template("pytorch-py27")


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials from the environment, as users give them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _clean_proxy(s3: S3Server) -> Any:
    s3.proxy.clear()
    s3.proxy.stall_seconds = 30.0
    yield
    s3.proxy.clear()
    s3.proxy.require_auth = False
    s3.proxy.mutator = None


def build_package(root: Path) -> Path:
    b = PackageBuilder(root / "model")
    b.write("customize_service.py", SERVICE_PY27)
    b.write("resnet.pth", torch_bytes(tiny_state_dict()))
    b.write("labels.json", '["cat", "dog"]\n')
    b.write("utils/__init__.py", "")
    b.write("utils/prep.py", "def prep(x):\n    return x\n")
    return b.root


def archives(folder: Path, where: Path) -> dict[str, Path]:
    """The package folder as every archive kind the issue names."""
    out = {}
    out["zip"] = where / "pkg.zip"
    with zipfile.ZipFile(out["zip"], "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            zf.write(p, f"model/{p.relative_to(folder).as_posix()}")
    for kind, mode, name in (("tar", "w", "pkg.tar"), ("tar.gz", "w:gz", "pkg.tgz"),
                             ("tar.bz2", "w:bz2", "pkg.tar.bz2"), ("tar.xz", "w:xz", "pkg.tar.xz")):
        out[kind] = where / name
        with tarfile.open(out[kind], mode) as tf:
            tf.add(folder, arcname="model")
    # Recognised by content, not by name.
    shutil.copy(out["tar.gz"], where / "pkg.bin")
    out["tar.gz (no suffix)"] = where / "pkg.bin"
    return out


def comparable(report: modeltemplates.Report) -> list[tuple[str, str, str, int | None, str]]:
    """Findings but those saying where the package was read from and how (ARC014, REG002, LAY025)."""
    return [(f.rule, f.severity.value, f.path, f.line, f.message) for f in report.findings
            if f.rule not in ("ARC014", "REG002", "LAY025")]


def manifest_but_source(m: modeltemplates.Manifest) -> tuple[str, dict[str, Any]]:
    data = json.loads(m.to_json())
    source = data.pop("source")
    return json.dumps(data, sort_keys=True), source


def test_same_findings_and_manifest_from_folder_archives_and_buckets(
    tmp_path: Path, s3: S3Server, creds: None
) -> None:
    folder = build_package(tmp_path)
    base = PY27.validate(folder)
    assert base.ok
    base_manifest, base_source = manifest_but_source(PY27.build_manifest(folder))
    assert base_source == {"kind": "folder"}
    s3.upload_folder(folder, "mt-beijing", "same/proj/model")
    locations: dict[str, tuple[str, dict[str, Any]]] = {}
    for kind, path in archives(folder, tmp_path).items():
        locations[kind] = (str(path), {})
        s3.upload_file(path, "mt-beijing", f"same/archives/{path.name}")
    endpoint = {"endpoint_url": s3.endpoint}
    locations["s3"] = ("s3://mt-beijing/same/proj/model", endpoint)
    locations["obs"] = ("obs://mt-beijing/same/proj/model", {**endpoint, "region": "cn-north-4"})
    locations["s3 parent prefix"] = ("s3://mt-beijing/same/proj", endpoint)
    locations["zip in a bucket"] = ("s3://mt-beijing/same/archives/pkg.zip", endpoint)
    locations["tar.gz in a bucket"] = ("obs://mt-beijing/same/archives/pkg.tgz", {**endpoint, "region": "cn-north-4"})
    locations["file://"] = (folder.as_uri(), {})
    for name, (where, options) in locations.items():
        report = PY27.validate(where, **options)
        assert comparable(report) == comparable(base), name
        manifest, source = manifest_but_source(PY27.build_manifest(where, **options))
        assert manifest == base_manifest, name
        assert source["kind"] != "folder" or name == "file://", name
    assert manifest_but_source(PY27.build_manifest(locations["s3"][0], **endpoint))[1] == {
        "kind": "s3", "location": "s3://mt-beijing/same/proj/model"}


def test_region_rule(tmp_path: Path, s3: S3Server, creds: None) -> None:
    folder = build_package(tmp_path)
    s3.upload_folder(folder, "mt-singapore", "reg/model")
    s3.upload_folder(folder, "mt-beijing", "reg/model")
    wrong = PY27.validate("obs://mt-singapore/reg/model", region="cn-north-4", endpoint_url=s3.endpoint)
    assert not wrong.ok
    (f,) = wrong.by_rule("REG001")
    assert "ap-southeast-3" in f.message and "cn-north-4" in f.message
    right = PY27.validate("obs://mt-beijing/reg/model", region="cn-north-4", endpoint_url=s3.endpoint)
    assert right.ok and not right.by_rule("REG001")
    assert "cn-north-4" in right.by_rule("REG002")[0].message
    told = PY27.validate("s3://mt-singapore/reg/model", endpoint_url=s3.endpoint)
    assert told.ok and "ap-southeast-3" in told.by_rule("REG002")[0].message
    with pytest.raises(ValueError, match=r"known regions: .*cn-north-4"):
        PY27.validate("obs://mt-beijing/reg/model", region="moon-base-1")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_on_a_bucket_region_and_secret_never_shown(
    tmp_path: Path, s3: S3Server, creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = build_package(tmp_path)
    s3.upload_folder(folder, "mt-singapore", "cli/model")
    code, out, err = run(capsys, "validate", "obs://mt-singapore/cli/model", "--region", "cn-north-4",
                         "--endpoint-url", s3.endpoint)
    assert code == 1 and "REG001" in out
    code, out, err = run(capsys, "validate", "obs://mt-singapore/cli/model", "--region", "ap-southeast-3",
                         "--endpoint-url", s3.endpoint, "--format", "json")
    assert code == 0
    code, out2, err2 = run(capsys, "manifest", "s3://mt-singapore/cli/model", "--endpoint-url", s3.endpoint)
    assert code == 0 and json.loads(out2)["source"]["location"] == "s3://mt-singapore/cli/model"
    s3.proxy.inject("deny", count=100)
    code, out3, err3 = run(capsys, "validate", "s3://mt-singapore/cli/model", "--endpoint-url", s3.endpoint)
    assert code == 2
    for text in (out, err, out2, err2, out3, err3):
        assert SECRET_KEY not in text
    code, out, err = run(capsys, "validate", "obs://mt-beijing/cli/model", "--region", "mars-1")
    assert code == 2 and "unknown ModelArts region 'mars-1'" in out + err and "cn-north-4" in out + err


# -- faults: each one clear line, exit code 2 for access and connection errors, never a pass ----


@pytest.fixture
def uploaded(tmp_path: Path, s3: S3Server) -> str:
    folder = build_package(tmp_path)
    s3.upload_folder(folder, "mt-beijing", f"faults/{tmp_path.name}/model")
    return f"s3://mt-beijing/faults/{tmp_path.name}/model"


def fault_run(capsys: pytest.CaptureFixture[str], url: str, s3: S3Server, *more: str) -> tuple[int, str]:
    code, out, err = run(capsys, "validate", url, "--endpoint-url", s3.endpoint, "--format", "json", *more)
    text = (out + err).strip()
    assert "Traceback" not in text and SECRET_KEY not in text
    return code, text


def error_line(text: str) -> str:
    """The one error line of a package that could not be checked (JSON or text output)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    found = [p.get("error") for p in data.get("packages", [data])] if isinstance(data, dict) else []
    return str(found[0]) if found and found[0] else text


def test_no_credentials(s3: S3Server, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s3.upload_folder(build_package(tmp_path), "mt-beijing", "public/model", public=True)
    uploaded = "s3://mt-beijing/public/model"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # A public bucket: read anonymously.
    code, text = fault_run(capsys, uploaded, s3)
    assert code == 0, text
    # A private one: the server refuses unsigned requests.
    s3.proxy.require_auth = True
    code, text = fault_run(capsys, uploaded, s3)
    line = error_line(text)
    assert code == 2 and "no credentials were found" in line and "\n" not in line


def test_access_denied(uploaded: str, s3: S3Server, creds: None, capsys: pytest.CaptureFixture[str]) -> None:
    s3.proxy.inject("deny", count=100)
    code, text = fault_run(capsys, uploaded, s3)
    assert code == 2 and "access denied" in error_line(text)


@pytest.mark.parametrize(("url", "said"), [
    ("s3://mt-nowhere/x/model", "no such bucket"),
    ("s3://mt-beijing/no/such/prefix/model", "nothing there"),
])
def test_no_such_bucket_or_prefix(url: str, said: str, s3: S3Server, creds: None,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, text = fault_run(capsys, url, s3)
    assert code == 2 and said in error_line(text)


def test_empty_prefix(s3: S3Server, creds: None, capsys: pytest.CaptureFixture[str]) -> None:
    s3.client().put_object(Bucket="mt-beijing", Key="hollow/model/", Body=b"")
    code, text = fault_run(capsys, "s3://mt-beijing/hollow/model", s3)
    assert code == 2 and "nothing there" in error_line(text)


def test_unreachable_endpoint(creds: None, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = run(capsys, "validate", "s3://mt-beijing/x/model", "--endpoint-url", f"http://127.0.0.1:{port}",
                         "--timeout", "1")
    assert code == 2 and "cannot reach the endpoint" in out + err and "Traceback" not in out + err


def test_stalled_endpoint_times_out(uploaded: str, s3: S3Server, creds: None,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    s3.proxy.stall_seconds = 3
    s3.proxy.inject("stall", count=100)
    code, text = fault_run(capsys, uploaded, s3, "--timeout", "0.5")
    assert code == 2 and "cannot reach the endpoint" in error_line(text)


def test_throttling_backs_off_and_retries(uploaded: str, s3: S3Server, creds: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, calm = fault_run(capsys, uploaded, s3)
    s3.proxy.inject("slowdown", count=2)
    code, text = fault_run(capsys, uploaded, s3)
    assert code == 0 and json.loads(text)["findings"] == json.loads(calm)["findings"], text
    # A throttled HEAD has no body saying SlowDown: it is retried all the same.
    s3.proxy.inject("slowdown", count=2, method="HEAD")
    code, text = fault_run(capsys, uploaded, s3)
    assert code == 0 and json.loads(text)["findings"] == json.loads(calm)["findings"], text
    s3.proxy.inject("slowdown", count=100)
    code, text = fault_run(capsys, uploaded, s3)
    assert code == 2 and "throttling" in error_line(text)


def test_connection_dropped_mid_body(uploaded: str, s3: S3Server, creds: None,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    s3.proxy.inject("drop", count=1, match="resnet.pth", method="GET")
    code, text = fault_run(capsys, uploaded, s3)
    assert code == 0, text  # retried
    s3.proxy.inject("drop", count=100, match="resnet.pth", method="GET")
    code, text = fault_run(capsys, uploaded, s3)
    assert code == 2 and "cannot reach the endpoint" in error_line(text)


def test_object_changed_while_read_is_a_finding_never_a_mixed_report(
    uploaded: str, s3: S3Server, creds: None, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket, _, key = uploaded.removeprefix("s3://").partition("/")

    versions = iter(range(1, 10))

    def replace(path: str) -> None:  # a new upload, different bytes each time (so a new ETag)
        body = torch_bytes(tiny_state_dict()) + b"\0" * next(versions)
        s3.client().put_object(Bucket=bucket, Key=f"{key}/resnet.pth", Body=body)

    s3.proxy.mutator = replace
    s3.proxy.inject("mutate", count=1, match="resnet.pth", method="GET")
    report = PY27.validate(uploaded, endpoint_url=s3.endpoint)
    assert not report.ok
    assert [f.rule for f in report.findings] == ["REG004"] or {f.rule for f in report.findings} <= {"REG004", "REG002"}
    assert report.by_rule("REG004") and not report.facts.get("model_files")
    s3.proxy.inject("mutate", count=1, match="resnet.pth", method="GET")
    with pytest.raises((modeltemplates.ManifestError, modeltemplates.PackageInvalid)) as failed:
        PY27.build_manifest(uploaded, endpoint_url=s3.endpoint)
    if isinstance(failed.value, modeltemplates.PackageInvalid):
        assert failed.value.report.by_rule("REG004")
    else:
        assert "changed" in str(failed.value)


def test_truncated_archives(tmp_path: Path, s3: S3Server, creds: None, capsys: pytest.CaptureFixture[str]) -> None:
    folder = build_package(tmp_path)
    made = archives(folder, tmp_path)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(made["zip"].read_bytes()[:-200])
    s3.upload_file(cut, "mt-beijing", "cut/pkg.zip")
    code, text = fault_run(capsys, "s3://mt-beijing/cut/pkg.zip", s3)
    assert code == 2 and "not a readable zip archive" in error_line(text)
    cut_tgz = tmp_path / "cut.tgz"
    cut_tgz.write_bytes(made["tar.gz"].read_bytes()[: made["tar.gz"].stat().st_size * 2 // 3])
    report = PY27.validate(cut_tgz)
    assert not report.ok and report.by_rule("ARC013")


def test_a_prefix_holding_more_than_a_package_is_refused_not_listed_to_the_end(
        tmp_path: Path, s3: S3Server, creds: None) -> None:
    """A listing is bounded (RemoteOptions.max_objects): pointing at a bucket's root by mistake
    must not page through millions of keys into memory."""
    from modeltemplates.pipeline import inspect_package
    from modeltemplates.sources import SourceError
    from modeltemplates.sources.options import RemoteOptions

    s3.upload_folder(build_package(tmp_path), "mt-beijing", f"crowded/{tmp_path.name}/model")
    url = f"s3://mt-beijing/crowded/{tmp_path.name}"
    options = RemoteOptions.make(endpoint_url=s3.endpoint, max_objects=3)
    with pytest.raises(SourceError, match=r"more than 3 objects under this prefix.*RemoteOptions.max_objects"):
        inspect_package(PY27, url, remote=options)
    enough = RemoteOptions.make(endpoint_url=s3.endpoint, max_objects=5)  # the package's five files
    inspection = inspect_package(PY27, url, remote=enough)
    try:
        assert inspection.report.ok
    finally:
        assert inspection.package.source is not None
        inspection.package.source.close()


def test_reports_name_a_bucket_package_by_its_url(uploaded: str, s3: S3Server, creds: None,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", uploaded, "--endpoint-url", s3.endpoint, "--no-cache")
    assert code == 0 and out.splitlines()[0].startswith(f"PyTorch-py27: checking {uploaded} ("), out
    code, out, _ = run(capsys, "validate", uploaded.rpartition("/")[0], "--endpoint-url", s3.endpoint,
                       "--no-cache", "--format", "sarif", "--template", "pytorch-py27")
    results = json.loads(out)["runs"][0]["results"]  # LAY025 (the model/ child was checked), REG002
    assert {r["ruleId"] for r in results} >= {"LAY025"}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": uploaded} for r in results)
