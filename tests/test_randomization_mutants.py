"""Randomization inference (did.randomization) and the rule's confidence (estimators.confidence)
on tiny inputs whose answers are worked out by hand (issue 22: written against the survivors of
mutation testing, group `randomization`; every test here runs in milliseconds, so that a mutant
is caught by a failing assertion rather than by mutmut's timeout).

The interval search is checked on step functions p(beta0): with p constant on each side of the
boundary, the secant fraction on the z = Phi^-1(1 - p/2) scale is constant, so its path can be
followed by hand (calculator): the evaluated points are listed literally. Its stop rules (alpha,
CI_P_TOLERANCE = 0.003, CI_TOLERANCE = 0.02 steps, CI_MAX_STEPS = 8, CI_MAX_SE = 64) come from
evaluation.defaults.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation.estimators import confidence as conf
from evaluation.estimators.did import randomization as ri
from evaluation.estimators.did.twfe import model_frame

Z_TARGET = 1.959963984540054  # Phi^-1(1 - 0.05 / 2)


# ---------------------------------------------------------------- counting and enumerating

def test_count_assignments_multinomial():
    assert ri.count_assignments(5, [2, 1]) == 30  # C(5, 2) x C(3, 1)
    assert ri.count_assignments(4, [1]) == 4
    assert ri.count_assignments(6, [3, 3]) == 20  # C(6, 3) x C(3, 3)
    assert ri.count_assignments(6, [1, 2, 3]) == 60  # 6 x C(5, 2) x 1
    assert ri.count_assignments(3, []) == 1


def test_enumerate_cohort_by_cohort():
    rows = list(ri._enumerate([0, 1, 2, 3], [1, 2]))
    assert rows == [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 0, 2), (1, 0, 3), (1, 2, 3),
                    (2, 0, 1), (2, 0, 3), (2, 1, 3), (3, 0, 1), (3, 0, 2), (3, 1, 2)]
    assert list(ri._enumerate([5, 7], [])) == [()]


def test_make_assignments_exact():
    out = ri.make_assignments(unit_names=("a", "b", "c", "d"), treated={"c": 2, "a": 2, "d": 1},
                              draws=10, seed=0, exact_max=12)
    # slots ordered by (start, name): d (1), a (2), c (2); one unit for start 1, two for start 2
    assert out.exact and out.size == 12
    assert out.cohorts.tolist() == [1, 2, 2] and out.observed.tolist() == [3, 0, 2]
    assert out.units.tolist() == [list(r) for r in ri._enumerate([0, 1, 2, 3], [1, 2])]
    assert out.unit_names == ("a", "b", "c", "d")


def test_make_assignments_sampled():
    out = ri.make_assignments(unit_names=("a", "b", "c", "d"), treated={"c": 2, "a": 2, "d": 1},
                              draws=7, seed=3, exact_max=11)  # 12 possible > 11: sampled
    assert out.exact is False and out.size == 7
    keys = np.random.default_rng(3).random((7, 4))  # numpy's generator, seed 3
    assert out.units.tolist() == np.argsort(keys, axis=1)[:, :3].tolist()
    assert out.observed.tolist() == [3, 0, 2] and out.cohorts.tolist() == [1, 2, 2]
    assert out.unit_names == ("a", "b", "c", "d")


def test_result_as_dict():
    res = ri.RandomizationResult(p_value=0.2, ci_low=-1.0, ci_high=1.0, statistic=-1.5, draws=12,
                                 exact=True, n_assignments_possible=12)
    assert res.as_dict() == {"draws": 12, "exact": True, "statistic": -1.5,
                             "assignments_possible": 12}
    assert res.at_thresholds == {}


# ---------------------------------------------------------------- the statistic

def test_unit_variance_excess_by_hand():
    var_tail = np.array([[4.0, 2.0, 2.0], [8.0, 2.0, 4.0], [0.0, 0.0, 0.0]])
    resid_tail = np.array([[0.0, 2.0, 0.5], [0.0, -1.0, 1.0], [0.0, 0.5, 0.0]])
    v, kappa = ri.unit_variance_excess(resid_tail, var_tail)
    # V = E (1 - E / E0): unit 0: 0, 2 x 1/2, 2 x 1/2; unit 1: 0, 2 x 3/4, 4 x 1/2; unit 2 (no
    # events): 0
    assert v.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.5, 2.0], [0.0, 0.0, 0.0]]
    # column 1: sum(D^2 - V) = 3 - 0.5 + 0.25 = 2.75, sum V^2 = 3.25; column 2: -1.75 < 0 -> 0;
    # column 0: no variance -> 0
    assert kappa == pytest.approx([0.0, 2.75 / 3.25, 0.0], abs=1e-15)


def test_unit_variance_excess_small_totals_and_no_variance():
    # two units, each total 2 with 1 from t = 1: V = 1 x (1 - 1/2) = 0.5 at column 1, 0 at 0
    v, kappa = ri.unit_variance_excess(np.array([[0.5, 1.0], [0.0, -1.0]]),
                                       np.array([[2.0, 1.0], [2.0, 1.0]]))
    assert v.tolist() == [[0.0, 0.5], [0.0, 0.5]]
    # column 1: (1 - 0.5 + 1 - 0.5) / (0.25 + 0.25) = 2; column 0: no variance -> 0 (not 0.25)
    assert kappa.tolist() == [0.0, 2.0]
    # a total below 1: 0.5 with 0.25 from t = 1: V = 0.25 x (1 - 0.5) = 0.125
    v, _ = ri.unit_variance_excess(np.zeros((1, 2)), np.array([[0.5, 0.25]]))
    assert v.tolist() == [[0.0, 0.125]]


def test_studentised_tails_by_hand():
    var_tail = np.array([[4.0, 2.0, 2.0], [8.0, 2.0, 4.0], [0.0, 0.0, 0.0]])
    resid_tail = np.array([[0.0, 2.0, 0.5], [0.0, -1.0, 1.0], [0.0, 0.5, 0.0]])
    num, den = ri.studentised_tails(resid_tail, var_tail)
    k = 11 / 13  # column 1's kappa; weights 1 / (1 + kappa V)
    w1 = np.array([1 / (1 + k * 1.0), 1 / (1 + k * 1.5), 1.0])
    assert num[:, 1] == pytest.approx(np.array([2.0, -1.0, 0.5]) * w1, rel=1e-12)
    assert den[:, 1] == pytest.approx(np.array([1.0, 1.5, 0.0]) * w1, rel=1e-12)
    assert num[:, 2].tolist() == [0.5, 1.0, 0.0] and den[:, 2].tolist() == [1.0, 2.0, 0.0]
    assert num[:, 0].tolist() == [0.0, 0.0, 0.0] and den[:, 0].tolist() == [0.0, 0.0, 0.0]


def test_score_table_sums_tails_per_unit_and_start():
    """Three units over periods 0..2 with small residuals (sum D^2 < sum V, so kappa = 0 and the
    statistic is the plain score sum D / sqrt(sum V))."""
    frame = pd.DataFrame({"unit": ["b", "a", "c", "a", "b", "c", "a", "b", "c"],
                          "t": [0, 0, 0, 1, 1, 1, 2, 2, 2]})
    resid = np.array([0.1, 0.2, -0.1, -0.2, 0.1, 0.0, 0.05, -0.1, 0.1])
    var = np.array([1.0, 2.0, 1.0, 2.0, 1.0, 3.0, 4.0, 2.0, 1.0])
    table = ri.ScoreTable(frame, ("a", "b", "c"), resid, var, 3)
    # tails from t = 1: a: D -0.15, E 6 of 8; b: D 0.0, E 3 of 4; c: D 0.1, E 4 of 5
    v = np.array([6 * (1 - 6 / 8), 3 * (1 - 3 / 4), 4 * (1 - 4 / 5)])
    assert table.a[:, 1] == pytest.approx([-0.15, 0.0, 0.1], abs=1e-15)
    assert table.b[:, 1] == pytest.approx(v, rel=1e-12)
    # tails from t = 2: a: D 0.05, E 4 of 8 -> V 2; b: -0.1, 2 of 4 -> 1; c: 0.1, 1 of 5 -> 0.8
    assert table.a[:, 2] == pytest.approx([0.05, -0.1, 0.1], abs=1e-15)
    assert table.b[:, 2] == pytest.approx([2.0, 1.0, 0.8], rel=1e-12)
    stat = table.statistic(np.array([[0, 2], [1, 1], [2, 0]]), np.array([1, 2]))
    # a from 1 + c from 2; b from 1 + b from 2; c from 1 + a from 2
    expected = [(-0.15 + 0.1) / math.sqrt(v[0] + 0.8), (0.0 - 0.1) / math.sqrt(v[1] + 1.0),
                (0.1 + 0.05) / math.sqrt(v[2] + 2.0)]
    assert stat == pytest.approx(expected, rel=1e-12)
    # no variance from the first period on (V = 0): the statistic is 0, not a division by zero
    assert table.statistic(np.array([[0]]), np.array([0])).tolist() == [0.0]


def test_score_table_rows_follow_the_given_unit_order():
    # units named out of alphabetical order: row i of the table is unit_names[i]
    frame = pd.DataFrame({"unit": ["z", "a", "z", "a"], "t": [0, 0, 1, 1]})
    table = ri.ScoreTable(frame, ("z", "a"), np.array([0.1, 0.0, -0.1, 0.05]),
                          np.array([1.0, 1.0, 3.0, 1.0]), 2)
    # from t = 1: z: D -0.1, E 3 of 4 -> V 0.75; a: D 0.05, E 1 of 2 -> V 0.5 (kappa 0: small D)
    assert table.a[:, 1] == pytest.approx([-0.1, 0.05], abs=1e-15)
    assert table.b[:, 1] == pytest.approx([0.75, 0.5], rel=1e-12)


# ---------------------------------------------------------------- permutation test

def test_permutation_test_exact_by_hand():
    t_all = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    test = ri.permutation_test(3.0, t_all, exact=True)
    # below 3: 3, tie 1, above 1: P(<=) = 4/5, P(>=) = 2/5: p = 4/5; confidence (1 + 1/2) / 5
    assert test.p_value == pytest.approx(0.8, abs=1e-15) and test.statistic == 3.0
    assert test.below == pytest.approx(0.3, abs=1e-15) and test.below_mcse == 0.0
    test = ri.permutation_test(2.0, t_all, exact=True)
    # below 1, ties 2, above 2: P(<=) = 3/5, P(>=) = 4/5: 2 x 3/5 > 1 -> 1
    assert test.p_value == 1.0 and test.below == pytest.approx(0.6, abs=1e-15)


def test_permutation_test_sampled_counts_the_observed_once_more():
    t_all = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    test = ri.permutation_test(5.0, t_all, exact=False)
    # the observed added: below 4, ties 1 + 1, above 0, n = 6: P(<=) = 1, P(>=) = 2/6: p = 2/3;
    # confidence (0 + 2/2) / 6 = 1/6, Monte Carlo error sqrt(1/6 x 5/6 / 5)
    assert test.p_value == pytest.approx(2 / 3, abs=1e-15)
    assert test.below == pytest.approx(1 / 6, abs=1e-15)
    assert test.below_mcse == pytest.approx(math.sqrt(1 / 6 * 5 / 6 / 5), rel=1e-12)


def test_permutation_test_ties_within_a_relative_tolerance():
    # 1 + 5e-11 is a tie of 1 (tolerance 1e-10 x |1|); 1 + 3e-10 is above
    test = ri.permutation_test(1.0, np.array([1.0 + 5e-11, 1.0 + 3e-10, 0.5]), exact=True)
    assert test.below == pytest.approx((1 + 0.5) / 3, abs=1e-15)
    assert test.p_value == 1.0
    # at 0 only an exact 0 is a tie
    test = ri.permutation_test(0.0, np.array([0.0, 0.0, 1.0, -1.0]), exact=True)
    # below 1, ties 2, above 1: P(<=) = P(>=) = 3/4; confidence (1 + 1) / 4
    assert test.below == pytest.approx(0.5, abs=1e-15) and test.p_value == 1.0
    test = ri.permutation_test(-4.0, np.array([-4.0, -1.0, 0.0, 2.0, 3.0, 8.0, 9.0, 10.0]),
                               exact=True)
    # lowest of 8: P(<=) = 1/8, p = 1/4; confidence (7 + 1/2) / 8
    assert test.p_value == pytest.approx(0.25, abs=1e-15)
    assert test.below == pytest.approx(7.5 / 8, abs=1e-15)


# ---------------------------------------------------------------- null fits

def two_period_panel(pre, post, *, treated=0):
    rows = []
    for i, (y0, y1) in enumerate(zip(pre, post, strict=True)):
        unit = f"u{i}"
        rows += [{"unit": unit, "t": 0, "y": float(y0), "d": 0, "exposure": 1.0},
                 {"unit": unit, "t": 1, "y": float(y1), "d": int(i == treated), "exposure": 1.0}]
    return model_frame(pd.DataFrame(rows))


def independence_fit(table):
    """Poisson y ~ unit + period on a complete table: row total x column total / grand total."""
    table = np.asarray(table, dtype=float)
    return np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()


def test_poisson_null_residuals_by_hand():
    # unit 4 has no event at all, unit 5 a single one
    pre, post = [4, 2, 3, 1, 0, 1], [1, 3, 3, 3, 0, 0]
    frame = two_period_panel(pre, post)
    at = ri.null_residuals(frame, model="poisson")
    fitted = [0, 1, 2, 3, 5]
    for b in (0.0, -0.7, 1.0):
        y = np.array([pre, post], dtype=float).T
        y[0, 1] *= math.exp(-b)  # the effect removed from the treated post cell
        mu = np.zeros_like(y)
        mu[fitted] = independence_fit(y[fitted])  # unit 4 stays at mu 0 (no information)
        resid, var = at(b)
        # rows of the model frame: unit by unit, t = 0 then 1; tolerance: the fit's convergence
        assert resid == pytest.approx((y - mu).ravel(), abs=1e-7)
        assert var == pytest.approx(mu.ravel(), abs=1e-7)
        assert var[8:10].tolist() == [0.0, 0.0] and resid[8:10].tolist() == [0.0, 0.0]


# 0 x exp(800) = 0 x inf is computed (and warned about) before np.where replaces it by 0
@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply:RuntimeWarning")
def test_poisson_null_keeps_zero_cells_zero_for_extreme_effects():
    frame = two_period_panel([4, 2, 3], [0, 3, 3])
    resid, var = ri.null_residuals(frame, model="poisson")(-800.0)
    # exp(800) overflows, but the treated post cell has 0 events: it stays 0, all finite
    assert np.all(np.isfinite(resid)) and np.all(np.isfinite(var))
    y = np.array([[4, 0], [2, 3], [3, 3]], dtype=float)
    assert var == pytest.approx(independence_fit(y).ravel(), abs=1e-7)


def test_linear_null_residuals_by_hand():
    pre, post = [0.0, 1.0, 5.0, 2.0], [-3.0, 0.0, 6.0, 2.0]
    frame = two_period_panel(pre, post)
    at = ri.null_residuals(frame, model="linear")
    for b in (0.0, 1.5):
        # two periods: the post residual is (Delta_i - mean Delta) / 2, the pre one its negative
        delta = np.array(post) - np.array(pre) - b * np.array([1.0, 0, 0, 0])
        r1 = (delta - delta.mean()) / 2
        resid, var = at(b)
        assert resid == pytest.approx(np.column_stack([-r1, r1]).ravel(), abs=1e-10)
        assert var.tolist() == [1.0] * 8


def test_null_fit_at_zero_is_memoised_a_copy_and_bounded():
    ri._NULL_CACHE.clear()
    frames = [two_period_panel([4, 2, 3], [1, 3, k]) for k in range(1, 10)]
    first = ri._null_at_zero(frames[0], "poisson")
    first[:] = -1.0  # the caller's copy: the memo must not change
    again = ri._null_at_zero(frames[0], "poisson")
    assert again == pytest.approx(independence_fit([[4, 1], [2, 3], [3, 1]]).ravel(), abs=1e-7)
    assert len(ri._NULL_CACHE) == 1
    for frame in frames[1:]:
        ri._null_at_zero(frame, "poisson")
    # nine data sets, at most eight kept: the first one is dropped
    assert len(ri._NULL_CACHE) == 8
    key = ("poisson", frames[0]["y"].to_numpy().tobytes(), frames[0]["t"].to_numpy().tobytes(),
           frames[0]["log_exposure"].to_numpy().tobytes(),
           frames[0]["unit_id"].to_numpy().tobytes())
    assert key not in ri._NULL_CACHE
    ri._NULL_CACHE.clear()


# ---------------------------------------------------------------- end to end, tiny panels

def hand_poisson_statistics(pre, post, b, treated=0):
    """Every one-unit assignment's studentised score in a two-period Poisson panel (start 1)."""
    y = np.array([pre, post], dtype=float).T
    y[treated, 1] *= math.exp(-b)
    mu = independence_fit(y)
    d = y[:, 1] - mu[:, 1]
    v = mu[:, 1] * (1 - mu[:, 1] / mu.sum(axis=1))
    kappa = max(0.0, float(np.sum(d**2 - v) / np.sum(v**2)))
    return d / np.sqrt(v * (1 + kappa * v))


