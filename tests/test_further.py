"""Every problem in one run: further syntax errors after the first, and checks on what was read."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from modeltemplates import get_template
from modeltemplates.checks import further
from modeltemplates.checks.further import MAX_FURTHER, further_findings
from modeltemplates.checks.syntax import check_source
from modeltemplates.inspect.pyparse import parse
from tests.builders import PackageBuilder
from tests.test_syntax_oracle import _interpreter

PY27 = (2, 7)

#: Six kinds of Python-3-only syntax, one each.
SIX_KINDS = b'''\
import os


def greet(name: str) -> str:
    return "hello " + name


def render(name):
    return f"hello {name}"


def counter():
    count = 0

    def bump():
        nonlocal count
        count += 1
        return count
    return bump


def connect(host, *, port=80):
    return host, port


async def fetch(url):
    return url


if (n := len(os.sep)) > 0:
    print(n)
'''

PY3_SERVICE = b'''\
from model_service.pytorch_model_service import PTServingBaseService
import torch


class DemoService(PTServingBaseService):
    def __init__(self, model_name: str, model_path: str):
        super().__init__(model_name, model_path)
        self.model = torch.load(model_path, map_location="cpu")

    def _preprocess(self, data: dict) -> dict:
        return {k: torch.tensor(v) for k, v in data.items()}

    def _postprocess(self, data):
        return {"result": f"{data}"}
'''


def test_six_kinds_give_six_findings_the_first_as_before(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("customize_service.py", SIX_KINDS)
    report = get_template("pytorch-py27").validate(pkg.root)
    src = [f for f in report.findings if f.rule.startswith("SRC")]
    assert [f.rule for f in src] == ["SRC001"] + ["SRC007"] * 5
    assert src[0] == check_source("customize_service.py", SIX_KINDS, PY27).findings[0]
    assert [f.line for f in src] == [4, 9, 16, 22, 26, 30]
    constructs = [f.message.split(";")[0].split(" (follows")[0] for f in src[1:]]
    assert constructs == [
        "f-strings need Python 3.6+",
        "`nonlocal` is Python 3 only",
        "keyword-only parameters (a bare *) need Python 3",
        "async def needs Python 3.5+",
        "assignment expressions (:=) need Python 3.8+",
    ]
    assert all("(follows the first error, line 4)" in f.message for f in src[1:])


def test_the_first_finding_is_unchanged_and_the_parse_still_fails() -> None:
    result = check_source("m.py", SIX_KINDS, PY27)
    assert len(result.findings) == 1 and result.parse.tree is None


def test_service_checks_read_what_could_be_read(pkg: PackageBuilder) -> None:
    pkg.valid()
    pkg.write("customize_service.py", PY3_SERVICE)
    report = get_template("pytorch-py27").validate(pkg.root)
    rules = [f.rule for f in report.findings]
    assert rules.count("SRC001") == 1 and rules.count("SRC007") >= 2
    assert "SVC001" not in rules  # the service class was found in the recovered tree
    assert report.facts["service"]["classes"] or report.facts["service"]


def test_no_recovery_after_indentation_or_encoding_errors() -> None:
    data = b"def f():\nreturn 1\nx = f'{1}'\n"
    result = check_source("m.py", data, PY27)
    assert result.parse.error is not None and result.parse.error.kind == "indentation"
    assert further_findings("m.py", data, PY27, result.parse.error).findings == ()


def test_bounded_number_of_findings() -> None:
    data = b"".join(b"x%d = f'{%d}'\n" % (i, i) for i in range(MAX_FURTHER + 30))
    first = check_source("m.py", data, PY27).parse.error
    assert first is not None
    assert len(further_findings("m.py", data, PY27, first).findings) == MAX_FURTHER


def test_class_headers_keep_name_and_plain_bases() -> None:
    data = b"import abc\n\n\nclass A(abc.ABC, metaclass=abc.ABCMeta):\n    def f(self) -> int:\n        return 1\n"
    first = check_source("m.py", data, PY27).parse.error
    assert first is not None
    recovery = further_findings("m.py", data, PY27, first)
    assert recovery.tree is not None
    names = [n.value for n in recovery.tree.iter_nodes() if n.type == "NAME"]
    assert names[:8] == ["import", "abc", "class", "A", "abc", "ABC", "def", "f"]


def test_a_python_3_target_lists_python_2_idioms() -> None:
    data = b"print 'a'\nexec 'b'\nx = `1`\ny = 1 <> 2\n"
    first = check_source("m.py", data, (3, 7)).parse.error
    assert first is not None and first.source_line == 1
    found = further_findings("m.py", data, (3, 7), first).findings
    assert [f.line for f in found] == [2, 3, 4]


def test_each_further_error_is_what_real_python27_reports_next(tmp_path: Path) -> None:
    exe = _interpreter(PY27)
    if exe is None:
        pytest.skip("no python2.7 on this machine")
    lines = SIX_KINDS.split(b"\n")
    seen = []
    for _ in range(10):
        source = b"\n".join(lines)
        target = tmp_path / "m.py"
        target.write_bytes(source)
        done = subprocess.run(
            [exe, "-c", "import sys\ntry:\n compile(open(sys.argv[1]).read(), 'm', 'exec')\n print('OK')\n"
             "except SyntaxError as e:\n print(e.lineno)", str(target)],
            capture_output=True, text=True, timeout=60, check=True)
        ours = parse(source, PY27).error
        assert done.stdout.strip() == (str(ours.line) if ours else "OK")
        if ours is None:
            break
        seen.append(ours.source_line)
        further._blank_statement(lines, ours, PY27)
    assert seen == [4, 9, 16, 22, 26, 30]


def test_cached_runs_give_the_same_further_findings_and_service_facts(pkg: PackageBuilder, tmp_path: Path) -> None:
    from modeltemplates.cache import ResultCache

    pkg.valid()
    pkg.write("customize_service.py", PY3_SERVICE)
    cache = ResultCache(tmp_path / "cache")
    template = get_template("pytorch-py27")
    first = template.validate(pkg.root, cache=cache)
    second = template.validate(pkg.root, cache=cache)
    assert first.to_json() == second.to_json()
    assert "SRC007" in {f.rule for f in second.findings} and "service" in second.facts
