"""A synthetic programme from the one simulation model: `SimulationConfig` + `simulate(rng, ...)`.

For tests and calibration studies (randomization inference, the Bayesian models, ITS): a panel
of `n_units` units over `n_periods` periods with unequal unit sizes (lognormal populations, the
exposure), unit effects, period effects (independent, plus an optional yearly season and trend),
overdispersion and persistent unit deviations (`simulation.model.PanelModel`), and a known
effect: the rate ratio multiplies the treated units' means from their start.

Which units are treated (`treated`):
- `largest`: the most populous units (as in practice: large cities act first);
- `random`: a random draw of units;
- `spike`: the units with the largest excess of counts over their expected mean in the
  `spike_periods` periods before the start (among the `spike_pool` most populous, default all):
  selection on a recent spike, which regression to the mean then lowers without any effect.

`design="its"` keeps the treated units (summed into one treated series by the ITS estimator) and
the listed `controls` (a comparison series; none: a single-series ITS). The result is a
`PreparedData` with a registered-looking design, ready for any estimator.

    from evaluation.simulation.synthetic import SimulationConfig, simulate
    config = SimulationConfig(n_units=60, n_treated=3, persistence=0.8, deviation_sd=0.3,
                              dispersion=0.5, treated="spike")
    data = simulate(np.random.default_rng(1), config, rate_ratio=0.8)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from evaluation.design.model import parse_design
from evaluation.errors import EvaluationError
from evaluation.estimators.prepared import PreparedData
from evaluation.simulation.model import PanelModel

WEEKS_PER_YEAR = 52.0


@dataclass(frozen=True)
class SimulationConfig:
    """A synthetic programme (see the module docstring); every field has a plain default."""

    n_units: int = 100
    n_periods: int = 104
    n_treated: int = 3
    start: int | dict[str, int] = 78  # first treated period, or unit -> first treated period
    events_per_period: float = 20.0  # expected events per period over all units
    population_sd: float = 1.0  # lognormal sigma of unit sizes (population, the exposure)
    unit_effect_sd: float = 0.5  # rate per inhabitant varies by unit (log sd)
    period_sd: float = 0.2  # independent period effects (log sd)
    season_amplitude: float = 0.0  # log amplitude of a yearly cosine (52 periods a year)
    trend_per_year: float = 0.0  # log-linear trend per 52 periods
    dispersion: float = 0.0  # NB2 alpha per cell (0: Poisson)
    persistence: float = 0.0  # AR(1) coefficient per period of each unit's deviation
    deviation_sd: float = 0.0  # stationary sd of the log deviation (0: none)
    treated: Literal["largest", "random", "spike"] = "largest"
    spike_periods: int = 8
    spike_pool: int | None = None
    design: Literal["did", "its"] = "did"
    controls: tuple[str, ...] | None = None  # its: comparison units (None: single series)
    exclude: tuple[int, int] | None = None  # window.exclude (period numbers)
    analysis: dict[str, Any] = field(default_factory=dict)  # the design's analysis block
    decision: dict[str, Any] = field(default_factory=dict)  # the design's decision block


def unit_names(n: int) -> list[str]:
    return [f"GM{i:04d}" for i in range(1, n + 1)]


def simulate(rng: np.random.Generator, config: SimulationConfig, *,
             rate_ratio: float = 1.0) -> PreparedData:
    """One synthetic data set with the effect `rate_ratio` (see the module docstring).

    Random numbers, in order: populations, exposure growth, unit effects, period effects,
    [random treated units], then the model's draws (deviations, frailties, counts); `spike`
    draws the counts without effect first and redraws the treated units' post periods.
    """
    _check(config)
    n, n_t = config.n_units, config.n_periods
    units = unit_names(n)
    population = np.sort(rng.lognormal(mean=10.0, sigma=config.population_sd, size=n))[::-1]
    growth = rng.normal(0.005, 0.005, size=n)  # yearly growth: exposure varies over time
    t = np.arange(n_t)
    exposure = population[:, None] * np.exp(growth[:, None] * t[None, :] / WEEKS_PER_YEAR)
    unit_effect = rng.normal(0.0, config.unit_effect_sd, size=n)
    period_effect = (rng.normal(0.0, config.period_sd, size=n_t)
                     + config.season_amplitude * np.cos(2 * np.pi * t / WEEKS_PER_YEAR)
                     + config.trend_per_year * t / WEEKS_PER_YEAR)
    base = exposure * np.exp(unit_effect[:, None] + period_effect[None, :])
    base *= config.events_per_period / base.sum(axis=0).mean()

    order = rng.permutation(n) if config.treated == "random" else np.arange(n)
    model = PanelModel(
        mu=base.ravel(), t=np.tile(t, n), process=np.repeat(np.arange(n), n_t),
        frailty=np.arange(n * n_t), share=np.ones(n * n_t),
        treated_post=np.zeros(n * n_t, dtype=bool), n_periods=n_t, count=True,
        dispersion=config.dispersion, persistence=config.persistence,
        deviation_sd=config.deviation_sd, kind="synthetic programme")
    if config.treated == "spike":
        latent = model.latent(rng)
        y = rng.poisson(latent).astype(float)
        treated_idx = _spike_units(y.reshape(n, n_t), base, config)
        post = _post_mask(units, treated_idx, config)
        redraw = post.ravel()
        y[redraw] = rng.poisson(latent[redraw] * rate_ratio)
    else:
        treated_idx = np.sort(order[: config.n_treated])
        post = _post_mask(units, treated_idx, config)
        y = model.simulate(rng, rate_ratio=rate_ratio, treated_post=post.ravel())
    treated = [units[i] for i in treated_idx]
    return _prepared(config, units, treated, exposure, y.reshape(n, n_t), post)


def _check(config: SimulationConfig) -> None:
    if not 0 < config.n_treated <= config.n_units:
        raise EvaluationError(f"SimulationConfig.n_treated: {config.n_treated} must lie between 1 "
                              f"and n_units ({config.n_units})")
    if config.treated not in ("largest", "random", "spike"):
        raise EvaluationError(f"SimulationConfig.treated: `{config.treated}`; use largest, random "
                              "or spike")
    if config.treated == "spike" and isinstance(config.start, dict):
        raise EvaluationError("SimulationConfig.start: spike selection needs one start period "
                              "(the treated units are not known in advance)")


def _starts(config: SimulationConfig, treated: list[str]) -> dict[str, int]:
    if isinstance(config.start, dict):
        missing = sorted(set(treated) - set(config.start))
        if missing:
            raise EvaluationError(f"SimulationConfig.start: no start for {', '.join(missing)}")
        return {u: int(config.start[u]) for u in treated}
    return {u: int(config.start) for u in treated}


def _post_mask(units: list[str], treated_idx: np.ndarray, config: SimulationConfig) -> np.ndarray:
    starts = _starts(config, [units[i] for i in treated_idx])
    cohort = np.array([starts.get(u, -1) for u in units])
    t = np.arange(config.n_periods)
    return (cohort[:, None] >= 0) & (t[None, :] >= cohort[:, None])


def _spike_units(y: np.ndarray, mean: np.ndarray, config: SimulationConfig) -> np.ndarray:
    """The units with the largest standardised excess in the periods just before the start."""
    start = int(config.start)  # one start (checked)
    window = slice(max(start - config.spike_periods, 0), start)
    observed, expected = y[:, window].sum(axis=1), mean[:, window].sum(axis=1)
    excess = (observed - expected) / np.sqrt(np.maximum(expected, 1e-12))
    pool = config.spike_pool or config.n_units  # units are sorted by size: the largest first
    chosen = np.argsort(-excess[:pool], kind="stable")[: config.n_treated]
    return np.sort(chosen)


def _prepared(config: SimulationConfig, units: list[str], treated: list[str],
              exposure: np.ndarray, y: np.ndarray, post: np.ndarray) -> PreparedData:
    n, n_t = y.shape
    starts = _starts(config, treated)
    cohort = np.array([starts.get(u, -1) for u in units])
    excluded = np.zeros(n_t, dtype=bool)
    if config.exclude is not None:
        excluded[config.exclude[0]:config.exclude[1] + 1] = True
    t = np.arange(n_t)
    panel = pd.DataFrame({
        "unit": np.repeat(units, n_t), "period": np.tile(t, n), "t": np.tile(t, n),
        "y": y.ravel().astype(float), "exposure": exposure.ravel(),
        "cohort": np.repeat(cohort, n_t), "treated_unit": np.repeat(cohort >= 0, n_t),
        "post": post.ravel(), "d": post.ravel().astype(int),
        "excluded": np.tile(excluded, n),
    })
    raw: dict[str, Any] = {
        "id": "sim", "title": "simulation", "owner": "tests", "hypothesis": "simulated effect",
        "design": config.design,
        "data": {"source": "panel.csv", "exposure": "population"},
        "treatment": {"units": treated,
                      "start": starts if isinstance(config.start, dict) else int(config.start)},
        "window": {"start": 0, "end": n_t - 1},
        "analysis": dict(config.analysis),
    }
    if config.decision:
        raw["decision"] = dict(config.decision)
    if config.controls is not None:
        raw["controls"] = list(config.controls)
    if config.exclude is not None:
        raw["window"]["exclude"] = {"start": config.exclude[0], "end": config.exclude[1]}
    design = parse_design(raw, source="simulation")
    if config.design == "its":
        keep = set(treated) | set(config.controls or ())
        panel = panel.loc[panel["unit"].isin(keep)].reset_index(drop=True)
    control_units = tuple(u for u in dict.fromkeys(panel["unit"]) if u not in treated)
    return PreparedData(
        design=design, panel=panel, frequency="week", treated_units=tuple(treated),
        control_units=control_units, has_exposure=True, covariates=(),
        periods=tuple(range(n_t)), data_sha256="simulated", data_cutoff=str(n_t - 1))
