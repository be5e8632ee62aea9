"""The primary DiD estimate and its inference: one path for the analysis and the diagnosis.

`fit_primary(data)` validates the data, chooses the estimator (TWFE, or a heterogeneity-robust one
for staggered starts) and the inference (randomization, cluster, model, wild bootstrap), and
returns the estimate with its p-value and interval on the estimation scale (log rate ratio for
counts, difference for linear). `estimate_did` adds checks and series around it; the diagnosis
calls it with `interval=False` and asks `covers(truth)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.errors import AnalysisError
from evaluation.estimators.confidence import (
    confidence,
    normal_confidence,
    rule_thresholds,
)
from evaluation.estimators.did.before_start import fit_before_start
from evaluation.estimators.did.model_input import model_rows, validate
from evaluation.estimators.did.randomization import (
    RandomizationResult,
    ScoreTable,
    make_assignments,
    null_residuals,
    p_value_at,
    randomization_inference,
)
from evaluation.estimators.did.separation import (
    exact_summary,
    exact_summary_before,
    overdispersed,
    separated_before,
    treated_totals,
)
from evaluation.estimators.did.staggered import fit_staggered, resolve_estimator
from evaluation.estimators.did.staggered_common import StaggeredFit
from evaluation.estimators.did.twfe import TwfeFit, fit_twfe, treated_post_events
from evaluation.estimators.did.wild_bootstrap import wild_cluster_bootstrap
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import is_count, scale_of, wald, z_value
from evaluation.notes import Note


@dataclass(frozen=True)
class DidPrimary:
    """The registered primary DiD fit. `summary`: beta, std_error, ci_low, ci_high (estimation
    scale), p_value and inference details; `twfe` is None when a staggered estimator was fitted
    without the TWFE fit beside it."""

    data: PreparedData
    ri_frame: pd.DataFrame  # model rows for randomization inference (all-zero units kept)
    frame: pd.DataFrame  # model rows for the fits
    notes: tuple[Note, ...]
    used: str
    reason: str
    estimator: str
    estimator_reason: str
    treated: dict[str, int]  # treated unit -> first treated t
    twfe: TwfeFit | None
    staggered: StaggeredFit | None
    summary: dict[str, Any]

    def covers(self, truth: float) -> bool:
        """Whether the registered inference covers `truth` (estimation scale). For randomization
        inference: the sharp null at the truth is not rejected, which is exactly 'the
        test-inversion interval contains the truth', without inverting the test."""
        if self.used == "randomization":
            return randomization_p_value(self, beta0=truth) > self.data.spec.alpha
        low, high = self.summary["ci_low"], self.summary["ci_high"]
        return bool(low <= truth <= high)


def treated_cohorts(data: PreparedData) -> dict[str, int]:
    """Treated unit -> the index t of its first treated period."""
    rows = data.panel.loc[data.panel["treated_unit"], ["unit", "cohort"]].drop_duplicates()
    return {str(u): int(c) for u, c in rows.itertuples(index=False)}


def fit_primary(data: PreparedData, *, interval: bool = True) -> DidPrimary:
    """The registered primary estimate with its inference (see the module docstring)."""
    spec = data.spec
    validate(data)
    ri_frame, frame, notes = model_rows(data)
    used, reason = choose_inference(data)
    estimator, estimator_reason = resolve_estimator(data)
    treated = treated_cohorts(data)
    count = is_count(spec.model)
    before = count and separated_before(frame.loc[frame["treated_unit"]])
    if estimator != "twfe" and count and (before or treated_post_events(frame) == 0):
        # separation with staggered starts: a heterogeneity-robust estimate is log(0) (or
        # log(inf)) too; the exact conditional bound (did.separation) works per unit, whatever
        # its start
        estimator, estimator_reason = "twfe", (
            f"no events in the treated units {'before' if before else 'after'} their starts: the "
            "exact conditional interval (given each unit's total) replaces the staggered "
            "estimator, which has no estimate here")
    twfe, staggered = None, None
    if estimator == "twfe" and before:
        twfe, totals = fit_before_start(frame, treated=treated, model=spec.model,
                                        design=data.design.id)
        summary = _infer_separated(ri_frame, fit=twfe, treated=treated, used=used, data=data,
                                   totals=totals)
    elif estimator == "twfe":
        twfe = fit_twfe(frame, model=spec.model)
        summary = infer(ri_frame, fit=twfe, treated=treated, used=used, data=data,
                        interval=interval)
    else:
        staggered = _fit_staggered(data, estimator=estimator)
        summary = _staggered_summary(staggered, frame=ri_frame, treated=treated, used=used,
                                     data=data, interval=interval)
    return DidPrimary(data=data, ri_frame=ri_frame, frame=frame, notes=tuple(notes), used=used,
                      reason=reason, estimator=estimator, estimator_reason=estimator_reason,
                      treated=treated, twfe=twfe, staggered=staggered, summary=summary)


