"""The deep check: real torch in a subprocess, compared with the static facts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modeltemplates import deepcheck
from modeltemplates.deepcheck import deep_check
from modeltemplates.inspect.torchfile import read_torch_file
from tests import builders_torch as bt

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow  # each check starts an interpreter that imports torch


def test_the_library_never_imports_torch(tmp_path: Path) -> None:
    path = tmp_path / "m.pth"
    path.write_bytes(bt.torch_bytes(bt.linear_state_dict()))
    code = (
        "import sys\n"
        "from modeltemplates.deepcheck import deep_check\n"
        "from modeltemplates.checks.modelfile import check_model_file\n"
        "from modeltemplates.runtime import Runtime\n"
        f"p = {str(path)!r}\n"
        "r = check_model_file(p, open(p, 'rb'), len(open(p, 'rb').read()), Runtime('PyTorch', '1.0', '3.7'))\n"
        "assert deep_check(p, r.facts, timeout=60) == ()\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def _facts(path: Path) -> dict:
    with path.open("rb") as fh:
        return read_torch_file(fh, path.stat().st_size).to_dict()


@pytest.mark.parametrize("legacy", [False, True])
def test_agreeing_files_give_no_findings(tmp_path: Path, legacy: bool) -> None:
    obj = {"sd": bt.linear_state_dict(), "extra": [torch.zeros(2, dtype=torch.int64)]}
    path = tmp_path / "m.pth"
    path.write_bytes(bt.torch_bytes(obj, legacy=legacy))
    assert deep_check(str(path), _facts(path), timeout=60) == ()


def test_disagreement_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "m.pth"
    path.write_bytes(bt.torch_bytes(bt.linear_state_dict()))
    facts = _facts(path)
    facts["tensors"][0]["shape"] = [9, 9]
    facts["tensors"][1]["name"] = "renamed"
    found = deep_check(str(path), facts, timeout=60, path="model/m.pth")
    assert {f.rule for f in found} == {"MOD032"} and len(found) == 3
    assert all(f.path == "model/m.pth" for f in found)


def test_whole_module_is_refused_by_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "m.pth"
    path.write_bytes(bt.torch_bytes(torch.nn.Linear(2, 2)))
    found = deep_check(str(path), _facts(path), timeout=60)
    assert [f.rule for f in found] == ["MOD031"]


def test_timeout_kills_the_child(tmp_path: Path) -> None:
    path = tmp_path / "m.pth"
    path.write_bytes(bt.torch_bytes(bt.linear_state_dict()))
    found = deep_check(str(path), _facts(path), timeout=0.01)
    assert [f.rule for f in found] == ["MOD033"]


def test_without_torch_the_finding_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    monkeypatch.setattr(deepcheck.sys, "executable", str(env / "bin" / "python"))
    path = tmp_path / "m.pth"
    path.write_bytes(b"not used")
    found = deep_check(str(path), {}, timeout=60)
    assert [f.rule for f in found] == ["MOD030"]
