"""The primary DiD on many outcome vectors at once: Poisson TWFE with randomization inference.

For the most common primary analysis (one start date, Poisson / quasi-Poisson TWFE, randomization
inference) the diagnosis needs thousands of fits of the same layout. This does them in numpy on the
unit x period matrix: the TWFE fit by iterative scaling (with 0/1 regressors the Poisson ML fit
matches the unit, period and treated-post totals), the null fits likewise, and the permutation
scores as `randomization` computes them. `evaluation.estimators.core.PrimaryAnalysis` chooses it
when it applies and falls back to the general path otherwise; the tests hold the two equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import AnalysisError, EvaluationError
from evaluation.estimators.did.primary import choose_inference, treated_cohorts
from evaluation.estimators.did.randomization import (
    PermutationTest,
    make_assignments,
    permutation_test,
    studentised_tails,
)
from evaluation.estimators.did.staggered import resolve_estimator
from evaluation.estimators.prepared import PreparedData


@dataclass(frozen=True)
class FastOutcome:
    """Log rate ratio, randomization p-value at no effect, coverage of the truth, and the rule's
    confidence of any and of the minimum reduction (one-sided mid-p, as `randomization`)."""

    estimate: float
    p_value: float
    covered: bool
    conf_any: float
    conf_min: float


class NotConverged(Exception):
    """Iterative scaling did not converge; the data set goes to the general path."""


class FastTwfeRandomization:
    """The primary DiD (Poisson TWFE + randomization inference) on many outcome vectors.

    Everything that does not depend on the outcome (the unit x period layout, the exposure, the
    treated cells, the re-assignments) is set up once; each outcome vector then costs one TWFE
    fit and two null fits by iterative scaling on the matrix, and a table look-up per draw.
    """

    TOL = 1e-12  # relative change of every scale at convergence
    # Beyond this many sweeps the data set goes to the general path (never seen in practice
    # once the non-existent estimate below is caught; a safety net, not an approximation).
    MAX_SWEEPS = 20_000

    @staticmethod
    def applies(data: PreparedData) -> bool:
        if data.design.design != "did" or data.spec.model not in ("poisson", "quasi_poisson"):
            return False
        if data.repeated_cross_section or data.staggered:
            return False
        per_unit = data.panel.groupby("unit")["t"].nunique()
        if (per_unit != data.n_periods).any():
            return False
        # whole periods left out only (window.exclude, a single treatment.end): the fast path
        # keeps one set of period columns for every unit
        if data.panel.groupby("t")["excluded"].nunique().max() > 1:
            return False
        try:
            return (resolve_estimator(data)[0] == "twfe"
                    and choose_inference(data)[0] == "randomization")
        except EvaluationError:
            return False

    def __init__(self, data: PreparedData) -> None:
        spec = data.spec
        self.alpha = spec.alpha
        panel = data.panel  # sorted by unit then t (PreparedData's contract)
        self.units = tuple(dict.fromkeys(panel["unit"]))
        self.n_units, self.n_periods = len(self.units), data.n_periods
        shape = (self.n_units, self.n_periods)
        self.order = np.lexsort((panel["t"].to_numpy(), pd.Categorical(
            panel["unit"], categories=list(self.units)).codes))
        self.columns = np.flatnonzero(~panel.loc[panel["unit"] == self.units[0]]
                                      .sort_values("t")["excluded"].to_numpy(dtype=bool))
        exposure = panel["exposure"].to_numpy(dtype=float)[self.order].reshape(shape)
        d = panel["d"].to_numpy(dtype=float)[self.order].reshape(shape)
        self.exposure = exposure[:, self.columns]
        self.d = d[:, self.columns]
        self.d_mask = self.d > 0
        treated = treated_cohorts(data)
        self.treated_pre = (self.d_mask.any(axis=1)[:, None]) & ~self.d_mask
        self.assignments = make_assignments(unit_names=self.units, treated=treated,
                                            draws=spec.randomization_draws, seed=spec.seed)
        self.min_threshold = math.log(1.0 - data.design.decision.min_reduction)

    def matrix(self, y: np.ndarray) -> np.ndarray:
        """Panel-row outcome vector -> unit x used-period matrix."""
        return np.asarray(y, dtype=float)[self.order].reshape(self.n_units, self.n_periods)[
            :, self.columns]

    def outcome(self, y: np.ndarray, *, truth: float) -> FastOutcome:
        """The primary analysis of one outcome vector (panel row order). Raises AnalysisError
        where the general path refuses the data too, NotConverged where it must take over."""
        Y = self.matrix(y)
        keep_u = Y.sum(axis=1) > 0
        keep_t = Y.sum(axis=0) > 0
        treated_rows = self.d_mask.any(axis=1)
        if not keep_u[treated_rows].all():  # as did.twfe.validate refuses these data
            raise AnalysisError("a treated unit has no events in these data")
        if not keep_u[~treated_rows].any():
            raise AnalysisError("no control unit with events in these data")
        beta = self.twfe_beta(Y, keep_u, keep_t)
        tests: dict[float, PermutationTest] = {}
        for beta0 in (0.0, truth, self.min_threshold):
            if beta0 not in tests:
                tests[beta0] = self.test(Y, keep_u, keep_t, beta0=beta0)
        return FastOutcome(estimate=beta, p_value=tests[0.0].p_value,
                           covered=bool(tests[truth].p_value > self.alpha),
                           conf_any=tests[0.0].below, conf_min=tests[self.min_threshold].below)

    # Poisson ML fits by iterative scaling -------------------------------------------------------
    def _scale(self, Y: np.ndarray, E: np.ndarray, ED: np.ndarray | None,
               keep_u: np.ndarray, keep_t: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Unit scale a, period scale b and (with ED) g = exp(beta) such that the fitted unit,
        period (and treated-post) totals equal the observed ones: the Poisson ML fit. Each
        update solves one set of margins exactly given the others (coordinate ascent on the
        log-likelihood); units / periods without events keep scale 0 (effect minus infinity)."""
        row_total, col_total = Y.sum(axis=1), Y.sum(axis=0)
        d_total = float((Y * self.d).sum()) if ED is not None else 0.0
        b = keep_t.astype(float)
        a = np.zeros(self.n_units)
        g = 1.0
        for _ in range(self.MAX_SWEEPS + 1):
            fit_rows = E @ b if ED is None else E @ b + (g - 1.0) * (ED @ b)
            new_a = np.divide(row_total, fit_rows, out=np.zeros_like(row_total),
                              where=keep_u & (fit_rows > 0))
            fit_cols = new_a @ E if ED is None else new_a @ E + (g - 1.0) * (new_a @ ED)
            new_b = np.divide(col_total, fit_cols, out=np.zeros_like(col_total),
                              where=keep_t & (fit_cols > 0))
            change = max(_relative_change(a, new_a), _relative_change(b, new_b))
            a, b = new_a, new_b
            if ED is not None:
                base = float(a @ ED @ b)
                new_g = d_total / base if base > 0 else 0.0
                change = max(change, abs(new_g / g - 1.0) if g > 0 else 0.0)
                g = new_g
                if g == 0.0:
                    break
            if change < self.TOL:
                break
        else:
            raise NotConverged
        return a, b, g

    def twfe_beta(self, Y: np.ndarray, keep_u: np.ndarray, keep_t: np.ndarray) -> float:
        if not Y[self.treated_pre].any():
            # No treated event before the start: the ML estimate does not exist (it is +inf;
            # a fitting routine stops at some large, arbitrary number instead).
            return math.inf
        E = self.exposure * keep_u[:, None] * keep_t[None, :]
        _, _, g = self._scale(Y, E, E * self.d, keep_u, keep_t)
        return math.log(g) if g > 0 else -math.inf

    def test(self, Y: np.ndarray, keep_u: np.ndarray, keep_t: np.ndarray, *,
             beta0: float) -> PermutationTest:
        """Randomization test of `effect = beta0`, as evaluation.did.randomization computes it."""
        Y0 = Y * np.exp(-beta0 * self.d)
        E = self.exposure * keep_u[:, None] * keep_t[None, :]
        a, b, _ = self._scale(Y0, E, None, keep_u, keep_t)
        mu0 = E * a[:, None] * b[None, :]
        resid = np.zeros((self.n_units, self.n_periods + 1))
        var = np.zeros((self.n_units, self.n_periods + 1))
        resid[:, self.columns] = (Y0 - mu0) * keep_t[None, :]
        var[:, self.columns] = mu0
        tail_r, tail_v = studentised_tails(np.cumsum(resid[:, ::-1], axis=1)[:, ::-1],
                                           np.cumsum(var[:, ::-1], axis=1)[:, ::-1])
        asg = self.assignments

        def statistic(units: np.ndarray) -> np.ndarray:
            num = tail_r[units, asg.cohorts].sum(axis=-1)
            den = tail_v[units, asg.cohorts].sum(axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(den > 0, num / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)

        t_obs = float(statistic(asg.observed[None, :])[0])
        return permutation_test(t_obs, statistic(asg.units), exact=asg.exact)


def _relative_change(old: np.ndarray, new: np.ndarray) -> float:
    scale = np.maximum(np.abs(new), 1e-300)
    return float(np.max(np.abs(new - old) / scale, initial=0.0))
