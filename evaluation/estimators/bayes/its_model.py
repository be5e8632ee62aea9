"""Bayesian interrupted time series: negative binomial counts of the treated series.

Treated series = sum over treated units per period (excluded periods dropped), exposure summed
alike. log rate = intercept + trend + Fourier seasonality + level change x post (+ slope change x
post x time since start when registered). With listed controls the control series is stacked
(controlled ITS): each series has its own intercept and trend, seasonality is shared, both may
shift at the start (common shift), and only the treated series carries the effect.

Persistent deviations (the default): each series' log rate also carries a latent AR(1) process,
one value per block of periods (`defaults.BAYES_ITS_LATENT_BLOCK_PERIODS`), non-centred as in
`did_deviations` (x = sd L(rho) z). A shock that lasts months is then one deviation carried
forward: the pre-period teaches the process' spread and persistence, and the post-period level
change is uncertain by as much as the process could have drifted since the start. Without it
(`deviations=False`) a lasting shock reads as a level change and the interval is too narrow.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from evaluation import defaults
from evaluation.estimators.bayes import priors
from evaluation.estimators.bayes.base import ModelBundle, flat, matrices
from evaluation.estimators.bayes.did_deviations import ar1_cholesky, ar1_correlation
from evaluation.estimators.prepared import PreparedData

SEASON_LENGTH = {"day": 365.25, "week": 365.25 / 7, "month": 12.0, "quarter": 4.0}


def _series(m: dict, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts, exposure and the treated share of exposure per period, over units `rows`."""
    y = m["y"][rows].sum(axis=0)
    exposure = m["exposure"][rows].sum(axis=0)
    treated_exposure = (m["exposure"][rows] * m["d"][rows]).sum(axis=0)
    return y, exposure, treated_exposure / exposure


def _fourier(t: np.ndarray, *, harmonics: int, frequency: str) -> np.ndarray:
    length = SEASON_LENGTH.get(frequency)
    if not harmonics or length is None:
        return np.zeros((len(t), 0))
    cols = []
    for k in range(1, harmonics + 1):
        angle = 2 * np.pi * k * t / length
        cols += [np.sin(angle), np.cos(angle)]
    return np.column_stack(cols)


