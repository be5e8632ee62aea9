"""The one simulation model: unit x period outcomes with a known effect.

Everything that simulates draws from `PanelModel`: the design diagnosis (the model fitted to the
design's own history before its start, `simulation.null_model`), the tests and the calibration
studies (a synthetic programme, `simulation.synthetic`). For panel row r (unit i, period t):

  counts   y_r ~ Poisson(mu_r * exp(u[p_r, t]) * g[f_r] * RR^treated_post_r)
  linear   y_r = mu_r * RR^treated_post_r + share_r * (u[p_r, t] + sigma * z[f_r])

- `mu`: the baseline mean (unit size x unit effect x period effect: trend, season, exposure);
- `u`: persistent deviations, one stationary AR(1) process per `process` (a unit, or the
  units of one ITS series together) with `persistence` rho per period and stationary standard
  deviation `deviation_sd`: local shocks that last for months (rho 0.8 per week: half-life about
  three weeks). For counts it is on the log scale, centred so that E exp(u) = 1 (the mean stays
  mu); for linear outcomes it is additive;
- `g`: overdispersion, Gamma(1/alpha, alpha) per `frailty` group (a cell, or an ITS series in a
  period, so that the summed series is negative binomial), alpha = `dispersion` (0: Poisson;
  an array gives each frailty group its own, e.g. NB1 with alpha = (phi - 1) / mean);
- `z`: standard normal noise of linear outcomes per frailty group.

Random numbers are drawn in this order: deviations (only when deviation_sd > 0), frailties
(only when dispersion > 0, counts), Poisson counts or normal noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.signal import lfilter


@dataclass(frozen=True)
class PanelModel:
    """Means and noise of one unit x period layout (panel row order); see the module docstring."""

    mu: np.ndarray  # baseline mean per row: no effect, no deviation
    t: np.ndarray  # period index per row (0 .. n_periods - 1)
    process: np.ndarray  # deviation process per row (a unit, or an ITS series)
    frailty: np.ndarray  # gamma / noise group per row
    share: np.ndarray  # per row: its share of its frailty group's noise (linear)
    treated_post: np.ndarray  # bool per row: the rows an effect multiplies
    n_periods: int
    count: bool = True
    dispersion: float | np.ndarray = 0.0  # NB2 alpha per frailty group (counts)
    persistence: float = 0.0  # AR(1) coefficient per period
    deviation_sd: float = 0.0  # stationary sd of the deviations
    sigma: float = 0.0  # residual sd per frailty group (linear)
    kind: str = "simulation model"
    noise: dict[str, float] = field(default_factory=dict)  # fitted noise terms, for describe()

    @property
    def n_process(self) -> int:
        return int(self.process.max()) + 1 if len(self.process) else 0

    @property
    def n_frailty(self) -> int:
        return int(self.frailty.max()) + 1 if len(self.frailty) else 0

    def deviations(self, rng: np.random.Generator) -> np.ndarray:
        """One draw of the persistent deviations, per row (0 when there are none)."""
        if self.deviation_sd <= 0:
            return np.zeros(len(self.mu))
        u = ar1(rng, n_series=self.n_process, n_periods=self.n_periods,
                rho=self.persistence, sd=self.deviation_sd)
        if self.count:
            u = u - 0.5 * self.deviation_sd**2  # E exp(u) = 1: the mean stays mu
        return u[self.process, self.t]

    def latent(self, rng: np.random.Generator, *, rate_ratio: float = 1.0,
               treated_post: np.ndarray | None = None) -> np.ndarray:
        """The Poisson mean per row (counts) or the outcome without its normal noise (linear),
        with the effect `rate_ratio` on `treated_post` rows (default: the model's own)."""
        rows = self.treated_post if treated_post is None else treated_post
        mean = np.where(rows, self.mu * rate_ratio, self.mu)
        u = self.deviations(rng)
        if not self.count:
            return mean + self.share * u
        mean = mean * np.exp(u)
        alpha = np.asarray(self.dispersion, dtype=float)
        if np.any(alpha > 0):
            shape = 1.0 / np.where(alpha > 0, alpha, 1.0)
            g = rng.gamma(shape, 1.0 / shape, size=self.n_frailty)
            mean = mean * np.where(alpha > 0, g, 1.0)[self.frailty]
        return mean

    def simulate(self, rng: np.random.Generator, *, rate_ratio: float = 1.0,
                 treated_post: np.ndarray | None = None) -> np.ndarray:
        """One outcome vector (panel row order) with the effect `rate_ratio`."""
        mean = self.latent(rng, rate_ratio=rate_ratio, treated_post=treated_post)
        if self.count:
            return rng.poisson(mean).astype(float)
        noise = rng.normal(0.0, self.sigma, size=self.n_frailty)
        return mean + self.share * noise[self.frailty]

    def describe(self) -> dict[str, Any]:
        alpha = np.asarray(self.dispersion, dtype=float)
        scalar = self.count and alpha.ndim == 0
        return {"kind": self.kind, "count": self.count,
                "nb_alpha": float(alpha) if scalar else None,
                "residual_sd": None if self.count else self.sigma,
                "persistence": self.persistence, "deviation_sd": self.deviation_sd,
                "half_life_periods": half_life(self.persistence),
                "mean_per_row": float(np.mean(self.mu)), **self.noise}


def ar1(rng: np.random.Generator, *, n_series: int, n_periods: int, rho: float,
        sd: float) -> np.ndarray:
    """Stationary AR(1) paths (n_series x n_periods) with marginal sd `sd`."""
    shocks = rng.standard_normal((n_series, n_periods))
    shocks[:, 1:] *= sd * np.sqrt(max(1.0 - rho**2, 0.0))
    shocks[:, 0] *= sd
    return lfilter([1.0], [1.0, -rho], shocks, axis=1)


def half_life(rho: float) -> float | None:
    """Periods until a deviation has halved: log(1/2) / log(rho); None without persistence."""
    if not 0 < rho < 1:
        return None
    return float(np.log(0.5) / np.log(rho))
