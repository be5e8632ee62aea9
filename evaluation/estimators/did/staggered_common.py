"""What the staggered-adoption estimators share: their fit type, error choice and tidy rows.

`imputation`, `sun_abraham` and `callaway_santanna` each return a `StaggeredFit`; `staggered`
chooses and calls them. Estimates are on the estimation scale (log rate ratio for counts,
difference for linear outcomes); tidy rows on the presentation scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from evaluation import defaults
from evaluation.data.periods import period_text
from evaluation.estimators.output import tidy_row
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import is_count, scale_of, to_scale, wald
from evaluation.notes import Note


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
    notes: tuple[Note, ...] = ()
    counterfactual: pd.DataFrame | None = field(default=None, repr=False)


def is_count_model(data: PreparedData) -> bool:
    return is_count(data.spec.model)


def period_label(data: PreparedData, t: int) -> str:
    """The label of period index t for term names: a year/number as is, a date as YYYY-MM-DD."""
    return period_text(data.periods[int(t)])


def scaled_row(term: str, estimate: float, std_error: float, alpha: float, *, method: str,
               scale: str) -> dict[str, Any]:
    """A tidy row on the presentation scale from an estimate on the estimation scale."""
    lo, hi, p = wald(estimate, std_error, alpha)
    return tidy_row(term, to_scale(estimate, scale), std_error, to_scale(lo, scale),
                    to_scale(hi, scale), p, method=method, scale=scale)


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
             aggregations: dict[str, Any], notes: tuple[Note, ...] = (),
             counterfactual: pd.DataFrame | None = None) -> StaggeredFit:
    """Assemble a StaggeredFit: interval, p-value and the primary tidy row `treatment`."""
    scale = scale_of(data.spec.model)
    alpha = data.spec.alpha
    lo, hi, p = wald(estimate, std_error, alpha)
    primary = scaled_row("treatment", estimate, std_error, alpha, method=method, scale=scale)
    rows = data.estimation_rows
    return StaggeredFit(
        estimator=estimator, control_group=control_group, estimate=float(estimate),
        std_error=float(std_error), ci_low=lo, ci_high=hi, p_value=p, scale=scale, method=method,
        inference=inference, rows=[primary, *extra_rows], aggregations=aggregations,
        n_treated=int(rows.loc[rows["treated_unit"], "unit"].nunique()),
        n_control=int(rows.loc[~rows["treated_unit"], "unit"].nunique()),
        notes=notes, counterfactual=counterfactual)


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
