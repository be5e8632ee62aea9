"""ITS inference, counterfactual and placebo blocks on tiny series with hand-computable answers
(issue 22: written against the survivors of mutation testing, group `its`).

Most cases use a linear model with an intercept only (plus the level change), for which every
quantity has a closed form:
- the null fit at level change b leaves r = (y - b post) - mean(y - b post);
- with n periods, m of them after the start, and pre-period blocks that tile the pre-period, the
  post mean residual minus the mean of the block means is D - b, D = mean(post y) - mean(pre y),
  which is also the least-squares level change; the blocks' spread S does not depend on b;
- so the placebo-block t at b is (D - b) / S, the interval is D -+ S t_{J-1, 1 - alpha/2}, and
  the post mean residual falls by (1 - m / n) per unit of b (its sensitivity).
Expected values are computed here with numpy and scipy from those formulas, or are literals.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from evaluation.errors import AnalysisError
from evaluation.estimators.its import blocks
from evaluation.estimators.its.blocks import (
    BlockInference,
    BlockTest,
    block_inference,
    block_means,
    block_p_value,
    block_test,
    inference_validity,
    minimum_detectable,
)
from evaluation.estimators.its.counterfactual import (
    SERIES_COLUMNS,
    _outcome_draws,
    averted,
    series_table,
)
from evaluation.estimators.its.inference import (
    LjungBox,
    fit_with_inference,
    ljung_box,
    newey_west_lags,
    residual_tests,
    wald,
)
from evaluation.estimators.its.segmented import CovChoice, ItsFit, ModelSpec, fit

Z975 = 1.959963984540054  # the normal 0.975 quantile (tables)


def spec_of(model="linear", *, exposure=False, controlled=False) -> ModelSpec:
    return ModelSpec(model=model, trend=False, harmonics=0, slope_change=False, covariates=(),
                     has_exposure=exposure, frequency="year", controlled=controlled)


def series(y, *, group="treated", exposure=None, t0=0) -> pd.DataFrame:
    y = np.asarray(y, dtype=float)
    t = np.arange(t0, t0 + len(y))
    return pd.DataFrame({"group": group, "period": t, "t": t, "y": y,
                         "exposure": 1.0 if exposure is None else exposure, "excluded": False})


def hand_ljung_box(x, lags):
    """Q = n (n + 2) sum_k r_k^2 / (n - k), r_k the lag-k autocorrelation (Ljung & Box 1978)."""
    x = np.asarray(x, dtype=float)
    n, d = len(x), x - x.mean()
    r = [np.sum(d[k:] * d[:-k]) / np.sum(d * d) for k in range(1, lags + 1)]
    q = n * (n + 2) * sum(rk**2 / (n - k) for k, rk in enumerate(r, start=1))
    return q, float(stats.chi2.sf(q, lags))


# a fixed series of 40 values (no structure needed; literals so the cases below are reproducible)
Y40 = np.array([9.1, 11.4, 10.2, 8.7, 12.3, 10.9, 9.5, 10.1, 11.8, 9.9,
                10.4, 8.8, 12.0, 11.1, 9.3, 10.6, 10.0, 11.5, 9.0, 10.8,
                12.4, 9.6, 10.3, 11.0, 8.9, 10.7, 11.9, 9.4, 10.5, 9.8,
                11.2, 10.1, 8.2, 9.0, 7.9, 8.8, 9.4, 7.6, 8.5, 9.1])
# 40 values without autocorrelation to speak of (Ljung-Box p 0.67 at 10 lags after the segments'
# means are removed)
WHITE40 = np.array([10.2, 9.5, 9.6, 7.6, 11.8, 11.1, 9.7, 10.8, 10.3, 9.4,
                    11.0, 9.7, 9.7, 9.2, 10.5, 9.9, 10.5, 9.4, 10.1, 9.1,
                    10.8, 10.2, 10.3, 10.4, 9.0, 10.8, 12.1, 8.4, 8.3, 8.5,
                    10.8, 10.1, 11.1, 10.7, 10.2, 10.3, 9.8, 10.9, 8.9, 9.6])


# ---------------------------------------------------------------- inference.py

@pytest.mark.parametrize("n, lags", [(0, 1), (1, 1), (50, 3), (100, 4), (1000, 6)])
def test_newey_west_lags_by_hand(n, lags):
    # floor(4 (n/100)^(2/9)): 50 -> 3.43, 100 -> 4, 1000 -> 6.67, 1 -> 1.44; 0 -> 0, raised to 1
    assert newey_west_lags(n) == lags


def test_ljung_box_dict_and_lags():
    assert LjungBox(1.5, 0.25, 3).to_dict() == {"name": "Ljung-Box", "statistic": 1.5,
                                                "p_value": 0.25, "lags": 3}
    # lags = max(1, min(12, n // 4)): 40 -> 10, 100 -> 12, 3 -> 1
    for n, lags in [(40, 10), (100, 12), (3, 1)]:
        x = np.sin(np.arange(n) * 1.3) + np.arange(n) % 3
        out = ljung_box(pd.Series(x))
        q, p = hand_ljung_box(x, lags)
        assert out.lags == lags
        # tolerance: floating-point summation order only
        assert out.statistic == pytest.approx(q, rel=1e-9)
        assert out.p_value == pytest.approx(p, rel=1e-9, abs=1e-15)


def test_residual_tests_use_each_series_in_time_order():
    rng = np.random.default_rng(1)
    treated, control = rng.normal(size=24), rng.normal(size=24)
    frame = pd.concat([series(treated), series(control, group="control")], ignore_index=True)
    frame = frame.sample(frac=1.0, random_state=3)  # rows out of time order
    pearson = pd.Series(np.concatenate([treated, control]), index=range(48))
    out = residual_tests(frame, SimpleNamespace(pearson=pearson))
    assert set(out) == {"treated", "control"}
    for name, x in (("treated", treated), ("control", control)):
        q, p = hand_ljung_box(x, 6)  # 24 // 4 = 6 lags
        assert out[name].lags == 6
        assert out[name].statistic == pytest.approx(q, rel=1e-9)  # summation order only
        assert out[name].p_value == pytest.approx(p, rel=1e-9)


def test_residual_tests_keep_the_order_of_appearance():
    frame = pd.concat([series(np.arange(12.0)), series(np.arange(12.0) % 3, group="control")],
                      ignore_index=True)
    pearson = pd.Series(frame["y"].to_numpy(), index=frame.index)
    assert list(residual_tests(frame, SimpleNamespace(pearson=pearson))) == ["treated", "control"]
    flipped = frame.iloc[::-1]
    assert list(residual_tests(flipped, SimpleNamespace(pearson=pearson))) == ["control", "treated"]


def _cell_residuals(y, start):
    """OLS on intercept + level change: the residual is y minus its segment's mean."""
    y = np.asarray(y, dtype=float)
    return np.concatenate([y[:start] - y[:start].mean(), y[start:] - y[start:].mean()])


