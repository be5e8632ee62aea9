"""Bayesian models on simulated data with a known effect (small models, short chains)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation import defaults
from evaluation.errors import AnalysisError
from evaluation.estimators.bayes import fit_bayesian
from evaluation.simulation.panels import simulate_panel

# PyMC's own NUTS: compiled C code is cached between runs, so small fits start fast.
FAST = {"chains": 2, "draws": 400, "tune": 400, "sampler": "pymc"}
# enough draws that r_hat <= 1.01 holds for every parameter, not just the effect (750 draws after
# 300 tuning steps gave 1.011 with PyMC 5.28.5)
RELIABLE = {"chains": 4, "draws": 1000, "tune": 500, "sampler": "pymc"}
TRUE_RR = 0.7


@pytest.fixture(scope="module")
def did_data():
    # staggered starts and an excluded stretch exercise the general path
    starts = {f"GM{i:04d}": (20 if i <= 3 else 28) for i in range(1, 7)}
    return simulate_panel(n_units=24, n_periods=40, n_treated=6, start=starts, rate_ratio=TRUE_RR,
                          events_per_period=35, seed=11, exclude=(14, 15))


@pytest.fixture(scope="module")
def did_fit(did_data):
    return fit_bayesian(did_data, **RELIABLE)


def _glm_fixed_effects(data):
    """Poisson GLM with unit and period dummies and log exposure offset: (log RR, SE)."""
    rows = data.estimation_rows
    X = pd.get_dummies(rows[["unit", "t"]].astype(str), drop_first=True).astype(float)
    X.insert(0, "d", rows["d"].astype(float).to_numpy())
    X = sm.add_constant(X)
    fit = sm.GLM(rows["y"].to_numpy(), X, family=sm.families.Poisson(),
                 offset=np.log(rows["exposure"].to_numpy())).fit()
    return float(fit.params["d"]), float(fit.bse["d"])


def test_true_rate_ratio_inside_hdi(did_data, did_fit):
    s = did_fit.summary
    assert s["hdi_low"] < TRUE_RR < s["hdi_high"]
    assert s["hdi_prob"] == 1 - did_data.design.analysis.alpha == 0.95
    assert s["scale"] == "rate_ratio"


def test_posterior_median_agrees_with_frequentist_fixed_effects(did_data, did_fit):
    log_rr, se = _glm_fixed_effects(did_data)
    assert abs(math.log(did_fit.summary["rr_median"]) - log_rr) < se
    # and the interval is about as wide as the frequentist one (weak prior, same information)
    width = math.log(did_fit.summary["hdi_high"]) - math.log(did_fit.summary["hdi_low"])
    assert 0.8 < width / (2 * 1.96 * se) < 1.25


def test_probabilities_match_the_draws(did_data, did_fit):
    rr = np.exp(did_fit.idata.posterior["log_rr"].values.ravel())
    s = did_fit.summary
    min_reduction = did_data.design.decision.min_reduction
    assert s["p_any_reduction"] == pytest.approx(np.mean(rr < 1))
    assert s["p_min_reduction"] == pytest.approx(np.mean(rr <= 1 - min_reduction))
    assert s["p_min_reduction"] <= s["p_any_reduction"]
    assert s["rr_median"] == pytest.approx(np.median(rr), rel=1e-9)


def test_averted_from_posterior_predictive(did_data, did_fit):
    averted = did_fit.idata.posterior_predictive["averted"].values.ravel()
    s = did_fit.summary["averted"]
    assert s["median"] == pytest.approx(np.median(averted))
    assert s["hdi_low"] <= s["median"] <= s["hdi_high"]
    # the expected number averted: observed post count x (1/RR - 1), roughly
    rows = did_data.estimation_rows
    observed = rows.loc[rows["d"] == 1, "y"].sum()
    expected = observed * (1 / TRUE_RR - 1)
    assert s["hdi_low"] < expected < s["hdi_high"]


def test_summary_is_json_ready_and_complete(did_fit):
    s = did_fit.summary
    json.dumps(s, allow_nan=False)
    for key in ("model", "priors", "rr_median", "hdi_low", "hdi_high", "hdi_prob",
                "p_any_reduction", "p_min_reduction", "averted", "diagnostics", "reliable",
                "reliability_reason", "advice", "prior_sensitivity", "prior_predictive",
                "sampler", "chains", "draws", "tune", "seed"):
        assert key in s, key
    assert set(s["diagnostics"]) == {"r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences"}
    assert "0.47" in s["priors"]["effect"]
    assert s["reliable"] is True, s["reliability_reason"]


def test_prior_sensitivity_alternatives(did_data, did_fit):
    sens = did_fit.summary["prior_sensitivity"]
    assert [r["factor"] for r in sens["alternatives"]] == list(defaults.PRIOR_SENSITIVITY_FACTORS)
    assert sens["status"] == "pass"  # strong data: the prior hardly matters
    # ... and the main posterior, reweighted, serves both alternatives (no second sampling)
    assert all(r["method"] == "importance reweighting" and r["pareto_k"] <= 0.5
               for r in sens["alternatives"])
    wide, narrow = sens["alternatives"]
    # a narrower prior around RR = 1 pulls the estimate towards 1, a wider one less so
    assert wide["rr_median"] < narrow["rr_median"]
    assert all(r["hdi_low"] < r["rr_median"] < r["hdi_high"] for r in sens["alternatives"])
    # each refit is judged by exactly the registered rule on its own two probabilities
    from evaluation.design.decision_rule import classify

    rule = did_data.design.decision
    for r in sens["alternatives"]:
        assert r["conclusion"] == classify(p_any=r["p_any_reduction"],
                                           p_min=r["p_min_reduction"], rule=rule)
    assert sens["conclusion"] == classify(p_any=did_fit.summary["p_any_reduction"],
                                          p_min=did_fit.summary["p_min_reduction"], rule=rule)


def test_posterior_saved_as_netcdf(did_fit, tmp_path):
    import arviz as az

    from evaluation.estimators.bayes import save_posterior

    path = save_posterior(did_fit.idata, tmp_path / "posterior.nc")
    back = az.from_netcdf(path)
    np.testing.assert_array_equal(back.posterior["log_rr"].values,
                                  did_fit.idata.posterior["log_rr"].values)
    assert "averted" in back.posterior_predictive
    assert "created_at" not in back.posterior.attrs  # equal fits, equal content


def test_prior_sensitivity_check_for_the_orchestrator(did_fit):
    check = did_fit.summary["prior_sensitivity_check"]
    assert check["status"] == did_fit.summary["prior_sensitivity"]["status"]
    assert set(check["values"]) == {"rr_median_x2", "rr_median_x0.5"}


def test_prior_predictive_reported(did_fit):
    pp = did_fit.summary["prior_predictive"]
    assert pp["status"] == "pass"
    assert 0 < pp["simulated_period_count_quantile"] <= pp["limit"]
    assert pp["limit"] == pytest.approx(defaults.PRIOR_PREDICTIVE_MAX_MULTIPLE * pp["observed_max"])


def test_deterministic_for_a_seed(did_data, did_fit):
    again = fit_bayesian(did_data, **RELIABLE, prior_sensitivity=False)
    np.testing.assert_array_equal(again.idata.posterior["log_rr"].values,
                                  did_fit.idata.posterior["log_rr"].values)
    assert again.summary["averted"] == did_fit.summary["averted"]


def test_unreliable_when_gates_fail(did_data):
    out = fit_bayesian(did_data, chains=1, draws=20, tune=20, sampler="pymc",
                       prior_sensitivity=False)
    s = out.summary
    assert s["reliable"] is False
    assert "r_hat" in s["reliability_reason"] and "ESS" in s["reliability_reason"]
    assert "chains" in s["advice"]


def test_negative_binomial_did_covers_truth():
    data = simulate_panel(n_units=16, n_periods=40, n_treated=5, start=25, rate_ratio=TRUE_RR,
                          events_per_period=30, seed=5, model="quasi_poisson", dispersion=3.0)
    out = fit_bayesian(data, **FAST, prior_sensitivity=False)
    s = out.summary
    # cells average ~2 events: NB(alpha=3) has variance ~1.6 x mean, which the model must see
    assert np.median(out.idata.posterior["dispersion"].values) > 1.2
    assert "negative binomial" in s["model"]
    assert "dispersion" in s["priors"]
    assert s["hdi_low"] < TRUE_RR < s["hdi_high"]
    assert s["diagnostics"]["divergences"] == 0


def test_controlled_its_covers_truth():
    data = simulate_panel(n_units=8, n_periods=120, n_treated=3, start=80, rate_ratio=TRUE_RR,
                          events_per_period=40, seed=7, design="its", seasonality=1,
                          controls=("GM0004", "GM0005", "GM0006", "GM0007", "GM0008"))
    s = fit_bayesian(data, **FAST, prior_sensitivity=False).summary
    assert s["controlled"] is True and "controlled" in s["model"]
    assert s["hdi_low"] < TRUE_RR < s["hdi_high"]
    assert s["prior_predictive"]["status"] == "pass"


def test_its_with_slope_change_reports_the_average_post_ratio():
    data = simulate_panel(n_units=3, n_periods=150, n_treated=3, start=100, rate_ratio=TRUE_RR,
                          events_per_period=20, seed=3, design="its", seasonality=2,
                          slope_change=True)
    out = fit_bayesian(data, **FAST, prior_sensitivity=False)
    s = out.summary
    assert "slope change" in s["model"] and "slope_change" in s["priors"]
    post = out.idata.posterior
    ratio = (post["treated_mu"].values[..., 100:].sum(-1)
             / post["treated_mu_cf"].values[..., 100:].sum(-1))
    assert s["rr_median"] == pytest.approx(np.median(ratio))
    assert s["hdi_low"] < TRUE_RR < s["hdi_high"]


def test_linear_did_reports_a_difference():
    data = simulate_panel(n_units=12, n_periods=20, n_treated=4, start=10, rate_ratio=TRUE_RR,
                          events_per_period=600, seed=9, model="linear")
    s = fit_bayesian(data, **FAST, prior_sensitivity=False).summary
    assert s["scale"] == "difference"
    assert s["difference"]["hdi_high"] < 0  # a 30% reduction of ~50 per cell is clearly negative
    assert s["hdi_low"] < TRUE_RR < s["hdi_high"]


def test_missing_outcome_is_an_analysis_error(did_data):
    y = did_data.panel["y"].to_numpy().copy()
    y[5] = np.nan
    with pytest.raises(AnalysisError, match="column y"):
        fit_bayesian(did_data.with_outcome(y), **FAST)


def test_reliability_gates_name_each_failure():
    from evaluation.estimators.bayes.diagnostics import reliability

    good = {"r_hat_max": 1.005, "ess_bulk_min": 900.0, "ess_tail_min": 800.0, "divergences": 0}
    assert reliability(good, chains=4)[0] is True
    reliable, reason, advice = reliability({**good, "divergences": 3}, chains=4)
    assert not reliable and "3 divergent" in reason and "target_accept" in advice
    assert "negative_binomial" in advice
    reliable, reason, _ = reliability({**good, "ess_tail_min": 399.0}, chains=4)
    assert not reliable and reason == f"tail ESS 399 < {defaults.ESS_MIN}"
    reliable, reason, _ = reliability({**good, "r_hat_max": 1.02}, chains=4)
    assert not reliable and "r_hat 1.020" in reason


def test_sampler_choice_falls_back_to_pymc():
    from evaluation.estimators.bayes import diagnostics

    assert diagnostics.sampler_name("pymc") == "pymc"
    expected = "nutpie" if diagnostics._nutpie() is not None else "pymc"
    assert diagnostics.sampler_name("auto") == expected
