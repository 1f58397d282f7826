"""The repository stands alone: no file names a path of a developer's machine, tests read only
what is committed, and CI runs the README's own commands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Absolute paths that belong to one machine: home and work folders, interpreter installs.
#: (Spelled with groups so this file does not match itself.)
MACHINE_PATH = re.compile(
    rb"(?<![\w.~-])(?:"
    rb"/(?:root|work|home/[\w.-]+|Users/[\w.-]+)/[\w.~-]"  # home and work folders
    rb"|[A-Za-z]:\\\\?(?:Users|Documents and Settings)\\"  # Windows homes
    rb"|/[\w./-]*/\.pyenv/versions/"  # pyenv interpreters
    rb"|/(?:usr/(?:local/)?lib|opt/[\w.-]+/lib)/python[23]"  # system / conda interpreters
    rb"|/(?:opt/(?:ana|mini)conda[\w.-]*|Library/Frameworks/Python\.framework)/"
    rb")"
)

#: Files that must keep an absolute path, with the reason (see tests/data/README.md).
KEPT_AS_RECORDED = {
    # Legacy torch.save of a whole module records the source file of its class; the fidelity
    # labels describe these exact bytes, so they are not rewritten.
    "tests/data/fidelity/models/pub-module-legacy.pth",
    "tests/data/fidelity/models/pub-user-class-module-legacy.pth",
}

#: This file: its examples of machine paths are specimens for the pattern.
SELF = Path(__file__).resolve().relative_to(ROOT).as_posix()

#: Folders a walk skips when git is not there to list the tracked files.
_UNTRACKED_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
                   "build", "dist", ".venv", "venv", "out"}


def repository_files() -> list[str]:
    """Tracked files plus new ones git does not ignore; a plain walk where git is unavailable."""
    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        done = subprocess.run(
            [git, "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, check=False,
        )
        if done.returncode == 0:
            return sorted({p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p})
    out = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _UNTRACKED_DIRS and not d.endswith(".egg-info")]
        out.extend(Path(folder, f).relative_to(ROOT).as_posix() for f in files)
    return sorted(out)


#: Paths that name the serving platform's machines, not a developer's: ModelArts runs the service
#: as user ``mind`` with the package in ``/home/mind/model`` (its inference-code specification).
PLATFORM_PATHS = (b"/home/mind/",)


def machine_paths(data: bytes) -> list[str]:
    return sorted({
        m.group(0).decode("utf-8", "replace") for m in MACHINE_PATH.finditer(data)
        if not data.startswith(PLATFORM_PATHS, m.start())
    })


@pytest.mark.parametrize(
    "text",
    [b"/root/.cache", b"x = '/work/shared/fidelity'", b"/home/ann/src", b"C:\\Users\\ann",
     b"/root/.pyenv/versions/2.7.18/bin/python2.7", b"/usr/lib/python3/dist-packages",
     b"/opt/conda/lib/python3.11", b"/Users/bob/x"],
)
def test_the_pattern_catches_machine_paths(text: bytes) -> None:
    assert machine_paths(text)


@pytest.mark.parametrize(
    "text",
    [b"#!/usr/bin/env bash", b"tests/data/fidelity", b"~/.pyenv/versions/ (2.7.18)", b"../shared",
     b"obs://bucket/model", b"/tmp/x", b"model/work/x", b"$HOME/.cache", b"/home/mind/model/x.whl"],
)
def test_the_pattern_leaves_portable_text_alone(text: bytes) -> None:
    assert not machine_paths(text)


def test_no_file_names_a_path_of_a_developer_machine() -> None:
    files = repository_files()
    assert "pyproject.toml" in files and "tests/data/README.md" in files
    found = {}
    for rel in files:
        path = ROOT / rel
        if rel in KEPT_AS_RECORDED or rel == SELF or not path.is_file() or path.is_symlink():
            continue
        hits = machine_paths(path.read_bytes())
        if hits:
            found[rel] = hits
    assert not found, f"absolute paths of a machine in tracked files: {found}"


def test_the_kept_files_are_documented_and_still_need_keeping() -> None:
    readme = (ROOT / "tests" / "data" / "README.md").read_text("utf-8")
    for rel in sorted(KEPT_AS_RECORDED):
        assert Path(rel).name in readme
        assert machine_paths((ROOT / rel).read_bytes()), f"{rel} no longer needs its exception"


def test_tests_build_their_paths_inside_the_repository() -> None:
    """No test climbs out of the checkout (``parents[2]``, ``../shared``) to find its data."""
    escape = re.compile(r"parents\[[2-9]\]|\.\./shared|[\"']\.\./\.\./[\w.-]+[\"']\s*\)\s*/")
    offenders = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        if path.name == Path(__file__).name:
            continue
        offenders += [f"{path.name}:{n}" for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                      if escape.search(line)]
    assert not offenders


def test_every_data_folder_is_named_in_the_data_readme() -> None:
    readme = (ROOT / "tests" / "data" / "README.md").read_text("utf-8")
    for child in sorted((ROOT / "tests" / "data").iterdir()):
        if child.is_dir():
            assert f"`{child.name}/" in readme, child.name
    for child in sorted((ROOT / "tests" / "data" / "reference").iterdir()):
        assert f"`reference/{child.name}/`" in readme, child.name


def _readme_blocks() -> dict[str, list[str]]:
    """The lines of the ```sh block after each ``<!-- ci: NAME ...-->`` marker of README.md."""
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    blocks: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        m = re.match(r"<!-- ci: ([\w-]+) ", line)
        if not m:
            continue
        assert lines[i + 1] == "```sh", "a ci marker stands right above its ```sh block"
        end = lines.index("```", i + 2)
        blocks[m.group(1)] = [x for x in lines[i + 2 : end] if x.strip()]
    return blocks


def test_readme_marks_one_set_up_and_one_test_command() -> None:
    blocks = _readme_blocks()
    assert sorted(blocks) == ["set-up", "test"]
    assert blocks["set-up"] == ["pip install -e . && modeltemplates validate examples/pytorch-py27/model"]
    assert blocks["test"] == ["pip install -e '.[test]' && python -m pytest -q"]


def test_ci_runs_the_readme_commands_not_its_own_copy() -> None:
    script = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "readme_command set-up" in script and "readme_command test" in script
    code = [x for x in script.splitlines() if not x.lstrip().startswith("#") and "echo" not in x]
    assert not [x for x in code if "pip install -e" in x or "-m pytest" in x], "commands come from README.md"
    assert "ruff check modeltemplates tests bench" in script and "mypy --strict modeltemplates" in script
    assert "venv" in script and "--exclude-standard" in script  # fresh environment, copy of the repository


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("awk") is None, reason="needs bash and awk")
def test_ci_extracts_exactly_the_readme_commands(tmp_path: Path) -> None:
    """The extraction .ci/run does, run for real on README.md, gives the commands the README shows."""
    script = (ROOT / ".ci" / "run").read_text("utf-8")
    start = script.index("readme_command() {")
    function = script[start : script.index("\n}\n", start) + 3]
    program = f'here={str(ROOT)!r}\n{function}\nreadme_command set-up\nreadme_command test\n'
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    blocks = _readme_blocks()
    assert done.stdout.splitlines() == blocks["set-up"] + blocks["test"]
