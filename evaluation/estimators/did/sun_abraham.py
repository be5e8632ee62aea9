"""Sun & Abraham (2021) interaction-weighted estimator and the saturated event-study regression.

One regression with unit and period fixed effects (Poisson PPML with offset log(exposure) for
counts, via pyfixest `fepois`; least squares via `feols` for linear outcomes) and one dummy per
cohort x event time cell, event time e = t - first treated period; leads before the start of
`analysis.event_window` [lo, hi] share one bin (e <= lo), post event times are not binned (the
event study reports e >= hi combined):

- `never_treated` (and the event study): dummies for every cell except e = -1, so each cohort is
  compared with the never-treated units only, relative to its last untreated period. Without
  never-treated units the last-treated cohort serves as control, on the periods before its start.
- `not_yet_treated`: dummies for post-treatment cells only (e >= 0), so untreated periods of
  treated units serve as controls too (Wooldridge's extended TWFE).

Cells are combined with interaction weights. Linear outcomes: the share of treated units (event
study) or treated observations (overall effect) in each cell. Counts: as observed / counterfactual
events, i.e. cell rate ratios weighted by their counterfactual events, so a cell without any
event (rate ratio 0, log not finite) still enters; the gradient of the log of that ratio is each
cell's share of observed events. Standard errors treat these weights as fixed.

Cells without any event (counts) are taken out of the Poisson fit: their maximum-likelihood rate
is zero and they carry no information on the other parameters.

Limitation: with `never_treated` each cohort's reference is its single period e = -1. With rare
counts (a few treated units, weekly data) that period may hold no or few events and the estimate
becomes unstable; the imputation estimator (the `auto` choice for counts) uses every untreated
period instead. Covariates are not used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyfixest as pf

from evaluation.errors import AnalysisError
from evaluation.estimators.did.staggered_common import (
    StaggeredFit,
    error_mode,
    is_count_model,
    make_fit,
    period_label,
    scaled_row,
    two_way_effects,
)
from evaluation.estimators.did.twfe import model_frame
from evaluation.estimators.fit_warnings import SEPARATION, recorded
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import (
    IRLS_TOL,
    combination_covariance,
    demeaner,
    pearson_dispersion,
)
from evaluation.notes import Note, note


@dataclass(frozen=True)
class SaturatedFit:
    """The cohort x event-time regression.

    cells: one row per cohort x binned event time with a dummy: cohort, e, name, n_obs,
      n_units, events (observed sum), mu0 (counterfactual sum: fitted with the dummy set to 0),
      estimable (False for cells without events or dropped as collinear).
    coef: for the fitted cells; `covariance(W)`: the covariance of the combinations W coef
    (rows of W over `coef`), asked of the fit for just those combinations (`combination_covariance`).
    """

    cells: pd.DataFrame
    coef: np.ndarray
    covariance: Callable[[np.ndarray], np.ndarray]
    count: bool
    errors: str  # plain description of the standard errors
    notes: tuple[Note, ...]


def fit_sun_abraham(data: PreparedData, *, control_group: str) -> StaggeredFit:
    sat = saturated_fit(data, leads=control_group == "never_treated")
    post = sat.cells.loc[sat.cells["e"] >= 0]
    est, se = combine(sat, post, weights="obs")
    alpha = data.spec.alpha
    scale = "rate_ratio" if sat.count else "difference"
    rows = []
    for cohort, cells in post.groupby("cohort"):
        c_est, c_se = combine(sat, cells, weights="obs")
        rows.append(scaled_row(f"sa_cohort_{period_label(data, cohort)}", c_est, c_se, alpha,
                               method="Sun-Abraham by cohort", scale=scale))
    events = event_time_estimates(sat, data)
    for rec in events.itertuples(index=False):
        rows.append(scaled_row(f"event_time_{rec.e}", rec.est, rec.se, alpha,
                               method="Sun-Abraham event time", scale=scale))
    controls = ("never-treated units (leads and lags saturated)" if control_group == "never_treated"
                else "never-treated and not-yet-treated observations (post cells only)")
    model = "Poisson PPML with offset log(exposure)" if sat.count else "least squares"
    method = (f"Sun-Abraham interaction-weighted: {model}, unit and period fixed effects, cohort x "
              f"event-time dummies; controls: {controls}")
    cells = sat.cells.assign(cohort=sat.cells["cohort"].map(lambda c: period_label(data, c)))
    return make_fit(
        data, estimator="sun_abraham", control_group=control_group, estimate=est, std_error=se,
        method=method, inference=sat.errors, extra_rows=rows,
        aggregations={"sun_abraham": {
            "cells": cells.drop(columns=["name"]).to_dict(orient="records"),
            "event_time": events.to_dict(orient="records")}},
        notes=sat.notes)


# --- the regression ------------------------------------------------------------------------------
def saturated_fit(data: PreparedData, *, leads: bool) -> SaturatedFit:
    """Fit the cohort x event-time regression (see the module docstring)."""
    count = is_count_model(data)
    lo, hi = data.spec.event_window
    rows = data.estimation_rows
    frame = model_frame(rows).rename(columns={"treated_unit": "treated"})
    notes: list[Note] = []
    if data.covariates:
        notes.append(note("sun_abraham_covariates_unused", covariates=data.covariates))
    if leads and not (~frame["treated"]).any():
        last = frame["cohort"].max()
        frame = frame.loc[frame["t"] < last].copy()
        frame.loc[frame["cohort"] == last, "treated"] = False
        notes.append(note("last_cohort_controls", cohort=str(period_label(data, last))))
        if not frame["treated"].any():
            raise AnalysisError(f"design {data.design.id}: one cohort and no never-treated unit: "
                                "nothing to compare with; add control units")
    # Leads before lo share one bin; every post event time gets its own dummy, so a post cell
    # is one period of one cohort and cannot pull the period effects (a wide post bin with
    # growing effects would: its within-bin variation would leak into them).
    frame["e"] = np.where(frame["treated"], np.maximum(frame["t"] - frame["cohort"], lo), 0)
    has_dummy = frame["treated"] & ((frame["e"] != -1) if leads else (frame["e"] >= 0))
    cells = (frame.loc[has_dummy].groupby(["cohort", "e"])
             .agg(n_obs=("y", "size"), n_units=("unit", "nunique"), events=("y", "sum"))
             .reset_index())
    cells["name"] = [f"cell_{i}" for i in range(len(cells))]
    frame = frame.merge(cells[["cohort", "e", "name"]], on=["cohort", "e"], how="left",
                        validate="many_to_one").rename(columns={"name": "cell"})
    frame.loc[~has_dummy.to_numpy(), "cell"] = None  # never-treated rows share cohort -1, e 0
    empty = cells.loc[cells["events"] <= 0, "name"] if count else pd.Series([], dtype=str)
    if len(empty):
        notes.append(note("empty_cells_dropped", n=len(empty)))
    fit_rows = frame.loc[~frame["cell"].isin(set(empty))].copy()
    if count:  # units / periods without any event: zero ML rate, outside the Poisson fit
        for key in ("unit", "t"):
            fit_rows = fit_rows.loc[fit_rows.groupby(key)["y"].transform("sum") > 0]
    estimable = [n for n in cells["name"] if n not in set(empty)]
    for name in estimable:
        fit_rows[name] = (fit_rows["cell"] == name).astype(float)
    vcov_arg, errors, scale_dispersion = error_choice(data, fit_rows)
    fml = f"y ~ {' + '.join(estimable)} | unit + t" if estimable else "y ~ 1 | unit + t"
    # Model-based errors without small-sample factor (the inverse Fisher information, as
    # statsmodels GLM); cluster-robust ones with pyfixest's default CRV1 factors.
    ssc = pf.ssc(k_adj=False, G_adj=False) if vcov_arg == "iid" and count else None
    with recorded(expected=(SEPARATION,)):
        if count:
            fit = pf.fepois(fml, data=fit_rows, offset="log_exposure", vcov=vcov_arg,
                            fixef_rm="none", iwls_tol=IRLS_TOL, ssc=ssc,
                            demeaner=demeaner())
        else:
            fit = pf.feols(fml, data=fit_rows, vcov=vcov_arg, fixef_rm="none", demeaner=demeaner())
    coef = fit.coef()
    kept = [n for n in estimable if n in coef.index and np.isfinite(coef[n])]
    if len(kept) < len(estimable):
        notes.append(note("cells_not_identified", n=len(estimable) - len(kept)))
    phi = 1.0  # the Pearson dispersion that scales the model-based covariance (quasi-Poisson)
    link = np.asarray(fit.predict(type="link"), dtype=float)
    if len(link) != len(fit_rows):
        raise AnalysisError(f"design {data.design.id}: the event-study fit dropped "
                            f"{len(fit_rows) - len(link)} observation(s) (separation); report this "
                            "with the design file")
    dummies = fit_rows[kept].to_numpy() @ coef[kept].to_numpy() if kept else 0.0
    base = link - dummies - (fit_rows["log_exposure"].to_numpy() if count else 0.0)
    # Read the unit and period effects off the fit, so cells left out of it (no events) get
    # their counterfactual too.
    alpha, gamma = two_way_effects(fit_rows["unit"], fit_rows["t"], base)
    frame["fitted0"] = (frame["unit"].map(alpha) + frame["t"].map(gamma)).to_numpy()
    if count:  # rows outside the fit (units or periods without events) have rate zero
        frame["fitted0"] = np.exp(frame["fitted0"] + frame["log_exposure"]).fillna(0.0)
    if count and scale_dispersion:
        mu = np.exp(link)
        k = len(kept) + fit_rows["unit"].nunique() + fit_rows["t"].nunique() - 1
        phi = pearson_dispersion(fit_rows["y"].to_numpy(), mu, k)
        errors += f"; scaled by the Pearson dispersion {phi:.3g}"
    cells["mu0"] = cells["name"].map(frame.groupby("cell")["fitted0"].sum())
    cells["estimable"] = cells["name"].isin(kept) | cells["name"].isin(set(empty))
    cells["coef"] = cells["name"].map(coef.reindex(kept)).astype(float)
    if count:
        cells.loc[cells["name"].isin(set(empty)), "coef"] = -np.inf
    cells["cohort"] = cells["cohort"].astype(int)
    cells["e"] = cells["e"].astype(int)

    def covariance(weights: np.ndarray) -> np.ndarray:
        return phi * combination_covariance(fit, kept, weights)

    return SaturatedFit(cells=cells, coef=coef[kept].to_numpy(), covariance=covariance,
                        count=count, errors=errors, notes=tuple(notes))


def error_choice(data: PreparedData, rows: pd.DataFrame) -> tuple[Any, str, bool]:
    """pyfixest vcov argument, a plain description, and whether to scale by the Pearson
    dispersion (see `evaluation.did.staggered.error_mode`)."""
    mode, reason = error_mode(data)
    if mode == "cluster":
        return {"CRV1": "unit"}, "cluster-robust (CRV1) by unit", False
    if data.repeated_cross_section:
        return "hetero", "heteroskedasticity-robust (repeated cross-sections)", False
    return "iid", reason, mode == "quasi" and is_count_model(data)


# --- combining cells -----------------------------------------------------------------------------
def combine(sat: SaturatedFit, cells: pd.DataFrame, *, weights: str) -> tuple[float, float]:
    """Combine cells into one effect: log(observed / counterfactual events) for counts, the
    weighted mean of cell effects for linear outcomes (weights: treated obs or units)."""
    cells = cells.loc[cells["estimable"]]
    if cells.empty:
        return math.nan, math.nan
    names = list(sat.cells.loc[sat.cells["estimable"] & np.isfinite(sat.cells["coef"]), "name"])
    position = {n: i for i, n in enumerate(names)}
    grad = np.zeros(len(names))
    if sat.count:
        events = cells["events"].to_numpy(dtype=float)
        if events.sum() <= 0:
            return -math.inf, math.nan
        est = math.log(events.sum() / cells["mu0"].sum())
        share = events / events.sum()
    else:
        size = cells["n_obs" if weights == "obs" else "n_units"].to_numpy(dtype=float)
        share = size / size.sum()
        est = float(share @ cells["coef"].to_numpy())
    for name, w in zip(cells["name"], share, strict=True):
        if name in position:
            grad[position[name]] = w
    var = float(sat.covariance(grad[None, :])[0, 0]) if len(grad) else 0.0
    return est, math.sqrt(var) if var > 0 else math.nan


def event_time_estimates(sat: SaturatedFit, data: PreparedData) -> pd.DataFrame:
    """One estimate per event time in [lo, hi] (reference e = -1 excluded), the last one
    combining every e >= hi: e, est, se, n_units."""
    hi = data.spec.event_window[1]
    binned = sat.cells["e"].clip(upper=hi)
    out = []
    for e, cells in sat.cells.groupby(binned):
        est, se = combine(sat, cells, weights="units" if e < hi else "obs")
        out.append({"e": int(e), "est": est, "se": se, "n_units": int(cells["n_units"].sum())})
    return pd.DataFrame(out, columns=["e", "est", "se", "n_units"])


def gradient_matrix(sat: SaturatedFit, groups: list[pd.DataFrame], *, weights: str = "units"
                    ) -> np.ndarray:
    """Rows: the gradient of each combined estimate with respect to the cell coefficients."""
    names = list(sat.cells.loc[sat.cells["estimable"] & np.isfinite(sat.cells["coef"]), "name"])
    position = {n: i for i, n in enumerate(names)}
    mat = np.zeros((len(groups), len(names)))
    for row, cells in enumerate(groups):
        cells = cells.loc[cells["estimable"]]
        if sat.count:
            events = cells["events"].to_numpy(dtype=float)
            share = events / events.sum() if events.sum() > 0 else np.zeros(len(cells))
        else:
            size = cells["n_obs" if weights == "obs" else "n_units"].to_numpy(dtype=float)
            share = size / size.sum()
        for name, w in zip(cells["name"], share, strict=True):
            if name in position:
                mat[row, position[name]] = w
    return mat
