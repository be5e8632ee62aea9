"""Bayesian difference-in-differences: unit and period effects, exposure offset, staggered starts.

Poisson: the unit effects are integrated out exactly. With a flat prior on a unit's log rate,
its counts given their total N_i are multinomial over periods with probabilities proportional
to exposure x exp(period effect + log_rr x d). No unit parameters remain, so the sampler sees
only the period effects and the effect: fast and well identified. The unit rates are drawn
afterwards from their exact conditional posterior Gamma(N_i, sum_t exposure x exp(...)) for the
counterfactual.

Negative binomial (also for quasi_poisson): explicit hierarchical unit effects, non-centred.
Linear: Normal likelihood; the unit effects (flat prior) are integrated out the same way, which
leaves within-unit deviations.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from evaluation import defaults
from evaluation.estimators.bayes import priors
from evaluation.estimators.bayes.base import ModelBundle, flat, matrices
from evaluation.estimators.bayes.did_deviations import build_did_deviations
from evaluation.estimators.prepared import PreparedData


def build_did(data: PreparedData, *, log_rr_sd: float, deviations: bool = True) -> ModelBundle:
    """The Bayesian DiD of the design's model. Counts: with persistent local deviations
    (`did_deviations`, the default; calibrated under lasting local shocks, see
    docs/calibration_did.md), or without (`deviations=False`: unit and period effects only)."""
    model = data.spec.model
    m = matrices(data)
    if model == "linear":
        return _linear(data, m, log_rr_sd=log_rr_sd)
    if deviations:
        return build_did_deviations(data, m, log_rr_sd=log_rr_sd,
                                    negative_binomial=model != "poisson")
    if model == "poisson":
        return _poisson(m, log_rr_sd=log_rr_sd)
    return _negative_binomial(m, log_rr_sd=log_rr_sd, quasi=model == "quasi_poisson")


def _offsets(m: dict) -> tuple[np.ndarray, np.ndarray]:
    """Exposure scaled to mean 1 (the level is absorbed elsewhere) and its log (-1e6 if absent)."""
    exposure = m["exposure"] / m["exposure"][m["present"]].mean()
    log_exposure = np.where(m["present"], np.log(np.where(m["present"], exposure, 1.0)), -1e6)
    return exposure, log_exposure


def _period_totals(y: np.ndarray, present: np.ndarray) -> float:
    return float(np.where(present, y, 0.0).sum(axis=0).max())


def _prior_predictive_counts(m: dict, exposure: np.ndarray, log_rr_sd: float,
                             rng: np.random.Generator, n: int) -> np.ndarray:
    """Simulated per-period totals, each unit's total held at its observed value (as the model)."""
    n_periods = exposure.shape[1]
    gamma = rng.normal(0.0, defaults.PRIOR_PERIOD_SD, size=(n, n_periods))
    gamma -= gamma.mean(axis=1, keepdims=True)
    log_rr = rng.normal(0.0, log_rr_sd, size=n)
    totals = m["y"].sum(axis=1)
    keep = totals > 0
    out = np.zeros((n, n_periods))
    for s in range(n):
        weight = exposure[keep] * np.exp(gamma[s][None, :] + log_rr[s] * m["d"][keep])
        p = weight / weight.sum(axis=1, keepdims=True)
        out[s] = rng.multinomial(totals[keep].astype(np.int64), p).sum(axis=0)
    return out


