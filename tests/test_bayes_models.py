"""Direct tests of the Bayesian model modules (issue 22): priors.py, base.py, did_model.py.

- priors: the stated prior intervals are the Normal quantiles (hand calculation);
- base.matrices: the unit x period cells of a small panel (hand-made);
- did_model (Poisson): its log density, read through PyMC's public `compile_logp`, differs between
  two effects exactly as the hand-written multinomial likelihood plus the Normal prior does;
  the prior predictive holds every unit's total (as the model conditions on it);
- slow: the posterior of a 2 x 2 Poisson DiD against 2-D quadrature of the same posterior, and
  parameter recovery, both with stated Monte Carlo error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

from evaluation import defaults
from evaluation.estimators.bayes import priors
from evaluation.estimators.bayes.base import flat, matrices
from evaluation.estimators.bayes.did_model import build_did
from evaluation.simulation.panels import simulate_panel


# --- priors ------------------------------------------------------------------------------------
def test_rate_ratio_prior_interval_is_the_normal_quantiles():
    # exp(+-1.96 x 0.47) = exp(+-0.9212) = 0.3980 / 2.5123 (hand calculation)
    low, high = priors.rr_interval(0.47)
    assert low == pytest.approx(0.3980, abs=5e-5) and high == pytest.approx(2.5123, abs=5e-5)
    assert "Normal(0, 0.47)" in priors.effect_statement(0.47)
    assert "between 0.40 and 2.51" in priors.effect_statement(0.47)


def test_did_prior_statements_per_model():
    poisson = priors.did_priors(model="poisson", log_rr_sd=0.47)
    assert set(poisson) == {"effect", "period_effects", "unit_effects"}
    assert "multinomial" in poisson["unit_effects"]
    nb = priors.did_priors(model="negative_binomial", log_rr_sd=0.47)
    assert set(nb) == {"effect", "period_effects", "unit_effects", "dispersion"}
    linear = priors.did_priors(model="linear", log_rr_sd=0.5, outcome_scale=4.0)
    assert linear["effect"].startswith("difference ~ Normal(0, 2)")  # 0.5 x 4
    with pytest.raises(ValueError, match="outcome_scale"):
        priors.did_priors(model="linear", log_rr_sd=0.5)


def test_its_prior_statements_follow_the_design():
    plain = priors.its_priors(log_rr_sd=0.47, slope_change=False, seasonality=0, controlled=False)
    assert set(plain) == {"level_change", "intercept", "trend", "dispersion"}
    full = priors.its_priors(log_rr_sd=0.47, slope_change=True, seasonality=2, controlled=True)
    assert {"slope_change", "seasonality", "common_shift"} <= set(full)
    assert full["seasonality"].startswith("2 Fourier harmonic(s)")
    assert full["intercept"].endswith("per series")


# --- base --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_panel():
    return simulate_panel(n_units=5, n_periods=6, n_treated=2, start=3, rate_ratio=0.7,
                          events_per_period=30, seed=3)


def test_matrices_are_the_unit_period_cells(small_panel):
    m = matrices(small_panel)
    rows = small_panel.estimation_rows
    assert m["y"].shape == (5, 6) and m["present"].all()
    for i, unit in enumerate(m["units"]):
        own = rows.loc[rows["unit"] == unit].sort_values("t")
        np.testing.assert_array_equal(m["y"][i], own["y"].to_numpy())
        np.testing.assert_array_equal(m["d"][i], own["d"].to_numpy())
    assert m["treated"].sum() == 2 and list(m["t"]) == sorted(rows["t"].unique())


def test_flat_stacks_chains_in_order():
    import xarray as xr

    values = np.arange(2 * 3 * 4).reshape(2, 3, 4)  # chain, draw, period
    posterior = xr.Dataset({"g": (("chain", "draw", "p"), values)})
    out = flat(posterior, "g")
    assert out.shape == (6, 4)
    np.testing.assert_array_equal(out[3], [12, 13, 14, 15])  # chain 1, draw 0


# --- did_model: the log density against the hand-written one ----------------------------------
def hand_log_density(log_rr: float, m: dict, *, log_rr_sd: float) -> float:
    """Period effects at 0: sum_i [sum_t y_it log w_it - N_i log sum_t w_it] + log N(log_rr; 0, sd),
    w_it = exposure_it exp(log_rr d_it) (a unit's counts given its total are multinomial)."""
    y, d, exposure = m["y"], m["d"], m["exposure"]
    keep = y.sum(axis=1) > 0
    log_w = np.log(exposure[keep]) + log_rr * d[keep]
    loglik = (y[keep] * log_w).sum() - (y[keep].sum(axis=1) * logsumexp(log_w, axis=1)).sum()
    return float(loglik + norm.logpdf(log_rr, 0.0, log_rr_sd))


def test_poisson_did_log_density_matches_the_multinomial_by_hand(small_panel):
    sd = 0.47
    bundle = build_did(small_panel, log_rr_sd=sd)
    logp = bundle.model.compile_logp(jacobian=False)
    point = bundle.model.initial_point()
    zero_periods = {k: np.zeros_like(v) for k, v in point.items()}  # period effects all 0

    def model_at(log_rr: float) -> float:
        return float(logp({**zero_periods, "log_rr": np.asarray(log_rr)}))

    m = matrices(small_panel)
    for a, b in ((0.0, -0.3), (-0.5, 0.4), (0.2, -1.0)):
        # constants (the multinomial coefficients, the prior of the period effects) cancel
        expected = hand_log_density(a, m, log_rr_sd=sd) - hand_log_density(b, m, log_rr_sd=sd)
        assert model_at(a) - model_at(b) == pytest.approx(expected, abs=1e-8)


def test_poisson_did_prior_predictive_keeps_unit_totals(small_panel):
    bundle = build_did(small_panel, log_rr_sd=0.47)
    sims = bundle.prior_predictive(np.random.default_rng(0), 200)
    m = matrices(small_panel)
    assert sims.shape == (200, 6)
    # the model conditions on each unit's total: every simulated series has the observed total
    np.testing.assert_array_equal(sims.sum(axis=1), np.full(200, m["y"].sum()))
    assert bundle.observed_max == m["y"].sum(axis=0).max()
    # prior check: the observed period totals lie inside the central 99% of the prior predictive
    low, high = np.quantile(sims, [0.005, 0.995], axis=0)
    totals = m["y"].sum(axis=0)
    assert ((low <= totals) & (totals <= high)).all()


# --- slow: the posterior against quadrature; recovery --------------------------------------------
def quadrature_posterior(m: dict, *, log_rr_sd: float, grid: int = 801):
    """Posterior of log_rr in a two-period model by 2-D quadrature over (period effect g, log_rr).

    With two periods the zero-sum period effects are (g, -g); ZeroSumNormal(sigma) gives each
    element the marginal sd sigma x sqrt(1 - 1/2)."""
    g = np.linspace(-4, 4, grid)[:, None]
    lr = np.linspace(-3, 3, grid)[None, :]
    y, d, exposure = m["y"], m["d"], m["exposure"]
    log_post = norm.logpdf(g, 0, defaults.PRIOR_PERIOD_SD * math.sqrt(0.5)) + norm.logpdf(lr, 0, log_rr_sd)
    for i in range(y.shape[0]):
        if y[i].sum() == 0:
            continue
        log_w = [np.log(exposure[i, t]) + (g if t == 0 else -g) + lr * d[i, t] for t in range(2)]
        total = np.logaddexp(log_w[0], log_w[1])
        log_post = log_post + y[i, 0] * (log_w[0] - total) + y[i, 1] * (log_w[1] - total)
    weight = np.exp(log_post - log_post.max()).sum(axis=0)
    weight /= weight.sum()
    values = lr.ravel()
    mean = float((weight * values).sum())
    sd = math.sqrt(float((weight * (values - mean) ** 2).sum()))
    return mean, sd, float(weight[values < 0].sum())


@pytest.mark.slow
def test_two_by_two_poisson_posterior_equals_quadrature():
    from evaluation.estimators.bayes import fit_bayesian

    data = simulate_panel(n_units=6, n_periods=2, n_treated=1, start=1, rate_ratio=0.6,
                          events_per_period=80, seed=5)
    fit = fit_bayesian(data, chains=4, draws=1000, tune=1000, sampler="pymc", prior_sensitivity=False)
    mean, sd, p_below = quadrature_posterior(matrices(data), log_rr_sd=defaults.PRIOR_LOG_RR_SD)
    draws = fit.idata.posterior["log_rr"].values.ravel()
    ess = fit.summary["ess_bulk_min"]
    # Monte Carlo error of a posterior mean is sd / sqrt(ESS); 4 such errors is a 1-in-15,000 miss
    assert abs(draws.mean() - mean) < 4 * sd / math.sqrt(ess)
    # of a probability: sqrt(p (1 - p) / ESS), at 4 errors
    assert abs(fit.summary["p_any_reduction"] - p_below) < 4 * math.sqrt(p_below * (1 - p_below) / ess) + 1e-3
    assert draws.std() == pytest.approx(sd, rel=0.1)  # sd of a sd estimate at ESS >= 1000: < 3%


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_poisson_did_recovers_the_rate_ratio(seed):
    """Recovery: the 95% HDI covers the true RR (each fit misses with probability ~5%; the seeds
    are fixed, so this is a regression check of three known-good fits, not a coverage estimate —
    coverage is in test_bayes_calibration)."""
    from evaluation.estimators.bayes import fit_bayesian

    data = simulate_panel(n_units=20, n_periods=30, n_treated=4, start=20, rate_ratio=0.75,
                          events_per_period=40, seed=seed)
    summary = fit_bayesian(data, chains=2, draws=500, tune=500, sampler="pymc",
                           prior_sensitivity=False).summary
    assert summary["hdi_low"] < 0.75 < summary["hdi_high"]


@pytest.mark.slow
def test_posterior_summaries_are_those_of_the_draws(small_panel):
    """The summary of a (short) fit against numpy and ArviZ on its own draws: median, the HDI
    (arviz.hdi), the two probabilities, the averted count's median and HDI."""
    import arviz as az

    from evaluation.estimators.bayes import fit_bayesian

    fit = fit_bayesian(small_panel, chains=2, draws=200, tune=200, sampler="pymc",
                       prior_sensitivity=False)
    s = fit.summary
    rr = np.exp(fit.idata.posterior["log_rr"].values.ravel())
    low, high = az.hdi(rr, hdi_prob=0.95)
    assert s["hdi_prob"] == 0.95 and s["scale"] == "rate_ratio"
    assert (s["hdi_low"], s["hdi_high"]) == (pytest.approx(low, rel=1e-12), pytest.approx(high, rel=1e-12))
    assert s["rr_median"] == pytest.approx(float(np.median(rr)), rel=1e-12)
    assert s["p_any_reduction"] == float(np.mean(rr < 1)) and s["min_reduction"] == 0.1
    assert s["p_min_reduction"] == float(np.mean(rr <= 0.9))
    averted = fit.idata.posterior_predictive["averted"].values.ravel()
    a_low, a_high = az.hdi(averted.astype(float), hdi_prob=0.95)
    assert s["averted"]["median"] == float(np.median(averted))
    assert (s["averted"]["hdi_low"], s["averted"]["hdi_high"]) == (float(a_low), float(a_high))
