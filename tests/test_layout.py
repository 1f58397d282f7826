"""Every layout rule, on real folders (check_layout works from the inventory alone)."""

from __future__ import annotations

import os
from pathlib import Path

from modeltemplates.checks.layout import LayoutResult, check_layout
from modeltemplates.package import Limits, open_package
from modeltemplates.runtime import Runtime
from modeltemplates.templates.modelarts import PyTorchPy27
from tests.builders import PackageBuilder

PY27 = Runtime("PyTorch", "1.0", "2.7")
PY37 = Runtime("PyTorch", "1.0", "3.7")


def run(path: Path, runtime: Runtime = PY27, limits: Limits | None = None) -> LayoutResult:
    return check_layout(open_package(path, limits), PyTorchPy27.layout, runtime)


def rules(result: LayoutResult) -> list[tuple[str, str]]:
    return sorted((f.rule, f.path) for f in result.findings)


def test_clean_package_has_no_layout_findings(pkg: PackageBuilder) -> None:
    pkg.write("resnet50.pth", b"x")
    pkg.write("customize_service.py", "")
    pkg.write("config.json", "{}")
    pkg.write("helper.py", "")
    pkg.write("mylib/__init__.py", "")
    pkg.write("mylib/ops.py", "")
    result = run(pkg.root)
    assert result.findings == ()
    assert [e.path for e in result.model_files] == ["resnet50.pth"]
    assert result.inference_script is not None and result.config_file is not None
    assert result.helper_modules == ("helper",)
    assert result.custom_packages == ("mylib",)


def test_lay001_folder_not_named_model(tmp_path: Path) -> None:
    b = PackageBuilder(tmp_path / "resnet")
    b.write("resnet50.pth", b"x")
    b.write("V001/model/a.pth", b"x")
    result = run(b.root)
    (root,) = [f for f in result.findings if f.rule == "LAY001"]
    assert "V001/model" in root.message and root.path == ""


def test_lay002_no_model_file_and_lay004_nested(pkg: PackageBuilder) -> None:
    pkg.write("weights/resnet50.pth", b"x")
    assert rules(run(pkg.root)) == [("LAY002", ""), ("LAY004", "weights/resnet50.pth")]


