"""What a Bayesian model module hands to `fit_bayesian`: the PyMC model plus its read-outs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from evaluation.errors import AnalysisError
from evaluation.estimators.prepared import PreparedData


@dataclass(frozen=True)
class ModelBundle:
    """A built (not yet sampled) model and how to read its posterior.

    effect_draws(posterior) -> log rate ratio per draw, flattened over chains (for the linear
      model: the rate ratio implied by the difference, logged, so every summary reads alike).
    averted_draws(posterior, rng) -> counterfactual minus observed treated post-period total per
      draw, from the posterior predictive (counterfactual counts drawn without the effect).
    prior_predictive(rng, n) -> (n, n_periods) simulated counts of the series the check uses.
    observed_max: the observed maximum of that series, for the prior predictive check.
    effect_prior_scales: each variable whose prior is Normal(0, log_rr_sd x scale), by name; the
      prior-sensitivity reweighting changes exactly these densities.
    """

    model: pm.Model
    description: str
    priors: dict[str, str]
    scale: str  # "rate_ratio" or "difference"
    effect_draws: Callable[[xr.Dataset], np.ndarray]
    averted_draws: Callable[[xr.Dataset, np.random.Generator], np.ndarray]
    prior_predictive: Callable[[np.random.Generator, int], np.ndarray]
    observed_max: float
    extras: dict[str, Any]
    effect_prior_scales: dict[str, float] = field(default_factory=lambda: {"log_rr": 1.0})


def flat(posterior: xr.Dataset, name: str) -> np.ndarray:
    """Draws of a variable as (n_draws, *shape), chains stacked in order (deterministic)."""
    values = posterior[name].values
    return values.reshape(-1, *values.shape[2:])


def matrices(data: PreparedData) -> dict[str, Any]:
    """Unit x period matrices of the estimation rows (excluded periods dropped).

    A repeated cross-section is summed to unit-period cells first (counts add up; exposures add
    up). Absent cells have exposure 0 and are masked out.
    """
    rows = data.estimation_rows
    if rows["y"].isna().any():
        bad = np.flatnonzero(rows["y"].isna().to_numpy())
        from evaluation.errors import format_rows
        raise AnalysisError(f"panel: column y has missing values in estimation rows "
                            f"{format_rows(bad)}; drop or fill them in the panel file")
    if len(rows) == 0:
        raise AnalysisError("panel: no estimation rows left after window.exclude; "
                            "shorten the exclusion")
    units = list(dict.fromkeys(rows["unit"]))
    periods = sorted(rows["t"].unique())
    cells = rows.groupby(["unit", "t"], sort=False).agg(
        y=("y", "sum"), exposure=("exposure", "sum"), d=("d", "max"), n=("y", "size"))
    full = pd.MultiIndex.from_product([units, periods], names=["unit", "t"])
    cells = cells.reindex(full)
    shape = (len(units), len(periods))
    present = cells["n"].notna().to_numpy().reshape(shape)
    y = cells["y"].fillna(0.0).to_numpy().reshape(shape)
    exposure = cells["exposure"].fillna(0.0).to_numpy().reshape(shape)
    d = cells["d"].fillna(0).to_numpy().reshape(shape).astype(float)
    if (exposure[present] <= 0).any():
        raise AnalysisError("panel: column exposure must be positive in every estimation row; "
                            "fix the exposure column or leave data.exposure out")
    treated = np.array([u in set(data.treated_units) for u in units])
    return {"units": units, "t": np.asarray(periods), "y": y, "exposure": exposure, "d": d,
            "present": present, "treated": treated}
