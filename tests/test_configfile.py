"""config.json checks on real files: every rule, the spec's own examples, and hostile input."""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from modeltemplates.checks.configfile import (
    ENGINE_RUNTIMES,
    RULES,
    ConfigResult,
    Dependency,
    build_config,
    check_config,
    engine_runtimes,
)
from modeltemplates.findings import Finding, Severity
from modeltemplates.inspect.jsontext import read_json
from modeltemplates.iomodes import IO_MODES, OBJECT_DETECTION, PREDICTIVE_ANALYTICS, UNDEFINED, IOMode
from modeltemplates.runtime import Runtime
from tests.conftest import REFERENCE

PY27 = Runtime("PyTorch", "1.0", "2.7")
PY37 = Runtime("PyTorch", "1.0", "3.7")
SPEC = REFERENCE / "model_package_specifications/specifications_for_compiling_the_model_configuration_file.rst"


def _spec_configs() -> dict[str, tuple[str, Any]]:
    """Every literal block of the config.json spec that is a whole config.json, by section title."""
    lines = SPEC.read_text("utf-8").splitlines()
    found: dict[str, tuple[str, Any]] = {}
    section = ""
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1]) and line.strip():
            section = line.strip()
        if not line.rstrip().endswith("::"):
            continue
        indent = len(line) - len(line.lstrip())
        body = []
        for follow in lines[i + 1 :]:
            if follow.strip() and len(follow) - len(follow.lstrip()) <= indent:
                break
            body.append(follow)
        text = "\n".join(x for x in textwrap.dedent("\n".join(body)).splitlines() if x.strip() != "```").strip()
        if '"model_type"' in text:
            found[section] = (text, read_json(text).value)
    return found


SPEC_CONFIGS = _spec_configs()


def check_file(
    tmp_path: Path, content: str | bytes, runtime: Runtime = PY27, mode: IOMode | None = None
) -> ConfigResult:
    """Write a real model/config.json and check what is on disk."""
    target = tmp_path / "model" / "config.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        target.write_text(content, encoding="utf-8")
    else:
        target.write_bytes(content)
    return check_config("config.json", target.read_bytes(), runtime, mode)


def good(**changes: Any) -> dict[str, Any]:
    config = build_config(PY27, OBJECT_DETECTION, [Dependency.parse("numpy==1.16.4")])
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


def rules_of(result: ConfigResult) -> list[str]:
    return [f.rule for f in result.findings]


def one(result: ConfigResult, rule: str) -> Finding:
    (finding,) = [f for f in result.findings if f.rule == rule]
    return finding


# --- the rule catalogue ----------------------------------------------------------------------------


def test_rules_are_documented_and_prefixed() -> None:
    ids = [r.id for r in RULES]
    assert ids == sorted(set(ids))
    for rule in RULES:
        assert re.fullmatch(r"CFG\d{3}", rule.id)
        assert rule.title and rule.what and rule.why and rule.fix


# --- well-formed files -------------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", [PY27, PY37], ids=str)
@pytest.mark.parametrize("mode", IO_MODES, ids=lambda m: m.id)
def test_built_config_passes_its_own_checks(tmp_path: Path, runtime: Runtime, mode: IOMode) -> None:
    config = build_config(runtime, mode, [Dependency.parse("numpy>=1.16")])
    result = check_file(tmp_path, json.dumps(config, indent=2), runtime, mode)
    assert result.findings == ()
    assert result.config == config


def test_spec_examples_are_all_found() -> None:
    assert len(SPEC_CONFIGS) == 6
    assert all(isinstance(value, dict) for _, value in SPEC_CONFIGS.values())


# Each spec example checked against a runtime it was written for; what remains is what the spec
# really gets wrong ("procotol", "applicaton/json"; XGBoost has no python2.7 runtime in Table 3).
SPEC_EXPECTED = {
    "Example of the Object Detection Model Configuration File": (Runtime("TensorFlow", "1.8", "2.7"), []),
    "Example of the Image Classification Model Configuration File": (Runtime("TensorFlow", "1.8", "2.7"), []),
    "Example of the Predictive Analytics Model Configuration File": (Runtime("TensorFlow", "1.8", "2.7"), []),
    "Example of the Custom Image Model Configuration File": (PY37, ["CFG013"]),
    "Example of the Machine Learning Model Configuration File": (
        Runtime("XGBoost", "0.80", "2.7"),
        ["CFG014", "CFG016"],
    ),
    "Example of a Model Configuration File Using a Custom Dependency Package": (
        Runtime("TensorFlow", "1.8", "3.6"),
        ["CFG011", "CFG016"],
    ),
}


