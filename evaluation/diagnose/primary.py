"""The registered primary analysis without its checks: estimate, p-value and coverage only.

`estimate_did` always runs its pre-specified checks (placebo dates, leave-one-out, displacement,
event study), each a handful of refits; a diagnosis needs only the primary estimate and its
inference, so it calls the estimators' lower-level public functions:

- did: `evaluation.did.validate`, `model_rows`, `choose_inference`, `fit_twfe` + `infer` (or
  `fit_staggered` for staggered starts), and the randomization module for the test at the truth;
- its: `build_series`, `fit_with_inference`, `wald` (what `estimate_its(with_checks=False)`
  does, without the series table and the averted-attacks draws).

Coverage: for Wald-type inference (cluster, model, HAC, wild bootstrap) the interval contains the
true effect; for randomization inference "the sharp null at the true effect is not rejected"
(one more null fit), which is exactly "the test-inversion interval contains the truth" without
inverting the test in every simulation.

`FastTwfeRandomization` does the same for the most common primary analysis (one start date,
Poisson / quasi-Poisson TWFE, randomization inference) in numpy on the unit x period matrix: the
TWFE fit by iterative scaling (with 0/1 regressors the Poisson ML fit matches the unit, period
and treated-post totals), the null fits likewise, and the permutation scores as the
randomization module computes them. The tests check it against the general path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.estimators.prepared import PreparedData


@dataclass(frozen=True)
class Outcome:
    """One simulated analysis: estimate (log RR, or difference for linear), p-value, coverage."""

    estimate: float
    p_value: float
    covered: bool
    error: str | None = None  # the analysis could not be run on this data set (e.g. no events)


def failed(message: str) -> Outcome:
    return Outcome(estimate=math.nan, p_value=math.nan, covered=False, error=message)


def primary_outcome(data: PreparedData, *, truth: float) -> Outcome:
    """The registered primary analysis of `data` and whether it covers `truth` (general path)."""
    try:
        if data.design.design == "its":
            return _its(data, truth=truth)
        return _did(data, truth=truth)
    except EvaluationError as exc:  # the registered analysis would stop on these data too
        return failed(str(exc).split(";")[0])


# --- did -----------------------------------------------------------------------------------------
def treated_cohorts(data: PreparedData) -> dict[str, int]:
    rows = data.panel.loc[data.panel["treated_unit"], ["unit", "cohort"]].drop_duplicates()
    return {str(u): int(c) for u, c in rows.itertuples(index=False)}


def _did(data: PreparedData, *, truth: float) -> Outcome:
    from evaluation.estimators.did import choose_inference, infer, model_rows, validate
    from evaluation.estimators.did.staggered import fit_staggered, resolve_estimator
    from evaluation.estimators.did.twfe import fit_twfe

    spec = data.spec
    validate(data)
    ri_frame, frame, _ = model_rows(data)
    used, _ = choose_inference(data)
    estimator, _ = resolve_estimator(data)
    treated = treated_cohorts(data)
    if estimator == "twfe":
        fit = fit_twfe(frame, model=spec.model)
        summary = infer(ri_frame, fit=fit, treated=treated, used=used, data=data, interval=False)
        beta, p, low, high = summary["beta"], summary["p_value"], summary["ci_low"], summary["ci_high"]
    else:
        staggered = fit_staggered(data, estimator=estimator, control_group=spec.control_group)
        beta, p, low, high = (staggered.estimate, staggered.p_value, staggered.ci_low,
                              staggered.ci_high)
        if used == "randomization":
            from evaluation.estimators.did.randomization import randomization_inference

            p = randomization_inference(ri_frame, model=spec.model, treated=treated,
                                        beta_hat=beta, se_hint=staggered.std_error,
                                        draws=spec.randomization_draws, seed=spec.seed,
                                        alpha=spec.alpha, n_periods=data.n_periods,
                                        interval=False).p_value
    if used == "randomization":
        covered = randomization_p_value(data, ri_frame, treated, beta0=truth) > spec.alpha
    else:
        covered = bool(low <= truth <= high)
    return Outcome(estimate=float(beta), p_value=float(p), covered=covered)


def randomization_p_value(data: PreparedData, frame: pd.DataFrame, treated: dict[str, int], *,
                          beta0: float) -> float:
    """The design's randomization p-value of the sharp null `effect = beta0`."""
    from evaluation.estimators.did.randomization import (
        ScoreTable,
        make_assignments,
        null_residuals,
        p_value_at,
    )

    spec = data.spec
    unit_names = tuple(dict.fromkeys(frame["unit"]))
    assignments = make_assignments(unit_names=unit_names, treated=treated,
                                   draws=spec.randomization_draws, seed=spec.seed)
    residuals_at = null_residuals(frame, model=spec.model)

    def table_of(resid: np.ndarray, var: np.ndarray) -> ScoreTable:
        return ScoreTable(frame, unit_names, resid, var, data.n_periods)

    return p_value_at(residuals_at, table_of, assignments, beta0)[0]