def test_exact_poisson_inference_by_hand():
    pre, post = [4, 2, 3, 1, 5], [1, 3, 3, 3, 6]
    frame = two_period_panel(pre, post)
    res = ri.randomization_inference(frame, model="poisson", treated={"u0": 1}, beta_hat=0.0,
                                     se_hint=0.5, draws=99, seed=1, alpha=0.05, n_periods=2,
                                     interval=False,
                                     thresholds={"any_reduction": 0.0, "min_reduction": -0.5,
                                                 "none": None, "inf": math.inf})
    t = hand_poisson_statistics(pre, post, 0.0)
    # tolerance: the Poisson fit's convergence
    assert res.statistic == pytest.approx(t[0], abs=1e-7)
    below, above = np.sum(t < t[0] - 1e-9), np.sum(t > t[0] + 1e-9)
    assert below == 0 and above == 4  # the treated unit has the lowest score: p = 2 x 1/5
    assert res.p_value == pytest.approx(0.4, abs=1e-12)
    assert res.exact and res.draws == 5 and res.n_assignments_possible == 5
    assert math.isnan(res.ci_low) and math.isnan(res.ci_high)
    assert set(res.at_thresholds) == {"any_reduction", "min_reduction"}
    assert res.at_thresholds["any_reduction"].below == pytest.approx(4.5 / 5, abs=1e-12)
    t_min = hand_poisson_statistics(pre, post, -0.5)
    rank_above = np.sum(t_min > t_min[0] + 1e-9)
    ties = np.sum(np.abs(t_min - t_min[0]) <= 1e-9)
    assert res.at_thresholds["min_reduction"].below == pytest.approx(
        (rank_above + ties / 2) / 5, abs=1e-12)
    assert res.at_thresholds["min_reduction"].statistic == pytest.approx(t_min[0], abs=1e-7)


