"""Facts of many-tensor files stay exactly what they were (guard for the reader's fast paths).

The expected digests were computed from the reader before its per-opcode and per-tensor work was
optimised; any change in facts, problems, pickle offsets, globals, calls or oddities changes them.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import struct
from collections import OrderedDict
from typing import Any

import attrs
import pytest

from modeltemplates.inspect.pickle import Limits
from modeltemplates.inspect.torchfile import TorchFileError, TorchFileFacts, TorchLimits, read_torch_file
from tests import builders_torch as bt

torch = pytest.importorskip("torch")


def digest(facts: TorchFileFacts) -> str:
    """sha256 of ``to_dict()`` plus every pickle's full globals, calls and oddities."""
    full = {
        "facts": facts.to_dict(),
        "pickles": [
            {
                "globals": [[g.module, g.name, g.offset, g.opcode] for g in p.globals],
                "calls": [[c.func.qualname if c.func else None, c.offset, c.opcode, c.nargs] for c in p.calls],
                "oddities": [[o.kind, o.offset, o.detail] for o in p.oddities],
            }
            for p in facts.pickles
        ],
    }
    return hashlib.sha256(json.dumps(full, sort_keys=True).encode()).hexdigest()


def read(data: bytes, limits: TorchLimits | None = None) -> TorchFileFacts:
    return read_torch_file(io.BytesIO(data), len(data), limits)


class _LegacyPickler(pickle.Pickler):
    """torch's legacy ``persistent_id``, with storage keys numbered instead of memory addresses."""

    def __init__(self, fh: io.BytesIO, protocol: int) -> None:
        super().__init__(fh, protocol=protocol)
        self.keys: dict[int, tuple[str, int, int]] = {}
        self.classes: set[type] = set()

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, type) and issubclass(obj, torch.nn.Module) and obj not in self.classes:
            self.classes.add(obj)
            return ("module", obj, "<source file>", "<source>")
        if isinstance(obj, torch.storage.TypedStorage):
            cdata = obj._untyped_storage._cdata
            key, _, _ = self.keys.setdefault(cdata, (str(len(self.keys)), obj._size(), obj.dtype.itemsize))
            storage_type = getattr(torch, obj._pickle_storage_type())
            return ("storage", storage_type, key, "cpu", obj._size(), None)
        return None


def torch_bytes(obj: Any, *, legacy: bool, protocol: int = 2) -> bytes:
    """torch.save output; the legacy format written deterministically (torch keys it by address)."""
    if not legacy:
        return bt.torch_bytes(obj, protocol=protocol)
    buf = io.BytesIO()
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for value in (bt.MAGIC, 1001, sys_info):
        pickle.dump(value, buf, protocol=protocol)
    pickler = _LegacyPickler(buf, protocol)
    pickler.dump(obj)
    pickle.dump([key for key, _, _ in pickler.keys.values()], buf, protocol=protocol)
    for _, numel, itemsize in pickler.keys.values():
        buf.write(struct.pack("<q", numel) + b"\0" * (numel * itemsize))
    return buf.getvalue()


def many_tensors() -> OrderedDict[str, Any]:
    """A state_dict-like mix: dtypes, views of shared storages, parameters, ties, 0-d tensors."""
    gen = torch.Generator().manual_seed(0)
    sd: OrderedDict[str, Any] = OrderedDict()
    base = torch.arange(64, dtype=torch.float32)
    shared = torch.nn.Parameter(torch.zeros(3, 2))
    for i in range(300):
        sd[f"blocks.{i}.conv.weight"] = torch.rand(2, 1 + i % 3, 3, 3, generator=gen)
        sd[f"blocks.{i}.bn.running_mean"] = torch.zeros(1 + i % 5, dtype=(torch.float16, torch.float64)[i % 2])
        sd[f"blocks.{i}.bn.num_batches_tracked"] = torch.tensor(i, dtype=torch.int64)
        sd[f"blocks.{i}.view"] = base[i % 8 : i % 8 + 6].view(2, 3) if i % 2 else base.view(8, 8).t()
        sd[f"blocks.{i}.mask"] = torch.ones(2, dtype=torch.bool)
    sd["tied.a"] = shared
    sd["tied.b"] = shared
    return sd


