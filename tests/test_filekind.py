"""File kinds by content, and model files that are not models described in the user's words (issue 8, req 9)."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

from modeltemplates import get_template
from modeltemplates.checks.modelfile import check_model_file
from modeltemplates.inspect.filekind import sniff
from modeltemplates.runtime import Runtime
from tests.builders import PackageBuilder, tiny_state_dict, torch_bytes

PY27 = Runtime("PyTorch", "1.0", "2.7")


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"),
    (b"hello\n", "text"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 9\n", "git-lfs"),
    (b"<!DOCTYPE html><html></html>", "html"),
    (b'{"a": 1}', "json"),
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 8, "hdf5"),
    (pickle.dumps({"a": 1}, protocol=2), "pickle"),
    (pickle.dumps({"a": 1}, protocol=4), "pickle"),
    (torch_bytes(tiny_state_dict()), "torch-legacy"),
    (torch_bytes(tiny_state_dict(), legacy=False), "zip"),
    (_npy(np.zeros(3)), "npy"),
    (_npy(np.array([{"a": 1}], dtype=object)), "npy-object"),
    (bytes(range(256)), "unknown"),
])
def test_sniff_by_content(data: bytes, code: str) -> None:
    assert sniff(data[:512], len(data)).code == code


def test_articles() -> None:
    assert sniff(b"x" * 8, 8).what == "an 8-byte text file"
    assert sniff(b"x" * 11, 11).what == "an 11-byte text file"
    assert sniff(b"x" * 37, 37).what == "a 37-byte text file"


@pytest.mark.parametrize(("data", "said"), [
    (b"this is not a model, only some notes about it\n", "a 46-byte text file, not a PyTorch model"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 9\n", "Git LFS pointer"),
    (b"<html><body>404 Not Found</body></html>", "HTML/XML page"),
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "HDF5 file"),
    (b"", "an empty file (0 bytes), not a PyTorch model"),
])
def test_mod001_says_what_the_file_is_not_the_pickle_machine(data: bytes, said: str) -> None:
    (f,) = check_model_file("resnet50.pth", io.BytesIO(data), len(data), PY27).findings
    assert f.rule == "MOD001" and said in f.message
    assert "load key" not in f.message and "stack" not in f.message and "Memo" not in f.message


def test_text_model_file_in_a_package(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("resnet50.pth", "weights are on the shared drive\n")
    (f,) = get_template("pytorch-py27").validate(pkg.root).by_rule("MOD001")
    assert f.message == "a 32-byte text file, not a PyTorch model"
