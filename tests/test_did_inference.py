"""Randomization inference and the wild cluster bootstrap, checked against brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm
from did_helpers import simulate_counts, simulated_prepared, unit_name

from evaluation import defaults
from evaluation.estimators.did import choose_inference
from evaluation.estimators.did.randomization import (
    count_assignments,
    make_assignments,
    null_residuals,
    randomization_inference,
)
from evaluation.estimators.did.twfe import dummy_matrix, fit_twfe, model_frame
from evaluation.estimators.did.wild_bootstrap import WEBB, _Within, wild_cluster_bootstrap


def _frame(n_units, n_periods, treated_starts: dict[int, int], *, seed=0, rate_ratio=1.0,
           base_rate=1.0) -> pd.DataFrame:
    panel = simulate_counts(n_units=n_units, n_periods=n_periods, n_treated=0, start=0,
                            seed=seed, base_rate=base_rate)
    starts = panel["unit"].map({unit_name(i): s for i, s in treated_starts.items()})
    panel["d"] = (panel["t"] >= starts.fillna(np.inf)).astype(int)
    panel["y"] = np.where(panel["d"] == 1, np.round(panel["y"] * rate_ratio), panel["y"])
    return model_frame(panel)


# --- assignments ---------------------------------------------------------------------------------
def test_exact_enumeration_is_complete_and_unique():
    names = tuple(unit_name(i) for i in range(9))
    a = make_assignments(unit_names=names, treated={names[0]: 5, names[1]: 5, names[2]: 7},
                         draws=100, seed=1)
    assert a.exact
    # two units start at 5, one at 7: 9!/(2! 1! 6!) = 252 assignments
    assert a.size == count_assignments(9, [2, 1]) == 252
    keys = {(frozenset(r[:2]), r[2]) for r in a.units.tolist()}
    assert len(keys) == 252
    assert (frozenset(a.observed[:2].tolist()), int(a.observed[2])) in keys
    assert a.cohorts.tolist() == [5, 5, 7]


def test_sampled_assignments_reproducible_and_distinct_units():
    names = tuple(unit_name(i) for i in range(300))
    treated = {names[0]: 10, names[1]: 10}
    a = make_assignments(unit_names=names, treated=treated, draws=500, seed=3)
    b = make_assignments(unit_names=names, treated=treated, draws=500, seed=3)
    assert not a.exact and a.size == 500
    assert np.array_equal(a.units, b.units)
    assert all(len(set(r)) == 2 for r in a.units.tolist())
    c = make_assignments(unit_names=names, treated=treated, draws=500, seed=4)
    assert not np.array_equal(a.units, c.units)


# --- randomization p-value against brute force --------------------------------------------------
def test_randomization_p_value_equals_brute_force():
    """One treated unit of 12 (exact: 12 assignments): refit nothing, compute every unit's
    studentised score from a statsmodels GLM null fit by hand, and count.

    Per unit: D = residuals summed from the start, E = null mean from the start, E0 = the
    unit's total null mean, V = E (1 - E / E0); kappa = max(0, sum(D^2 - V) / sum(V^2));
    score = D / (1 + kappa V) / sqrt(V / (1 + kappa V))."""
    frame = _frame(12, 30, {0: 18}, seed=5, rate_ratio=0.5)
    res = randomization_inference(frame, model="poisson", treated={unit_name(0): 18},
                                  beta_hat=0.0, se_hint=0.3, draws=100, seed=1, alpha=0.05,
                                  n_periods=30, interval=False)
    x = dummy_matrix(frame, with_treatment=False)
    null = sm.GLM(frame["y"].to_numpy(), x, family=sm.families.Poisson(),
                  offset=frame["log_exposure"].to_numpy()).fit(tol=1e-12)
    resid = frame["y"].to_numpy() - null.fittedvalues
    d_sum, v_sum = [], []
    for unit in dict.fromkeys(frame["unit"]):
        own = (frame["unit"] == unit).to_numpy()
        cells = own & (frame["t"] >= 18).to_numpy()
        post, total = null.fittedvalues[cells].sum(), null.fittedvalues[own].sum()
        d_sum.append(resid[cells].sum())
        v_sum.append(post * (1 - post / total))
    d_sum, v_sum = np.array(d_sum), np.array(v_sum)
    kappa = max(0.0, float((d_sum**2 - v_sum).sum() / (v_sum**2).sum()))
    stats = d_sum / (1 + kappa * v_sum) / np.sqrt(v_sum / (1 + kappa * v_sum))
    assert res.exact and res.draws == 12
    assert res.statistic == pytest.approx(stats[0], rel=1e-6)
    # two-sided, equal-tailed: twice the smaller one-sided share (at most 1)
    lower = np.mean(stats <= stats[0] + 1e-12)
    upper = np.mean(stats >= stats[0] - 1e-12)
    assert res.p_value == pytest.approx(min(1.0, 2 * min(lower, upper)))


def test_randomization_interval_is_test_inversion():
    frame = _frame(40, 40, {0: 25, 1: 25, 2: 25}, seed=2, rate_ratio=0.6, base_rate=2.0)
    treated = {unit_name(i): 25 for i in range(3)}
    fit = fit_twfe(frame, model="poisson")
    res = randomization_inference(frame, model="poisson", treated=treated, beta_hat=fit.beta,
                                  se_hint=fit.se_model, draws=400, seed=9, alpha=0.05,
                                  n_periods=40)
    assert res.ci_low < fit.beta < res.ci_high
    from evaluation.estimators.did.randomization import ScoreTable, p_value_at

    names = tuple(dict.fromkeys(frame["unit"]))
    assignments = make_assignments(unit_names=names, treated=treated, draws=400, seed=9)
    at = null_residuals(frame, model="poisson")

    def p(b):
        return p_value_at(at, lambda r, v: ScoreTable(frame, names, r, v, 40), assignments, b)[0]

    # the ends are not rejected, and values a little further out are
    assert 0.05 < p(res.ci_low) <= 0.05 + 0.01 or p(res.ci_low - 0.02 * fit.se_model) <= 0.05
    assert 0.05 < p(res.ci_high) <= 0.05 + 0.01 or p(res.ci_high + 0.02 * fit.se_model) <= 0.05
    eps = 0.3 * fit.se_model
    assert p(res.ci_low - eps) <= 0.05 and p(res.ci_high + eps) <= 0.05
    assert p(res.ci_low + eps) > 0.05 and p(res.ci_high - eps) > 0.05


def test_randomization_linear_matches_refit():
    """Linear model: the closed-form residuals for beta0 equal a refit on y - beta0 d."""
    frame = _frame(15, 20, {0: 12, 1: 14}, seed=4)
    at = null_residuals(frame, model="linear")
    work = frame.assign(y=frame["y"] - 0.7 * frame["d"])
    refit = pf.feols("y ~ 1 | unit + t", data=work)
    assert np.allclose(at(0.7)[0], np.asarray(refit.resid()), atol=1e-8)


# --- wild cluster bootstrap ----------------------------------------------------------------------
def test_wild_bootstrap_t_stats_equal_brute_force():
    """Vectorised restricted bootstrap t statistics equal refitting each bootstrap sample."""
    frame = _frame(14, 10, {0: 6, 1: 6, 2: 6, 3: 6}, seed=6, base_rate=3.0)
    within = _Within(frame)
    rng = np.random.default_rng(0)
    weights = WEBB[rng.integers(0, 6, size=(5, 14))]
    beta0 = 0.3
    fast = within.t_stats(beta0, weights)
    restricted = pf.feols("y0 ~ 1 | unit + t",
                          data=frame.assign(y0=frame["y"] - beta0 * frame["d"]))
    u_r = np.asarray(restricted.resid())
    fitted_r = frame["y"].to_numpy() - beta0 * frame["d"].to_numpy() - u_r
    codes = pd.Categorical(frame["unit"]).codes
    for b in range(5):
        y_star = fitted_r + beta0 * frame["d"].to_numpy() + u_r * weights[b, codes]
        fit = pf.feols("ys ~ d | unit + t", data=frame.assign(ys=y_star), vcov={"CRV1": "unit"})
        t = (float(fit.coef().iloc[0]) - beta0) / float(fit.se().iloc[0])
        assert fast[b] == pytest.approx(t, rel=1e-6)


def test_wild_bootstrap_result():
    frame = _frame(30, 12, {i: 8 for i in range(12)}, seed=8, base_rate=3.0)
    res = wild_cluster_bootstrap(frame, draws=499, seed=1, alpha=0.05)
    fit = fit_twfe(frame, model="linear")
    assert res.ci_low < fit.beta < res.ci_high
    assert 0 < res.p_value <= 1
    again = wild_cluster_bootstrap(frame, draws=499, seed=1, alpha=0.05)
    assert again == res


# --- choice of inference -------------------------------------------------------------------------
@pytest.mark.parametrize("n_treated,expected", [(1, "randomization"), (9, "randomization"),
                                                (10, "cluster"), (20, "cluster")])
def test_auto_inference_rule(n_treated, expected):
    assert defaults.RI_MIN_CLUSTERS == 10
    data = simulated_prepared(n_units=30, n_periods=12, n_treated=n_treated, start=8, seed=1)
    used, reason = choose_inference(data)
    assert used == expected and reason


def test_exact_enumeration_for_single_treated_unit_in_estimate_did():
    from evaluation.estimators.did import estimate_did

    data = simulated_prepared(n_units=25, n_periods=30, n_treated=1, start=20, seed=3,
                              base_rate=2.0)
    p = estimate_did(data).primary
    assert p["inference"]["exact"] is True and p["inference"]["draws"] == 25
    assert p["p_value"] >= 1 / 25