# --- its -----------------------------------------------------------------------------------------
def _its(data: PreparedData, *, truth: float) -> Outcome:
    from evaluation.estimators.its import primary_level_change

    level = primary_level_change(data)
    return Outcome(estimate=level.coef, p_value=level.p_value,
                   covered=bool(level.low <= truth <= level.high))


# --- fast path: one start, Poisson TWFE, randomization inference ----------------------------------
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
        from evaluation.estimators.did import choose_inference
        from evaluation.estimators.did.staggered import resolve_estimator

        if data.design.design != "did" or data.spec.model not in ("poisson", "quasi_poisson"):
            return False
        if data.repeated_cross_section or data.staggered:
            return False
        per_unit = data.panel.groupby("unit")["t"].nunique()
        if (per_unit != data.n_periods).any():
            return False
        try:
            return (resolve_estimator(data)[0] == "twfe"
                    and choose_inference(data)[0] == "randomization")
        except EvaluationError:
            return False

    def __init__(self, data: PreparedData) -> None:
        from evaluation.estimators.did.randomization import make_assignments

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
        self.data = data
        self.treated_pre = (self.d_mask.any(axis=1)[:, None]) & ~self.d_mask
        self.assignments = make_assignments(unit_names=self.units, treated=treated,
                                            draws=spec.randomization_draws, seed=spec.seed)

    def matrix(self, y: np.ndarray) -> np.ndarray:
        """Panel-row outcome vector -> unit x used-period matrix."""
        return np.asarray(y, dtype=float)[self.order].reshape(self.n_units, self.n_periods)[
            :, self.columns]

    def outcome(self, y: np.ndarray, *, truth: float) -> Outcome:
        Y = self.matrix(y)
        keep_u = Y.sum(axis=1) > 0
        keep_t = Y.sum(axis=0) > 0
        treated_rows = self.d_mask.any(axis=1)
        if not keep_u[treated_rows].all():  # as evaluation.did.validate refuses these data
            return failed("a treated unit has no events in these data")
        if not keep_u[~treated_rows].any():
            return failed("no control unit with events in these data")
        try:
            beta = self.twfe_beta(Y, keep_u, keep_t)
            p0 = self.p_value(Y, keep_u, keep_t, beta0=0.0)
            p_truth = self.p_value(Y, keep_u, keep_t, beta0=truth)
        except _NotConverged:
            return primary_outcome(self.data.with_outcome(y), truth=truth)
        return Outcome(estimate=beta, p_value=p0, covered=bool(p_truth > self.alpha))

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
            raise _NotConverged
        return a, b, g

    def twfe_beta(self, Y: np.ndarray, keep_u: np.ndarray, keep_t: np.ndarray) -> float:
        if not Y[self.treated_pre].any():
            # No treated event before the start: the ML estimate does not exist (it is +inf;
            # a fitting routine stops at some large, arbitrary number instead).
            return math.inf
        E = self.exposure * keep_u[:, None] * keep_t[None, :]
        _, _, g = self._scale(Y, E, E * self.d, keep_u, keep_t)
        return math.log(g) if g > 0 else -math.inf

    def p_value(self, Y: np.ndarray, keep_u: np.ndarray, keep_t: np.ndarray, *,
                beta0: float) -> float:
        """Randomization p-value of `effect = beta0`, as evaluation.did.randomization computes it."""
        Y0 = Y * np.exp(-beta0 * self.d)
        E = self.exposure * keep_u[:, None] * keep_t[None, :]
        a, b, _ = self._scale(Y0, E, None, keep_u, keep_t)
        mu0 = E * a[:, None] * b[None, :]
        resid = np.zeros((self.n_units, self.n_periods + 1))
        var = np.zeros((self.n_units, self.n_periods + 1))
        resid[:, self.columns] = (Y0 - mu0) * keep_t[None, :]
        var[:, self.columns] = mu0
        tail_r = np.cumsum(resid[:, ::-1], axis=1)[:, ::-1]
        tail_v = np.cumsum(var[:, ::-1], axis=1)[:, ::-1]
        asg = self.assignments

        def statistic(units: np.ndarray) -> np.ndarray:
            num = tail_r[units, asg.cohorts].sum(axis=-1)
            den = tail_v[units, asg.cohorts].sum(axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(den > 0, num / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)

        t_obs = float(statistic(asg.observed[None, :])[0])
        t_all = statistic(asg.units)
        extreme = np.abs(t_all) >= abs(t_obs) * (1 - 1e-10)
        if asg.exact:
            return float(np.mean(extreme))
        return float((1 + extreme.sum()) / (1 + len(t_all)))


def _relative_change(old: np.ndarray, new: np.ndarray) -> float:
    scale = np.maximum(np.abs(new), 1e-300)
    return float(np.max(np.abs(new - old) / scale, initial=0.0))


class _NotConverged(Exception):
    """Iterative scaling did not converge; the data set is analysed by the general path."""
