"""Simulated panels with a known effect, for tests and the performance benchmarks.

`simulate_panel` is a thin wrapper of the one simulation model (`simulation.synthetic`): units
with a population exposure, period effects, a treatment that multiplies the rate by `rate_ratio`
from each treated unit's start; the treated units are the most populous. Integer periods;
deterministic for `seed`. New code can use `SimulationConfig` and `simulate` directly (they add
seasonality, persistent unit deviations and the selection of treated units).
"""

from __future__ import annotations

import numpy as np

from evaluation.estimators.prepared import PreparedData
from evaluation.simulation.synthetic import SimulationConfig, simulate


def simulate_panel(*, n_units: int, n_periods: int, n_treated: int, start: int | dict[str, int],
                   rate_ratio: float, events_per_period: float, seed: int, model: str = "poisson",
                   design: str = "did", dispersion: float | None = None, seasonality: int = 0,
                   slope_change: bool = False, controls: tuple[str, ...] | None = None,
                   exclude: tuple[int, int] | None = None, period_sd: float = 0.2,
                   bayesian_seed: int | None = None, persistence: float = 0.0,
                   deviation_sd: float = 0.0) -> PreparedData:
    """A simulated prepared panel. `events_per_period` is the expected total over all units.

    `dispersion` is the gamma shape of the overdispersion (var = mu + mu^2 / dispersion); None
    means Poisson. `seasonality` and `slope_change` set the design's analysis fields.
    """
    analysis = {"model": model, "bayesian": True, "seasonality": seasonality,
                "slope_change": slope_change,
                **({"seed": bayesian_seed} if bayesian_seed is not None else {})}
    config = SimulationConfig(
        n_units=n_units, n_periods=n_periods, n_treated=n_treated, start=start,
        events_per_period=events_per_period, period_sd=period_sd,
        dispersion=0.0 if dispersion is None else 1.0 / dispersion, persistence=persistence,
        deviation_sd=deviation_sd, design=design, controls=controls, exclude=exclude,
        analysis=analysis)
    return simulate(np.random.default_rng(seed), config, rate_ratio=rate_ratio)
