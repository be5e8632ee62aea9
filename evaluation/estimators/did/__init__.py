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
from evaluation.errors import AnalysisError
from evaluation.estimators.did import checks as did_checks
from evaluation.estimators.did.event_study import event_study
from evaluation.estimators.did.randomization import randomization_inference
from evaluation.estimators.did.staggered import fit_staggered, resolve_estimator
from evaluation.estimators.did.staggered_common import StaggeredFit
from evaluation.estimators.did.twfe import (
    TwfeFit,
    drop_all_zero_units,
    fit_twfe,
    model_rows,
    validate,
)
from evaluation.estimators.did.wild_bootstrap import wild_cluster_bootstrap
from evaluation.estimators.output import EstimatorOutput, tidy_frame, tidy_row
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import is_count, to_scale, wald, z_value

__all__ = ["estimate_did", "infer", "model_rows", "validate"]


def estimate_did(data: PreparedData, *, neighbours: pd.DataFrame | None = None) -> EstimatorOutput:
    """Estimate the registered DiD design on prepared data (see the module docstring)."""
    spec = data.spec
    validate(data)
    ri_frame, frame, notes = model_rows(data)
    used, reason = choose_inference(data)
    estimator, estimator_reason = resolve_estimator(data)
    treated = {u: int(c) for u, c in data.panel.loc[data.panel["treated_unit"], ["unit", "cohort"]]
               .drop_duplicates().itertuples(index=False)}

    twfe = fit_twfe(frame, model=spec.model)
    twfe_summary = infer(ri_frame, fit=twfe, treated=treated, used=used, data=data)
    staggered = None
    if estimator == "twfe":
        summary = twfe_summary
        method = _method(data, twfe)
    else:
        staggered = _fit_staggered(data, estimator=estimator)
        summary = _staggered_summary(staggered, frame=ri_frame, treated=treated, used=used,
                                     data=data)
        method = staggered.method
    scale = twfe.scale

    primary = _primary(data, twfe=twfe, summary=summary, method=method, scale=scale, used=used,
                       reason=reason, estimator=estimator, estimator_reason=estimator_reason,
                       treated=treated)
    if staggered is not None:
        primary["twfe"] = _presented(twfe_summary, scale=scale)
        primary["twfe"]["method"] = _method(data, twfe)
    primary["notes"] = [*notes, *(staggered.notes if staggered is not None else ())]

    rows = [tidy_row("treatment", primary["estimate"], primary["std_error"], primary["ci_low"],
                     primary["ci_high"], primary["p_value"], method=method, scale=scale)]
    if staggered is not None:
        rows.append(tidy_row("twfe", *_row_values(twfe_summary, scale), method=_method(data, twfe),
                             scale=scale))
        rows.extend(r for r in staggered.rows if r["term"] != "treatment")

    event_table, event_check = event_study(data)
    if event_table is not None and len(event_table):
        for rec in event_table.itertuples(index=False):
            rows.append(tidy_row(f"event_time_{int(rec.event_time)}", rec.estimate, rec.std_error,
                                 rec.ci_low, rec.ci_high, getattr(rec, "p_value", None),
                                 method="event study", scale=rec.scale))

    estimate_subset = partial(_estimate_subset, data)
    check_list = [event_check,
                  did_checks.placebo_check(frame, treated=treated, estimate=estimate_subset,
                                           alpha=spec.alpha, scale=scale),
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
                           series=series, event_study=event_table, extras=extras)


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


# --- inference ----------------------------------------------------------------------------------
def choose_inference(data: PreparedData, *, n_treated: int | None = None) -> tuple[str, str]:
    """The inference method to use and a plain sentence saying why."""
    spec = data.spec
    n = len(data.treated_units) if n_treated is None else n_treated
    if spec.inference == "hac":
        raise AnalysisError("analysis.inference: `hac` is for interrupted time series; a did "
                            "design uses auto, randomization, cluster, wild_bootstrap or model")
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


