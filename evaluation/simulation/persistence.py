"""How long local deviations last: the AR(1) persistence of a history's residuals.

The null model of a design explains each unit's counts by its own level and the common period
effects. What is left over is not all noise: a municipality's rate can stay high or low for
months (a local feud, an arrested group). Such persistent deviations make a treated unit's post
period differ from its pre period without any effect, which a simulation without them would miss.

Estimation by moments on the history: for lags k = 1..K, C_k = sum r_t r_(t+k) / sum m_t m_(t+k)
over every series and t, with r = y - m the residuals around the fitted means m (m = 1 for linear
outcomes: covariances on the outcome's own scale). For a stationary AR(1) deviation x with
variance v (counts: v = Var exp(u), approximately) the lag-k covariance is v rho^k; the fitted
model absorbs part of every series' deviation (its level; for ITS also its trend and season), so
the observed C_k are compared with the covariances of the process after projecting out that
`basis` (default: the series' mean), D_k(rho, v), computed exactly for the history's length. v
follows by least squares for each rho on a grid whose lag-1 covariance after projection is
positive and whose implied within-series variance v D_0 does not exceed the excess variance the
history shows at lag 0 (counts: beyond Poisson); the rho with the smallest squared error wins.
Persistence is
kept only when the pooled lag-1 autocorrelation of the Pearson residuals is significantly
positive (more than 2 / sqrt(pairs of consecutive cells)): a short series' chance correlation is
not read as persistence. Otherwise rho = v = 0, and the remaining variation is the
overdispersion's, estimated separately.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RHO_GRID = np.round(np.arange(0.0, 0.981, 0.01), 2)
MAX_LAGS = 8  # lags used: at most this many, and at most a quarter of the history
SIGNIFICANCE_Z = 2.0  # persistence is kept when the lag-1 autocorrelation is this many se above 0


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


def estimate_persistence(y: np.ndarray, mean: np.ndarray, use: np.ndarray, *, count: bool,
                         basis: np.ndarray | None = None) -> Persistence:
    """AR(1) persistence and variance of the deviations from series x period matrices of
    outcomes `y`, fitted means `mean`, and the cells `use`d (see the module docstring)."""
    n_periods = y.shape[1]
    lags = min(MAX_LAGS, n_periods // 4)
    none = Persistence(rho=0.0, variance=0.0, n_periods=n_periods, basis=basis)
    if lags < 1:
        return none
    use = use & np.isfinite(y) & np.isfinite(mean)
    resid = np.where(use, y - mean, 0.0)
    scale = np.where(use, mean if count else 1.0, 0.0)
    observed = np.array([_lag_ratio(resid, scale, k) for k in range(1, lags + 1)])
    # the excess variance at lag 0 (counts: beyond Poisson) bounds what deviations can explain
    excess = _lag_ratio(resid, scale, 0) - (_poisson_part(mean, scale, use) if count else 0.0)
    if not np.all(np.isfinite(observed)) or not excess > 0 or not _significant(resid, mean, use,
                                                                               count=count):
        return none
    best = (math.inf, 0.0, 0.0)
    for rho in RHO_GRID:
        covariances = demeaned_covariances(float(rho), n_periods, lags, basis)
        shape = covariances[1:]
        if shape[0] <= 0:
            continue  # no positive lag-1 covariance left after the fit: cannot explain C_1 > 0
        v = float(observed @ shape) / float(shape @ shape)
        if v <= 0 or v * covariances[0] > excess:
            continue
        error = float(np.sum((observed - v * shape) ** 2))
        if error < best[0]:
            best = (error, float(rho), v)
    _, rho, v = best
    return Persistence(rho=rho, variance=v, n_periods=n_periods, basis=basis)


def _significant(resid: np.ndarray, mean: np.ndarray, use: np.ndarray, *, count: bool) -> bool:
    """Whether the pooled lag-1 autocorrelation of the Pearson residuals exceeds
    SIGNIFICANCE_Z / sqrt(pairs): without it a short history's chance correlation (standard
    error 1 / sqrt(pairs)) would be read as persistence."""
    pearson = np.where(use & (mean > 0), resid / np.sqrt(np.where(mean > 0, mean, 1.0)), 0.0) \
        if count else np.where(use, resid, 0.0)
    pairs = int(np.sum(use[:, 1:] & use[:, :-1]))
    denom = float(np.sum(pearson**2))
    if pairs < 1 or denom <= 0:
        return False
    lag1 = float(np.sum(pearson[:, 1:] * pearson[:, :-1])) / denom
    return lag1 > SIGNIFICANCE_Z / math.sqrt(pairs)


def _lag_ratio(resid: np.ndarray, scale: np.ndarray, k: int) -> float:
    end = resid.shape[1] - k
    num = float(np.sum(resid[:, :end] * resid[:, k:]))
    den = float(np.sum(scale[:, :end] * scale[:, k:]))
    return num / den if den > 0 else math.nan


def _poisson_part(mean: np.ndarray, scale: np.ndarray, use: np.ndarray) -> float:
    # E r^2 = m + m^2 x excess: the Poisson variance m over the sum of m^2
    den = float(np.sum(scale**2))
    return float(np.sum(np.where(use, mean, 0.0))) / den if den > 0 else math.nan
