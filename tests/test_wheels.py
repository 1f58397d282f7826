"""Wheels shipped in the package and declared in config.json (the documented offline install) count as
declared: no 'bundled by mistake', no 'undeclared import' (issue 8, requirement 4)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from modeltemplates import get_template
from modeltemplates.checks.wheels import PLATFORM_MODEL_DIR, wheel_modules
from modeltemplates.findings import Report
from tests.builders import SERVICE_PY27, PackageBuilder

WHEEL = "fancyops_cpu-1.3.9-cp27-cp27mu-manylinux1_x86_64.whl"


def wheel_bytes(*, top_level: str | None = "fancyops\n", files: tuple[str, ...] = ("fancyops/__init__.py",)) -> bytes:
    """A real wheel archive: package files plus dist-info metadata (top_level.txt optional, RECORD)."""
    buf = io.BytesIO()
    info = "fancyops_cpu-1.3.9.dist-info"
    with zipfile.ZipFile(buf, "w") as zf:
        for name in files:
            zf.writestr(name, "")
        zf.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: fancyops-cpu\nVersion: 1.3.9\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n")
        if top_level is not None:
            zf.writestr(f"{info}/top_level.txt", top_level)
        record = "".join(f"{n},,\n" for n in (*files, f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD"))
        zf.writestr(f"{info}/RECORD", record)
    return buf.getvalue()


def config(package_name: str) -> str:
    return json.dumps({
        "model_algorithm": "image_classification", "model_type": "PyTorch", "runtime": "python2.7",
        "dependencies": [{"installer": "pip", "packages": [{"package_name": package_name}]}],
    })


def build(pkg: PackageBuilder, package_name: str | None) -> Report:
    pkg.valid()
    pkg.write("customize_service.py", SERVICE_PY27.replace("import torch\n", "import torch\nimport fancyops\n", 1))
    pkg.write(WHEEL, wheel_bytes())
    if package_name is not None:
        pkg.write("config.json", config(package_name))
    else:
        pkg.write("config.json", json.dumps({"model_algorithm": "a", "model_type": "PyTorch", "runtime": "python2.7"}))
    return get_template("pytorch-py27").validate(pkg.root)


@pytest.mark.parametrize("name", [WHEEL, PLATFORM_MODEL_DIR + WHEEL, "./" + WHEEL])
def test_declared_wheel_is_neither_bundled_nor_its_modules_undeclared(pkg: PackageBuilder, name: str) -> None:
    report = build(pkg, name)
    assert not report.by_rule("LAY019") and not report.by_rule("SVC010"), [f.message for f in report.findings]
    assert report.ok


def test_undeclared_wheel_is_still_reported(pkg: PackageBuilder) -> None:
    report = build(pkg, None)
    assert [f.path for f in report.by_rule("LAY019")] == [WHEEL]
    assert [f.rule for f in report.findings if f.path == "customize_service.py"] == ["SVC010"]


def test_declared_wheel_missing_from_the_package_is_an_error(pkg: PackageBuilder) -> None:
    report = build(pkg, "other-0.1-py2-none-any.whl")
    (f,) = report.by_rule("CFG017")
    assert f.severity.value == "error" and "does not hold" in f.message


def test_module_names_come_from_the_wheels_metadata(tmp_path: Path) -> None:
    # The distribution is fancyops-cpu but the module is fancyops: top_level.txt says so...
    assert wheel_modules(io.BytesIO(wheel_bytes())) == {"fancyops"}
    # ...and without top_level.txt the RECORD's paths do.
    files = ("fancyops/__init__.py", "fancyops/_ops.so", "fancy_helpers.py")
    assert wheel_modules(io.BytesIO(wheel_bytes(top_level=None, files=files))) == {"fancyops", "fancy_helpers"}
    assert wheel_modules(io.BytesIO(b"not a zip")) == frozenset()