def test_p_value_at_a_sharp_null_by_hand():
    """Four units, linear, two periods (as in test_randomization_hand): the treated unit's
    Delta - b against 0, 1, 2; every unit has V = 1/2 (one of two unit-variance periods)."""
    frame = two_period_panel([0.0, 0.0, 0.0, 0.0], [-3.0, 0.0, 1.0, 2.0])
    names = ("u0", "u1", "u2", "u3")
    assignments = ri.make_assignments(unit_names=names, treated={"u0": 1}, draws=9, seed=1)
    at = ri.null_residuals(frame, model="linear")

    def table_of(resid, var):
        return ri.ScoreTable(frame, names, resid, var, 2)

    # b = 0: residuals (Delta - mean Delta) / 2 = -1.5, 0, 0.5, 1; kappa = (3.5 - 2) / 1 = 1.5;
    # the treated unit is the lowest of four: p = 2 x 1/4
    p, t = ri.p_value_at(at, table_of, assignments, 0.0)
    assert p == pytest.approx(0.5, abs=1e-12)
    assert t == pytest.approx(-1.5 / math.sqrt(0.5 * 1.75), abs=1e-9)
    # b = -4: Delta 1, 0, 1, 2 (mean 1), residuals 0, -0.5, 0, 0.5: the treated unit ties
    # unit 2 (below 1, ties 2, above 1): p = 1; its residual, so its statistic, is 0
    p, t = ri.p_value_at(at, table_of, assignments, -4.0)
    assert p == 1.0
    assert t == pytest.approx(0.0, abs=1e-9)


