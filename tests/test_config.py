"""Configuration files, command-line settings, rule selection, severities and suppressions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeltemplates.cli import main
from modeltemplates.config import ConfigError, find_config, parse_table, resolve
from modeltemplates.findings import Severity
from modeltemplates.policy import comment_start, suppressions
from tests.builders import PackageBuilder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def project(tmp_path: Path, pyproject: str | None = None, own: str | None = None) -> PackageBuilder:
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    if own is not None:
        (tmp_path / "modeltemplates.toml").write_text(own, encoding="utf-8")
    return PackageBuilder(tmp_path / "models" / "a" / "model").valid()


def test_pyproject_found_walking_up_and_show_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = project(tmp_path, '[tool.modeltemplates]\ntemplate = "pytorch-py37"\nfail-on = "warning"\n')
    code, out, _ = run(capsys, "validate", str(pkg.root), "--show-settings")
    assert code == 0
    lines = out.splitlines()
    where = str(tmp_path / "pyproject.toml")
    assert lines[0] == f"# {pkg.root}: {where}"
    assert f'template = "pytorch-py37"  # {where}' in lines
    assert f'fail-on = "warning"  # {where}' in lines
    assert 'select = ["ALL"]  # default' in lines
    code, out, _ = run(capsys, "validate", str(pkg.root), "--show-settings", "--fail-on", "info")
    assert 'fail-on = "info"  # command line' in out.splitlines()
    code, out, _ = run(capsys, "validate", str(pkg.root))
    assert out.startswith("PyTorch-py37: checking ")


def test_own_file_wins_and_pyproject_without_table_is_passed_by(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.modeltemplates]\nfail-on = 'info'\n", encoding="utf-8")
    found = find_config(inner)
    assert found is not None and found[0] == tmp_path / "pyproject.toml"
    (inner / "modeltemplates.toml").write_text("fail-on = 'warning'\n", encoding="utf-8")
    (inner / "pyproject.toml").write_text("[tool.modeltemplates]\nfail-on = 'error'\n", encoding="utf-8")
    assert resolve(inner).fail_on is Severity.WARNING
    assert resolve(inner, isolated=True).fail_on is Severity.ERROR


@pytest.mark.parametrize(("table", "message"), [
    ({"fail_on": "error"}, "unknown key 'fail_on'; did you mean 'fail-on'?"),
    ({"fail-on": "warn"}, "'warn' is not a severity; did you mean 'warning'?"),
    ({"select": ["SRC0001"]}, "unknown rule or prefix 'SRC0001'; did you mean 'SRC001'?"),
    ({"severity": {"SRC01": "info"}}, "unknown rule 'SRC01'"),
    ({"limits": {"max-text-byte": 10}}, "unknown limit 'max-text-byte'; did you mean 'max-text-bytes'?"),
    ({"limits": {"max-depth": -1}}, "expected a positive number"),
    ({"template": 3}, "expected a non-empty string"),
])
def test_bad_keys_and_values_name_the_closest(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^f\.toml: ") as info:
        parse_table(table, "f.toml")
    assert message in str(info.value)


def test_config_errors_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = project(tmp_path, own="ignroe = ['SRC']\n")
    code, _, err = run(capsys, "validate", str(pkg.root))
    assert code == 2 and "did you mean 'ignore'?" in err and "modeltemplates.toml" in err
    code, _, err = run(capsys, "validate", str(pkg.root), "--isolated", "--config", "select = [")
    assert code == 2 and "not a TOML" in err


def test_select_ignore_severity_and_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = project(tmp_path, own="")
    pkg.write("customize_service.py", "x = f'{1}'\ny = f'{2}'\n")
    pkg.write("label.json", "<<<<<<< a\n=======\n>>>>>>> b\n")
    rules = lambda *extra: {f["rule"] for f in json.loads(run(  # noqa: E731
        capsys, "validate", "-t", "pytorch-py27", str(pkg.root), "--json", *extra)[1])["findings"]}
    assert {"SRC001", "SRC007", "TXT001"} <= rules()
    assert "SRC007" not in rules("--ignore", "SRC007")
    assert rules("--select", "SRC") <= {"SRC001", "SRC007"}
    assert rules("--ignore", "SRC", "--extend-select", "SRC001") & {"SRC001", "SRC007"} == {"SRC001"}
    (pkg.root.parent.parent.parent / "modeltemplates.toml").write_text(
        "ignore = ['SRC', 'SVC']\n[severity]\nTXT001 = 'warning'\n", encoding="utf-8")
    code, out, _ = run(capsys, "validate", "-t", "pytorch-py27", str(pkg.root))
    assert code == 0 and "warning TXT001" in out
    code, _, _ = run(capsys, "validate", "-t", "pytorch-py27", str(pkg.root), "--fail-on", "warning")
    assert code == 1
    code, _, _ = run(capsys, "validate", "-t", "pytorch-py27", str(pkg.root), "--config", "fail-on = 'warning'")
    assert code == 1


def test_limits_from_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = project(tmp_path, own="[limits]\nmax-text-bytes = 10\n")
    _, out, _ = run(capsys, "validate", str(pkg.root), "--json")
    assert "TXT002" in {f["rule"] for f in json.loads(out)["findings"]}


SUPPRESSED = """\
x = f'{1}'  # modeltemplates: ignore[SRC001]
y = 1  # modeltemplates: ignore[SVC010]
z = "# modeltemplates: ignore[SRC007]"
w = 2  # modeltemplates: ignore[ZZZ999]
v = 3  # modeltemplates: ignore
"""


def test_suppressions_in_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = project(tmp_path, own="")
    pkg.write("customize_service.py", SUPPRESSED)
    _, out, _ = run(capsys, "validate", "-t", "pytorch-py27", str(pkg.root), "--json")
    data = json.loads(out)
    found = {(f["rule"], f["line"]) for f in data["findings"]}
    assert ("SRC001", 1) not in found
    assert [(f["rule"], f["line"]) for f in data["suppressed"]] == [("SRC001", 1)]
    assert {("SUP001", 2), ("SUP002", 4), ("SUP003", 5)} <= found
    assert not any(f["line"] == 3 and f["rule"].startswith("SUP") for f in data["findings"])
    _, text, _ = run(capsys, "validate", "-t", "pytorch-py27", str(pkg.root))
    assert text.splitlines()[-1].endswith(", 1 suppressed")
    _, verbose, _ = run(capsys, "validate", "-t", "pytorch-py27", str(pkg.root), "--verbose")
    assert "customize_service.py:1:5: suppressed SRC001" in verbose or "suppressed SRC001" in verbose
    _, sarif, _ = run(capsys, "validate", "-t", "pytorch-py27", str(pkg.root), "--format", "sarif")
    hidden = [r for r in json.loads(sarif)["runs"][0]["results"] if "suppressions" in r]
    assert [(r["ruleId"], r["suppressions"][0]["kind"]) for r in hidden] == [("SRC001", "inSource")]
    _, quiet_sup, _ = run(capsys, "validate", "-t", "pytorch-py27", str(pkg.root), "--json", "--ignore", "SUP")
    assert not any(f["rule"].startswith("SUP") for f in json.loads(quiet_sup)["findings"])


def test_per_file_ignores_for_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = project(tmp_path, own='[per-file-ignores]\n"*.json" = ["TXT001"]\n')
    pkg.write("label.json", "<<<<<<< a\n=======\n>>>>>>> b\n")
    _, out, _ = run(capsys, "validate", str(pkg.root), "--format", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    txt = [r for r in results if r["ruleId"] == "TXT001"]
    assert len(txt) == 1 and txt[0]["suppressions"] == [{"kind": "external", "status": "accepted"}]


def test_comment_scanner() -> None:
    assert comment_start("x = '#' # c") == 8
    assert comment_start('x = "a\\"#" # c') == 11
    assert comment_start("x = '''#''' # c") == 12
    assert comment_start("x = 1") == -1
    assert [s.codes for s in suppressions(b"a = 1  # modeltemplates: ignore[src001, SVC010]\n")] == [
        ("SRC001", "SVC010")]
