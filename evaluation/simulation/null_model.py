"""The design diagnosis' data-generating model: the one simulation model (`simulation.model`)
fitted to the design's own history before its start.

No outcome after the start is ever looked at. The prepared data are cut at the first treated
period; inside that history the last n_post periods (the registered post length, capped so that
defaults.MIN_PRE_PERIODS periods remain before it) become a placebo post period with the same
cohort pattern. The null model is then fitted on this history:

- did: Poisson with unit and period effects and offset log(exposure) (the TWFE null model);
- its: the segmented model's trend + Fourier seasonality (+ covariates, offset) per series
  (treated, and control when listed), without any change at the start, split over the series'
  units by their share of the history's events.

Persistent deviations and overdispersion (`simulation.persistence`): an AR(1) per unit (did) or
per series (its), estimated from the residual autocovariances of the history. Counts are
gamma-Poisson: for did with variance m (1 + a) + b m^2, the NB1 part a (series of attacks) and the
NB2 part b separated by moments across units, less what the persistent deviations explain (an NB2
fitted to all units alike would give the large treated cities far too much variance when the
extra variation grows with the mean, as it does for series of attacks); for its NB2 with the
dispersion estimated by maximum likelihood around the series' null means. For ITS the gamma
frailty and the deviation are shared by a series' units in a period, so the *summed* series is NB2
with that dispersion.
`linear` designs get normal noise with the null model's residual variance (less the deviations').

A known effect multiplies the treated units' placebo-post means by RR = 1 + effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import gammaln

from evaluation import defaults
from evaluation.errors import AnalysisError
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import is_count
from evaluation.simulation.model import PanelModel
from evaluation.simulation.persistence import (
    LagMoments,
    Persistence,
    estimate_persistence,
    lag_moments,
)

# The ML dispersion is searched on log(alpha) in this range; below it the data are Poisson.
LOG_ALPHA_BOUNDS = (-12.0, 5.0)
POISSON_ALPHA = 1e-5  # an estimated alpha below this is treated as Poisson (no frailty)


@dataclass(frozen=True)
class Placebo:
    """The history before the start, re-timed: its last `n_post` periods are a placebo post."""

    data: PreparedData  # panel rows t < first start; placebo cohorts; periods cut to the history
    n_post: int  # placebo post periods (min cohort -> end of the history)
    n_post_registered: int  # the design's own post periods
    cohorts: dict[str, int]  # placebo first treated t per treated unit


def placebo_history(data: PreparedData) -> Placebo:
    """Cut `data` at the first treated period and re-time the treatment inside that history."""
    panel = data.panel
    treated_rows = panel.loc[panel["treated_unit"], ["unit", "cohort"]].drop_duplicates("unit")
    cohorts = {str(u): int(c) for u, c in treated_rows.itertuples(index=False)}
    if not cohorts:
        raise AnalysisError(f"design {data.design.id}: no treated unit in the prepared data; "
                            "check treatment.units")
    first = min(cohorts.values())
    registered_post = data.n_periods - first
    room = first - defaults.MIN_PRE_PERIODS
    if room < 1:
        raise AnalysisError(
            f"window.start: the diagnosis needs more than {defaults.MIN_PRE_PERIODS} periods before "
            f"treatment.start (found {first}) to re-time the design inside that history; move "
            "window.start earlier")
    n_post = min(registered_post, room)
    placebo_start = first - n_post
    # Same cohort pattern: shift every cohort to the placebo start, compressing the spread of
    # staggered starts when the placebo post is shorter than the registered one.
    new = {u: placebo_start + int(math.floor((c - first) * n_post / registered_post))
           for u, c in cohorts.items()}
    history = panel.loc[panel["t"] < first].reset_index(drop=True)
    cut = PreparedData(**{**data.__dict__, "panel": history, "periods": data.periods[:first]})
    placebo = cut.with_treatment(tuple(data.treated_units), new)
    return Placebo(data=placebo, n_post=n_post, n_post_registered=registered_post, cohorts=new)


def fit_null_model(placebo: Placebo) -> PanelModel:
    data = placebo.data
    if data.design.design == "its":
        return _its_null(data)
    return _did_null(data)


# --- did ---------------------------------------------------------------------------------------
def _did_null(data: PreparedData) -> PanelModel:
    panel = data.panel
    count = is_count(data.spec.model)
    y = panel["y"].to_numpy(dtype=float)
    unit_codes, _ = pd.factorize(panel["unit"])
    t = panel["t"].to_numpy(dtype=int)
    use = ~panel["excluded"].to_numpy(dtype=bool)
    exposure = panel["exposure"].to_numpy(dtype=float)
    n_units, n_t = unit_codes.max() + 1, data.n_periods
    rows = {"t": t, "process": unit_codes, "frailty": np.arange(len(y)), "share": np.ones(len(y)),
            "treated_post": panel["post"].to_numpy(dtype=bool), "n_periods": n_t}
    if count:
        mu = two_way_poisson_means(y, exposure, unit_codes, t, use, n_units, n_t)
        moments = _moments(y, mu, unit_codes, t, use, (n_units, n_t), count=True, split=True)
        persistence = estimate_persistence(moments, n_periods=n_t)
        # variance m (1 + a) + b m^2: gamma frailty alpha = a / m + b per cell (NB1 + NB2)
        nb1 = float(moments.linear[0])
        nb2 = _cell_dispersion(float(moments.quadratic[0]), persistence)
        alpha = np.where(mu > 0, nb1 / np.where(mu > 0, mu, 1.0) + nb2, 0.0)
        return PanelModel(mu=mu, **rows, count=True, dispersion=alpha,
                          persistence=persistence.rho,
                          deviation_sd=persistence.deviation_sd(count=True),
                          noise={"nb1_excess": nb1, "nb2_alpha": nb2},
                          kind="unit and period effects (Poisson null model), AR(1) unit "
                               "deviations, NB1 + NB2 noise")
    mu = two_way_linear_means(y, unit_codes, t, use, n_units, n_t)
    dof = max(int(use.sum()) - n_units - n_t + 1, 1)
    persistence = estimate_persistence(
        _moments(y, mu, unit_codes, t, use, (n_units, n_t), count=False, split=False),
        n_periods=n_t)
    variance = float(np.sum((y[use] - mu[use]) ** 2) / dof)
    sigma = math.sqrt(max(variance - persistence.within_variance(), 0.0))
    return PanelModel(mu=mu, **rows, count=False, sigma=sigma, persistence=persistence.rho,
                      deviation_sd=persistence.deviation_sd(count=False),
                      kind="unit and period effects (least squares), AR(1) unit deviations, "
                           "normal noise")


def _moments(y: np.ndarray, mean: np.ndarray, series: np.ndarray, t: np.ndarray,
             use: np.ndarray, shape: tuple[int, int], *, count: bool, split: bool) -> LagMoments:
    """Rows -> series x period matrices, then `lag_moments`."""
    grids = [np.zeros(shape), np.zeros(shape), np.zeros(shape, dtype=bool)]
    for grid, values in zip(grids, (y, mean, use), strict=True):
        grid[series, t] = values
    return lag_moments(grids[0], grids[1], grids[2], count=count, split=split)


def _cell_dispersion(alpha_total: float, persistence: Persistence) -> float:
    """The cell's own NB2 dispersion: what the NB2 excess leaves once the persistent
    deviations' within-series variance w is taken out, (1 + alpha) / (1 + w) - 1 (floor 0)."""
    return max((1.0 + alpha_total) / (1.0 + persistence.within_variance()) - 1.0, 0.0)


