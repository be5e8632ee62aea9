"""ITS estimator: equal to direct statsmodels fits, output contract, checks and bad input."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from evaluation.design.model import Design, parse_design
from evaluation.errors import AnalysisError, DesignError
from evaluation.estimators.its import estimate_its
from evaluation.estimators.its.inference import newey_west_lags
from evaluation.estimators.output import TIDY_COLUMNS
from evaluation.simulation.series import prepared_from_long

START = dt.date(2023, 1, 2)  # week 105 of a series starting 2021-01-04
WEEKS = 156


def its_design(**changes) -> Design:
    """A weekly single-series ITS design; `changes` override top-level blocks or analysis keys."""
    raw = {
        "id": "its-test", "title": "t", "owner": "o", "hypothesis": "h", "design": "its",
        "data": {"source": "/tmp/x.csv", "frequency": "week", "unit_column": "unit",
                 "outcome": "attacks", "exposure": "population", "covariates": []},
        "treatment": {"units": ["A"], "start": START},
        "window": {"start": dt.date(2021, 1, 4), "end": dt.date(2023, 12, 25)},
        "analysis": {"model": "quasi_poisson", "inference": "model", "seasonality": 2},
    }
    for key, value in changes.items():
        if key in ("data", "window", "treatment"):
            raw[key] = {**raw[key], **value}
        elif key == "controls":
            raw[key] = value
        else:
            raw["analysis"][key] = value
    return Design.model_validate(raw)


def weekly_long(*, seed: int = 7, units=("A",), rr: float = 0.8, shock: float = 1.0,
                ar: float = 0.0, dispersion: float = 2.0) -> pd.DataFrame:
    """Weekly counts per unit with exposure, a covariate, seasonality and a known rate ratio."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2021-01-04", periods=WEEKS, freq="7D")
    t = np.arange(WEEKS)
    week = periods.isocalendar().week.to_numpy(dtype=float)
    frames = []
    noise = np.zeros(WEEKS)
    for i in range(1, WEEKS):
        noise[i] = ar * noise[i - 1] + rng.normal(scale=0.15 if ar else 0.0)
    for j, unit in enumerate(units):
        population = 50_000 * (1 + j) * (1 + 0.002 * t)
        cov = rng.normal(size=WEEKS)
        effect = np.where(t >= 104, shock * (rr if unit == "A" else 1.0), 1.0)
        mu = population / 2500 * np.exp(0.1 * t / 52 + 0.3 * np.sin(2 * np.pi * week / 52.18)
                                        + 0.05 * cov + noise) * effect
        lam = rng.gamma(shape=mu / (dispersion - 1), scale=dispersion - 1)
        frames.append(pd.DataFrame({"unit": unit, "period": periods, "y": rng.poisson(lam),
                                    "exposure": population, "x1": cov}))
    return pd.concat(frames, ignore_index=True)


def direct_terms(frame: pd.DataFrame, *, start_t: int, slope: bool, pairs: int) -> pd.DataFrame:
    """The segmented regressors built independently of evaluation.its (for the reference fit)."""
    t = frame["t"].to_numpy(dtype=float)
    week = pd.to_datetime(frame["period"]).dt.isocalendar().week.to_numpy(dtype=float)
    X = pd.DataFrame({"const": 1.0, "trend": t}, index=frame.index)
    for k in range(1, pairs + 1):
        X[f"s{k}"] = np.sin(2 * np.pi * k * week / 52.18)
        X[f"c{k}"] = np.cos(2 * np.pi * k * week / 52.18)
    X["level"] = (t >= start_t).astype(float)
    if slope:
        X["slope"] = np.where(t >= start_t, t - start_t + 1, 0.0)
    return X


