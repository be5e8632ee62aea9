"""ITS by simulation with known truth: weekly overdispersed seasonal counts over three years.

The data-generating process (evaluation.its.synthetic.simulate_weekly_counts): 156 weeks, about
20 events a week, log-linear trend, an annual sine, gamma-Poisson noise with variance 2 x mean,
and a level change at week 104. The registered analysis is quasi-Poisson with trend, 2 Fourier
pairs and model-based inference (independent noise here: what these tests check is the
handling of overdispersion; the default placebo-block inference under persistent shocks is
calibrated in tests/test_its_calibration.py). The default run is small but can still fail (a Poisson model that
ignored the overdispersion rejects about a quarter of true nulls); the full-size run is slow.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from evaluation.design.model import Design
from evaluation.estimators.its import estimate_its
from evaluation.simulation.series import prepared_from_long, simulate_weekly_counts


def weekly_design(model: str) -> Design:
    return Design.model_validate({
        "id": "its-simulation", "title": "t", "owner": "o", "hypothesis": "h", "design": "its",
        "data": {"source": "/tmp/sim.csv", "frequency": "week", "unit_column": "", "outcome": "y"},
        "treatment": {"units": ["all"], "start": dt.date(2023, 1, 2)},
        "window": {"start": dt.date(2021, 1, 4), "end": dt.date(2023, 12, 25)},
        "analysis": {"model": model, "inference": "model", "seasonality": 2},
    })


def simulate(*, model: str, rate_ratio: float, reps: int, seed: int,
             dispersion: float = 2.0) -> dict[str, float]:
    """Share of p < 0.05, share of 95% intervals covering the true RR, share using HAC."""
    rng = np.random.default_rng(seed)
    draw = lambda: simulate_weekly_counts(rng=rng, rate_ratio=rate_ratio, dispersion=dispersion)  # noqa: E731
    base = prepared_from_long(weekly_design(model), draw())
    rejected = covered = hac = 0
    for _ in range(reps):
        data = base.with_outcome(draw()["y"].to_numpy())  # one unit: panel rows are in t order
        primary = estimate_its(data, with_checks=False).primary
        rejected += primary["p_value"] < 0.05
        covered += primary["ci_low"] <= rate_ratio <= primary["ci_high"]
        hac += primary["inference"]["used"] == "hac"
    return {"rejected": rejected / reps, "covered": covered / reps, "hac": hac / reps}


def test_small_run_false_positives_and_coverage():
    null = simulate(model="quasi_poisson", rate_ratio=1.0, reps=50, seed=101)
    # binomial(50, 0.05): 8 or more rejections has probability 0.3%
    assert null["rejected"] <= 7 / 50, null
    effect = simulate(model="quasi_poisson", rate_ratio=0.8, reps=50, seed=202)
    # binomial(50, 0.95): 42 or fewer covering intervals has probability 0.4%
    assert effect["covered"] >= 43 / 50, effect
    assert effect["rejected"] >= 0.5, effect  # RR 0.8 over a year of ~20 events a week


def test_ignoring_overdispersion_is_detected():
    """A plain Poisson model on counts with variance 4 x mean over-rejects (about a third of
    true nulls at 5%): the simulation above would catch such an error."""
    null = simulate(model="poisson", rate_ratio=1.0, reps=30, seed=101, dispersion=4.0)
    assert null["rejected"] > 0.15, null


@pytest.mark.slow
def test_full_size_false_positive_rate():
    null = simulate(model="quasi_poisson", rate_ratio=1.0, reps=1000, seed=303)
    assert null["rejected"] <= 0.06, null


@pytest.mark.slow
def test_full_size_coverage():
    effect = simulate(model="quasi_poisson", rate_ratio=0.8, reps=1000, seed=404)
    assert 0.93 <= effect["covered"] <= 0.97, effect
