"""The command line: every command, its output and its exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modeltemplates.cli import main
from tests.builders import PackageBuilder

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pytorch-py27" / "model"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_and_filters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0 and "pytorch-py27" in out and "pytorch-py37" in out
    code, out, _ = run(capsys, "list", "--engine", "pytorch", "--python", "2.7", "--json")
    assert [t["id"] for t in json.loads(out)] == ["pytorch-py27"]
    code, out, _ = run(capsys, "list", "--python", "2.7", "--json")
    assert {"pytorch-py27", "mxnet-py27", "tensorflow-py27"} <= {t["id"] for t in json.loads(out)}
    code, out, err = run(capsys, "list", "--engine", "torch")  # the engine is PyTorch: say so, not nothing
    assert code == 0 and out == "" and "no template matches --engine torch" in err and "PyTorch" in err


def test_describe_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "describe", "PyTorch-py27")
    assert code == 0 and "PyTorch 1.0" in out and "Python 2.7" in out and "customize_service.py" in out
    code, out, _ = run(capsys, "describe", "pytorch-py27", "--json")
    data = json.loads(out)
    assert data["io_mode"] == {"default": "undefined", "overridable": True, "choices": data["io_mode"]["choices"]}
    assert data["runtime"] == "python2.7"


def test_unknown_template_is_a_usage_error_with_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "describe", "pytorch-py2")
    assert code == 2 and "did you mean" in err


def test_validate_example_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(EXAMPLE))
    assert code == 0, out
    assert out.splitlines()[-1].startswith("OK: 0 errors")


def test_validate_parent_folder_says_which_folder(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(EXAMPLE.parent))
    assert code == 0 and "its `model` subfolder" in out.splitlines()[0]


def test_validate_broken_package_exits_1_with_json(pkg: PackageBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    pkg.write("customize_service.py", "x = f'{1}'\n")
    code, out, _ = run(capsys, "validate", str(pkg.root), "--format", "json", "--template", "pytorch-py37")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert {"LAY002"} <= {f["rule"] for f in data["findings"]}


def test_validate_usage_and_io_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "validate", str(tmp_path / "missing"))[0] == 2
    assert run(capsys, "validate", str(EXAMPLE), "--io-mode", "no-such-mode")[0] == 2
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2


def test_manifest_to_stdout_and_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "manifest", str(EXAMPLE))
    assert code == 0
    target = tmp_path / "manifest.json"
    code, _, err = run(capsys, "manifest", str(EXAMPLE), "-o", str(target))
    assert code == 0 and "manifest written" in err
    assert target.read_text(encoding="utf-8") == out
    assert json.loads(out)["template"] == "pytorch-py27"


def test_manifest_of_broken_package_exits_1(pkg: PackageBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    pkg.write("notes.txt", "no model here")
    code, out, err = run(capsys, "manifest", str(pkg.root), "--template", "pytorch-py27")
    assert code == 1 and out == "" and "LAY002" in err


@pytest.mark.parametrize("files", [{}, {"notes.txt": "no model here"}, {"customize_service.py": "x = 1\n"}],
                         ids=["empty", "notes", "plain-script"])
def test_without_a_template_a_package_that_names_no_engine_is_not_guessed(
        pkg: PackageBuilder, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """Every template scores the same on such a folder: the tie rule would pick one at random-looking,
    and its findings (no .caffemodel, ...) would mislead. The tool says nothing fits and asks."""
    for name, text in files.items():
        pkg.write(name, text)
    for command in ("validate", "manifest"):
        code, out, err = run(capsys, command, str(pkg.root))
        said = out + err
        assert code == 2 and "no template fits" in said and "--template" in said and "Traceback" not in said
    code, out, _ = run(capsys, "detect", str(pkg.root), "--json")
    data = json.loads(out)
    assert code == 0 and data["best"] is None and not any(f["engine_evidence"] for f in data["fits"])
    code, out, _ = run(capsys, "validate", str(pkg.root), "--template", "pytorch-py27")
    assert code == 1 and "LAY002" in out


def test_rules_markdown_matches_docs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--markdown")
    assert code == 0
    docs = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    assert docs.read_text(encoding="utf-8") == out, "regenerate: modeltemplates rules --markdown > docs/rules.md"


def test_console_script_and_module_entry_point() -> None:
    for cmd in (["modeltemplates", "list"], [sys.executable, "-m", "modeltemplates", "list"]):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0 and "pytorch-py27" in done.stdout


def test_import_is_light() -> None:
    heavy = ("torch", "numpy", "pathspec", "modeltemplates.checks.modelfile", "modeltemplates.inspect.pyparse",
             "fsspec", "s3fs", "botocore", "aiobotocore", "aiohttp", "tarfile",
             "modeltemplates.sources.remote", "modeltemplates.sources.archive")
    code = f"import sys, modeltemplates; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["validate", "manifest", "detect"])
def test_an_empty_path_is_a_usage_error_not_the_current_folder(command: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, ""])
    assert info.value.code == 2
    assert "empty path" in capsys.readouterr().err
