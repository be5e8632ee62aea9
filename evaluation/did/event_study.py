"""Event study and the pre-trend check.

Coefficients for every event time in `analysis.event_window` [lo, hi] relative to the period
before the start (e = -1, the reference), ends binned (e <= lo, e >= hi). The regression is
the saturated cohort x event-time one of `evaluation.did.sun_abraham` (Poisson PPML with unit and
period fixed effects and offset log(exposure) for counts, least squares for linear outcomes),
so with one start date it is the ordinary two-way fixed-effects event study, and with staggered
starts it is Sun & Abraham's heterogeneity-robust interaction-weighted version (each cohort
against never-treated units, cells combined per event time).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.did.staggered import normal_summary
from evaluation.did.sun_abraham import event_time_estimates, gradient_matrix, saturated_fit
from evaluation.prepared import PreparedData
from evaluation.result import Check

EVENT_COLUMNS = ("event_time", "estimate", "std_error", "ci_low", "ci_high", "scale")
CHECK_NAME = "pre_trends"

PRE_TRENDS_RULE = (
    "Pre-trend check: the event-study coefficients of the periods before the start (the leads, "
    "e = lo .. -2, relative to e = -1) are tested jointly with a Wald chi-square test. It fails "
    "when p < alpha (the design's analysis.alpha): the treated units already moved differently "
    "from the controls before the start, so the parallel-trends assumption is in doubt and the "
    "verdict becomes inconclusive (blocking). It is skipped when no lead can be estimated."
)


def event_study(data: PreparedData) -> tuple[pd.DataFrame, Check]:
    """Event-study coefficients and the pre-trend check.

    Returns a frame with EVENT_COLUMNS, one row per event time (the reference e = -1 included,
    estimate 1 / 0 with no error), estimates on the presentation scale (rate ratio for counts,
    difference for linear; std_error of the log rate ratio / of the difference), and the
    `pre_trends` Check. Pre-trend rule (quoted by the methods page): PRE_TRENDS_RULE.
    """
    sat = saturated_fit(data, leads=True)
    scale = "rate_ratio" if sat.count else "difference"
    events = event_time_estimates(sat, data)
    alpha = data.spec.alpha
    rows = []
    for rec in events.itertuples(index=False):
        rows.append(_row(rec.e, rec.est, rec.se, alpha, scale))
    rows.append({"event_time": -1, "estimate": 1.0 if sat.count else 0.0, "std_error": math.nan,
                 "ci_low": math.nan, "ci_high": math.nan, "scale": scale})
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS)).sort_values("event_time")
    frame = frame.reset_index(drop=True)
    return frame, pre_trend_check(sat, events, data)


def _row(e: int, est: float, se: float, alpha: float, scale: str) -> dict:
    lo, hi, _ = normal_summary(est, se, alpha) if math.isfinite(est) else (math.nan, math.nan, 0)
    if scale == "rate_ratio":
        return {"event_time": e, "estimate": math.exp(est), "std_error": se,
                "ci_low": math.exp(lo) if math.isfinite(lo) else math.nan,
                "ci_high": math.exp(hi) if math.isfinite(hi) else math.nan, "scale": scale}
    return {"event_time": e, "estimate": est, "std_error": se, "ci_low": lo, "ci_high": hi,
            "scale": scale}


def pre_trend_check(sat, events: pd.DataFrame, data: PreparedData) -> Check:
    """Joint Wald test of the leads (see PRE_TRENDS_RULE)."""
    alpha = data.spec.alpha
    lead_times = [int(e) for e in events["e"] if e <= -2]
    usable = events.loc[(events["e"] <= -2) & np.isfinite(events["est"]) & np.isfinite(events["se"])]
    values = {"leads": lead_times, "leads_tested": [int(e) for e in usable["e"]],
              "alpha": alpha, "errors": sat.errors}
    if usable.empty:
        reason = ("no period before the start besides the reference period"
                  if not lead_times else "no lead could be estimated (no events before the start)")
        return Check(name=CHECK_NAME, status="skipped", blocking=True, values=values,
                     detail=f"Pre-trends not tested: {reason}. {PRE_TRENDS_RULE}")
    groups = [sat.cells.loc[sat.cells["e"] == e] for e in usable["e"]]
    grad = gradient_matrix(sat, groups)
    b = usable["est"].to_numpy(dtype=float)
    cov = grad @ sat.vcov @ grad.T
    rank = int(np.linalg.matrix_rank(cov))
    wald = float(b @ np.linalg.pinv(cov) @ b)
    p_value = float(stats.chi2.sf(wald, rank)) if rank > 0 else math.nan
    values.update({"wald": wald, "df": rank, "p_value": p_value})
    if not math.isfinite(p_value):
        return Check(name=CHECK_NAME, status="skipped", blocking=True, values=values,
                     detail=f"Pre-trends not tested: the leads' covariance is singular. {PRE_TRENDS_RULE}")
    failed = p_value < alpha
    verdict = ("fail: the treated units already differed in trend before the start"
               if failed else "pass: no evidence of different trends before the start")
    detail = (f"Joint Wald test of {len(b)} lead(s) (e = {', '.join(str(e) for e in usable['e'])}): "
              f"chi2({rank}) = {wald:.3g}, p = {p_value:.3g} vs alpha = {alpha:g} -> {verdict}. "
              f"Errors: {sat.errors}. Rule: fails when p < alpha.")
    return Check(name=CHECK_NAME, status="fail" if failed else "pass", detail=detail,
                 blocking=True, values=values)
