"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

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


# Property tests (hypothesis): modest and reproducible in the fast suite; `HYPOTHESIS_PROFILE=thorough`
# searches longer with fresh random examples (for a maintainer looking for counterexamples).
settings.register_profile("fast", max_examples=60, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