def test_lay003_several_model_files(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("b.pt", b"x")
    assert rules(run(pkg.root)) == [("LAY003", "a.pth"), ("LAY003", "b.pt")]


def test_model_suffix_is_case_insensitive_but_needs_a_stem(pkg: PackageBuilder) -> None:
    pkg.write("RESNET.PTH", b"x")
    pkg.write(".pth", b"x")
    assert [e.path for e in run(pkg.root).model_files] == ["RESNET.PTH"]


def test_lay005_script_not_at_top(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("src/customize_service.py", "")
    result = run(pkg.root)
    assert ("LAY005", "src/customize_service.py") in rules(result)
    assert result.inference_script is None


def test_lay006_several_scripts_each_reported_once(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("customize_service.py", "")
    pkg.write("V001/customize_service.py", "")
    pkg.write("V002/customize_service.py", "")
    found = [r for r in rules(run(pkg.root)) if r[0] == "LAY006"]
    assert found == [("LAY006", "V001/customize_service.py"), ("LAY006", "V002/customize_service.py")]


def test_lay007_misnamed_script_and_folder_of_that_name(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("Customize_Service.py", "")
    pkg.write("customize-service.py", "")
    pkg.mkdir("customize_service.py")
    pkg.write("customize_service.py/x.txt", "")
    found = sorted(r for r in rules(run(pkg.root)) if r[0] == "LAY007")
    assert found == [
        ("LAY007", "Customize_Service.py"),
        ("LAY007", "customize-service.py"),
        ("LAY007", "customize_service.py"),
    ]
    assert all(f.severity.value == "error" for f in run(pkg.root).findings if f.rule == "LAY007")


def test_near_miss_is_only_a_warning_when_the_real_script_exists(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("customize_service.py", "")
    pkg.write("customize_services.py", "")
    (f,) = [f for f in run(pkg.root).findings if f.rule == "LAY007"]
    assert f.severity.value == "warning"


def test_helper_modules_with_similar_names_are_not_flagged(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("customize_utils.py", "")
    pkg.write("service.py", "")
    assert run(pkg.root).findings == ()


def test_lay008_config_misnamed_or_nested(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("Config.json", "{}")
    pkg.write("old/config.json", "{}")
    assert sorted(r for r in rules(run(pkg.root)) if r[0] == "LAY008") == [
        ("LAY008", "Config.json"), ("LAY008", "old/config.json")]


def test_lay009_empty_folder(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.mkdir("cache")
    assert rules(run(pkg.root)) == [("LAY009", "cache")]


def test_lay010_unreadable(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    locked = pkg.write("labels.json", "[]")
    locked.chmod(0)
    try:
        assert rules(run(pkg.root)) == [("LAY010", "labels.json")]
    finally:
        locked.chmod(0o644)


def test_lay011_symlinks_inside_and_escaping(pkg: PackageBuilder, tmp_path: Path) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("labels.json", "[]")
    pkg.symlink("inside.json", "labels.json")
    pkg.symlink("escape", str(tmp_path))
    pkg.symlink("sub/up", "../../..")
    pkg.symlink("dangling", "nowhere")
    result = run(pkg.root)
    by_path = {f.path: f.severity.value for f in result.findings if f.rule == "LAY011"}
    assert by_path == {"inside.json": "warning", "escape": "error", "sub/up": "error", "dangling": "error"}


def test_lay012_special_files(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    os.mkfifo(pkg.path("fifo"))
    assert rules(run(pkg.root)) == [("LAY012", "fifo")]


def test_lay013_non_utf8_name(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    with open(os.fsencode(pkg.root) + b"/\xff\xfe.txt", "wb"):
        pass
    assert rules(run(pkg.root)) == [("LAY013", "\\xff\\xfe.txt")]


def test_lay014_junk_not_ignored_but_default_junk_is(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("__pycache__/m.cpython-37.pyc", b"")
    pkg.write("._a.pth", b"")
    pkg.write(".idea/workspace.xml", "")
    pkg.write("customize_service.py.orig", "")
    found = {f.path: f.hint for f in run(pkg.root).findings if f.rule == "LAY014"}
    assert set(found) == {".idea", "customize_service.py.orig"}
    assert "'.idea/'" in found[".idea"] and "'*.orig'" in found["customize_service.py.orig"]


def test_lay015_nested_package(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("V002/b.pth", b"x")
    pkg.write("V002/customize_service.py", "")
    pkg.write("other/model/c.pth", b"x")
    found = {f.path for f in run(pkg.root).findings if f.rule == "LAY015"}
    assert found == {"V002", "other/model"}


def test_lay016_bad_ignore_line(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write(".modelignore", "ok.txt\n!\n")
    (f,) = run(pkg.root).findings
    assert (f.rule, f.path, f.line) == ("LAY016", ".modelignore", 2)


def test_lay017_limits(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    for i in range(20):
        pkg.write(f"d{i}.txt", "")
    result = run(pkg.root, limits=Limits(max_entries=5))
    assert ("LAY017", "") in rules(result)
    # A limit of this tool, not of the platform: "not checked", a warning naming the setting to raise.
    (f,) = [f for f in result.findings if f.rule == "LAY017"]
    assert f.severity.value == "warning" and "not checked" in f.message and "max_entries" in f.hint


def test_lay018_no_init_only_on_python2(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("utils/ops.py", "")
    assert rules(run(pkg.root, PY27)) == [("LAY018", "utils")]
    assert rules(run(pkg.root, PY37)) == []


def test_lay019_bundled_distributions(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("wheels/numpy-1.16.4-cp27-cp27mu-manylinux1_x86_64.whl", b"PK")
    pkg.write("site-packages/six.py", "")
    found = {r for r in rules(run(pkg.root, PY37)) if r[0] == "LAY019"}
    assert found == {("LAY019", "wheels/numpy-1.16.4-cp27-cp27mu-manylinux1_x86_64.whl"), ("LAY019", "site-packages")}


def test_a_broken_package_reports_every_problem_once(pkg: PackageBuilder, tmp_path: Path) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("b.pth", b"x")
    pkg.write("Customize_Service.py", "")
    pkg.mkdir("empty")
    pkg.symlink("escape", str(tmp_path))
    os.mkfifo(pkg.path("fifo"))
    findings = run(pkg.root).findings
    keys = [(f.rule, f.path) for f in findings]
    assert len(keys) == len(set(keys))
    assert {k[0] for k in keys} == {"LAY003", "LAY007", "LAY009", "LAY011", "LAY012"}


def test_lay020_file_over_the_platforms_20_gb_import_limit(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    with open(pkg.path("huge.bin"), "wb") as f:  # sparse: costs no disk
        f.truncate(20 * 1024**3 + 1)
    assert rules(run(pkg.root)) == [("LAY020", "huge.bin")]


def test_lay011_link_loops_and_links_to_an_enclosing_folder_are_errors(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.write("labels.json", "[]")
    pkg.symlink("ping", "pong")
    pkg.symlink("pong", "ping")
    pkg.symlink("self", "self")
    pkg.symlink("data/up", "..")
    pkg.symlink("data/here", ".")
    pkg.symlink("via/dir", "../data")  # a link to a sibling folder stays inside: a warning
    pkg.symlink("chain", "via/dir/../labels.json")
    result = run(pkg.root)
    by_path = {f.path: f.severity.value for f in result.findings if f.rule == "LAY011"}
    assert by_path == {"ping": "error", "pong": "error", "self": "error", "data/up": "error",
                       "data/here": "error", "via/dir": "warning", "chain": "warning"}
    loops = [f for f in result.findings if f.rule == "LAY011" and f.severity.value == "error"]
    assert all("loop" in f.message for f in loops)


def test_lay011_dangling_link_is_an_error_that_says_upload_cannot_copy_it(pkg: PackageBuilder) -> None:
    pkg.write("a.pth", b"x")
    pkg.symlink("weights/best.pth", "../checkpoints/best.pth")
    (f,) = [f for f in run(pkg.root).findings if f.rule == "LAY011"]
    assert f.severity.value == "error" and "does not exist" in f.message and "cannot copy" in f.hint
