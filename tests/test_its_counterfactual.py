"""The ITS counterfactual and the number averted against a hand calculation (issue 22).

A weekly linear series y_t = 10 + 0.5 t + e_t - 4 [t >= 104], t = 0..155, where e_t repeats
(+0.3, -0.3, -0.3, +0.3). That pattern sums to zero over every block of four weeks and is
orthogonal to t within each block, so it is orthogonal to the intercept, the trend and the level
step (the pre period is 26 blocks, the post period 13): least squares recovers the line and the
step exactly. By hand:
  counterfactual in week t >= 104:  10 + 0.5 t
  expected over weeks 104..155:     52 x 10 + 0.5 x (104 + 155) x 52 / 2 = 520 + 3367 = 3887
  averted:                          52 x 4 = 208;  observed = 3887 - 208 = 3679
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_its import WEEKS, its_design

from evaluation.estimators.its import estimate_its
from evaluation.simulation.series import prepared_from_long


@pytest.fixture(scope="module")
def fitted():
    t = np.arange(WEEKS)
    pattern = np.tile([0.3, -0.3, -0.3, 0.3], WEEKS // 4)
    y = 10 + 0.5 * t + pattern - 4.0 * (t >= 104)
    long = pd.DataFrame({"unit": "A", "period": pd.date_range("2021-01-04", periods=WEEKS, freq="7D"),
                         "y": y, "population": 1.0})
    design = its_design(model="linear", seasonality=0, inference="model",
                        data={"exposure": None})
    return estimate_its(prepared_from_long(design, long))


def test_counterfactual_is_the_pre_period_line(fitted):
    series = fitted.series
    post = series.loc[series["t"] >= 104]
    np.testing.assert_allclose(post["counterfactual"], 10 + 0.5 * post["t"], atol=1e-8)
    pre = series.loc[series["t"] < 104]
    np.testing.assert_allclose(pre["fitted"], 10 + 0.5 * pre["t"], atol=1e-8)


def test_averted_by_hand(fitted):
    averted = fitted.extras["averted"]
    assert averted["periods"] == 52
    assert averted["expected"] == pytest.approx(3887.0, abs=1e-6)
    assert averted["observed"] == pytest.approx(3679.0, abs=1e-9)
    assert averted["estimate"] == pytest.approx(208.0, abs=1e-6)
    assert averted["pct_of_expected"] == pytest.approx(100 * 208 / 3887, abs=1e-9)
    assert averted["ci_low"] <= averted["mean_ci_low"] < 208 < averted["mean_ci_high"] <= averted["ci_high"]


def test_level_change_is_minus_four(fitted):
    primary = fitted.primary
    assert primary["scale"] == "difference"
    assert primary["estimate"] == pytest.approx(-4.0, abs=1e-8)
    assert primary["ci_low"] < -4.0 < primary["ci_high"]
