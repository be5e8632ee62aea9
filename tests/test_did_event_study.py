"""Event study: coefficients against a statsmodels reference, and the pre-trend check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from did_helpers import make_prepared, unit_name
from test_did_staggered import N_PERIODS, prepared, simulate

from evaluation.design.model import parse_design
from evaluation.estimators.did.event_study import EVENT_COLUMNS, event_study
from evaluation.estimators.did.staggered import fit_staggered


def single_cohort(*, seed: int, pre_trend: float = 0.0, start: int = 15):
    frame, starts, _ = simulate(seed=seed, pre_trend=pre_trend, cohorts=((start, 30),))
    return frame, starts


def test_count_leads_match_poisson_glm_on_untreated_rows_and_lags_match_imputation():
    frame, starts = single_cohort(seed=11)
    data = prepared(frame, starts, inference="model")
    table, check = event_study(data)
    lo, hi = data.spec.event_window
    untreated = data.panel.loc[data.panel["d"] == 0]
    e = np.where(untreated["treated_unit"], untreated["t"] - untreated["cohort"], 0)
    x = pd.get_dummies(untreated[["unit", "t"]].astype(str), drop_first=True, dtype=float)
    for lead in range(lo, 0):
        x[f"lead{-lead}"] = ((e == lead) & untreated["treated_unit"]).astype(float)
    glm = sm.GLM(untreated["y"], sm.add_constant(x), family=sm.families.Poisson()).fit(tol=1e-10)
    got = table.set_index("event_time")
    for lead in range(lo, 0):
        assert got.loc[lead, "estimate"] == pytest.approx(np.exp(glm.params[f"lead{-lead}"]), rel=1e-6)
        assert got.loc[lead, "std_error"] == pytest.approx(glm.bse[f"lead{-lead}"], rel=1e-4)
    imputation = fit_staggered(data, estimator="imputation", control_group="never_treated")
    effects = imputation.aggregations["imputation"]
    assert got.loc[0, "estimate"] == pytest.approx(np.exp(effects["imp_event_0"]["estimate"]))
    assert got.loc[hi, "estimate"] == pytest.approx(np.exp(effects[f"imp_event_{hi}+"]["estimate"]))
    assert tuple(table.columns) == EVENT_COLUMNS
    assert list(table["event_time"]) == list(range(lo, hi + 1))
    leads = [glm.params[f"lead{-lead}"] for lead in range(lo, 0)]
    cov = glm.cov_params().loc[[f"lead{-lead}" for lead in range(lo, 0)],
                               [f"lead{-lead}" for lead in range(lo, 0)]].to_numpy()
    assert check.values["wald"] == pytest.approx(leads @ np.linalg.solve(cov, leads), rel=1e-4)


def test_linear_single_start_matches_ols_with_event_dummies():
    frame, starts, _ = simulate(seed=16, linear=True, cohorts=((15, 30),))
    data = prepared(frame, starts, model="linear", inference="cluster")
    table, check = event_study(data)
    panel = data.panel
    lo, hi = data.spec.event_window
    rel = np.where(panel["treated_unit"], np.maximum(panel["t"] - panel["cohort"], lo), -1)
    x = pd.get_dummies(panel[["unit", "t"]].astype(str), drop_first=True, dtype=float)
    names = {}
    for e in sorted(set(rel) - {-1}):
        names[e] = f"e{e}".replace("-", "m")
        x[names[e]] = (rel == e).astype(float)
    ols = sm.OLS(panel["y"], sm.add_constant(x)).fit()
    got = table.set_index("event_time")
    for e, name in names.items():
        if e < hi:
            assert got.loc[e, "estimate"] == pytest.approx(ols.params[name], abs=1e-8)
    assert got.loc[-1, "estimate"] == 0.0 and np.isnan(got.loc[-1, "std_error"])
    assert check.status == "pass"


def test_pre_trend_check_fails_with_diverging_pre_trends_and_passes_without():
    frame, starts = single_cohort(seed=12, pre_trend=0.03)
    _, check = event_study(prepared(frame, starts))
    assert check.name == "pre_trends" and check.blocking
    assert check.status == "fail" and check.values["p_value"] < 0.05
    assert "p < alpha" in check.detail
    frame, starts = single_cohort(seed=12)
    _, check = event_study(prepared(frame, starts))
    assert check.status == "pass" and check.values["p_value"] >= 0.05


def test_staggered_event_study_recovers_growing_effects():
    frame, starts, _ = simulate(seed=13, slope=-0.05, base=200.0)
    table, check = event_study(prepared(frame, starts))
    got = table.set_index("event_time")
    for e in range(0, 8):  # true rate ratio exp(-0.05 (e + 1)) in every cohort
        se = got.loc[e, "std_error"]
        assert np.log(got.loc[e, "estimate"]) == pytest.approx(-0.05 * (e + 1), abs=3 * se)
    assert check.status == "pass"


def test_short_event_window_tests_the_single_lead():
    frame, starts = single_cohort(seed=14)
    design = parse_design({
        "id": "test-did", "title": "t", "owner": "t", "hypothesis": "h", "design": "did",
        "data": {"source": "panel.csv"}, "treatment": {"units": list(starts), "start": 15},
        "window": {"start": 0, "end": N_PERIODS - 1},
        "analysis": {"event_window": [-1, 3], "inference": "cluster"}})
    table, check = event_study(make_prepared(frame, design))
    # counts: the single lead e = -1 is tested against the earlier untreated periods
    assert check.values["leads_tested"] == [-1]
    assert list(table["event_time"]) == [-1, 0, 1, 2, 3]


def test_cells_without_events_do_not_break_the_event_study():
    frame, starts = single_cohort(seed=15)
    treated = frame["unit"].isin([unit_name(u) for u in range(30)])
    frame.loc[treated & (frame["t"] == 18), "y"] = 0.0  # no event at e = 3
    table, check = event_study(prepared(frame, starts))
    row = table.set_index("event_time").loc[3]
    # no events at e = 3: a rate ratio of 0 is a boundary, reported without a number (issue 14)
    assert row["status"] == "not_estimable" and "no events" in row["reason"]
    assert np.isnan(row["estimate"]) and np.isnan(row["ci_low"]) and np.isnan(row["std_error"])
    assert check.status == "pass"  # simulated without a pre-trend: the empty cell breaks nothing


def test_linear_pre_trend_check_is_skipped_without_leads():
    frame, starts, _ = simulate(seed=17, linear=True, cohorts=((15, 30),))
    design = parse_design({
        "id": "test-did", "title": "t", "owner": "t", "hypothesis": "h", "design": "did",
        "data": {"source": "panel.csv"}, "treatment": {"units": list(starts), "start": 15},
        "window": {"start": 0, "end": N_PERIODS - 1},
        "analysis": {"model": "linear", "event_window": [-1, 3], "inference": "cluster"}})
    table, check = event_study(make_prepared(frame, design))
    assert check.status == "skipped" and "no period before the start" in check.detail
    assert check.blocking and list(table["event_time"]) == [-1, 0, 1, 2, 3]


def test_few_treated_units_get_dispersion_scaled_model_errors():
    frame, starts = single_cohort(seed=18)
    few = {u: 15 for u in list(starts)[:3]}
    _, check = event_study(prepared(frame, few, inference="auto"))
    assert "fewer than 10" in check.values["errors"] and "Pearson dispersion" in check.values["errors"]
    _, check = event_study(prepared(frame, starts, inference="auto"))
    assert check.values["errors"].startswith("cluster-robust")
    _, check = event_study(prepared(frame, few, inference="model"))
    assert check.values["errors"] == "model-based (inference: model)"


def test_linear_staggered_without_never_treated_units_uses_the_last_cohort():
    frame, starts, _ = simulate(seed=19, linear=True, n_units=30)
    table, check = event_study(prepared(frame, starts, model="linear"))
    got = table.set_index("event_time")
    assert got.loc[0, "estimate"] == pytest.approx(-0.05, abs=4 * got.loc[0, "std_error"])
    # simulated without a pre-trend
    assert check.status == "pass" and np.isfinite(check.values["p_value"])
