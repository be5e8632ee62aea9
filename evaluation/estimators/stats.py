"""The small statistics every estimator shares, written once.

Scales: count models report rate ratios (the coefficient is a log rate ratio); linear models
report differences. Intervals are Wald intervals with the normal quantile unless an estimator's
own inference (randomization, bootstrap) gives them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from evaluation import defaults

COUNT_MODELS: tuple[str, ...] = ("poisson", "quasi_poisson", "negative_binomial")
IRLS_TOL = defaults.IRLS_TOL  # convergence of the IRLS fits (pyfixest fepois)


def demeaner():
    """pyfixest's fixed-effects demeaner at `defaults.FIXEF_TOL`: results independent of the
    order in which pyfixest visits the fixed effects (which follows Python's hash seed)."""
    import pyfixest as pf

    return pf.MapDemeaner(fixef_tol=defaults.FIXEF_TOL)


def is_count(model: str) -> bool:
    """True for the count models (rate-ratio scale), False for `linear` (difference scale)."""
    return model in COUNT_MODELS


def scale_of(model: str) -> str:
    return "rate_ratio" if is_count(model) else "difference"


def z_value(alpha: float) -> float:
    """The two-sided normal quantile of a (1 - alpha) interval."""
    return float(stats.norm.ppf(1 - alpha / 2))


def wald(estimate: float, std_error: float, alpha: float) -> tuple[float, float, float]:
    """Wald interval (low, high) and two-sided p-value; NaN when the error is not usable."""
    if not (math.isfinite(std_error) and std_error > 0):
        return math.nan, math.nan, math.nan
    z = z_value(alpha)
    p = float(2 * stats.norm.sf(abs(estimate / std_error)))
    return estimate - z * std_error, estimate + z * std_error, p


def to_scale(value: float, scale: str) -> float:
    """A coefficient on the presentation scale: exp() for rate ratios (with exp(-inf) = 0)."""
    if scale != "rate_ratio":
        return value
    if math.isnan(value):
        return math.nan
    if math.isinf(value):
        return 0.0 if value < 0 else math.inf
    with np.errstate(over="ignore"):
        return float(np.exp(value))


def pearson_dispersion(y: np.ndarray, mu: np.ndarray, n_params: int) -> float:
    """Pearson chi-square over residual degrees of freedom for a Poisson mean: the
    quasi-Poisson scale (1 for Poisson data; larger under overdispersion)."""
    y, mu = np.asarray(y, dtype=float), np.asarray(mu, dtype=float)
    return float(np.sum((y - mu) ** 2 / mu) / max(len(mu) - n_params, 1))


def coefficient_covariance(fit, names: list[str]) -> np.ndarray:
    """The covariance matrix of the named coefficients of a pyfixest fit (see
    `combination_covariance`; k (k + 1) / 2 calls, so for a few combinations of many
    coefficients ask for the combinations)."""
    return combination_covariance(fit, names, np.eye(len(names)))


def combination_covariance(fit, names: list[str], weights: np.ndarray) -> np.ndarray:
    """The covariance matrix of the combinations W b of the named coefficients of a pyfixest
    fit (rows of `weights` over `names`), by its public API.

    pyfixest has no public accessor for the covariance matrix (only the private `_vcov`). Its
    `wald_test(R, q)` returns W = (R b - q)' (R V R')^-1 (R b - q); with one row r and
    q = r'b + 1 the numerator is exactly 1, so r'V r = 1 / W, for whatever covariance the fit
    uses (iid, CRV1). The diagonal comes from the rows of W, the rest from
    Var(w_a'b + w_c'b) = V_aa + V_cc + 2 V_ac. tests/test_coefficient_covariance.py compares it
    with statsmodels' GLM on the same data.
    """
    coef = fit.coef()
    b = coef.to_numpy(dtype=float)
    where = [coef.index.get_loc(name) for name in names]
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    m = weights.shape[0]
    if not np.isfinite(b).all():  # pyfixest drops collinear terms, so this is not seen; the
        return np.full((m, m), np.nan)  # callers treat NaN as not estimable

    def variance(w: np.ndarray) -> float:
        if not np.any(w):
            return 0.0
        r = np.zeros((1, len(b)))
        r[0, where] = w
        wald = fit.wald_test(R=r, q=np.array([float(r[0] @ b) + 1.0]), distribution="chi2")
        return 1.0 / float(wald["statistic"])

    out = np.diag([variance(weights[a]) for a in range(m)]) if m else np.zeros((0, 0))
    for a in range(m):
        for c in range(a + 1, m):
            both = variance(weights[a] + weights[c])
            out[a, c] = out[c, a] = (both - out[a, a] - out[c, c]) / 2.0
    return out
