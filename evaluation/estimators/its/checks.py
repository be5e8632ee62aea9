"""Pre-specified checks of an interrupted time series. Each rule is stated in its detail text.

All refits use the registered model and terms and the covariance chosen for the primary estimate
(model-based, or Newey-West with the same lags). Of these, only the placebo check of a controlled
ITS is blocking (it is that design's pre-trend test); the others inform the
reader; the lead's verdict logic decides what a failure means. The blocking recent-rise check
(a series picked after a spike) is in recent_rise.py, on the refit and block test of this module.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.data.periods import period_json
from evaluation.estimators.fit_warnings import Expected, recorded
from evaluation.estimators.its.blocks import block_p_value
from evaluation.estimators.its.inference import LjungBox, Wald, wald
from evaluation.estimators.its.segmented import (
    CovChoice,
    ItsFit,
    ModelSpec,
    design_matrix,
    fit,
    max_harmonics,
    offset,
    response,
)
from evaluation.estimators.output import Check
from evaluation.estimators.stats import scale_of, to_scale

REFIT_CONVERGENCE = Expected(Warning, "converge|Hessian|overflow|divide by zero|invalid value",
                             "a check's refit that does not converge counts as not estimable")

# Numerical failures of a refit on a reduced series: the variant is reported as not estimable.
FIT_ERRORS = (np.linalg.LinAlgError, ValueError, FloatingPointError, ZeroDivisionError)


def block_p(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int,
            nb_alpha: float | None) -> float | None:
    """The placebo-block p-value of a level change at t_start on a reduced series, or None."""
    # as in refit: a reduced series' refit may be ill-conditioned (its warnings are expected)
    with recorded(expected=(REFIT_CONVERGENCE,)):
        try:
            return block_p_value(frame, spec=spec, t_start=t_start, nb_alpha=nb_alpha)
        except FIT_ERRORS:
            return None


def refit(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int,
          choice: CovChoice) -> ItsFit | None:
    """A check's refit on a reduced series, or None when it fails or does not converge."""
    # A refit of a reduced series may be ill-conditioned: a refit that fails or does not converge
    # counts as not estimable, so its convergence warnings say nothing more.
    with recorded(expected=(REFIT_CONVERGENCE,)):
        try:
            fitted = fit(frame, spec=spec, t_start=t_start, choice=choice)
        except FIT_ERRORS:
            return None
    return fitted if fitted.converged else None


def _level(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int, choice: CovChoice,
           alpha: float) -> Wald | None:
    fitted = refit(frame, spec=spec, t_start=t_start, choice=choice)
    return wald(fitted, "level_change", alpha=alpha) if fitted is not None else None


def _rr(w: Wald, spec: ModelSpec) -> dict[str, float]:
    """Estimate and interval on the reported scale: rate ratio, or difference for `linear`."""
    scale = scale_of(spec.model)
    return {"rr": to_scale(w.coef, scale), "ci_low": to_scale(w.low, scale),
            "ci_high": to_scale(w.high, scale), "p_value": w.p_value}