def test_few_units_leave_the_interval_unbounded():
    """Four units: the smallest possible p is 2 x 1/4 = 0.5 > 0.05, so no effect is rejected and
    both ends are infinite."""
    frame = two_period_panel([0.0, 0.0, 0.0, 0.0], [-3.0, 0.0, 1.0, 2.0])
    res = ri.randomization_inference(frame, model="linear", treated={"u0": 1}, beta_hat=-4.0,
                                     se_hint=1.0, draws=9, seed=1, alpha=0.05, n_periods=2)
    assert (res.ci_low, res.ci_high) == (-math.inf, math.inf)


def test_interval_of_four_units_at_alpha_one_half():
    """Post values -3, 0, 1, 2 after 0, unit 0 treated, linear: the treated unit's statistic ranks
    with Delta_0 - b = -3 - b among 0, 1, 2. At alpha 0.5, b is rejected (p = 0.5) exactly when
    it is strictly lowest (b > -3) or highest (b < -5): the interval is [-5, -3]. The search
    from -4 stops after 8 refinements, each keeping at least a tenth of the bracket on either
    side: the end is within 0.9^8 x 2 / 2 = 0.44 of the boundary, here found much closer."""
    frame = two_period_panel([0.0, 0.0, 0.0, 0.0], [-3.0, 0.0, 1.0, 2.0])
    res = ri.randomization_inference(frame, model="linear", treated={"u0": 1}, beta_hat=-4.0,
                                     se_hint=1.0, draws=9, seed=1, alpha=0.5, n_periods=2)
    assert res.ci_high == pytest.approx(-3.0, abs=0.44)
    assert res.ci_low == pytest.approx(-5.0, abs=0.44)
    assert res.ci_low < -4.0 < res.ci_high
    # the estimate itself rejected: no interval (p(0) = 0.5 <= 0.5)
    res = ri.randomization_inference(frame, model="linear", treated={"u0": 1}, beta_hat=0.0,
                                     se_hint=1.0, draws=9, seed=1, alpha=0.5, n_periods=2)
    assert math.isnan(res.ci_low) and math.isnan(res.ci_high)
    res = ri.randomization_inference(frame, model="linear", treated={"u0": 1},
                                     beta_hat=float("nan"), se_hint=1.0, draws=9, seed=1,
                                     alpha=0.5, n_periods=2)
    assert math.isnan(res.ci_low) and math.isnan(res.ci_high)


