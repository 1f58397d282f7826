"""Model-file checks: fidelity against real torch 1.0 verdicts, payloads, broken files, fuzzing."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeltemplates.checks.modelfile import RULES, ModelFileResult, check_model_file, classify_global
from modeltemplates.findings import Severity
from modeltemplates.inspect.pickle import Limits
from modeltemplates.inspect.torchfile import TorchLimits
from modeltemplates.runtime import Runtime
from tests import builders_torch as bt
from tests.conftest import FIDELITY

PY27 = Runtime("PyTorch", "1.0", "2.7")
PY37 = Runtime("PyTorch", "1.0", "3.7")
NEW = Runtime("PyTorch", "2.13", "3.11")


def check(data: bytes, runtime: Runtime = PY37, **kw: Any) -> ModelFileResult:
    return check_model_file("model/model.pth", io.BytesIO(data), len(data), runtime, **kw)


def errors(result: ModelFileResult) -> list[str]:
    return [f"{f.rule}: {f.message}" for f in result.findings if f.severity is Severity.ERROR]


def rules(result: ModelFileResult, severity: Severity | None = None) -> set[str]:
    return {f.rule for f in result.findings if severity is None or f.severity is severity}


# --------------------------------------------------------------------------------------------
# Fidelity: what real torch 1.0.0 did with each file


def _fidelity_cases() -> list[tuple[str, str]]:
    labels = json.loads((FIDELITY / "labels.json").read_text())
    return [(mid, py) for mid in sorted(labels["models"]) for py in ("py27", "py37")]


#: The real cause each failing file must be explained by (what the runtime's error was about).
CAUSES = {
    "pub-ckpt-numpy-array-legacy": "numpy._core",
    "pub-module-zip": "zip",
    "pub-sd-zip": "zip",
    "pub-sd-legacy-bfloat16": "BFloat16Storage",
    "pub-sd-legacy-bool": "BoolStorage",
    "pub-sd-legacy-p4": "protocol 4",
    "pub-user-class-module-legacy": "__main__.Net",
}


@pytest.mark.parametrize(("model_id", "python"), _fidelity_cases())
def test_fidelity_models_match_real_torch_1_0(model_id: str, python: str) -> None:
    label = json.loads((FIDELITY / "labels.json").read_text())["models"][model_id][python]
    path = FIDELITY / "models" / f"{model_id}.pth"
    runtime = PY27 if python == "py27" else PY37
    with path.open("rb") as fh:
        result = check_model_file(path.name, fh, path.stat().st_size, runtime)
    errs = errors(result)
    assert (not errs) == label["ok"], errs
    if label["ok"]:
        assert result.facts is not None
        assert result.facts.tensor_count == label["n_tensors"]
        assert result.facts.object_type == label["type"]
    else:
        assert any(CAUSES[model_id] in e for e in errs), errs


# --------------------------------------------------------------------------------------------
# Real checkpoints


@pytest.fixture(scope="module")
def torch_mod() -> Any:
    return pytest.importorskip("torch")


def test_legacy_protocol_2_state_dict_is_clean_on_both_runtimes(torch_mod: Any) -> None:
    data = bt.torch_bytes(bt.linear_state_dict(), legacy=True)
    for runtime in (PY27, PY37):
        result = check(data, runtime)
        assert not result.findings, result.findings
        assert result.facts is not None and result.facts.tensor_count == 2


def test_new_torch_reads_zip_and_protocol_4(torch_mod: Any) -> None:
    sd = bt.linear_state_dict()
    for data in (bt.torch_bytes(sd), bt.torch_bytes(sd, legacy=True, protocol=4)):
        assert not check(data, NEW).findings


@pytest.mark.parametrize(
    ("dtype", "ok_on_1_0", "cause"),
    [
        ("float32", True, ""), ("float64", True, ""), ("float16", True, ""), ("int64", True, ""),
        ("int32", True, ""), ("int16", True, ""), ("int8", True, ""), ("uint8", True, ""),
        ("bool", False, "BoolStorage"), ("bfloat16", False, "BFloat16Storage"),
        ("complex64", False, "ComplexFloatStorage"), ("uint16", False, "_rebuild_tensor_v3"),
        ("float8_e4m3fn", False, "_rebuild_tensor_v3"),
    ],
)  # fmt: skip
def test_dtypes_against_torch_1_0(torch_mod: Any, dtype: str, ok_on_1_0: bool, cause: str) -> None:
    t = torch_mod.zeros(3, dtype=getattr(torch_mod, dtype))
    result = check(bt.torch_bytes({"t": t}, legacy=True))
    errs = errors(result)
    assert (not errs) == ok_on_1_0, errs
    assert all(cause in " ".join(errs) for _ in [0] if cause)
    assert result.facts is not None and result.facts.tensors[0].dtype == dtype


def test_whole_module_of_torch_class_is_a_warning(torch_mod: Any) -> None:
    result = check(bt.torch_bytes(torch_mod.nn.Sequential(torch_mod.nn.Linear(2, 2)), legacy=True))
    assert not errors(result)
    assert "MOD017" in rules(result, Severity.WARNING)
    assert result.facts is not None
    assert [t.name for t in result.facts.tensors] == ["0.weight", "0.bias"]


def test_package_class_is_a_warning_and_unknown_module_an_error() -> None:
    data = b"\x80\x02" + bt.text_global("mypkg.nets", "Net") + b")\x81."
    legacy = _legacy_with_object(data)
    result = check(legacy, package_modules=frozenset({"mypkg"}))
    assert rules(result) == {"MOD022"}
    result = check(legacy)
    assert "MOD016" in rules(result, Severity.ERROR)


def test_python3_module_names_fail_on_python_2() -> None:
    obj = b"\x80\x02" + bt.text_global("builtins", "set") + b"](K\x01e\x85R."
    legacy = _legacy_with_object(obj)
    assert not errors(check(legacy, PY37))
    assert any("Python 2 has no module 'builtins'" in e for e in errors(check(legacy, PY27)))


def test_numpy_arrays_from_numpy_2_need_numpy_2(torch_mod: Any) -> None:
    import numpy

    result = check(bt.torch_bytes({"mean": numpy.zeros(3, dtype="float32")}, legacy=True))
    assert any("numpy._core" in e for e in errors(result))
    assert not errors(check(bt.torch_bytes({"mean": numpy.zeros(3)}), NEW))


# --------------------------------------------------------------------------------------------
# Malicious pickles: never executed, always an error, wherever they hide


def _legacy_with_object(obj_pickle: bytes, *, sys_info: bytes | None = None, after: bytes = b"") -> bytes:
    parts = [
        pickle.dumps(bt.MAGIC, 2),
        pickle.dumps(1001, 2),
        sys_info or pickle.dumps({"protocol_version": 1001, "little_endian": True, "type_sizes": {}}, 2),
        obj_pickle,
        pickle.dumps([], 2),
    ]
    return b"".join(parts) + after


def _assert_flagged(result: ModelFileResult, marker: Path) -> None:
    assert not marker.exists()
    assert {"MOD020", "MOD021", "MOD016"} & rules(result, Severity.ERROR), result.findings


@pytest.mark.parametrize("name", sorted(bt.malicious_pickles(Path("/x"))))
def test_payloads_as_plain_pickles(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "marker"
    payload = bt.malicious_pickles(marker)[name]
    _assert_flagged(check(payload), marker)


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "getattr-chain", "dotted-name", "stack-global"])
def test_payloads_in_every_legacy_position(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "marker"
    payload = bt.malicious_pickles(marker)[name]
    for data in (
        _legacy_with_object(payload),
        _legacy_with_object(pickle.dumps({}, 2), sys_info=payload),
        _legacy_with_object(pickle.dumps({}, 2), after=payload),
        bt.legacy_file(tmp_path / "m.pth", {"w": (2,)}, extra_after=payload).read_bytes(),
    ):
        result = check(data)
        _assert_flagged(result, marker)


@pytest.mark.parametrize("name", ["os.system", "__builtin__.eval", "operator.attrgetter", "inst"])
def test_payloads_in_zip_members(tmp_path: Path, torch_mod: Any, name: str) -> None:
    marker = tmp_path / "marker"
    payload = bt.malicious_pickles(marker)[name]
    data = bt.torch_bytes(bt.linear_state_dict())
    arch = bt.archive_name(data)
    replaced = bt.rebuild_zip(data, replace={f"{arch}/data.pkl": payload})
    _assert_flagged(check(replaced, NEW), marker)
    extra = bt.zip_with_extra(data, f"{arch}/extra.pkl", payload)
    result = check(extra, NEW)
    _assert_flagged(result, marker)
    assert "MOD023" in rules(result)
    outside = bt.zip_with_extra(data, "elsewhere/x.pkl", payload)
    _assert_flagged(check(outside, NEW), marker)


def test_classify_spellings() -> None:
    dangerous = [("os", "system"), ("posix", "system"), ("nt", "system"), ("__builtin__", "eval"),
                 ("builtins", "getattr"), ("subprocess", "Popen"), ("runpy", "_run_code"),
                 ("operator", "attrgetter"), ("torch.serialization", "os.system"),
                 ("torch", "load.__globals__")]  # fmt: skip
    for module, name in dangerous:
        assert classify_global(module, name, "legacy", frozenset()).category == "dangerous", (module, name)
    assert classify_global("torch", "load", "zip", frozenset()).category in ("dangerous", "torch-other")
    assert classify_global("torch._utils", "_rebuild_tensor_v2", "zip", frozenset()).category == "weights"
    assert classify_global("__builtin__", "set", "legacy", frozenset()).category == "weights"


# --------------------------------------------------------------------------------------------
# Broken input


MAGIC_LONG1 = b"\x8a\x0a" + bt.MAGIC.to_bytes(10, "little")


def _zip_sd() -> bytes:
    pytest.importorskip("torch")
    return bt.torch_bytes(bt.linear_state_dict())


def _legacy_sd() -> bytes:
    pytest.importorskip("torch")
    return bt.torch_bytes(bt.linear_state_dict(), legacy=True)


def _flip_crc(data: bytes) -> bytes:
    arch = bt.archive_name(data)
    buf = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(f"{arch}/data.pkl")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.fp.seek(info.header_offset + 28)  # type: ignore[union-attr]
        extra_len = struct.unpack("<H", zf.fp.read(2))[0]  # type: ignore[union-attr]
    start = info.header_offset + 30 + len(info.filename.encode()) + extra_len
    buf[start + 40] ^= 0x01  # inside a BINUNICODE key: still a pickle, wrong CRC
    return bytes(buf)


@pytest.mark.parametrize(
    ("make", "rule"),
    [
        (lambda: b"", "MOD001"),
        (lambda: os.urandom(0) + b"\x00\x01\x02garbage" * 10, "MOD001"),
        (lambda: b"hello world, not a model\n", "MOD001"),
        (lambda: _legacy_sd()[:200], "MOD002"),
        (lambda: _legacy_sd()[:-10], "MOD002"),
        (lambda: _zip_sd()[:-30], "MOD002"),
        (lambda: _zip_sd()[: len(_zip_sd()) // 2], "MOD002"),
        (lambda: _legacy_sd().replace(MAGIC_LONG1, MAGIC_LONG1[:-1] + b"\x18"), "MOD019"),
        (lambda: _flip_crc(_zip_sd()), "MOD002"),
        (lambda: bt.rebuild_zip(_zip_sd(), duplicate=f"{bt.archive_name(_zip_sd())}/data.pkl"), "MOD002"),
        (lambda: b"\x80\x02" + b"(" * 200_000 + b".", "MOD003"),
        (lambda: b"\x80\x02Np4000000000\n.", "MOD003"),
    ],
    ids=["empty", "random", "text", "legacy-truncated-pickles", "legacy-truncated-storage", "zip-no-eocd",
         "zip-half", "wrong-magic", "bad-crc", "duplicate-member", "deep-nesting", "memo-index"],
)  # fmt: skip
@pytest.mark.timeout(60)  # a hang guard, not a speed target
def test_broken_files_give_a_clear_finding(make: Any, rule: str) -> None:
    data = make()
    limits = TorchLimits()
    result = check(data, limits=limits)
    assert rule in rules(result), result.findings


def test_memo_bomb_is_refused() -> None:
    bomb = b"\x80\x02N" + b"".join(b"r" + i.to_bytes(4, "little") for i in range(60_000)) + b"."
    result = check(bomb, limits=TorchLimits(pickle=Limits(max_memo=50_000)))
    assert "MOD003" in rules(result, Severity.ERROR)


def test_decompression_bomb_is_refused_unread(torch_mod: Any) -> None:
    data = bt.torch_bytes(bt.linear_state_dict())
    arch = bt.archive_name(data)
    bomb = bt.zip_with_extra(bt.rebuild_zip(data, compress=True), f"{arch}/bomb.pkl", b"\0" * (16 << 20))
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bomb)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    result = check(buf.getvalue(), NEW)
    assert "MOD003" in rules(result, Severity.ERROR) and "MOD024" in rules(result)


def test_overlapping_zip_members(tmp_path: Path) -> None:
    path = bt.hand_zip(tmp_path / "o.pth", [("a/data.pkl", pickle.dumps({}, 2)), ("a/data/0", 16)])
    data = bytearray(path.read_bytes())
    cd = data.rfind(b"PK\x01\x02")  # point the last directory entry at the first local header
    zip64_extra_offset = cd + 46 + len(b"a/data/0") + 4 + 16
    data[zip64_extra_offset : zip64_extra_offset + 8] = (0).to_bytes(8, "little")
    result = check(bytes(data), NEW)
    assert "MOD002" in rules(result, Severity.ERROR)


def test_storage_inconsistencies_are_errors(tmp_path: Path, torch_mod: Any) -> None:
    data = bt.torch_bytes({"w": torch_mod.zeros(4)})
    arch = bt.archive_name(data)
    short = bt.rebuild_zip(data, replace={f"{arch}/data/0": b"\0" * 8})
    assert any("needs 16 bytes" in e for e in errors(check(short, NEW)))
    legacy = bt.legacy_file(tmp_path / "l.pth", {"w": (4,)}).read_bytes()
    assert any("elements" in e for e in errors(check(legacy[:-4], NEW)))


# --------------------------------------------------------------------------------------------
# Fuzzing real checkpoints: nothing escapes, time stays bounded


@pytest.fixture(scope="module")
def seeds() -> list[bytes]:
    pytest.importorskip("torch")
    sd = bt.linear_state_dict()
    return [bt.torch_bytes(sd), bt.torch_bytes(sd, legacy=True), bt.torch_bytes(sd, legacy=True, protocol=4)]


mutation = st.tuples(
    st.integers(min_value=0, max_value=2),
    st.lists(st.tuples(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=255)), max_size=8),
    st.one_of(st.none(), st.integers(min_value=0, max_value=5000)),
    st.binary(max_size=16),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation)
def test_fuzzed_checkpoints_never_raise(
    seeds: list[bytes], mut: tuple[int, list[tuple[int, int]], int | None, bytes]
) -> None:
    which, flips, cut, insert = mut
    data = bytearray(seeds[which])
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut is not None:
        pos = cut % len(data)
        data[pos:pos] = insert
        data = data[: max(1, len(data) - (cut % 7))]
    for runtime in (PY27, NEW):
        result = check(bytes(data), runtime)
        assert isinstance(result, ModelFileResult)


def test_rule_ids_are_unique_and_documented() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids)) and all(i.startswith("MOD") for i in ids)
    assert all(r.what and r.why and r.fix for r in RULES)


def test_payload_in_a_torch_file_nested_in_a_pickle(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    inner = _legacy_with_object(pickle.dumps({}, 2), sys_info=bt.malicious_pickles(marker)["os.system"])
    outer = (
        b"\x80\x03}X\x01\x00\x00\x00s"
        + bt.text_global("torch.storage", "_load_from_bytes")
        + b"(B"
        + struct.pack("<I", len(inner))
        + inner
        + b"tRs."
    )
    result = check(outer, NEW)
    _assert_flagged(result, marker)
    assert any("<nested file 1>" in f.message for f in result.findings if f.rule == "MOD020")