def build_its(data: PreparedData, *, log_rr_sd: float, deviations: bool = True) -> ModelBundle:
    spec = data.spec
    m = matrices(data)
    treated = m["treated"]
    y, exposure, post = _series(m, treated)
    controlled = bool(data.control_units) and (~treated).any()
    t = m["t"].astype(float)
    start = float(t[np.argmax(post > 0)]) if (post > 0).any() else float(t[-1])
    span = max(t[-1] - t[0], 1.0)
    trend = (t - start) / span
    post_length = max(t[-1] - start + 1.0, 1.0)
    since_start = post * np.maximum(t - start + 1.0, 0.0) / post_length
    season = _fourier(t, harmonics=spec.seasonality, frequency=data.frequency)

    series = [(y, exposure, post, 1.0)]
    if controlled:
        yc, ec, _ = _series(m, ~treated)
        series.append((yc, ec, (t >= start).astype(float), 0.0))
    n_series = len(series)
    group = np.repeat(np.arange(n_series), len(t))
    y_all = np.concatenate([s[0] for s in series])
    log_e = np.log(np.concatenate([s[1] for s in series]))
    post_all = np.concatenate([s[2] for s in series])
    is_treated = np.concatenate([np.full(len(t), s[3]) for s in series])
    trend_all = np.tile(trend, n_series)
    since_all = np.concatenate([since_start * s[3] for s in series])
    season_all = np.tile(season, (n_series, 1))
    log_rate = np.log(np.array([max(s[0].sum(), 0.5) / s[1].sum() for s in series]))
    block = defaults.BAYES_ITS_LATENT_BLOCK_PERIODS.get(data.frequency, 1)
    period_block = np.arange(len(t)) // max(block, 1)
    n_blocks = int(period_block[-1]) + 1
    block_all = np.tile(period_block, n_series)

    with pm.Model() as model:
        prior_sd = pm.Data("log_rr_sd", log_rr_sd)
        intercept = pm.Normal("intercept", log_rate, defaults.PRIOR_INTERCEPT_SD, shape=n_series)
        slope = pm.Normal("trend", 0.0, defaults.PRIOR_TREND_SD, shape=n_series)
        log_rr = pm.Normal("log_rr", 0.0, prior_sd)
        inv_sqrt_alpha = pm.HalfNormal("inv_sqrt_alpha", defaults.PRIOR_INV_SQRT_DISPERSION_SD)
        alpha = pm.Deterministic("alpha", 1.0 / pt.square(inv_sqrt_alpha))
        eta_cf = log_e + intercept[group] + slope[group] * trend_all
        if season.shape[1]:
            coef = pm.Normal("season", 0.0, defaults.PRIOR_SEASON_SD, shape=season.shape[1])
            eta_cf = eta_cf + pt.dot(season_all, coef)
        if controlled:
            shift = pm.Normal("common_shift", 0.0, defaults.PRIOR_POST_SHIFT_SD)
            eta_cf = eta_cf + shift * post_all
        if deviations:
            latent_sd = pm.HalfNormal("latent_sd", defaults.PRIOR_ITS_LATENT_SD)
            rho = pm.Beta("latent_rho", *defaults.PRIOR_ITS_LATENT_RHO)
            z = pm.Normal("latent_z", 0.0, 1.0, shape=(n_series, n_blocks))
            deviation = latent_sd * pt.dot(z, ar1_cholesky(rho, n_blocks).T)
            eta_cf = eta_cf + deviation[group, block_all]
        effect = log_rr * post_all * is_treated
        if spec.slope_change:
            slope_change = pm.Normal("slope_change", 0.0, prior_sd)
            effect = effect + slope_change * since_all
        pm.NegativeBinomial("y", mu=pt.exp(eta_cf + effect), alpha=alpha, observed=y_all)
        pm.Deterministic("treated_mu_cf", pt.exp(eta_cf[: len(t)]))
        pm.Deterministic("treated_mu", pt.exp((eta_cf + effect)[: len(t)]))
        pm.Deterministic("rr", pt.exp(log_rr))

    post_periods = post > 0
    observed_post = float(y[post_periods].sum())

    def effect_draws(posterior):
        if not spec.slope_change:
            return flat(posterior, "log_rr")
        # with a slope change the effect varies over time: report the average post-period ratio
        mu = flat(posterior, "treated_mu")[:, post_periods].sum(axis=1)
        cf = flat(posterior, "treated_mu_cf")[:, post_periods].sum(axis=1)
        return np.log(mu / cf)

    def averted(posterior, rng):
        mu = flat(posterior, "treated_mu_cf")[:, post_periods]
        a = flat(posterior, "alpha")[:, None]
        counterfactual = rng.poisson(rng.gamma(np.broadcast_to(a, mu.shape)) * mu / a)
        return counterfactual.sum(axis=1) - observed_post

    def prior_predictive(rng, n):
        eta = (np.log(exposure)[None] + rng.normal(log_rate[0], defaults.PRIOR_INTERCEPT_SD, (n, 1))
               + rng.normal(0, defaults.PRIOR_TREND_SD, (n, 1)) * trend[None]
               + rng.normal(0, log_rr_sd, (n, 1)) * post[None])
        if season.shape[1]:
            eta += rng.normal(0, defaults.PRIOR_SEASON_SD, (n, season.shape[1])) @ season.T
        if spec.slope_change:
            eta += rng.normal(0, log_rr_sd, (n, 1)) * since_start[None]
        if controlled:
            eta += rng.normal(0, defaults.PRIOR_POST_SHIFT_SD, (n, 1)) * post[None]
        if deviations:
            for row in range(n):
                rho = rng.beta(*defaults.PRIOR_ITS_LATENT_RHO)
                sd = abs(rng.normal(0.0, defaults.PRIOR_ITS_LATENT_SD))
                path = sd * np.linalg.cholesky(ar1_correlation(rho, n_blocks)) @ rng.standard_normal(n_blocks)
                eta[row] += path[period_block]
        a = 1.0 / np.square(np.abs(rng.normal(0, defaults.PRIOR_INV_SQRT_DISPERSION_SD, (n, 1))))
        mu = np.exp(np.minimum(eta, 30.0))
        return rng.poisson(np.minimum(rng.gamma(np.broadcast_to(a, mu.shape)) * mu / a, 1e12))

    parts = ["Negative binomial interrupted time series of the treated units' summed counts "
             "(exposure offset): intercept, linear trend"]
    if season.shape[1]:
        parts.append(f"{spec.seasonality} Fourier harmonic(s) of seasonality")
    parts.append("level change at the start (log_rr)")
    if spec.slope_change:
        parts.append("slope change after the start (rr = average post-period ratio)")
    if controlled:
        parts.append("controlled: the summed control series is stacked with its own intercept and "
                     "trend, shared seasonality and a common shift at the start")
    if deviations:
        parts.append(f"persistent deviations: a latent AR(1) process on each series' log rate, "
                     f"one value per block of {block} period(s) (spread and persistence learned "
                     "from the series)")
    return ModelBundle(
        model=model,
        description="; ".join(parts),
        priors=priors.its_priors(log_rr_sd=log_rr_sd, slope_change=spec.slope_change,
                                 seasonality=season.shape[1] // 2, controlled=controlled,
                                 latent_block=block if deviations else None),
        scale="rate_ratio",
        effect_draws=effect_draws,
        averted_draws=averted,
        prior_predictive=prior_predictive,
        observed_max=float(y.max()),
        extras={"controlled": controlled,
                **({"latent_blocks": n_blocks, "latent_block_periods": block} if deviations else {})},
        effect_prior_scales={"log_rr": 1.0, **({"slope_change": 1.0} if spec.slope_change else {})},
    )
