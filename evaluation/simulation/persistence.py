"""What the null model leaves over: overdispersion and how long local deviations last.

The null model of a design explains each unit's counts by its own level and the common period
effects. What is left over is not all Poisson noise: attacks come in series (a follow-up within
days adds variance in proportion to the mean: negative binomial NB1), and a municipality's rate
can stay high or low for weeks or months (a local feud, an arrested group: multiplicative
deviations, variance in proportion to the squared mean, NB2, and correlated over time).

Estimation by moments on the history. For lags k = 0..K, per series i (a unit, or an ITS series)
S_ik = sum_t r_it r_i(t+k) (k = 0: sum (r^2 - m), the excess over Poisson) with r = y - m the
residuals around the fitted means m. Across many series (did) S_ik is regressed, weighted, on
X1 = sum sqrt(m_t m_(t+k)) and X2 = sum m_t m_(t+k): `linear[k]` and `quadratic[k]` (both at least
0). With one or two series (its) only the quadratic part is estimated, as sum S / sum X2.
`linear[0]` is the NB1 part of the variance, `quadratic[0]` the NB2 part; the quadratic
covariances at k >= 1 are the persistent deviations'.

Persistence: for a stationary AR(1) deviation with variance v (counts: v = Var exp(u),
approximately) the lag-k covariance is v rho^k; the fitted model absorbs part of every series'
deviation (its level; for ITS also its trend and season), so the quadratic covariances are
compared with those of the process after projecting out that `basis` (default: the series' mean),
D_k(rho, v), computed exactly for the history's length. v follows by least squares for each rho on
a grid whose lag-1 covariance after projection is positive and whose within-series variance
v D_0 does not exceed the quadratic excess at lag 0; the rho with the smallest squared error
wins. Persistence is kept only when the lag-1 covariance is significantly positive (2 standard
errors: the regression's across series, else 1 / sqrt(pairs) for the lag-1 autocorrelation of
the Pearson residuals); otherwise rho = v = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RHO_GRID = np.round(np.arange(0.0, 0.981, 0.01), 2)
MAX_LAGS = 8  # lags used: at most this many, and at most a quarter of the history
SIGNIFICANCE_Z = 2.0  # persistence is kept when the lag-1 covariance is this many se above 0


@dataclass(frozen=True)
class LagMoments:
    """Residual (co)variances by lag: the part proportional to the mean and to its square."""

    linear: np.ndarray  # k = 0..K
    quadratic: np.ndarray  # k = 0..K
    lag1_significant: bool  # the quadratic (or, unsplit, the Pearson) lag-1 covariance > 2 se


@dataclass(frozen=True)
class Persistence:
    rho: float  # AR(1) coefficient per period
    variance: float  # v: counts Var(exp(u)); linear Var(u)
    n_periods: int  # length of the history it was estimated on
    basis: np.ndarray | None = None  # what the fitted model absorbs of each series (see above)

    def deviation_sd(self, *, count: bool) -> float:
        """The stationary sd of u (log scale for counts: exp(u) has variance v)."""
        if self.variance <= 0:
            return 0.0
        return math.sqrt(math.log1p(self.variance)) if count else math.sqrt(self.variance)

    def within_variance(self) -> float:
        """The part of v that remains after each series' own level is fitted (lag 0 of D)."""
        if self.variance <= 0:
            return 0.0
        return float(self.variance * demeaned_covariances(self.rho, self.n_periods, 0,
                                                          self.basis)[0])


def demeaned_covariances(rho: float, n_periods: int, max_lag: int,
                         basis: np.ndarray | None = None) -> np.ndarray:
    """Average lag-k covariance (k = 0..max_lag) of a unit-variance AR(1) over `n_periods`
    periods after projecting out `basis` (n_periods x p; default: a constant, its own mean)."""
    k = np.arange(n_periods)
    gamma = rho ** np.abs(k[:, None] - k[None, :])
    if basis is None:
        centred = gamma - gamma.mean(axis=0)[None, :] - gamma.mean(axis=1)[:, None] + gamma.mean()
    else:
        project = np.eye(n_periods) - basis @ np.linalg.pinv(basis)
        centred = project @ gamma @ project
    return np.array([np.diagonal(centred, offset=lag).mean() for lag in range(max_lag + 1)])


