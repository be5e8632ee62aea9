"""Randomization inference against hand calculations (issue 22: the p-value formula was checked
only against a copy of itself in `diagnose`).

Two periods, one treated unit from t = 1, linear model: the null model y ~ unit + period leaves
the post-period residual (D_i - mean D) / 2 for unit i, D_i = y_i1 - y_i0, and the statistic of
an assignment is that residual (one cell, variance 1). Unit 0 has the strictly smallest D.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.estimators.did.randomization import randomization_inference
from evaluation.estimators.did.twfe import model_frame


def panel(post_values: list[float]) -> pd.DataFrame:
    rows = []
    for i, post in enumerate(post_values):
        unit = f"u{i:04d}"
        rows += [{"unit": unit, "t": 0, "y": 0.0, "d": 0, "exposure": 1.0},
                 {"unit": unit, "t": 1, "y": float(post), "d": int(i == 0), "exposure": 1.0}]
    return model_frame(pd.DataFrame(rows))


def run(frame: pd.DataFrame, *, treated: str, exact_max: int, draws: int = 19):
    return randomization_inference(frame, model="linear", treated={treated: 1}, beta_hat=float("nan"),
                                   se_hint=1.0, draws=draws, seed=7, alpha=0.05, n_periods=2,
                                   exact_max=exact_max, interval=False,
                                   thresholds={"any_reduction": 0.0})


def test_exact_enumeration_of_four_units():
    """Four assignments; the observed statistic is the lowest of four distinct values:
    P(T <= T_obs) = 1/4, P(T >= T_obs) = 4/4, two-sided p = 2 x 1/4 = 0.5; the one-sided mid-p
    confidence of an effect below 0 = (3 above + 1/2 tie) / 4 = 0.875, with no Monte Carlo error."""
    res = run(panel([-3.0, 0.0, 1.0, 2.0]), treated="u0000", exact_max=100)
    assert res.exact and res.draws == 4 and res.n_assignments_possible == 4
    assert res.p_value == pytest.approx(0.5, abs=1e-12)
    # studentised statistic (issue 13): residual D = (-3 - 0) / 2 = -1.5; working variance of a
    # unit's post-period sum given its total over two periods V = 1 x (1 - 1/2) = 0.5; common
    # excess kappa = (sum D^2 - sum V) / sum V^2 = (3.5 - 2) / 1 = 1.5; with one treated unit
    # T = D / sqrt(V (1 + kappa V)) = -1.5 / sqrt(0.5 x 1.75)
    assert res.statistic == pytest.approx(-1.5 / math.sqrt(0.5 * 1.75), abs=1e-9)
    below = res.at_thresholds["any_reduction"]
    assert below.below == pytest.approx(0.875, abs=1e-12) and below.below_mcse == 0.0


def test_exact_enumeration_treated_unit_highest():
    """Unit 3 treated, the highest: p = 2 x 1/4 = 0.5, confidence of a reduction = (0 + 1/2) / 4."""
    res = run(panel([-3.0, 0.0, 1.0, 2.0]), treated="u0003", exact_max=100)
    assert res.p_value == pytest.approx(0.5, abs=1e-12)
    assert res.at_thresholds["any_reduction"].below == pytest.approx(0.125, abs=1e-12)


def test_sampled_assignments_count_the_observed_one():
    """400 units, 19 sampled assignments plus the observed one (1 treated unit: a draw repeats the
    observed assignment with probability 1/400 each, and with seed 7 none does — the literal below
    would be 0.2 otherwise). P(T <= T_obs) = (1 + 0) / (1 + 19), so p = 2 x 1/20 = 0.1 (k/n would
    give 0); confidence (19 + 1/2) / 20 = 0.975 with Monte Carlo error sqrt(0.975 x 0.025 / 19)."""
    post = [-3.0] + list(np.linspace(0.0, 1.0, 399))
    res = run(panel(post), treated="u0000", exact_max=1)
    assert not res.exact and res.draws == 19 and res.n_assignments_possible == 400
    assert res.p_value == pytest.approx(0.1, abs=1e-12)
    below = res.at_thresholds["any_reduction"]
    assert below.below == pytest.approx(0.975, abs=1e-12)
    assert below.below_mcse == pytest.approx(math.sqrt(0.975 * 0.025 / 19), rel=1e-12)
