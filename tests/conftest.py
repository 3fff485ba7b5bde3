"""Shared fixtures for the framework's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def suite_dir(tmp_path: Path) -> Iterator[Path]:
    """A suite folder with an ``environment/`` subfolder; write ``interlock.yaml`` into it."""
    (tmp_path / "environment").mkdir()
    yield tmp_path
