"""Every way of naming a folder; validate() never raising for a bad package; misuse raising one
public base class; --deep without torch; imports of modules the package should provide."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import modeltemplates
from modeltemplates import (
    DeepCheckUnavailableError,
    InvalidArgumentError,
    ModelTemplatesError,
    NotAPackageFolderError,
    PackageNotFoundError,
    Report,
)
from modeltemplates.cli import main
from tests.builders import SERVICE_PY27, PackageBuilder

ROOT = Path(__file__).resolve().parents[1]
PY27 = modeltemplates.get_template("pytorch-py27")


@pytest.fixture
def valid(tmp_path: Path) -> PackageBuilder:
    return PackageBuilder(tmp_path / "work" / "model").valid()


def _same(report: Report, reference: Report) -> None:
    assert report.root == "model"
    assert report.to_json() == reference.to_json()


# -- 4. every way of naming a folder ---------------------------------------------------------------


def test_every_spelling_of_the_folder_gives_the_same_report(
    valid: PackageBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (valid.root / "sub").mkdir()
    reference = PY27.validate(valid.root)
    assert reference.ok
    link = tmp_path / "link to it"
    link.symlink_to(valid.root)
    monkeypatch.chdir(valid.root / "sub")
    for spelling in ("..", "../", "../.", "../../model", str(valid.root) + "/", str(link), str(link) + "/"):
        _same(PY27.validate(spelling), reference)
    monkeypatch.chdir(valid.root)
    _same(PY27.validate("."), reference)
    _same(PY27.validate("./"), reference)
    _same(PY27.validate(Path()), reference)


def test_spaces_non_ascii_and_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home dir"
    b = PackageBuilder(home / "模型 files" / "model").valid()
    reference = PY27.validate(b.root)
    monkeypatch.setenv("HOME", str(home))
    _same(PY27.validate("~/模型 files/model"), reference)
    _same(PY27.validate("~/模型 files/model/"), reference)


def test_the_name_is_the_real_name_not_the_spelling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = PackageBuilder(tmp_path / "V003").valid()
    (tmp_path / "model").symlink_to(b.root)  # a link named model to a folder that is not
    monkeypatch.chdir(b.root)
    assert PY27.validate(".").root == "V003" and PY27.validate(".").by_rule("LAY001")
    assert PY27.validate(tmp_path / "model").root == "V003"


def test_a_file_inside_the_package_names_the_folder_to_pass(
    valid: PackageBuilder, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("resnet50.pth", "customize_service.py"):
        with pytest.raises(NotAPackageFolderError, match=f"pass the package folder instead: {valid.root}$"):
            PY27.validate(valid.root / name)
        assert main(["validate", str(valid.root / name)]) == 2
        assert f"pass the package folder instead: {valid.root}" in capsys.readouterr().out


def test_missing_paths_and_dangling_links(tmp_path: Path) -> None:
    with pytest.raises(PackageNotFoundError, match=r"no such folder or archive"):
        PY27.validate(tmp_path / "nothing")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(PackageNotFoundError, match=r"is a link to .*gone.*which does not exist"):
        PY27.validate(tmp_path / "dangling")


# -- 5. validate() never raises for a bad package ---------------------------------------------------


def _who() -> str:
    import getpass

    return getpass.getuser()


def test_unreadable_package_folder_is_a_finding_naming_the_current_user(valid: PackageBuilder) -> None:
    valid.root.chmod(0)
    try:
        report = PY27.validate(valid.root)
    finally:
        valid.root.chmod(0o755)
    found = [f for f in report.by_rule("LAY010") if f.path == ""]
    assert found and f"the current user ({_who()})" in found[0].message
    assert "its owner" not in found[0].message or os.geteuid() == 0


def test_unreadable_file_and_modelignore_are_findings(valid: PackageBuilder) -> None:
    valid.write(".modelignore", "*.log\n")
    for name in (".modelignore", "customize_service.py"):
        valid.path(name).chmod(0)
    try:
        report = PY27.validate(valid.root)
    finally:
        for name in (".modelignore", "customize_service.py"):
            valid.path(name).chmod(0o644)
    assert [f.path for f in report.by_rule("LAY010")] == ["customize_service.py"]
    assert f"the current user ({_who()})" in report.by_rule("LAY010")[0].message
    assert any(f"the current user ({_who()})" in f.message for f in report.by_rule("LAY016"))


def test_a_folder_removed_while_it_is_read(valid: PackageBuilder, monkeypatch: pytest.MonkeyPatch) -> None:
    from modeltemplates.sources.folder import FolderSource

    valid.write("data/a.txt", "x")
    valid.write("data/deeper/b.txt", "y")
    real_list = FolderSource.list

    def list_then_vanish(self: FolderSource, key: str) -> list[object]:
        nodes = real_list(self, key)
        if key.endswith("data"):
            shutil.rmtree(self.path_of(key))  # gone between listing and reading
        return nodes  # type: ignore[return-value]

    monkeypatch.setattr(FolderSource, "list", list_then_vanish)
    report = PY27.validate(valid.root)
    assert {f.path for f in report.by_rule("LAY010")} >= {"data/deeper"}
    assert not report.ok


def test_a_file_replaced_by_a_fifo_between_listing_and_reading(
    valid: PackageBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modeltemplates.sources.folder import FolderSource

    real_list = FolderSource.list

    def list_then_swap(self: FolderSource, key: str) -> list[object]:
        nodes = real_list(self, key)
        if key == "":
            for name in ("customize_service.py", "resnet50.pth"):
                os.unlink(self.path_of(name))
                os.mkfifo(self.path_of(name))
        return nodes  # type: ignore[return-value]

    monkeypatch.setattr(FolderSource, "list", list_then_swap)
    report = PY27.validate(valid.root)  # must not hang on the FIFO, must not raise
    messages = {f.path: f.message for f in report.by_rule("LAY010")}
    assert "not a regular file" in messages["customize_service.py"]
    assert "not a regular file" in messages["resnet50.pth"] or "resnet50.pth" in messages
    assert not report.ok


# -- misuse raises one public base class ------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "kind"),
    [
        (lambda p: PY27.validate(123), InvalidArgumentError),
        (lambda p: PY27.validate(p, io_mode=5), InvalidArgumentError),
        (lambda p: PY27.validate(p, deep="yes"), InvalidArgumentError),
        (lambda p: PY27.validate(p, settings={"max_text_bytes": 1}), InvalidArgumentError),
        (lambda p: PY27.validate(""), InvalidArgumentError),
        (lambda p: PY27.validate(p, io_mode="nonsense"), modeltemplates.UnknownIOModeError),
        (lambda p: modeltemplates.get_template("nope"), modeltemplates.UnknownTemplateError),
        (lambda p: modeltemplates.register_template(object()), InvalidArgumentError),
        (lambda p: PY27.build_manifest(p / "missing"), PackageNotFoundError),
    ],
)
def test_api_misuse_raises_the_public_base_class(valid: PackageBuilder, call: object, kind: type) -> None:
    with pytest.raises(kind) as info:
        call(valid.root)  # type: ignore[operator]
    assert isinstance(info.value, ModelTemplatesError)
    assert "ModelTemplatesError" in modeltemplates.__all__


# -- 7. --deep without torch ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def python_without_torch(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """A real interpreter that cannot import torch: a fresh venv, modeltemplates and its two
    dependencies put on its path by hand."""
    import attr
    import attrs
    import pathspec

    top = tmp_path_factory.mktemp("notorch")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(top / "venv")], check=True)
    site = top / "site"
    site.mkdir()
    for module in (attr, attrs, pathspec):
        (site / Path(module.__file__ or "").parent.name).symlink_to(Path(module.__file__ or "").parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(site)])}
    python = str(top / "venv" / "bin" / "python")
    probe = "import modeltemplates, importlib.util as u; print(u.find_spec('torch') is None)"
    check = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True, check=False)
    if check.stdout.strip() != "True":
        pytest.skip(f"could not make an interpreter without torch: {check.stderr[-300:]}")
    return python, env


@pytest.mark.timeout(300)
def test_deep_without_torch_exits_2_with_the_install_command(
    valid: PackageBuilder, python_without_torch: tuple[str, dict[str, str]]
) -> None:
    python, env = python_without_torch
    run = [python, "-m", "modeltemplates", "validate", str(valid.root)]
    strict = subprocess.run([*run, "--deep"], env=env, capture_output=True, text=True, timeout=240, check=False)
    assert strict.returncode == 2, strict.stdout + strict.stderr
    assert "pip install 'modeltemplates[torch]'" in strict.stderr and "Traceback" not in strict.stderr
    allowed = subprocess.run([*run, "--deep-optional", "--format", "json"], env=env, capture_output=True,
                             text=True, timeout=240, check=False)
    assert allowed.returncode == 0, allowed.stderr
    assert "MOD030" in {f["rule"] for f in json.loads(allowed.stdout)["findings"]}
    code = (
        "import modeltemplates as m\ntry:\n"
        f"    m.get_template('pytorch-py27').validate({str(valid.root)!r}, deep=True)\n"
        "except m.DeepCheckUnavailableError as e:\n    print('raised', isinstance(e, m.ModelTemplatesError))\n"
    )
    api = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, timeout=240, check=False)
    assert api.stdout.strip() == "raised True", api.stderr


def test_deep_on_a_template_without_a_deep_check_is_refused(tmp_path: Path) -> None:
    b = PackageBuilder(tmp_path / "model")
    b.write("saved_model.pb", b"")
    with pytest.raises(DeepCheckUnavailableError, match="has no deep check"):
        modeltemplates.get_template("tensorflow-py36").validate(b.root, deep=True)
    modeltemplates.get_template("tensorflow-py36").validate(b.root, deep="optional")


# -- 8. imports of modules the package should provide -----------------------------------------------


def test_import_of_a_missing_local_module_names_the_file(valid: PackageBuilder) -> None:
    valid.write("customize_service.py", "from net import Net\nimport yaml\n" + SERVICE_PY27)
    report = PY27.validate(valid.root)
    (missing,) = report.by_rule("SVC012")
    assert missing.severity.value == "error" and missing.line == 1
    assert "net.py or net/__init__.py" in missing.message
    assert "pip" not in missing.hint and "package_name" not in missing.hint
    known = report.by_rule("SVC010")
    assert [f.line for f in known] == [2] and "PyYAML" in known[0].message
    valid.write("net.py", "class Net(object):\n    pass\n")
    assert not PY27.validate(valid.root).by_rule("SVC012")


def test_an_unknown_name_is_never_suggested_for_pip(valid: PackageBuilder) -> None:
    valid.write("customize_service.py", "import reqeusts\nfrom mymodels.resnet import build\n" + SERVICE_PY27)
    report = PY27.validate(valid.root)
    texts = " ".join(f.message + " " + f.hint for f in report.findings)
    assert "package_name" not in texts and "pip package reqeusts" not in texts
    assert {f.line for f in report.by_rule("SVC012")} == {1, 2}
    assert "mymodels/resnet.py" in report.by_rule("SVC012")[1].message
    valid.write("customize_service.py", "try:\n    import reqeusts\nexcept ImportError:\n    pass\n" + SERVICE_PY27)
    assert not PY27.validate(valid.root).by_rule("SVC012")  # guarded: the script handles it


def test_permissions_as_seen_by_this_user_are_what_the_messages_claim(valid: PackageBuilder) -> None:
    """As root the bits decide (root reads anything); as anyone else ``access`` does."""
    path = valid.path("labels.json")
    path.chmod(stat.S_IWUSR)
    try:
        report = PY27.validate(valid.root)
    finally:
        path.chmod(0o644)
    (found,) = report.by_rule("LAY010")
    assert _who() in found.message
