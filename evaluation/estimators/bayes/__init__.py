"""Bayesian analysis (`analysis.bayesian: true`): fit, summarise, check reliability and priors.

`fit_bayesian(data)` builds the DiD or ITS model, samples it (deterministic for the design seed),
and returns a `BayesianOutput` whose `summary` goes into result.json["bayesian"] and whose
`idata` is saved as analyses/<id>/posterior.nc.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from evaluation import defaults
from evaluation.estimators.bayes import diagnostics
from evaluation.estimators.bayes.base import ModelBundle
from evaluation.estimators.bayes.sensitivity import effect_summary, hdi
from evaluation.estimators.bayes.sensitivity import prior_sensitivity as prior_sensitivity_of
from evaluation.estimators.output import EstimatorOutput
from evaluation.estimators.prepared import PreparedData
from evaluation.files import clean
from evaluation.notes import note
from evaluation.progress import stage

__all__ = ["BayesianOutput", "fit_bayesian", "save_posterior"]


@dataclass(frozen=True)
class BayesianOutput:
    summary: dict[str, Any]  # JSON-ready: result.json["bayesian"]
    idata: az.InferenceData  # posterior (+ averted draws): analyses/<id>/posterior.nc


def _build(data: PreparedData, *, log_rr_sd: float, deviations: bool = True) -> ModelBundle:
    if data.design.design == "did":
        from evaluation.estimators.bayes.did_model import build_did

        return build_did(data, log_rr_sd=log_rr_sd, deviations=deviations)
    from evaluation.estimators.bayes.its_model import build_its

    return build_its(data, log_rr_sd=log_rr_sd, deviations=deviations)


def fit_bayesian(data: PreparedData, *, frequentist: EstimatorOutput | None = None,
                 chains: int | None = None, draws: int | None = None, tune: int | None = None,
                 target_accept: float | None = None, sampler: str | None = None,
                 prior_sensitivity: bool = True, deviations: bool = True) -> BayesianOutput:
    """Fit the design's Bayesian model; the keyword overrides exist for tests and benchmarks
    (`deviations=False`: the model without persistent deviations, for the calibration's
    comparison)."""
    sampler_used = diagnostics.sampler_name(sampler or defaults.BAYES_SAMPLER)
    settings = {
        "chains": chains or defaults.BAYES_CHAINS,
        "draws": draws or defaults.BAYES_DRAWS[data.design.design],
        "tune": defaults.BAYES_TUNE[sampler_used] if tune is None else tune,
        "target_accept": target_accept or defaults.BAYES_TARGET_ACCEPT[data.design.design],
        "seed": data.spec.seed,
    }
    min_reduction = data.design.decision.min_reduction
    hdi_prob = 1.0 - data.spec.alpha  # the design's alpha sets every interval, the HDI too
    log_rr_sd = defaults.PRIOR_LOG_RR_SD
    bundle = _build(data, log_rr_sd=log_rr_sd, deviations=deviations)
    try:
        stage(f"compiling the Bayesian model ({sampler_used})")
        handle = diagnostics.compile_model(bundle.model, sampler=sampler_used)
        stage(f"sampling {settings['chains']} chains x {settings['tune'] + settings['draws']} "
              "iterations")
        idata = diagnostics.sample(handle, log_rr_sd=log_rr_sd, **settings)
    finally:
        stage(None)  # the bar's own description again (the next design's, under --all)
    posterior = idata.posterior
    effect = effect_summary(bundle.effect_draws(posterior), min_reduction=min_reduction,
                             hdi_prob=hdi_prob)

    rng = np.random.default_rng(data.spec.seed)
    averted = bundle.averted_draws(posterior, rng)
    averted_low, averted_high = hdi(averted, hdi_prob)
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    idata.add_groups(posterior_predictive=xr.Dataset(
        {"averted": (("chain", "draw"), averted.reshape(n_chains, n_draws))},
        coords={"chain": posterior["chain"].values, "draw": posterior["draw"].values}))

    for group in idata.groups():
        # creation timestamps would make equal fits differ; the summary records the software
        dataset = getattr(idata, group)
        dataset.attrs = {k: v for k, v in dataset.attrs.items() if k != "created_at"}
    free = [rv.name for rv in bundle.model.free_RVs]
    diag = diagnostics.diagnose(idata, var_names=free)
    reliable, reason, advice = diagnostics.reliability(diag, chains=settings["chains"])

    summary: dict[str, Any] = {
        "model": bundle.description,
        "priors": bundle.priors,
        "scale": bundle.scale,
        **effect,
        "hdi_prob": hdi_prob,
        "min_reduction": min_reduction,
        "averted": {"median": float(np.median(averted)), "hdi_low": averted_low,
                    "hdi_high": averted_high,
                    "definition": "counterfactual minus observed count, treated units, post "
                                  "period, from the posterior predictive"},
        "diagnostics": diag,
        "reliable": reliable,
        "reliability_reason": reason,
        "advice": advice,
    }
    if bundle.scale == "difference":
        diff = posterior[bundle.extras["difference_var"]].values.ravel()
        low, high = hdi(diff, hdi_prob)
        summary["difference"] = {"median": float(np.median(diff)), "hdi_low": low, "hdi_high": high,
                                 "note": "rr_* is the observed over the counterfactual mean of "
                                         "treated post rows implied by this difference"}
    if prior_sensitivity:
        summary["prior_sensitivity"] = prior_sensitivity_of(
            data, bundle, posterior, effect,
            refit=lambda sd: diagnostics.sample(handle, log_rr_sd=sd, **settings).posterior)
    else:
        summary["prior_sensitivity"] = {"status": "skipped"}
    sens = summary["prior_sensitivity"]
    if sens["status"] != "skipped":
        # the orchestrator turns this into a (non-blocking) check of result.json
        summary["prior_sensitivity_check"] = {
            "status": sens["status"], "detail": sens["detail"],
            "values": {f"rr_median_x{r['factor']:g}": r["rr_median"] for r in sens["alternatives"]}}
    summary["prior_predictive"] = _prior_predictive(bundle, rng)
    # the reliability figures also at the top level, under the names the decision rule cites
    summary.update({key: summary["diagnostics"][key]
                    for key in ("r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences")})
    if frequentist is not None:
        summary["frequentist"] = {k: frequentist.primary.get(k)
                                  for k in ("method", "estimate", "ci_low", "ci_high")}
    summary.update({
        "sampler": {"name": sampler_used, "version": diagnostics.sampler_version(sampler_used)},
        "chains": settings["chains"], "draws": settings["draws"], "tune": settings["tune"],
        "target_accept": settings["target_accept"], "seed": settings["seed"],
    })
    summary.update({k: v for k, v in bundle.extras.items() if k != "difference_var"})
    if data.covariates:
        summary["notes"] = [note("bayes_covariates_unused", covariates=data.covariates).to_dict()]
    return BayesianOutput(summary=clean(summary), idata=idata)


def _prior_predictive(bundle: ModelBundle, rng: np.random.Generator) -> dict[str, Any]:
    sims = bundle.prior_predictive(rng, defaults.PRIOR_PREDICTIVE_DRAWS)
    q = float(np.quantile(sims, defaults.PRIOR_PREDICTIVE_QUANTILE))
    limit = defaults.PRIOR_PREDICTIVE_MAX_MULTIPLE * max(bundle.observed_max, 1.0)
    return {"status": "pass" if q <= limit else "fail",
            "quantile": defaults.PRIOR_PREDICTIVE_QUANTILE,
            "simulated_period_count_quantile": q, "observed_max": bundle.observed_max,
            "max_multiple": defaults.PRIOR_PREDICTIVE_MAX_MULTIPLE, "limit": limit,
            "draws": defaults.PRIOR_PREDICTIVE_DRAWS,
            "detail": "prior-predictive quantile of a period's count (all units in the model) "
                      "against a multiple of the observed maximum"}


def save_posterior(idata: az.InferenceData, path: str | os.PathLike) -> Path:
    """Write the posterior as NetCDF (analyses/<id>/posterior.nc); written to a temporary file
    first, then moved, so a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    idata.to_netcdf(str(tmp))
    os.replace(tmp, path)
    return path