def _poisson(m: dict, *, log_rr_sd: float) -> ModelBundle:
    exposure, log_exposure = _offsets(m)
    y, d = m["y"], m["d"]
    totals = y.sum(axis=1)
    keep = totals > 0  # a unit without events says nothing about periods or the effect
    n_periods = y.shape[1]
    # sum_t exposure x exp(gamma_t + log_rr d_it) = pre_i . exp(gamma) + rr x post_i . exp(gamma):
    # two matrix-vector products instead of an exp over every cell (the gradient's cost).
    pre = exposure[keep] * (1.0 - d[keep])
    treated_post = keep & (d.sum(axis=1) > 0)
    post = (exposure * d)[treated_post]
    post_rows = np.flatnonzero(treated_post[keep])
    with pm.Model() as model:
        prior_sd = pm.Data("log_rr_sd", log_rr_sd)
        gamma = pm.ZeroSumNormal("period_effect", sigma=defaults.PRIOR_PERIOD_SD, shape=n_periods)
        log_rr = pm.Normal("log_rr", 0.0, prior_sd)
        exp_gamma = pt.exp(gamma)
        rate_sum = pt.inc_subtensor(pt.dot(pre, exp_gamma)[post_rows],
                                    pt.exp(log_rr) * pt.dot(post, exp_gamma))
        loglik = ((y.sum(axis=0) * gamma).sum() + log_rr * float((y * d).sum())
                  - (totals[keep] * pt.log(rate_sum)).sum())
        pm.Potential("multinomial_loglik", loglik)
        pm.Deterministic("rr", pt.exp(log_rr))

    treated = m["treated"]
    exp_treated = exposure[treated]
    observed_post = float((y[treated] * d[treated]).sum())

    def averted(posterior, rng):
        g = np.exp(flat(posterior, "period_effect"))  # (S, T)
        rr = np.exp(flat(posterior, "log_rr"))
        pre = g @ (exp_treated * (1 - d[treated])).T  # (S, n_treated)
        post = g @ (exp_treated * d[treated]).T
        rate_scale = pre + rr[:, None] * post
        lam = rng.gamma(np.broadcast_to(totals[treated], rate_scale.shape)) / rate_scale
        counterfactual = rng.poisson(lam * post).sum(axis=1)
        return counterfactual - observed_post

    return ModelBundle(
        model=model,
        description=("Poisson difference-in-differences on the log rate: unit effects (integrated "
                     "out: multinomial over periods given each unit's total), period effects "
                     "(sum to zero), exposure offset; treatment effect log_rr where d = 1 "
                     "(staggered starts allowed)"),
        priors=priors.did_priors(model="poisson", log_rr_sd=log_rr_sd),
        scale="rate_ratio",
        effect_draws=lambda posterior: flat(posterior, "log_rr"),
        averted_draws=averted,
        prior_predictive=lambda rng, n: _prior_predictive_counts(m, exposure, log_rr_sd, rng, n),
        observed_max=_period_totals(y, m["present"]),
        extras={"units_without_events": int((~keep).sum())},
    )


