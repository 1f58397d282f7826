"""Every file torch, numpy or pickle could load is scanned by content, whatever its name (issue 8, req 5).

The hostile pickles here are written byte by byte and never unpickled.
"""

from __future__ import annotations

import io
import pathlib
import pickle
import struct
import zipfile

import numpy as np

from modeltemplates import get_template
from modeltemplates.findings import Report, Severity
from tests.builders import SERVICE_PY27, PackageBuilder, tiny_state_dict, torch_bytes

#: os.system('id') as a protocol-2 pickle: GLOBAL, one-tuple, REDUCE.
SYSTEM_PICKLE = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
#: An object of a class outside the allow-list (a fitted label encoder), via NEWOBJ + BUILD.
ENCODER_PICKLE = (b"\x80\x02csklearn.preprocessing._label\nLabelEncoder\nq\x00)\x81q\x01}q\x02"
                  b"X\x08\x00\x00\x00classes_q\x03]q\x04(X\x03\x00\x00\x00catq\x05es\x62.")


def validate(b: PackageBuilder) -> Report:
    return get_template("pytorch-py27").validate(b.root)


def rules_at(report: Report, path: str) -> set[tuple[str, str]]:
    return {(f.rule, f.severity.value) for f in report.findings if f.path == path}


def _npy_with_pickle(payload: bytes) -> bytes:
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


def test_pickles_under_any_name_get_the_safety_scan(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("vocab.bin", SYSTEM_PICKLE)
    pkg.write("labels.dat", ENCODER_PICKLE)
    pkg.write("plain.pkl", pickle.dumps({"a": [1, 2.5, "x"]}, protocol=2))
    pkg.write("anchors.txt", torch_bytes(tiny_state_dict()))  # a real legacy torch.save file, oddly named
    report = validate(pkg)
    assert rules_at(report, "vocab.bin") == {("MOD020", "error")}
    (f,) = report.by_rule("MOD034")
    assert f.path == "labels.dat" and "sklearn.preprocessing._label.LabelEncoder" in f.message
    assert f.severity is Severity.WARNING
    assert rules_at(report, "plain.pkl") == set() and rules_at(report, "anchors.txt") == set()


def test_the_finding_names_the_call_that_loads_the_file(pkg: PackageBuilder) -> None:
    pkg.valid()
    script = SERVICE_PY27.replace(
        "        self.model.eval()\n",
        "        self.model.eval()\n"
        "        import pickle\n"
        "        self.vocab = pickle.load(open(os.path.join(os.path.dirname(model_path), 'vocab.bin'), 'rb'))\n"
        "        self.extra = torch.load(model_path + '/extra/weights.data')\n")
    pkg.write("customize_service.py", script)
    pkg.write("vocab.bin", SYSTEM_PICKLE)
    pkg.write("extra/weights.data", ENCODER_PICKLE)
    report = validate(pkg)
    (f,) = [f for f in report.by_rule("MOD020") if f.path == "vocab.bin"]
    line = script.splitlines().index(next(x for x in script.splitlines() if "vocab.bin" in x)) + 1
    assert f"pickle.load at line {line}" in f.message
    (g,) = report.by_rule("MOD034")
    assert g.path == "extra/weights.data" and "torch.load at line" in g.message


def test_numpy_object_arrays_npy_and_npz(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("feats.npy", _npy_with_pickle(SYSTEM_PICKLE))
    buf = io.BytesIO()
    np.savez(buf, paths=np.array([pathlib.PurePosixPath("a")], dtype=object), w=np.zeros(3))
    pkg.write("meta.npz", buf.getvalue())
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 2)))
    pkg.write("plain.npy", buf.getvalue())
    report = validate(pkg)
    assert rules_at(report, "feats.npy") == {("MOD020", "error")}
    (f,) = [f for f in report.findings if f.path == "meta.npz"]
    assert f.rule == "MOD034" and "PurePosixPath" in f.message and "member 'paths.npy'" not in f.message
    assert rules_at(report, "plain.npy") == set()


def test_zip_members_torch_never_reads_are_scanned_by_content(pkg: PackageBuilder) -> None:
    pkg.valid()
    data = io.BytesIO(torch_bytes(tiny_state_dict(), legacy=False))
    with zipfile.ZipFile(data, "a") as zf:
        archive = zf.namelist()[0].split("/")[0]
        zf.writestr(f"{archive}/extra/blob", SYSTEM_PICKLE)
    pkg.write("resnet50.pth", data.getvalue())
    report = validate(pkg)
    execs = [f for f in report.by_rule("MOD020") if f.path == "resnet50.pth"]
    assert execs and all(f.severity is Severity.ERROR for f in execs)
    assert any("extra/blob" in f.message for f in execs)
