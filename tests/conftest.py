"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evaluation import progress

REPO = Path(__file__).resolve().parents[1]


def benchmarks_path() -> Path:
    """Published reference data beside the checkout (never copied into the repository)."""
    return Path(os.environ.get("EVALUATION_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))


@pytest.fixture
def benchmarks() -> Path:
    path = benchmarks_path()
    if not path.is_dir():
        pytest.skip(f"reference data not found at {path} (set EVALUATION_BENCHMARKS to ../shared/benchmarks)")
    return path


@pytest.fixture(autouse=True)
def _quiet_progress():
    # progress bars go to stderr; keep test output readable
    progress.set_enabled(False)
    yield
    progress.set_enabled(True)