@pytest.mark.parametrize("se_hint, scale", [(0.3, 0.3), (0.0, 0.1), (-1.0, 0.1),
                                            (float("nan"), 0.1), (float("inf"), 0.1)])
def test_interval_search_is_asked_from_the_estimate_with_the_scale(monkeypatch, se_hint, scale):
    calls = []

    def fake_end(p_at, start, step, alpha):
        calls.append((start, step, alpha, p_at(start)))
        return start + step

    monkeypatch.setattr(ri, "_interval_end", fake_end)
    frame = two_period_panel([0.0, 0.0, 0.0, 0.0], [-3.0, 0.0, 1.0, 2.0])
    res = ri.randomization_inference(frame, model="linear", treated={"u0": 1}, beta_hat=-4.0,
                                     se_hint=se_hint, draws=9, seed=1, alpha=0.5, n_periods=2)
    # p(-4) = 1: -3 - (-4) = 1 ties with unit 2's Delta of 1 (below 1, ties 2, above 1)
    assert calls == [(-4.0, -scale, 0.5, 1.0), (-4.0, scale, 0.5, 1.0)]
    assert (res.ci_low, res.ci_high) == (-4.0 - scale, -4.0 + scale)


# ---------------------------------------------------------------- the interval search

def step_p(boundary, inside, outside, *, up=True, limit=20):
    """p(b) = `inside` before the boundary and `outside` from it on (beyond it when searching
    down); fails a test that evaluates more than `limit` points (the search makes at most 6
    doublings + 1 + 8 refinements = 15)."""
    calls = []

    def p_at(b):
        calls.append(b)
        if len(calls) > limit:
            raise AssertionError(f"the search did not stop: {calls[:limit]}")
        beyond = b >= boundary if up else b <= boundary
        return outside if beyond else inside

    return p_at, calls


