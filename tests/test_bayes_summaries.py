"""Posterior summaries (estimators.bayes.sensitivity) on fixed draws written out by hand
(issue 22: the mutation group `bayes` runs these instead of a fit per mutant).

Every expected value is worked out in the comments from the literal draws:
- the HDI is ArviZ's: among the windows of the sorted draws that span floor(prob x n) positions,
  the narrowest (the first one on a tie);
- the weighted HDI is the shortest interval of sorted draws whose weights sum to at least prob;
- probabilities are shares of draws (or sums of weights) below the thresholds.
Weights are dyadic fractions so that their sums are exact in floating point.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from evaluation.estimators.bayes.sensitivity import (
    conclusion,
    effect_summary,
    hdi,
    weighted_effect_summary,
    weighted_hdi,
)

# ten rate ratios, sorted: 0.25 0.5 0.6 0.75 0.8 0.9 0.95 1.0 1.25 2.0 (exp(log(x)) == x for each)
RR = np.array([1.25, 0.6, 0.9, 2.0, 0.25, 1.0, 0.75, 0.95, 0.5, 0.8])


def test_hdi_is_the_narrowest_window():
    # prob 0.5, n 10: windows of 5 positions: 0.9-0.25, 0.95-0.5, 1.0-0.6, 1.25-0.75, 2.0-0.8
    # = 0.65, 0.45, 0.40, 0.50, 1.20: the third
    assert hdi(RR, 0.5) == (0.6, 1.0)
    # prob 0.8: windows of 8: 1.25-0.25 = 1.0, 2.0-0.5 = 1.5: the first
    assert hdi(RR, 0.8) == (0.25, 1.25)
    low, high = hdi(RR, 0.5)
    assert type(low) is float and type(high) is float


def test_hdi_drops_non_finite_draws():
    draws = np.array([np.nan, 3.0, np.inf, 1.0, -np.inf, 2.5])
    # finite: 1, 2.5, 3; prob 0.5: windows of 1 position: 2.5-1 = 1.5, 3-2.5 = 0.5: the second
    assert hdi(draws, 0.5) == (2.5, 3.0)
    # two finite draws are enough: the one window of 1 position
    assert hdi(np.array([3.0, np.nan, 1.0]), 0.5) == (1.0, 3.0)
    for few in (np.array([np.nan, 2.0, np.inf]), np.array([]), np.array([np.nan])):
        low, high = hdi(few, 0.9)
        assert math.isnan(low) and math.isnan(high)


def test_effect_summary_by_hand():
    out = effect_summary(np.log(RR), min_reduction=0.1, hdi_prob=0.5)
    # median of ten: (0.8 + 0.9) / 2; below 1 (strictly): 7 of 10; at most 0.9: 6 of 10
    assert out == {"rr_median": pytest.approx(0.85, rel=1e-12), "hdi_low": pytest.approx(0.6, rel=1e-12),
                   "hdi_high": pytest.approx(1.0, rel=1e-12), "p_any_reduction": 0.7,
                   "p_min_reduction": 0.6}
    out = effect_summary(np.log(RR), min_reduction=0.5, hdi_prob=0.8)
    # at most 0.5: 0.25 and 0.5
    assert out["p_min_reduction"] == 0.2 and out["p_any_reduction"] == 0.7
    assert (out["hdi_low"], out["hdi_high"]) == (pytest.approx(0.25, rel=1e-12),
                                                 pytest.approx(1.25, rel=1e-12))


def test_effect_summary_median_ignores_missing_draws():
    out = effect_summary(np.log(np.array([0.5, np.nan, 2.0, 1.0])), min_reduction=0.1,
                         hdi_prob=0.5)
    assert out["rr_median"] == pytest.approx(1.0, rel=1e-12)  # median of 0.5, 1, 2


X = np.array([4.0, 1.0, 8.0, 2.0, 2.5])  # sorted: 1, 2, 2.5, 4, 8
W = np.array([0.125, 0.125, 0.125, 0.375, 0.25])  # weights of the draws above (sum 1)


def test_weighted_hdi_by_hand():
    # sorted draws 1, 2, 2.5, 4, 8 with weights 1/8, 3/8, 1/4, 1/8, 1/8
    # prob 0.5: [1, 2] holds 4/8 (width 1), [2, 2.5] 5/8 (width 0.5), [2.5, 8] 4/8 (5.5): [2, 2.5]
    assert weighted_hdi(X, W, 0.5) == (2.0, 2.5)
    # prob 0.625: [1, 2.5] holds 6/8 (1.5), [2, 2.5] 5/8 (0.5), [2.5, 8] 4/8 too little: [2, 2.5]
    assert weighted_hdi(X, W, 0.625) == (2.0, 2.5)
    # prob 0.7: [1, 2.5] 6/8 (1.5), [2, 4] 6/8 (2), [2.5, 8] 4/8 no: [1, 2.5]
    assert weighted_hdi(X, W, 0.7) == (1.0, 2.5)
    # prob 0.25: one draw of weight >= 1/4 is enough: 2 (3/8) or 2.5 (1/4), width 0: the first
    assert weighted_hdi(X, W, 0.25) == (2.0, 2.0)


def test_weighted_hdi_an_exact_sum_reaches_prob():
    # sorted 1, 2, 3.5, 4, 8 with weights 1/8, 3/8, 1/4, 1/8, 1/8: [1, 2] holds exactly 4/8 = prob
    # (width 1) and [2, 3.5] 5/8 (width 1.5): [1, 2]
    x = np.array([2.0, 8.0, 1.0, 4.0, 3.5])
    w = np.array([0.375, 0.125, 0.125, 0.125, 0.25])
    assert weighted_hdi(x, w, 0.5) == (1.0, 2.0)


def test_weighted_hdi_a_heavy_last_draw():
    # sorted 1, 2, 3 with weights 1/4, 1/4, 1/2: the largest draw alone holds prob 1/2 (width 0);
    # [1, 2] and [2, 3] hold at least as much but are 1 wide
    assert weighted_hdi(np.array([3.0, 1.0, 2.0]), np.array([0.5, 0.25, 0.25]), 0.5) == (3.0, 3.0)


def test_weighted_hdi_when_no_interval_holds_prob():
    # the weights sum to 1 < 1.5: no interval holds that much: the whole range
    assert weighted_hdi(X, W, 1.5) == (1.0, 8.0)
    # unnormalised weights summing to 0.75 at prob 0.8: likewise
    assert weighted_hdi(X, W * 0.75, 0.8) == (1.0, 8.0)


def test_weighted_effect_summary_by_hand():
    rr = np.array([1.25, 0.5, 2.0, 0.8, 0.9])  # sorted 0.5 0.8 0.9 1.25 2.0
    w = np.array([0.25, 0.125, 0.125, 0.375, 0.125])  # weights of sorted: 1/8 3/8 1/8 1/4 1/8
    out = weighted_effect_summary(np.log(rr), w, min_reduction=0.2, hdi_prob=0.5)
    # cumulative 1/8, 4/8, 5/8, 7/8, 1: the first reaching 1/2 is 0.8
    assert out["rr_median"] == pytest.approx(0.8, rel=1e-12)
    # prob 1/2: [0.5, 0.8] 4/8 (width 0.3), [0.8, 0.9] 4/8 (0.1), [0.9, 2.0] 4/8 (1.1): [0.8, 0.9]
    assert (out["hdi_low"], out["hdi_high"]) == (pytest.approx(0.8, rel=1e-12),
                                                 pytest.approx(0.9, rel=1e-12))
    # below 1: 1/8 + 3/8 + 1/8; at most 0.8: 1/8 + 3/8
    assert out["p_any_reduction"] == 0.625 and out["p_min_reduction"] == 0.5
    assert set(out) == {"rr_median", "hdi_low", "hdi_high", "p_any_reduction", "p_min_reduction"}


def test_weighted_median_when_the_weights_never_reach_one_half():
    rr = np.array([0.5, 2.0, 1.0])
    out = weighted_effect_summary(np.log(rr), np.array([0.125, 0.125, 0.125]), min_reduction=0.1,
                                  hdi_prob=0.9)
    # cumulative 1/8, 2/8, 3/8 never reaches 1/2: the largest draw
    assert out["rr_median"] == pytest.approx(2.0, rel=1e-12)
    assert out["p_any_reduction"] == 0.125 and out["p_min_reduction"] == 0.125


def test_conclusion_reads_both_probabilities():
    data = SimpleNamespace(design=SimpleNamespace(decision=SimpleNamespace(
        min_reduction=0.1, continue_probability=0.9, stop_probability=0.2)))
    # p_min 0.95 >= 0.9: continue
    assert conclusion({"p_any_reduction": 0.99, "p_min_reduction": 0.95}, data) == "continue"
    # p_any 0.99 >= 0.9 but p_min 0.3 < 0.5: adapt (swapped, it would be continue)
    assert conclusion({"p_any_reduction": 0.99, "p_min_reduction": 0.3}, data) == "adapt"
    # p_any 0.1 < 0.2: stop
    assert conclusion({"p_any_reduction": 0.1, "p_min_reduction": 0.05}, data) == "stop"
    assert conclusion({"p_any_reduction": 0.6, "p_min_reduction": 0.55}, data) == "inconclusive"
