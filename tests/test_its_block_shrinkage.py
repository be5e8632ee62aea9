"""The placebo-block test's shrinkage correction (estimators.its.blocks.block_shrinkage): a hand
calculation, a Monte Carlo check against statsmodels' own fits, and the issue-21 case it fixes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from evaluation.estimators.its.blocks import BlockTest, block_test
from evaluation.estimators.its.segmented import CONTROL, TREATED, ModelSpec


def _spec(*, trend: bool, harmonics: int = 0, controlled: bool = False) -> ModelSpec:
    return ModelSpec(model="linear", trend=trend, harmonics=harmonics, slope_change=False,
                     covariates=(), has_exposure=False, frequency="year", controlled=controlled)


def _frame(y: np.ndarray, group: str = TREATED) -> pd.DataFrame:
    t = np.arange(len(y))
    return pd.DataFrame({"group": group, "period": t, "t": t, "y": y, "exposure": 1.0,
                         "excluded": False})


def test_intercept_only_shrinks_every_block_by_sqrt_j_over_j_plus_1():
    """Intercept only, 4 blocks of 4 before and 4 after: a shock per block, minus the mean of the
    5 blocks' shocks, has variance 1 - 1/5 per block, so every block shrinks by sqrt(4/5); equal
    shrinkage leaves the t statistic as it was."""
    y = np.array([3.0, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 7])
    test = block_test(_frame(y), spec=_spec(trend=False), t_start=16, beta0=0.0)
    assert test.shrinkage == pytest.approx([math.sqrt(4 / 5)] * 5, abs=1e-12)
    plain = BlockTest(beta0=0.0, observed=test.observed, placebo=test.placebo, n_post=4, width=4)
    assert test.t_statistic == pytest.approx(plain.t_statistic, rel=1e-12)
    # by hand: the residuals are y - 5 (sum 100 over 20); block sums 20 (after), then counted
    # back 28, 21, 22, 9: means minus 5
    assert test.observed == pytest.approx(0.0, abs=1e-12)
    assert test.placebo == pytest.approx([2.0, 0.25, 0.5, -2.75], abs=1e-12)


def test_trend_shrinkage_matches_statsmodels_fits_of_simulated_block_shocks():
    """Intercept and trend, 32 periods before and 8 after, blocks of 8: the sd of each block's
    mean residual from statsmodels OLS fits to 4,000 series of block-shared N(0, 1) shocks, over
    the sd without the fit (1), against the formula. Tolerance: the relative Monte Carlo error of
    an sd from 4,000 draws is 1 / sqrt(2 x 4,000) = 1.1%; 4.5 of them is 0.05."""
    rng = np.random.default_rng(20261208)
    n_pre, n_post, width = 32, 8, 8
    t = np.arange(n_pre + n_post)
    exog = sm.add_constant(t.astype(float))
    stretches = (t - n_pre) // width  # -4 .. -1 before, 0 after
    means = []
    for _ in range(4000):
        shocks = rng.normal(size=5)[stretches + 4]
        resid = sm.OLS(shocks, exog).fit().resid
        means.append([resid[n_pre:].mean()] + [resid[n_pre - (j + 1) * width:n_pre - j * width].mean()
                                               for j in range(4)])
    empirical = np.std(np.array(means), axis=0)
    y = np.random.default_rng(1).normal(size=n_pre + n_post)
    formula = block_test(_frame(y), spec=_spec(trend=True), t_start=n_pre, beta0=0.0).shrinkage
    assert formula == pytest.approx(empirical, rel=0.05)
    # a trend absorbs most of a shock at the series' ends (its tilt), so the post-period and the
    # oldest block shrink most, the middle block least; five equal blocks are symmetric
    assert max(formula[0], formula[4]) < min(formula[1:4])
    assert formula[2] == max(formula)
    assert formula[0] == pytest.approx(formula[4], rel=1e-9)
    assert formula[1] == pytest.approx(formula[3], rel=1e-9)


def test_controlled_series_each_carry_their_own_shocks():
    """Controlled ITS (the design's own terms for the two series), each series with its own block
    shocks: the formula against statsmodels fits of 4,000 simulated pairs (tolerance as above)."""
    rng = np.random.default_rng(7)
    n_pre, width = 32, 8
    treated = _frame(rng.normal(size=40))
    control = _frame(rng.normal(size=40), group=CONTROL)
    frame = pd.concat([treated, control], ignore_index=True)
    spec = _spec(trend=False, controlled=True)
    formula = block_test(frame, spec=spec, t_start=n_pre, beta0=0.0).shrinkage
    from evaluation.estimators.its.segmented import design_matrix
    X = design_matrix(frame, spec=spec, t_start=n_pre).drop(columns="level_change").to_numpy(float)
    stretches = (frame["t"].to_numpy() - n_pre) // width + 4 + 5 * (frame["group"] == CONTROL).to_numpy()
    means = []
    for _ in range(4000):
        resid = sm.OLS(rng.normal(size=10)[stretches], X).fit().resid
        diff = resid[:40] - resid[40:]
        means.append([diff[n_pre:].mean()] + [diff[n_pre - (j + 1) * width:n_pre - j * width].mean()
                                              for j in range(4)])
    # without the fit each block mean is a difference of two unit shocks: sd sqrt(2)
    empirical = np.std(np.array(means), axis=0) / math.sqrt(2)
    assert formula == pytest.approx(empirical, rel=0.05)


def test_poisson_weights_enter_the_shrinkage():
    """A Poisson series whose level grows 100-fold (so the working weights mu differ along the
    series), with block-shared shocks of sd 0.05 on the log scale at a million events a period
    (Poisson noise 0.001-0.0001 relative, negligible): the sd of each block's mean relative
    residual from statsmodels GLM fits of 1,500 such series, over the shocks' sd, against the
    formula. Tolerance: the relative Monte Carlo error of an sd from 1,500 draws is
    1 / sqrt(3,000) = 1.8%; 4 of them is 0.07. The unweighted formula (equal weights) differs
    by more than that, so a wrong weight fails."""
    rng = np.random.default_rng(11)
    n_pre, width = 32, 8
    t = np.arange(40)
    log_mu = np.log(1e5) + np.log(100.0) * t / 39
    exog = sm.add_constant(t.astype(float))
    stretches = (t - n_pre) // width + 4
    means = []
    for _ in range(1500):
        mu = np.exp(log_mu + rng.normal(0, 0.05, size=5)[stretches])
        y = rng.poisson(mu).astype(float)
        fit = sm.GLM(y, exog, family=sm.families.Poisson()).fit()
        resid = (y - fit.fittedvalues) / fit.fittedvalues
        means.append([resid[n_pre:].mean()] + [resid[n_pre - (j + 1) * width:n_pre - j * width].mean()
                                               for j in range(4)])
    empirical = np.std(np.array(means), axis=0) / 0.05
    frame = pd.DataFrame({"group": TREATED, "period": t, "t": t,
                          "y": np.round(np.exp(log_mu)), "exposure": 1.0, "excluded": False})
    spec = ModelSpec(model="poisson", trend=True, harmonics=0, slope_change=False, covariates=(),
                     has_exposure=False, frequency="year", controlled=False)
    formula = block_test(frame, spec=spec, t_start=n_pre, beta0=0.0).shrinkage
    assert formula == pytest.approx(empirical, rel=0.07)
    unweighted = block_test(_frame(np.exp(log_mu)), spec=_spec(trend=True), t_start=n_pre,
                            beta0=0.0).shrinkage
    assert np.max(np.abs(unweighted / empirical - 1)) > 0.1
