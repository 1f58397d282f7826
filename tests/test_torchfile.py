"""Static torch-file facts on real torch.save output (both formats), TorchScript, tar; cost on 4 GB files."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from modeltemplates.inspect.torchfile import TorchFileError, TorchFileFacts, read_torch_file
from tests import builders_torch as bt

torch = pytest.importorskip("torch")


def facts_of(data: bytes) -> TorchFileFacts:
    return read_torch_file(io.BytesIO(data), len(data))


def by_name(facts: TorchFileFacts) -> dict[str, Any]:
    return {t.name: t for t in facts.tensors}


@pytest.mark.parametrize(("legacy", "protocol"), [(False, 2), (True, 2), (True, 4), (False, 4)])
def test_state_dict_tensors_match_torch(legacy: bool, protocol: int) -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(2, 5))
    sd = model.state_dict()
    facts = facts_of(bt.torch_bytes(sd, legacy=legacy, protocol=protocol))
    assert facts.format == ("legacy" if legacy else "zip")
    assert facts.object_kind == "state_dict" and facts.object_type == "collections.OrderedDict"
    got = by_name(facts)
    assert list(got) == list(sd)
    for name, tensor in sd.items():
        t = got[name]
        assert t.shape == tuple(tensor.shape)
        assert t.stride == tuple(tensor.stride())
        assert t.dtype == str(tensor.dtype).removeprefix("torch.")
        assert t.numel == tensor.numel() and t.nbytes == tensor.numel() * tensor.element_size()
    assert facts.parameter_count == sum(t.numel() for t in sd.values())
    assert facts.dtypes == {"float32": 8, "int64": 1}
    assert {p.role for p in facts.pickles} >= {"data"} if not legacy else {"magic", "object", "storage_keys"}
    assert all(p.protocols == (protocol,) for p in facts.pickles if p.read_by_torch)
    assert not facts.problems


def test_views_offsets_ties_and_parameters() -> None:
    base = torch.arange(12, dtype=torch.float32)
    weight = torch.nn.Parameter(torch.ones(2, 3))
    obj = {"view": base[2:8].view(2, 3), "t": base.view(3, 4).t(), "w": weight, "tied": weight}
    for legacy in (False, True):
        facts = facts_of(bt.torch_bytes(obj, legacy=legacy))
        got = by_name(facts)
        assert got["view"].storage_offset == 2 and got["view"].shape == (2, 3)
        assert got["t"].stride == (1, 4)
        assert got["view"].storage_key == got["t"].storage_key
        assert got["w"].parameter and got["w"].requires_grad
        assert got["tied"].alias_of == "w"
        assert facts.tensor_count == 4 and facts.parameter_count == 6 + 12 + 6
        assert len(facts.storages) == 2 and not facts.problems


def test_checkpoint_dict_module_and_other_objects() -> None:
    model = torch.nn.Linear(3, 2)
    ckpt = {"epoch": 3, "model_state_dict": model.state_dict(), "optimizer": {"lr": 0.1}}
    facts = facts_of(bt.torch_bytes(ckpt, legacy=True))
    assert (facts.object_kind, facts.state_dict_key) == ("checkpoint", "model_state_dict")
    assert [t.name for t in facts.tensors] == ["model_state_dict.weight", "model_state_dict.bias"]
    facts = facts_of(bt.torch_bytes(model))
    assert (facts.object_kind, facts.module_class) == ("module", "torch.nn.modules.linear.Linear")
    assert [t.name for t in facts.tensors] == ["weight", "bias"] and all(t.parameter for t in facts.tensors)
    assert facts_of(bt.torch_bytes([1, 2])).object_type == "list"
    assert facts_of(bt.torch_bytes(torch.zeros(2))).object_kind == "tensor"


def test_sparse_quantized_and_special_dtypes() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = torch.quantize_per_tensor(torch.zeros(4), 0.5, 0, torch.quint8)
    obj = {"s": torch.eye(3).to_sparse(), "q": q, "u16": torch.zeros(2, dtype=torch.uint16)}
    facts = facts_of(bt.torch_bytes(obj))
    got = by_name(facts)
    assert got["s"].layout == "sparse_coo" and got["s"].shape == (3, 3)
    assert got["q"].layout == "quantized" and got["q"].dtype == "quint8"
    assert got["u16"].dtype == "uint16" and got["u16"].rebuild.endswith("_rebuild_tensor_v3")
    assert facts.tensor_count == 3


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_archive(tmp_path: Path) -> None:
    path = tmp_path / "ts.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    facts = read_torch_file(path.open("rb"), path.stat().st_size)
    assert facts.format == "torchscript" and facts.format_version is not None
    assert any(p.role == "constants" for p in facts.pickles)


def test_old_tar_layout(tmp_path: Path) -> None:
    path = bt.tar_file(tmp_path / "old.pth", (2, 3))
    assert torch.load(str(path), weights_only=False)["w"].shape == (2, 3)  # the builder is faithful
    facts = read_torch_file(path.open("rb"), path.stat().st_size)
    assert facts.format == "tar"
    assert [(t.name, t.shape, t.dtype) for t in facts.tensors] == [("w", (2, 3), "float32")]


def test_plain_pickle_and_unrecognised() -> None:
    import pickle

    assert facts_of(pickle.dumps({"a": 1}, 2)).format == "pickle"
    with pytest.raises(TorchFileError) as info:
        facts_of(b"\x00\x00garbage")
    assert info.value.kind == "unrecognised"


def test_to_dict_is_deterministic_json() -> None:
    data = bt.torch_bytes(bt.linear_state_dict())
    first = json.dumps(facts_of(data).to_dict(), sort_keys=True)
    assert first == json.dumps(facts_of(data).to_dict(), sort_keys=True)
    assert json.loads(first)["totals"]["tensors"] == 2


def test_hand_built_legacy_file_is_what_torch_reads(tmp_path: Path) -> None:
    path = bt.legacy_file(tmp_path / "l.pth", {"a": (2, 3), "b": (4,)})
    loaded = torch.load(str(path), weights_only=False)
    facts = read_torch_file(path.open("rb"), path.stat().st_size)
    assert {t.name: t.shape for t in facts.tensors} == {k: tuple(v.shape) for k, v in loaded.items()}


_MEASURE = textwrap.dedent(
    """
    import io, sys
    from modeltemplates.inspect.torchfile import read_torch_file

    class Counting(io.FileIO):
        read_bytes = 0
        def readinto(self, b):
            n = super().readinto(b)
            Counting.read_bytes += n or 0
            return n
        def read(self, size=-1):
            data = super().read(size)
            Counting.read_bytes += len(data)
            return data

    path = sys.argv[1]
    with Counting(path, "rb") as fh:
        fh.seek(0, 2); size = fh.tell(); fh.seek(0)
        facts = read_torch_file(fh, size)
    with open("/proc/self/status") as st:  # peak RSS of this process image (ru_maxrss survives exec)
        hwm = next(int(line.split()[1]) for line in st if line.startswith("VmHWM:"))
    print(Counting.read_bytes, hwm, facts.tensor_count, facts.storage_bytes)
    """
)


@pytest.mark.parametrize("fmt", ["legacy", "zip"])
def test_four_gigabyte_files_cost_their_metadata(tmp_path: Path, fmt: str) -> None:
    """O(metadata): bytes read and peak memory do not depend on the 4 GiB of weights."""
    n = 1 << 30  # 4 GiB of float32, a hole on disk
    if fmt == "legacy":
        path = bt.legacy_file(tmp_path / "big.pth", {"w": (n,), "b": (16,)}, real_data=False)
    else:
        small = bt.torch_bytes({"w": torch.zeros(4)})
        arch = bt.archive_name(small)
        import zipfile

        with zipfile.ZipFile(io.BytesIO(small)) as zf:
            pkl = zf.read(f"{arch}/data.pkl")
        pkl = pkl.replace(b"K\x04t", b"J" + n.to_bytes(4, "little") + b"t").replace(
            b"K\x04\x85", b"J" + n.to_bytes(4, "little") + b"\x85"
        )
        path = bt.hand_zip(tmp_path / "big.pth", [(f"{arch}/data.pkl", pkl), (f"{arch}/data/0", 4 * n)])
    assert path.stat().st_size > 4 * n
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True, cwd=root
    ).stdout.split()
    read_bytes, rss_kib = int(out[0]), int(out[1])
    assert read_bytes < 1 << 20
    assert rss_kib < 100 * 1024
    assert int(out[3]) >= 4 * n
    facts = read_torch_file(path.open("rb"), path.stat().st_size)
    assert facts.tensors[0].numel == n and not [p for p in facts.problems if p.code != "orphan-storage"]