def test_search_secant_path_by_hand():
    """p = 1 before 0.5, 0 from it on (alpha 0.05). Doubling: 2 is rejected. z_in = z(1) = 0,
    z_out = z(1e-6) = 4.891638 (p clamped at 1e-6), target 1.959964: fraction 0.400676 each time.
    Brackets: [0, 2] -> 0.801353 out; [0, 0.801353] -> 0.321083 in; -> 0.513516 out; -> 0.398186,
    0.444396, 0.472091, 0.488689, 0.498636 in; eight refinements: the midpoint of
    [0.498636, 0.513516] = 0.506076."""
    p_at, calls = step_p(0.5, 1.0, 0.0)
    assert ri._interval_end(p_at, 0.0, 1.0, 0.05) == pytest.approx(0.5060761096, abs=1e-9)
    assert calls == pytest.approx([2.0, 0.0, 0.8013527550, 0.3210831190, 0.5135158170,
                                   0.3981863553, 0.4443961463, 0.4720907655, 0.4886888051,
                                   0.4986364023], abs=1e-9)


def test_search_scales_with_start_and_step():
    # the path above, moved to start 1 with steps of 0.5 (boundary 1.25), and mirrored downwards
    p_at, calls = step_p(1.25, 1.0, 0.0)
    assert ri._interval_end(p_at, 1.0, 0.5, 0.05) == pytest.approx(1 + 0.5 * 0.5060761096, abs=1e-9)
    assert calls[:3] == pytest.approx([2.0, 1.0, 1 + 0.5 * 0.8013527550], abs=1e-9)
    p_at, calls = step_p(0.75, 1.0, 0.0, up=False)
    assert ri._interval_end(p_at, 1.0, -0.5, 0.05) == pytest.approx(1 - 0.5 * 0.5060761096, abs=1e-9)
    assert calls[:3] == pytest.approx([0.0, 1.0, 1 - 0.5 * 0.8013527550], abs=1e-9)


def test_search_fraction_is_kept_below_nine_tenths():
    """p = 1 before 0.5, 0.049 from it on: z_out = z(0.049) = 1.969 just above the target, the
    fraction 0.995 is cut to 0.9: every refinement lands outside: 1.8, 1.62, ..., 0.860934;
    the end is the midpoint of [0, 0.860934]."""
    p_at, calls = step_p(0.5, 1.0, 0.049)
    assert ri._interval_end(p_at, 0.0, 1.0, 0.05) == pytest.approx(0.43046721, abs=1e-9)
    assert calls == pytest.approx([2.0, 0.0, 1.8, 1.62, 1.458, 1.3122, 1.18098, 1.062882,
                                   0.9565938, 0.86093442], abs=1e-9)


def test_search_fraction_is_kept_above_one_tenth():
    """p = 0.06 before 0.5 (z_in = z(0.06) = 1.8808), 0 from it on: fraction 0.026 raised to
    0.1: 0.2, 0.38 in; 0.542 out; 0.3962, 0.41078, 0.423902, 0.4357118, 0.44634062 in;
    the end is the midpoint of [0.44634062, 0.542]."""
    p_at, calls = step_p(0.5, 0.06, 0.0)
    assert ri._interval_end(p_at, 0.0, 1.0, 0.05) == pytest.approx(0.49417031, abs=1e-9)
    assert calls == pytest.approx([2.0, 0.0, 0.2, 0.38, 0.542, 0.3962, 0.41078, 0.423902,
                                   0.4357118, 0.44634062], abs=1e-9)


def test_search_stops_when_the_bracket_is_narrow():
    """Boundary 0.005: 0.2 and 0.02 out, 0.002 in; the bracket [0.002, 0.02] is 0.018 <= 0.02
    steps wide: its midpoint 0.011."""
    p_at, calls = step_p(0.005, 0.06, 0.0)
    assert ri._interval_end(p_at, 0.0, 1.0, 0.05) == pytest.approx(0.011, abs=1e-12)
    assert calls == pytest.approx([2.0, 0.0, 0.2, 0.02, 0.002], abs=1e-12)


def test_search_secant_from_an_inside_point_off_zero():
    """p = 0.2 before 0.5 (z_in = z(0.2) = 1.281552), 0 from it on (z_out = 4.891638): the
    fraction (1.959964 - 1.281552) / (4.891638 - 1.281552) = 0.187921, the first refinement at
    2 x 0.187921 = 0.375843."""
    p_at, calls = step_p(0.5, 0.2, 0.0)
    ri._interval_end(p_at, 0.0, 1.0, 0.05)
    assert calls[:3] == pytest.approx([2.0, 0.0, 0.3758427073], abs=1e-9)