REASON_BLOCKS = ("placebo-block inference: the post-period's mean residual against the same "
                 "mean over non-overlapping pre-period blocks of the same length (a prediction "
                 "t test), valid when shocks persist for weeks")


def test_fit_with_inference_model_and_placebo_blocks():
    frame = series(Y40)
    q, p = hand_ljung_box(_cell_residuals(Y40, 32), 10)
    for requested, used, reason in [
            ("model", "model", "registered: model-based (Wald) standard errors"),
            ("auto", "placebo_blocks", "auto: " + REASON_BLOCKS),
            ("placebo_blocks", "placebo_blocks", "registered: " + REASON_BLOCKS)]:
        out = fit_with_inference(frame, spec=spec_of(), t_start=32, requested=requested,
                                 hac_lags=None)
        assert out.info["used"] == used and out.info["reason"] == reason
        assert out.info["lags"] is None and "test_control" not in out.info
        assert out.info["test"]["name"] == "Ljung-Box" and out.info["test"]["lags"] == 10
        assert out.info["test"]["statistic"] == pytest.approx(q, rel=1e-9)  # summation order
        assert out.info["test"]["p_value"] == pytest.approx(p, rel=1e-9)
        assert list(out.tests) == ["treated"]
        assert out.fit.cov_choice == CovChoice("model")
        # model-based OLS: se of the level change = sqrt(s2 (1/32 + 1/8)), s2 = RSS / 38
        s2 = np.sum(_cell_residuals(Y40, 32) ** 2) / 38
        assert out.fit.se("level_change") == pytest.approx(math.sqrt(s2 * (1 / 32 + 1 / 8)), rel=1e-9)


def test_fit_with_inference_hac_lags():
    frame = series(Y40)
    X = np.column_stack([np.ones(40), (np.arange(40) >= 32).astype(float)])
    for hac_lags, lags, rule in [(None, 3, "floor(4 * (n / 100) ** (2 / 9)), n = periods used"),
                                 (5, 5, "analysis.hac_lags")]:
        out = fit_with_inference(frame, spec=spec_of(), t_start=32, requested="hac",
                                 hac_lags=hac_lags)
        assert out.info["used"] == "hac" and out.info["lags"] == lags  # 40 periods: 3.26 -> 3
        assert out.info["reason"] == f"registered: Newey-West (HAC) standard errors, {lags} lags ({rule})"
        assert out.fit.cov_choice == CovChoice("hac", lags)
        ref = sm.OLS(Y40, X).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        assert out.fit.se("level_change") == pytest.approx(float(ref.bse[1]), rel=1e-9)


def test_fit_with_inference_ljung_box_switch():
    # WHITE40: p > 0.05, so model-based errors
    frame = series(WHITE40)
    q, p = hand_ljung_box(_cell_residuals(WHITE40, 32), 10)
    assert p > 0.05
    out = fit_with_inference(frame, spec=spec_of(), t_start=32, requested="ljung_box_switch",
                             hac_lags=None)
    assert out.info["used"] == "model" and out.info["lags"] is None
    assert out.info["reason"] == (f"Ljung-Box test of the Pearson residuals (10 lags) p = {p:.3g}: "
                                  "model standard errors")
    # a slow sine: strongly autocorrelated residuals, p < 0.05, so Newey-West with 3 lags
    wave = 10 + 3 * np.sin(np.arange(40) / 3)
    q, p = hand_ljung_box(_cell_residuals(wave, 32), 10)
    assert p < 0.05
    out = fit_with_inference(series(wave), spec=spec_of(), t_start=32,
                             requested="ljung_box_switch", hac_lags=None)
    assert out.info["used"] == "hac" and out.info["lags"] == 3
    assert out.info["reason"] == (f"Ljung-Box test of the Pearson residuals (10 lags) p = {p:.3g}: "
                                  "hac standard errors")
    assert out.fit.cov_choice == CovChoice("hac", 3)


def test_fit_with_inference_controlled_names_the_worst_series():
    wave = 10 + 3 * np.sin(np.arange(40) / 3)  # autocorrelated: the smaller p
    frame = pd.concat([series(WHITE40), series(wave, group="control")], ignore_index=True)
    out = fit_with_inference(frame, spec=spec_of(controlled=True), t_start=32,
                             requested="ljung_box_switch", hac_lags=None)
    _, p_treated = hand_ljung_box(_cell_residuals(WHITE40, 32), 10)
    q_control, p_control = hand_ljung_box(_cell_residuals(wave, 32), 10)
    assert list(out.tests) == ["treated", "control"]
    assert out.info["test"]["p_value"] == pytest.approx(p_treated, rel=1e-9)  # summation order
    assert out.info["test_control"]["p_value"] == pytest.approx(p_control, rel=1e-9)
    assert out.info["test_control"]["statistic"] == pytest.approx(q_control, rel=1e-9)
    assert out.info["used"] == "hac"
    assert out.info["reason"] == ("Ljung-Box test of each series' Pearson residuals (smallest p: "
                                  f"control series) (10 lags) p = {p_control:.3g}: hac standard errors")


def test_wald_of_one_coefficient():
    fitted = SimpleNamespace(coef={"a": 0.1, "b": 0.5}.__getitem__,
                             se={"a": 9.0, "b": 0.2}.__getitem__)
    out = wald(fitted, "b", alpha=0.05)
    assert (out.coef, out.se) == (0.5, 0.2)
    assert out.low == pytest.approx(0.5 - Z975 * 0.2, rel=1e-12)
    assert out.high == pytest.approx(0.5 + Z975 * 0.2, rel=1e-12)
    assert out.p_value == pytest.approx(0.012419330651552318, rel=1e-9)  # 2 (1 - Phi(2.5))


# ---------------------------------------------------------------- counterfactual.py

def its_fit(names, params, cov, *, kind="model", resid_scale=float("nan"), dispersion=1.0,
            nb_alpha=None) -> ItsFit:
    return ItsFit(names=tuple(names), params=np.array(params, dtype=float),
                  cov=np.array(cov, dtype=float), cov_choice=CovChoice(kind),
                  dispersion=dispersion, nb_alpha=nb_alpha, resid_scale=resid_scale,
                  pearson=pd.Series(dtype=float), n_obs=0, converged=True)