def _negative_binomial(m: dict, *, log_rr_sd: float, quasi: bool) -> ModelBundle:
    """Gamma-Poisson counts with variance phi x mean (the quasi-Poisson variance), unit effects
    conditioned out: given its total N_i a unit's counts are Dirichlet-multinomial with
    concentrations b x N_i x p_it (p_it as in the Poisson model, b = 1 / (phi - 1)). Using the
    observed total for the expected one in the concentration is the one approximation. Cells
    without events add nothing but through the unit's total, so only non-zero cells are touched.
    """
    exposure, log_exposure = _offsets(m)
    y, d = m["y"], m["d"]
    totals = y.sum(axis=1)
    keep = totals > 0
    n_periods = y.shape[1]
    pre = exposure[keep] * (1.0 - d[keep])
    treated_post = keep & (d.sum(axis=1) > 0)
    post = (exposure * d)[treated_post]
    post_rows = np.flatnonzero(treated_post[keep])
    cu, ct = np.nonzero(y[keep] > 0)  # kept-unit row and period of every non-zero cell
    y_cells = y[keep][cu, ct]
    n_kept = totals[keep]
    with pm.Model() as model:
        prior_sd = pm.Data("log_rr_sd", log_rr_sd)
        gamma = pm.ZeroSumNormal("period_effect", sigma=defaults.PRIOR_PERIOD_SD, shape=n_periods)
        log_rr = pm.Normal("log_rr", 0.0, prior_sd)
        excess = pm.HalfNormal("overdispersion", defaults.PRIOR_DISPERSION_EXCESS_SD)
        b = 1.0 / excess
        exp_gamma = pt.exp(gamma)
        rate_sum = pt.inc_subtensor(pt.dot(pre, exp_gamma)[post_rows],
                                    pt.exp(log_rr) * pt.dot(post, exp_gamma))
        log_p = (log_exposure[keep][cu, ct] + gamma[ct] + log_rr * d[keep][cu, ct]
                 - pt.log(rate_sum)[cu])
        conc = b * n_kept
        alpha_cells = b * n_kept[cu] * pt.exp(log_p)
        loglik = ((pt.gammaln(conc) - pt.gammaln(n_kept + conc)).sum()
                  + (pt.gammaln(y_cells + alpha_cells) - pt.gammaln(alpha_cells)).sum())
        pm.Potential("dirichlet_multinomial_loglik", loglik)
        pm.Deterministic("rr", pt.exp(log_rr))
        pm.Deterministic("dispersion", 1.0 + excess)

    treated = m["treated"]
    exp_treated = exposure[treated]
    observed_post = float((y[treated] * d[treated]).sum())

    def averted(posterior, rng):
        g = np.exp(flat(posterior, "period_effect"))
        rr = np.exp(flat(posterior, "log_rr"))
        b_draws = 1.0 / flat(posterior, "overdispersion")[:, None]
        pre_t = g @ (exp_treated * (1 - d[treated])).T
        post_t = g @ (exp_treated * d[treated]).T
        rate_scale = pre_t + rr[:, None] * post_t
        lam = rng.gamma(np.broadcast_to(totals[treated], pre_t.shape)) / rate_scale
        mean = lam * post_t  # counterfactual mean, then Gamma-Poisson with variance phi x mean
        shape = np.maximum(b_draws * mean, 1e-12)
        return rng.poisson(rng.gamma(shape) / b_draws).sum(axis=1) - observed_post

    def prior_predictive(rng, n):
        gamma = rng.normal(0.0, defaults.PRIOR_PERIOD_SD, size=(n, n_periods))
        gamma -= gamma.mean(axis=1, keepdims=True)
        log_rr = rng.normal(0.0, log_rr_sd, size=n)
        excess = np.abs(rng.normal(0.0, defaults.PRIOR_DISPERSION_EXCESS_SD, size=n))
        out = np.zeros((n, n_periods))
        for s in range(n):
            weight = exposure[keep] * np.exp(gamma[s][None, :] + log_rr[s] * d[keep])
            p = weight / weight.sum(axis=1, keepdims=True)
            theta = rng.gamma(np.maximum(n_kept[:, None] * p / excess[s], 1e-12))
            theta /= theta.sum(axis=1, keepdims=True)
            out[s] = rng.multinomial(n_kept.astype(np.int64), theta).sum(axis=0)
        return out

    name = "quasi-Poisson requested: negative binomial" if quasi else "Negative binomial"
    return ModelBundle(
        model=model,
        description=(f"{name} (variance = dispersion x mean) difference-in-differences on the "
                     "log rate: unit effects conditioned out (Dirichlet-multinomial over periods "
                     "given each unit's total), period effects (sum to zero), exposure offset; "
                     "treatment effect log_rr where d = 1 (staggered starts allowed)"),
        priors=priors.did_priors(model="negative_binomial", log_rr_sd=log_rr_sd),
        scale="rate_ratio",
        effect_draws=lambda posterior: flat(posterior, "log_rr"),
        averted_draws=averted,
        prior_predictive=prior_predictive,
        observed_max=_period_totals(y, m["present"]),
        extras={"units_without_events": int((~keep).sum())},
    )