# (legacy, protocol) -> digest of the facts of torch.save(many_tensors()). The zip digests changed
# when the facts gained each member's CRC-32 (issue 8: verified when the file is hashed).
STATE_DICT = {
    (False, 2): "405c3865a1f90d7dc9e8800d5131e2925e4d633be4b5994c1a3637d7c3704971",
    (False, 4): "b69654179fcffe81dc29d790dc765e9a1ae6397de1717b8b86be3b3ffdc78cf4",
    (True, 2): "54f0f24bbd8594041f5545defeae2a744c2d92dec6454a218a4cc6528864add3",
    (True, 4): "9de986639fcb1a83eb0385b3d4dd76fbd6a42086b5b90d074f2d915fcfbe8576",
}


@pytest.mark.parametrize(("legacy", "protocol"), sorted(STATE_DICT))
def test_many_tensor_state_dict_facts_unchanged(legacy: bool, protocol: int) -> None:
    data = torch_bytes(many_tensors(), legacy=legacy, protocol=protocol)
    facts = read(data)
    assert facts.tensor_count == 1502 and facts.object_kind == "state_dict"
    assert digest(facts) == STATE_DICT[legacy, protocol]


def test_checkpoint_and_module_facts_unchanged() -> None:
    torch.manual_seed(0)  # the zip facts include each member's CRC-32, so the weights must not vary
    blocks = (torch.nn.Sequential(torch.nn.Conv2d(2, 2, 1), torch.nn.BatchNorm2d(2)) for _ in range(60))
    model = torch.nn.Sequential(*blocks)
    ckpt = {"epoch": 7, "model_state_dict": model.state_dict(), "optimizer": {"lr": 0.1, "betas": (0.9, 0.99)}}
    got = [
        digest(read(torch_bytes(ckpt, legacy=True))),
        digest(read(torch_bytes(ckpt, legacy=False, protocol=4))),
        digest(read(torch_bytes(model, legacy=True))),
    ]
    assert got == CHECKPOINT_AND_MODULE


CHECKPOINT_AND_MODULE = [
    "6ec433b47f1c6baf1e09157c4012f66bcca44eaaf57bfd95bf90016b1037ac25",
    "746b88946758dc32b8e164328038aaf779d62ada7adad5b7913e08216aad5311",
    "977d07fa54a57eaa7a44cbfc8c7db883cfe6b7e0dda148a300493de0dec93def",
]


# --------------------------------------------------------------------------------------------
# A hand-built legacy file with broken tensors: the problems each tensor raises are part of the facts.


class _Storage:
    def __init__(self, key: str, numel: int) -> None:
        self.key, self.numel = key, numel


class _Rebuild:
    def __init__(self, storage: _Storage, offset: Any, size: Any, stride: Any) -> None:
        self.args = (storage, offset, size, stride, False, OrderedDict())

    def __reduce__(self) -> Any:
        return (torch._utils._rebuild_tensor_v2, self.args)


class _Param:
    def __init__(self, inner: _Rebuild) -> None:
        self.inner = inner

    def __reduce__(self) -> Any:
        return (torch._utils._rebuild_parameter, (self.inner, True, OrderedDict()))


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _Storage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel, None)
        return None


def broken_legacy(nested: bool, protocol: int) -> bytes:
    storages = [_Storage(str(i), 4) for i in range(40)]
    sd: OrderedDict[str, Any] = OrderedDict()
    for i, st in enumerate(storages):
        kind = i % 4
        if kind == 0:
            t: Any = _Rebuild(st, 0, (2, 2), (2, 1))
        elif kind == 1:
            t = _Rebuild(st, 3, (2, 2), (2, 1))  # out of bounds
        elif kind == 2:
            t = _Param(_Rebuild(st, -1, (2,), (1,)))  # invalid offset, inside a parameter
        else:
            t = _Rebuild(st, 0, (2, 2), (1,))  # size/stride mismatch
        sd[f"layer{i}.weight"] = t
    obj: Any = {"model": sd, "epoch": 1} if nested else sd
    buf = io.BytesIO()
    for value in (bt.MAGIC, 1001, {"protocol_version": 1001, "little_endian": True, "type_sizes": {}}):
        pickle.dump(value, buf, protocol=protocol)
    _Pickler(buf, protocol=protocol).dump(obj)
    pickle.dump([s.key for s in storages], buf, protocol=protocol)
    for s in storages:
        buf.write(struct.pack("<q", s.numel) + b"\0" * (4 * s.numel))
    return buf.getvalue()


@pytest.mark.parametrize("max_problems", [200, 25])
def test_broken_tensors_problems_unchanged(max_problems: int) -> None:
    limits = TorchLimits(max_problems=max_problems)
    got = [digest(read(broken_legacy(nested, protocol), limits)) for nested in (False, True) for protocol in (2, 4)]
    assert got == BROKEN[max_problems]