def test_series_table_linear_by_hand():
    frame = series([9.0, 11.0, 10.0, 7.0, 5.0, 6.0]).assign(excluded=[False, True, False, False,
                                                                     False, True])
    frame.index = [10, 11, 12, 13, 14, 15]
    fitted = its_fit(["intercept", "level_change"], [10.0, -4.0], [[0.25, 0.1], [0.1, 1.0]])
    out = series_table(frame, fitted, spec=spec_of(), t_start=3, alpha=0.05)
    assert list(out.columns) == list(SERIES_COLUMNS) == [
        "period", "t", "group", "observed", "fitted", "counterfactual", "cf_low", "cf_high",
        "excluded"]
    assert list(out.index) == [0, 1, 2, 3, 4, 5]
    assert out["period"].tolist() == [0, 1, 2, 3, 4, 5] and out["t"].tolist() == [0, 1, 2, 3, 4, 5]
    assert out["t"].dtype == np.int64 and out["excluded"].dtype == bool
    assert out["group"].tolist() == ["treated"] * 6
    assert out["observed"].tolist() == [9.0, 11.0, 10.0, 7.0, 5.0, 6.0]
    assert out["fitted"].tolist() == [10.0, 10.0, 10.0, 6.0, 6.0, 6.0]
    assert out["counterfactual"].tolist() == [10.0] * 6
    # the counterfactual's se is the intercept's: sqrt(0.25) = 0.5
    assert out["cf_low"].to_numpy() == pytest.approx(np.full(6, 10 - Z975 * 0.5), rel=1e-12)
    assert out["cf_high"].to_numpy() == pytest.approx(np.full(6, 10 + Z975 * 0.5), rel=1e-12)
    assert out["excluded"].tolist() == [False, True, False, False, False, True]


def test_series_table_counts_with_exposure_and_alpha():
    frame = series([3.0, 4.0, 2.0, 1.0], exposure=np.array([1.0, 2.0, 1.0, 4.0]))
    fitted = its_fit(["intercept", "level_change"], [math.log(2.0), math.log(0.5)],
                     [[0.04, 0.0], [0.0, 0.09]])
    out = series_table(frame, fitted, spec=spec_of("poisson", exposure=True), t_start=2, alpha=0.1)
    # mean = 2 x exposure before, 2 x 0.5 x exposure after; counterfactual 2 x exposure
    assert out["fitted"].to_numpy() == pytest.approx([2.0, 4.0, 1.0, 4.0], rel=1e-12)
    assert out["counterfactual"].to_numpy() == pytest.approx([2.0, 4.0, 2.0, 8.0], rel=1e-12)
    z90 = 1.6448536269514722  # normal 0.95 quantile
    assert out["cf_low"].to_numpy() == pytest.approx(
        np.array([2.0, 4.0, 2.0, 8.0]) * math.exp(-z90 * 0.2), rel=1e-12)
    assert out["cf_high"].to_numpy() == pytest.approx(
        np.array([2.0, 4.0, 2.0, 8.0]) * math.exp(z90 * 0.2), rel=1e-12)


MEAN = np.array([[0.0, 1.5, 4.0, -0.5], [2.0, 0.5, 3.0, 6.0]])


def test_outcome_draws_poisson_and_dispersion_at_most_one():
    clipped = np.maximum(MEAN, 0.0)  # a count model's mean is clipped at zero
    for model, kwargs, note in [
            ("poisson", {}, "Poisson outcome noise"),
            ("quasi_poisson", {"dispersion": 0.8}, "Poisson outcome noise (estimated dispersion <= 1)"),
            ("quasi_poisson", {"dispersion": 1.0}, "Poisson outcome noise (estimated dispersion <= 1)"),
            ("negative_binomial", {"nb_alpha": None}, "Poisson outcome noise (NB alpha = 0)"),
            ("negative_binomial", {"nb_alpha": 0.0}, "Poisson outcome noise (NB alpha = 0)")]:
        fitted = its_fit(["intercept"], [0.0], [[0.0]], **kwargs)
        counts, text = _outcome_draws(MEAN, fitted, spec_of(model), np.ones(4),
                                      np.random.default_rng(11))
        assert text == note
        assert counts.tolist() == np.random.default_rng(11).poisson(clipped).tolist()


def test_outcome_draws_gamma_poisson_mixtures():
    """Quasi-Poisson phi = 3: Poisson(Gamma(shape mu / 2, scale 2)), mean mu, variance 3 mu;
    negative binomial alpha 0.5: Poisson(Gamma(shape 2, scale 0.5 mu)), variance mu + 0.5 mu^2.
    Reference: numpy's generator with those parameters, same seed; and the moments on many draws."""
    positive = np.array([[0.5, 1.5, 4.0, 2.5], [2.0, 0.5, 3.0, 6.0]])
    fitted = its_fit(["intercept"], [0.0], [[0.0]], dispersion=3.0)
    counts, text = _outcome_draws(positive, fitted, spec_of("quasi_poisson"), np.ones(4),
                                  np.random.default_rng(5))
    assert text == "gamma-Poisson outcome noise with variance 3 x mean"
    rng = np.random.default_rng(5)
    assert counts.tolist() == rng.poisson(rng.gamma(shape=positive / 2, scale=2.0)).tolist()
    big = np.full((200_000, 1), 4.0)
    many, _ = _outcome_draws(big, fitted, spec_of("quasi_poisson"), np.ones(1),
                             np.random.default_rng(1))
    # 200,000 draws: the standard error of the mean is sqrt(12 / 2e5) = 0.008, of the variance ~0.1
    assert many.mean() == pytest.approx(4.0, abs=0.04)
    assert many.var() == pytest.approx(12.0, abs=0.5)

    fitted = its_fit(["intercept"], [0.0], [[0.0]], nb_alpha=0.5)
    counts, text = _outcome_draws(positive, fitted, spec_of("negative_binomial"), np.ones(4),
                                  np.random.default_rng(5))
    assert text == "negative binomial outcome noise, alpha 0.5"
    rng = np.random.default_rng(5)
    assert counts.tolist() == rng.poisson(rng.gamma(shape=2.0, scale=0.5 * positive)).tolist()
    many, _ = _outcome_draws(big, fitted, spec_of("negative_binomial"), np.ones(1),
                             np.random.default_rng(1))
    assert many.mean() == pytest.approx(4.0, abs=0.04)  # as above; variance 4 + 0.5 x 16 = 12
    assert many.var() == pytest.approx(12.0, abs=0.5)


def test_outcome_draws_zero_and_negative_means_give_zero_counts():
    """A count model's mean below zero is clipped to zero; a zero mean gives zero counts in each
    mixture (its gamma shape or scale is zero, not negative)."""
    means = np.array([[0.0, -1.0, 0.0], [-2.0, 0.0, 0.0]])
    for model, kwargs in [("poisson", {}), ("quasi_poisson", {"dispersion": 3.0}),
                          ("negative_binomial", {"nb_alpha": 0.5})]:
        fitted = its_fit(["intercept"], [0.0], [[0.0]], **kwargs)
        counts, _ = _outcome_draws(means, fitted, spec_of(model), np.ones(3),
                                   np.random.default_rng(0))
        assert counts.tolist() == [[0, 0, 0], [0, 0, 0]], model