def randomization_p_value(fit: DidPrimary, *, beta0: float) -> float:
    """The design's randomization p-value of the sharp null `effect = beta0`."""
    spec, frame = fit.data.spec, fit.ri_frame
    unit_names = tuple(dict.fromkeys(frame["unit"]))
    assignments = make_assignments(unit_names=unit_names, treated=fit.treated,
                                   draws=spec.randomization_draws, seed=spec.seed)
    residuals_at = null_residuals(frame, model=spec.model)

    def table_of(resid: np.ndarray, var: np.ndarray) -> ScoreTable:
        return ScoreTable(frame, unit_names, resid, var, fit.data.n_periods)

    return p_value_at(residuals_at, table_of, assignments, beta0)[0]


def choose_inference(data: PreparedData, *, n_treated: int | None = None) -> tuple[str, str]:
    """The inference method to use and a plain sentence saying why."""
    spec = data.spec
    n = len(data.treated_units) if n_treated is None else n_treated
    if spec.inference in ("hac", "placebo_blocks"):
        raise AnalysisError(f"analysis.inference: `{spec.inference}` is for interrupted time "
                            "series; a did design uses auto, randomization, cluster, "
                            "wild_bootstrap or model")
    if spec.inference == "wild_bootstrap" and spec.model != "linear":
        raise AnalysisError(f"analysis.inference: wild_bootstrap needs model: linear (this design "
                            f"has model: {spec.model}); use randomization for count models")
    if spec.inference == "auto":
        if n < defaults.RI_MIN_CLUSTERS:
            return "randomization", (
                f"{n} treated unit(s), fewer than {defaults.RI_MIN_CLUSTERS}: cluster-robust "
                "errors reject a true null too often with so few treated clusters, so the "
                "p-value and interval come from re-assigning the treatment to other units")
        return "cluster", (f"{n} treated units: cluster-robust (CRV1) errors clustered by unit")
    reasons = {
        "randomization": "randomization inference, as registered in the design",
        "cluster": "cluster-robust (CRV1) errors clustered by unit, as registered in the design",
        "model": "model-based errors, as registered in the design",
        "wild_bootstrap": "restricted wild cluster bootstrap (Webb weights), as registered",
    }
    return spec.inference, reasons[spec.inference]


def thresholds_of(data: PreparedData, frame: pd.DataFrame, beta: float) -> dict[str, float | None]:
    """The effects at which the rule needs the confidence (see estimators.confidence); for a
    linear outcome the minimum reduction is relative to the treated cells' counterfactual mean,
    mean(y) - beta over those cells (least-squares residuals sum to zero over them)."""
    cf_mean = None
    if not is_count(data.spec.model) and math.isfinite(beta):
        cf_mean = float(frame.loc[frame["d"] == 1, "y"].mean()) - beta
    return rule_thresholds(scale=scale_of(data.spec.model),
                           min_reduction=data.design.decision.min_reduction,
                           counterfactual_mean=cf_mean)


def ri_confidence(ri: RandomizationResult, thresholds: dict[str, float | None]) -> dict[str, Any]:
    """The rule's confidence from the randomization tests at its thresholds."""
    tests = ri.at_thresholds
    return confidence({k: t.below for k, t in tests.items()}, method="randomization",
                      thresholds=thresholds,
                      mcse=None if ri.exact else {k: t.below_mcse for k, t in tests.items()})


def infer(frame: pd.DataFrame, *, fit: TwfeFit, treated: dict[str, int], used: str,
          data: PreparedData, interval: bool = True) -> dict[str, Any]:
    """beta, std_error, ci_low, ci_high (coefficient scale), p_value, the rule's confidence
    and inference details."""
    spec = data.spec
    beta = fit.beta
    se = fit.se_model if used == "model" else fit.se_cluster
    out: dict[str, Any] = {"beta": beta, "std_error": se, "details": {}}
    if fit.separated:
        return _infer_separated(frame, fit=fit, treated=treated, used=used, data=data)
    thresholds = thresholds_of(data, frame, beta)
    if used in ("model", "cluster"):
        lo, hi, p = wald(beta, se, spec.alpha)
        out.update(ci_low=lo, ci_high=hi, p_value=p,
                   confidence=normal_confidence(beta, se, thresholds=thresholds))
        return out
    if used == "wild_bootstrap":
        boot = wild_cluster_bootstrap(frame, draws=spec.randomization_draws, seed=spec.seed,
                                      alpha=spec.alpha, thresholds=thresholds)
        out.update(ci_low=boot.ci_low, ci_high=boot.ci_high, p_value=boot.p_value,
                   details=boot.as_dict(), confidence=boot.confidence)
        return _interval_std_error(out, spec.alpha) if interval else out
    ri = randomization_inference(frame, model=spec.model, treated=treated, beta_hat=beta,
                                 se_hint=_search_scale(fit), draws=spec.randomization_draws,
                                 seed=spec.seed, alpha=spec.alpha, n_periods=data.n_periods,
                                 interval=interval, thresholds=thresholds)
    out.update(ci_low=ri.ci_low, ci_high=ri.ci_high, p_value=ri.p_value, details=ri.as_dict(),
               confidence=ri_confidence(ri, thresholds))
    return _interval_std_error(out, spec.alpha) if interval else out


