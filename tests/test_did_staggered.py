"""Heterogeneity-robust staggered DiD: imputation, Sun-Abraham, Callaway-Sant'Anna.

Truth by simulation (cohort effects that grow with time since the start, where plain TWFE is
biased), a statsmodels reference for the imputation fit, the numerical equivalence of Sun-Abraham
with post-only cells and imputation (both use not-yet-treated observations), and a Monte Carlo
check of the imputation standard error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm
from did_helpers import make_design, make_prepared, unit_name

from evaluation.errors import AnalysisError
from evaluation.estimators.did.staggered import fit_staggered, resolve_estimator

N_PERIODS = 30
COHORTS = ((8, 15), (18, 15))  # (first treated period, number of units); 30 never treated


def simulate(*, seed: int = 0, n_units: int = 60, slope: float = -0.05, base: float = 20.0,
             linear: bool = False, pre_trend: float = 0.0,
             cohorts: tuple[tuple[int, int], ...] = COHORTS) -> tuple[pd.DataFrame, dict, float]:
    """Panel with effect slope * (periods since start + 1): grows, differs by cohort.

    Returns the panel, the starts and the true effect over treated observations (log of
    expected treated events over expected counterfactual events; for linear the mean effect).
    """
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 0.3, n_units)
    t = np.arange(N_PERIODS)
    log_mu = np.log(base) + level[:, None] + 0.3 * np.sin(t / 5)[None, :]
    effect = np.zeros((n_units, N_PERIODS))
    start, first = {}, 0
    for g, n in cohorts:
        for u in range(first, first + n):
            start[unit_name(u)] = g
            effect[u, g:] = slope * (t[g:] - g + 1)
            log_mu[u] += pre_trend * (t - g)
        first += n
    post = effect != 0
    if linear:
        y = log_mu + effect + rng.normal(0, 0.1, log_mu.shape)
        truth = float(effect[post].mean())
    else:
        y = rng.poisson(np.exp(log_mu + effect))
        truth = float(np.log(np.exp(log_mu + effect)[post].sum() / np.exp(log_mu)[post].sum()))
    frame = pd.DataFrame({"unit": np.repeat([unit_name(u) for u in range(n_units)], N_PERIODS),
                          "t": np.tile(t, n_units), "y": y.ravel().astype(float),
                          "exposure": 1.0})
    return frame, start, truth


def prepared(frame, start, *, model="poisson", inference="cluster", **kw):
    design = make_design(treated=tuple(start), start=start, end_t=N_PERIODS - 1, model=model,
                         inference=inference, **kw)
    return make_prepared(frame, design)


def twfe(data, *, count=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = (pf.fepois if count else pf.feols)("y ~ d | unit + t", data=data.panel)
    return float(fit.coef()["d"])


@pytest.mark.parametrize("estimator", ["imputation", "sun_abraham"])
@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_counts_robust_estimators_recover_truth_where_twfe_is_biased(estimator, control_group):
    frame, start, truth = simulate(seed=0)
    data = prepared(frame, start)
    bias_twfe = twfe(data) - truth
    fit = fit_staggered(data, estimator=estimator, control_group=control_group)
    assert abs(bias_twfe) > 0.07  # plain TWFE: 0.083 off with these growing effects
    assert abs(fit.estimate - truth) < 0.035
    assert abs(fit.estimate - truth) < 2 * fit.std_error
    assert fit.scale == "rate_ratio" and fit.rows[0]["term"] == "treatment"
    assert fit.rows[0]["estimate"] == pytest.approx(np.exp(fit.estimate))
    assert fit.ci_low < fit.estimate < fit.ci_high


@pytest.mark.parametrize("estimator", ["imputation", "sun_abraham", "callaway_santanna"])
@pytest.mark.parametrize("control_group", ["never_treated", "not_yet_treated"])
def test_linear_robust_estimators_recover_truth(estimator, control_group):
    frame, start, truth = simulate(seed=1, linear=True)
    data = prepared(frame, start, model="linear")
    fit = fit_staggered(data, estimator=estimator, control_group=control_group)
    assert abs(twfe(data, count=False) - truth) > 0.1
    assert abs(fit.estimate - truth) < max(3 * fit.std_error, 0.03)
    assert fit.scale == "difference"


@pytest.mark.parametrize("model", ["poisson", "linear"])
def test_sun_abraham_post_cells_equal_imputation_with_not_yet_treated(model):
    """Cohort x period dummies on treated cells only leave the fixed effects to untreated
    observations, so the fit is the imputation fit (Wooldridge 2021; Poisson: 2023)."""
    frame, start, _ = simulate(seed=2, linear=model == "linear")
    data = prepared(frame, start, model=model)
    imp = fit_staggered(data, estimator="imputation", control_group="not_yet_treated")
    sa = fit_staggered(data, estimator="sun_abraham", control_group="not_yet_treated")
    assert sa.estimate == pytest.approx(imp.estimate, abs=1e-6)
    assert sa.std_error == pytest.approx(imp.std_error, rel=0.1)


def test_imputation_matches_statsmodels_glm_on_untreated_rows():
    frame, start, _ = simulate(seed=3)
    data = prepared(frame, start)
    panel = data.panel
    untreated = panel.loc[panel["d"] == 0]
    x0 = pd.get_dummies(untreated[["unit", "t"]].astype(str), drop_first=True, dtype=float)
    glm = sm.GLM(untreated["y"], sm.add_constant(x0), family=sm.families.Poisson()).fit(tol=1e-12)
    treated = panel.loc[panel["d"] == 1]
    x1 = pd.get_dummies(treated[["unit", "t"]].astype(str), dtype=float).reindex(
        columns=x0.columns, fill_value=0.0)
    mu0 = glm.predict(sm.add_constant(x1, has_constant="add"))
    expected = np.log(treated["y"].sum() / mu0.sum())
    fit = fit_staggered(data, estimator="imputation", control_group="not_yet_treated")
    assert fit.estimate == pytest.approx(expected, abs=1e-6)
    cf = fit.counterfactual.loc[fit.counterfactual["d"] == 1, "mu0"].to_numpy()
    np.testing.assert_allclose(cf, mu0.to_numpy(), rtol=1e-5)


def test_imputation_never_treated_uses_period_effects_of_never_treated_units_only():
    frame, start, _ = simulate(seed=4)
    data = prepared(frame, start)
    panel = data.panel
    never = panel.loc[~panel["treated_unit"]]
    x = pd.get_dummies(never[["unit", "t"]].astype(str), drop_first=True, dtype=float)
    glm = sm.GLM(never["y"], sm.add_constant(x), family=sm.families.Poisson()).fit(tol=1e-12)
    gamma = np.concatenate([[0.0], [glm.params.get(f"t_{t}", 0.0) for t in range(1, N_PERIODS)]])
    num = den = 0.0
    for _unit, rows in panel.loc[panel["treated_unit"]].groupby("unit"):
        pre, post = rows.loc[rows["d"] == 0], rows.loc[rows["d"] == 1]
        level = np.log(pre["y"].sum() / np.exp(gamma[pre["t"]]).sum())
        num += post["y"].sum()
        den += np.exp(level + gamma[post["t"]]).sum()
    fit = fit_staggered(data, estimator="imputation", control_group="never_treated")
    assert fit.estimate == pytest.approx(np.log(num / den), abs=1e-6)


def test_imputation_standard_error_matches_monte_carlo_spread():
    estimates, errors = [], []
    for seed in range(40):
        frame, start, _ = simulate(seed=100 + seed, slope=-0.02)
        fit = fit_staggered(prepared(frame, start, inference="model"), estimator="imputation",
                            control_group="not_yet_treated")
        estimates.append(fit.estimate)
        errors.append(fit.std_error)
    spread = np.std(estimates, ddof=1)
    # a sample sd of 40 estimates has relative error 1 / sqrt(2 x 39) = 0.11: 0.3 is 2.6 of them
    assert np.mean(errors) == pytest.approx(spread, rel=0.3)


def test_aggregations_by_cohort_and_event_time_are_reported():
    frame, start, _ = simulate(seed=5)
    fit = fit_staggered(prepared(frame, start), estimator="imputation",
                        control_group="not_yet_treated")
    terms = [r["term"] for r in fit.rows]
    assert {"imp_cohort_8", "imp_cohort_18", "imp_event_0", "imp_event_8+"} <= set(terms)
    agg = fit.aggregations["imputation"]
    assert agg["overall"]["n_obs"] == sum(N_PERIODS - g for g, _ in COHORTS) * 15


def test_treated_unit_without_pre_events_is_left_out_with_a_note():
    frame, start, _ = simulate(seed=6, base=2.0)
    frame.loc[(frame["unit"] == unit_name(0)) & (frame["t"] < 8), "y"] = 0.0
    fit = fit_staggered(prepared(frame, start), estimator="imputation",
                        control_group="not_yet_treated")
    left_out = [n.to_dict() for n in fit.notes if n.code == "treated_rows_unusable"]
    assert left_out and left_out[0]["units"] == [unit_name(0)]
    assert np.isfinite(fit.estimate)


def test_inputs_are_not_mutated_and_fits_are_deterministic():
    frame, start, _ = simulate(seed=7)
    data = prepared(frame, start)
    before = data.panel.copy()
    a = fit_staggered(data, estimator="imputation", control_group="never_treated")
    b = fit_staggered(data, estimator="imputation", control_group="never_treated")
    pd.testing.assert_frame_equal(data.panel, before)
    assert a.estimate == b.estimate and a.std_error == b.std_error


def test_resolve_estimator_auto():
    frame, start, _ = simulate(seed=8)
    assert resolve_estimator(prepared(frame, start))[0] == "imputation"
    assert resolve_estimator(prepared(frame, start, model="linear"))[0] == "callaway_santanna"
    single = {u: 8 for u in start}
    assert resolve_estimator(prepared(frame, single))[0] == "twfe"


def test_bad_requests_raise_one_line_analysis_errors():
    frame, start, _ = simulate(seed=9)
    data = prepared(frame, start)
    with pytest.raises(AnalysisError, match="callaway_santanna is for model: linear"):
        fit_staggered(data, estimator="callaway_santanna", control_group="never_treated")
    with pytest.raises(AnalysisError, match="not a staggered estimator"):
        fit_staggered(data, estimator="twfe", control_group="never_treated")
    everyone = {unit_name(u): (8 if u < 30 else 18) for u in range(60)}
    with pytest.raises(AnalysisError, match="every unit is treated"):
        fit_staggered(prepared(frame, everyone), estimator="imputation",
                      control_group="never_treated")


@pytest.mark.slow
def test_imputation_cluster_errors_cover_the_truth_with_overdispersed_counts():
    """Coverage of the 95% interval over 200 simulated panels (gamma-Poisson noise)."""
    covered = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        frame, start, _ = simulate(seed=1000 + seed, slope=0.0, base=5.0)
        frame["y"] = rng.poisson(frame["y"].to_numpy() * rng.gamma(2.0, 0.5, len(frame))
                                 + 0.0).astype(float)
        fit = fit_staggered(prepared(frame, start), estimator="imputation",
                            control_group="not_yet_treated")
        covered += fit.ci_low <= 0.0 <= fit.ci_high
    # binomial sd of the coverage at 0.95 over 200 panels: sqrt(0.95 x 0.05 / 200) = 0.015;
    # the band is -2.6 / +2.0 sd around 0.95
    assert 0.91 <= covered / 200 <= 0.98
