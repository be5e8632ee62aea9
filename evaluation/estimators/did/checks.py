"""Pre-specified robustness checks of a DiD estimate: placebo dates, a recent rise before the start,
leave-one-out, displacement.

Each check re-estimates the plain TWFE model on a modified data set through `estimate`, a
callable supplied by `estimate_did` that fits the registered model and applies the design's
inference rule: estimate(frame, treated={unit: first treated t}, interval=bool) -> dict with
beta (log rate ratio or difference), ci_low, ci_high (same scale), p_value, or {"skipped": why}.
The pass/fail rule of every check is in its docstring and repeated in its detail text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.estimators.intervals import contains
from evaluation.estimators.output import Check
from evaluation.estimators.stats import to_scale

Estimate = Callable[..., dict[str, Any]]


def _label(scale: str) -> str:
    return "rate ratio" if scale == "rate_ratio" else "difference"


def placebo_check(frame: pd.DataFrame, *, treated: dict[str, int], estimate: Estimate,
                  alpha: float, scale: str) -> Check:
    """Placebo start dates in the pre-period.

    Only data before the first real start are used; the treated units are given fake start
    dates at defaults.DID_PLACEBO_FRACTIONS of the pre-period (each leaving at least
    defaults.DID_PLACEBO_MIN_PERIODS periods before and after). Rule: pass when no placebo
    estimate is significant at alpha / k (Bonferroni over the k placebo dates, with the design's
    inference); fail otherwise; skipped when the pre-period is too short for any placebo date.
    """
    first = min(treated.values())
    pre = frame.loc[frame["t"] < first]
    pre_t = sorted(pre["t"].unique().tolist())
    n_pre, min_p = len(pre_t), defaults.DID_PLACEBO_MIN_PERIODS
    positions = sorted({int(round(f * n_pre)) for f in defaults.DID_PLACEBO_FRACTIONS})
    dates = [pre_t[i] for i in positions if min_p <= i <= n_pre - min_p]
    if not dates:
        return Check(name="placebo_dates", kind="placebo", status="skipped",
                     detail=f"the pre-period has {n_pre} periods, too few for a placebo start "
                            f"date with {min_p} periods on each side")
    results: dict[str, Any] = {}
    for date in dates:
        sub = pre.assign(d=(pre["unit"].isin(treated) & (pre["t"] >= date)).astype(int))
        res = estimate(sub, treated={u: int(date) for u in treated}, interval=False)
        if "skipped" in res:
            results[str(date)] = {"skipped": res["skipped"]}
            continue
        results[str(date)] = {"estimate": to_scale(res["beta"], scale), "p_value": res["p_value"]}
    tested = {k: v for k, v in results.items() if "p_value" in v}
    if not tested:
        return Check(name="placebo_dates", kind="placebo", status="skipped",
                     detail="no placebo date could be estimated (treated units without events "
                            "in the pre-period)", values={"placebo": results})
    level = alpha / len(tested)
    failed = [k for k, v in tested.items() if v["p_value"] is not None and v["p_value"] < level]
    status = "fail" if failed else "pass"
    detail = (f"placebo starts at t = {', '.join(tested)} in the pre-period; rule: pass when no "
              f"placebo {_label(scale)} is significant at {level:.3g} (alpha {alpha:g} / "
              f"{len(tested)} dates); "
              + (f"significant at t = {', '.join(failed)}" if failed else "none is"))
    return Check(name="placebo_dates", kind="placebo", status=status, detail=detail,
                 values={"placebo": results, "level": level})


def recent_rise_check(frame: pd.DataFrame, *, treated: dict[str, int], estimate: Estimate,
                      alpha: float, scale: str, periods: int) -> Check:
    """Blocking: did the treated units rise just before the start (selection on a spike)?

    Only data before the first real start are used: the last `periods` of them
    (defaults.RECENT_RISE_PERIODS) are a placebo post-period for the treated units, the rest
    of the pre-period its reference, with the design's model and inference. Rule: fail when the
    placebo estimate is a rise (rate ratio above 1, difference above 0) with p < alpha; then a
    fall after the start may be the return to normal of units picked after a run of attacks, and
    the verdict is withheld (code `recent_rise`). Pass otherwise; skipped when the pre-period
    leaves fewer than defaults.DID_PLACEBO_MIN_PERIODS periods before that window. A design that
    expects such a rise registers a pre-period without it (`window.exclude`), whose periods then
    are not in the data this check sees.
    """
    first = min(treated.values())
    pre = frame.loc[frame["t"] < first]
    pre_t = sorted(pre["t"].unique().tolist())
    min_p = defaults.DID_PLACEBO_MIN_PERIODS
    if len(pre_t) < periods + min_p:
        return Check(name="recent_rise", kind="recent_rise", status="skipped", blocking=True,
                     values={"skip_code": "short_pre_period", "periods": periods},
                     detail=f"the pre-period has {len(pre_t)} periods, too few to test the last "
                            f"{periods} against at least {min_p} before them")
    date = pre_t[-periods]
    sub = pre.assign(d=(pre["unit"].isin(treated) & (pre["t"] >= date)).astype(int))
    res = estimate(sub, treated={u: int(date) for u in treated}, interval=False)
    if "skipped" in res:
        return Check(name="recent_rise", kind="recent_rise", status="skipped", blocking=True,
                     values={"skip_code": "not_estimable", "periods": periods},
                     detail=f"the last {periods} periods before the start could not be compared "
                            f"with the rest: {res['skipped']}")
    beta, p_value = float(res["beta"]), res["p_value"]
    rise = beta > 0 and p_value is not None and p_value < alpha
    values = {"periods": periods, "from_t": int(date), "estimate": to_scale(beta, scale),
              "p_value": p_value, "alpha": alpha, "code": "recent_rise" if rise else None}
    detail = (f"the treated units' last {periods} periods before the start (t >= {date}) against "
              f"their earlier pre-period: {_label(scale)} {to_scale(beta, scale):.3g}, p = "
              f"{'n/a' if p_value is None else format(p_value, '.3g')}; rule: fail when it is "
              f"a rise with p < {alpha:g}"
              + ("; a fall after the start may be a return to normal (code recent_rise): "
                 "register a pre-period without these periods (window.exclude) or a later start"
                 if rise else ""))
    return Check(name="recent_rise", kind="recent_rise", status="fail" if rise else "pass",
                 detail=detail, blocking=True, values=values)


def leave_one_out_check(frame: pd.DataFrame, *, treated: dict[str, int], estimate: Estimate,
                        primary: dict[str, Any], scale: str) -> Check:
    """Leave one treated unit out.

    The model is refitted without each treated unit in turn. Rule: pass when every
    leave-one-out estimate lies inside the primary confidence interval (no single unit drives
    the result); fail otherwise; skipped with a single treated unit.
    """
    if len(treated) < 2:
        return Check(name="leave_one_out", kind="leave_one_out", status="skipped",
                     detail="only one treated unit: there is no unit to leave out")
    lo, hi = primary["ci_low"], primary["ci_high"]
    estimates: dict[str, float] = {}
    for unit in sorted(treated):
        sub = frame.loc[frame["unit"] != unit]
        rest = {u: c for u, c in treated.items() if u != unit}
        res = estimate(sub, treated=rest, interval=False, inference=False)
        if "skipped" not in res:
            estimates[unit] = to_scale(res["beta"], scale)
    # an unbounded end of the primary interval bounds nothing on its side (a randomization
    # interval can be open above); an end that is not available (NaN) leaves nothing to test
    if math.isnan(lo) or math.isnan(hi):
        return Check(name="leave_one_out", kind="leave_one_out", status="skipped",
                     detail="the primary interval is not available, so there is nothing to "
                            "compare the leave-one-out estimates with",
                     values={"estimates": estimates, "ci_low": lo, "ci_high": hi})
    outside = [u for u, e in estimates.items() if not contains(lo, hi, e)]
    status = "fail" if outside else "pass"
    shown = ", ".join(f"without {u}: {e:.3g}" for u, e in estimates.items())
    detail = (f"{shown}; rule: pass when every leave-one-out {_label(scale)} lies inside the "
              f"primary interval [{lo:.3g}, {hi:.3g}]; "
              + (f"outside for {', '.join(outside)}" if outside else "all inside"))
    return Check(name="leave_one_out", kind="leave_one_out", status=status, detail=detail,
                 values={"estimates": estimates, "ci_low": lo, "ci_high": hi})


def displacement_check(frame: pd.DataFrame, *, treated: dict[str, int],
                       neighbours: pd.DataFrame | None, estimate: Estimate, alpha: float,
                       scale: str) -> Check:
    """Displacement to nearby units.

    Neighbours of treated units (from data/neighbours.csv, either direction of a pair) are
    treated as if the intervention reached them from their treated neighbour's start; the
    treated units themselves are left out and the remaining units are the controls. Rule: fail
    when the neighbours show a significant increase ({rate ratio > 1 or difference > 0} with
    p < alpha, with the design's inference); pass otherwise; skipped without a neighbour list
    or when no treated unit has an untreated neighbour in the panel.
    """
    if neighbours is None:
        return Check(name="displacement", kind="displacement", status="skipped",
                     detail="no data/neighbours.csv in the workspace (columns unit, neighbour)")
    pairs = pd.concat([neighbours[["unit", "neighbour"]],
                       neighbours.rename(columns={"unit": "neighbour", "neighbour": "unit"})
                       [["unit", "neighbour"]]]).astype(str)
    pairs = pairs.loc[pairs["unit"].isin(treated) & ~pairs["neighbour"].isin(treated)
                      & pairs["neighbour"].isin(set(frame["unit"]))]
    if pairs.empty:
        return Check(name="displacement", kind="displacement", status="skipped",
                     detail="no treated unit has an untreated neighbour in the panel")
    starts = pairs.assign(start=pairs["unit"].map(treated)).groupby("neighbour")["start"].min()
    exposed = {str(u): int(c) for u, c in starts.items()}
    sub = frame.loc[~frame["unit"].isin(treated)]
    sub = sub.assign(d=(sub["t"] >= sub["unit"].map(exposed).fillna(np.inf)).astype(int))
    res = estimate(sub, treated=exposed, interval=True)
    if "skipped" in res:
        return Check(name="displacement", kind="displacement", status="skipped", detail=res["skipped"])
    est = to_scale(res["beta"], scale)
    lo, hi = to_scale(res["ci_low"], scale), to_scale(res["ci_high"], scale)
    increase = res["beta"] > 0 and res["p_value"] < alpha
    detail = (f"{len(exposed)} neighbouring unit(s) of the treated units: {_label(scale)} "
              f"{est:.3g} [{lo:.3g}, {hi:.3g}], p = {res['p_value']:.3g}; rule: fail when the "
              f"neighbours show a significant increase (p < {alpha:g}); "
              + ("they do" if increase else "they do not"))
    return Check(name="displacement", kind="displacement", status="fail" if increase else "pass", detail=detail,
                 values={"neighbours": sorted(exposed), "estimate": est, "ci_low": lo,
                         "ci_high": hi, "p_value": res["p_value"]})
