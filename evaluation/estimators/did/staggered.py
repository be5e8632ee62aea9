"""Heterogeneity-robust DiD for staggered starts: one entry point, `fit_staggered`.

Plain two-way fixed effects compares later-treated units with already-treated ones when start
dates differ, so its estimate mixes effects with weights that can even be negative. The three
estimators here only ever compare treated observations with untreated ones:

- `imputation` (Borusyak, Jaravel & Spiess): fit the unit + period fixed-effects model on the
  untreated observations only, predict the counterfactual for the treated observations, and
  compare (rate ratio sum(y) / sum(mu0) for counts; mean(y - y0) for linear outcomes).
  Module `evaluation.did.imputation`.
- `sun_abraham` (Sun & Abraham interaction-weighted): cohort x event-time interactions, averaged
  with the share of treated observations in each cell. Module `evaluation.did.sun_abraham`.
- `callaway_santanna` (linear outcomes; the `csdid` package, analytic influence-function errors,
  as R `did` with bstrap=FALSE). Module `evaluation.did.callaway_santanna`.

`estimate` is on the estimation scale: the log rate ratio for count models, the difference for
linear ones; `ci_low`/`ci_high` are on that same scale. Tidy rows are on the presentation scale
(rate ratios for counts, with `std_error` of the log rate ratio), as `evaluation.result` expects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from scipy.sparse.linalg import spsolve

from evaluation import defaults
from evaluation.errors import AnalysisError
from evaluation.estimators.output import tidy_row
from evaluation.estimators.prepared import PreparedData

COUNT_MODELS = ("poisson", "quasi_poisson", "negative_binomial")
ESTIMATORS = ("imputation", "sun_abraham", "callaway_santanna")
CONTROL_GROUPS = ("never_treated", "not_yet_treated")


@dataclass(frozen=True)
class StaggeredFit:
    """One heterogeneity-robust fit.

    estimate, std_error, ci_low, ci_high: log rate ratio (counts) or difference (linear).
    scale: "rate_ratio" or "difference" (how the estimate is reported).
    rows: tidy rows (evaluation.result.tidy_row dicts), presentation scale, primary first.
    aggregations: JSON-ready dict of the estimator's aggregations (by cohort, event time, ...).
    counterfactual: for imputation, one row per treated observation used: unit, t, y, mu0
      (the imputed untreated outcome); None for the other estimators.
    """

    estimator: str
    control_group: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    scale: str
    method: str
    inference: str  # plain sentence: which errors were used and why
    rows: list[dict[str, Any]]
    aggregations: dict[str, Any]
    n_treated: int
    n_control: int
    notes: tuple[str, ...] = ()
    counterfactual: pd.DataFrame | None = field(default=None, repr=False)


def resolve_estimator(data: PreparedData, estimator: str | None = None) -> tuple[str, str]:
    """The estimator to use for `auto` (or the registered one) and a plain reason.

    `auto`: plain TWFE for one start date; for staggered starts imputation for count models
    (it handles rare counts through the Poisson likelihood of the untreated observations) and
    Callaway-Sant'Anna for linear outcomes (the reference implementation, R `did`).
    """
    chosen = estimator or data.spec.estimator
    if chosen != "auto":
        return chosen, f"estimator `{chosen}` as registered in the design"
    if not data.staggered:
        return "twfe", "one start date for all treated units: plain two-way fixed effects is unbiased"
    if data.spec.model == "linear":
        return "callaway_santanna", ("treated units start at different dates and the outcome is "
                                     "linear: Callaway-Sant'Anna avoids comparisons with "
                                     "already-treated units")
    return "imputation", ("treated units start at different dates and the outcome is a count: "
                          "the imputation estimator compares treated observations only with "
                          "the Poisson fit of untreated ones")


def fit_staggered(data: PreparedData, *, estimator: str, control_group: str) -> StaggeredFit:
    """Fit a heterogeneity-robust DiD estimator (see the module docstring).

    estimator: imputation | sun_abraham | callaway_santanna (or auto, resolved as
    `resolve_estimator`); control_group: never_treated | not_yet_treated.
    """
    if estimator == "auto":
        estimator, _ = resolve_estimator(data, "auto")
        if estimator == "twfe":  # one start date: imputation is the robust form of TWFE
            estimator = "imputation" if data.spec.model in COUNT_MODELS else "callaway_santanna"
    if estimator not in ESTIMATORS:
        raise AnalysisError(f"analysis.estimator: `{estimator}` is not a staggered estimator; "
                            f"use one of {', '.join(ESTIMATORS)} (or twfe via estimate_did)")
    if control_group not in CONTROL_GROUPS:
        raise AnalysisError(f"analysis.control_group: `{control_group}` is unknown; use "
                            f"{' or '.join(CONTROL_GROUPS)}")
    _check_treated(data)
    if estimator == "imputation":
        from evaluation.estimators.did.imputation import fit_imputation

        return fit_imputation(data, control_group=control_group)
    if estimator == "sun_abraham":
        from evaluation.estimators.did.sun_abraham import fit_sun_abraham

        return fit_sun_abraham(data, control_group=control_group)
    from evaluation.estimators.did.callaway_santanna import fit_callaway_santanna

    return fit_callaway_santanna(data, control_group=control_group)


# --- shared helpers ------------------------------------------------------------------------------
def _check_treated(data: PreparedData) -> None:
    rows = data.estimation_rows
    treated = rows.loc[rows["treated_unit"]]
    if treated.empty:
        raise AnalysisError(f"design {data.design.id}: no treated unit has rows in the window; "
                            "check treatment.units / start_column and window")
    pre = treated.loc[treated["t"] < treated["cohort"]].groupby("unit").size()
    missing = sorted(set(treated["unit"]) - set(pre.index))
    if missing:
        raise AnalysisError(
            f"design {data.design.id}: treated unit(s) {', '.join(missing[:5])} have no untreated "
            "period inside the window; move window.start earlier or drop these units")


def is_count_model(data: PreparedData) -> bool:
    return data.spec.model in COUNT_MODELS


def period_label(data: PreparedData, t: int) -> str:
    """The label of period index t for term names: a year/number as is, a date as YYYY-MM-DD."""
    label = data.periods[int(t)]
    if isinstance(label, pd.Timestamp):
        return label.date().isoformat()
    if hasattr(label, "isoformat"):
        return label.isoformat()
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def normal_summary(estimate: float, std_error: float, alpha: float) -> tuple[float, float, float]:
    """Wald interval (normal quantile) and two-sided p-value."""
    if not (math.isfinite(std_error) and std_error > 0):
        return math.nan, math.nan, math.nan
    z = stats.norm.ppf(1 - alpha / 2)
    p = float(2 * stats.norm.sf(abs(estimate / std_error)))
    return estimate - z * std_error, estimate + z * std_error, p


def scaled_row(term: str, estimate: float, std_error: float, alpha: float, *, method: str,
               scale: str) -> dict[str, Any]:
    """A tidy row on the presentation scale from an estimate on the estimation scale."""
    lo, hi, p = normal_summary(estimate, std_error, alpha)
    if scale == "rate_ratio":
        with np.errstate(over="ignore"):
            ratio = [float(np.exp(v)) for v in (estimate, lo, hi)]
        return tidy_row(term, ratio[0], std_error, ratio[1], ratio[2], p, method=method,
                        scale=scale)
    return tidy_row(term, estimate, std_error, lo, hi, p, method=method, scale=scale)


def error_mode(data: PreparedData) -> tuple[str, str]:
    """Which analytic errors the staggered estimators and the event study report, and why.

    "cluster": cluster-robust by unit, when the design asks for it (inference: cluster) or when
      at least defaults.RI_MIN_CLUSTERS units are treated;
    "model": model-based (inference: model; plain Poisson variance for model: poisson);
    "quasi": model-based scaled by the Pearson dispersion, when fewer units are treated:
      cluster-robust errors over-reject with few treated clusters (estimate_did then uses
      randomization inference for the primary estimate; these errors only describe the rest).
    Repeated cross-sections are never clustered by their few groups ("model").
    """
    spec = data.spec
    rows = data.estimation_rows
    n_treated = int(rows.loc[rows["treated_unit"], "unit"].nunique())
    if data.repeated_cross_section:
        return "model", "model-based (repeated cross-sections: the groups are too few to cluster)"
    if spec.inference == "cluster" or (spec.inference not in ("model", "hac")
                                       and n_treated >= defaults.RI_MIN_CLUSTERS):
        return "cluster", "cluster-robust by unit"
    if spec.inference == "model":
        plain = spec.model in ("poisson", "linear")
        return ("model" if plain else "quasi"), "model-based (inference: model)"
    return "quasi", (f"model-based, scaled by the Pearson dispersion ({n_treated} treated "
                     f"unit(s), fewer than {defaults.RI_MIN_CLUSTERS}: cluster-robust errors "
                     "would over-reject)")


def use_cluster_errors(data: PreparedData) -> bool:
    return error_mode(data)[0] == "cluster"


def make_fit(data: PreparedData, *, estimator: str, control_group: str, estimate: float,
             std_error: float, method: str, inference: str, extra_rows: list[dict[str, Any]],
             aggregations: dict[str, Any], notes: tuple[str, ...] = (),
             counterfactual: pd.DataFrame | None = None) -> StaggeredFit:
    """Assemble a StaggeredFit: interval, p-value and the primary tidy row `treatment`."""
    scale = "rate_ratio" if is_count_model(data) else "difference"
    alpha = data.spec.alpha
    lo, hi, p = normal_summary(estimate, std_error, alpha)
    primary = scaled_row("treatment", estimate, std_error, alpha, method=method, scale=scale)
    rows = data.estimation_rows
    return StaggeredFit(
        estimator=estimator, control_group=control_group, estimate=float(estimate),
        std_error=float(std_error), ci_low=lo, ci_high=hi, p_value=p, scale=scale, method=method,
        inference=inference, rows=[primary, *extra_rows], aggregations=aggregations,
        n_treated=int(rows.loc[rows["treated_unit"], "unit"].nunique()),
        n_control=int(rows.loc[~rows["treated_unit"], "unit"].nunique()),
        notes=notes, counterfactual=counterfactual)


def weighted_combination(coef: np.ndarray, vcov: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """w'b and its standard error sqrt(w'Vw)."""
    est = float(weights @ coef)
    var = float(weights @ vcov @ weights)
    return est, math.sqrt(var) if var > 0 else math.nan


def two_way_effects(units: pd.Series, periods: pd.Series, target: np.ndarray
                           ) -> tuple[pd.Series, pd.Series]:
    """Least squares of target on unit and period dummies (first period as reference).

    For counts `target` is the fitted log mean, which is exactly additive, so this only reads
    the fixed effects off the Poisson fit; for linear outcomes it is the OLS fit itself.
    """
    u_codes, u_index = pd.factorize(units, sort=True)
    t_codes, t_index = pd.factorize(periods, sort=True)
    n, n_u, n_t = len(target), len(u_index), len(t_index)
    rows = np.arange(n)
    keep = t_codes > 0
    x = sp.hstack([
        sp.csr_matrix((np.ones(n), (rows, u_codes)), shape=(n, n_u)),
        sp.csr_matrix((np.ones(keep.sum()), (rows[keep], t_codes[keep] - 1)), shape=(n, n_t - 1)),
    ]).tocsc()
    coef = spsolve((x.T @ x).tocsc(), x.T @ target)
    alpha = pd.Series(coef[:n_u], index=u_index)
    gamma = pd.Series(np.concatenate([[0.0], coef[n_u:]]), index=t_index)
    return alpha, gamma
