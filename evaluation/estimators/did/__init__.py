"""Difference-in-differences: `estimate_did(data)` -> EstimatorOutput.

One start date: two-way fixed effects (unit and period) on the treatment indicator, fitted by
the registered model (`evaluation.did.twfe`). Staggered starts: the registered (or `auto`)
heterogeneity-robust estimator (`evaluation.did.staggered`), with plain TWFE beside it.

Inference (`analysis.inference`):
- auto: randomization inference when fewer than defaults.RI_MIN_CLUSTERS units are treated
  (cluster-robust errors over-reject with few treated clusters), otherwise cluster-robust CRV1
  errors clustered by unit;
- randomization: `evaluation.did.randomization` (p-value and interval by test inversion);
- cluster: CRV1 by unit; model: model-based errors (Pearson-scaled for quasi_poisson);
- wild_bootstrap: restricted wild cluster bootstrap, Webb weights (linear TWFE only).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.estimators.did import checks as did_checks
from evaluation.estimators.did.event_study import event_study
from evaluation.estimators.did.model_input import model_rows, validate
from evaluation.estimators.did.pretrend_power import with_sensitivity
from evaluation.estimators.did.primary import (
    DidPrimary,
    choose_inference,
    fit_primary,
    infer,
    treated_cohorts,
)
from evaluation.estimators.did.separation import (
    SEPARATION_BEFORE_CODE,
    SEPARATION_BEFORE_REASON,
    SEPARATION_CODE,
    SEPARATION_REASON,
)
from evaluation.estimators.did.twfe import TwfeFit, drop_all_zero_units, fit_twfe
from evaluation.estimators.intervals import averted_of, map_interval, rate_ratio_pct
from evaluation.estimators.output import Check, EstimatorOutput, tidy_frame, tidy_row
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import is_count, scale_of, to_scale

__all__ = ["choose_inference", "estimate_did", "fit_primary", "infer", "model_rows", "validate"]


def estimate_did(data: PreparedData, *, neighbours: pd.DataFrame | None = None) -> EstimatorOutput:
    """Estimate the registered DiD design on prepared data (see the module docstring)."""
    spec = data.spec
    fitted = fit_primary(data)
    if fitted.twfe is not None and fitted.twfe.separated_before:
        return _estimate_before_start(fitted, neighbours=neighbours)
    frame, treated, used, staggered = fitted.frame, fitted.treated, fitted.used, fitted.staggered
    estimator, summary = fitted.estimator, fitted.summary
    # TWFE beside a staggered estimator: its fit gives the series and the comparison row
    twfe = fitted.twfe if fitted.twfe is not None else fit_twfe(frame, model=spec.model)
    if staggered is None:
        twfe_summary = summary
        method = _method(data, twfe)
    else:
        twfe_summary = infer(fitted.ri_frame, fit=twfe, treated=treated, used=used, data=data)
        method = staggered.method
    scale = twfe.scale

    primary = _primary(data, twfe=twfe, summary=summary, method=method, scale=scale, used=used,
                       reason=fitted.reason, estimator=estimator,
                       estimator_reason=fitted.estimator_reason, treated=treated)
    if staggered is not None:
        primary["twfe"] = _presented(twfe_summary, scale=scale)
        primary["twfe"]["method"] = _method(data, twfe)
    primary["notes"] = [n.to_dict() for n in
                        (*fitted.notes, *(staggered.notes if staggered is not None else ()))]

    rows = [tidy_row("treatment", primary["estimate"], primary["std_error"], primary["ci_low"],
                     primary["ci_high"], primary["p_value"], method=method, scale=scale,
                     reason=(primary.get("not_estimable") or {}).get("reason", ""))]
    if staggered is not None:
        rows.append(tidy_row("twfe", *_row_values(twfe_summary, scale), method=_method(data, twfe),
                             scale=scale))
        rows.extend(r for r in staggered.rows if r["term"] != "treatment")

    event_table, event_check = event_study(data)
    if event_table is not None and len(event_table):
        for rec in event_table.itertuples(index=False):
            rows.append(tidy_row(f"event_time_{int(rec.event_time)}", rec.estimate, rec.std_error,
                                 rec.ci_low, rec.ci_high, getattr(rec, "p_value", None),
                                 method="event study", scale=rec.scale, status=rec.status,
                                 reason=rec.reason))

    event_check = with_sensitivity(event_check, low=summary["ci_low"], high=summary["ci_high"],
                                   scale=scale)
    estimate_subset = partial(_estimate_subset, data)
    check_list = [event_check,
                  did_checks.placebo_check(frame, treated=treated, estimate=estimate_subset,
                                           alpha=spec.alpha, scale=scale),
                  _recent_rise(data, frame, treated=treated),
                  did_checks.leave_one_out_check(frame, treated=treated, estimate=estimate_subset,
                                                 primary=primary, scale=scale),
                  did_checks.displacement_check(frame, treated=treated, neighbours=neighbours,
                                                estimate=estimate_subset, alpha=spec.alpha,
                                                scale=scale)]
    series, averted = _series(data, twfe, summary)
    extras: dict[str, Any] = {"averted": averted}
    if staggered is not None:
        extras["staggered"] = staggered.aggregations
    return EstimatorOutput(primary=primary, estimates=tidy_frame(rows), checks=tuple(check_list),
                           series=series, event_study=event_table, extras=extras,
                           fit=twfe.model_result)


def _estimate_before_start(fit: DidPrimary, *, neighbours: pd.DataFrame | None) -> EstimatorOutput:
    """No treated event before the start (`did.before_start`): a one-sided lower bound, no point
    estimate, no event study; the checks that compare treated units before the start with
    themselves cannot run and say why; displacement (treated units left out) runs as always."""
    data, twfe, summary = fit.data, fit.twfe, fit.summary
    scale = twfe.scale
    method = _method(data, twfe)
    primary = _primary(data, twfe=twfe, summary=summary, method=method, scale=scale,
                       used=fit.used, reason=fit.reason, estimator="twfe",
                       estimator_reason="no events in the treated units before the start: the "
                                        "exact conditional bound given each unit's total",
                       treated=fit.treated)
    primary["notes"] = [n.to_dict() for n in fit.notes]
    rows = [tidy_row("treatment", primary["estimate"], primary["std_error"], primary["ci_low"],
                     primary["ci_high"], primary["p_value"], method=method, scale=scale,
                     reason=SEPARATION_BEFORE_REASON)]
    frame, estimate_subset = twfe.frame, partial(_estimate_subset, data)
    not_run = {"skip_code": "no_events_before"}
    check_list = [
        Check(name="pre_trends", kind="pre_trends", status="skipped", blocking=True,
              values=not_run, detail="not tested: the treated units have no events before the start"),
        did_checks.placebo_check(frame, treated=fit.treated, estimate=estimate_subset,
                                 alpha=data.spec.alpha, scale=scale),
        Check(name="leave_one_out", kind="leave_one_out", status="skipped", values=not_run,
              detail="not run: the treated units have no events before the start"),
        did_checks.displacement_check(frame, treated=fit.treated, neighbours=neighbours,
                                      estimate=estimate_subset,
                                      alpha=data.spec.alpha, scale=scale)]
    series, averted = _series(data, twfe, summary)
    return EstimatorOutput(primary=primary, estimates=tidy_frame(rows), checks=tuple(check_list),
                           series=series, event_study=None, extras={"averted": averted},
                           fit=twfe.model_result)


def _estimate_subset(data: PreparedData, sub: pd.DataFrame, *, treated: dict[str, int],
                     interval: bool, inference: bool = True) -> dict[str, Any]:
    """TWFE estimate on a modified model frame (for the checks), with the design's inference."""
    if is_count(data.spec.model):
        per_t = sub.groupby("t")["y"].transform("sum")
        sub, _ = drop_all_zero_units(sub.loc[per_t.to_numpy() > 0].reset_index(drop=True))
        present = set(sub["unit"])
        treated = {u: c for u, c in treated.items() if u in present}
    if not treated or not sub["d"].any():
        return {"skipped": "no treated unit with events left in these data"}
    if sub["unit"].nunique() <= len(treated):
        return {"skipped": "no control unit left in these data"}
    fit = fit_twfe(sub, model=data.spec.model)
    if not inference:
        return {"beta": fit.beta}
    used, _ = choose_inference(data, n_treated=len(treated))
    return infer(sub, fit=fit, treated=treated, used=used, data=data, interval=interval)


