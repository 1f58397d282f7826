"""Bounded fuzzing of every engine's model-file readers through ``Template.validate``.

Real packages (the example's torch checkpoint, TensorFlow 1.8 SavedModel, MXNet 1.2.1 checkpoint,
Caffe deploy + weights) have their model files truncated, bit-flipped, spliced, replaced or removed.
Whatever the bytes, ``validate`` must return a report (never raise), must not fall back to the
internal-error rule INT001 (a reader that crashed), and must say the same thing twice.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeltemplates import get_template, list_templates
from tests.builders import SERVICE_PY27, torch_bytes
from tests.builders_caffe import SERVICE_CAFFE, SMALL_DEPLOY, small_weights
from tests.builders_mxnet import SERVICE_MXNET, checkpoint_params, mlp
from tests.conftest import DATA
from tests.test_tensorflow import TF_SERVICE

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pytorch-py27" / "model"


@cache
def _torch_files() -> dict[str, bytes]:
    import torch

    torch.manual_seed(0)
    state = dict(torch.nn.Linear(3, 2).state_dict())
    return {"legacy.pth": torch_bytes(state, legacy=True), "zipped.pt": torch_bytes(state, legacy=False),
            "customize_service.py": SERVICE_PY27.encode(), "labels.json": b'["a", "b"]\n'}


def _tf_files() -> dict[str, bytes]:
    root = DATA / "tensorflow" / "tf18_savedmodel" / "model"
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    files["customize_service.py"] = TF_SERVICE.encode()
    return files


def _mxnet_files() -> dict[str, bytes]:
    sym, args, aux = mlp()
    return {"mlp-symbol.json": sym.encode(), "mlp-0000.params": checkpoint_params(args, aux),
            "customize_service.py": SERVICE_MXNET.encode()}


def _caffe_files() -> dict[str, bytes]:
    return {"deploy.prototxt": SMALL_DEPLOY.encode(), "small.caffemodel": small_weights(),
            "customize_service.py": SERVICE_CAFFE.encode()}


#: engine -> (files of a correct package, the model files to mutate)
ENGINES: dict[str, tuple[Callable[[], dict[str, bytes]], tuple[str, ...]]] = {
    "pytorch": (_torch_files, ("legacy.pth", "zipped.pt")),
    "tensorflow": (_tf_files, ("saved_model.pb", "variables/variables.index",
                               "variables/variables.data-00000-of-00001")),
    "mxnet": (_mxnet_files, ("mlp-symbol.json", "mlp-0000.params")),
    "caffe": (_caffe_files, ("deploy.prototxt", "small.caffemodel")),
}

TEMPLATES = [t.id for t in list_templates()]


def _engine(template_id: str) -> str:
    return next(e for e in ENGINES if template_id.startswith(e))


def test_every_template_is_fuzzed() -> None:
    assert len(TEMPLATES) >= 10
    assert {_engine(t) for t in TEMPLATES} == set(ENGINES)


#: One mutation: (kind, position as a fraction of the file, a few bytes).
mutation = st.tuples(
    st.sampled_from(["truncate", "flip", "insert", "overwrite", "replace", "remove", "empty"]),
    st.floats(min_value=0.0, max_value=1.0),
    st.binary(min_size=1, max_size=16),
)


def _mutate(data: bytes, kind: str, where: float, noise: bytes) -> bytes | None:
    at = int(where * len(data))
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ (noise[0] or 0x80)]) + data[at + 1:] if at < len(data) else data
    if kind == "insert":
        return data[:at] + noise + data[at:]
    if kind == "overwrite":
        return data[:at] + noise + data[at + len(noise):]
    if kind == "replace":
        return noise * (1 + at % 64)
    if kind == "remove":
        return None
    return b""


def _fuzz(template_id: str, edits: list[tuple[int, tuple[str, float, bytes]]]) -> None:
    make, targets = ENGINES[_engine(template_id)]
    files: dict[str, bytes | None] = dict(make())
    for which, (kind, where, noise) in edits:
        rel = targets[which % len(targets)]
        current = files.get(rel)
        files[rel] = None if current is None else _mutate(current, kind, where, noise)
    template = get_template(template_id)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "model"
        for rel, data in files.items():
            if data is not None:
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_bytes(data)
        root.mkdir(exist_ok=True)
        first = template.validate(root)
        second = template.validate(root)
    crashed = [f"{f.path}: {f.message}" for f in first.findings if f.rule == "INT001"]
    assert not crashed, crashed
    assert first.to_json() == second.to_json()


@pytest.mark.parametrize("template_id", TEMPLATES)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(edits=st.lists(st.tuples(st.integers(0, 5), mutation), min_size=1, max_size=3))
def test_mutated_model_files_never_crash_a_reader(template_id: str,
                                                   edits: list[tuple[int, tuple[str, float, bytes]]]) -> None:
    _fuzz(template_id, edits)


def test_example_checkpoint_truncated_everywhere() -> None:
    """The example's real checkpoint cut at a spread of offsets: findings only, never INT001."""
    data = (EXAMPLE / "mnist_mlp.pth").read_bytes()
    service = (EXAMPLE / "customize_service.py").read_bytes()
    template = get_template("pytorch-py27")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "model"
        root.mkdir()
        (root / "customize_service.py").write_bytes(service)
        for cut in sorted({0, 1, 2, 7, 64, 512, len(data) // 3, len(data) // 2, len(data) - 22, len(data) - 1}):
            (root / "mnist_mlp.pth").write_bytes(data[:cut])
            report = template.validate(root)
            assert not report.by_rule("INT001"), (cut, report.to_json())
            assert not report.ok, cut