def two_way_poisson_means(y: np.ndarray, exposure: np.ndarray, unit: np.ndarray, t: np.ndarray,
                          use: np.ndarray, n_units: int, n_t: int, *, tol: float = 1e-12,
                          max_sweeps: int = 10_000) -> np.ndarray:
    """Poisson ML means of `y ~ unit + period + offset log(exposure)` by iterative scaling.

    With 0/1 regressors the ML fit matches every unit's and every period's total (the
    sufficient statistics), so alternating the two scalings converges to it. Units or periods
    with no events get mean 0 (their effect is minus infinity); excluded rows get the fitted
    mean too, from the effects estimated on the other rows.
    """
    unit_total = np.bincount(unit[use], weights=y[use], minlength=n_units)
    t_total = np.bincount(t[use], weights=y[use], minlength=n_t)
    a = np.where(unit_total > 0, 1.0, 0.0)
    b = np.where(t_total > 0, 1.0, 0.0)
    for _ in range(max_sweeps):
        mu = exposure * a[unit] * b[t]
        fit_t = np.bincount(t[use], weights=mu[use], minlength=n_t)
        b = np.where(fit_t > 0, b * t_total / np.where(fit_t > 0, fit_t, 1.0), 0.0)
        mu = exposure * a[unit] * b[t]
        fit_u = np.bincount(unit[use], weights=mu[use], minlength=n_units)
        step = np.where(fit_u > 0, unit_total / np.where(fit_u > 0, fit_u, 1.0), 0.0)
        a = a * step
        if np.max(np.abs(step[unit_total > 0] - 1.0), initial=0.0) < tol:
            break
    return exposure * a[unit] * b[t]


