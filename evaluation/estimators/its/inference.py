"""Inference for the segmented model: block permutation (the default), model-based Wald, Newey-West.

`auto` and `placebo_blocks` use the placebo-block inference of blocks.py (the post-period against
same-length blocks of the pre-period, a prediction t test): chosen by calibration (docs/calibration_its.md), because it holds its level when shocks persist
for weeks, where model-based errors and a Ljung-Box switch to Newey-West (the former `auto`) do
not. `model` and `hac` stay available as explicit choices: Wald intervals with the normal quantile
on the log scale (count models) or the outcome scale (linear), as in Lopez Bernal, Cummins &
Gasparrini (2017). The Ljung-Box tests of the residuals are computed in every case (a check).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.diagnostic import acorr_ljungbox

from evaluation import defaults
from evaluation.estimators.its.segmented import TREATED, CovChoice, ItsFit, ModelSpec, fit
from evaluation.estimators.stats import wald as stats_wald

LAG_RULE = "floor(4 * (n / 100) ** (2 / 9)), n = periods used"


def newey_west_lags(n_periods: int) -> int:
    """Newey-West's rule of thumb for the number of lags: floor(4 (n/100)^(2/9)), at least 1."""
    return max(1, int(math.floor(4 * (n_periods / 100) ** (2 / 9))))


@dataclass(frozen=True)
class LjungBox:
    statistic: float
    p_value: float
    lags: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": "Ljung-Box", "statistic": self.statistic, "p_value": self.p_value,
                "lags": self.lags}


def ljung_box(residuals: pd.Series) -> LjungBox:
    """Ljung-Box test of residuals in time order, at AUTOCORR_LAGS lags (fewer for short series)."""
    values = np.asarray(residuals, dtype=float)
    lags = max(1, min(defaults.AUTOCORR_LAGS, len(values) // 4))
    table = acorr_ljungbox(values, lags=[lags])
    return LjungBox(float(table["lb_stat"].iloc[0]), float(table["lb_pvalue"].iloc[0]), lags)


def residual_tests(frame: pd.DataFrame, fitted: ItsFit) -> dict[str, LjungBox]:
    """Ljung-Box per group series (treated first), on the fit's Pearson residuals."""
    out = {}
    for group, rows in frame.groupby("group", sort=False):
        out[str(group)] = ljung_box(fitted.pearson.loc[rows.sort_values("t").index])
    return out


@dataclass(frozen=True)
class InferenceResult:
    fit: ItsFit
    info: dict[str, Any]  # primary["inference"]
    tests: dict[str, LjungBox]  # per group, from the model-based fit


def fit_with_inference(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int, requested: str,
                       hac_lags: int | None) -> InferenceResult:
    """Fit the model and choose its covariance as registered (`model`, `hac` or `auto`)."""
    n_periods = int(frame["t"].nunique())
    lags = hac_lags if hac_lags is not None else newey_west_lags(n_periods)
    lag_rule = "analysis.hac_lags" if hac_lags is not None else LAG_RULE
    model_fit = fit(frame, spec=spec, t_start=t_start, choice=CovChoice("model"))
    tests = residual_tests(frame, model_fit)
    treated_test = tests[TREATED]
    worst_group = min(tests, key=lambda g: tests[g].p_value)
    worst = tests[worst_group]
    which = ("the Pearson residuals" if len(tests) == 1 else
             f"each series' Pearson residuals (smallest p: {worst_group} series)")
    alpha = defaults.AUTOCORR_ALPHA
    if requested == "model":
        used, reason = "model", "registered: model-based (Wald) standard errors"
    elif requested == "hac":
        used, reason = "hac", f"registered: Newey-West (HAC) standard errors, {lags} lags ({lag_rule})"
    elif requested == "ljung_box_switch":  # the former `auto`: kept for its calibration only
        used = "hac" if worst.p_value < alpha else "model"
        reason = (f"Ljung-Box test of {which} ({worst.lags} lags) p = {worst.p_value:.3g}: "
                  f"{used} standard errors")
    else:  # `auto` and `placebo_blocks`: valid under persistent shocks without a pre-test
        used = "placebo_blocks"
        reason = (("auto: " if requested == "auto" else "registered: ")
                  + "placebo-block inference: the post-period's mean residual against the same "
                  "mean over non-overlapping pre-period blocks of the same length (a prediction "
                  "t test), valid when shocks persist for weeks")
    final = model_fit if used in ("model", "placebo_blocks") else fit(frame, spec=spec, t_start=t_start,
                                                   choice=CovChoice("hac", lags))
    info: dict[str, Any] = {"used": used, "reason": reason, "lags": lags if used == "hac" else None,
                            "test": treated_test.to_dict()}
    if len(tests) > 1:
        info["test_control"] = tests[next(g for g in tests if g != TREATED)].to_dict()
    return InferenceResult(fit=final, info=info, tests=tests)


@dataclass(frozen=True)
class Wald:
    coef: float
    se: float
    low: float
    high: float
    p_value: float


def wald(fitted: ItsFit, name: str, *, alpha: float) -> Wald:
    """Wald estimate, interval and two-sided p-value of one coefficient (normal quantile)."""
    coef, se = fitted.coef(name), fitted.se(name)
    low, high, p = stats_wald(coef, se, alpha)
    return Wald(coef, se, low, high, p)
