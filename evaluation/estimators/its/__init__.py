"""Interrupted time series: segmented regression of the treated series' counts.

`estimate_its(data)` sums the treated units' counts (and exposure) per period, fits a segmented
Poisson / quasi-Poisson / negative binomial (or linear) model with trend, Fourier seasonality,
covariates and a log(exposure) offset, and reports the level change at the start as a rate
ratio. With listed controls it fits a controlled ITS on the stacked treated and control series.
See segmented.py (model), inference.py (errors), counterfactual.py (series, averted), checks.py
and recent_rise.py (the checks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.data.periods import period_json
from evaluation.estimators.confidence import normal_confidence, rule_thresholds
from evaluation.estimators.did.separation import SEPARATION_CODE, SEPARATION_REASON
from evaluation.estimators.its.blocks import block_inference, inference_validity, minimum_detectable
from evaluation.estimators.its.checks import (
    harmonics_sensitivity,
    influential_periods,
    placebo_starts,
    residual_autocorrelation,
)
from evaluation.estimators.its.counterfactual import averted, series_table
from evaluation.estimators.its.inference import InferenceResult, Wald, fit_with_inference, wald
from evaluation.estimators.its.recent_rise import recent_rise_check, registered_choice
from evaluation.estimators.its.segmented import (
    TREATED,
    ItsFit,
    ModelSpec,
    build_series,
    linear_predictor,
    max_harmonics,
)
from evaluation.estimators.its.separation import exact_level, separated_output, separated_series
from evaluation.estimators.its.validate import check_design, check_panel, check_series, start_period
from evaluation.estimators.output import Check, EstimatorOutput, tidy_frame, tidy_row
from evaluation.estimators.prepared import PreparedData
from evaluation.notes import Note, note

__all__ = ["check_recent_rise", "estimate_its", "fit_primary"]

MODEL_NAMES = {"poisson": "Poisson", "quasi_poisson": "quasi-Poisson",
               "negative_binomial": "negative binomial (NB2)", "linear": "linear (OLS)"}
SEASON_UNIT = {"day": "day of year", "week": "ISO week", "month": "month", "quarter": "quarter"}


def model_spec(data: PreparedData, *, harmonics: int | None = None) -> ModelSpec:
    spec = data.spec
    return ModelSpec(model=spec.model, trend=spec.trend,
                     harmonics=spec.seasonality if harmonics is None else harmonics,
                     slope_change=spec.slope_change, covariates=tuple(data.covariates),
                     has_exposure=bool(data.has_exposure), frequency=data.frequency,
                     controlled=bool(data.control_units))


def describe(data: PreparedData, spec: ModelSpec, start: Any) -> tuple[str, list[Note]]:
    """Plain-text method: model, terms and offset; plus notes on what was adjusted."""
    notes = []
    pairs = min(spec.harmonics, max_harmonics(spec.frequency))
    if pairs < spec.harmonics:
        notes.append(note("seasonality_reduced", registered=spec.harmonics, pairs=pairs,
                          frequency=spec.frequency))
    terms = ["trend"] if spec.trend else []
    if pairs:
        terms.append(f"{pairs} Fourier pair(s) of {SEASON_UNIT[spec.frequency]}")
    terms += [f"covariate {c}" for c in spec.covariates]
    terms.append(f"level change at {start}")
    if spec.slope_change:
        terms.append("slope change (t - start + 1) x post")
    outcome = data.design.data.outcome
    kind = MODEL_NAMES[spec.model]
    if spec.model == "linear" and spec.has_exposure:
        outcome = f"{outcome} per {data.design.data.exposure}"
    text = f"{kind} segmented regression of {outcome} (treated units summed) on {' + '.join(terms)}"
    if spec.is_count and spec.has_exposure:
        text += f", offset log({data.design.data.exposure})"
    if spec.controlled:
        text += ("; controlled ITS: treated and control series stacked with group, group x trend "
                 "and the control series' own change at the start; the primary is the treated "
                 "series' change over and above the control's (seasonality shared)")
    return text, notes


def _row(fitted: ItsFit, name: str, *, alpha: float, spec: ModelSpec, method: str) -> dict[str, Any]:
    w = wald(fitted, name, alpha=alpha)
    back = math.exp if spec.is_count else float
    return tidy_row(name, back(w.coef), w.se, back(w.low), back(w.high), w.p_value, method=method,
                    scale="rate_ratio" if spec.is_count else "difference")


def _summary(w: Wald, spec: ModelSpec) -> dict[str, float]:
    back = math.exp if spec.is_count else float
    return {"estimate": back(w.coef), "ci_low": back(w.low), "ci_high": back(w.high),
            "p_value": w.p_value, "std_error": w.se}


def _series_facts(data: PreparedData, frame: pd.DataFrame, *, spec: ModelSpec,
                  t_start: int) -> dict[str, Any]:
    """Counts of units and periods, the start, the model and its seasonal terms."""
    used = frame.loc[~frame["excluded"] & (frame["group"] == TREATED)]
    return {"n_treated": len(data.treated_units), "n_control": len(data.control_units),
            "n_periods": int(used["t"].nunique()), "n_pre_periods": int((used["t"] < t_start).sum()),
            "n_post_periods": int((used["t"] >= t_start).sum()),
            "n_excluded_periods": int(frame.loc[frame["group"] == TREATED, "excluded"].sum()),
            "start": period_json(data.periods[t_start]), "model": spec.model,
            "harmonics": min(spec.harmonics, max_harmonics(spec.frequency))}


def _estimate_separated(data: PreparedData, primary_fit: ItsPrimary, *,
                        with_checks: bool) -> EstimatorOutput:
    """No event in the treated series after the start (`its.separation`): the exact one-sided
    interval, no point estimate; the checks that refit a level change at the start say why they
    cannot run. The recent-rise check uses the pre-period only, so it runs (a series picked
    after a spike and then without events is the case it is for)."""
    frame, spec, t_start = primary_fit.frame, primary_fit.spec, primary_fit.t_start
    alpha, level, inference = data.spec.alpha, primary_fit.level, primary_fit.inference
    fitted = inference.fit
    series, averted_ = separated_output(frame, inference, level, spec=spec, t_start=t_start,
                                        alpha=alpha,
                                        e_post=inference.info["expected_without_intervention"])
    method, notes = describe(data, spec, period_json(data.periods[t_start]))
    high = math.exp(level.high)
    primary: dict[str, Any] = {
        "method": method, "scale": "rate_ratio", "estimate": math.nan, "ci_low": 0.0,
        "ci_high": high, "p_value": level.p_value, "pct_change": math.nan, "std_error": math.nan,
        "confidence": primary_fit.confidence, "alpha": alpha,
        "inference": {**inference.info, "registered": data.spec.inference,
                      "reason": SEPARATION_REASON},
        **_series_facts(data, frame, spec=spec, t_start=t_start),
        "dispersion": fitted.dispersion, "converged": fitted.converged,
        "estimable": False, "one_sided": True,
        "not_estimable": {"code": SEPARATION_CODE, "reason": SEPARATION_REASON},
    }
    if notes:
        primary["notes"] = [n.to_dict() for n in notes]
    short = f"ITS {MODEL_NAMES[spec.model]}, exact conditional"
    rows = [tidy_row("level_change", math.nan, math.nan, 0.0, high, level.p_value,
                     method=short, scale="rate_ratio", reason=SEPARATION_REASON),
            *(_row(fitted, n, alpha=alpha, spec=spec, method=short)
              for n in fitted.names if n != "intercept"),
            tidy_row("averted_total", averted_["estimate"], None, averted_["ci_low"],
                     averted_["ci_high"], None, method=f"{short}; from the rate-ratio interval",
                     scale="count")]
    skipped = {"skip_code": "no_events_after"}
    why = "not run: no events in the treated series after the start"
    checks = tuple(Check(name=name, kind=kind, status="skipped", values=skipped, detail=why)
                   for name, kind in (("placebo_start_dates", "placebo"),
                                      ("seasonality_sensitivity", "seasonality"),
                                      ("influential_periods", "influence")))
    if with_checks:
        checks = (*checks, _recent_rise(data, frame, spec=spec, t_start=t_start, inference=None))
    return EstimatorOutput(primary=primary, estimates=tidy_frame(rows), checks=checks,
                           series=series, extras={"averted": averted_}, fit=fitted)


def validated_series(data: PreparedData, *, separation: bool = False
                     ) -> tuple[pd.DataFrame, ModelSpec, int]:
    """The checked ITS series of `data`, its model spec and the index of the first post period
    (`separation`: a treated series without events after the start is let through)."""
    check_design(data)
    check_panel(data)
    t_start = start_period(data)
    frame = build_series(data)
    check_series(data, frame, t_start, separation=separation)
    return frame, model_spec(data), t_start


@dataclass(frozen=True)
class ItsPrimary:
    """The registered primary ITS fit: the series, its model, the registered inference and the
    level change at the start (estimation scale: log rate ratio, or difference)."""

    frame: pd.DataFrame
    spec: ModelSpec
    t_start: int
    inference: InferenceResult
    level: Wald
    confidence: dict[str, Any] | None  # the rule's confidence (estimators.confidence)

    def covers(self, truth: float) -> bool:
        return bool(self.level.low <= truth <= self.level.high)


def fit_primary(data: PreparedData) -> ItsPrimary:
    """The registered primary estimate (level change, registered inference): one path for the
    analysis and the diagnosis. The rule's confidence comes from the same inference as the
    interval: the block-permutation test (default), or the normal of model-based / HAC errors."""
    separated = separated_series(data)  # no treated event after the start: its.separation
    frame, spec, t_start = validated_series(data, separation=separated)
    if separated:
        inference, level, conf, _ = exact_level(frame, spec=spec, t_start=t_start,
                                                alpha=data.spec.alpha,
                                                min_reduction=data.design.decision.min_reduction)
        return ItsPrimary(frame=frame, spec=spec, t_start=t_start, inference=inference,
                          level=level, confidence=conf)
    used_rows = frame.loc[~frame["excluded"]]
    inference = fit_with_inference(used_rows, spec=spec, t_start=t_start,
                                   requested=data.spec.inference, hac_lags=data.spec.hac_lags)
    level = wald(inference.fit, "level_change", alpha=data.spec.alpha)
    cf_mean = None
    if not spec.is_count:
        post = used_rows.loc[(used_rows["group"] == TREATED) & (used_rows["t"] >= t_start)]
        cf_mean = float(np.mean(linear_predictor(post, inference.fit, spec=spec, t_start=t_start,
                                                 counterfactual=True)[0]))
    thresholds = rule_thresholds(scale="rate_ratio" if spec.is_count else "difference",
                                 min_reduction=data.design.decision.min_reduction,
                                 counterfactual_mean=cf_mean)
    if inference.info["used"] != "placebo_blocks":
        return ItsPrimary(frame=frame, spec=spec, t_start=t_start, inference=inference, level=level,
                          confidence=normal_confidence(level.coef, level.se, thresholds=thresholds))
    block = block_inference(used_rows, inference.fit, spec=spec, t_start=t_start,
                            alpha=data.spec.alpha, thresholds=thresholds)
    inference = replace(inference, info={**inference.info, **block.info()})
    level = Wald(block.coef, block.se, block.low, block.high, block.p_value)
    return ItsPrimary(frame=frame, spec=spec, t_start=t_start, inference=inference, level=level,
                      confidence=block.confidence)


def estimate_its(data: PreparedData, *, with_checks: bool = True) -> EstimatorOutput:
    """Segmented-regression ITS of `data` (design: its); see the module docstring.

    with_checks=False skips the pre-specified checks (placebo starts, recent rise, harmonics,
    influence); simulations use it, registered analyses never do.
    """
    primary_fit = fit_primary(data)
    if primary_fit.level.coef == -math.inf:  # no treated event after the start: its.separation
        return _estimate_separated(data, primary_fit, with_checks=with_checks)
    frame, spec, t_start = primary_fit.frame, primary_fit.spec, primary_fit.t_start
    inference, level = primary_fit.inference, primary_fit.level
    fitted = inference.fit
    alpha = data.spec.alpha
    used_rows = frame.loc[~frame["excluded"]]
    start_label = period_json(data.periods[t_start])
    method, notes = describe(data, spec, start_label)
    short = f"ITS {MODEL_NAMES[spec.model]}, {inference.info['used']} errors"
    scale = "rate_ratio" if spec.is_count else "difference"

    series = series_table(frame, fitted, spec=spec, t_start=t_start, alpha=alpha)
    post_rows = used_rows.loc[(used_rows["group"] == TREATED) & (used_rows["t"] >= t_start)]
    if spec.is_count:
        estimate, low, high = math.exp(level.coef), math.exp(level.low), math.exp(level.high)
        pct = 100 * (estimate - 1)
    else:
        estimate, low, high = level.coef, level.low, level.high
        cf, _ = linear_predictor(post_rows, fitted, spec=spec, t_start=t_start, counterfactual=True)
        pct = 100 * level.coef / float(np.mean(cf)) if float(np.mean(cf)) != 0 else None
    primary: dict[str, Any] = {
        "method": method, "scale": scale, "estimate": estimate, "ci_low": low, "ci_high": high,
        "p_value": level.p_value, "pct_change": pct, "std_error": level.se,
        "confidence": primary_fit.confidence, "alpha": alpha, "inference": inference.info,
        **_series_facts(data, frame, spec=spec, t_start=t_start),
        "dispersion": fitted.dispersion if spec.is_count else None,
    }
    primary["minimum_detectable"] = minimum_detectable(level.se, alpha=alpha, scale=scale,
                                                       df=inference.info.get("df"))
    if spec.model == "negative_binomial":
        primary["nb_alpha"] = fitted.nb_alpha
    primary["converged"] = fitted.converged
    if not fitted.converged:
        notes.append(note("fit_not_converged", model=spec.model))
    if spec.model == "linear":
        primary["residual_variance"] = fitted.resid_scale
        primary["pct_change_basis"] = "level change / mean counterfactual over the post period"
    if notes:
        primary["notes"] = [n.to_dict() for n in notes]

    rows = [tidy_row("level_change", estimate, level.se, low, high, level.p_value,
                     method=short, scale=scale)]
    if spec.slope_change:
        slope = wald(fitted, "slope_change", alpha=alpha)
        primary["slope_change"] = _summary(slope, spec)
        rows.append(_row(fitted, "slope_change", alpha=alpha, spec=spec, method=short))
    rest = [n for n in fitted.names if n not in ("intercept", "level_change", "slope_change")]
    rows += [_row(fitted, n, alpha=alpha, spec=spec, method=short) for n in rest]

    extras: dict[str, Any] = {}
    if spec.controlled:
        change = {"level": _summary(wald(fitted, "control_level_change", alpha=alpha), spec)}
        if spec.slope_change:
            change["slope"] = _summary(wald(fitted, "control_slope_change", alpha=alpha), spec)
        change["meaning"] = ("the control series' own change at the start (common shocks); the "
                             "primary is the treated series' change over and above it")
        primary["control_change"] = change
        extras["control_change"] = change
    extras["averted"] = averted(used_rows, fitted, spec=spec, t_start=t_start, alpha=alpha,
                                seed=data.spec.seed)
    a = extras["averted"]
    rows.append(tidy_row("averted_total", a["estimate"], None, a["ci_low"], a["ci_high"], None,
                         method=f"{short}; prediction interval", scale="count"))

    checks = ()
    if with_checks:
        choice = fitted.cov_choice
        checks = (
            placebo_starts(used_rows, spec=spec, t_start=t_start, choice=choice, alpha=alpha,
                           periods=data.periods, blocks=inference.info["used"] == "placebo_blocks",
                           nb_alpha=fitted.nb_alpha if spec.model == "negative_binomial" else None),
            _recent_rise(data, frame, spec=spec, t_start=t_start, inference=inference),
            harmonics_sensitivity(used_rows, spec=spec, t_start=t_start, choice=choice,
                                  alpha=alpha, primary=level),
            residual_autocorrelation(inference.tests, inference_used=inference.info["used"]),
            influential_periods(used_rows, spec=spec, t_start=t_start, choice=choice, alpha=alpha,
                                primary=level, periods=data.periods, fitted=fitted),
        )
    if inference.info["used"] == "placebo_blocks":
        checks = (*checks, inference_validity(primary))
    return EstimatorOutput(primary=primary, estimates=tidy_frame(rows), checks=checks,
                           series=series, extras=extras, fit=fitted)


def _recent_rise(data: PreparedData, frame: pd.DataFrame, *, spec: ModelSpec, t_start: int,
                 inference: InferenceResult | None) -> Check:
    """The recent-rise check (`its.recent_rise`) with the primary's inference; `inference` None:
    separation after the start, the registered inference as `fit_with_inference` would pick it."""
    used_rows = frame.loc[~frame["excluded"]]
    if inference is None:
        blocks, choice = registered_choice(data.spec.inference, hac_lags=data.spec.hac_lags,
                                           n_periods=int(used_rows["t"].nunique()))
    else:
        blocks, choice = inference.info["used"] == "placebo_blocks", inference.fit.cov_choice
    return recent_rise_check(used_rows, spec=spec, t_start=t_start, choice=choice, blocks=blocks,
                             alpha=data.spec.alpha,
                             window=defaults.RECENT_RISE_PERIODS[data.frequency],
                             periods=data.periods)


def check_recent_rise(data: PreparedData) -> Check:
    """The recent-rise check alone, on the series and with the inference `estimate_its` gives it
    (for tests and calibration: without the primary's interval search). Not `recent_rise` as in
    the DiD: that name is the check's module here."""
    separated = separated_series(data)
    frame, spec, t_start = validated_series(data, separation=separated)
    inference = None
    if not separated:
        inference = fit_with_inference(frame.loc[~frame["excluded"]], spec=spec, t_start=t_start,
                                       requested=data.spec.inference, hac_lags=data.spec.hac_lags)
    return _recent_rise(data, frame, spec=spec, t_start=t_start, inference=inference)