def placebo_starts(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int, choice: CovChoice,
                   alpha: float, periods: tuple[Any, ...], blocks: bool = False,
                   nb_alpha: float | None = None) -> Check:
    """Placebo start dates in the pre-period.

    With blocks=True (the placebo-block inference of the primary, issue 21) each placebo's
    p-value comes from that same test on the pre-period series cut at the placebo date (a date
    whose series is too short for it is not estimable): with model-based p-values the check
    failed on 30% of series without any break under persistent shocks (AR 0.8), so it would
    have said nothing. The rate ratios shown are the model's.

    Rule: the series is cut at the real start; up to defaults.ITS_PLACEBO_STARTS evenly spaced
    placebo starts are placed so that each leaves at least defaults.MIN_PRE_PERIODS periods
    before it and defaults.ITS_PLACEBO_MIN_AFTER after it (before the real start). The check
    passes when no placebo level change is significant at alpha / k (Bonferroni over the k
    placebo dates); it is skipped when the pre-period is too short for any placebo date.
    """
    pre = frame.loc[frame["t"] < t_start]
    times = np.sort(pre["t"].unique())
    candidates = [int(s) for i, s in enumerate(times)
                  if i >= defaults.MIN_PRE_PERIODS and len(times) - i >= defaults.ITS_PLACEBO_MIN_AFTER]
    name = "placebo_start_dates"
    if not candidates:
        return Check(name=name, kind="placebo", status="skipped", detail=(
            f"pre-period of {len(times)} periods too short for a placebo start (needs "
            f"{defaults.MIN_PRE_PERIODS} before and {defaults.ITS_PLACEBO_MIN_AFTER} after it)"))
    k = min(defaults.ITS_PLACEBO_STARTS, len(candidates))
    picks = sorted({candidates[int(i)] for i in np.round(np.linspace(0, len(candidates) - 1, k))})
    level = alpha / len(picks)
    results = []
    for s in picks:
        w = _level(pre, spec=spec, t_start=s, choice=choice, alpha=alpha)
        row = _rr(w, spec) if w else {"rr": None, "p_value": None}
        if w and blocks:
            row["p_value"] = block_p(pre, spec=spec, t_start=s, nb_alpha=nb_alpha)
        results.append({"start": period_json(periods[s]), **row})
    significant = [r for r in results if r["p_value"] is not None and r["p_value"] < level]
    estimable = [r for r in results if r["p_value"] is not None]
    status = "fail" if significant else ("pass" if estimable else "skipped")
    shown = "; ".join(f"{r['start']}: RR {r['rr']:.3f} (p {r['p_value']:.3g})" for r in estimable)
    how = " (placebo-block p-values)" if blocks else ""
    detail = (f"rule: pass when no placebo level change in the pre-period is significant at "
              f"alpha/{len(picks)} = {level:.4g} (Bonferroni){how}; {shown}")
    # In a controlled ITS the placebo dates are the pre-trend test of the comparison (the
    # decision rule counts it as such for the evidence level), so a failure blocks the verdict.
    return Check(name=name, kind="placebo", status=status, detail=detail, blocking=spec.controlled,
                 values={"placebos": results, "threshold": level})


def harmonics_sensitivity(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int,
                          choice: CovChoice, alpha: float, primary: Wald) -> Check:
    """Sensitivity of the level change to the number of Fourier pairs (defaults.ITS_HARMONICS_RANGE).

    Rule: pass when every variant's rate ratio lies on the same side of 1 as the primary, or
    when every variant's interval overlaps the primary interval; skipped without a season.
    """
    name = "seasonality_sensitivity"
    top = max_harmonics(spec.frequency)
    counts = sorted({min(h, top) for h in defaults.ITS_HARMONICS_RANGE})
    if top == 0:
        return Check(name=name, kind="seasonality", status="skipped",
                     detail=f"frequency `{spec.frequency}` has no seasonal cycle")
    variants = []
    for h in counts:
        w = _level(frame, spec=ModelSpec(**{**spec.__dict__, "harmonics": h}), t_start=t_start,
                   choice=choice, alpha=alpha)
        if w is not None:
            variants.append({"harmonics": h, **_rr(w, spec), "_w": w})
    # same side of 1 for a rate ratio is the same sign of its log (or of a difference)
    side = np.sign(primary.coef)
    same_side = all(np.sign(v["_w"].coef) == side for v in variants)
    overlap = all(v["_w"].low <= primary.high and v["_w"].high >= primary.low for v in variants)
    status = "pass" if variants and (same_side or overlap) else "fail"
    for v in variants:
        del v["_w"]
    shown = "; ".join(f"{v['harmonics']} pairs: RR {v['rr']:.3f} ({v['ci_low']:.3f}-{v['ci_high']:.3f})"
                      for v in variants)
    detail = ("rule: pass when all rate ratios lie on the same side of 1 as the primary or all "
              f"intervals overlap the primary interval; {shown}")
    return Check(name=name, kind="seasonality", status=status, detail=detail,
                 values={"variants": variants, "same_side": same_side, "all_overlap": overlap})


def residual_autocorrelation(tests: dict[str, LjungBox], *, inference_used: str) -> Check:
    """Ljung-Box test of the model's Pearson residuals, per series.

    Rule: pass when p >= defaults.AUTOCORR_ALPHA for every series (treated, and control in a
    controlled ITS). A failure with HAC errors in use is reported as such: the standard errors
    already allow for the autocorrelation, the point estimate may still be inefficient.
    """
    alpha = defaults.AUTOCORR_ALPHA
    failing = {g: t for g, t in tests.items() if t.p_value < alpha}
    shown = "; ".join(f"{g}: Q = {t.statistic:.2f}, {t.lags} lags, p = {t.p_value:.3g}"
                      for g, t in tests.items())
    note = ""
    if failing:
        note = {"hac": " (errors are Newey-West, which allows for it)",
                "placebo_blocks": " (placebo-block inference in use, which allows for it)"}.get(
            inference_used, " (model-based errors in use: intervals may be too narrow)")
    detail = f"rule: pass when Ljung-Box p >= {alpha} for every series; {shown}{note}"
    return Check(name="residual_autocorrelation", kind="autocorrelation",
                 status="fail" if failing else "pass", detail=detail,
                 values={g: t.to_dict() for g, t in tests.items()})


