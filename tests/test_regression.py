"""Real-world regression set: small packages shaped like public ModelArts submissions and tutorials,
one problem each, and the exact findings each gives (issue 8, requirement 10).

A change that adds or drops a finding on one of them must be a decision: it shows in this file's
diff. The packages live in ``tests/data/regression/<case>/`` (written for this project); each is
copied to a temporary folder (links kept as links) and validated there with PyTorch-py27, the way
a new user would run the tool: on the folder they have, whether or not it is named ``model``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from modeltemplates import get_template
from tests.builders import torch_bytes
from tests.conftest import DATA

CASES = DATA / "regression"

#: Files a case needs that cannot be tracked byte for byte (a legacy torch.save of a whole module
#: records the saving machine's source path), written when the case is copied.
GENERATED: dict[str, dict[str, Callable[[], bytes]]] = {
    "whole-module-with-gelu": {
        "model/resnet.pth": lambda: torch_bytes(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.GELU())),
    },
}

#: case -> exact (rule, severity) findings, as a set.
EXPECTED: dict[str, set[tuple[str, str]]] = {
    # The platform's own tutorial shape: nothing to report but which folder was checked.
    "tutorial-clean": {("LAY025", "info")},
    # Package files at the top, network code in a `model` Python package: checked where it is.
    "submission-with-model-code-folder": {("LAY001", "error")},
    # The spec's own spellings, which deploy: warnings that name the documented words.
    "config-copied-from-spec-example": {("LAY025", "info"), ("CFG011", "warning"), ("CFG016", "warning")},
    "zip-format-model": {("LAY025", "info"), ("MOD010", "error")},
    "python3-fstring-in-service": {("LAY025", "info"), ("SRC001", "error")},
    # The documented offline install: neither 'bundled' nor an undeclared import.
    "offline-wheel-declared": {("LAY025", "info")},
    "pickle-payload-in-data-file": {("LAY025", "info"), ("MOD020", "error")},
    "git-lfs-pointer-model": {("LAY025", "info"), ("MOD001", "error")},
    "whole-module-with-gelu": {("LAY025", "info"), ("MOD017", "warning"), ("MOD035", "error")},
    # Training output given as is: two versioned packages below an unnamed folder.
    "training-output-versions": {
        ("LAY001", "error"), ("LAY002", "error"), ("LAY004", "warning"), ("LAY005", "error"),
        ("LAY008", "warning"), ("LAY015", "warning"), ("LAY018", "warning"),
    },
    # A limit of this tool, not the package's error.
    "config-nested-deeper-than-the-reader": {("LAY025", "info"), ("CFG003", "warning")},
    "dangling-link-to-checkpoint": {("LAY025", "info"), ("LAY011", "error")},
}


def test_every_case_has_an_expectation() -> None:
    assert sorted(p.name for p in CASES.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_case_gives_exactly_its_findings(tmp_path: Path, case: str) -> None:
    target = tmp_path / case
    shutil.copytree(CASES / case, target, symlinks=True)
    for rel, make in GENERATED.get(case, {}).items():
        (target / rel).write_bytes(make())
    report = get_template("pytorch-py27").validate(target)
    found = {(f.rule, f.severity.value) for f in report.findings}
    assert found == EXPECTED[case], [f"{f.rule} {f.path}: {f.message}" for f in report.findings]


def test_messages_say_what_a_user_can_act_on(tmp_path: Path) -> None:
    target = tmp_path / "git-lfs-pointer-model"
    shutil.copytree(CASES / "git-lfs-pointer-model", target, symlinks=True)
    (f,) = get_template("pytorch-py27").validate(target).by_rule("MOD001")
    assert f.message == "a 133-byte Git LFS pointer (the real file was never downloaded), not a PyTorch model"