def two_way_linear_means(y: np.ndarray, unit: np.ndarray, t: np.ndarray, use: np.ndarray,
                         n_units: int, n_t: int, *, tol: float = 1e-12) -> np.ndarray:
    """Least-squares fit of `y ~ unit + period` by alternating projections."""
    resid = y.astype(float).copy()
    fitted = np.zeros_like(resid)
    count_u = np.maximum(np.bincount(unit[use], minlength=n_units), 1)
    count_t = np.maximum(np.bincount(t[use], minlength=n_t), 1)
    for _ in range(10_000):
        mean_u = np.bincount(unit[use], weights=resid[use], minlength=n_units) / count_u
        resid -= mean_u[unit]
        fitted += mean_u[unit]
        mean_t = np.bincount(t[use], weights=resid[use], minlength=n_t) / count_t
        resid -= mean_t[t]
        fitted += mean_t[t]
        if max(np.abs(mean_u).max(), np.abs(mean_t).max()) < tol:
            break
    return fitted


def nb_alpha(y: np.ndarray, mu: np.ndarray) -> float:
    """ML NB2 dispersion with the means held fixed; 0 when the data are not overdispersed."""
    keep = mu > 0
    y, mu = y[keep], mu[keep]
    if len(y) == 0:
        return 0.0

    def negative_loglik(log_alpha: float) -> float:
        r = math.exp(-log_alpha)
        return -float(np.sum(gammaln(y + r) - gammaln(r) + r * np.log(r / (r + mu))
                             + y * np.log(mu / (r + mu))))

    found = minimize_scalar(negative_loglik, bounds=LOG_ALPHA_BOUNDS, method="bounded",
                            options={"xatol": 1e-8})
    poisson = -float(np.sum(y * np.log(mu) - mu))  # the limit alpha -> 0 (without log y!)
    alpha = math.exp(found.x)
    if alpha < POISSON_ALPHA or found.fun >= poisson:
        return 0.0
    return alpha


# --- its ---------------------------------------------------------------------------------------
NULL_DROP = ("level_change", "slope_change", "control_level_change", "control_slope_change")