def approximate_level_shifts(frame: pd.DataFrame, fitted: ItsFit, *, spec: ModelSpec,
                             t_start: int) -> pd.Series:
    """One-step (DFBETA) change of the level coefficient when a period is dropped, per t.

    Weighted least squares at the IRLS solution: b - b_(i) is about
    (X'WX)^-1 x_i w_i e_i / (1 - h_i), with w_i e_i = (y - mu) mu / V(mu) for a log link.
    Used only to rank periods when a series is too long to refit for every period.
    """
    X = design_matrix(frame, spec=spec, t_start=t_start)[list(fitted.names)].to_numpy()
    y = response(frame, spec)
    off = offset(frame, spec)
    eta = X @ fitted.params + (0.0 if off is None else off)
    if spec.is_count:
        mu = np.exp(eta)
        variance = mu + (fitted.nb_alpha or 0.0) * mu**2
        weight, score = mu**2 / variance, (y - mu) * mu / variance
    else:
        weight, score = np.ones(len(y)), y - eta
    inverse = np.linalg.pinv(X.T @ (X * weight[:, None]))
    leverage = np.einsum("ij,jk,ik->i", X, inverse, X) * weight
    level = (X @ inverse[:, fitted.names.index("level_change")]) * score / (1 - leverage)
    return pd.Series(level, index=frame["t"].to_numpy()).groupby(level=0).sum()


def influential_periods(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int, choice: CovChoice,
                        alpha: float, primary: Wald, periods: tuple[Any, ...],
                        fitted: ItsFit) -> Check:
    """Leave-one-period-out refits (each period dropped from every series at once).

    Rule: pass when every leave-one-out rate ratio stays inside the primary interval; the
    largest shift (on the log scale) and its period are reported. Series longer than
    defaults.ITS_INFLUENCE_MAX_REFITS periods are refitted only for that many periods with the
    largest one-step (DFBETA) shift of the level change; the detail says so.
    """
    times = sorted(int(t) for t in frame["t"].unique())
    screened = ""
    if len(times) > defaults.ITS_INFLUENCE_MAX_REFITS:
        approx = approximate_level_shifts(frame, fitted, spec=spec, t_start=t_start)
        times = sorted(int(t) for t in approx.abs().nlargest(defaults.ITS_INFLUENCE_MAX_REFITS).index)
        screened = (f" (refits for the {len(times)} periods with the largest one-step shift of "
                    f"{len(approx)})")
    shifts = []
    for t in times:
        w = _level(frame.loc[frame["t"] != t], spec=spec, t_start=t_start, choice=choice,
                   alpha=alpha)
        if w is not None:
            shifts.append((t, w.coef))
    if not shifts:
        return Check(name="influential_periods", kind="influence", status="skipped",
                     detail="no leave-one-out refit was estimable")
    outside = [(t, c) for t, c in shifts if not (primary.low <= c <= primary.high)]
    t_max, c_max = max(shifts, key=lambda tc: abs(tc[1] - primary.coef))
    scale = math.exp if spec.is_count else float
    what = "RR" if spec.is_count else "level change"
    detail = (f"rule: pass when the {what} stays inside the primary interval "
              f"({scale(primary.low):.4g}-{scale(primary.high):.4g}) whichever single period is "
              f"dropped; largest shift when dropping {period_json(periods[t_max])}: {what} "
              f"{scale(c_max):.4g} (primary {scale(primary.coef):.4g}); "
              f"{len(outside)} of {len(shifts)} periods move it outside{screened}")
    return Check(name="influential_periods", kind="influence", status="fail" if outside else "pass",
                 detail=detail, values={
        "largest_shift_period": period_json(periods[t_max]), "largest_shift_estimate": scale(c_max),
        "outside": [period_json(periods[t]) for t, _ in outside], "n_refits": len(shifts)})
