"""Prior sensitivity by importance reweighting, against the closed-form conjugate posterior.

With a Normal likelihood for the log rate ratio (estimate m, standard error s) and a Normal(0, t)
prior, the posterior is Normal with precision 1/s^2 + 1/t^2 and mean m/s^2 divided by it. Draws
from the posterior under t, reweighted to the prior t x factor, must reproduce the closed-form
posterior under t x factor; where the weights are unreliable (large Pareto k-hat) the model is
sampled again instead.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from evaluation import defaults
from evaluation.estimators.bayes.sensitivity import prior_sensitivity
from evaluation.simulation.panels import simulate_panel


def _conjugate(m: float, s: float, t: float) -> tuple[float, float]:
    precision = 1 / s**2 + 1 / t**2
    return (m / s**2) / precision, precision**-0.5


def _lognormal_hdi(mu: float, sigma: float, prob: float) -> tuple[float, float]:
    """The shortest interval holding `prob` of a log-normal, by a grid over the lower tail."""
    tail = np.linspace(1e-6, 1 - prob - 1e-6, 20_001)
    low = np.exp(mu + sigma * stats.norm.ppf(tail))
    high = np.exp(mu + sigma * stats.norm.ppf(tail + prob))
    best = int(np.argmin(high - low))
    return float(low[best]), float(high[best])


def _posterior(draws: np.ndarray) -> xr.Dataset:
    return xr.Dataset({"log_rr": (("chain", "draw"), draws.reshape(4, -1))})


@pytest.fixture(scope="module")
def data():
    return simulate_panel(n_units=12, n_periods=20, n_treated=2, start=12, rate_ratio=1.0,
                          events_per_period=10, seed=3)


def _run(data, m, s, refit=None):
    base = defaults.PRIOR_LOG_RR_SD
    mean, sd = _conjugate(m, s, base)
    draws = np.random.default_rng(0).normal(mean, sd, 40_000)
    bundle = SimpleNamespace(effect_prior_scales={"log_rr": 1.0},
                             effect_draws=lambda posterior: posterior["log_rr"].values.ravel())
    p_any = float(np.mean(draws < 0))
    effect = {"p_any_reduction": p_any,
              "p_min_reduction": float(np.mean(draws <= np.log(1 - data.design.decision.min_reduction)))}
    calls = []

    def sample_again(log_rr_sd):
        calls.append(log_rr_sd)
        mu, sigma = _conjugate(m, s, log_rr_sd)
        return _posterior(np.random.default_rng(1).normal(mu, sigma, 40_000))

    out = prior_sensitivity(data, bundle, _posterior(draws), effect, refit=refit or sample_again)
    return out, calls


@pytest.mark.parametrize("m, s", [(np.log(0.75), 0.2), (np.log(0.8), 0.5)],
                         ids=["informative", "weak (k-hat about 0.45)"])
def test_reweighting_reproduces_the_conjugate_posterior(data, m, s):
    out, calls = _run(data, m, s)
    assert calls == []  # no refit needed
    min_reduction = data.design.decision.min_reduction
    for alt in out["alternatives"]:
        assert alt["method"] == "importance reweighting"
        assert alt["pareto_k"] <= defaults.PRIOR_SENSITIVITY_MAX_KHAT
        mu, sigma = _conjugate(m, s, defaults.PRIOR_LOG_RR_SD * alt["factor"])
        assert alt["p_any_reduction"] == pytest.approx(stats.norm.cdf(0, mu, sigma), abs=0.01)
        assert alt["p_min_reduction"] == pytest.approx(
            stats.norm.cdf(np.log(1 - min_reduction), mu, sigma), abs=0.01)
        assert alt["rr_median"] == pytest.approx(np.exp(mu), rel=0.02)
        low, high = _lognormal_hdi(mu, sigma, 1 - data.spec.alpha)
        assert alt["hdi_low"] == pytest.approx(low, rel=0.05)
        assert alt["hdi_high"] == pytest.approx(high, rel=0.05)


def test_unreliable_weights_fall_back_to_sampling_again(data):
    # weak data: reweighting to a prior twice as wide gives k-hat about 0.63 (with no data, it
    # is Normal(0, t) draws to Normal(0, 2t): infinite variance); halving the prior is easy
    out, calls = _run(data, np.log(0.9), 1.0)
    wide, narrow = out["alternatives"]
    assert wide["method"] == "refit" and wide["pareto_k"] > defaults.PRIOR_SENSITIVITY_MAX_KHAT
    assert narrow["method"] == "importance reweighting"
    assert calls == [pytest.approx(2 * defaults.PRIOR_LOG_RR_SD)]
    mu, sigma = _conjugate(np.log(0.9), 1.0, 2 * defaults.PRIOR_LOG_RR_SD)
    assert wide["p_any_reduction"] == pytest.approx(stats.norm.cdf(0, mu, sigma), abs=0.01)


def test_the_rule_judges_every_alternative(data):
    from evaluation.design.decision_rule import classify

    out, _ = _run(data, np.log(0.75), 0.2)
    rule = data.design.decision
    for alt in out["alternatives"]:
        assert alt["conclusion"] == classify(p_any=alt["p_any_reduction"],
                                             p_min=alt["p_min_reduction"], rule=rule)
    assert out["status"] == ("pass" if all(a["conclusion"] == out["conclusion"]
                                           for a in out["alternatives"]) else "fail")


def test_weighted_hdi_with_equal_weights_is_arviz_hdi():
    import arviz as az

    from evaluation.estimators.bayes.sensitivity import weighted_hdi

    x = np.random.default_rng(5).lognormal(0.0, 0.7, 4001)
    low, high = weighted_hdi(x, np.full(x.size, 1 / x.size), 0.95)
    assert (low, high) == pytest.approx(tuple(az.hdi(x, hdi_prob=0.95)), rel=2e-3)