@pytest.mark.parametrize("model", ["poisson", "quasi_poisson", "negative_binomial", "linear"])
@pytest.mark.parametrize("inference", ["model", "hac"])
def test_equal_to_direct_statsmodels_fit(model, inference):
    exclude = {"exclude": {"start": dt.date(2021, 12, 20), "end": dt.date(2022, 1, 3)}}
    design = its_design(model=model, inference=inference, slope_change=True, window=exclude,
                        data={"covariates": ["x1"]})
    data = prepared_from_long(design, weekly_long())
    out = estimate_its(data, with_checks=False)

    rows = data.panel.loc[~data.panel["excluded"]].reset_index(drop=True)
    assert len(rows) == WEEKS - 3  # the three excluded weeks (New Year) are left out
    X = direct_terms(rows, start_t=104, slope=True, pairs=2)
    X.insert(X.columns.get_loc("level"), "x1", rows["x1"].to_numpy())
    y = rows["y"].to_numpy()
    off = np.log(rows["exposure"].to_numpy())
    lags = math.floor(4 * (len(rows) / 100) ** (2 / 9))
    kw = {"cov_type": "HAC", "cov_kwds": {"maxlags": lags}} if inference == "hac" else {}
    if model == "linear":
        ref = sm.OLS(y / rows["exposure"].to_numpy(), X).fit(**kw)
    elif model == "negative_binomial":
        ref = sm.NegativeBinomial(y, X, offset=off, loglike_method="nb2").fit(disp=0, maxiter=200, **kw)
    else:
        scale = "X2" if model == "quasi_poisson" else None
        ref = sm.GLM(y, X, family=sm.families.Poisson(), offset=off).fit(scale=scale, **kw)

    back = math.exp if model != "linear" else float
    p = out.primary
    assert p["inference"]["used"] == inference
    assert p["inference"]["lags"] == (lags if inference == "hac" else None)
    assert p["estimate"] == pytest.approx(back(ref.params["level"]), rel=1e-8, abs=1e-10)
    assert p["std_error"] == pytest.approx(ref.bse["level"], rel=1e-8)
    # Wald with the normal quantile for every model (statsmodels' OLS would use Student's t)
    z = stats.norm.ppf(0.975)
    coef, se = ref.params["level"], ref.bse["level"]
    assert p["ci_low"] == pytest.approx(back(coef - z * se), rel=1e-8)
    assert p["ci_high"] == pytest.approx(back(coef + z * se), rel=1e-8)
    assert p["p_value"] == pytest.approx(2 * stats.norm.sf(abs(coef / se)), rel=1e-8, abs=1e-12)
    assert p["slope_change"]["estimate"] == pytest.approx(back(ref.params["slope"]), rel=1e-8)
    if model in ("poisson", "quasi_poisson"):
        assert p["dispersion"] == pytest.approx(ref.pearson_chi2 / ref.df_resid, rel=1e-8)
    if model == "negative_binomial":
        assert p["nb_alpha"] == pytest.approx(ref.params["alpha"], rel=1e-8)
    tidy = out.estimates.set_index("term")
    assert tidy.loc["covariate_x1", "estimate"] == pytest.approx(back(ref.params["x1"]), rel=1e-8)
    assert tidy.loc["season_sin_2", "std_error"] == pytest.approx(ref.bse["s2"], rel=1e-8)


def test_controlled_its_equals_formula_fit_and_separates_common_shock():
    design = its_design(controls=["B"], data={"covariates": []})
    long = weekly_long(units=("A", "B"), rr=0.7, shock=1.3, seed=11)
    data = prepared_from_long(design, long)
    out = estimate_its(data, with_checks=False)

    rows = data.panel.copy()
    stacked = rows.assign(
        treated=(rows["unit"] == "A").astype(float), after=(rows["t"] >= 104).astype(float),
        week=pd.to_datetime(rows["period"]).dt.isocalendar().week.astype(float))
    for k in (1, 2):
        stacked[f"s{k}"] = np.sin(2 * np.pi * k * stacked["week"] / 52.18)
        stacked[f"c{k}"] = np.cos(2 * np.pi * k * stacked["week"] / 52.18)
    ref = smf.glm("y ~ treated * t + s1 + c1 + s2 + c2 + after + treated:after", data=stacked,
                  family=sm.families.Poisson(), offset=np.log(stacked["exposure"])).fit(scale="X2")
    p = out.primary
    assert p["estimate"] == pytest.approx(math.exp(ref.params["treated:after"]), rel=1e-8)
    assert p["std_error"] == pytest.approx(ref.bse["treated:after"], rel=1e-6)
    control = p["control_change"]["level"]
    assert control["estimate"] == pytest.approx(math.exp(ref.params["after"]), rel=1e-8)
    assert out.extras["control_change"] == p["control_change"]
    # known truth: treated change 0.7 on top of a common shock of 1.3
    assert p["ci_low"] < 0.7 < p["ci_high"]
    assert control["ci_low"] < 1.3 < control["ci_high"]
    assert p["n_treated"] == 1 and p["n_control"] == 1
    assert set(out.series["group"]) == {"treated", "control"}
    terms = list(out.estimates["term"])
    assert terms[0] == "level_change" and "control_level_change" in terms