def infer(frame: pd.DataFrame, *, fit: TwfeFit, treated: dict[str, int], used: str,
          data: PreparedData, interval: bool = True) -> dict[str, Any]:
    """beta, std_error, ci_low, ci_high (coefficient scale), p_value and inference details."""
    spec = data.spec
    beta = fit.beta
    se = fit.se_model if used == "model" else fit.se_cluster
    out: dict[str, Any] = {"beta": beta, "std_error": se, "details": {}}
    if fit.separated:
        return _infer_separated(frame, fit=fit, treated=treated, used=used, data=data)
    if used in ("model", "cluster"):
        lo, hi, p = wald(beta, se, spec.alpha)
        out.update(ci_low=lo, ci_high=hi, p_value=p)
        return out
    if used == "wild_bootstrap":
        boot = wild_cluster_bootstrap(frame, draws=spec.randomization_draws, seed=spec.seed,
                                      alpha=spec.alpha)
        out.update(ci_low=boot.ci_low, ci_high=boot.ci_high, p_value=boot.p_value,
                   details=boot.as_dict())
        return _interval_std_error(out, spec.alpha) if interval else out
    ri = randomization_inference(frame, model=spec.model, treated=treated, beta_hat=beta,
                                 se_hint=_search_scale(fit), draws=spec.randomization_draws,
                                 seed=spec.seed, alpha=spec.alpha, n_periods=data.n_periods,
                                 interval=interval)
    out.update(ci_low=ri.ci_low, ci_high=ri.ci_high, p_value=ri.p_value, details=ri.as_dict())
    return _interval_std_error(out, spec.alpha) if interval else out


def _infer_separated(frame: pd.DataFrame, *, fit: TwfeFit, treated: dict[str, int], used: str,
                     data: PreparedData) -> dict[str, Any]:
    """No event in the treated units after the start: rate ratio 0 (log: -inf).

    Lower limit 0; upper limit the exact Poisson bound given the fitted counterfactual E (the
    expected number of events without the intervention): RR_high = ln(2 / alpha) / E, so that
    observing 0 has probability alpha/2 at RR_high. It ignores the uncertainty of E. The
    p-value is the randomization test's when that is the inference used, else undefined.
    """
    spec = data.spec
    post = fit.frame["d"].to_numpy() == 1
    expected = float(fit.counterfactual()[post].sum())
    high = math.log(math.log(2 / spec.alpha) / expected) if expected > 0 else math.inf
    p_value, details = math.nan, {}
    if used == "randomization":
        ri = randomization_inference(frame, model=spec.model, treated=treated, beta_hat=0.0,
                                     se_hint=1.0, draws=spec.randomization_draws,
                                     seed=spec.seed, alpha=spec.alpha,
                                     n_periods=data.n_periods, interval=False)
        p_value, details = ri.p_value, ri.as_dict()
    details = {**details, "separated": True, "expected_without_intervention": expected,
               "interval": "exact Poisson upper limit given the fitted counterfactual; "
                           "no events in the treated units after the start"}
    return {"beta": -math.inf, "std_error": math.nan, "ci_low": -math.inf, "ci_high": high,
            "p_value": p_value, "details": details}


def _interval_std_error(out: dict[str, Any], alpha: float) -> dict[str, Any]:
    """For randomization and bootstrap inference the reported standard error is the one the
    interval implies, (high - low) / (2 z), not the cluster-robust error it replaces."""
    z = z_value(alpha)
    width = out["ci_high"] - out["ci_low"]
    out["std_error"] = width / (2 * z) if math.isfinite(width) else math.nan
    out["details"] = {**out["details"], "std_error": "implied by the interval: (high - low) / (2 z)"}
    return out



# --- staggered starts ---------------------------------------------------------------------------
def _fit_staggered(data: PreparedData, *, estimator: str) -> StaggeredFit:
    return fit_staggered(data, estimator=estimator, control_group=data.spec.control_group)


