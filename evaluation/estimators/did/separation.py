"""Separation: no event in the treated units after the start. An exact conditional answer.

The maximum-likelihood rate ratio is then 0 (log: -inf), a boundary, not an estimate, and Wald
errors do not exist. Conditioning on each treated unit's total number of events removes its
unknown level (the unit fixed effect): given the period effects and exposure, a treated unit i
with n_i events in all has its post-start events ~ Binomial(n_i, pi_i(RR)),

    pi_i(RR) = RR E_post,i / (E_pre,i + RR E_post,i),

where E_pre,i and E_post,i are its expected counts before and after the start without the
intervention (the Poisson fit of the untreated cells; only their ratio enters, so the unit level
cancels). Observing no event after the start in any treated unit has probability

    P0(RR) = prod_i (1 - pi_i(RR))^n_i,

decreasing in RR. The upper end of the equal-tailed (1 - alpha) interval is the RR with
P0 = alpha / 2 (the lower end is 0: the interval is one-sided); the one-sided exact p-value of
"no effect" is P0(1); the rule's confidence that RR lies below a threshold r is 1 - P0(r) (the
exact conditional test inverted, like the confidence of every other inference). It treats the
period effects as known: they are estimated from every control unit, far more data than the
treated units contribute. With one treated unit this is the Clopper-Pearson bound for zero
successes in n trials mapped to the rate-ratio scale (the tests compare it with scipy).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from evaluation import defaults
from evaluation.errors import AnalysisError
from evaluation.estimators.confidence import confidence

SEPARATION_CODE = "separation"
SEPARATION_REASON = ("no events in the treated units after the start: the rate ratio's maximum "
                     "likelihood value is 0, a boundary, not an estimate")


def treated_totals(frame: pd.DataFrame, expected: np.ndarray,
                   treated: set[str]) -> pd.DataFrame:
    """Per treated unit: n (events in all), e_pre and e_post (expected without the effect)."""
    rows = frame.assign(expected=expected, post=frame["d"].to_numpy() == 1)
    rows = rows.loc[rows["unit"].isin(treated)]
    out = rows.groupby("unit").apply(
        lambda g: pd.Series({"n": g["y"].sum(), "e_pre": g.loc[~g["post"], "expected"].sum(),
                             "e_post": g.loc[g["post"], "expected"].sum()}),
        include_groups=False)
    return out.loc[(out["n"] > 0) & (out["e_post"] > 0)]


def log_p_zero(log_rr: float, totals: pd.DataFrame) -> float:
    """log P0(RR): no treated event after the start, given the units' totals."""
    n, pre, post = (totals[c].to_numpy(dtype=float) for c in ("n", "e_pre", "e_post"))
    # log(pre / (pre + RR post)) = -log1p(RR post / pre), computed on the log scale
    return float(-np.sum(n * np.logaddexp(0.0, log_rr + np.log(post) - np.log(pre))))


def upper_bound(totals: pd.DataFrame, *, alpha: float) -> float:
    """log RR_high with P0(RR_high) = alpha / 2 (+inf when no treated unit carries information)."""
    if totals.empty or (totals["e_pre"] <= 0).any():
        return math.inf
    target = math.log(alpha / 2)
    low, high = -1.0, 1.0
    while log_p_zero(high, totals) > target:  # P0 falls towards 0 as RR grows
        high += 2.0 * (high - low)
    while log_p_zero(low, totals) < target:
        low -= 2.0 * (high - low)
    return float(brentq(lambda b: log_p_zero(b, totals) - target, low, high,
                        rtol=defaults.SEPARATION_RTOL, xtol=1e-12))


def exact_summary(totals: pd.DataFrame, *, alpha: float,
                  thresholds: dict[str, float | None]) -> dict[str, Any]:
    """Interval ends (log scale), the one-sided exact p-value and the rule's confidence."""
    p_value = math.exp(log_p_zero(0.0, totals)) if not totals.empty else math.nan
    values = {name: None if b is None or totals.empty else float(-math.expm1(log_p_zero(b, totals)))
              for name, b in thresholds.items()}
    return {"ci_low": -math.inf, "ci_high": upper_bound(totals, alpha=alpha), "p_value": p_value,
            "confidence": confidence(values, method="exact_conditional", thresholds=thresholds)}


def refuse_separation_before(treated_rows: pd.DataFrame, *, design: str) -> None:
    """Separation before the start: every treated event falls after it, so the treated units'
    own level is fixed by the post period alone and the rate ratio is not identified (a fit
    returns a meaningless huge number). Detected before any fit; a one-line error says why."""
    before = treated_rows["t"].to_numpy() < treated_rows["cohort"].to_numpy()
    if float(np.abs(treated_rows["y"].to_numpy()[before]).sum()) == 0:
        raise AnalysisError(f"design {design}: the treated units have no events before the start "
                            "in the window, so their rate without the intervention is unknown and "
                            "no rate ratio can be estimated; move window.start earlier")