def test_outcome_draws_linear_scale_by_exposure():
    fitted = its_fit(["intercept"], [0.0], [[0.0]], resid_scale=4.0)
    exposure = np.array([1.0, 2.0, 3.0, 0.5])
    values, text = _outcome_draws(MEAN, fitted, spec_of("linear", exposure=True), exposure,
                                  np.random.default_rng(2))
    assert text == "normal outcome noise with the residual variance"
    noise = np.random.default_rng(2).normal(size=MEAN.shape)
    # the linear mean is not clipped; sd = sqrt(4) x exposure
    assert values == pytest.approx(MEAN + noise * 2.0 * exposure, rel=1e-12)
    values, _ = _outcome_draws(MEAN, fitted, spec_of("linear"), exposure, np.random.default_rng(2))
    assert values == pytest.approx(MEAN + noise * 2.0, rel=1e-12)


def _averted_frame():
    """Treated t = 0..5 (start 3; t = 4 excluded) and a control series that must be ignored."""
    treated = series([10.0, 12.0, 8.0, 7.0, 100.0, 5.0], exposure=np.array([1, 1, 1, 2, 1, 4.0]))
    treated["excluded"] = [False, False, False, False, True, False]
    control = series([50.0] * 6, group="control")
    return pd.concat([treated, control], ignore_index=True)


def test_averted_linear_without_uncertainty_by_hand():
    """Zero covariance and zero residual variance: every draw is the counterfactual itself.
    Post rows used: t = 3 (exposure 2, y 7) and t = 5 (exposure 4, y 5); counterfactual rate 10:
    expected 20 + 40 = 60, observed 12, averted 48, 80% of the expected."""
    fitted = its_fit(["intercept", "level_change"], [10.0, -3.0], np.zeros((2, 2)),
                     resid_scale=0.0)
    out = averted(_averted_frame(), fitted, spec=spec_of("linear", exposure=True), t_start=3,
                  alpha=0.05, seed=1, draws=50)
    assert out == {
        "estimate": 48.0, "ci_low": 48.0, "ci_high": 48.0, "interval": "prediction",
        "mean_ci_low": 48.0, "mean_ci_high": 48.0, "expected": 60.0, "observed": 12.0,
        "pct_of_expected": 80.0, "periods": 2, "draws": 50, "seed": 1,
        "method": ("counterfactual minus observed, summed over 2 post periods; 95% prediction "
                   "interval from 50 coefficient draws (multivariate normal, model covariance) "
                   "plus normal outcome noise with the residual variance; mean_ci_* is the "
                   "interval without outcome noise")}


def test_averted_no_expected_count_has_no_percentage():
    fitted = its_fit(["intercept", "level_change"], [0.0, 2.0], np.zeros((2, 2)), resid_scale=0.0)
    out = averted(_averted_frame(), fitted, spec=spec_of("linear"), t_start=3, alpha=0.05, seed=1,
                  draws=10)
    assert out["expected"] == 0.0 and out["estimate"] == -12.0 and out["pct_of_expected"] is None
    fitted = its_fit(["intercept", "level_change"], [-1.0, 2.0], np.zeros((2, 2)), resid_scale=0.0)
    out = averted(_averted_frame(), fitted, spec=spec_of("linear"), t_start=3, alpha=0.05, seed=1,
                  draws=10)
    assert out["expected"] == -2.0 and out["pct_of_expected"] is None


def test_averted_poisson_quantiles_follow_the_seeded_generator():
    """Reference: numpy's Generator(seed) in the documented order (coefficient draws by SVD, then
    Poisson outcome noise), with the counterfactual rate exp(intercept) x exposure, and
    np.quantile at alpha / 2 and 1 - alpha / 2 of (draw total - observed)."""
    params, cov = [math.log(10.0), math.log(0.5)], [[0.01, 0.002], [0.002, 0.04]]
    fitted = its_fit(["intercept", "level_change"], params, cov, kind="hac")
    out = averted(_averted_frame(), fitted, spec=spec_of("poisson", exposure=True), t_start=3,
                  alpha=0.1, seed=9, draws=400)
    rng = np.random.default_rng(9)
    beta = rng.multivariate_normal(params, cov, size=400, method="svd")
    means = np.exp(beta[:, :1] + np.log([2.0, 4.0]))  # level change switched off
    counts = rng.poisson(means)
    assert out["expected"] == pytest.approx(60.0, rel=1e-12) and out["observed"] == 12.0
    assert out["estimate"] == pytest.approx(48.0, rel=1e-12)
    assert out["pct_of_expected"] == pytest.approx(80.0, rel=1e-12)
    pred, mean = counts.sum(axis=1) - 12.0, means.sum(axis=1) - 12.0
    assert out["ci_low"] == pytest.approx(np.quantile(pred, 0.05), rel=1e-12)
    assert out["ci_high"] == pytest.approx(np.quantile(pred, 0.95), rel=1e-12)
    assert out["mean_ci_low"] == pytest.approx(np.quantile(mean, 0.05), rel=1e-12)
    assert out["mean_ci_high"] == pytest.approx(np.quantile(mean, 0.95), rel=1e-12)
    assert out["ci_low"] < out["mean_ci_low"] < out["mean_ci_high"] < out["ci_high"]
    assert out["method"].startswith("counterfactual minus observed, summed over 2 post periods; "
                                    "90% prediction interval from 400 coefficient draws "
                                    "(multivariate normal, hac covariance) plus Poisson outcome noise;")


def test_averted_count_model_without_exposure():
    fitted = its_fit(["intercept", "level_change"], [math.log(10.0), 0.3], np.zeros((2, 2)))
    out = averted(_averted_frame(), fitted, spec=spec_of("poisson"), t_start=3, alpha=0.05,
                  seed=1, draws=20)
    # no exposure: rate 10 in each of the two post rows
    assert out["expected"] == pytest.approx(20.0, rel=1e-12)
    assert out["mean_ci_low"] == pytest.approx(8.0, rel=1e-12)
    assert out["mean_ci_high"] == pytest.approx(8.0, rel=1e-12)


# ---------------------------------------------------------------- blocks.py

def test_block_test_spread_t_and_p_by_hand():
    test = BlockTest(beta0=0.0, observed=4.0, placebo=np.array([1.0, 2.0, 3.0]), n_post=4, width=2)
    # sd(1, 2, 3) = 1; scale sqrt(2/4 + 1/3)
    assert test.spread == pytest.approx(math.sqrt(0.5 + 1 / 3), rel=1e-12)
    t = 2.0 / math.sqrt(0.5 + 1 / 3)
    assert test.t_statistic == pytest.approx(t, rel=1e-12)
    assert test.p_lower == pytest.approx(stats.t.cdf(t, 2), rel=1e-12)
    two = BlockTest(beta0=0.0, observed=0.0, placebo=np.array([1.0, 3.0]), n_post=2, width=2)
    # two blocks: sd sqrt(2), scale sqrt(1 + 1/2); t = -2 / sqrt(3) on 1 df
    assert two.spread == pytest.approx(math.sqrt(3.0), rel=1e-12)
    assert two.p_lower == pytest.approx(stats.t.cdf(-2 / math.sqrt(3), 1), rel=1e-12)