def _staggered_summary(fit, *, frame: pd.DataFrame, treated: dict[str, int], used: str,
                       data: PreparedData) -> dict[str, Any]:
    """The staggered estimate with the design's inference: analytic errors, or the
    randomization test (a test of the sharp null, valid whatever the estimator) around it."""
    out: dict[str, Any] = {"beta": fit.estimate, "std_error": fit.std_error, "details": {}}
    if used == "wild_bootstrap":
        raise AnalysisError("analysis.inference: wild_bootstrap is implemented for the plain "
                            "linear TWFE estimator; with staggered starts use randomization")
    if used in ("model", "cluster"):
        out.update(ci_low=fit.ci_low, ci_high=fit.ci_high, p_value=fit.p_value)
        return out
    spec = data.spec
    ri = randomization_inference(frame, model=spec.model, treated=treated, beta_hat=fit.estimate,
                                 se_hint=fit.std_error, draws=spec.randomization_draws,
                                 seed=spec.seed, alpha=spec.alpha, n_periods=data.n_periods)
    out.update(ci_low=ri.ci_low, ci_high=ri.ci_high, p_value=ri.p_value, details=ri.as_dict())
    return _interval_std_error(out, spec.alpha)




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
        pct = 100.0 * (shown["estimate"] - 1.0)
    else:
        post = twfe.frame["d"].to_numpy() == 1
        cf_mean = float(np.mean(twfe.counterfactual(summary["beta"])[post]))
        pct = 100.0 * shown["estimate"] / cf_mean if cf_mean != 0 else math.nan
    inference = {"used": used, "reason": reason, "draws": None, "exact": False,
                 **summary["details"]}
    primary: dict[str, Any] = {
        "method": method, "scale": scale, **shown, "pct_change": pct,
        "inference": inference,
        "n_treated": len(treated),
        "n_control": int(twfe.frame.loc[~twfe.frame["unit"].isin(treated), "unit"].nunique()),
        "n_periods": data.n_periods, "estimator": estimator,
        "estimator_reason": estimator_reason, "model": data.spec.model,
    }
    if twfe.dispersion is not None:
        primary["dispersion"] = twfe.dispersion
    if twfe.nb_alpha is not None:
        primary["nb_alpha"] = twfe.nb_alpha
    return primary


def _series(data: PreparedData, fit: TwfeFit, summary: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """Observed, fitted and counterfactual sums per period and group, and the averted count.

    The counterfactual is the TWFE fit with the treatment effect set to 0; its band uses the
    ends of the effect's interval, holding the fitted unit and period effects fixed.
    """
    frame = fit.frame
    lo_b, hi_b = summary["ci_low"], summary["ci_high"]
    cf = fit.counterfactual() if fit.separated else fit.counterfactual(summary["beta"])
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
    if fit.separated:  # nothing observed: averted = E (1 - RR) over the interval of RR
        expected = float(cf[post].sum())
        averted_ends = sorted(expected * (1 - to_scale(b, "rate_ratio")) for b in (lo_b, hi_b))
    else:
        averted_ends = sorted(float(e[post].sum()) - observed_post for e in ends)
    averted = {"estimate": float(cf[post].sum()) - observed_post,
               "ci_low": averted_ends[0], "ci_high": averted_ends[1],
               "observed": observed_post, "counterfactual": float(cf[post].sum())}
    return series, averted


def _search_scale(fit: TwfeFit) -> float:
    """A scale for the randomization interval search: the model-based error, widened by the
    Pearson dispersion for count models (randomization intervals are wider under
    overdispersion, and a scale close to the width saves refits)."""
    if is_count(fit.model) and fit.dispersion is not None and fit.model != "quasi_poisson":
        return fit.se_model * math.sqrt(max(fit.dispersion, 1.0))
    return fit.se_model