def test_hac_with_stacked_series_uses_period_sums():
    design = its_design(controls=["B"], inference="hac", hac_lags=2)
    data = prepared_from_long(design, weekly_long(units=("A", "B"), seed=3))
    out = estimate_its(data, with_checks=False)
    assert out.primary["inference"]["lags"] == 2
    assert "analysis.hac_lags" in out.primary["inference"]["reason"]


def test_auto_inference_is_placebo_blocks_without_a_pretest():
    """`auto` no longer switches on a Ljung-Box pre-test (it rarely sees persistence through
    count noise): it is the placebo-block inference, and the Ljung-Box result is still recorded."""
    design = its_design(inference="auto")
    correlated = estimate_its(prepared_from_long(design, weekly_long(ar=0.9, seed=5)),
                              with_checks=False)
    info = correlated.primary["inference"]
    assert info["used"] == "placebo_blocks", info
    assert info["test"]["p_value"] < 0.05 and info["lags"] is None
    # 104 weeks before, 52 after: blocks of 26 weeks (4 in the pre-period), t on 3 df
    assert info["placebo_blocks"] == 4 and info["df"] == 3
    assert correlated.primary["confidence"]["method"] == "placebo_blocks"


def test_newey_west_lag_rule():
    assert [newey_west_lags(n) for n in (20, 59, 100, 156, 520)] == [2, 3, 4, 4, 5]


def test_output_contract_series_averted_and_checks():
    design = its_design(slope_change=True,
                        window={"exclude": {"start": dt.date(2021, 12, 20), "end": dt.date(2022, 1, 3)}})
    long = weekly_long()
    before = long.copy()
    data = prepared_from_long(design, long)
    out = estimate_its(data)
    pd.testing.assert_frame_equal(long, before)  # the caller's data are not touched

    assert tuple(out.estimates.columns) == TIDY_COLUMNS
    assert list(out.estimates["term"][:3]) == ["level_change", "slope_change", "trend"]
    assert out.estimates["term"].iloc[-1] == "averted_total"
    p = out.primary
    assert p["pct_change"] == pytest.approx(100 * (p["estimate"] - 1))
    assert p["n_periods"] == WEEKS - 3 and p["n_excluded_periods"] == 3
    assert "offset log(population)" in p["method"] and "2 Fourier pair(s) of ISO week" in p["method"]

    series = out.series
    assert list(series.columns) == ["period", "t", "group", "observed", "fitted", "counterfactual",
                                    "cf_low", "cf_high", "excluded"]
    assert len(series) == WEEKS and int(series["excluded"].sum()) == 3
    pre = series.loc[series["t"] < 104]
    np.testing.assert_allclose(pre["counterfactual"], pre["fitted"], rtol=1e-12)
    assert (series["cf_low"] < series["counterfactual"]).all()
    assert (series["counterfactual"] < series["cf_high"]).all()

    averted = out.extras["averted"]
    post = series.loc[(series["t"] >= 104) & ~series["excluded"]]
    assert averted["periods"] == len(post) == 52
    assert averted["estimate"] == pytest.approx((post["counterfactual"] - post["observed"]).sum())
    assert averted["interval"] == "prediction"
    assert averted["ci_low"] < averted["mean_ci_low"] < averted["estimate"]
    assert averted["estimate"] < averted["mean_ci_high"] < averted["ci_high"]
    assert averted["estimate"] > 0  # true RR 0.8: attacks were averted

    names = [c.name for c in out.checks]
    assert names == ["placebo_start_dates", "recent_rise", "seasonality_sensitivity",
                     "residual_autocorrelation", "influential_periods"]
    # simulated with the fitted model's own form (trend, seasonality, independent noise) and one
    # step at the true start: every check passes
    assert {c.name: c.status for c in out.checks} == dict.fromkeys(names, "pass")
    for check in out.checks:
        assert check.detail.startswith("rule: ")
    again = estimate_its(data)
    pd.testing.assert_frame_equal(out.estimates, again.estimates)
    assert out.extras == again.extras


