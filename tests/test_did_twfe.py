"""TWFE estimation against reference packages on the same data, and the estimate_did contract."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm
from did_helpers import make_design, make_prepared, simulate_counts, simulated_prepared, unit_name

from evaluation.errors import AnalysisError
from evaluation.estimators.did import estimate_did
from evaluation.estimators.did.twfe import dummy_matrix, fit_twfe, model_frame
from evaluation.estimators.output import TIDY_COLUMNS

# (units, periods, treated, start): small panels of different shapes
SHAPES = [(8, 6, 2, 4), (15, 12, 3, 8), (30, 20, 5, 11), (12, 40, 1, 25)]


def _frame(panel_shape, *, offset: bool, seed: int = 0, **sim) -> pd.DataFrame:
    n_units, n_periods, n_treated, start = panel_shape
    sim.setdefault("base_rate", 3.0)
    panel = simulate_counts(n_units=n_units, n_periods=n_periods, n_treated=n_treated,
                            start=start, rate_ratio=0.8, seed=seed, **sim)
    if not offset:
        panel["exposure"] = 1.0
    panel["d"] = ((panel["unit"] < unit_name(n_treated)) & (panel["t"] >= start)).astype(int)
    frame = model_frame(panel)
    assert (frame.groupby("unit")["y"].sum() > 0).all(), "test panel needs events in every unit"
    return frame


def _glm(frame: pd.DataFrame, family, **fit):
    x = dummy_matrix(frame)
    model = sm.GLM(frame["y"].to_numpy(), x, family=family,
                   offset=frame["log_exposure"].to_numpy())
    return model.fit(tol=1e-10, maxiter=100, **fit)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("offset", [True, False])
def test_poisson_equals_statsmodels_glm_with_dummies(shape, offset):
    frame = _frame(shape, offset=offset, seed=sum(shape))
    fit = fit_twfe(frame, model="poisson")
    groups = pd.factorize(frame["unit"])[0]
    plain = _glm(frame, sm.families.Poisson())
    # raw statsmodels sandwich times the module's correction G/(G-1)*(N-1)/(N-K), K without
    # the unit effects (fixest's default)
    clustered = _glm(frame, sm.families.Poisson(), cov_type="cluster",
                     cov_kwds={"groups": groups, "use_correction": False})
    assert fit.beta == pytest.approx(plain.params[1], abs=1e-6)
    assert fit.se_model == pytest.approx(plain.bse[1], rel=1e-4)
    g, n, k = frame["unit"].nunique(), len(frame), 1 + frame["t"].nunique()
    factor = g / (g - 1) * (n - 1) / (n - k)
    assert fit.se_cluster == pytest.approx(clustered.bse[1] * np.sqrt(factor), rel=1e-4)
    assert np.allclose(fit.fitted, plain.fittedvalues, rtol=1e-6)
    # and equal to pyfixest's default small-sample correction
    ref = pf.fepois("y ~ d | unit + t", data=frame, offset="log_exposure",
                    vcov={"CRV1": "unit"}, iwls_tol=1e-12)
    assert fit.se_cluster == pytest.approx(float(ref.se().iloc[0]), rel=1e-4)


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_quasi_poisson_equals_glm_pearson_scale(shape):
    frame = _frame(shape, offset=True, seed=7, shape=1.0)
    fit = fit_twfe(frame, model="quasi_poisson")
    ref = _glm(frame, sm.families.Poisson(), scale="X2")
    assert fit.beta == pytest.approx(ref.params[1], abs=1e-6)
    assert fit.se_model == pytest.approx(ref.bse[1], rel=1e-4)
    assert fit.dispersion == pytest.approx(ref.scale, rel=1e-6)
    assert fit.dispersion > 1.2  # the panel is overdispersed, so the scaling is exercised


def test_negative_binomial_equals_statsmodels():
    frame = _frame((20, 15, 4, 9), offset=True, seed=5, shape=0.7, base_rate=2.0)
    fit = fit_twfe(frame, model="negative_binomial")
    x = dummy_matrix(frame)
    nb = sm.NegativeBinomial(frame["y"].to_numpy(), x, offset=frame["log_exposure"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nb.fit(method="bfgs", maxiter=5000, gtol=1e-10, disp=False)
        ref = nb.fit(method="newton", start_params=ref.params, maxiter=100, disp=False)
        ref_c = nb.fit(method="newton", start_params=ref.params, maxiter=100, disp=False,
                       cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["unit"])[0],
                                                     "use_correction": False})
    g, n, k = frame["unit"].nunique(), len(frame), 2 + frame["t"].nunique()  # + alpha
    factor = g / (g - 1) * (n - 1) / (n - k)
    assert fit.beta == pytest.approx(ref.params[1], abs=1e-5)
    assert fit.nb_alpha == pytest.approx(ref.params[-1], rel=1e-4)
    assert fit.se_model == pytest.approx(ref.bse[1], rel=1e-4)
    assert fit.se_cluster == pytest.approx(ref_c.bse[1] * np.sqrt(factor), rel=1e-4)


@pytest.mark.parametrize("shape", SHAPES)
def test_linear_equals_panelols_and_feols(shape):
    from linearmodels.panel import PanelOLS

    frame = _frame(shape, offset=False, seed=3)
    fit = fit_twfe(frame, model="linear")
    panel = frame.set_index(["unit", "t"])
    ref = PanelOLS(panel["y"], panel[["d"]].astype(float), entity_effects=True,
                   time_effects=True).fit()
    assert fit.beta == pytest.approx(float(ref.params["d"]), abs=1e-8)
    feols = pf.feols("y ~ d | unit + t", data=frame, vcov={"CRV1": "unit"})
    assert fit.se_cluster == pytest.approx(float(feols.se().iloc[0]), rel=1e-6)
    feols = pf.feols("y ~ d | unit + t", data=frame, vcov="iid",
                     ssc=pf.ssc(k_adj=True, k_fixef="full", G_adj=True))
    assert fit.se_model == pytest.approx(float(feols.se().iloc[0]), rel=1e-6)


# --- estimate_did contract -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def few_treated():
    return simulated_prepared(n_units=40, n_periods=60, n_treated=3, start=40, rate_ratio=0.7,
                              seed=11, base_rate=0.5, draws=200)


def test_primary_contract_few_treated_uses_randomization(few_treated):
    out = estimate_did(few_treated)
    p = out.primary
    for key in ("method", "scale", "estimate", "ci_low", "ci_high", "p_value", "pct_change",
                "std_error", "inference", "n_treated", "n_control", "n_periods", "estimator",
                "estimator_reason"):
        assert key in p, key
    assert p["scale"] == "rate_ratio" and p["estimator"] == "twfe"
    assert p["inference"]["used"] == "randomization" and p["inference"]["draws"] == 200
    assert "fewer than 10" in p["inference"]["reason"]
    assert p["pct_change"] == pytest.approx(100 * (p["estimate"] - 1))
    assert p["ci_low"] < p["estimate"] < p["ci_high"]
    implied = (np.log(p["ci_high"]) - np.log(p["ci_low"])) / (2 * 1.959963985)
    assert p["std_error"] == pytest.approx(implied)
    assert (p["n_treated"], p["n_control"], p["n_periods"]) == (3, 37, 60)
    assert tuple(out.estimates.columns) == TIDY_COLUMNS
    assert out.estimates.iloc[0]["term"] == "treatment"
    assert out.estimates.iloc[0]["estimate"] == pytest.approx(p["estimate"])
    assert {c.name for c in out.checks} >= {"placebo_dates", "leave_one_out", "displacement"}
    assert all("rule:" in c.detail for c in out.checks if c.status != "skipped"
               and c.name != "pre_trends")
    series = out.series
    assert set(series["group"]) == {"treated", "control"}
    treated = series.loc[series["group"] == "treated"]
    pre = treated["t"] < 40
    assert np.allclose(treated.loc[pre, "counterfactual"], treated.loc[pre, "fitted"])
    post_cf = treated.loc[~pre, "counterfactual"].sum()
    post_obs = treated.loc[~pre, "observed"].sum()
    assert out.extras["averted"]["estimate"] == pytest.approx(post_cf - post_obs)
    # the fit reproduces the treated units' total (Poisson FE first-order condition)
    assert treated["fitted"].sum() == pytest.approx(treated["observed"].sum(), rel=1e-6)


def test_deterministic(few_treated):
    a, b = estimate_did(few_treated), estimate_did(few_treated)
    assert a.primary == b.primary
    pd.testing.assert_frame_equal(a.estimates, b.estimates)


def test_caller_data_not_mutated(few_treated):
    before = few_treated.panel.copy()
    estimate_did(few_treated)
    pd.testing.assert_frame_equal(few_treated.panel, before)


def test_many_treated_use_cluster_errors():
    data = simulated_prepared(n_units=40, n_periods=30, n_treated=12, start=20, seed=4,
                              base_rate=1.0)
    out = estimate_did(data)
    p = out.primary
    assert p["inference"]["used"] == "cluster"
    frame = model_frame(data.estimation_rows)
    fit = fit_twfe(frame, model="poisson")
    assert np.log(p["estimate"]) == pytest.approx(fit.beta)
    assert p["std_error"] == pytest.approx(fit.se_cluster)
    assert np.log(p["ci_high"]) == pytest.approx(fit.beta + 1.959963985 * fit.se_cluster)


def test_linear_difference_pct_change():
    data = simulated_prepared(n_units=30, n_periods=30, n_treated=12, start=20, seed=2,
                              base_rate=2.0, model="linear", inference="cluster")
    out = estimate_did(data)
    p = out.primary
    assert p["scale"] == "difference"
    treated_post = out.series.loc[(out.series["group"] == "treated") & (out.series["t"] >= 20)]
    cf_mean = treated_post["counterfactual"].sum() / (12 * 10)
    assert p["pct_change"] == pytest.approx(100 * p["estimate"] / cf_mean)


def test_displacement_check_uses_neighbours():
    data = simulated_prepared(n_units=40, n_periods=40, n_treated=2, start=25, seed=8,
                              base_rate=1.0, draws=200)
    neighbours = pd.DataFrame({"unit": [unit_name(0), unit_name(5)],
                               "neighbour": [unit_name(4), unit_name(1)]})
    out = estimate_did(data, neighbours=neighbours)
    check = next(c for c in out.checks if c.name == "displacement")
    assert check.status == "pass"  # simulated without displacement to the neighbours
    assert check.values["neighbours"] == [unit_name(4), unit_name(5)]
    assert "rule:" in check.detail


# --- bad input -----------------------------------------------------------------------------------
def _bad(panel: pd.DataFrame, **design) -> None:
    data = make_prepared(panel, make_design(end_t=int(panel["t"].max()), **design))
    with pytest.raises(AnalysisError) as info:
        estimate_did(data)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_gaps_rejected():
    panel = simulate_counts(n_units=10, n_periods=20, n_treated=1, start=12, seed=1)
    panel = panel.drop(index=panel.index[(panel["unit"] == unit_name(3)) & (panel["t"] == 5)])
    message = _bad(panel, treated=(unit_name(0),), start=12)
    assert "gaps" in message and unit_name(3) in message and "t = 5" in message


def test_treated_without_pre_period_rejected():
    panel = simulate_counts(n_units=10, n_periods=20, n_treated=2, start=12, seed=1)
    design = make_design(treated=(unit_name(0), unit_name(1)), start=12, end_t=19)
    # unit 1 treated from the first period of the window: it has no pre-period at all
    data = make_prepared(panel, design).with_treatment((unit_name(0), unit_name(1)),
                                                       {unit_name(0): 12, unit_name(1): 0})
    with pytest.raises(AnalysisError) as info:
        estimate_did(data)
    message = str(info.value)
    assert "\n" not in message and "no pre-period data" in message and unit_name(1) in message


def test_all_zero_treated_rejected():
    panel = simulate_counts(n_units=10, n_periods=20, n_treated=2, start=12, seed=1)
    panel.loc[panel["unit"] == unit_name(1), "y"] = 0.0
    message = _bad(panel, treated=(unit_name(0), unit_name(1)), start=12)
    assert "all-zero" in message and unit_name(1) in message


def test_wild_bootstrap_needs_linear_model():
    panel = simulate_counts(n_units=10, n_periods=20, n_treated=2, start=12, seed=1)
    message = _bad(panel, treated=(unit_name(0), unit_name(1)), start=12,
                   inference="wild_bootstrap")
    assert "model: linear" in message


def test_staggered_design_reports_robust_estimator_and_twfe_beside():
    panel = simulate_counts(n_units=40, n_periods=40, n_treated=0, start=0, seed=12,
                            base_rate=1.0)
    starts = {unit_name(i): (20 if i < 6 else 28) for i in range(12)}
    design = make_design(treated=tuple(starts), start=starts, end_t=39, inference="cluster")
    out = estimate_did(make_prepared(panel, design))
    p = out.primary
    assert p["estimator"] == "imputation" and "different dates" in p["estimator_reason"]
    assert {"estimate", "ci_low", "ci_high", "p_value"} <= set(p["twfe"])
    terms = out.estimates["term"].tolist()
    assert terms[0] == "treatment" and "twfe" in terms
    assert out.estimates.iloc[0]["estimate"] != out.estimates.set_index("term").loc["twfe", "estimate"]


def test_no_events_after_start_gives_rate_ratio_zero_with_exact_upper_limit():
    panel = simulate_counts(n_units=30, n_periods=40, n_treated=2, start=30, seed=21,
                            base_rate=0.5)
    treated = (unit_name(0), unit_name(1))
    panel.loc[panel["unit"].isin(treated) & (panel["t"] >= 30), "y"] = 0.0
    design = make_design(treated=treated, start=30, end_t=39, draws=200)
    out = estimate_did(make_prepared(panel, design))
    p = out.primary
    # issue 14: no point estimate (RR 0 is a boundary), a one-sided interval [0, RR_high]
    assert np.isnan(p["estimate"]) and p["ci_low"] == 0.0 and np.isnan(p["pct_change"])
    assert p["estimable"] is False and p["one_sided"] and p["not_estimable"]["code"] == "separation"
    expected = p["inference"]["expected_without_intervention"]
    # conditioning on the treated units' totals adds the uncertainty of their own level: the
    # exact conditional bound is wider than the bound that takes the counterfactual as known
    assert p["ci_high"] > np.log(2 / 0.05) / expected
    assert 0 < p["p_value"] <= 1 and p["inference"]["used"] == "randomization"
    averted = out.extras["averted"]
    assert np.isnan(averted["estimate"])
    assert averted["ci_high"] == pytest.approx(expected)
    assert averted["ci_low"] == pytest.approx(expected * (1 - p["ci_high"]))
