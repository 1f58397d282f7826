"""The package walker and the safe file opener, on real folders with odd entries."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from modeltemplates.package import EntryKind, Limits, NotARegularFile, open_package, open_regular_file
from tests.builders import PackageBuilder


def test_locates_model_folder_itself_or_child(tmp_path: Path) -> None:
    b = PackageBuilder(tmp_path / "proj" / "model")
    b.write("a.pth", b"x")
    assert open_package(tmp_path / "proj" / "model").located.how == "given"
    child = open_package(tmp_path / "proj")
    assert child.located.how == "child"
    assert child.root == tmp_path / "proj" / "model"


def test_unnamed_folder_lists_model_folders_below(tmp_path: Path) -> None:
    b = PackageBuilder(tmp_path / "job")
    b.write("V001/model/a.pth", b"x")
    b.write("V002/model/a.pth", b"x")
    located = open_package(tmp_path / "job").located
    assert located.how == "unnamed"
    assert located.other_model_dirs == ("V001/model", "V002/model")


def test_missing_path_and_file_path_raise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_package(tmp_path / "nope")
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        open_package(tmp_path / "f")


def test_entries_sorted_with_sizes_and_kinds(pkg: PackageBuilder) -> None:
    pkg.write("b.txt", b"12345")
    pkg.write("a/c.py", b"x = 1\n")
    pkg.mkdir("empty")
    package = open_package(pkg.root)
    assert [e.path for e in package.entries] == ["a", "a/c.py", "b.txt", "empty"]
    assert package.get("b.txt").size == 5  # type: ignore[union-attr]
    assert package.get("empty").empty_dir  # type: ignore[union-attr]
    assert package.get("a").kind is EntryKind.DIR  # type: ignore[union-attr]


def test_symlinks_are_recorded_never_followed(pkg: PackageBuilder, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "secret.txt").write_text("s")
    pkg.symlink("escape", str(outside))
    pkg.symlink("loop", ".")
    package = open_package(pkg.root)
    kinds = {e.path: e.kind for e in package.entries}
    assert kinds == {"escape": EntryKind.SYMLINK, "loop": EntryKind.SYMLINK}
    with pytest.raises(OSError):
        open_regular_file(pkg.path("escape"))


def test_fifo_and_socket_are_never_opened(pkg: PackageBuilder) -> None:
    os.mkfifo(pkg.path("pipe"))
    sock = socket.socket(socket.AF_UNIX)
    sock_path = pkg.path("sock")
    try:
        sock.bind(str(sock_path))
        package = open_package(pkg.root)
        kinds = {e.path: e.kind for e in package.entries}
        assert kinds["pipe"] is EntryKind.FIFO
        assert kinds["sock"] is EntryKind.SOCKET
        with pytest.raises(NotARegularFile):  # returns at once instead of blocking on the FIFO
            open_regular_file(pkg.path("pipe"))
    finally:
        sock.close()


def test_non_utf8_names_are_shown_escaped(pkg: PackageBuilder) -> None:
    raw = os.fsencode(pkg.root) + b"/caf\xe9.txt"
    with open(raw, "wb") as f:
        f.write(b"x")
    package = open_package(pkg.root)
    (entry,) = package.entries
    assert not entry.name_is_utf8
    assert entry.path == "caf\\xe9.txt"


def test_unreadable_file_is_marked(pkg: PackageBuilder) -> None:
    p = pkg.write("locked.bin", b"x")
    p.chmod(0)
    try:
        assert not open_package(pkg.root).get("locked.bin").readable  # type: ignore[union-attr]
    finally:
        p.chmod(0o644)


def test_limits_bound_entries_and_depth(pkg: PackageBuilder) -> None:
    for i in range(30):
        pkg.write(f"f{i:02d}", b"")
    package = open_package(pkg.root, Limits(max_entries=10))
    assert len(package.entries) == 10
    assert package.problems[0].kind == "too-many-entries"
    pkg.write("/".join(["d"] * 12) + "/x", b"")
    deep = open_package(pkg.root, Limits(max_depth=5))
    assert any(p.kind == "too-deep" for p in deep.problems)


def test_default_and_user_ignores(pkg: PackageBuilder) -> None:
    pkg.write("__pycache__/x.cpython-311.pyc", b"")
    pkg.write("._resnet.pth", b"")
    pkg.write(".DS_Store", b"")
    pkg.write("notes.log", b"")
    pkg.write("keep.log", b"")
    pkg.write("data/raw/big.bin", b"")
    pkg.write(".modelignore", "# comment\n*.log\n!keep.log\ndata/raw/\n")
    package = open_package(pkg.root)
    kept = {e.path for e in package.kept()}
    assert kept == {"data", "keep.log"}
    assert package.get("notes.log").ignored_by == ".modelignore line 2"  # type: ignore[union-attr]
    assert package.get("__pycache__").ignored_by == "default pattern '__pycache__/'"  # type: ignore[union-attr]
    # an ignored folder is not entered
    assert package.get("data/raw/big.bin") is None


def test_bad_ignore_pattern_is_a_problem_not_a_crash(pkg: PackageBuilder) -> None:
    pkg.write(".modelignore", "!\n*.tmp\n")
    pkg.write("a.tmp", b"")
    package = open_package(pkg.root)
    assert package.ignore.problems[0].line == 1
    assert package.get("a.tmp").ignored_by is not None  # type: ignore[union-attr]


def test_top_level_modules(pkg: PackageBuilder) -> None:
    pkg.write("helper.py", "")
    pkg.write("mypkg/__init__.py", "")
    pkg.write("sub/x.py", "")
    assert open_package(pkg.root).top_level_modules() == frozenset({"helper", "mypkg", "sub"})
