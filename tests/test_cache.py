"""The result cache: never changes a verdict, survives bad entries, read-only and concurrent use."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from modeltemplates import cache as cache_module
from modeltemplates import get_template, list_templates
from modeltemplates.cache import ResultCache, default_cache_dir, user_cache_dir
from modeltemplates.cli import main
from tests.builders import SERVICE_PY27, PackageBuilder, tiny_state_dict, torch_bytes

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
TEMPLATES = ("pytorch-py27", "pytorch-py37")


@pytest.fixture
def trust_fresh_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written a moment ago are normally not cached by identity; the tests write them so."""
    monkeypatch.setattr(cache_module, "RACY_SECONDS", -1.0)


def _corpus(root: Path) -> list[Path]:
    """Every kind of package the test suite builds: examples, every fidelity source and model,
    every syntax snippet, configs good and bad, broken services."""
    packages: list[Path] = []
    model = torch_bytes(tiny_state_dict())
    for example in sorted((REPO / "examples").glob("*/model")):
        target = root / "examples" / example.parent.name / "model"
        shutil.copytree(example, target)
        packages.append(target)
    for source in sorted((DATA / "fidelity" / "sources").glob("*.py")):
        pkg = PackageBuilder(root / "src" / source.stem / "model")
        pkg.write("resnet50.pth", model)
        pkg.write("customize_service.py", source.read_bytes())
        packages.append(pkg.root)
    for checkpoint in sorted((DATA / "fidelity" / "models").glob("*")):
        pkg = PackageBuilder(root / "models" / checkpoint.stem / "model")
        pkg.write("model.pth", checkpoint.read_bytes())
        pkg.write("customize_service.py", SERVICE_PY27)
        packages.append(pkg.root)
    snippets = PackageBuilder(root / "snippets" / "model")
    snippets.write("resnet50.pth", model)
    snippets.write("customize_service.py", SERVICE_PY27)
    for snippet in sorted((DATA / "syntax_snippets").glob("*.py")):
        snippets.write(f"helpers/{snippet.name}", snippet.read_bytes())
    packages.append(snippets.root)
    configs = {
        "ok": {"model_type": "PyTorch", "runtime": "python2.7", "model_algorithm": "image_classification",
               "dependencies": [{"installer": "pip", "packages": [{"package_name": "Pillow"}]}]},
        "bad": {"model_type": "TensorFlow", "runtime": "python3.9"},
    }
    for name, config in configs.items():
        pkg = PackageBuilder(root / "config" / name / "model").valid()
        pkg.write("config.json", json.dumps(config))
        packages.append(pkg.root)
    pkg = PackageBuilder(root / "config" / "not-json" / "model").valid()
    pkg.write("config.json", "{'model_type': 1,")
    packages.append(pkg.root)
    broken = PackageBuilder(root / "service" / "broken" / "model").valid()
    broken.write("customize_service.py", SERVICE_PY27.replace("PTServingBaseService)", "object)")
                 .replace("import torch\n", "import torch\nimport cv2\nimport mylib\n"))
    broken.write("mylib/__init__.py", "X = 1\n")
    packages.append(broken.root)
    return packages


def test_cache_never_changes_a_verdict(tmp_path: Path, trust_fresh_files: None) -> None:
    """Without a cache, with an empty one and with a full one: the same report, byte for byte."""
    packages = _corpus(tmp_path / "corpus")
    assert len(packages) > 60
    cache = ResultCache(tmp_path / "cache")
    for template_id in TEMPLATES:
        template = get_template(template_id)
        for package in packages:
            plain = template.validate(package)
            cold = template.validate(package, cache=cache)
            warm = template.validate(package, cache=cache)
            assert cold == plain, package
            assert warm == plain, package
            assert warm.to_json() == plain.to_json(), package
    assert cache.stats["hits"] > 3 * len(packages)
    kinds = {p.name for p in (tmp_path / "cache" / "v1").iterdir()}
    assert kinds == {"source", "service", "model", "config"}


def test_cache_never_changes_a_verdict_of_any_template(tmp_path: Path, trust_fresh_files: None) -> None:
    """Every registered template (other engines, other Pythons) over a cross-section of the corpus."""
    packages = _corpus(tmp_path / "corpus")
    chosen = [p for p in packages if "/src/" not in p.as_posix() and "/models/" not in p.as_posix()]
    chosen += [p for p in packages if "/src/" in p.as_posix()][:4]
    chosen += [p for p in packages if "/models/" in p.as_posix()][:3]
    cache = ResultCache(tmp_path / "cache")
    others = [t for t in list_templates() if t.id not in TEMPLATES]
    assert len(others) >= 2
    for template in others:
        for package in chosen:
            plain = template.validate(package)
            template.validate(package, cache=cache)
            warm = template.validate(package, cache=cache)
            assert warm == plain, (template.id, package)
            assert warm.to_json() == plain.to_json(), (template.id, package)


