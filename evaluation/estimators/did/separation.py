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

Separation before the start (every treated event after it) is the mirror image: the treated
units' level without the intervention is bounded only from above, the ML rate ratio is +inf.
All n_i events fall after the start with probability

    P_all(RR) = prod_i pi_i(RR)^n_i,

increasing in RR; it is P0 with the roles of E_pre and E_post swapped and log RR negated, so
the same root search serves. The lower end of the interval is the RR with P_all = alpha / 2 (the
upper end is unbounded); the one-sided exact p-value of "no effect" (against an increase) is
P_all(1); the rule's confidence that RR lies below r, inverted like every other one, is
1 - P(X <= n | r) = 0: data with every event after the start cannot support a reduction. The
period effects and the E ratios come from the comparison units alone (`did.before_start`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from evaluation import defaults
from evaluation.estimators.confidence import confidence

SEPARATION_CODE = "separation"
SEPARATION_REASON = ("no events in the treated units after the start: the rate ratio's maximum "
                     "likelihood value is 0, a boundary, not an estimate")
SEPARATION_BEFORE_CODE = "separation_before"
SEPARATION_BEFORE_REASON = ("no events in the treated units before the start: their rate without "
                            "the intervention is unknown, so the rate ratio has a lower bound "
                            "only, no point estimate")


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


def separated_before(treated_rows: pd.DataFrame) -> bool:
    """Separation before the start: no treated event before it, some after (detected before any
    fit, which would return a meaningless huge number)."""
    before = treated_rows["t"].to_numpy() < treated_rows["cohort"].to_numpy()
    y = treated_rows["y"].to_numpy(dtype=float)
    return float(np.abs(y[before]).sum()) == 0 and float(y[~before].sum()) > 0


def overdispersed(totals: pd.DataFrame, *, model: str, dispersion: float | None) -> pd.DataFrame:
    """Totals with n divided by the Pearson dispersion for quasi-Poisson and negative binomial
    models (when above 1): overdispersed counts carry the information of n / dispersion Poisson
    events (the quasi-likelihood's effective sample size), so the bound widens accordingly."""
    if model not in ("quasi_poisson", "negative_binomial") or dispersion is None \
            or not math.isfinite(dispersion) or dispersion <= 1:
        return totals
    return totals.assign(n=totals["n"] / dispersion)


def _swapped(totals: pd.DataFrame) -> pd.DataFrame:
    return totals.rename(columns={"e_pre": "e_post", "e_post": "e_pre"})


def exact_summary_before(totals: pd.DataFrame, *, alpha: float,
                         thresholds: dict[str, float | None]) -> dict[str, Any]:
    """Separation before the start: the lower interval end (log scale; the upper is +inf), the
    one-sided exact p-value P_all(1) and the rule's confidence (0 at every threshold)."""
    swapped = _swapped(totals)
    low = -upper_bound(swapped, alpha=alpha)  # P_all(e^b) = P0(e^-b) of the swapped totals
    p_value = math.exp(log_p_zero(0.0, swapped)) if not totals.empty else math.nan
    values = {name: None if b is None or totals.empty else 0.0 for name, b in thresholds.items()}
    return {"ci_low": low, "ci_high": math.inf, "p_value": p_value,
            "confidence": confidence(values, method="exact_conditional", thresholds=thresholds)}