BROKEN: dict[int, list[str]] = {
    200: [
        "abd90eac98bafc5563803c2b92bae88c744a62d734ca471f6ca339fc2237e7a8",
        "06df1e3fbf262b44903ae5a900040a6a8a85971fa37acc9a8af71346657b788c",
        "358d2c47c35d25b5cb63a02fc79257c1b0141b166417c8321f316bfe31d3d4e0",
        "00686fea45983dc72d24d3a992a3faeb83e25805f03f720cb7493ad4517a39b0",
    ],
    25: [
        "7369859d5e705587821a5af4c1876db5f4f4b64c9e8391ed47a9494e367b4865",
        "8d9e72130ae0708fec0881f569e11f0eaf9a9b2bf22e2038cbfe4c368d292e95",
        "39c542d3cf560b3dc73cf925922840160d024540d84292f1d39b6c26803a8537",
        "ede6dbc114bbb804b81a13e9d74a82b1d8c66334697ced56d508d3d8ec5af0fb",
    ],
}


def limit_outcomes() -> list[str]:
    legacy = torch_bytes(many_tensors(), legacy=True)
    facts = read(legacy, TorchLimits(max_walk_nodes=700))
    assert [p.code for p in facts.problems] == ["walk-limit"]
    got = [digest(facts)]
    small = (
        Limits(max_opcodes=20_000),
        Limits(max_memo=500),
        Limits(max_total_bytes=9_000),
        Limits(max_stack=6),
        Limits(max_marks=2),
    )
    for data in (legacy, torch_bytes(many_tensors(), legacy=False, protocol=4)):
        for limits in small:
            try:
                got.append(digest(read(data, TorchLimits(pickle=limits))))
            except TorchFileError as exc:
                got.append(f"{exc.kind}: {exc}")
    return got


def test_walk_limit_and_small_pickle_limits_unchanged() -> None:
    assert limit_outcomes() == LIMITS


LIMITS = [
    "23a951d4cf31b576a76b621e43e909bca7a8c2ac7bf7c586470f40d993a5e87d",
    "limit: legacy object pickle: more than 20000 opcodes (at byte 63770)",
    "limit: legacy object pickle: more than 500 memo entries (at byte 6311)",
    "limit: legacy object pickle: pickle holds more than 9000 bytes of data (at byte 38617)",
    "limit: legacy sys_info pickle: pickle stack deeper than 6 entries (at byte 91)",
    "limit: legacy object pickle: more than 2 nested MARKs (at byte 234)",
    "limit: pickle: more than 20000 opcodes in member 'archive/data.pkl' (at byte 43192)",
    "limit: pickle: more than 500 memo entries in member 'archive/data.pkl' (at byte 4412)",
    "limit: pickle: pickle holds more than 9000 bytes of data in member 'archive/data.pkl' (at byte 25558)",
    "limit: pickle: pickle stack deeper than 6 entries in member 'archive/data.pkl' (at byte 147)",
    "limit: pickle: more than 2 nested MARKs in member 'archive/data.pkl' (at byte 107)",
]


def test_to_dict_lists_every_field_as_asdict_does() -> None:
    """``to_dict`` spells out storages, members and problems; it must stay what attrs.asdict gives."""
    facts = read(broken_legacy(nested=False, protocol=2))
    zipped = read(bt.torch_bytes({"w": torch.zeros(2)}))
    for f in (facts, zipped):
        d = f.to_dict()
        assert d["storages"] == [attrs.asdict(s) for s in f.storages]
        assert d["members"] == [attrs.asdict(m) for m in f.members]
        assert d["problems"] == [attrs.asdict(p) for p in f.problems]
        for key, objects in (("storages", f.storages), ("members", f.members), ("problems", f.problems)):
            assert [list(x) for x in d[key]] == [list(attrs.asdict(o)) for o in objects]  # same key order
    assert facts.problems and zipped.members


def test_the_garbage_collector_is_never_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Process-wide state stays the embedding application's: a read neither enables nor disables it."""
    import gc

    calls: list[str] = []
    monkeypatch.setattr(gc, "disable", lambda: calls.append("disable"))
    monkeypatch.setattr(gc, "enable", lambda: calls.append("enable"))
    assert read(bt.torch_bytes({"w": torch.zeros(2)})).tensor_count == 1
    assert read(broken_legacy(nested=True, protocol=2)).tensor_count == 40
    assert calls == []
