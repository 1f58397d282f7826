"""The symbolic pickle machine against CPython's own (C) unpickler, on benign input only."""

from __future__ import annotations

import contextlib
import io
import math
import pickle
import warnings
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeltemplates.inspect.pickle import (
    OPCODES,
    Call,
    Global,
    Limits,
    PDict,
    PersistentId,
    PickleError,
    PSet,
    canonical_name,
    load,
    load_stream,
)


def run(data: bytes, **kw: Any) -> Any:
    return load(io.BytesIO(data), 0, len(data), **kw)


_SAFE_CALLS = {
    ("_codecs", "encode"): lambda s, enc: s.encode(enc),
    ("builtins", "set"): set,
    ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("__builtin__", "bytearray"): bytearray,
    ("builtins", "bytes"): bytes,
    ("__builtin__", "bytes"): bytes,
    ("collections", "OrderedDict"): OrderedDict,
}


def concrete(value: Any) -> Any:
    """Turn a symbolic value of benign data back into Python (test-only; fixed safe callables)."""
    if isinstance(value, PDict):
        return {concrete(k): concrete(v) for k, v in value.items}
    if isinstance(value, PSet):
        items = [concrete(v) for v in value.items]
        return frozenset(items) if value.frozen else set(items)
    if isinstance(value, list):
        return [concrete(v) for v in value]
    if isinstance(value, tuple):
        return tuple(concrete(v) for v in value)
    if isinstance(value, Call):
        assert isinstance(value.func, Global)
        func = _SAFE_CALLS[(value.func.module, value.func.name)]
        out = func(*concrete(value.args))
        for k, v in value.setitems:
            out[concrete(k)] = concrete(v)
        for item in value.items:
            out.add(concrete(item)) if isinstance(out, set) else out.append(concrete(item))
        return out
    return value


hashables = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.binary(max_size=20),
    st.floats(allow_nan=False),
)  # fmt: skip
values = st.recursive(
    hashables | st.builds(bytearray, st.binary(max_size=10)),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.tuples(children, children),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), children, max_size=4),
        st.sets(hashables, max_size=4),
        st.frozensets(st.integers(), max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, st.integers(min_value=0, max_value=5))
def test_benign_values_round_trip_like_cpython(value: Any, protocol: int) -> None:
    data = pickle.dumps(value, protocol=protocol)
    res = run(data)
    assert concrete(res.value) == pickle.loads(data)
    assert res.end == len(data)
    assert (res.protocol if protocol >= 2 else 0) == (protocol if protocol >= 2 else 0)
    assert res.opcode_protocol <= max(protocol, 2 if protocol < 2 else protocol)


