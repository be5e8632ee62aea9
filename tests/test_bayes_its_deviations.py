"""The Bayesian ITS with persistent deviations (a latent AR(1) process on the log rate).

The model is evaluated at given parameter values against numpy, which is fast and exact; how
well its intervals hold under lasting shocks is measured by `benchmarks/calibration_bayes.py
--design its` (docs/calibration_its.md), not here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytensor
import pytest

from evaluation import defaults
from evaluation.diagnose.its_calibration import Cell
from evaluation.estimators.bayes import priors
from evaluation.estimators.bayes.its_model import build_its
from evaluation.simulation.synthetic import simulate


def _data(*, controlled: bool = False, n_pre: int = 30, n_post: int = 8):
    config = Cell("strong", 12.0, n_pre, n_post, controlled=controlled).config()
    config = replace(config, analysis={**config.analysis, "bayesian": True})
    return simulate(np.random.default_rng(7), config, rate_ratio=0.8)


def _ar1_cholesky(rho: float, n: int) -> np.ndarray:
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return np.linalg.cholesky(rho**lag)


def _values(bundle, point, names):
    """`names` at the values of `point` (value variables, transformed as PyMC samples them)."""
    model = bundle.model
    outputs = model.replace_rvs_by_values([model[n] for n in names])
    fn = pytensor.function(model.value_vars, outputs, on_unused_input="ignore")
    return dict(zip(names, fn(*[point[v.name] for v in model.value_vars]), strict=True))


@pytest.mark.parametrize("controlled", [False, True])
def test_the_latent_process_multiplies_the_rate_by_its_ar1_path(controlled):
    """At the same values of the shared parameters, the rate with deviations over the rate
    without is exp(sd x L(rho) z) of the treated series (row 0), L numpy's Cholesky factor of
    the AR(1) correlation; both series have a path of their own."""
    data = _data(controlled=controlled)
    with_dev = build_its(data, log_rr_sd=0.47)
    without = build_its(data, log_rr_sd=0.47, deviations=False)
    rng = np.random.default_rng(1)
    point = {k: rng.normal(0, 0.4, size=np.shape(v))
             for k, v in with_dev.model.initial_point().items()}
    names = ["treated_mu", "latent_sd", "latent_rho", "latent_z"]
    got = _values(with_dev, point, names)
    base = _values(without, point, ["treated_mu"])["treated_mu"]  # same values, no process
    z = np.atleast_2d(got["latent_z"])
    assert z.shape == (2 if controlled else 1, len(base))  # weekly: one value per period
    path = float(got["latent_sd"]) * z @ _ar1_cholesky(float(got["latent_rho"]), z.shape[1]).T
    np.testing.assert_allclose(got["treated_mu"] / base, np.exp(path[0]), rtol=1e-10)


def test_daily_series_have_one_deviation_per_week():
    data = _data()
    bundle = build_its(replace(data, frequency="day"), log_rr_sd=0.47)
    assert bundle.extras["latent_block_periods"] == defaults.BAYES_ITS_LATENT_BLOCK_PERIODS["day"]
    assert bundle.extras["latent_blocks"] == -(-38 // 7)  # 38 periods in blocks of 7


def test_statements_and_description_name_the_process():
    data = _data()
    bundle = build_its(data, log_rr_sd=0.47)
    assert "persistent_deviations" in bundle.priors
    assert "HalfNormal(0.3)" in bundle.priors["persistent_deviations"]
    assert "Beta(2, 2)" in bundle.priors["persistent_deviations"]
    assert "latent AR(1)" in bundle.description
    plain = build_its(data, log_rr_sd=0.47, deviations=False)
    assert "persistent_deviations" not in plain.priors and "latent" not in plain.description
    assert set(priors.its_priors(log_rr_sd=0.47, slope_change=False, seasonality=0,
                                 controlled=False)) == {"level_change", "intercept", "trend",
                                                        "dispersion"}


def test_prior_predictive_spreads_wider_with_the_process():
    """Persistent deviations add spread to the prior predictive counts: the median over 400
    draws of the sd of week-to-week log changes is larger with the process."""
    data = _data()
    with_dev = build_its(data, log_rr_sd=0.47).prior_predictive(np.random.default_rng(2), 400)
    without = build_its(data, log_rr_sd=0.47,
                        deviations=False).prior_predictive(np.random.default_rng(2), 400)
    assert with_dev.shape == without.shape == (400, 38)
    def spread(sims):
        return float(np.median(np.std(np.diff(np.log1p(sims), axis=1), axis=1)))
    assert spread(with_dev) > spread(without)