def _infer_separated(frame: pd.DataFrame, *, fit: TwfeFit, treated: dict[str, int], used: str,
                     data: PreparedData, totals: pd.DataFrame | None = None) -> dict[str, Any]:
    """No event in the treated units after the start (beta -inf) or before it (beta +inf, with
    the comparison units' `totals`; see `did.separation`): no point estimate, the one-sided exact
    conditional interval given each treated unit's total ([0, RR_high] or [RR_low, inf)), and
    its exact p-value and confidence; with randomization inference the p-value and the
    confidence are the randomization test's (valid whatever the outcome). Overdispersed models
    count n / dispersion events (`did.separation.overdispersed`)."""
    spec = data.spec
    before = fit.separated_before
    post = fit.frame["d"].to_numpy() == 1
    expected = math.nan if before else float(fit.counterfactual()[post].sum())
    thresholds = thresholds_of(data, frame, math.inf if before else -math.inf)
    if totals is None:
        totals = treated_totals(fit.frame, fit.counterfactual(), set(treated))
    totals = overdispersed(totals, model=spec.model, dispersion=fit.dispersion)
    exact = (exact_summary_before if before else exact_summary)(totals, alpha=spec.alpha,
                                                                  thresholds=thresholds)
    p_value, details, conf = exact["p_value"], {}, exact["confidence"]
    if used == "randomization":
        ri = randomization_inference(frame, model=spec.model, treated=treated, beta_hat=0.0,
                                     se_hint=1.0, draws=spec.randomization_draws,
                                     seed=spec.seed, alpha=spec.alpha,
                                     n_periods=data.n_periods, interval=False,
                                     thresholds=thresholds)
        p_value, details, conf = ri.p_value, ri.as_dict(), ri_confidence(ri, thresholds)
    side = "lower" if before else "upper"
    details = {**details, "separated": True, "separated_before": before,
               "expected_without_intervention": expected,
               "interval": f"exact conditional (binomial given each treated unit's total events) "
                           f"{side} limit; one-sided: no events in the treated units "
                           f"{'before' if before else 'after'} the start",
               "p_value_method": "randomization" if used == "randomization" else "exact_conditional"}
    return {"beta": fit.beta, "std_error": math.nan, "ci_low": exact["ci_low"],
            "ci_high": exact["ci_high"], "p_value": p_value, "details": details,
            "confidence": conf}


def _interval_std_error(out: dict[str, Any], alpha: float) -> dict[str, Any]:
    """For randomization and bootstrap inference the reported standard error is the one the
    interval implies, (high - low) / (2 z), not the cluster-robust error it replaces."""
    z = z_value(alpha)
    width = out["ci_high"] - out["ci_low"]
    out["std_error"] = width / (2 * z) if math.isfinite(width) else math.nan
    out["details"] = {**out["details"], "std_error": "implied by the interval: (high - low) / (2 z)"}
    return out


def _staggered_summary(fit: StaggeredFit, *, frame: pd.DataFrame, treated: dict[str, int],
                       used: str, data: PreparedData, interval: bool = True) -> dict[str, Any]:
    """The staggered estimate with the design's inference: analytic errors, or the
    randomization test (a test of the sharp null, valid whatever the estimator) around it."""
    out: dict[str, Any] = {"beta": fit.estimate, "std_error": fit.std_error, "details": {}}
    if used == "wild_bootstrap":
        raise AnalysisError("analysis.inference: wild_bootstrap is implemented for the plain "
                            "linear TWFE estimator; with staggered starts use randomization")
    thresholds = thresholds_of(data, frame, fit.estimate)
    if used in ("model", "cluster"):
        out.update(ci_low=fit.ci_low, ci_high=fit.ci_high, p_value=fit.p_value,
                   confidence=normal_confidence(fit.estimate, fit.std_error,
                                                thresholds=thresholds))
        return out
    spec = data.spec
    ri = randomization_inference(frame, model=spec.model, treated=treated, beta_hat=fit.estimate,
                                 se_hint=fit.std_error, draws=spec.randomization_draws,
                                 seed=spec.seed, alpha=spec.alpha, n_periods=data.n_periods,
                                 interval=interval, thresholds=thresholds)
    out.update(ci_low=ri.ci_low, ci_high=ri.ci_high, p_value=ri.p_value, details=ri.as_dict(),
               confidence=ri_confidence(ri, thresholds))
    return _interval_std_error(out, spec.alpha) if interval else out


def _search_scale(fit: TwfeFit) -> float:
    """A scale for the randomization interval search: the model-based error, widened by the
    Pearson dispersion for count models (randomization intervals are wider under
    overdispersion, and a scale close to the width saves refits)."""
    if is_count(fit.model) and fit.dispersion is not None and fit.model != "quasi_poisson":
        return fit.se_model * math.sqrt(max(fit.dispersion, 1.0))
    return fit.se_model


def _fit_staggered(data: PreparedData, *, estimator: str) -> StaggeredFit:
    return fit_staggered(data, estimator=estimator, control_group=data.spec.control_group)
