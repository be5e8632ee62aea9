"""Helpers for DiD tests: designs, PreparedData from a plain panel, and simulated count panels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation.design.model import Design, parse_design
from evaluation.estimators.prepared import PreparedData


def make_design(*, treated: tuple[str, ...], start: int | dict[str, int], end_t: int,
                model: str = "poisson", inference: str = "auto", estimator: str = "auto",
                control_group: str = "never_treated", draws: int = 1000, seed: int = 1,
                alpha: float = 0.05, exclude: tuple[int, int] | None = None) -> Design:
    window: dict[str, Any] = {"start": 0, "end": end_t}
    if exclude is not None:
        window["exclude"] = {"start": exclude[0], "end": exclude[1]}
    return parse_design({
        "id": "test-did", "title": "test", "owner": "tests", "hypothesis": "no effect",
        "design": "did", "data": {"source": "panel.csv", "exposure": "population"},
        "treatment": {"units": list(treated), "start": start},
        "window": window,
        "analysis": {"model": model, "inference": inference, "estimator": estimator,
                     "control_group": control_group, "randomization_draws": draws,
                     "seed": seed, "alpha": alpha},
    })


def make_prepared(panel_df: pd.DataFrame, design: Design) -> PreparedData:
    """PreparedData from a frame with unit, t, y[, exposure]; treatment from the design."""
    panel = panel_df[["unit", "t", "y"] + (["exposure"] if "exposure" in panel_df else [])].copy()
    panel["unit"] = panel["unit"].astype(str)
    panel["t"] = panel["t"].astype(int)
    panel["y"] = panel["y"].astype(float)
    if "exposure" not in panel:
        panel["exposure"] = 1.0
    panel["period"] = panel["t"]
    treated = tuple(design.treatment.units)
    cohorts = {u: int(design.treatment.start_of(u)) for u in treated}
    panel["cohort"] = panel["unit"].map(cohorts).fillna(-1).astype(int)
    panel["treated_unit"] = panel["unit"].isin(treated)
    panel["post"] = panel["treated_unit"] & (panel["t"] >= panel["cohort"])
    panel["d"] = panel["post"].astype(int)
    ex = design.window.exclude
    panel["excluded"] = (panel["t"] >= ex.start) & (panel["t"] <= ex.end) if ex else False
    panel = panel.sort_values(["unit", "t"]).reset_index(drop=True)
    controls = tuple(u for u in dict.fromkeys(panel["unit"]) if u not in treated)
    periods = tuple(sorted(panel["t"].unique().tolist()))
    return PreparedData(design=design, panel=panel, frequency="week", treated_units=treated,
                        control_units=controls, has_exposure=True, covariates=(),
                        periods=periods, data_sha256="0" * 64, data_cutoff=str(periods[-1]))


def unit_name(i: int) -> str:
    return f"GM{i:04d}"


def simulate_counts(*, n_units: int = 100, n_periods: int = 100, n_treated: int = 3,
                    start: int = 70, rate_ratio: float = 1.0, seed: int = 0,
                    shape: float = 2.0, base_rate: float = 0.15) -> pd.DataFrame:
    """Weekly counts like the demo's: unit sizes vary, yearly seasonality, gamma-Poisson noise.

    The first `n_treated` units are treated from `start`; their mean is multiplied by
    `rate_ratio` from then on. Overdispersion: mean * Gamma(shape, 1/shape) per cell.
    """
    rng = np.random.default_rng(seed)
    pop = rng.lognormal(mean=np.log(40_000), sigma=0.8, size=n_units)
    unit_level = rng.normal(0.0, 0.3, size=n_units)
    t = np.arange(n_periods)
    season = 0.3 * np.sin(2 * np.pi * t / 52.0) + 0.1 * np.cos(4 * np.pi * t / 52.0)
    trend = 0.002 * t
    log_mu = (np.log(base_rate) + np.log(pop / 40_000)[:, None] + unit_level[:, None]
              + (season + trend)[None, :])
    effect = np.zeros((n_units, n_periods))
    effect[:n_treated, start:] = np.log(rate_ratio)
    mu = np.exp(log_mu + effect) * rng.gamma(shape, 1.0 / shape, size=(n_units, n_periods))
    y = rng.poisson(mu)
    return pd.DataFrame({
        "unit": np.repeat([unit_name(i) for i in range(n_units)], n_periods),
        "t": np.tile(t, n_units),
        "y": y.ravel().astype(float),
        "exposure": np.repeat(pop, n_periods),
    })


def simulated_prepared(*, n_units: int = 100, n_periods: int = 100, n_treated: int = 3,
                       start: int = 70, rate_ratio: float = 1.0, seed: int = 0,
                       model: str = "poisson", inference: str = "auto", draws: int = 1000,
                       **sim: Any) -> PreparedData:
    panel = simulate_counts(n_units=n_units, n_periods=n_periods, n_treated=n_treated,
                            start=start, rate_ratio=rate_ratio, seed=seed, **sim)
    design = make_design(treated=tuple(unit_name(i) for i in range(n_treated)), start=start,
                         end_t=n_periods - 1, model=model, inference=inference, draws=draws,
                         seed=seed + 1)
    return make_prepared(panel, design)