def test_search_stops_at_a_bracket_exactly_as_narrow_as_the_tolerance():
    """Steps of 50: the tolerance is 0.02 x 50 = 1. Fraction cut to 0.1 (p = 0.06 inside):
    [0, 100] -> 10 out, [0, 10] -> 1 out; the bracket [0, 1] is exactly 1 wide: stop, 0.5."""
    p_at, calls = step_p(0.5, 0.06, 0.0)
    assert ri._interval_end(p_at, 0.0, 50.0, 0.05) == 0.5
    assert calls == [100.0, 0.0, 10.0, 1.0]


def test_search_returns_a_point_just_above_alpha():
    """p = 0.052 before 0.5: the first refinement (0.2) is not rejected and within 0.003 of
    alpha: it is the end. The same at exactly alpha + 0.003."""
    for inside in (0.052, 0.05 + 0.003):
        p_at, calls = step_p(0.5, inside, 0.0)
        assert ri._interval_end(p_at, 0.0, 1.0, 0.05) == pytest.approx(0.2, abs=1e-12)
        assert calls == pytest.approx([2.0, 0.0, 0.2], abs=1e-12)


def test_search_p_equal_to_alpha_is_rejected():
    """p exactly alpha from 0.5 on: rejected (p <= alpha) when doubling and when refining: the
    path of the fraction cut at 0.9 (z_out = target)."""
    p_at, calls = step_p(0.5, 1.0, 0.05)
    assert ri._interval_end(p_at, 0.0, 1.0, 0.05) == pytest.approx(0.43046721, abs=1e-9)
    assert calls[:4] == pytest.approx([2.0, 0.0, 1.8, 1.62], abs=1e-9)


def test_search_doubles_to_64_steps_then_gives_up():
    p_at, calls = step_p(1e9, 0.5, 0.0)
    assert ri._interval_end(p_at, 0.0, 1.0, 0.05) == math.inf
    assert calls == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
    p_at, calls = step_p(-1e9, 0.5, 0.0, up=False)
    assert ri._interval_end(p_at, 1.0, -0.5, 0.05) == -math.inf
    assert calls == [0.0, -1.0, -3.0, -7.0, -15.0, -31.0]


def test_search_found_while_doubling():
    """Boundary 5: 2 and 4 are not rejected, 8 is: the bracket is [4, 8], z_in = z(0.06)."""
    p_at, calls = step_p(5.0, 0.06, 0.0)
    end = ri._interval_end(p_at, 0.0, 1.0, 0.05)
    assert calls[:4] == pytest.approx([2.0, 4.0, 8.0, 4.0], abs=1e-12)
    assert calls[4] == pytest.approx(4.4, abs=1e-12)  # fraction cut to 0.1 of [4, 8]
    assert 4.0 < end < 5.5


# ---------------------------------------------------------------- confidence.py

def test_rule_thresholds():
    assert conf.rule_thresholds(scale="rate_ratio", min_reduction=0.2) == {
        "any_reduction": 0.0, "min_reduction": pytest.approx(-0.22314355131420976, rel=1e-15)}
    assert conf.rule_thresholds(scale="difference", min_reduction=0.2,
                                counterfactual_mean=-50.0) == {"any_reduction": 0.0,
                                                               "min_reduction": -10.0}
    assert conf.rule_thresholds(scale="difference", min_reduction=0.2,
                                counterfactual_mean=40.0)["min_reduction"] == -8.0
    for missing in (None, float("nan"), float("inf")):
        assert conf.rule_thresholds(scale="difference", min_reduction=0.2,
                                    counterfactual_mean=missing) == {"any_reduction": 0.0,
                                                                     "min_reduction": None}


def test_confidence_dict():
    thresholds = {"any_reduction": 0.0, "min_reduction": -0.1}
    out = conf.confidence({"any_reduction": 0.9, "other": 0.1}, method="m", thresholds=thresholds,
                          mcse={"any_reduction": 0.01})
    assert out == {"any_reduction": 0.9, "min_reduction": None, "mcse": {"any_reduction": 0.01},
                   "method": "m", "thresholds": {"any_reduction": 0.0, "min_reduction": -0.1}}
    assert list(out) == ["any_reduction", "min_reduction", "mcse", "method", "thresholds"]
    assert out["thresholds"] is not thresholds
    assert conf.confidence({}, method="x", thresholds={})["mcse"] is None


def test_normal_confidence_by_hand():
    out = conf.normal_confidence(0.1, 0.2, thresholds={"a": 0.0, "b": None, "c": 0.5})
    # Phi(-0.5) and Phi(2) (tables)
    assert out == {"a": pytest.approx(0.3085375387259869, rel=1e-12), "b": None,
                   "c": pytest.approx(0.9772498680518208, rel=1e-12), "mcse": None,
                   "method": "normal", "thresholds": {"a": 0.0, "b": None, "c": 0.5}}
    for est, se in [(0.1, 0.0), (0.1, -0.2), (0.1, math.nan), (math.inf, 0.2), (0.1, math.inf),
                    (None, 0.2)]:
        assert conf.normal_confidence(est, se, thresholds={"a": 0.0}) is None


