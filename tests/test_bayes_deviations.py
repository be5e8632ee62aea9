"""The Bayesian DiD with persistent local deviations: its pieces against numpy / scipy references.

Sampling is left to the slow calibration (docs/calibration_did.md); these tests evaluate the
model's log-likelihood at given parameter values, which is fast and exact.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from scipy.stats import dirichlet_multinomial, multinomial

from evaluation.estimators.bayes.base import matrices
from evaluation.estimators.bayes.did_deviations import ar1_cholesky, block_matrix
from evaluation.estimators.bayes.did_model import build_did
from evaluation.simulation.synthetic import SimulationConfig, simulate


def _data(model: str = "poisson", start: int | dict[str, int] = 20):
    config = SimulationConfig(n_units=8, n_periods=30, n_treated=2, start=start,
                              events_per_period=12.0, persistence=0.9, deviation_sd=0.4,
                              analysis={"model": model, "bayesian": True})
    return simulate(np.random.default_rng(3), config, rate_ratio=0.8)


def _ar1(rho: float, n: int) -> np.ndarray:
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return rho**lag


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.95])
def test_ar1_cholesky_equals_numpy(rho):
    factor = ar1_cholesky(rho, 5).eval()
    assert np.allclose(factor, np.linalg.cholesky(_ar1(rho, 5)), atol=1e-12)


def test_blocks_cover_every_period_once():
    blocks = block_matrix(30, 13)
    assert blocks.shape == (30, 3) and (blocks.sum(axis=1) == 1).all()
    assert blocks[:, 2].sum() == 4  # 26..29: the last block is shorter


def _point_values(bundle, point):
    """Log-likelihood and the natural-scale parameters at a point of the value variables."""
    model = bundle.model
    names = ["conditional_loglik", "period_effect", "log_rr", "deviation_sd", "deviation_rho",
             "deviation_z"]
    fn = model.compile_fn([model[n] for n in names], inputs=model.value_vars,
                          on_unused_input="ignore", point_fn=False)
    return dict(zip(names, fn(*[point[v.name] for v in model.value_vars]), strict=True))


def test_poisson_loglik_is_the_multinomial_given_each_units_total():
    """Differences of the model's log-likelihood between two random points equal those of
    scipy's multinomial over periods with p proportional to exposure x exp(gamma + u + log_rr d),
    u = sigma L(rho) z (numpy's Cholesky): the constant terms cancel."""
    data = _data()
    bundle = build_did(data, log_rr_sd=0.47)
    m = matrices(data)
    keep = m["y"].sum(axis=1) > 0
    y, d, e = m["y"][keep], m["d"][keep], m["exposure"][keep]
    blocks = block_matrix(y.shape[1], 13)
    rng = np.random.default_rng(0)
    got, expected = [], []
    for _ in range(2):
        point = {k: rng.normal(0, 0.5, size=np.shape(v))
                 for k, v in bundle.model.initial_point().items()}
        v = _point_values(bundle, point)
        sd, rho = float(v["deviation_sd"]), float(v["deviation_rho"])
        u = sd * v["deviation_z"] @ np.linalg.cholesky(_ar1(rho, blocks.shape[1])).T
        w = e * np.exp(v["period_effect"][None, :] + u @ blocks.T + v["log_rr"] * d)
        p = w / w.sum(axis=1, keepdims=True)
        expected.append(sum(multinomial.logpmf(y[i], n=y[i].sum(), p=p[i])
                            for i in range(len(y))))
        got.append(float(v["conditional_loglik"]))
    assert got[0] - got[1] == pytest.approx(expected[0] - expected[1], rel=1e-9, abs=1e-8)


@pytest.mark.parametrize("start", [20, {"GM0001": 18, "GM0002": 22}])
def test_negative_binomial_loglik_is_the_dirichlet_multinomial(start):
    """Differences between two random points equal those of scipy's Dirichlet-multinomial per
    unit, concentrations (1 / excess dispersion) x N_i x p_it: cells with one event (log(a)) and
    with several (gammaln) both occur, and staggered starts put post-periods in other blocks."""
    data = _data("negative_binomial", start=start)
    bundle = build_did(data, log_rr_sd=0.47)
    m = matrices(data)
    keep = m["y"].sum(axis=1) > 0
    y, d, e = m["y"][keep], m["d"][keep], m["exposure"][keep]
    assert (y == 1).any() and (y > 1).any()
    blocks = block_matrix(y.shape[1], 13)
    model = bundle.model
    names = ["conditional_loglik", "period_effect", "log_rr", "deviation_sd", "deviation_rho",
             "deviation_z", "overdispersion"]
    fn = model.compile_fn([model[n] for n in names], inputs=model.value_vars,
                          on_unused_input="ignore", point_fn=False)
    rng = np.random.default_rng(4)
    got, expected = [], []
    for _ in range(2):
        point = {k: rng.normal(0, 0.5, size=np.shape(v)) for k, v in model.initial_point().items()}
        v = dict(zip(names, fn(*[point[x.name] for x in model.value_vars]), strict=True))
        sd, rho = float(v["deviation_sd"]), float(v["deviation_rho"])
        u = sd * v["deviation_z"] @ np.linalg.cholesky(_ar1(rho, blocks.shape[1])).T
        w = e * np.exp(v["period_effect"][None, :] + u @ blocks.T + v["log_rr"] * d)
        p = w / w.sum(axis=1, keepdims=True)
        n = y.sum(axis=1)
        alpha = p * (n / float(v["overdispersion"]))[:, None]
        expected.append(sum(dirichlet_multinomial.logpmf(y[i], alpha[i], n[i])
                            for i in range(len(y))))
        got.append(float(v["conditional_loglik"]))
    assert got[0] - got[1] == pytest.approx(expected[0] - expected[1], rel=1e-9, abs=1e-8)


@pytest.mark.parametrize("model", ["negative_binomial", "quasi_poisson"])
def test_negative_binomial_and_staggered_build(model):
    data = _data(model, start={"GM0001": 18, "GM0002": 22})
    bundle = build_did(data, log_rr_sd=0.47)
    assert "overdispersion" in bundle.model.named_vars
    assert bundle.extras["deviation_blocks"] == 3 and "deviations" in bundle.priors
    assert np.isfinite(bundle.model.compile_logp()(bundle.model.initial_point()))
    sims = bundle.prior_predictive(np.random.default_rng(1), 4)
    assert sims.shape == (4, 30) and (sims >= 0).all()


def test_the_old_model_remains_available():
    bundle = build_did(_data(), log_rr_sd=0.47, deviations=False)
    assert "deviation_sd" not in bundle.model.named_vars
    assert isinstance(bundle.model, pm.Model)