def test_block_test_divides_each_mean_by_its_shrinkage():
    test = BlockTest(beta0=0.0, observed=4.0, placebo=np.array([1.0, 2.0, 3.0]), n_post=4,
                     width=2, shrinkage=np.array([2.0, 1.0, 0.5, 1.0]))
    observed, placebo = test.standardised
    assert observed == 2.0 and placebo.tolist() == [1.0, 4.0, 3.0]
    # sd(1, 4, 3) = sqrt(7/3); t = (2 - 8/3) / (sqrt(7/3) sqrt(2/4 + 1/3))
    assert test.spread == pytest.approx(math.sqrt(7 / 3) * math.sqrt(0.5 + 1 / 3), rel=1e-12)
    t = (2 - 8 / 3) / (math.sqrt(7 / 3) * math.sqrt(0.5 + 1 / 3))
    assert test.t_statistic == pytest.approx(t, rel=1e-12)
    assert test.p_lower == pytest.approx(stats.t.cdf(t, 2), rel=1e-12)
    plain = BlockTest(beta0=0.0, observed=4.0, placebo=[1.0, 2.0], n_post=4, width=2)
    observed, placebo = plain.standardised
    assert observed == 4.0 and isinstance(placebo, np.ndarray) and placebo.tolist() == [1.0, 2.0]


def test_block_test_degenerate_cases():
    one = BlockTest(beta0=0.0, observed=1.0, placebo=np.array([2.0]), n_post=2, width=2)
    assert math.isnan(one.spread) and math.isnan(one.t_statistic) and one.p_lower == 0.5
    flat = BlockTest(beta0=0.0, observed=2.0, placebo=np.array([2.0, 2.0, 2.0]), n_post=2, width=2)
    assert flat.spread == 0.0 and math.isnan(flat.t_statistic) and flat.p_lower == 0.5
    none = BlockTest(beta0=0.0, observed=2.0, placebo=np.array([]), n_post=2, width=2)
    assert none.p_lower == 0.5


def test_block_means_count_back_from_the_start():
    values = np.array([100.0, 1, 2, 3, 4, 5, 6, 7, 8, 20, 30])
    # 9 before, 2 after: blocks of min(2, 9 // 4) = 2 from position 9 back; position 0 unused
    observed, placebo = block_means(values, 9)
    assert observed == 25.0
    assert placebo.tolist() == [7.5, 5.5, 3.5, 1.5]


def _poisson_frame(y, exposure):
    return series(y, exposure=np.asarray(exposure, dtype=float))


def test_poisson_null_residuals_by_hand():
    """Intercept only, offset b x post + log(exposure): the fit matches the total,
    exp(a) = sum y / sum(exposure e^(b post)); the residual is (y - mu) / mu."""
    y = np.array([3.0, 5, 4, 6, 2, 7, 5, 4, 1, 2, 3, 2])
    exposure = np.array([1.0, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2])
    frame = _poisson_frame(y, exposure)
    post = (np.arange(12) >= 8).astype(float)
    b = -0.4
    test = block_test(frame, spec=spec_of("poisson", exposure=True), t_start=8, beta0=b)
    rate = y.sum() / np.sum(exposure * np.exp(b * post))
    mu = rate * exposure * np.exp(b * post)
    resid = (y - mu) / mu
    # tolerance: IRLS convergence of the GLM fit
    assert test.observed == pytest.approx(resid[8:].mean(), abs=1e-8)
    # 8 before, 4 after: blocks of min(4, 8 // 4) = 2, four of them
    assert test.width == 2 and test.n_post == 4 and test.beta0 == b
    assert test.placebo == pytest.approx([resid[6:8].mean(), resid[4:6].mean(), resid[2:4].mean(),
                                          resid[0:2].mean()], abs=1e-8)


def test_negative_binomial_null_residuals_by_hand():
    """NB2 with a fixed alpha, intercept only: the score sum (y - mu) / (1 + alpha mu) = 0 with
    mu = c e^(b post), solved here by brentq; Poisson would give a different c."""
    y = np.array([3.0, 9, 4, 1, 2, 12, 5, 4, 1, 0, 3, 2])
    post = (np.arange(12) >= 8).astype(float)
    b, alpha = 0.5, 0.7

    def score(c):
        mu = c * np.exp(b * post)
        return np.sum((y - mu) / (1 + alpha * mu))

    c = optimize.brentq(score, 0.1, 50.0, xtol=1e-14)
    mu = c * np.exp(b * post)
    resid = (y - mu) / mu
    test = block_test(series(y), spec=spec_of("negative_binomial"), t_start=8, beta0=b,
                      nb_alpha=alpha)
    # tolerance: the GLM's IRLS stops at a relative deviance change of 1e-8
    assert test.observed == pytest.approx(resid[8:].mean(), abs=1e-6)
    poisson = block_test(series(y), spec=spec_of("negative_binomial"), t_start=8, beta0=b)
    c_poisson = y.sum() / np.sum(np.exp(b * post))
    mu_p = c_poisson * np.exp(b * post)
    assert poisson.observed == pytest.approx(((y - mu_p) / mu_p)[8:].mean(), abs=1e-8)
    assert abs(c - c_poisson) > 0.05  # the two families differ here


def test_controlled_null_residuals_are_treated_minus_control():
    rng = np.random.default_rng(4)
    treated, control = rng.normal(10, 1, 24), rng.normal(5, 1, 24)
    frame = pd.concat([series(control, group="control"), series(treated)], ignore_index=True)
    frame = frame.sample(frac=1.0, random_state=2)
    b = 0.3
    test = block_test(frame, spec=spec_of(controlled=True), t_start=16, beta0=b)
    # null design: intercept, group_treated and the common change at the start (the treated
    # post cells shifted by b), fitted here by numpy's least squares; residual treated - control
    post = np.arange(24) >= 16
    shifted = treated - b * post
    X = np.column_stack([np.ones(48), np.r_[np.zeros(24), np.ones(24)], np.r_[post, post]])
    coef, *_ = np.linalg.lstsq(X, np.r_[control, shifted], rcond=None)
    resid = np.r_[control, shifted] - X @ coef
    diff = resid[24:] - resid[:24]
    assert test.observed == pytest.approx(diff[16:].mean(), abs=1e-10)
    assert test.placebo == pytest.approx([diff[12:16].mean(), diff[8:12].mean(), diff[4:8].mean(),
                                          diff[0:4].mean()], abs=1e-10)


