"""Simulated panels with a known effect, for tests, calibration and the performance benchmark.

`simulate_panel` builds a `PreparedData` directly (no store, no panel file): units with a
population exposure, period effects, a treatment that multiplies the rate by `rate_ratio` from
each treated unit's start. Integer periods; deterministic for `seed`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.design.model import parse_design
from evaluation.estimators.prepared import PreparedData


def simulate_panel(*, n_units: int, n_periods: int, n_treated: int, start: int | dict[str, int],
                   rate_ratio: float, events_per_period: float, seed: int, model: str = "poisson",
                   design: str = "did", dispersion: float | None = None, seasonality: int = 0,
                   slope_change: bool = False, controls: tuple[str, ...] | None = None,
                   exclude: tuple[int, int] | None = None, period_sd: float = 0.2,
                   bayesian_seed: int | None = None) -> PreparedData:
    """A simulated prepared panel. `events_per_period` is the expected total over all units.

    `dispersion` (NB alpha, var = mu + mu^2 / alpha) adds overdispersion; None means Poisson.
    Treated units are the most populous ones (as in practice: large cities act first).
    """
    rng = np.random.default_rng(seed)
    units = [f"GM{i:04d}" for i in range(1, n_units + 1)]
    population = np.sort(rng.lognormal(mean=10.0, sigma=1.0, size=n_units))[::-1]
    growth = rng.normal(0.005, 0.005, size=n_units)  # yearly growth: exposure varies over time
    t = np.arange(n_periods)
    exposure = population[:, None] * np.exp(growth[:, None] * t[None, :] / 52.0)
    unit_effect = rng.normal(0.0, 0.5, size=n_units)
    period_effect = rng.normal(0.0, period_sd, size=n_periods)
    treated = units[:n_treated]
    starts = start if isinstance(start, dict) else {u: start for u in treated}
    cohort = np.array([starts.get(u, -1) for u in units])
    d = (cohort[:, None] >= 0) & (t[None, :] >= cohort[:, None])
    base = exposure * np.exp(unit_effect[:, None] + period_effect[None, :])
    base *= events_per_period / base.sum(axis=0).mean()
    mu = base * np.where(d, rate_ratio, 1.0)
    if dispersion is None:
        y = rng.poisson(mu)
    else:
        y = rng.poisson(rng.gamma(dispersion, mu / dispersion))
    excluded = np.zeros(n_periods, dtype=bool)
    if exclude is not None:
        excluded[exclude[0]:exclude[1] + 1] = True
    panel = pd.DataFrame({
        "unit": np.repeat(units, n_periods),
        "period": np.tile(t, n_units),
        "t": np.tile(t, n_units),
        "y": y.ravel().astype(float),
        "exposure": exposure.ravel(),
        "cohort": np.repeat(cohort, n_periods),
        "treated_unit": np.repeat(cohort >= 0, n_periods),
        "post": d.ravel(),
        "d": d.ravel().astype(int),
        "excluded": np.tile(excluded, n_units),
    })
    raw = {
        "id": "sim", "title": "simulation", "owner": "tests", "hypothesis": "simulated effect",
        "design": design,
        "data": {"source": "panel.csv", "exposure": "population"},
        "treatment": {"units": treated, "start": starts if isinstance(start, dict) else start},
        "window": {"start": 0, "end": n_periods - 1},
        "analysis": {"model": model, "bayesian": True, "seasonality": seasonality,
                     "slope_change": slope_change,
                     **({"seed": bayesian_seed} if bayesian_seed is not None else {})},
    }
    if controls is not None:
        raw["controls"] = list(controls)
    if exclude is not None:
        raw["window"]["exclude"] = {"start": exclude[0], "end": exclude[1]}
    design_obj = parse_design(raw, source="simulation")
    if design == "its":
        keep = set(treated) | set(controls or ())
        panel = panel.loc[panel["unit"].isin(keep)].reset_index(drop=True)
    control_units = tuple(u for u in dict.fromkeys(panel["unit"]) if u not in treated)
    return PreparedData(
        design=design_obj, panel=panel, frequency="week", treated_units=tuple(treated),
        control_units=control_units, has_exposure=True, covariates=(),
        periods=tuple(range(n_periods)),
        data_sha256="simulated", data_cutoff=str(n_periods - 1),
    )
