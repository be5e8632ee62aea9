"""Observed, fitted and counterfactual series, and the number of attacks averted.

The counterfactual is the fitted model with the intervention terms (level and slope change of
the treated series) switched off. Its interval is the delta-method interval of the expected
count: x'b +- z se(x'b) on the log scale (count models) or the rate scale (linear), so it is an
interval for the counterfactual mean, not for the counts one would have seen.

Averted = sum over the non-excluded post periods of (counterfactual mean - observed); positive
means fewer attacks than expected. Its interval is a PREDICTION interval: coefficient draws from
the estimated covariance (the one used for inference) plus outcome noise around each drawn mean
(Poisson; quasi-Poisson as a gamma-Poisson mixture with variance dispersion x mean; negative
binomial with the estimated alpha; linear: normal with the residual variance), with a numpy
Generator seeded from analysis.seed, so that results are reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.estimators.its.segmented import (
    INTERVENTION_TERMS,
    TREATED,
    ItsFit,
    ModelSpec,
    design_matrix,
    linear_predictor,
    to_mean,
)
from evaluation.estimators.stats import z_value

SERIES_COLUMNS = ("period", "t", "group", "observed", "fitted", "counterfactual", "cf_low",
                  "cf_high", "excluded")


def series_table(frame: pd.DataFrame, fitted: ItsFit, *, spec: ModelSpec, t_start: int,
                 alpha: float) -> pd.DataFrame:
    """Per group and period (excluded periods included and flagged): the plot data."""
    eta, _ = linear_predictor(frame, fitted, spec=spec, t_start=t_start, counterfactual=False)
    eta_cf, se_cf = linear_predictor(frame, fitted, spec=spec, t_start=t_start, counterfactual=True)
    z = z_value(alpha)
    out = pd.DataFrame({
        "period": frame["period"].to_numpy(),
        "t": frame["t"].to_numpy(dtype=int),
        "group": frame["group"].to_numpy(),
        "observed": frame["y"].to_numpy(dtype=float),
        "fitted": to_mean(eta, frame, spec),
        "counterfactual": to_mean(eta_cf, frame, spec),
        "cf_low": to_mean(eta_cf - z * se_cf, frame, spec),
        "cf_high": to_mean(eta_cf + z * se_cf, frame, spec),
        "excluded": frame["excluded"].to_numpy(dtype=bool),
    })
    return out.reset_index(drop=True)[list(SERIES_COLUMNS)]


def _outcome_draws(mean: np.ndarray, fitted: ItsFit, spec: ModelSpec, exposure: np.ndarray,
                   rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Counts drawn around simulated means (draws x periods), and a description of the noise."""
    mean = np.maximum(mean, 0.0) if spec.is_count else mean
    if spec.model == "poisson":
        return rng.poisson(mean), "Poisson outcome noise"
    if spec.model == "quasi_poisson":
        phi = fitted.dispersion
        if phi <= 1:
            return rng.poisson(mean), "Poisson outcome noise (estimated dispersion <= 1)"
        # gamma-Poisson mixture with mean mu and variance phi * mu
        lam = rng.gamma(shape=mean / (phi - 1) + 1e-300, scale=phi - 1)
        return rng.poisson(lam), f"gamma-Poisson outcome noise with variance {phi:.3g} x mean"
    if spec.model == "negative_binomial":
        a = float(fitted.nb_alpha or 0.0)
        if a <= 0:
            return rng.poisson(mean), "Poisson outcome noise (NB alpha = 0)"
        lam = rng.gamma(shape=1 / a, scale=a * mean + 1e-300)
        return rng.poisson(lam), f"negative binomial outcome noise, alpha {a:.3g}"
    sd = np.sqrt(fitted.resid_scale) * (exposure if spec.has_exposure else 1.0)
    return mean + rng.normal(size=mean.shape) * sd, "normal outcome noise with the residual variance"


def averted(frame: pd.DataFrame, fitted: ItsFit, *, spec: ModelSpec, t_start: int, alpha: float,
            seed: int, draws: int = defaults.ITS_SIM_DRAWS) -> dict[str, Any]:
    """Attacks averted over the non-excluded post periods of the treated series, with intervals."""
    post = frame.loc[(frame["group"] == TREATED) & (frame["t"] >= t_start) & ~frame["excluded"]]
    observed = float(post["y"].sum())
    eta_cf, _ = linear_predictor(post, fitted, spec=spec, t_start=t_start, counterfactual=True)
    expected = float(to_mean(eta_cf, post, spec).sum())
    rng = np.random.default_rng(seed)
    beta = rng.multivariate_normal(fitted.params, fitted.cov, size=draws, method="svd")
    X = design_matrix(post, spec=spec, t_start=t_start)[list(fitted.names)].to_numpy(copy=True)
    for name in INTERVENTION_TERMS:
        if name in fitted.names:
            X[:, fitted.names.index(name)] = 0.0
    exposure = post["exposure"].to_numpy(dtype=float)
    eta = beta @ X.T  # draws x periods
    if spec.is_count:
        log_exposure = np.log(exposure) if spec.has_exposure else 0.0
        means = np.exp(eta + log_exposure)
    else:
        means = eta * exposure if spec.has_exposure else eta
    counts, noise = _outcome_draws(means, fitted, spec, exposure, rng)
    lo_q, hi_q = alpha / 2, 1 - alpha / 2
    mean_totals = means.sum(axis=1) - observed
    pred_totals = counts.sum(axis=1) - observed
    return {
        "estimate": expected - observed,
        "ci_low": float(np.quantile(pred_totals, lo_q)),
        "ci_high": float(np.quantile(pred_totals, hi_q)),
        "interval": "prediction",
        "mean_ci_low": float(np.quantile(mean_totals, lo_q)),
        "mean_ci_high": float(np.quantile(mean_totals, hi_q)),
        "expected": expected,
        "observed": observed,
        "pct_of_expected": 100 * (expected - observed) / expected if expected > 0 else None,
        "periods": int(len(post)),
        "draws": int(draws),
        "seed": int(seed),
        "method": (f"counterfactual minus observed, summed over {len(post)} post periods; "
                   f"{1 - alpha:.0%} prediction interval from {draws} coefficient draws "
                   f"(multivariate normal, {fitted.cov_choice.kind} covariance) plus {noise}; "
                   "mean_ci_* is the interval without outcome noise"),
    }