def test_warm_run_reads_no_source_and_no_checkpoint(tmp_path: Path, trust_fresh_files: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = PackageBuilder(tmp_path / "model").valid()
    pkg.write("helpers/util.py", "def f(x):\n    return x\n")
    cache = ResultCache(tmp_path / "cache")
    template = get_template("pytorch-py27")
    first = template.validate(pkg.root, cache=cache)

    from modeltemplates.checks import modelfile, syntax
    from modeltemplates.inspect import pyservice

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached check ran again")

    monkeypatch.setattr(syntax, "check_source", refuse)
    monkeypatch.setattr(pyservice, "analyze_service", refuse)
    monkeypatch.setattr(modelfile, "check_model_file", refuse)
    assert template.validate(pkg.root, cache=cache) == first


def test_changed_file_is_checked_again(tmp_path: Path, trust_fresh_files: None) -> None:
    pkg = PackageBuilder(tmp_path / "model").valid()
    cache = ResultCache(tmp_path / "cache")
    template = get_template("pytorch-py27")
    assert template.validate(pkg.root, cache=cache).ok
    pkg.write("customize_service.py", SERVICE_PY27 + "print f'{x}'\n")
    after = template.validate(pkg.root, cache=cache)
    assert [f.rule for f in after.errors] == ["SRC001"]
    assert after == template.validate(pkg.root)
    pkg.write("resnet50.pth", torch_bytes(tiny_state_dict(), legacy=False))  # zip: torch 1.0 cannot read it
    assert after != template.validate(pkg.root, cache=cache)
    assert template.validate(pkg.root, cache=cache) == template.validate(pkg.root)


def test_fresh_model_file_is_not_remembered(tmp_path: Path) -> None:
    pkg = PackageBuilder(tmp_path / "model").valid()
    cache = ResultCache(tmp_path / "cache")
    get_template("pytorch-py27").validate(pkg.root, cache=cache)
    assert not (tmp_path / "cache" / "v1" / "model").exists()
    assert (tmp_path / "cache" / "v1" / "source").exists()


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.json") if p.is_file())


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other-key", "bad-finding", "empty", "huge"])
def test_corrupted_entry_is_ignored(tmp_path: Path, trust_fresh_files: None, damage: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = PackageBuilder(tmp_path / "model").valid()
    pkg.write("bad.py", "print f'{x}'\n")
    cache = ResultCache(tmp_path / "cache")
    template = get_template("pytorch-py27")
    expected = template.validate(pkg.root)
    template.validate(pkg.root, cache=cache)
    entries = _entries(tmp_path / "cache")
    assert entries
    for entry in entries:
        text = entry.read_text("utf-8")
        if damage == "truncated":
            entry.write_text(text[: len(text) // 2])
        elif damage == "garbage":
            entry.write_bytes(b"\xff\x00not json")
        elif damage == "other-key":
            data = json.loads(text)
            data["key"] = "0" * 64
            entry.write_text(json.dumps(data))
        elif damage == "bad-finding":
            data = json.loads(text)
            data["value"]["findings"] = [{"rule": "X"}]
            entry.write_text(json.dumps(data))
        elif damage == "empty":
            entry.write_bytes(b"")
        else:
            monkeypatch.setattr(cache_module, "MAX_ENTRY_BYTES", 10)
    assert template.validate(pkg.root, cache=cache) == expected
    # ... and the next run rewrote good entries over the damaged ones
    monkeypatch.setattr(cache_module, "MAX_ENTRY_BYTES", 16 << 20)
    assert template.validate(pkg.root, cache=cache) == expected


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_cache_folder_is_skipped(tmp_path: Path) -> None:  # pragma: no cover - not as root
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    pkg = PackageBuilder(tmp_path / "model").valid()
    report = get_template("pytorch-py27").validate(pkg.root, cache=ResultCache(folder))
    assert report.ok


def test_unwritable_cache_is_skipped_never_an_error(tmp_path: Path) -> None:
    """A cache 'folder' that is a file (as unusable as a read-only or full disk): writes stop, the
    run goes on with the same report."""
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    pkg = PackageBuilder(tmp_path / "model").valid()
    cache = ResultCache(blocker)
    template = get_template("pytorch-py27")
    assert template.validate(pkg.root, cache=cache) == template.validate(pkg.root)
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_turns_writing_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes that fail with ENOSPC (through /dev/full) turn writing off for the run."""
    cache = ResultCache(tmp_path / "cache")
    real_fdopen = os.fdopen

    def full(fd: int, *args: object, **kwargs: object) -> object:
        os.close(fd)
        return real_fdopen(os.open("/dev/full", os.O_WRONLY), "wb")

    monkeypatch.setattr(cache_module.os, "fdopen", full)
    cache.put("source", "ab" * 32, {"findings": []})
    monkeypatch.undo()
    cache.put("source", "cd" * 32, {"findings": []})  # writing stays off after the failure
    assert _entries(tmp_path / "cache") == []
    assert not list((tmp_path / "cache").rglob(".tmp-*"))


def test_concurrent_writers_leave_whole_entries(tmp_path: Path) -> None:
    """Threads and processes writing the same keys at once: every entry reads back whole."""
    folder = tmp_path / "cache"
    value = {"findings": [], "payload": "x" * 200_000}
    keys = [f"{i:02x}" * 32 for i in range(8)]
    script = (
        "import sys\nfrom modeltemplates.cache import ResultCache\n"
        f"c = ResultCache({str(folder)!r})\n"
        "value = {'findings': [], 'payload': 'x' * 200_000}\n"
        f"for _ in range(20):\n    for k in {keys!r}:\n        c.put('t', k, value)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    cache = ResultCache(folder)
    threads = [threading.Thread(target=lambda: [cache.put("t", k, value) for _ in range(10) for k in keys])
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(p.wait(timeout=120) == 0 for p in procs)
    for k in keys:
        assert cache.get("t", k) == value
    assert not list(folder.rglob(".tmp-*"))


def test_entries_are_json_never_pickles(tmp_path: Path, trust_fresh_files: None) -> None:
    pkg = PackageBuilder(tmp_path / "model").valid()
    get_template("pytorch-py27").validate(pkg.root, cache=ResultCache(tmp_path / "cache"))
    for entry in _entries(tmp_path / "cache"):
        data = json.loads(entry.read_text("utf-8"))
        assert set(data) == {"key", "value"}


def test_tool_change_changes_every_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ResultCache(tmp_path)
    before = cache.key("source", "a.py", (2, 7), "00")
    monkeypatch.setattr(cache_module, "tool_fingerprint", lambda: "another build")
    assert cache.key("source", "a.py", (2, 7), "00") != before
    assert cache.key("source", "a.py", (3, 7), "00") != cache.key("source", "a.py", (2, 7), "00")


def test_cache_folder_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert default_cache_dir({"MODELTEMPLATES_CACHE": str(tmp_path)}) == tmp_path
    for off in ("", "0", "off", "OFF", "no", "false"):
        assert default_cache_dir({"MODELTEMPLATES_CACHE": off}) is None
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "modeltemplates"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert user_cache_dir() == Path(os.path.expanduser("~/.cache")) / "modeltemplates"
    monkeypatch.delenv("MODELTEMPLATES_CACHE", raising=False)
    assert default_cache_dir() == user_cache_dir()


def test_cli_cache_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    pkg = PackageBuilder(tmp_path / "model").valid()
    env_dir, opt_dir = tmp_path / "env-cache", tmp_path / "opt-cache"
    monkeypatch.setenv("MODELTEMPLATES_CACHE", str(env_dir))
    assert main(["validate", "--format", "json", str(pkg.root)]) == 0
    first = capsys.readouterr().out
    assert _entries(env_dir)
    assert main(["validate", "--format", "json", "--cache-dir", str(opt_dir), str(pkg.root)]) == 0
    assert capsys.readouterr().out == first
    assert _entries(opt_dir)
    shutil.rmtree(env_dir)
    assert main(["validate", "--format", "json", "--no-cache", str(pkg.root)]) == 0
    assert capsys.readouterr().out == first
    assert not env_dir.exists()
    monkeypatch.setenv("MODELTEMPLATES_CACHE", "off")
    assert main(["validate", "--format", "json", str(pkg.root)]) == 0
    assert capsys.readouterr().out == first
    assert not env_dir.exists()


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX ownership")
def test_folder_others_may_write_is_not_used(tmp_path: Path, trust_fresh_files: None) -> None:
    """Entries in a folder anyone may write could forge a clean report: such a cache is ignored."""
    folder = tmp_path / "shared-cache"
    pkg = PackageBuilder(tmp_path / "model").valid()
    pkg.write("bad.py", "print f'{x}'\n")
    template = get_template("pytorch-py27")
    expected = template.validate(pkg.root)
    template.validate(pkg.root, cache=ResultCache(folder))
    for entry in _entries(folder):  # someone else rewrites every verdict as clean
        data = json.loads(entry.read_text("utf-8"))
        data["value"]["findings"] = []
        entry.write_text(json.dumps(data))
    folder.chmod(0o777)
    cache = ResultCache(folder)
    assert not cache.usable
    assert template.validate(pkg.root, cache=cache) == expected
    assert cache.stats["hits"] == 0
    folder.chmod(0o700)
    assert ResultCache(folder).usable
    assert ResultCache(tmp_path / "not" / "yet" / "there").usable
