"""Restricted wild cluster bootstrap (WCR) with Webb weights, for the linear TWFE model.

The null is imposed (restricted residuals), residuals are flipped by cluster (unit) with Webb's
six-point weights (+-sqrt(1/2), +-1, +-sqrt(3/2), each 1/6), and the bootstrap t statistic
(CRV1, clustered by unit) is compared with the observed one: p = share of |t*| >= |t|.
The interval collects the effects beta0 whose restricted bootstrap test does not reject at alpha.
Confidence that the effect lies below beta0 (the decision rule's quantities): the share of
restricted bootstrap t statistics at beta0 above the observed one, ties counted half.

Everything runs on the fixed-effects-projected (within) data by Frisch-Waugh-Lovell. For a
balanced panel the projection of a cluster-reweighted residual has a closed form (unit and period
means), so every draw is one small matrix product and the data are never refitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.errors import AnalysisError
from evaluation.estimators.confidence import confidence
from evaluation.estimators.did.twfe import crv1_factor, fit_null

WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
CI_TOLERANCE = defaults.BOOTSTRAP_CI_TOLERANCE  # share of the standard error
CI_MAX_SE = defaults.BOOTSTRAP_CI_MAX_SE


@dataclass(frozen=True)
class BootstrapResult:
    p_value: float
    ci_low: float
    ci_high: float
    draws: int
    confidence: dict[str, Any] | None = None  # the rule's confidence (estimators.confidence)

    def as_dict(self) -> dict[str, object]:
        return {"draws": self.draws, "exact": False, "weights": "webb", "restricted": True}


class _Within:
    """Within-transformed y and d as unit x period matrices (balanced panel)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        units = pd.Categorical(frame["unit"])
        periods = pd.Categorical(frame["t"])
        shape = (len(units.categories), len(periods.categories))
        if shape[0] * shape[1] != len(frame):
            raise AnalysisError("analysis.inference: wild_bootstrap needs a balanced panel (every "
                                "unit in every period); use randomization or cluster")
        y = frame["y"].to_numpy(dtype=float)
        d = frame["d"].to_numpy(dtype=float)
        self.y_tilde = np.zeros(shape)
        self.d_tilde = np.zeros(shape)
        self.y_tilde[units.codes, periods.codes] = y - fit_null(frame, model="linear", y=y)
        self.d_tilde[units.codes, periods.codes] = d - fit_null(frame, model="linear", y=d)
        self.sdd = float(np.sum(self.d_tilde**2))
        self.q = np.sum(self.d_tilde**2, axis=1)  # per cluster
        self.factor = crv1_factor(frame)
        self.beta = float(np.sum(self.d_tilde * self.y_tilde) / self.sdd)
        resid = self.y_tilde - self.beta * self.d_tilde
        scores = np.sum(self.d_tilde * resid, axis=1)
        self.se = float(np.sqrt(self.factor * scores @ scores) / self.sdd)

    def score_map(self, beta0: float) -> np.ndarray:
        """C with (C @ w)_g = sum over cluster g of d_tilde * M(u_r * w): u_r restricted residuals.

        For balanced two-way effects M v = v - unit mean - period mean + grand mean, and d_tilde
        sums to zero within each unit, so only the period-mean term survives besides w_g s_g.
        """
        u_r = self.y_tilde - beta0 * self.d_tilde
        s = np.sum(self.d_tilde * u_r, axis=1)
        g = u_r.shape[0]
        return np.diag(s) - (self.d_tilde @ u_r.T) / g

    def t_stats(self, beta0: float, weights: np.ndarray) -> np.ndarray:
        """Bootstrap t statistics (CRV1) of the restricted model under `effect = beta0`."""
        numer = weights @ self.score_map(beta0).T  # (B, G)
        delta = numer.sum(axis=1) / self.sdd  # beta* - beta0
        resid_scores = numer - delta[:, None] * self.q[None, :]
        se = np.sqrt(self.factor * np.sum(resid_scores**2, axis=1)) / self.sdd
        return delta / se

    def p_value(self, beta0: float, weights: np.ndarray) -> float:
        t_obs = (self.beta - beta0) / self.se
        return float(np.mean(np.abs(self.t_stats(beta0, weights)) >= abs(t_obs)))

    def below(self, beta0: float, weights: np.ndarray) -> float:
        """Confidence that the effect lies below beta0: share of t* above t observed (ties half)."""
        t_obs = (self.beta - beta0) / self.se
        t_star = self.t_stats(beta0, weights)
        return float(np.mean(t_star > t_obs) + 0.5 * np.mean(t_star == t_obs))


def wild_cluster_bootstrap(frame: pd.DataFrame, *, draws: int, seed: int, alpha: float,
                           thresholds: dict[str, float | None] | None = None) -> BootstrapResult:
    """WCR bootstrap p-value of `effect = 0` and the test-inversion interval (linear model);
    with `thresholds` (name -> beta0) also the rule's confidence at each."""
    within = _Within(frame)
    rng = np.random.default_rng(seed)
    weights = WEBB[rng.integers(0, len(WEBB), size=(draws, within.d_tilde.shape[0]))]
    p0 = within.p_value(0.0, weights)
    step = within.se
    low = _end(lambda b: within.p_value(b, weights), within.beta, -step, alpha)
    high = _end(lambda b: within.p_value(b, weights), within.beta, step, alpha)
    conf = None
    if thresholds:
        values = {k: None if b is None else within.below(b, weights) for k, b in thresholds.items()}
        mcse = {k: math.sqrt(v * (1 - v) / draws) for k, v in values.items() if v is not None}
        conf = confidence(values, method="wild_bootstrap", thresholds=thresholds, mcse=mcse)
    return BootstrapResult(p_value=p0, ci_low=low, ci_high=high, draws=draws, confidence=conf)


def _end(p_at, start: float, step: float, alpha: float) -> float:
    inside, k = start, 1.0
    while True:
        outside = start + k * step
        if p_at(outside) <= alpha:
            break
        inside = outside
        k *= 2
        if k > CI_MAX_SE:
            return float("inf") if step > 0 else float("-inf")
    while abs(outside - inside) > CI_TOLERANCE * abs(step):
        mid = 0.5 * (inside + outside)
        if p_at(mid) > alpha:
            inside = mid
        else:
            outside = mid
    return 0.5 * (inside + outside)
