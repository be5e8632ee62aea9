"""Segmented regression for interrupted time series: the series, the terms and one model fit.

The treated units are summed into one series per period (counts and exposure summed, covariates
averaged over units); with listed controls a second, control series is built the same way and
stacked under it (controlled ITS). The terms follow Lopez Bernal, Cummins & Gasparrini (2017):

    intercept, trend t, level change post, slope change (t - t_start + 1) * post,
    Fourier pairs sin/cos(2 pi k * position / cycle), covariates, offset log(exposure)

and for a controlled ITS additionally `group_treated`, `treated_trend` and the control series'
own change at the start (`control_level_change`, `control_slope_change`), so that `level_change`
is the treated series' change over and above the control series' change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from evaluation.errors import AnalysisError
from evaluation.estimators.prepared import PreparedData

# Length of the seasonal cycle in periods, per frequency ("year" has no within-series season).
SEASON_CYCLE: dict[str, float] = {"day": 365.25, "week": 52.18, "month": 12.0, "quarter": 4.0}
# Terms switched off in the counterfactual: the intervention's own effect on the treated series.
INTERVENTION_TERMS: tuple[str, ...] = ("level_change", "slope_change")
TREATED, CONTROL = "treated", "control"


@dataclass(frozen=True)
class ModelSpec:
    """Everything that defines one segmented model (the registered one or a check's variant)."""

    model: str  # poisson | quasi_poisson | negative_binomial | linear
    trend: bool
    harmonics: int
    slope_change: bool
    covariates: tuple[str, ...]
    has_exposure: bool
    frequency: str
    controlled: bool

    @property
    def is_count(self) -> bool:
        return self.model != "linear"


@dataclass(frozen=True)
class CovChoice:
    """Which covariance the Wald tests use: the model's own, or Newey-West with `lags`."""

    kind: str  # "model" | "hac"
    lags: int | None = None


@dataclass(frozen=True)
class ItsFit:
    names: tuple[str, ...]
    params: np.ndarray  # coefficients of `names` (NB: without alpha)
    cov: np.ndarray  # covariance of `params` under `cov_choice`
    cov_choice: CovChoice
    dispersion: float  # Pearson chi2 / (n - p); the quasi-Poisson scale
    nb_alpha: float | None  # NB2 alpha (variance mu + alpha mu^2)
    resid_scale: float  # OLS residual variance (linear), else NaN
    pearson: pd.Series  # Pearson residuals of the estimation rows, indexed like the frame
    n_obs: int
    converged: bool

    def coef(self, name: str) -> float:
        return float(self.params[self.names.index(name)])

    def se(self, name: str) -> float:
        i = self.names.index(name)
        return float(math.sqrt(max(self.cov[i, i], 0.0)))


def build_series(data: PreparedData) -> pd.DataFrame:
    """One row per group x period: group, period, t, y, exposure, covariates, excluded.

    Counts and exposure are summed over the group's units, covariates averaged over them.
    Sorted by group (treated first) then t; the caller's panel is not modified.
    """
    panel = data.panel
    groups = [(TREATED, data.treated_units)]
    if data.control_units:
        groups.append((CONTROL, data.control_units))
    frames = []
    for group, units in groups:
        rows = panel.loc[panel["unit"].isin(units)]
        agg = {"y": ("y", "sum"), "exposure": ("exposure", "sum"), "excluded": ("excluded", "any")}
        agg.update({c: (c, "mean") for c in data.covariates})
        series = rows.groupby("t", sort=True).agg(**agg).reset_index()
        series.insert(0, "group", group)
        series["period"] = [data.periods[int(t)] for t in series["t"]]
        frames.append(series)
    frame = pd.concat(frames, ignore_index=True)
    return frame[["group", "period", "t", "y", "exposure", *data.covariates, "excluded"]]


def season_position(periods: pd.Series, frequency: str) -> np.ndarray:
    """Position within the year in period units (month 1..12, ISO week, day of year, quarter).

    For integer periods the period number itself is used: a series whose period 1 is January
    (Sicily's `time`) then has the months' positions modulo the cycle.
    """
    if periods.map(lambda p: isinstance(p, int | np.integer)).all():
        return periods.to_numpy(dtype=float)
    stamps = pd.to_datetime(periods)
    if frequency == "month":
        return stamps.dt.month.to_numpy(dtype=float)
    if frequency == "week":
        return stamps.dt.isocalendar().week.to_numpy(dtype=float)
    if frequency == "day":
        return stamps.dt.day_of_year.to_numpy(dtype=float)
    if frequency == "quarter":
        return stamps.dt.quarter.to_numpy(dtype=float)
    return np.zeros(len(stamps))


def max_harmonics(frequency: str) -> int:
    """Most Fourier pairs the cycle supports: k < cycle / 2 (k = cycle / 2 has sin = 0)."""
    cycle = SEASON_CYCLE.get(frequency)
    if cycle is None:
        return 0
    return int(math.ceil(cycle / 2) - 1)


def design_matrix(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int) -> pd.DataFrame:
    """The regressors of the segmented model, one named column per term."""
    t = frame["t"].to_numpy(dtype=float)
    after = (frame["t"].to_numpy() >= t_start).astype(float)
    since = (t - t_start + 1) * after  # 1 in the first treated period (Lopez Bernal et al.)
    treated = (frame["group"] == TREATED).to_numpy(dtype=float)
    cols: dict[str, np.ndarray] = {"intercept": np.ones(len(frame))}
    if spec.controlled:
        cols["group_treated"] = treated
    if spec.trend:
        cols["trend"] = t
        if spec.controlled:
            cols["treated_trend"] = treated * t
    pairs = min(spec.harmonics, max_harmonics(spec.frequency))
    if pairs:
        cycle = SEASON_CYCLE[spec.frequency]
        position = season_position(frame["period"], spec.frequency)
        for k in range(1, pairs + 1):
            cols[f"season_sin_{k}"] = np.sin(2 * np.pi * k * position / cycle)
            cols[f"season_cos_{k}"] = np.cos(2 * np.pi * k * position / cycle)
    for name in spec.covariates:
        cols[f"covariate_{name}"] = frame[name].to_numpy(dtype=float)
    if spec.controlled:
        cols["control_level_change"] = after
        cols["level_change"] = treated * after
        if spec.slope_change:
            cols["control_slope_change"] = since
            cols["slope_change"] = treated * since
    else:
        cols["level_change"] = after
        if spec.slope_change:
            cols["slope_change"] = since
    return pd.DataFrame(cols, index=frame.index)


def response(frame: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    """The modelled outcome: counts, or for `linear` the rate per unit of exposure."""
    y = frame["y"].to_numpy(dtype=float)
    if spec.model == "linear" and spec.has_exposure:
        return y / frame["exposure"].to_numpy(dtype=float)
    return y


def offset(frame: pd.DataFrame, spec: ModelSpec) -> np.ndarray | None:
    if spec.is_count and spec.has_exposure:
        return np.log(frame["exposure"].to_numpy(dtype=float))
    return None


def _cov_kwargs(frame: pd.DataFrame, choice: CovChoice) -> dict:
    if choice.kind != "hac":
        return {}
    if frame["group"].nunique() > 1:
        # Stacked series: sum the scores of both groups per period, then Newey-West over time,
        # which also allows the two series to be correlated within a period.
        return {"cov_type": "hac-groupsum",
                "cov_kwds": {"time": frame["t"].to_numpy(), "maxlags": choice.lags}}
    return {"cov_type": "HAC", "cov_kwds": {"maxlags": choice.lags}}


def fit(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int, choice: CovChoice,
        without: tuple[str, ...] = ()) -> ItsFit:
    """Fit the segmented model to the rows of `frame` (already without excluded periods);
    `without`: terms left out (the intervention's, for a fit of the untreated rows alone)."""
    X = design_matrix(frame, spec=spec, t_start=t_start)
    if without:  # (only then: a dropped copy may lay out its values differently in memory)
        X = X.drop(columns=list(without))
    y = response(frame, spec)
    off = offset(frame, spec)
    kwargs = _cov_kwargs(frame, choice)
    nb_alpha = None
    resid_scale = float("nan")
    if spec.model == "linear":
        res = sm.OLS(y, X.to_numpy()).fit(**kwargs)
        params, cov = res.params, res.cov_params()
        pearson = res.resid / math.sqrt(res.scale)
        resid_scale = float(res.scale)
        dispersion = float(res.scale)
        converged = True
    elif spec.model == "negative_binomial":
        model = sm.NegativeBinomial(y, X.to_numpy(), offset=off, loglike_method="nb2")
        res = model.fit(disp=0, maxiter=200, **kwargs)
        p = X.shape[1]
        try:
            params, cov = res.params[:p], res.cov_params()[:p, :p]
        except (ValueError, np.linalg.LinAlgError) as exc:
            # a singular information matrix (e.g. the dispersion at its boundary): no standard
            # errors exist, so the analysis stops with a clear message (a simulation counts it)
            raise AnalysisError("analysis.model: the negative binomial model has no standard errors "
                                f"on these data ({exc}); quasi_poisson is the robust alternative") from None
        nb_alpha = float(res.params[p])
        mu = res.predict(which="mean")
        pearson = (y - mu) / np.sqrt(mu + nb_alpha * mu**2)
        dispersion = float(np.sum(pearson**2) / (len(y) - p))
        converged = bool(res.mle_retvals.get("converged", True))
    else:
        glm = sm.GLM(y, X.to_numpy(), family=sm.families.Poisson(), offset=off)
        scale = "X2" if spec.model == "quasi_poisson" else None
        res = glm.fit(scale=scale, **kwargs)
        params, cov = res.params, res.cov_params()
        pearson = res.resid_pearson
        dispersion = float(res.pearson_chi2 / res.df_resid)
        converged = bool(res.converged)
    return ItsFit(names=tuple(X.columns), params=np.asarray(params, dtype=float),
                  cov=np.asarray(cov, dtype=float), cov_choice=choice, dispersion=dispersion,
                  nb_alpha=nb_alpha, resid_scale=resid_scale,
                  pearson=pd.Series(np.asarray(pearson, dtype=float), index=frame.index),
                  n_obs=len(y), converged=converged)


def linear_predictor(frame: pd.DataFrame, fitted: ItsFit, *, spec: ModelSpec, t_start: int,
                     counterfactual: bool) -> tuple[np.ndarray, np.ndarray]:
    """x'b and its standard error per row; the counterfactual switches INTERVENTION_TERMS off."""
    X = design_matrix(frame, spec=spec, t_start=t_start)[list(fitted.names)].to_numpy(copy=True)
    if counterfactual:
        for name in INTERVENTION_TERMS:
            if name in fitted.names:
                X[:, fitted.names.index(name)] = 0.0
    eta = X @ fitted.params
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, fitted.cov, X), 0.0))
    return eta, se


def to_mean(eta: np.ndarray, frame: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    """Expected count per row from the linear predictor (adds the offset / multiplies the rate)."""
    exposure = frame["exposure"].to_numpy(dtype=float)
    if spec.is_count:
        return np.exp(eta + (np.log(exposure) if spec.has_exposure else 0.0))
    return eta * exposure if spec.has_exposure else eta
