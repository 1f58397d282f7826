"""Renderers on real packages: text folding and colour, JSON, SARIF (against the official schema),
GitHub workflow commands and JUnit XML."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from modeltemplates.cli import main
from modeltemplates.findings import Finding, Report, Severity
from modeltemplates.report import FORMATS, RenderOptions, renderer
from modeltemplates.report.github import escape_property
from modeltemplates.report.results import PackageResult, RunResult, repository_base
from modeltemplates.report.sarif import FINGERPRINT_KEY
from modeltemplates.report.text import color_wanted, render_text
from modeltemplates.rules import all_rules
from tests.builders import PackageBuilder
from tests.conftest import DATA

SCHEMA = DATA / "reference" / "sarif" / "sarif-schema-2.1.0.json"
BROKEN_SERVICE = "import os\n\nx = f'{os.sep}'\n"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    argv = list(args)
    if argv[:1] == ["validate"] and "-t" not in argv and "--template" not in argv:
        argv[1:1] = ["-t", "pytorch-py27"]  # these packages are checked for Python 2.7, not their best fit
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def broken_package(pkg: PackageBuilder) -> PackageBuilder:
    pkg.valid()
    pkg.write("customize_service.py", BROKEN_SERVICE)
    pkg.write("label.json", "<<<<<<< HEAD\n[]\n=======\n[1]\n>>>>>>> other\n")
    return pkg


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True, timeout=60)
    return path


def test_every_format_is_listed_and_renders(pkg: PackageBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    broken_package(pkg)
    for fmt in FORMATS:
        code, out, _ = run(capsys, "validate", str(pkg.root), "--format", fmt)
        assert code == 1 and out.strip(), fmt
    with pytest.raises(ValueError, match="unknown output format"):
        renderer("yaml")


def test_sarif_validates_against_the_official_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = git_repo(tmp_path / "repo")
    pkg = broken_package(PackageBuilder(repo / "models" / "demo" / "model"))
    (repo / "other").mkdir()
    missing = repo / "other" / "nothing-here"
    code, out, _ = run(capsys, "validate", str(pkg.root), str(missing), "--format", "sarif")
    assert code == 2  # the missing folder is a usage error; the worst status wins
    log = json.loads(out)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(log)
    (sarif_run,) = log["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(all_rules())
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)
    results = sarif_run["results"]
    by_rule = {r["ruleId"]: r for r in results}
    src = by_rule["SRC001"]
    loc = src["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "models/demo/model/customize_service.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 3 and src["level"] == "error"
    assert rules[src["ruleIndex"]]["id"] == "SRC001"
    assert sarif_run["invocations"][0]["executionSuccessful"] is False
    assert "nothing-here" in sarif_run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_fingerprints_survive_moved_lines(pkg: PackageBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    broken_package(pkg)

    def fingerprints() -> dict[str, str]:
        _, out, _ = run(capsys, "validate", str(pkg.root), "--format", "sarif")
        return {r["ruleId"]: r["partialFingerprints"][FINGERPRINT_KEY] for r in json.loads(out)["runs"][0]["results"]}

    before = fingerprints()
    assert before == fingerprints()
    pkg.write("customize_service.py", "# a comment\n\n" + BROKEN_SERVICE)
    assert fingerprints()["SRC001"] == before["SRC001"]


def test_sarif_severity_levels_and_package_level_locations() -> None:
    findings = [
        Finding("LAY001", Severity.ERROR, "", "no model file"),
        Finding("LAY002", Severity.WARNING, "a.py", "w", line=2, column=5),
        Finding("LAY003", Severity.INFO, "b.txt", "i"),
    ]
    package = PackageResult(path="p", template="pytorch-py27", title="PyTorch-py27", base="sub/model",
                            report=Report(template="pytorch-py27", root="model", findings=findings))
    log = json.loads(renderer("sarif")(RunResult([package]), RenderOptions()))
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note"]
    assert results[0]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "sub/model", "uriBaseId": "%SRCROOT%"}}
    assert results[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 5}


def test_github_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = git_repo(tmp_path / "repo")
    pkg = broken_package(PackageBuilder(repo / "model"))
    code, out, _ = run(capsys, "validate", str(pkg.root), "--format", "github")
    assert code == 1
    lines = out.splitlines()
    src = next(line for line in lines if "SRC001" in line)
    assert src.startswith("::error file=model/customize_service.py,line=3,col=")
    assert "title=SRC001 Python syntax the target interpreter rejects::" in src
    assert "%0AFix: " in src and "\n" not in src
    assert any(line.startswith("::error file=model/label.json,line=1,col=1,title=TXT001") for line in lines)
    assert lines[-1].startswith("modeltemplates: 1 package(s), ")


def test_github_escapes_what_would_forge_a_command() -> None:
    evil = "bad\n::error file=x::forged, 100%: \x1b[31m"
    package = PackageResult(path="p", template="t", title="T", base="m",
                            report=Report(template="t", root="m", findings=[
                                Finding("TXT001", Severity.ERROR, "a,b:c.py", evil, line=1)]))
    out = renderer("github")(RunResult([package]), RenderOptions())
    first = out.splitlines()[0]
    assert out.count("\n") == 2 and first.startswith("::error file=m/")
    assert "file=m/a%2Cb%3Ac.py," in first and "bad\\n::error" in first and "100%25" in first
    assert "\x1b" not in out
    assert escape_property("a:b,c%\r\n") == "a%3Ab%2Cc%25%0D%0A"


def test_junit_one_case_per_package_and_rule(pkg: PackageBuilder, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    broken_package(pkg)
    clean = PackageBuilder(tmp_path / "clean" / "model").valid()
    target = tmp_path / "report.xml"
    code, out, _ = run(capsys, "validate", str(pkg.root), str(clean.root), "--format", "junit", "--output", str(target))
    assert code == 1 and out == ""
    root = ET.fromstring(target.read_bytes())
    suites = root.findall("testsuite")
    assert len(suites) == 2
    n_rules = len(all_rules())
    for suite in suites:
        assert len(suite.findall("testcase")) == n_rules == int(suite.get("tests", ""))
    failed = {c.get("name") for c in suites[0].findall("testcase") if c.find("failure") is not None}
    assert {"SRC001", "TXT001"} <= failed
    assert suites[1].get("failures") == "0"
    assert int(root.get("failures", "")) == len(failed)


def test_json_single_package_keeps_the_report_shape(pkg: PackageBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    broken_package(pkg)
    _, out, _ = run(capsys, "validate", str(pkg.root), "--json")
    data = json.loads(out)
    assert Report.from_dict(data).by_rule("SRC001") and data["suppressed"] == []
    _, out2, _ = run(capsys, "validate", str(pkg.root), "--format", "json")
    assert out == out2


def test_json_several_packages(pkg: PackageBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken_package(pkg)
    clean = PackageBuilder(tmp_path / "clean" / "model").valid()
    code, out, _ = run(capsys, "validate", str(pkg.root), str(clean.root), "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert [p["ok"] for p in data["packages"]] == [False, True]
    assert [p["path"] for p in data["packages"]] == [str(pkg.root), str(clean.root)]


def _many(n: int) -> PackageResult:
    findings = [Finding("TXT001", Severity.WARNING, "a.py", f"marker {i}", line=i * 2) for i in range(1, n + 1)]
    findings.append(Finding("LAY001", Severity.ERROR, "", "no model file"))
    return PackageResult(path="p", template="t", title="T", root="/x/model", report=Report(
        template="t", root="model", findings=findings))


def test_text_folds_many_findings_of_one_rule_in_one_file() -> None:
    text = render_text(RunResult([_many(12)]))
    lines = [line for line in text.splitlines() if "TXT001" in line]
    assert lines == ["a.py:2: warning TXT001: marker 1 [12 times in this file, first on lines 2, 4, 6, 8, 10; "
                     "--verbose lists each]"]
    assert text.splitlines()[-1] == "FAILED: 1 error, 12 warnings"
    verbose = render_text(RunResult([_many(12)]), RenderOptions(verbosity=1))
    assert sum("TXT001" in line for line in verbose.splitlines()) == 12
    few = render_text(RunResult([_many(3)]))
    assert sum("TXT001" in line for line in few.splitlines()) == 3
    assert json.loads(renderer("json")(RunResult([_many(12)]), RenderOptions()))["counts"]["warning"] == 12


def test_text_quiet_and_no_zero_counts() -> None:
    quiet = render_text(RunResult([_many(2)]), RenderOptions(verbosity=-1))
    assert quiet.splitlines() == ["<package>: error LAY001: no model file", "FAILED: 1 error, 2 warnings"]
    clean = PackageResult(path="p", template="t", title="T", root="/x/model",
                          report=Report(template="t", root="model", findings=[]))
    assert render_text(RunResult([clean])).splitlines()[-1] == "OK: 0 errors"


def test_text_several_packages_grouped_with_one_summary(pkg: PackageBuilder, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    broken_package(pkg)
    clean = PackageBuilder(tmp_path / "clean" / "model").valid()
    code, out, _ = run(capsys, "validate", str(pkg.root), str(clean.root))
    assert code == 1
    lines = out.splitlines()
    headers = [i for i, line in enumerate(lines) if ": checking " in line]
    assert len(headers) == 2 and str(pkg.root) in lines[headers[0]] and str(clean.root) in lines[headers[1]]
    assert lines[-1].startswith("FAILED: 1 of 2 packages failed; ")


def test_text_escapes_control_characters() -> None:
    package = PackageResult(path="p", template="t", title="T", root="/x",
                            report=Report(template="t", root="m", findings=[
                                Finding("TXT001", Severity.ERROR, "a\x1b[2Jb.py", "msg\nOK: 0 errors", line=1)]))
    text = render_text(RunResult([package]))
    assert "\x1b" not in text and "msg\\nOK" in text and len(text.splitlines()) == 3


def test_color_decision() -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    assert color_wanted(Tty(), {}) is True
    assert color_wanted(Tty(), {"NO_COLOR": "1"}) is False
    assert color_wanted(object(), {}) is False
    assert color_wanted(object(), {"FORCE_COLOR": "1"}) is True
    assert color_wanted(object(), {"FORCE_COLOR": "1", "NO_COLOR": "1"}) is False
    painted = render_text(RunResult([_many(1)]), RenderOptions(color=True))
    assert "\x1b[1;31merror\x1b[0m" in painted


def test_repository_base(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "r")
    (repo / "a" / "model").mkdir(parents=True)
    assert repository_base(repo / "a" / "model") == "a/model"
    assert repository_base(tmp_path / "x" / "model", cwd=tmp_path) == "x/model"


def test_rules_explains_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "src001")
    assert code == 0 and out.startswith("SRC001: Python syntax the target interpreter rejects (error)")
    assert "How to fix:" in out
    code, _, err = run(capsys, "rules", "SRC0001")
    assert code == 2 and "did you mean SRC001" in err


def test_junit_lists_the_selected_rules_only(pkg: PackageBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    broken_package(pkg)
    _, out, _ = run(capsys, "validate", str(pkg.root), "--format", "junit", "--select", "SRC", "--isolated")
    cases = [c.get("name") for c in ET.fromstring(out).iter("testcase")]
    assert cases == [r for r in all_rules() if r.startswith("SRC")]


def test_quiet_with_several_packages_names_each_failing_one() -> None:
    clean = PackageResult(path="q", template="t", title="T", root="/y/model",
                          report=Report(template="t", root="model", findings=[]))
    quiet = render_text(RunResult([_many(2), clean]), RenderOptions(verbosity=-1))
    assert quiet.splitlines() == ["/x/model:", "<package>: error LAY001: no model file",
                                  "FAILED: 1 of 2 packages failed; 1 error, 2 warnings"]
