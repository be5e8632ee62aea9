"""The decision rule's confidence from the inference itself (issue 12), checked against
independent computations: brute-force permutation with statsmodels null fits, statsmodels'
intervals, scipy's Poisson distribution, and the fast path against the general path."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from did_helpers import make_design, make_prepared, simulate_counts, unit_name
from scipy import stats

from evaluation.estimators.confidence import (
    interval_confidence,
    normal_confidence,
    poisson_zero_confidence,
    rule_thresholds,
)
from evaluation.estimators.core import estimate
from evaluation.estimators.did.randomization import make_assignments, randomization_inference
from evaluation.estimators.did.twfe import dummy_matrix, model_frame

LOG_MIN = math.log(0.9)


def ri_frame(n_units, n_periods, start, treated, *, seed, rate_ratio=0.6):
    panel = simulate_counts(n_units=n_units, n_periods=n_periods, n_treated=treated, start=start,
                            seed=seed, rate_ratio=rate_ratio, base_rate=1.0)
    is_treated = panel["unit"].isin([unit_name(i) for i in range(treated)])
    panel["d"] = (is_treated & (panel["t"] >= start)).astype(int)
    return model_frame(panel)


def brute_force_statistics(frame, start, beta0, assignments):
    """Studentised score statistic of every assignment from a statsmodels Poisson null fit of
    y exp(-beta0 d): per unit D (residuals from the start), V = E (1 - E / E0) (E the null mean
    from the start, E0 the unit's total), kappa = max(0, sum(D^2 - V) / sum(V^2)); terms
    D / (1 + kappa V) and V / (1 + kappa V), summed over the assignment: sum / sqrt(sum)."""
    y0 = frame["y"].to_numpy() * np.exp(-beta0 * frame["d"].to_numpy())
    x = dummy_matrix(frame, with_treatment=False)
    null = sm.GLM(y0, x, family=sm.families.Poisson(),
                  offset=frame["log_exposure"].to_numpy()).fit(tol=1e-12)
    resid, mu = y0 - null.fittedvalues, null.fittedvalues
    names = list(dict.fromkeys(frame["unit"]))
    post = (frame["t"] >= start).to_numpy()
    d = np.array([resid[(frame["unit"] == u).to_numpy() & post].sum() for u in names])
    e = np.array([mu[(frame["unit"] == u).to_numpy() & post].sum() for u in names])
    v = e * (1 - e / np.array([mu[(frame["unit"] == u).to_numpy()].sum() for u in names]))
    kappa = max(0.0, float((d**2 - v).sum() / (v**2).sum()))
    num = dict(zip(names, d / (1 + kappa * v), strict=True))
    den = dict(zip(names, v / (1 + kappa * v), strict=True))
    return np.array([sum(num[names[i]] for i in row) / math.sqrt(sum(den[names[i]] for i in row))
                     for row in assignments])


def test_randomization_confidence_equals_brute_force_exact():
    # 1 treated unit of 12: all 12 assignments; confidence = share above + half the ties
    frame = ri_frame(12, 30, 18, 1, seed=5)
    res = randomization_inference(frame, model="poisson", treated={unit_name(0): 18},
                                  beta_hat=0.0, se_hint=0.3, draws=100, seed=1, alpha=0.05,
                                  n_periods=30, interval=False,
                                  thresholds={"any_reduction": 0.0, "min_reduction": LOG_MIN})
    assert res.exact
    rows = [[i] for i in range(12)]
    for name, beta0 in (("any_reduction", 0.0), ("min_reduction", LOG_MIN)):
        t = brute_force_statistics(frame, 18, beta0, rows)
        expected = (np.sum(t > t[0] + 1e-9) + 0.5 * np.sum(np.abs(t - t[0]) <= 1e-9)) / 12
        assert res.at_thresholds[name].below == pytest.approx(expected, abs=1e-12)
        assert res.at_thresholds[name].below_mcse == 0.0


def test_randomization_confidence_equals_brute_force_sampled():
    # 3 treated of 25: too many assignments, 199 are drawn; the observed one counts as a tie
    frame = ri_frame(25, 24, 16, 3, seed=8)
    treated = {unit_name(i): 16 for i in range(3)}
    res = randomization_inference(frame, model="poisson", treated=treated, beta_hat=0.0,
                                  se_hint=0.3, draws=199, seed=4, alpha=0.05, n_periods=24,
                                  interval=False, exact_max=100,
                                  thresholds={"min_reduction": LOG_MIN})
    names = tuple(dict.fromkeys(frame["unit"]))
    asg = make_assignments(unit_names=names, treated=treated, draws=199, seed=4, exact_max=100)
    assert not asg.exact
    t = brute_force_statistics(frame, 16, LOG_MIN, [list(asg.observed), *asg.units.tolist()])
    above, ties = np.sum(t[1:] > t[0] + 1e-9), np.sum(np.abs(t[1:] - t[0]) <= 1e-9)
    expected = (above + 0.5 * (ties + 1)) / 200
    test = res.at_thresholds["min_reduction"]
    assert test.below == pytest.approx(expected, abs=1e-12)
    assert test.below_mcse == pytest.approx(math.sqrt(expected * (1 - expected) / 199))


def test_normal_confidence_is_the_confidence_distribution_of_statsmodels_interval():
    # the upper end of statsmodels' 90% interval carries confidence 0.95 of being above the
    # effect; the estimate itself 0.5
    rng = np.random.default_rng(7)
    treated = np.repeat([0, 1], 200)
    y = rng.poisson(np.exp(1.0 + np.log(0.8) * treated))
    fit = sm.GLM(y, sm.add_constant(treated), family=sm.families.Poisson()).fit()
    b, se = float(fit.params[1]), float(fit.bse[1])
    low, high = fit.conf_int(alpha=0.10)[1]
    conf = normal_confidence(b, se, thresholds={"at_high": float(high), "at_low": float(low),
                                                "at_estimate": b})
    assert conf["at_high"] == pytest.approx(0.95, abs=1e-9)
    assert conf["at_low"] == pytest.approx(0.05, abs=1e-9)
    assert conf["at_estimate"] == pytest.approx(0.5, abs=1e-12)
    # and the one-sided p-value of "no reduction" is statsmodels' two-sided p halved
    any_red = normal_confidence(b, se, thresholds=rule_thresholds(
        scale="rate_ratio", min_reduction=0.1))["any_reduction"]
    assert 1 - any_red == pytest.approx(fit.pvalues[1] / 2, rel=1e-9)
    # the interval fallback reproduces it from the interval ends at the same alpha
    fallback = interval_confidence(estimate=math.exp(b), low=math.exp(low), high=math.exp(high),
                                   scale="rate_ratio", alpha=0.10,
                                   thresholds={"any_reduction": 0.0})
    assert fallback["any_reduction"] == pytest.approx(any_red, abs=1e-9)
    assert fallback["method"] == "interval_fallback"


def test_no_event_after_the_start_uses_the_exact_poisson_bound():
    conf = poisson_zero_confidence(4.0, thresholds=rule_thresholds(scale="rate_ratio",
                                                                   min_reduction=0.1))
    # confidence that RR < r = P(at least one event | mean 4 r)
    assert conf["any_reduction"] == pytest.approx(stats.poisson.sf(0, 4.0))
    assert conf["min_reduction"] == pytest.approx(stats.poisson.sf(0, 3.6))


def test_linear_threshold_is_relative_to_the_counterfactual_mean():
    assert rule_thresholds(scale="difference", min_reduction=0.1,
                           counterfactual_mean=-20.0)["min_reduction"] == pytest.approx(-2.0)
    assert rule_thresholds(scale="difference", min_reduction=0.1)["min_reduction"] is None


@pytest.mark.parametrize("inference", ["randomization", "cluster"])
def test_the_analysis_records_its_confidence(inference):
    # 40 units, 3 treated: 9,880 assignments, so 200 are drawn (Monte Carlo error recorded)
    panel = simulate_counts(n_units=40, n_periods=40, n_treated=12 if inference == "cluster" else 3,
                            start=30, seed=3, rate_ratio=0.7, base_rate=1.0)
    treated = tuple(unit_name(i) for i in range(12 if inference == "cluster" else 3))
    design = make_design(treated=treated, start=30, end_t=39, inference=inference, draws=200,
                         alpha=0.10)
    primary = estimate(make_prepared(panel, design)).primary
    conf = primary["confidence"]
    assert conf["method"] == ("randomization" if inference == "randomization" else "normal")
    assert 0 <= conf["min_reduction"] <= conf["any_reduction"] <= 1
    assert primary["alpha"] == 0.10
    if inference == "cluster":  # Wald on the log scale: the 90% interval's upper end is 0.95
        se = primary["std_error"]
        b = math.log(primary["estimate"])
        assert conf["any_reduction"] == pytest.approx(stats.norm.cdf(-b / se), abs=1e-9)
        assert math.log(primary["ci_high"]) == pytest.approx(b + stats.norm.ppf(0.95) * se)
    else:
        assert conf["mcse"] is not None and conf["mcse"]["any_reduction"] < 0.04