def _linear_hand(y, start, alpha=0.05):
    """D, S and the interval of the intercept-only linear model (module docstring)."""
    y = np.asarray(y, dtype=float)
    n, m = len(y), len(y) - start
    width = min(m, start // 4)
    count = start // width
    means = np.array([y[start - (j + 1) * width:start - j * width].mean() for j in range(count)])
    d = y[start:].mean() - means.mean()
    s = np.std(means, ddof=1) * math.sqrt(width / m + 1 / count)
    q = stats.t.ppf(1 - alpha / 2, count - 1)
    return SimpleNamespace(d=d, s=s, low=d - s * q, high=d + s * q, count=count,
                           sens=1 - m / n, df=count - 1)


def test_block_p_value_by_hand_and_too_short():
    hand = _linear_hand(Y40, 32)
    t0 = hand.d / hand.s
    expected = 2 * min(stats.t.cdf(t0, 3), 1 - stats.t.cdf(t0, 3))
    assert block_p_value(series(Y40), spec=spec_of(), t_start=32) == pytest.approx(expected, rel=1e-9)
    # 20 before, 8 after: blocks of 5 periods, shorter than 8: no valid inference
    assert block_p_value(series(Y40[:28]), spec=spec_of(), t_start=20) is None
    # 24 before, 8 after: three blocks of 6 (min(8, 24 // 4)), 6 < 8: refused as well
    assert block_p_value(series(Y40[:32]), spec=spec_of(), t_start=24) is None


def test_block_p_value_is_capped_at_one():
    y = np.r_[Y40[:32], np.full(8, Y40[:32].mean())]  # post mean = mean of the block means: t = 0
    assert block_p_value(series(y), spec=spec_of(), t_start=32) == pytest.approx(1.0, abs=1e-12)


def test_block_inference_linear_by_hand():
    frame = series(Y40)
    fitted = fit(frame, spec=spec_of(), t_start=32, choice=CovChoice("model"))
    hand = _linear_hand(Y40, 32)
    thresholds = {"any_reduction": 0.0, "min_reduction": -1.0, "unused": None}
    out = block_inference(frame, fitted, spec=spec_of(), t_start=32, alpha=0.05,
                          thresholds=thresholds)
    assert out.coef == pytest.approx(hand.d, abs=1e-12)  # the OLS level change is D here
    # the ends are found by bisection to END_TOLERANCE = 1e-4
    assert out.low == pytest.approx(hand.low, abs=2e-4)
    assert out.high == pytest.approx(hand.high, abs=2e-4)
    t0 = hand.d / hand.s
    assert out.p_value == pytest.approx(2 * min(stats.t.cdf(t0, 3), stats.t.sf(t0, 3)), rel=1e-9)
    assert out.n_blocks == 4
    # se = the statistic's standard error over the sensitivity 1 - m / n = 0.8. The statistic
    # divides each block mean by its shrinkage under the null fit: intercept only, the fit takes
    # out the mean of the 5 stretches' shocks (4 blocks + the post period), so each block mean
    # shrinks by sqrt(1 - 1/5) (t is unchanged, the spread grows by 1 / sqrt(0.8));
    # tolerance: least-squares round-off in the sensitivity
    assert out.se == pytest.approx(hand.s / math.sqrt(0.8) / 0.8, rel=1e-8)
    assert out.confidence == {
        "any_reduction": pytest.approx(1 - stats.t.cdf(hand.d / hand.s, 3), rel=1e-9),
        "min_reduction": pytest.approx(1 - stats.t.cdf((hand.d + 1) / hand.s, 3), rel=1e-9),
        "unused": None, "mcse": None, "method": "placebo_blocks", "thresholds": thresholds}
    assert out.info() == {"placebo_blocks": 4, "df": 3,
                          "std_error_basis": "statistic's standard error / its sensitivity to "
                                             "the effect"}


def test_block_inference_alpha_sets_the_interval():
    frame = series(Y40)
    fitted = fit(frame, spec=spec_of(), t_start=32, choice=CovChoice("model"))
    hand = _linear_hand(Y40, 32, alpha=0.2)
    out = block_inference(frame, fitted, spec=spec_of(), t_start=32, alpha=0.2, thresholds={})
    assert out.low == pytest.approx(hand.low, abs=2e-4)  # bisection tolerance 1e-4
    assert out.high == pytest.approx(hand.high, abs=2e-4)


def test_block_inference_info_df_never_negative():
    info = BlockInference(coef=0.0, se=1.0, low=-1.0, high=1.0, p_value=1.0, n_blocks=0,
                          confidence=None).info()
    assert info["df"] == 0 and info["placebo_blocks"] == 0


def test_block_inference_uses_nb_alpha_only_for_negative_binomial(monkeypatch):
    seen = []

    def fake(frame, *, spec, t_start, beta0, nb_alpha=None):
        seen.append(nb_alpha)
        return BlockTest(beta0=beta0, observed=-beta0, placebo=np.array([-1.0, 0.0, 1.0]),
                         n_post=4, width=4)

    monkeypatch.setattr(blocks, "block_test", fake)
    fitted = its_fit(["intercept", "level_change"], [1.0, 0.2], [[1.0, 0.0], [0.0, 0.01]],
                     nb_alpha=0.6)
    block_inference(series(Y40), fitted, spec=spec_of("poisson"), t_start=32, alpha=0.05,
                    thresholds={})
    assert set(seen) == {None}
    seen.clear()
    block_inference(series(Y40), fitted, spec=spec_of("negative_binomial"), t_start=32,
                    alpha=0.05, thresholds={})
    assert set(seen) == {0.6}


def test_block_inference_failure_is_an_analysis_error(monkeypatch):
    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(blocks, "block_test", broken)
    fitted = its_fit(["intercept", "level_change"], [1.0, 0.2], np.eye(2))
    with pytest.raises(AnalysisError) as caught:
        block_inference(series(Y40), fitted, spec=spec_of(), t_start=32, alpha=0.05, thresholds={})
    assert str(caught.value) == ("analysis.inference: the placebo-block test cannot be computed on "
                                 "these data (Singular matrix); model or hac are the explicit "
                                 "alternatives")


def _fake_tests(d, s, *, broken_beyond=None):
    """p_lower(b) = Phi((d - b) / s), like a placebo-block test with a normal reference."""
    calls = []

    def test_at(b):
        calls.append(b)
        if broken_beyond is not None and abs(b - d) > broken_beyond:
            raise OverflowError("exp overflow")
        return SimpleNamespace(p_lower=float(stats.norm.cdf((d - b) / s)))

    return test_at, calls


def test_end_search_by_bisection_on_both_sides():
    test_at, _ = _fake_tests(1.0, 0.5)
    high = blocks._end(test_at, coef=1.0, step=0.1, target=0.025, direction=+1)
    low = blocks._end(test_at, coef=1.0, step=0.1, target=0.975, direction=-1)
    # bisection to END_TOLERANCE = 1e-4
    assert high == pytest.approx(1 + 0.5 * Z975, abs=1e-4)
    assert low == pytest.approx(1 - 0.5 * Z975, abs=1e-4)


def test_end_search_doubles_six_times_then_gives_up():
    # the outer points are coef + step x 1, 2, 4, 8, 16, 32; the end is at coef + 0.98
    test_at, calls = _fake_tests(1.0, 0.5)
    assert blocks._end(test_at, coef=1.0, step=0.0307, target=0.025, direction=+1) == pytest.approx(
        1 + 0.5 * Z975, abs=1e-4)  # 32 x 0.0307 = 0.982 > 0.98: found at the sixth point
    test_at, calls = _fake_tests(1.0, 0.5)
    assert blocks._end(test_at, coef=1.0, step=0.03, target=0.025, direction=+1) == math.inf
    assert calls == pytest.approx([1.0, 1.03, 1.06, 1.12, 1.24, 1.48, 1.96], abs=1e-12)
    test_at, _ = _fake_tests(1.0, 0.5)
    assert blocks._end(test_at, coef=1.0, step=0.03, target=0.975, direction=-1) == -math.inf


def test_end_search_stops_where_the_fit_breaks_down():
    test_at, _ = _fake_tests(1.0, 0.5, broken_beyond=0.5)
    assert blocks._end(test_at, coef=1.0, step=0.1, target=0.025, direction=+1) == math.inf
    assert blocks._end(test_at, coef=1.0, step=0.1, target=0.975, direction=-1) == -math.inf


def test_minimum_detectable_dicts_by_hand():
    # normal: (1.959964 + 0.841621) x 0.1 = 0.2801585
    assert minimum_detectable(0.1, alpha=0.05, scale="difference") == {
        "difference": pytest.approx(-0.2801585, rel=1e-6), "power": 0.8, "alpha": 0.05,
        "std_error": 0.1, "df": None, "scale": "difference"}
    # Student t on 4 df at alpha 0.1, power 0.9: (2.131847 + 1.533206) x 0.2
    out = minimum_detectable(0.2, alpha=0.1, power=0.9, scale="rate_ratio", df=4)
    shift = (2.131846786 + 1.533206274) * 0.2
    assert out == {"rate_ratio": pytest.approx(math.exp(-shift), rel=1e-8),
                   "reduction": pytest.approx(1 - math.exp(-shift), rel=1e-8), "power": 0.9,
                   "alpha": 0.1, "std_error": 0.2, "df": 4, "scale": "rate_ratio"}
    assert minimum_detectable(0.0, alpha=0.05, scale="rate_ratio") is None
    assert minimum_detectable(-0.1, alpha=0.05, scale="rate_ratio") is None
    assert minimum_detectable(math.inf, alpha=0.05, scale="rate_ratio") is None


def test_inference_validity_texts_and_values():
    ok = inference_validity({"n_pre_periods": 52, "n_post_periods": 8,
                             "minimum_detectable": {"rate_ratio": 0.7}})
    assert (ok.name, ok.kind, ok.status, ok.blocking) == (
        "its_inference_validity", "inference_validity", "pass", True)
    assert ok.detail == ("rule: pass when the 52 periods before the start hold at least 3 blocks "
                         "of at least 8 periods (8 after the start); they hold 6 of 8")
    assert ok.values == {"code": None, "placebo_blocks": 6, "block_length": 8, "needed": 3,
                         "n_pre_periods": 52, "n_post_periods": 8,
                         "minimum_detectable": {"rate_ratio": 0.7}}
    bad = inference_validity({"n_pre_periods": 20, "n_post_periods": 4})
    # blocks of min(4, 20 // 4) = 4 periods, five of them: long enough for a 4-period post period
    assert bad.status == "pass"
    bad = inference_validity({"n_pre_periods": 20, "n_post_periods": 12})
    # blocks of min(12, 5) = 5 < min(12, 8) = 8: too short
    assert bad.status == "fail"
    assert bad.detail == ("rule: pass when the 20 periods before the start hold at least 3 blocks "
                          "of at least 8 periods (12 after the start); they hold 4 of 5: the series "
                          "is too short for valid inference (code series_too_short); lengthen the "
                          "pre-period or shorten the post-period")
    assert bad.values == {"code": "series_too_short", "placebo_blocks": 4, "block_length": 5,
                          "needed": 3, "n_pre_periods": 20, "n_post_periods": 12,
                          "minimum_detectable": None}


# ---------------------------------------------------------------- survivors of the first run

def _far_root_tests(monkeypatch, placebo, *, root, df_quantile):
    """A placebo-block test whose post mean falls by k per unit of beta0, with the block means
    fixed: p_lower(b) = t_{J-1}.cdf(-k b / S); k is chosen so that the upper end (p_lower =
    0.025) lies at `root` and the lower end at -root (df_quantile = t_{J-1, 0.975})."""
    placebo = np.asarray(placebo, dtype=float)
    j = len(placebo)
    spread = float(np.std(placebo, ddof=1)) * math.sqrt(1 + 1 / j)  # width = n_post = 4
    k = df_quantile * spread / root

    def fake(frame, *, spec, t_start, beta0, nb_alpha=None):
        return BlockTest(beta0=beta0, observed=-k * beta0 + float(np.mean(placebo)),
                         placebo=placebo, n_post=4, width=4)

    monkeypatch.setattr(blocks, "block_test", fake)


T2, T1 = 4.302652729911275, 12.706204736174698  # Student t 0.975 quantiles on 2 and 1 df


@pytest.mark.parametrize("se, placebo, root, found", [
    # the search starts 4 x max(se, sd of the block means) out and doubles five times (32 x):
    (0.5, [-1.0, 0.0, 1.0], 110.0, True),     # start 4 (sd 1 > se): reaches 128 > 110
    (0.5, [-1.0, 0.0, 1.0], 140.0, False),    # ... but not 140
    (2.0, [-1.0, 0.0, 1.0], 200.0, True),     # start 8 (se 2 > sd): reaches 256
    (0.5, [-1.0, 1.0], 100.0, False),         # two blocks: their sd is not used: 2 -> 64 < 100
    (0.05, [-0.1, 0.0, 0.1], 20.0, False),    # start 0.4: reaches 12.8 < 20
])
def test_block_interval_search_range(monkeypatch, se, placebo, root, found):
    _far_root_tests(monkeypatch, placebo, root=root, df_quantile=T2 if len(placebo) == 3 else T1)
    fitted = its_fit(["intercept", "level_change"], [1.0, 0.0], [[1.0, 0.0], [0.0, se**2]])
    out = block_inference(series(Y40), fitted, spec=spec_of(), t_start=32, alpha=0.05,
                          thresholds={})
    if found:  # bisection to END_TOLERANCE = 1e-4 (relative error of the root formula ~1e-15)
        assert out.high == pytest.approx(root, abs=1e-3)
        assert out.low == pytest.approx(-root, abs=1e-3)
    else:
        assert (out.low, out.high) == (-math.inf, math.inf)


def test_block_p_value_above_one_half_is_two_sided(monkeypatch):
    """p_lower 0.8 at 0 (the post-period high): two-sided p = 2 x (1 - 0.8) = 0.4."""
    def fake(frame, *, spec, t_start, beta0, nb_alpha=None):
        return SimpleNamespace(p_lower=0.8 - 0.01 * beta0, observed=-beta0, spread=1.0)

    monkeypatch.setattr(blocks, "block_test", fake)
    assert block_p_value(series(Y40), spec=spec_of(), t_start=32) == pytest.approx(0.4, abs=1e-12)

    def fake_inference(frame, *, spec, t_start, beta0, nb_alpha=None):
        # t = 0.8416 at 0 (p_lower 0.8 on the normal-like 1e6 df) and falling with beta0
        placebo = np.array([-1.0, 0.0, 1.0])
        return BlockTest(beta0=beta0, observed=1.0 - beta0, placebo=placebo, n_post=4, width=4)

    monkeypatch.setattr(blocks, "block_test", fake_inference)
    fitted = its_fit(["intercept", "level_change"], [1.0, 1.0], [[1.0, 0.0], [0.0, 1.0]])
    out = block_inference(series(Y40), fitted, spec=spec_of(), t_start=32, alpha=0.05,
                          thresholds={})
    # t at 0: 1 / sqrt(4/3) on 2 df, above zero: p = 2 x (1 - t_2.cdf(0.866))
    t0 = 1 / math.sqrt(4 / 3)
    assert out.p_value == pytest.approx(2 * stats.t.sf(t0, 2), rel=1e-12)


def test_block_p_value_lengths_at_the_edges():
    # 31 before, 8 after: blocks of min(8, 31 // 4) = 7 < 8: refused (32 before would pass)
    assert block_p_value(series(Y40[:39]), spec=spec_of(), t_start=31) is None
    # 20 before, 4 after: blocks of min(4, 5) = 4, five of them: valid
    p = block_p_value(series(Y40[:24]), spec=spec_of(), t_start=20)
    assert p is not None and 0.0 <= p <= 1.0


def test_block_p_value_passes_the_negative_binomial_alpha():
    y = np.array([3.0, 9, 4, 1, 2, 12, 5, 4, 1, 0, 3, 2, 6, 2, 8, 1, 3, 5, 2, 7, 1, 2, 9, 3])
    frame = series(y)
    # with a trend the two families weigh the periods differently (intercept only, both fits
    # would be the mean at beta0 = 0)
    spec = ModelSpec(model="negative_binomial", trend=True, harmonics=0, slope_change=False,
                     covariates=(), has_exposure=False, frequency="year", controlled=False)
    with_alpha = block_p_value(frame, spec=spec, t_start=20, nb_alpha=0.7)
    test = block_test(frame, spec=spec, t_start=20, beta0=0.0, nb_alpha=0.7)
    assert with_alpha == pytest.approx(2 * min(test.p_lower, 1 - test.p_lower), rel=1e-12)
    assert with_alpha != pytest.approx(block_p_value(frame, spec=spec, t_start=20), rel=1e-6)


def test_newey_west_lags_where_the_exponent_matters():
    # 4 x 3^(2/9) = 5.106 -> 5 (an exponent of 1/5 would give 4.98 -> 4)
    assert newey_west_lags(300) == 5


def test_fit_with_inference_controlled_worst_series_is_the_treated():
    wave = 10 + 3 * np.sin(np.arange(40) / 3)  # autocorrelated: the smaller p, now treated
    frame = pd.concat([series(wave), series(WHITE40, group="control")], ignore_index=True)
    out = fit_with_inference(frame, spec=spec_of(controlled=True), t_start=32,
                             requested="ljung_box_switch", hac_lags=None)
    _, p_treated = hand_ljung_box(_cell_residuals(wave, 32), 10)
    assert out.info["reason"] == ("Ljung-Box test of each series' Pearson residuals (smallest p: "
                                  f"treated series) (10 lags) p = {p_treated:.3g}: hac standard "
                                  "errors")


def test_outcome_draws_dispersion_between_one_and_two_is_a_mixture():
    fitted = its_fit(["intercept"], [0.0], [[0.0]], dispersion=1.5)
    positive = np.array([[0.5, 1.5, 4.0, 2.5]])
    counts, text = _outcome_draws(positive, fitted, spec_of("quasi_poisson"), np.ones(4),
                                  np.random.default_rng(5))
    assert text == "gamma-Poisson outcome noise with variance 1.5 x mean"
    rng = np.random.default_rng(5)
    assert counts.tolist() == rng.poisson(rng.gamma(shape=positive / 0.5, scale=0.5)).tolist()


def test_averted_small_expected_and_linear_draws_without_exposure():
    # expected 0.5 (rate 0.25 in two post rows): 0 < 0.5 <= 1 still gets a percentage
    fitted = its_fit(["intercept", "level_change"], [0.25, 2.0], np.zeros((2, 2)), resid_scale=0.0)
    out = averted(_averted_frame(), fitted, spec=spec_of("linear"), t_start=3, alpha=0.05, seed=1,
                  draws=10)
    assert out["expected"] == 0.5 and out["pct_of_expected"] == pytest.approx(100 * (0.5 - 12) / 0.5)
    # a linear model without exposure: the draws are the rate itself (10 + 10 - 12 = 8), not
    # rate x exposure (10 x 2 + 10 x 4 - 12)
    fitted = its_fit(["intercept", "level_change"], [10.0, 2.0], np.zeros((2, 2)), resid_scale=0.0)
    out = averted(_averted_frame(), fitted, spec=spec_of("linear"), t_start=3, alpha=0.05, seed=1,
                  draws=10)
    assert (out["mean_ci_low"], out["mean_ci_high"], out["ci_low"]) == (8.0, 8.0, 8.0)


def test_series_table_types_from_integer_and_float_inputs():
    frame = series([9, 11, 10, 7]).assign(y=[9, 11, 10, 7], t=[0.0, 1.0, 2.0, 3.0],
                                          excluded=[0, 1, 0, 0])
    fitted = its_fit(["intercept", "level_change"], [10.0, -4.0], np.zeros((2, 2)))
    out = series_table(frame, fitted, spec=spec_of(), t_start=2, alpha=0.05)
    assert out["observed"].dtype == np.float64 and out["t"].dtype == np.int64
    assert out["excluded"].dtype == bool and out["excluded"].tolist() == [False, True, False, False]