@pytest.mark.parametrize("section", list(SPEC_EXPECTED))
def test_spec_examples_parse_with_findings_only_for_their_mistakes(tmp_path: Path, section: str) -> None:
    runtime, expected = SPEC_EXPECTED[section]
    result = check_file(tmp_path, SPEC_CONFIGS[section][0], runtime)
    assert result.config == SPEC_CONFIGS[section][1]
    assert sorted(rules_of(result)) == expected, [f.message for f in result.findings]


def test_spec_misspellings_are_named_with_the_right_word(tmp_path: Path) -> None:
    text = SPEC_CONFIGS["Example of a Model Configuration File Using a Custom Dependency Package"][0]
    result = check_file(tmp_path, text, Runtime("TensorFlow", "1.8", "3.6"))
    unknown = one(result, "CFG011")
    assert unknown.message.startswith("unknown key 'procotol' in apis[0]; did you mean 'protocol'?")
    # The platform's own example deploys with these spellings: warnings that name the documented word.
    assert unknown.severity is Severity.WARNING and "never takes effect" in unknown.message
    line = next(i for i, x in enumerate(text.splitlines(), 1) if '"procotol"' in x)
    assert (unknown.line, unknown.column) == (line, text.splitlines()[line - 1].index('"procotol"') + 1)
    content = one(result, "CFG016")
    assert "'applicaton/json' is a misspelling of 'application/json'" in content.message and content.line == 21
    assert content.severity is Severity.WARNING
    assert not [f for f in result.findings if f.severity is Severity.ERROR]


@pytest.mark.parametrize("section", list(SPEC_EXPECTED))
def test_spec_examples_give_no_error_the_spec_itself_causes(tmp_path: Path, section: str) -> None:
    """What deploys from the platform's own examples is never an error (only a real mismatch with the
    runtime checked against, e.g. XGBoost has no python2.7 in Table 3)."""
    runtime, _ = SPEC_EXPECTED[section]
    result = check_file(tmp_path, SPEC_CONFIGS[section][0], runtime)
    errors = {f.rule for f in result.findings if f.severity is Severity.ERROR}
    assert errors <= {"CFG013", "CFG014"}, [f.message for f in result.findings]


def test_unknown_keys_outside_an_api_object_and_unknown_content_types_stay_errors(tmp_path: Path) -> None:
    config = good(procotol="http")
    config["apis"][0]["request"]["Content-type"] = "text/plain"
    result = check_file(tmp_path, json.dumps(config))
    assert one(result, "CFG011").severity is Severity.ERROR
    assert one(result, "CFG016").severity is Severity.ERROR
    config = good()
    config["apis"][0]["request"]["Content-type"] = "applicaton/json"
    config["apis"][0]["procotol"] = "http"
    result = check_file(tmp_path, json.dumps(config))
    assert {(f.rule, f.severity) for f in result.findings if f.rule != "CFG019"} == {
        ("CFG011", Severity.WARNING), ("CFG016", Severity.WARNING)}


# --- one test per rule, on real files --------------------------------------------------------------


def test_cfg001_encodings(tmp_path: Path) -> None:
    gbk = json.dumps(good(model_algorithm="图像分类"), ensure_ascii=False).encode("gbk")
    finding = one(check_file(tmp_path, gbk), "CFG001")
    assert "GBK" in finding.message and finding.severity is Severity.ERROR
    utf16 = json.dumps(good()).encode("utf-16")
    assert "UTF-16-LE" in one(check_file(tmp_path, utf16), "CFG001").message
    bom = one(check_file(tmp_path, b"\xef\xbb\xbf" + json.dumps(good()).encode()), "CFG001")
    assert bom.severity is Severity.WARNING and (bom.line, bom.column) == (1, 1)
    binary = check_file(tmp_path, b"PK\x03\x04\x00\x00binary")
    assert rules_of(binary) == ["CFG001"] and binary.config is None


def test_cfg002_syntax_error_with_line_and_column(tmp_path: Path) -> None:
    result = check_file(tmp_path, '{\n  "model_algorithm": "a"\n  "model_type": "PyTorch"\n}')
    finding = one(result, "CFG002")
    assert (finding.line, finding.column) == (3, 3)
    assert "missing comma" in finding.message
    assert result.config is None


