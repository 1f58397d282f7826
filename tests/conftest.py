"""Shared fixtures: real package folders built in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import PackageBuilder

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def pkg(tmp_path: Path) -> PackageBuilder:
    """A fresh ``model/`` folder builder under tmp_path."""
    return PackageBuilder(tmp_path / "model")