def _recent_rise(data: PreparedData, frame: pd.DataFrame, *, treated: dict[str, int]) -> Check:
    return did_checks.recent_rise_check(
        frame, treated=treated, estimate=partial(_estimate_subset, data), alpha=data.spec.alpha,
        scale=scale_of(data.spec.model), periods=defaults.RECENT_RISE_PERIODS[data.frequency])


def recent_rise(data: PreparedData) -> Check:
    """The recent-rise check alone, on the rows the registered model is fitted on, as in
    `estimate_did` (for the calibration of the rule)."""
    validate(data)
    _, frame, _ = model_rows(data)
    return _recent_rise(data, frame, treated=treated_cohorts(data))


# --- presentation -------------------------------------------------------------------------------
def _method(data: PreparedData, fit: TwfeFit) -> str:
    if is_count(fit.model) and data.has_exposure:
        return f"{fit.method}, offset log(exposure)"
    return fit.method



def _row_values(summary: dict[str, Any], scale: str) -> tuple[float, float, float, float, float]:
    return (to_scale(summary["beta"], scale), summary["std_error"],
            to_scale(summary["ci_low"], scale), to_scale(summary["ci_high"], scale),
            summary["p_value"])


def _presented(summary: dict[str, Any], *, scale: str) -> dict[str, Any]:
    est, se, lo, hi, p = _row_values(summary, scale)
    return {"estimate": est, "std_error": se, "ci_low": lo, "ci_high": hi, "p_value": p}