def _linear(data: PreparedData, m: dict, *, log_rr_sd: float) -> ModelBundle:
    """Normal outcome, on the row level (a repeated cross-section keeps its observations)."""
    rows = data.estimation_rows
    units = list(dict.fromkeys(rows["unit"]))
    periods = sorted(rows["t"].unique())
    unit_idx = rows["unit"].map({u: i for i, u in enumerate(units)}).to_numpy()
    t_idx = rows["t"].map({t: j for j, t in enumerate(periods)}).to_numpy()
    y = rows["y"].to_numpy(dtype=float)
    d = rows["d"].to_numpy(dtype=float)
    n_units, n_periods = len(units), len(periods)
    count = np.bincount(unit_idx, minlength=n_units).astype(float)
    treated_rows = rows["treated_unit"].to_numpy()
    pre_mean = y[treated_rows & (d == 0)].mean() if (treated_rows & (d == 0)).any() else y.mean()
    outcome_scale = max(abs(float(pre_mean)), float(np.std(y)) * 0.1, 1e-9)
    y_sd = max(float(np.std(y)), 1e-9)
    with pm.Model() as model:
        gamma = pm.ZeroSumNormal("period_effect", sigma=2 * y_sd, shape=n_periods)
        effect = pm.Normal("effect", 0.0, pm.Data("log_rr_sd", log_rr_sd) * outcome_scale)
        sigma = pm.HalfNormal("sigma", 2 * y_sd)
        resid = y - gamma[t_idx] - effect * d
        unit_mean = pt.inc_subtensor(pt.zeros(n_units)[unit_idx], resid) / count
        within = resid - unit_mean[unit_idx]
        # flat unit effects integrated out: each unit loses one degree of freedom
        loglik = (-(count - 1).sum() * pt.log(sigma) - pt.square(within).sum() / (2 * sigma**2))
        pm.Potential("normal_within_loglik", loglik)

    post_rows = treated_rows & (d > 0)
    observed_post = float(y[post_rows].sum())

    def _cf_mean(posterior):
        g = flat(posterior, "period_effect")
        eff = flat(posterior, "effect")
        s = flat(posterior, "sigma")
        resid = y[None, :] - g[:, t_idx] - eff[:, None] * d[None, :]
        sums = np.zeros((len(eff), n_units))
        np.add.at(sums.T, unit_idx, resid.T)
        return sums / count, g, eff, s

    def averted(posterior, rng):
        unit_mean, g, eff, s = _cf_mean(posterior)
        alpha = unit_mean + rng.normal(size=unit_mean.shape) * s[:, None] / np.sqrt(count)
        mu = alpha[:, unit_idx[post_rows]] + g[:, t_idx[post_rows]]
        draws = mu + rng.normal(size=mu.shape) * s[:, None]
        return draws.sum(axis=1) - observed_post

    def effect_draws(posterior):
        # the ratio of the observed to the counterfactual mean of treated post rows, logged
        unit_mean, g, eff, _ = _cf_mean(posterior)
        cf = (unit_mean[:, unit_idx[post_rows]] + g[:, t_idx[post_rows]]).mean(axis=1)
        ratio = (cf + eff) / cf
        return np.log(np.where(ratio > 0, ratio, np.nan))

    def prior_predictive(rng, n):
        gamma = rng.normal(0.0, 2 * y_sd, size=(n, n_periods))
        gamma -= gamma.mean(axis=1, keepdims=True)
        eff = rng.normal(0.0, log_rr_sd * outcome_scale, size=(n, 1))
        s = np.abs(rng.normal(0.0, 2 * y_sd, size=(n, 1)))
        mu = y.mean() + gamma[:, t_idx] + eff * d[None, :]
        sim = mu + rng.normal(size=mu.shape) * s
        return np.abs(sim)  # the check compares magnitudes per row

    return ModelBundle(
        model=model,
        description=("Linear difference-in-differences: Normal outcome with unit effects "
                     "(integrated out: within-unit deviations), period effects (sum to zero); "
                     "treatment effect as a difference where d = 1"),
        priors=priors.did_priors(model="linear", log_rr_sd=log_rr_sd, outcome_scale=outcome_scale),
        scale="difference",
        effect_draws=effect_draws,
        averted_draws=averted,
        prior_predictive=prior_predictive,
        observed_max=float(np.abs(y).max()),
        extras={"difference_var": "effect"},
        effect_prior_scales={"effect": outcome_scale},
    )