def test_poisson_zero_confidence_by_hand():
    out = conf.poisson_zero_confidence(2.0, thresholds={"any": 0.0, "min": math.log(0.5),
                                                         "none": None})
    # 1 - P(0 | 2) = 1 - e^-2; 1 - P(0 | 1) = 1 - e^-1
    assert out == {"any": pytest.approx(0.8646647167633873, rel=1e-12),
                   "min": pytest.approx(0.6321205588285577, rel=1e-12), "none": None,
                   "mcse": None, "method": "exact_poisson",
                   "thresholds": {"any": 0.0, "min": math.log(0.5), "none": None}}
    assert conf.poisson_zero_confidence(3, thresholds={"any": 0.0})["any"] == pytest.approx(
        1 - math.exp(-3), rel=1e-12)
    for bad in (0.0, -1.0, math.nan, math.inf, None):
        assert conf.poisson_zero_confidence(bad, thresholds={"any": 0.0}) is None
    # a tiny expected count: -expm1 keeps the digits 1 - exp would lose
    assert conf.poisson_zero_confidence(1e-12, thresholds={"any": 0.0})["any"] == pytest.approx(
        1e-12, rel=1e-9)


def test_interval_confidence_rate_ratio_by_hand():
    """RR 0.8 in [0.5, 1.2] at 95%: each side a normal on the log scale with sd (half-width /
    1.959964): at the interval's own ends the confidence is 0.025 and 0.975; at the estimate 0.5."""
    thresholds = {"low": math.log(0.5), "centre": math.log(0.8), "high": math.log(1.2),
                  "none": None}
    out = conf.interval_confidence(estimate=0.8, low=0.5, high=1.2, scale="rate_ratio",
                                   alpha=0.05, thresholds=thresholds)
    assert out["low"] == pytest.approx(0.025, rel=1e-9)
    assert out["centre"] == pytest.approx(0.5, rel=1e-12)
    assert out["high"] == pytest.approx(0.975, rel=1e-9)
    assert out["none"] is None and out["method"] == "interval_fallback" and out["mcse"] is None
    # RR 1: above the estimate, on the upper side's scale: Phi(log(1.25) / (log(1.5) / z))
    at_one = conf.interval_confidence(estimate=0.8, low=0.5, high=1.2, scale="rate_ratio",
                                      alpha=0.05, thresholds={"any": 0.0})["any"]
    assert at_one == pytest.approx(stats.norm.cdf(math.log(1.25) / (math.log(1.5) / Z_TARGET)),
                                   rel=1e-12)


def test_interval_confidence_difference_and_alpha():
    # estimate 1 in [-1, 5] at 90%: sides 2 / 1.644854 below and 4 / 1.644854 above
    out = conf.interval_confidence(estimate=1.0, low=-1.0, high=5.0, scale="difference",
                                   alpha=0.1, thresholds={"zero": 0.0, "three": 3.0,
                                                          "low": -1.0})
    z = 1.6448536269514722
    assert out["zero"] == pytest.approx(stats.norm.cdf(-1 / (2 / z)), rel=1e-12)
    assert out["three"] == pytest.approx(stats.norm.cdf(2 / (4 / z)), rel=1e-12)
    assert out["low"] == pytest.approx(0.05, rel=1e-9)


def test_interval_confidence_refuses_unusable_intervals():
    cases = [dict(estimate=0.8, low=0.8, high=1.2), dict(estimate=0.8, low=0.5, high=0.8),
             dict(estimate=0.8, low=0.9, high=1.2), dict(estimate=0.0, low=0.5, high=1.2),
             dict(estimate=None, low=0.5, high=1.2), dict(estimate="x", low=0.5, high=1.2),
             dict(estimate=0.8, low=0.5, high=math.inf), dict(estimate=0.8, low=0.0, high=1.2)]
    for case in cases:
        assert conf.interval_confidence(scale="rate_ratio", alpha=0.05,
                                        thresholds={"any": 0.0}, **case) is None, case
    assert conf.interval_confidence(estimate=1.0, low=-math.inf, high=5.0, scale="difference",
                                    alpha=0.1, thresholds={"any": 0.0}) is None
    assert conf.interval_confidence(estimate="x", low=0.0, high=5.0, scale="difference",
                                    alpha=0.1, thresholds={"any": 0.0}) is None


def test_all_finite():
    assert conf.all_finite(1, 2.5, -3) and conf.all_finite()
    assert not conf.all_finite(1.0, math.nan) and not conf.all_finite(math.inf)
    assert not conf.all_finite("1") and not conf.all_finite(None) and not conf.all_finite(1, None)
