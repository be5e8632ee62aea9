"""Bayesian DiD whose uncertainty includes persistent local deviations (the default for counts).

A feud raises one city's rate for months. A model with only unit and period effects treats the
treated units' post-period counts as independent given those effects, so a lasting local shock
reads as an effect and the posterior is far too sure. Here each unit has its own deviation per
time block (blocks of `defaults.BAYES_DEVIATION_BLOCK_PERIODS` periods), autocorrelated across
blocks (AR(1), correlation rho per block) with spread sigma; sigma and rho are shared by all
units, so the control units teach the model how large and lasting local shocks are, and a
treated unit's post-period deviation is uncertain exactly as much as theirs. The effect log_rr
multiplies the rate of every treated cell from its unit's own start (staggered starts need
nothing more).

Counts stay counts: the unit effects are integrated out as in `did_model` (given its total, a
unit's counts are multinomial over periods, Poisson; or Dirichlet-multinomial, negative
binomial / quasi_poisson), with cell probabilities proportional to exposure x exp(period effect
+ deviation of the cell's block + log_rr x d). Deviations are non-centred: u_i = sigma L(rho)
z_i with z_i standard normal and L the Cholesky factor of the AR(1) correlation, in closed form
(L[b, k] = rho^(b - k) for k = 0, rho^(b - k) sqrt(1 - rho^2) for 0 < k <= b).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from evaluation import defaults
from evaluation.estimators.bayes import priors
from evaluation.estimators.bayes.base import ModelBundle, flat
from evaluation.estimators.prepared import PreparedData


def block_matrix(n_periods: int, block: int) -> np.ndarray:
    """(n_periods, n_blocks) indicator of each period's block (consecutive, the last shorter)."""
    index = np.arange(n_periods) // max(block, 1)
    return (index[:, None] == np.arange(index.max() + 1)[None, :]).astype(float)


def ar1_correlation(rho: float, n_blocks: int) -> np.ndarray:
    """rho^|b - k|: the AR(1) correlation of `n_blocks` consecutive blocks (prior predictives)."""
    return rho ** np.abs(np.subtract.outer(np.arange(n_blocks), np.arange(n_blocks)))


def ar1_cholesky(rho, n_blocks: int):
    """The Cholesky factor of the AR(1) correlation matrix (closed form; see the docstring)."""
    lag = np.subtract.outer(np.arange(n_blocks), np.arange(n_blocks))
    lower = lag >= 0
    # n powers gathered into the n x n lags: an ITS' latent process has a block per period, and
    # a power per matrix entry dominated its gradient
    power = pt.power(rho, np.arange(n_blocks, dtype=float))[np.where(lower, lag, 0)]
    scale = np.where(np.arange(n_blocks)[None, :] == 0, 1.0, 0.0)
    col = scale + (1.0 - scale) * pt.sqrt(1.0 - rho**2)
    return pt.where(lower, power * col, 0.0)