def test_influence_check_names_a_dominating_period():
    long = weekly_long(rr=1.0, seed=21, dispersion=1.0001)
    spike = long["period"] == pd.Timestamp("2023-01-02")  # the first treated week
    long.loc[spike, "y"] = long.loc[spike, "y"] * 6
    design = its_design(model="poisson", seasonality=0)
    out = estimate_its(prepared_from_long(design, long))
    check = next(c for c in out.checks if c.name == "influential_periods")
    assert check.status == "fail"
    assert check.values["largest_shift_period"] == "2023-01-02"


def test_placebo_check_fails_on_a_step_inside_the_pre_period():
    long = weekly_long(rr=1.0, seed=4)
    step = long["period"] >= pd.Timestamp("2021-10-04")  # the second placebo date
    long.loc[step, "y"] = np.round(long.loc[step, "y"] * 2)
    design = its_design(seasonality=1)
    out = estimate_its(prepared_from_long(design, long))
    placebo = next(c for c in out.checks if c.name == "placebo_start_dates")
    assert placebo.status == "fail", placebo.detail
    assert len(placebo.values["placebos"]) == 4


def test_linear_model_reports_differences():
    design = its_design(model="linear", data={"exposure": None})
    out = estimate_its(prepared_from_long(design, weekly_long()), with_checks=False)
    p = out.primary
    assert p["scale"] == "difference" and p["dispersion"] is None
    post = out.series.loc[out.series["t"] >= 104]
    assert p["pct_change"] == pytest.approx(100 * p["estimate"] / post["counterfactual"].mean())
    assert p["estimate"] < 0  # true effect: 20% fewer


def test_quarterly_seasonality_is_capped_with_a_note():
    long = weekly_long(rr=1.0)
    long["period"] = long["period"].dt.to_period("Q").dt.start_time
    quarterly = long.groupby(["unit", "period"], as_index=False).agg(
        y=("y", "sum"), exposure=("exposure", "mean"), x1=("x1", "mean"))
    # six years of quarters, so that there are enough pre-periods
    quarterly = pd.concat([quarterly.assign(period=quarterly["period"] - pd.DateOffset(years=3)),
                           quarterly], ignore_index=True)
    design = its_design(data={"frequency": "quarter"}, seasonality=3,
                        treatment={"start": dt.date(2023, 1, 1)},
                        window={"start": dt.date(2018, 1, 1), "end": dt.date(2023, 10, 1)})
    out = estimate_its(prepared_from_long(design, quarterly), with_checks=False)
    assert out.primary["harmonics"] == 1
    assert out.primary["notes"] == [{"code": "seasonality_reduced", "registered": 3, "pairs": 1,
                                     "frequency": "quarter"}]


# --- bad input: one line, naming the field ---------------------------------------------------
def _raises(kind, field, design, long):
    with pytest.raises(kind) as info:
        estimate_its(prepared_from_long(design, long), with_checks=False)
    message = str(info.value)
    assert message.startswith(field), message
    assert "\n" not in message
    return message


def test_fewer_than_eight_pre_periods():
    design = its_design(window={"start": dt.date(2022, 11, 14)})  # 7 weeks before the start
    message = _raises(AnalysisError, "window.start", design, weekly_long())
    assert "only 7" in message


def test_all_zero_series():
    long = weekly_long().assign(y=0.0)
    _raises(AnalysisError, "data.outcome", its_design(), long)


def test_no_events_after_the_start_is_a_bound_and_none_before_is_refused():
    """After the start: the exact one-sided bound (tests/test_its_separation.py has the numbers).
    Before it: no history to compare with, a one-line error."""
    long = weekly_long()
    after = long["period"] >= pd.Timestamp(START)
    out = estimate_its(prepared_from_long(its_design(), long.assign(y=np.where(after, 0.0, long["y"]))),
                       with_checks=False)
    assert out.primary["one_sided"] and out.primary["ci_low"] == 0.0
    message = _raises(AnalysisError, "data.outcome", its_design(),
                      long.assign(y=np.where(after, long["y"], 0.0)))
    assert "pre-period" in message