def _primary(data: PreparedData, *, twfe: TwfeFit, summary: dict[str, Any], method: str,
             scale: str, used: str, reason: str, estimator: str, estimator_reason: str,
             treated: dict[str, int]) -> dict[str, Any]:
    shown = _presented(summary, scale=scale)
    if scale == "rate_ratio":
        to_pct = rate_ratio_pct
    else:
        post = twfe.frame["d"].to_numpy() == 1
        cf_mean = float(np.mean(twfe.counterfactual(summary["beta"])[post])) \
            if math.isfinite(summary["beta"]) else math.nan
        def to_pct(b: float) -> float:
            return 100.0 * b / cf_mean if cf_mean != 0 else math.nan
    pct = to_pct(summary["beta"]) if math.isfinite(summary["beta"]) else math.nan
    pct_low, pct_high = map_interval(summary["ci_low"], summary["ci_high"], to_pct)
    inference = {"used": used, "reason": reason, "draws": None, "exact": False,
                 **summary["details"]}
    primary: dict[str, Any] = {
        "method": method, "scale": scale, **shown, "pct_change": pct,
        "pct_ci_low": pct_low, "pct_ci_high": pct_high,
        "confidence": summary.get("confidence"), "alpha": data.spec.alpha,
        "inference": inference,
        "n_treated": len(treated),
        "n_control": int(twfe.frame.loc[~twfe.frame["unit"].isin(treated), "unit"].nunique()),
        "n_periods": data.n_periods, "estimator": estimator,
        "estimator_reason": estimator_reason, "model": data.spec.model,
    }
    primary.update(_estimability(summary["beta"]))
    if not primary["estimable"]:
        primary["estimate"] = math.nan  # a boundary (rate ratio 0) is no point estimate
    if twfe.dispersion is not None:
        primary["dispersion"] = twfe.dispersion
    if twfe.nb_alpha is not None:
        primary["nb_alpha"] = twfe.nb_alpha
    return primary


def _estimability(beta: float) -> dict[str, Any]:
    """`estimable`, and for a term that is not, `not_estimable` {code, reason}; the interval
    stays (one-sided under separation)."""
    if beta == -math.inf:
        return {"estimable": False, "one_sided": True,
                "not_estimable": {"code": SEPARATION_CODE, "reason": SEPARATION_REASON}}
    if beta == math.inf:
        return {"estimable": False, "one_sided": True,
                "not_estimable": {"code": SEPARATION_BEFORE_CODE, "reason": SEPARATION_BEFORE_REASON}}
    if not math.isfinite(beta):
        return {"estimable": False, "one_sided": False,
                "not_estimable": {"code": "not_identified", "reason": "the estimate is not finite"}}
    return {"estimable": True}


def _series(data: PreparedData, fit: TwfeFit, summary: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """Observed, fitted and counterfactual sums per period and group, and the averted count.

    The counterfactual is the TWFE fit with the treatment effect set to 0; its band uses the
    ends of the effect's interval, holding the fitted unit and period effects fixed.
    """
    frame = fit.frame
    lo_b, hi_b = summary["ci_low"], summary["ci_high"]
    cf = fit.counterfactual() if fit.separated or fit.separated_before else \
        fit.counterfactual(summary["beta"])
    ends = [fit.counterfactual(b) if math.isfinite(b) else np.full(len(frame), np.nan)
            for b in (lo_b, hi_b)]
    table = pd.DataFrame({
        "t": frame["t"].to_numpy(),
        "group": np.where(frame["unit"].isin(set(data.treated_units)), "treated", "control"),
        "observed": frame["y"].to_numpy(), "fitted": fit.fitted, "counterfactual": cf,
        "cf_low": np.fmin(ends[0], ends[1]), "cf_high": np.fmax(ends[0], ends[1]),
    })
    series = table.groupby(["t", "group"], as_index=False, sort=True).sum(min_count=1)
    series.loc[series["group"] == "control", ["cf_low", "cf_high"]] = np.nan
    series.insert(0, "period", [data.periods[int(t)] for t in series["t"]])
    post = frame["d"].to_numpy() == 1
    observed_post = float(frame["y"].to_numpy()[post].sum())
    expected = float(cf[post].sum())
    if fit.separated_before:
        # the level without the intervention is unknown: averted = observed (1/RR - 1), from
        # -observed (RR unbounded) to observed (1/RR_low - 1); no point estimate
        averted_ends = map_interval(lo_b, hi_b, lambda b: observed_post * math.expm1(-b))
        estimate = math.nan
    elif fit.separated:
        # nothing observed: averted = E (1 - RR); no point estimate (RR 0 is a boundary, not an
        # estimate), the interval from the exact one-sided interval of RR
        averted_ends = map_interval(lo_b, hi_b, lambda b: -expected * math.expm1(b))
        estimate = math.nan
    else:
        averted_at = averted_of(fitted_post=float(fit.fitted[post].sum()),
                                observed_post=observed_post, n_post=int(post.sum()),
                                linear=not is_count(fit.model))
        averted_ends = map_interval(lo_b, hi_b, averted_at)
        estimate = expected - observed_post
    averted = {"estimate": estimate, "ci_low": averted_ends[0], "ci_high": averted_ends[1],
               "observed": observed_post, "counterfactual": expected}
    return series, averted

