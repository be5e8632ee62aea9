"""Calibration: over repeated simulated data sets, 90% intervals cover the true rate ratio ~90%.

The fast test runs a handful of small fits with a loose bound; the slow one (`-m slow`) runs
enough data sets for the bound to be informative (binomial sd of the coverage ~ 3%).
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from evaluation.estimators.bayes import fit_bayesian
from evaluation.simulation.panels import simulate_panel

TRUE_RR = 0.8


def _covers(seed: int, *, n_units: int, n_periods: int, model: str, settings: dict) -> bool:
    data = simulate_panel(n_units=n_units, n_periods=n_periods, n_treated=n_units // 3,
                          start=n_periods // 2, rate_ratio=TRUE_RR, events_per_period=n_units * 1.5,
                          seed=seed, model=model, dispersion=None if model == "poisson" else 4.0,
                          bayesian_seed=seed)
    out = fit_bayesian(data, **settings, prior_sensitivity=False)
    rr = np.exp(out.idata.posterior["log_rr"].values.ravel())
    low, high = az.hdi(rr, hdi_prob=0.90)
    return bool(low < TRUE_RR < high)


def test_coverage_fast_loose_bound():
    settings = {"chains": 2, "draws": 250, "tune": 250, "sampler": "pymc"}
    hits = [_covers(seed, n_units=9, n_periods=20, model="poisson", settings=settings)
            for seed in range(100, 106)]
    # P(at most 3 of 6 | coverage 0.9) = 1.6%: a miscalibrated (e.g. far too narrow) interval
    # fails this, an honest one practically never does
    assert sum(hits) >= 4, hits


@pytest.mark.slow
@pytest.mark.parametrize("model", ["poisson", "negative_binomial"])
def test_coverage_full(model):
    settings = {"chains": 4, "draws": 500, "tune": 500, "sampler": "pymc"}
    n = 100
    hits = [_covers(seed, n_units=15, n_periods=30, model=model, settings=settings)
            for seed in range(1000, 1000 + n)]
    coverage = sum(hits) / n
    assert 0.84 <= coverage <= 0.96, coverage