def build_did_deviations(data: PreparedData, m: dict, *, log_rr_sd: float,
                         negative_binomial: bool) -> ModelBundle:
    exposure = m["exposure"] / m["exposure"][m["present"]].mean()
    y, d = m["y"], m["d"]
    totals = y.sum(axis=1)
    keep = totals > 0  # a unit without events says nothing about periods or the effect
    n_periods = y.shape[1]
    block = defaults.BAYES_DEVIATION_BLOCK_PERIODS.get(data.frequency, 1)
    span = max(block, 1)  # periods per block
    blocks = block_matrix(n_periods, span)
    n_blocks = blocks.shape[1]
    y_k, d_k, e_k, n_kept = y[keep], d[keep], exposure[keep], totals[keep]
    pre, post = e_k * (1.0 - d_k), e_k * d_k
    pad = n_blocks * span - n_periods
    # exposure as (units, blocks, periods in block); the post-period part only for the units that
    # have one (the treated): a gradient on the national panel took 160 us instead of 241 us.
    # Batched matrix products were no faster on a quiet machine and compiled 8-10 s slower.
    pre_by_block = np.pad(pre, ((0, 0), (0, pad))).reshape(len(pre), n_blocks, span)
    post_rows = np.flatnonzero(post.sum(axis=1) > 0)
    post_by_block = np.pad(post[post_rows], ((0, 0), (0, pad))).reshape(len(post_rows), n_blocks,
                                                                         span)
    block_counts = y_k @ blocks  # (units, blocks)
    treated_k = m["treated"][keep]
    cu, ct = np.nonzero(y_k > 0)
    # cells with a single event first: for them the Dirichlet-multinomial term
    # gammaln(1 + a) - gammaln(a) is log(a), linear in the log-probability (no special function
    # in the gradient); with rare events these are most cells
    order = np.argsort(y_k[cu, ct] > 1, kind="stable")
    cu, ct = cu[order], ct[order]
    n_single = int((y_k[cu, ct] == 1).sum())
    cb = ct // span
    y_cells = y_k[cu, ct]
    with np.errstate(divide="ignore"):
        log_e_cells = np.log(e_k[cu, ct])
    with pm.Model() as model:
        prior_sd = pm.Data("log_rr_sd", log_rr_sd)
        gamma = pm.ZeroSumNormal("period_effect", sigma=defaults.PRIOR_PERIOD_SD, shape=n_periods)
        log_rr = pm.Normal("log_rr", 0.0, prior_sd)
        sigma = pm.HalfNormal("deviation_sd", defaults.PRIOR_DEVIATION_SD)
        rho = pm.Beta("deviation_rho", *defaults.PRIOR_DEVIATION_RHO)
        z = pm.Normal("deviation_z", 0.0, 1.0, shape=(int(keep.sum()), n_blocks))
        u = sigma * pt.dot(z, ar1_cholesky(rho, n_blocks).T)
        # per unit and block: sum over the block's periods of exposure x exp(period effect) x
        # (rr in the post-period); this is most of each gradient's cost (see benchmarks/README.md)
        weight = (pt.concatenate([pt.exp(gamma), pt.zeros(pad)]) if pad else pt.exp(gamma)
                  ).reshape((n_blocks, span))
        rate_blocks = pt.inc_subtensor(
            (pre_by_block * weight[None, :, :]).sum(axis=2)[post_rows],
            pt.exp(log_rr) * (post_by_block * weight[None, :, :]).sum(axis=2))
        rate_sum = (pt.exp(u) * rate_blocks).sum(axis=1)
        if negative_binomial:
            excess = pm.HalfNormal("overdispersion", defaults.PRIOR_DISPERSION_EXCESS_SD)
            b = 1.0 / excess
            log_p = (log_e_cells + gamma[ct] + u[cu, cb] + log_rr * d_k[cu, ct]
                     - pt.log(rate_sum)[cu])
            conc = b * n_kept
            alpha_many = b * n_kept[cu[n_single:]] * pt.exp(log_p[n_single:])
            loglik = ((pt.gammaln(conc) - pt.gammaln(n_kept + conc)).sum()
                      + n_single * pt.log(b) + float(np.log(n_kept[cu[:n_single]]).sum())
                      + log_p[:n_single].sum()
                      + (pt.gammaln(y_cells[n_single:] + alpha_many) - pt.gammaln(alpha_many)).sum())
            pm.Deterministic("dispersion", 1.0 + excess)
        else:
            loglik = ((y_k.sum(axis=0) * gamma).sum() + log_rr * float((y_k * d_k).sum())
                      + (block_counts * u).sum() - (n_kept * pt.log(rate_sum)).sum())
        pm.Potential("conditional_loglik", loglik)
        pm.Deterministic("rr", pt.exp(log_rr))
        pm.Deterministic("treated_deviation", u[np.flatnonzero(treated_k)])

    treated_rows = np.flatnonzero(treated_k)
    observed_post = float((y_k[treated_rows] * d_k[treated_rows]).sum())

    def averted(posterior, rng):
        g = np.exp(flat(posterior, "period_effect"))  # (S, T)
        rr = np.exp(flat(posterior, "log_rr"))
        dev = np.exp(flat(posterior, "treated_deviation"))  # (S, n_treated, B)
        cell_dev = dev @ blocks.T  # (S, n_treated, T)
        weight = g[:, None, :] * cell_dev
        pre_t = (weight * pre[treated_rows][None]).sum(axis=2)
        post_t = (weight * post[treated_rows][None]).sum(axis=2)
        lam = rng.gamma(np.broadcast_to(n_kept[treated_rows], pre_t.shape)) / (
            pre_t + rr[:, None] * post_t)
        mean = lam * post_t
        if negative_binomial:
            b_draws = 1.0 / flat(posterior, "overdispersion")[:, None]
            mean = rng.gamma(np.maximum(b_draws * mean, 1e-12)) / b_draws
        return rng.poisson(mean).sum(axis=1) - observed_post

    def prior_predictive(rng, n):
        out = np.zeros((n, n_periods))
        for s in range(n):
            g = rng.normal(0.0, defaults.PRIOR_PERIOD_SD, size=n_periods)
            sd = abs(rng.normal(0.0, defaults.PRIOR_DEVIATION_SD))
            r = rng.beta(*defaults.PRIOR_DEVIATION_RHO)
            chol = np.linalg.cholesky(ar1_correlation(r, n_blocks))
            dev = sd * rng.standard_normal((len(n_kept), n_blocks)) @ chol.T
            weight = e_k * np.exp(g - g.mean() + rng.normal(0.0, log_rr_sd) * d_k
                                  + dev @ blocks.T)
            p = weight / weight.sum(axis=1, keepdims=True)
            out[s] = rng.multinomial(n_kept.astype(np.int64), p).sum(axis=0)
        return out

    kind = "negative_binomial" if negative_binomial else "poisson"
    statements = priors.did_priors(model=kind, log_rr_sd=log_rr_sd)
    statements["deviations"] = priors.deviation_statement(block)
    name = "Poisson"
    if negative_binomial:
        name = ("quasi-Poisson requested: negative binomial" if data.spec.model == "quasi_poisson"
                else "Negative binomial") + " (variance = dispersion x mean)"
    return ModelBundle(
        model=model,
        description=(f"{name} difference-in-differences on the log rate with persistent local "
                     f"deviations: unit effects conditioned out, period effects (sum to zero), "
                     f"a deviation per unit and block of {block} period(s), AR(1) across blocks "
                     "(spread and persistence learned from all units), exposure offset; "
                     "treatment effect log_rr where d = 1 (staggered starts allowed)"),
        priors=statements,
        scale="rate_ratio",
        effect_draws=lambda posterior: flat(posterior, "log_rr"),
        averted_draws=averted,
        prior_predictive=prior_predictive,
        observed_max=float(np.where(m["present"], y, 0.0).sum(axis=0).max()),
        extras={"units_without_events": int((~keep).sum()), "deviation_blocks": n_blocks,
                "deviation_block_periods": block},
    )