# Text arguments and stack rules: the C unpickler's answer is the reference. (value or error)
CASES = [
    b"I00\n.", b"I01\n.", b"I 1\n.", b"I+1\n.", b"I-0\n.", b"I0x1f\n.", b"I010\n.", b"I1_000\n.",
    b"I99999999999999999999\n.", b"I12\x00zz\n.", b"I\n.", b"Iabc\n.", b"I0b11\n.", b"I 12 \n.", b"I12L\n.",
    b"L10L\n.", b"L0x10L\n.", b"L-5\n.", b"L1_0\n.", b"L\n.", b"Lzz\n.", b"L010\n.", b"L0o17\n.",
    b"F1.5\n.", b"Finf\n.", b"F-Infinity\n.", b"Fnan\n.", b"F 1.5\n.", b"F1e\n.", b"F1e5\n.", b".5\n.",
    b"F1.5x\n.", b"F1e999\n.", b"F1_0\n.", b"F.5e-3\n.",
    b"S'a\\x41'\n.", b'S"q"\n.', b"S'abc\n.", b"S'\\101\\n'\n.", b"S'a\\\n'\n.", b"S'\\x4'\n.", b"S''\n.",
    b"S'\n.", b"S'\\q'\n.",
    b"Vab\\u0041\n.", b"V\\u00e9\n.", b"V\\u12\n.", b"Vplain\n.",
    b"K\x01p1\n0g1\n.", b"K\x01p 1\n0g1\n.", b"K\x01p-1\n.", b"g7\n.", b"K\x01p1_0\n0g10\n.",
    b"\x80\x04K\x07p5\n0K\x08\x94h\x01.", b"K\x01q\x03h\x03.", b"K\x01r\x00\x01\x00\x00j\x00\x01\x00\x00.",
    b"(K\x01K\x02\x86.", b"K\x01(0.", b"K\x01(K\x02K\x031.", b"(K\x01K\x02t.", b"(K\x01K\x02l.",
    b"(K\x01K\x02K\x03d.", b"}K\x01K\x02s.", b"}(K\x01K\x02u.", b"](K\x01e.", b"]K\x01a.",
    b"(.", b"K\x01(.", b"2.", b"K\x012\x86.", b"t.", b"0.", b"1.",
    b"\x80\x05.", b"\x80\x06K\x01.", b"\x80\x02\x8a\x02\xff\x7f.", b"\x80\x02\x8b\x02\x00\x00\x00\xff\x7f.",
    b"\x80\x02\x8b\xff\xff\xff\xff.", b"\x80\x04\x8f(K\x01K\x02\x90.", b"\x80\x04(K\x01\x91.",
    b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x01.", b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00K\x01.",
    b"\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00ab.", b"\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00ab\x98.",
    b"C\x02ab\x98.", b"K\x01\x98.", b"X\x02\x00\x00\x00\xed\xa0.", b"T\x02\x00\x00\x00ab.", b"U\x02ab.",
    b"B\x02\x00\x00\x00ab.", b"\x8e\x02\x00\x00\x00\x00\x00\x00\x00ab.", b"\x8d\x01\x00\x00\x00\x00\x00\x00\x00a.",
    b"X\xff\xff\xff\xffab.", b"\x8e\xff\xff\xff\xff\xff\xff\xff\x7fab.", b"G?\xf0\x00\x00\x00\x00\x00\x00.",
    b"J\xff\xff\xff\xff.", b"M\xff\xff.", b"N.", b"\x88.", b"\x89.", b").", b"K\x01\x85.", b"K\x01K\x02K\x03\x87.",
    b"", b"K", b"Z.", b"\x80\x02K\x01", b"K\x01K\x02.", b"\x82\x01.", b"\x84\x00\x00\x00\x00.",
]  # fmt: skip


