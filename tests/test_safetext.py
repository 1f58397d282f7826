"""Nothing a package contains can forge or garble the text report; JSON stays exact."""

from __future__ import annotations

import json
import re

import pytest

from modeltemplates import get_template
from modeltemplates.cli import main
from modeltemplates.safetext import MAX_SHOWN, escape_controls, has_control_characters, shown
from tests.builders import PackageBuilder


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a\nb", "a\\nb"), ("a\rb", "a\\rb"), ("a\tb", "a\\tb"), ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("nul\x00", "nul\\x00"), ("del\x7f", "del\\x7f"), ("csi\x9b2J", "csi\\x9b2J"), ("\x07bell", "\\x07bell"),
        ("rtl\u202egnp.exe", "rtl\\u202egnp.exe"), ("iso\u2066x\u2069", "iso\\u2066x\\u2069"),
        ("line\u2028sep", "line\\u2028sep"),
    ],
)
def test_control_characters_are_escaped(raw: str, escaped: str) -> None:
    assert has_control_characters(raw)
    assert escape_controls(raw) == escaped == shown(raw)


@pytest.mark.parametrize("text", ["model/resnet50.pth", "café/模型.pth", "a b", "x\\x1by", "emoji 🙂", ""])
def test_printable_text_is_unchanged(text: str) -> None:
    assert not has_control_characters(text)
    assert shown(text) == text


def test_length_is_bounded_and_says_how_much_was_left_out() -> None:
    text = "\n" * 10 + "x" * (MAX_SHOWN * 3)
    out = shown(text)
    assert out.startswith("\\n" * 10) and out.endswith(f"... ({len(text) - MAX_SHOWN} more characters)")
    assert len(out) < MAX_SHOWN + 2 * 10 + 40 and "\n" not in out
    assert shown("abcdef", limit=3) == "abc... (3 more characters)"


FORGED = "x.txt\nmodel.pth: error LAY999: forged line"
LONG_KEY = "k" * (MAX_SHOWN + 500)
NAMES = [FORGED, "\x1b[2J\x1b[Hclear.txt", "over\rwrite.txt", "tab\tbed.txt", "rtl\u202etxt.py"]


def _package(pkg: PackageBuilder) -> PackageBuilder:
    pkg.valid()
    for name in NAMES:
        pkg.write(name, b"data")
    # A message that quotes package content at length: an unknown config.json key.
    pkg.write("config.json", json.dumps({"model_type": "PyTorch", LONG_KEY: 1}))
    return pkg


def test_text_report_escapes_and_bounds_what_the_package_contains(
    pkg: PackageBuilder, capsys: pytest.CaptureFixture[str]
) -> None:
    _package(pkg)
    code = main(["validate", str(pkg.root)])
    out = capsys.readouterr().out
    assert code in (0, 1)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out)
    lines = out.splitlines()
    # Every line is the header, a finding, a fix or the summary: nothing a file name injected.
    finding = re.compile(r"^\S.*: (error|warning|info) [A-Z]{3}\d{3}: ")
    for line in lines[1:-1]:
        assert finding.match(line) or line.startswith("    fix: "), line
    assert not any(line.startswith("model.pth: error LAY999") for line in lines)
    assert "x.txt\\nmodel.pth: error LAY999: forged line" in out
    assert "\\x1b[2J\\x1b[Hclear.txt" in out and "over\\rwrite.txt" in out and "tab\\tbed.txt" in out
    assert "rtl\\u202etxt.py" in out
    assert all(len(line) < 2 * MAX_SHOWN + 200 for line in lines)
    assert "more characters)" in out


def test_json_report_keeps_names_and_messages_exact(pkg: PackageBuilder, capsys: pytest.CaptureFixture[str]) -> None:
    _package(pkg)
    main(["validate", str(pkg.root), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    flagged = {f["path"] for f in data["findings"] if f["rule"] == "LAY021"}
    assert flagged == set(NAMES)
    messages = [f["message"] for f in data["findings"] if f["rule"] == "CFG011"]
    assert any(LONG_KEY in m for m in messages)


def test_a_name_with_control_characters_is_a_warning(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("notes\n.txt", b"")
    pkg.write("plain name.txt", b"")
    found = get_template("pytorch-py27").validate(pkg.root).by_rule("LAY021")
    assert [(f.path, f.severity.value) for f in found] == [("notes\n.txt", "warning")]
    assert "notes\\n.txt" in found[0].message


def test_an_ignored_name_is_not_flagged(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write(".modelignore", "scratch/\n")
    pkg.write("scratch/a\x1b.txt", b"")
    assert not get_template("pytorch-py27").validate(pkg.root).by_rule("LAY021")


def test_usage_errors_echo_the_path_escaped(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "no\nsuch\x1b[0m folder"])
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert code == 2 and "\x1b" not in said and "no\\nsuch\\x1b[0m folder" in said
    assert not [line for line in said.splitlines() if line.startswith("such")]
