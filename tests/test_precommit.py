"""The pre-commit hook, run by the real ``pre-commit`` in a temporary git repository that uses this
checkout as its hook repository (``pre-commit try-repo``: the working tree as it is)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from modeltemplates.hooks import packages_of
from tests.builders import PackageBuilder

ROOT = Path(__file__).resolve().parents[1]
#: pre-commit's own environments, kept between runs of the suite (the first builds one from PyPI).
HOME = ROOT / ".pytest_cache" / "pre-commit-home"
#: Output of pip or git that means "no network" rather than "the hook is broken".
_OFFLINE = ("Could not find a version", "No matching distribution", "Temporary failure in name resolution",
            "Network is unreachable", "Connection refused", "ConnectTimeout", "Failed to establish a new connection")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=120)


def test_packages_of_changed_files(tmp_path: Path) -> None:
    a = PackageBuilder(tmp_path / "models" / "a" / "model").valid()
    b = tmp_path / "svc"
    b.mkdir()
    (b / "customize_service.py").write_text("x = 1\n")
    (b / "helper.py").write_text("y = 1\n")
    (tmp_path / "README.md").write_text("hi\n")
    files = [a.root / "customize_service.py", a.root / "label.json", b / "helper.py", tmp_path / "README.md"]
    assert packages_of(files, stop=tmp_path) == [os.path.join("models", "a", "model"), "svc"]


def test_real_pre_commit_runs_the_hook(tmp_path: Path) -> None:
    exe = shutil.which("pre-commit")
    if exe is None:
        pytest.skip("pre-commit is not installed (it is in the test extra)")
    if not (ROOT / ".git").exists():
        pytest.skip("this checkout is not a git repository, which pre-commit needs as a hook repository")
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.invalid")
    _git(repo, "config", "user.name", "t")
    PackageBuilder(repo / "good" / "model").valid()
    bad = PackageBuilder(repo / "bad" / "model").valid()
    bad.write("customize_service.py", "x = f'{1}'\n")
    (repo / "notes.txt").write_text("not a package\n")
    (repo / "pyproject.toml").write_text('[tool.modeltemplates]\ntemplate = "pytorch-py27"\n')
    _git(repo, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(HOME), "MODELTEMPLATES_CACHE": "off", "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)

    def hook(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([exe, "try-repo", str(ROOT), "modeltemplates", "--files", *files],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=900, check=False)

    done = hook("bad/model/customize_service.py", "good/model/labels.json", "notes.txt")
    if done.returncode != 0 and any(s in done.stdout + done.stderr for s in _OFFLINE):
        pytest.skip("pre-commit could not build the hook's environment without the package index")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "modeltemplates (model packages)" in done.stdout and "Failed" in done.stdout
    assert "customize_service.py:1:" in done.stdout and "SRC001" in done.stdout
    assert "checking good/model" in done.stdout and "FAILED: 1 of 2 packages failed" in done.stdout