def _cpython(data: bytes) -> tuple[bool, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            value = pickle.loads(data, encoding="utf-8")
    except Exception:  # the reference may raise anything; only success/failure is compared
        return False, None
    return True, bytes(value) if isinstance(value, memoryview) else value  # read-only buffer ~ bytes


@pytest.mark.parametrize("data", CASES, ids=[repr(c)[:40] for c in CASES])
def test_text_arguments_and_stack_rules_follow_the_c_unpickler(data: bytes) -> None:
    ok, expected = _cpython(data)
    if ok:
        got = concrete(run(data).value)
        if isinstance(expected, float) and math.isnan(expected):
            assert math.isnan(got)
        else:
            assert got == expected and type(got) is type(expected)
    else:
        with pytest.raises(PickleError):
            run(data)


def test_globals_calls_and_persistent_ids_are_recorded_with_offsets() -> None:
    data = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85RX\x01\x00\x00\x00kQ\x86."
    res = run(data)
    assert [(g.module, g.name, g.offset, g.opcode) for g in res.globals] == [("os", "system", 2, "GLOBAL")]
    assert [(c.func, c.offset, c.opcode, c.nargs) for c in res.calls] == [(Global("os", "system"), 21, "REDUCE", 1)]
    call, pid = res.value
    assert isinstance(call, Call) and call.args == ("ls",)
    assert isinstance(pid, PersistentId) and pid.pid == "k"
    assert res.protocols == (2,) and res.opcode_protocol == 2


def test_opcode_protocol_reveals_protocol_4_material_in_a_protocol_2_stream() -> None:
    res = run(b"\x80\x02\x8c\x01a.")  # SHORT_BINUNICODE is a protocol 4 opcode
    assert res.protocol == 2 and res.opcode_protocol == 4 and res.needed_protocol == 4
    assert run(b"\x80\x02C\x01a.").opcode_protocol == 3
    assert run(b"K\x01.").opcode_protocol == 1 and run(b"I1\n.").opcode_protocol == 0


def test_stack_global_inst_obj_newobj_build() -> None:
    res = run(b"\x80\x04\x8c\x01m\x8c\x01n\x93)\x81}b.")
    assert isinstance(res.value, Call) and res.value.opcode == "NEWOBJ"
    assert isinstance(res.value.state[0], PDict)
    assert run(b"(imod\ncls\n.").value.func == Global("mod", "cls")
    assert run(b"(cmod\ncls\nK\x01o.").value.args == (1,)
    with pytest.raises(PickleError, match="STACK_GLOBAL requires str"):
        run(b"\x80\x04K\x01K\x02\x93.")
    odd = run(b"\x80\x04cm\nf\n)R\x8c\x01x\x93.")  # names computed by a call
    assert [o.kind for o in odd.oddities] == ["dynamic-global"]
    odd = run(b"\x80\x02cm\nC\n}b.")  # BUILD on a class object
    assert [o.kind for o in odd.oddities] == ["mutates-global"]
    odd = run(b"\x80\x02cm\nf\n)R)R.")  # calling the result of a call
    assert "call-of-value" in [o.kind for o in odd.oddities]


def test_ext_codes_use_the_registry_and_fail_without_it() -> None:
    with pytest.raises(PickleError, match="unregistered extension code 7"):
        run(b"\x80\x02\x82\x07.")
    res = run(b"\x80\x02\x82\x07.", extension_registry={7: ("os", "system")})
    assert res.value == Global("os", "system") and res.globals[0].opcode == "EXT1"


def test_out_of_band_buffers_are_symbolic() -> None:
    res = run(b"\x80\x05\x97\x98.")
    assert res.value.readonly and res.oddities[0].kind == "out-of-band-buffer"


def test_stacked_pickles_each_have_their_own_memo() -> None:
    data = pickle.dumps("a", 2) + pickle.dumps([1], 2) + pickle.dumps({"k": 2}, 4)
    results = load_stream(io.BytesIO(data), 0, len(data))
    assert [concrete(r.value) for r in results] == ["a", [1], {"k": 2}]
    with pytest.raises(PickleError, match="Memo value not found"):
        load_stream(io.BytesIO(b"K\x01q\x00." + b"h\x00."), 0, 8)


@pytest.mark.parametrize(
    ("data", "limits", "match"),
    [
        (b"(" * 50 + b"N.", Limits(max_marks=10), "nested MARKs"),
        (b"N" + b"2" * 50 + b".", Limits(max_stack=20), "stack deeper"),
        (b"Np99999999999\n.", Limits(), "memo index"),
        (b"N" + b"".join(b"r" + i.to_bytes(4, "little") for i in range(50)) + b".", Limits(max_memo=10), "memo"),
        (b"N" * 100 + b".", Limits(max_opcodes=50), "opcodes"),
        (b"X\x00\x00\x00\x10" + b"a" * 16 + b".", Limits(max_string=1 << 20), "exceeds the limit"),
        (b"I" + b"1" * 100 + b"\n.", Limits(max_line=50), "longer than"),
    ],
)
def test_limits_raise_limit_errors(data: bytes, limits: Limits, match: str) -> None:
    with pytest.raises(PickleError, match=match) as info:
        run(data, limits=limits)
    assert info.value.limit


def test_declared_lengths_are_checked_before_allocating() -> None:
    huge = b"\x80\x04\x8d" + (1 << 62).to_bytes(8, "little") + b"x."
    with pytest.raises(PickleError) as info:
        run(huge, limits=Limits(max_string=1 << 70, max_total_bytes=1 << 70))
    assert "truncated" in info.value.message and not info.value.limit


def test_reads_stop_at_the_given_end() -> None:
    data = pickle.dumps([1, 2, 3], 2)
    with pytest.raises(PickleError, match="truncated"):
        load(io.BytesIO(data), 0, len(data) - 1)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_pickle_errors(data: bytes) -> None:
    with contextlib.suppress(PickleError):
        run(data, limits=Limits(max_opcodes=10_000))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(OPCODES)), max_size=40), st.binary(max_size=40))
def test_opcode_soup_raises_only_pickle_errors(codes: list[int], tail: bytes) -> None:
    with contextlib.suppress(PickleError):
        run(bytes(codes) + tail)


def test_canonical_names_undo_python2_spellings() -> None:
    assert canonical_name("__builtin__", "eval") == ("builtins", "eval")
    assert canonical_name("copy_reg", "_reconstructor") == ("copyreg", "_reconstructor")
    assert canonical_name("os", "system") == ("os", "system")