@pytest.mark.parametrize("value", [0.0, np.nan])
def test_zero_or_missing_exposure(value):
    long = weekly_long()
    long.loc[5, "exposure"] = value
    message = _raises(AnalysisError, "data.exposure", its_design(), long)
    assert "A 2021-02-08" in message


def test_missing_outcome_names_the_rows():
    long = weekly_long()
    long.loc[[3, 9], "y"] = np.nan
    message = _raises(AnalysisError, "data.outcome", its_design(), long)
    assert "A 2021-01-25, A 2021-03-08" in message


def test_start_outside_the_window():
    with pytest.raises(DesignError, match=r"treatment\.start.*outside the window"):
        parse_design({**its_design().model_dump(mode="json"),
                      "treatment": {"units": ["A"], "start": "2024-06-03"}})
    # a panel whose treated unit never starts inside the window (e.g. data cut before the start)
    long = weekly_long()
    data = prepared_from_long(its_design(), long.loc[long["period"] < pd.Timestamp(START)])
    with pytest.raises(DesignError, match=r"^treatment\.start: .* outside the window"):
        estimate_its(data, with_checks=False)


def test_exclude_window_swallowing_the_start():
    design = its_design(window={"exclude": {"start": dt.date(2022, 12, 19), "end": dt.date(2023, 1, 16)}})
    message = _raises(DesignError, "window.exclude", design, weekly_long())
    assert "covers treatment.start 2023-01-02" in message


def test_inference_for_did_only_is_refused():
    _raises(DesignError, "analysis.inference", its_design(inference="cluster"), weekly_long())


def test_staggered_starts_are_refused():
    design = its_design(treatment={"units": ["A", "B"],
                                   "start": {"A": START, "B": dt.date(2023, 3, 6)}})
    _raises(DesignError, "treatment.start", design, weekly_long(units=("A", "B")))


def test_wald_interval_uses_the_normal_quantile():
    out = estimate_its(prepared_from_long(its_design(), weekly_long()), with_checks=False)
    p = out.primary
    z = stats.norm.ppf(0.975)
    assert math.log(p["ci_high"]) - math.log(p["estimate"]) == pytest.approx(z * p["std_error"])


def test_a_unit_with_missing_periods_is_refused():
    long = weekly_long(units=("A", "B"))
    long = long.drop(index=long.index[(long["unit"] == "B") & (long["period"] == pd.Timestamp("2022-03-07"))])
    message = _raises(AnalysisError, "data:", its_design(treatment={"units": ["A", "B"]}), long)
    assert "unit(s) B lack rows" in message


def test_without_trend_and_season():
    design = its_design(trend=False, seasonality=0)
    out = estimate_its(prepared_from_long(design, weekly_long(rr=0.8)), with_checks=False)
    assert list(out.estimates["term"]) == ["level_change", "averted_total"]
    assert "trend" not in out.primary["method"]


def test_one_step_influence_matches_refits_and_screens_long_series(monkeypatch):
    from evaluation import defaults
    from evaluation.estimators.its import model_spec
    from evaluation.estimators.its.checks import approximate_level_shifts
    from evaluation.estimators.its.segmented import CovChoice, build_series, fit

    long = weekly_long(rr=1.0, seed=21)
    spike = long["period"] == pd.Timestamp("2023-01-02")
    long.loc[spike, "y"] = long.loc[spike, "y"] * 6
    data = prepared_from_long(its_design(), long)
    frame, spec = build_series(data), model_spec(data)
    full = fit(frame, spec=spec, t_start=104, choice=CovChoice("model"))
    approx = approximate_level_shifts(frame, full, spec=spec, t_start=104)
    for t in (0, 50, 103, 104, 130):
        dropped = fit(frame.loc[frame["t"] != t], spec=spec, t_start=104, choice=CovChoice("model"))
        exact = full.coef("level_change") - dropped.coef("level_change")
        assert approx.loc[t] == pytest.approx(exact, rel=0.05, abs=1e-3)  # one step: ~2% off
    monkeypatch.setattr(defaults, "ITS_INFLUENCE_MAX_REFITS", 10)
    out = estimate_its(data)
    check = next(c for c in out.checks if c.name == "influential_periods")
    assert check.values["n_refits"] == 10 and "largest one-step shift" in check.detail
    assert check.values["largest_shift_period"] == "2023-01-02"