def _its_null(data: PreparedData) -> PanelModel:
    import statsmodels.api as sm

    from evaluation.estimators.its import model_spec
    from evaluation.estimators.its.segmented import build_series, design_matrix, offset, response

    spec = model_spec(data)
    series = build_series(data)
    # t_start beyond the history: no change terms; they are dropped from the null model.
    matrix = design_matrix(series, spec=spec, t_start=data.n_periods + 1)
    matrix = matrix.drop(columns=[c for c in NULL_DROP if c in matrix.columns])
    use = ~series["excluded"].to_numpy(dtype=bool)
    X = matrix.to_numpy(dtype=float)
    y_series = response(series, spec)
    off = offset(series, spec)
    exposure = series["exposure"].to_numpy(dtype=float)
    if spec.is_count:
        res = sm.GLM(y_series[use], X[use], family=sm.families.Poisson(),
                     offset=None if off is None else off[use]).fit()
        eta = X @ res.params + (0.0 if off is None else off)
        series_mean = np.exp(eta)
        persistence = _series_persistence(series, X, y_series, series_mean, use, count=True)
        alpha = _cell_dispersion(nb_alpha(y_series[use], series_mean[use]), persistence)
        sigma = 0.0
    else:
        res = sm.OLS(y_series[use], X[use]).fit()
        rate = X @ res.params
        series_mean = rate * exposure if spec.has_exposure else rate
        scale = exposure if spec.has_exposure else np.ones_like(exposure)
        persistence = _series_persistence(series, X, y_series * scale, series_mean, use,
                                          count=False)
        sigma = math.sqrt(max(float(res.scale) * float(np.mean(scale)) ** 2
                              - persistence.within_variance(), 0.0))
        alpha = 0.0

    panel = data.panel
    group_of = {u: "treated" for u in data.treated_units}
    group_of.update({u: "control" for u in data.control_units})
    row_group = panel["unit"].map(group_of).to_numpy()
    key = pd.MultiIndex.from_arrays([series["group"].to_numpy(), series["t"].to_numpy()])
    index = key.get_indexer(pd.MultiIndex.from_arrays([row_group, panel["t"].to_numpy()]))
    # A unit's share of its series: its share of the history's events (exposure when none).
    weight = panel.groupby("unit")["y"].transform("sum").to_numpy(dtype=float)
    if spec.is_count and np.all(weight == 0):
        weight = panel["exposure"].to_numpy(dtype=float)
    totals = pd.Series(weight).groupby([row_group, panel["t"].to_numpy()]).transform("sum")
    share = np.where(totals.to_numpy() > 0, weight / np.where(totals > 0, totals, 1.0), 0.0)
    mu = series_mean[index] * share
    kind = ("segmented null model (trend + seasonality) per series, AR(1) series deviations, "
            + ("NB2 noise shared by a series' units per period" if spec.is_count else "normal noise"))
    series_codes = pd.factorize(series["group"])[0]
    return PanelModel(mu=mu, t=panel["t"].to_numpy(dtype=int), process=series_codes[index],
                      frailty=index, share=share, treated_post=panel["post"].to_numpy(dtype=bool),
                      n_periods=data.n_periods, count=spec.is_count, dispersion=alpha,
                      persistence=persistence.rho,
                      deviation_sd=persistence.deviation_sd(count=spec.is_count), sigma=sigma,
                      noise={"nb2_alpha": alpha} if spec.is_count else {}, kind=kind)


def _series_persistence(series: pd.DataFrame, X: np.ndarray, y: np.ndarray, mean: np.ndarray,
                        use: np.ndarray, *, count: bool) -> Persistence:
    """Persistence of the series' deviations; the segmented model absorbs each series' level,
    trend and season (the treated series' columns of the design matrix, by period)."""
    codes = pd.factorize(series["group"])[0]
    t = series["t"].to_numpy(dtype=int)
    shape = (int(codes.max()) + 1, int(t.max()) + 1)
    first = codes == 0
    columns = np.any(X[first] != 0, axis=0)
    basis = np.zeros((shape[1], int(columns.sum())))
    basis[t[first]] = X[first][:, columns]
    moments = _moments(y, mean, codes, t, use, shape, count=count, split=False)
    return estimate_persistence(moments, n_periods=shape[1], basis=basis)