def n_lags(n_periods: int) -> int:
    return min(MAX_LAGS, n_periods // 4)


def lag_moments(y: np.ndarray, mean: np.ndarray, use: np.ndarray, *, count: bool,
                split: bool) -> LagMoments:
    """The residual moments of series x period matrices (see the module docstring); `split`
    separates the linear and quadratic parts across series (needs many series)."""
    lags = n_lags(y.shape[1])
    use = use & np.isfinite(y) & np.isfinite(mean)
    resid = np.where(use, y - mean, 0.0)
    m = np.where(use, mean if count else 1.0, 0.0)
    linear, quadratic, se1 = np.zeros(lags + 1), np.zeros(lags + 1), math.inf
    for k in range(lags + 1):
        end = y.shape[1] - k
        s = np.sum(resid[:, :end] * resid[:, k:], axis=1)
        if k == 0 and count:
            s = s - np.sum(m, axis=1)  # the Poisson part of the variance
        x1 = np.sum(np.sqrt(m[:, :end] * m[:, k:]), axis=1)
        x2 = np.sum(m[:, :end] * m[:, k:], axis=1)
        if split and count:
            linear[k], quadratic[k], se = _nonnegative_wls(s, x1, x2)
            se1 = se if k == 1 else se1
        else:
            quadratic[k] = float(s.sum() / x2.sum()) if x2.sum() > 0 else math.nan
    if split and count:
        significant = lags >= 1 and quadratic[1] > SIGNIFICANCE_Z * se1
    else:
        significant = _pearson_lag1_significant(resid, mean, use, count=count)
    return LagMoments(linear=linear, quadratic=quadratic, lag1_significant=bool(significant))


def estimate_persistence(moments: LagMoments, *, n_periods: int,
                         basis: np.ndarray | None = None) -> Persistence:
    """AR(1) persistence and variance of the deviations from the quadratic lag moments."""
    lags = len(moments.quadratic) - 1
    none = Persistence(rho=0.0, variance=0.0, n_periods=n_periods, basis=basis)
    observed, excess = moments.quadratic[1:], moments.quadratic[0]
    if lags < 1 or not moments.lag1_significant or not np.all(np.isfinite(observed)) \
            or not excess > 0:
        return none
    best = (math.inf, 0.0, 0.0)
    for rho in RHO_GRID:
        covariances = demeaned_covariances(float(rho), n_periods, lags, basis)
        shape = covariances[1:]
        if shape[0] <= 0:
            continue  # no positive lag-1 covariance left after the fit: cannot explain it
        v = float(observed @ shape) / float(shape @ shape)
        if v <= 0 or v * covariances[0] > excess:
            continue
        error = float(np.sum((observed - v * shape) ** 2))
        if error < best[0]:
            best = (error, float(rho), v)
    _, rho, v = best
    return Persistence(rho=rho, variance=v, n_periods=n_periods, basis=basis)


def _nonnegative_wls(s: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> tuple[float, float, float]:
    """s ~ a x1 + b x2 with a, b >= 0, weights 1 / (x1 + x2) (the Poisson-level variance of s);
    returns a, b and the standard error of b."""
    keep = (x1 + x2) > 0
    s, x1, x2 = s[keep], x1[keep], x2[keep]
    if len(s) < 3:
        return 0.0, 0.0, math.inf
    w = 1.0 / (x1 + x2)
    X = np.column_stack([x1, x2])
    candidates = [(True, True), (True, False), (False, True)]
    best: tuple[float, float, float, float] | None = None
    for use_a, use_b in candidates:
        cols = [c for c, on in zip((0, 1), (use_a, use_b), strict=True) if on]
        Xc = X[:, cols]
        xtwx = Xc.T @ (w[:, None] * Xc)
        coef = np.linalg.lstsq(xtwx, Xc.T @ (w * s), rcond=None)[0]
        if np.any(coef < 0):
            continue
        full = np.zeros(2)
        full[cols] = coef
        resid = s - X @ full
        rss = float(np.sum(w * resid**2))
        se_b = math.inf
        if use_b:
            sigma2 = rss / max(len(s) - len(cols), 1)
            cov = sigma2 * np.linalg.pinv(xtwx)
            se_b = math.sqrt(max(float(cov[cols.index(1), cols.index(1)]), 0.0))
        if best is None or rss < best[0]:
            best = (rss, float(full[0]), float(full[1]), se_b)
    if best is None:
        return 0.0, 0.0, math.inf
    return best[1], best[2], best[3]


def _pearson_lag1_significant(resid: np.ndarray, mean: np.ndarray, use: np.ndarray, *,
                              count: bool) -> bool:
    """Whether the pooled lag-1 autocorrelation of the Pearson residuals exceeds
    SIGNIFICANCE_Z / sqrt(pairs): without it a short series' chance correlation (standard
    error 1 / sqrt(pairs)) would be read as persistence."""
    pearson = np.where(use & (mean > 0), resid / np.sqrt(np.where(mean > 0, mean, 1.0)), 0.0) \
        if count else np.where(use, resid, 0.0)
    pairs = int(np.sum(use[:, 1:] & use[:, :-1]))
    denom = float(np.sum(pearson**2))
    if pairs < 1 or denom <= 0:
        return False
    lag1 = float(np.sum(pearson[:, 1:] * pearson[:, :-1])) / denom
    return lag1 > SIGNIFICANCE_Z / math.sqrt(pairs)
