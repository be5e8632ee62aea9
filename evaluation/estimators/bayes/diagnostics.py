"""Sampling (nutpie when installed, else PyMC's NUTS) and the reliability gates of a fit."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import pymc as pm

from evaluation import defaults
from evaluation.estimators.bayes.convergence import convergence
from evaluation.estimators.fit_warnings import recorded
from evaluation.progress import notebook_progress


def _nutpie():
    try:
        import nutpie
    except ImportError:
        return None
    return nutpie


def sampler_name(requested: str = defaults.BAYES_SAMPLER) -> str:
    """The sampler that will run: "nutpie" when requested or "auto" and installed, else "pymc".

    An absent nutpie falls back to PyMC's NUTS rather than failing; the summary says which ran.
    """
    if requested != "pymc" and _nutpie() is not None:
        return "nutpie"
    return "pymc"


def sampler_version(name: str) -> str:
    return _nutpie().__version__ if name == "nutpie" else pm.__version__


@dataclass(frozen=True)
class CompiledModel:
    """A model ready to sample; `log_rr_sd` (a pm.Data of every model) can change without
    recompiling, so prior-sensitivity refits cost sampling time only."""

    model: pm.Model
    sampler: str
    compiled: Any = None


def compile_model(model: pm.Model, *, sampler: str) -> CompiledModel:
    if sampler == "nutpie":
        return CompiledModel(model, sampler, _nutpie().compile_pymc_model(model))
    return CompiledModel(model, sampler)


def sample(handle: CompiledModel, *, log_rr_sd: float, chains: int, draws: int, tune: int,
           target_accept: float, seed: int) -> az.InferenceData:
    """Posterior draws; identical draws for identical arguments."""
    cores = max(1, min(chains, os.cpu_count() or 1))
    if handle.sampler == "nutpie":
        compiled = handle.compiled.with_data(log_rr_sd=np.asarray(log_rr_sd, dtype=float))
        # progress: nutpie's own display in a notebook; in a terminal it would fight the
        # analysis' bar on stderr, which names the stage instead (`progress.stage`)
        return _nutpie().sample(compiled, draws=draws, tune=tune, chains=chains, cores=cores,
                                seed=seed, target_accept=target_accept,
                                progress_bar=notebook_progress(), save_warmup=False)
    # PyMC logs its progress and warns about convergence itself; the summary reports both.
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        # PyMC's divergence and convergence warnings are recorded (`fit_warnings`); the summary's
        # gates judge them
        with handle.model, recorded(), contextlib.redirect_stderr(io.StringIO()):
            pm.set_data({"log_rr_sd": log_rr_sd})
            return pm.sample(draws=draws, tune=tune, chains=chains, cores=cores,
                             random_seed=seed, target_accept=target_accept,
                             progressbar=notebook_progress(),
                             compute_convergence_checks=False, return_inferencedata=True)
    finally:
        logger.setLevel(level)


def _min_or_nan(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return min(finite) if len(finite) == len(values) and finite else float("nan")


def diagnose(idata: az.InferenceData, *, var_names: list[str]) -> dict[str, Any]:
    """r_hat_max, ess_bulk_min, ess_tail_min and divergences over the sampled parameters.

    ArviZ's rank-normalised split R-hat, bulk and tail ESS, computed for all parameters at once
    (`convergence`); one chain gives a NaN R-hat, which the reliability gates report.
    """
    posterior = idata.posterior
    arrays = [np.asarray(posterior[name].transpose("chain", "draw", ...).values, dtype=float)
              for name in var_names]
    draws = np.concatenate([a.reshape(a.shape[0], a.shape[1], -1) for a in arrays], axis=2)
    with recorded():
        rhat, bulk, tail = (values.tolist() for values in convergence(draws))
    r_hat_max = float("nan") if not all(math.isfinite(r) for r in rhat) else max(rhat)
    diverging = idata.sample_stats["diverging"].values if "sample_stats" in idata else np.zeros(1)
    return {"r_hat_max": r_hat_max, "ess_bulk_min": _min_or_nan(bulk),
            "ess_tail_min": _min_or_nan(tail), "divergences": int(np.sum(diverging))}


def reliability(diag: dict[str, Any], *, chains: int) -> tuple[bool, str, str]:
    """(reliable, reason, advice) against the gates in `defaults`."""
    problems, advice = [], []
    if chains < 2 or not math.isfinite(diag["r_hat_max"]):
        problems.append("r_hat cannot be computed (fewer than 2 chains or too few draws)")
        advice.append(f"run at least {defaults.BAYES_CHAINS} chains")
    elif diag["r_hat_max"] > defaults.RHAT_MAX:
        problems.append(f"r_hat {diag['r_hat_max']:.3f} > {defaults.RHAT_MAX}: chains disagree")
        advice.append("more tuning and draws; if it persists, reparametrise (non-centred effects)")
    for key, label in (("ess_bulk_min", "bulk"), ("ess_tail_min", "tail")):
        ess = diag[key]
        if not math.isfinite(ess) or ess < defaults.ESS_MIN:
            shown = "n/a" if not math.isfinite(ess) else f"{ess:.0f}"
            problems.append(f"{label} ESS {shown} < {defaults.ESS_MIN}")
            if "more draws" not in " ".join(advice):
                advice.append("more draws (and chains)")
    if diag["divergences"] > defaults.BAYES_MAX_DIVERGENCES:
        problems.append(f"{diag['divergences']} divergent transitions: "
                        "the posterior is not explored")
        advice.append("higher target_accept (e.g. 0.95-0.99); reparametrise; for overdispersed "
                      "counts use negative_binomial instead of poisson")
    if not problems:
        return True, (f"all gates passed: r_hat <= {defaults.RHAT_MAX}, bulk and tail ESS >= "
                      f"{defaults.ESS_MIN}, no divergences"), "none needed"
    return False, "; ".join(problems), "; ".join(advice)