def test_cfg003_limits(tmp_path: Path) -> None:
    deep = check_file(tmp_path, '{"metrics": ' + "[" * 200 + "]" * 200 + "}")
    assert rules_of(deep) == ["CFG003"] and deep.config is None
    huge = check_file(tmp_path, json.dumps(good(metrics={"f1": 1})).replace('"f1": 1', '"f1": 1e999'))
    finding = one(huge, "CFG003")
    assert finding.severity is Severity.WARNING and huge.config is not None


def test_cfg004_extensions_are_all_reported_and_checks_go_on(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        {
          // the algorithm
          "model_algorithm": 'object_detection',
          "model_type": "PyTorch",
          "runtime": "python2.7",
          "metrics": {"f1": NaN,},
          "procotol": "http",
        }
        """)
    result = check_file(tmp_path, text)
    places = [(f.rule, f.line, f.column) for f in result.findings]
    assert places == [
        ("CFG004", 2, 3),
        ("CFG004", 3, 22),
        ("CFG004", 6, 21),
        ("CFG004", 6, 24),
        ("CFG011", 7, 3),
        ("CFG004", 7, 21),
    ]
    assert result.config is not None and result.config["model_algorithm"] == "object_detection"


def test_cfg005_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    text = (
        '{\n "model_algorithm": "a",\n "model_type": "PyTorch",\n "runtime": "python2.7",\n "model_algorithm": "b"\n}'
    )
    finding = one(check_file(tmp_path, text), "CFG005")
    assert (finding.line, finding.column) == (5, 2) and "first at line 2, column 2" in finding.message


def test_cfg010_missing_required_keys(tmp_path: Path) -> None:
    result = check_file(tmp_path, json.dumps(good(model_algorithm=None, model_type=None)))
    messages = sorted(f.message for f in result.findings if f.rule == "CFG010")
    assert messages == [
        "the top level: missing required key 'model_algorithm'",
        "the top level: missing required key 'model_type' (this template needs 'PyTorch')",
    ]


def test_cfg011_unknown_keys_suggest_the_closest(tmp_path: Path) -> None:
    config = good(metrics={"acc": 0.5})
    config["apis"][0]["request"]["Content-Type"] = config["apis"][0]["request"].pop("Content-type")
    config["modle_type"] = "x"
    result = check_file(tmp_path, json.dumps(config, indent=1))
    messages = sorted(f.message for f in result.findings if f.rule == "CFG011")
    assert messages == [
        "unknown key 'Content-Type' in apis[0].request; did you mean 'Content-type'?",
        "unknown key 'acc' in metrics; did you mean 'accuracy'?",
        "unknown key 'modle_type' in the top level; did you mean 'model_type'?",
    ]


def test_cfg012_invalid_values(tmp_path: Path) -> None:
    result = check_file(tmp_path, json.dumps(good(model_algorithm="1-cls", apis={"url": "/"})))
    messages = sorted(f.message for f in result.findings if f.rule == "CFG012")
    assert messages[0] == "apis: expected array, got object"
    assert messages[1].startswith('model_algorithm: "1-cls" is not valid: What the model does')
    top = check_file(tmp_path, "[1, 2]")
    assert rules_of(top) == ["CFG012"] and top.config is None


def test_cfg013_engine(tmp_path: Path) -> None:
    assert (
        "must be written 'PyTorch'"
        in one(check_file(tmp_path, json.dumps(good(model_type="pytorch"))), "CFG013").message
    )
    text = json.dumps(good(model_type="TensorFlow"))
    other = one(check_file(tmp_path, text), "CFG013")
    assert other.message == "model_type 'TensorFlow', but this template runs PyTorch 1.0"
    assert (other.line, other.column) == (1, text.index('"TensorFlow"') + 1)


def test_cfg014_runtime(tmp_path: Path) -> None:
    missing = one(check_file(tmp_path, json.dumps(good(runtime=None))), "CFG014")
    assert "default 'python3.6', but this template runs 'python2.7'" in missing.message
    # PyTorch-py37: a missing runtime means python3.6, which is still wrong.
    assert rules_of(check_file(tmp_path, json.dumps(good(runtime=None)), PY37)) == ["CFG014"]
    wrong = one(check_file(tmp_path, json.dumps(good(runtime="python3.7"))), "CFG014")
    assert wrong.message == "runtime 'python3.7', but this template runs 'python2.7'"
    unknown = one(check_file(tmp_path, json.dumps(good(runtime="python2.7-gpu"))), "CFG014")
    assert (
        "not one the platform offers for PyTorch" in unknown.message and "did you mean 'python2.7'" in unknown.message
    )


def test_cfg015_one_api_post_root(tmp_path: Path) -> None:
    api = OBJECT_DETECTION.apis()[0]
    two = check_file(tmp_path, json.dumps(good(apis=[api, dict(api, url="/predict", method="put")]), indent=2))
    assert sorted(f.message.split(":")[0] for f in two.findings if f.rule == "CFG015") == [
        "apis",
        "apis[1].method",
        "apis[1].url",
    ]
    empty = one(check_file(tmp_path, json.dumps(good(apis=[]))), "CFG015")
    assert empty.severity is Severity.WARNING


def test_cfg016_content_types(tmp_path: Path) -> None:
    config = good()
    config["apis"][0]["response"]["Content-type"] = "application/jsn"
    assert "did you mean 'application/json'" in one(check_file(tmp_path, json.dumps(config)), "CFG016").message
    config = good()
    config["apis"][0]["request"]["Content-type"] = "application/json"
    result = check_file(tmp_path, json.dumps(config))
    assert "file field 'images'" in one(result, "CFG016").message


def test_cfg017_dependencies(tmp_path: Path) -> None:
    deps = [
        {
            "installer": "conda",
            "packages": [
                {"package_name": "numpy>=1.16"},
                {"package_name": "torch", "package_version": "1.0"},
                {"package_name": "six", "restraint": "ATLEAST"},
            ],
        }
    ]
    result = check_file(tmp_path, json.dumps(good(dependencies=deps), indent=2))
    messages = sorted(f.message for f in result.findings if f.rule == "CFG017")
    assert messages == [
        'dependencies[0].installer: must be "pip", not "conda"',
        'dependencies[0].packages[0].package_name: "numpy>=1.16" is not valid: The package name alone, '
        "without version operators: none of & ! ' \" < > =.",
        "dependencies[0].packages[1]: missing required key 'restraint' (restraint (EXACT, ATLEAST or "
        "ATMOST) is mandatory when package_version is set)",
        "dependencies[0].packages[2]: missing required key 'package_version' (a restraint needs a "
        "package_version to apply to)",
    ]


def test_cfg018_metrics_and_health(tmp_path: Path) -> None:
    result = check_file(
        tmp_path, json.dumps(good(metrics={"f1": "0.9"}, health={"url": "health", "timeout_seconds": "ten"}))
    )
    assert sorted(f.message.split(":")[0] for f in result.findings if f.rule == "CFG018") == [
        "health.timeout_seconds",
        "health.url",
        "metrics.f1",
    ]


def test_cfg019_apis_against_the_selected_mode(tmp_path: Path) -> None:
    text = json.dumps(good(apis=PREDICTIVE_ANALYTICS.apis()))
    result = check_file(tmp_path, text, PY27, OBJECT_DETECTION)
    assert [f.rule for f in result.findings] == ["CFG019", "CFG019"]
    assert all(f.severity is Severity.WARNING for f in result.findings)
    assert check_file(tmp_path, text, PY27, PREDICTIVE_ANALYTICS).findings == ()
    assert check_file(tmp_path, text, PY27, UNDEFINED).findings == ()
    assert check_file(tmp_path, text, PY27).findings == ()


def test_every_rule_is_exercised_by_this_file() -> None:
    source = Path(__file__).read_text("utf-8")
    for rule in RULES:
        assert f"test_{rule.id.lower()}_" in source


# --- hostile input: findings, never a traceback; bounded time -------------------------------------

HOSTILE = {
    "random": os.urandom(1 << 20),
    "nul": b"\x00" * 1000,
    "50MB": b"{" + b" " * (50 << 20) + b"}",
    "deep": b"[" * 100_000,
    "deep-objects": b'{"a":' * 100_000,
    "utf32": json.dumps(good()).encode("utf-32"),
    "gb18030": ('{"model_algorithm": "分类\U00020000"}').encode("gb18030"),
    "half-utf16": json.dumps(good()).encode("utf-16")[:-1],
    "lone-surrogate": b'{"model_algorithm": "\\ud800"}',
    "number-bomb": b'{"metrics": {"f1": 1' + b"0" * 500_000 + b"}}",
    "string-list": b"[" + b'"x",' * 200_000 + b'"x"]',
    "many-file-apis": json.dumps(
        {
            "model_algorithm": "a",
            "model_type": "Image",
            "apis": [{"request": {"data": {"properties": {"i": {"type": "file"}}}}}] * 8000,
        }
    ).encode(),
    "many-unknown-keys": json.dumps({"model_algorithm": "a", "metrics": {f"k{i}": i for i in range(50_000)}}).encode(),
    "wrong-types-everywhere": json.dumps(
        {
            "model_algorithm": [],
            "model_type": {},
            "runtime": 1,
            "apis": "x",
            "dependencies": [[]],
            "metrics": 1,
            "health": [],
        }
    ).encode(),
}


@pytest.mark.timeout(60)  # a hang guard, not a speed target (bench/ measures speed)
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_input_gives_findings_in_bounded_time(tmp_path: Path, name: str) -> None:
    result = check_file(tmp_path, HOSTILE[name])
    assert result.findings
    assert all(f.path == "config.json" for f in result.findings)
    assert len(result.findings) <= 400


def test_size_limit_finding_has_no_position(tmp_path: Path) -> None:
    finding = one(check_file(tmp_path, HOSTILE["50MB"]), "CFG003")
    assert finding.line is None and "52428802 bytes" in finding.message


# --- building -----------------------------------------------------------------------------------------


def test_engine_table_covers_both_templates() -> None:
    row = engine_runtimes("PyTorch")
    assert row is not None and {"python2.7", "python3.7"} <= set(row.runtimes) and row.default == "python3.6"
    assert len({r.engine for r in ENGINE_RUNTIMES}) == len(ENGINE_RUNTIMES)
    assert engine_runtimes("pytorch") is None


def test_dependency_parsing_and_validation() -> None:
    assert Dependency.parse("numpy==1.16.4").to_json() == {
        "package_name": "numpy",
        "package_version": "1.16.4",
        "restraint": "EXACT",
    }
    assert Dependency.parse("Pillow >= 5.2").restraint == "ATLEAST"
    assert Dependency.parse("six<=2").restraint == "ATMOST"
    assert Dependency.parse("six").to_json() == {"package_name": "six"}
    for bad in (
        lambda: Dependency("a", "1.0"),
        lambda: Dependency("a", "", "EXACT"),
        lambda: Dependency("a", "1", "ABOUT"),
        lambda: Dependency(""),
        lambda: Dependency("a>b"),
    ):
        with pytest.raises(ValueError):
            bad()


def test_build_config_carries_existing_dependency_entries() -> None:
    entry = {"installer": "pip", "packages": [{"package_name": "numpy"}]}
    config = build_config(PY27, UNDEFINED, [entry])
    assert config == {
        "model_algorithm": "undefined",
        "model_type": "PyTorch",
        "runtime": "python2.7",
        "dependencies": [entry],
    }
    config["dependencies"][0]["packages"].clear()
    assert entry["packages"] == [{"package_name": "numpy"}]
    assert build_config(PY37, OBJECT_DETECTION, model_algorithm="face_detection")["model_algorithm"] == "face_detection"


# --- limits of this tool are not the package's errors (issue 8, requirement 3) -------------------------


def test_reader_limits_are_not_checked_warnings_that_name_the_setting(tmp_path: Path) -> None:
    deep = one(check_file(tmp_path, '{"metrics": ' + "[" * 200 + "]" * 200 + "}"), "CFG003")
    assert deep.severity is Severity.WARNING and "not checked" in deep.message
    assert "Settings.max_json_depth" in deep.hint
    from modeltemplates.inspect.jsontext import Limits

    many = check_config("config.json", json.dumps(good()), PY27, limits=Limits(max_values=5))
    assert one(many, "CFG003").severity is Severity.WARNING and "max_json_values" in one(many, "CFG003").hint


def test_settings_reach_the_config_reader(tmp_path: Path) -> None:
    import modeltemplates
    from modeltemplates.pipeline import Settings
    from tests.builders import PackageBuilder

    b = PackageBuilder(tmp_path / "model").valid()
    nested = good()
    nested["apis"][0]["request"]["data"] = json.loads('{"x": ' * 150 + "1" + "}" * 150)
    b.write("config.json", json.dumps(nested))
    t = modeltemplates.get_template("pytorch-py27")
    (f,) = t.validate(b.root).by_rule("CFG003")
    assert f.severity is Severity.WARNING
    assert not t.validate(b.root, settings=Settings(max_json_depth=400)).by_rule("CFG003")
    big = t.validate(b.root, settings=Settings(max_config_bytes=100))
    (too_big,) = big.by_rule("TXT002")
    assert too_big.severity is Severity.WARNING and "Settings.max_config_bytes" in too_big.hint
