"""Small builders for tests and simulations: PreparedData from a long table, simulated series.

`prepared_from_long` is a minimal stand-in for evaluation.prepare for data already in memory
(unit, period, y[, exposure, covariates]); it applies the design's window, start and exclusion.
`simulate_weekly_counts` draws overdispersed seasonal weekly counts with a known rate ratio (a thin
wrapper of the one simulation model).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from evaluation.design.model import Design
from evaluation.estimators.prepared import PreparedData
from evaluation.simulation.model import PanelModel


def _key(period):
    return pd.Timestamp(period) if not isinstance(period, int | np.integer) else int(period)


def prepared_from_long(design: Design, long: pd.DataFrame) -> PreparedData:
    """PreparedData for `design` from columns unit, period, y, [exposure], [covariates]."""
    window, treatment = design.window, design.treatment
    lo, hi = _key(window.start), _key(window.end)
    rows = long.loc[(long["period"] >= lo) & (long["period"] <= hi)].copy()
    periods = tuple(sorted(rows["period"].unique()))
    periods = tuple(int(p) if isinstance(p, int | np.integer) else pd.Timestamp(p) for p in periods)
    index = {p: i for i, p in enumerate(periods)}
    rows["t"] = rows["period"].map(index).astype(int)
    has_exposure = "exposure" in rows and design.data.exposure is not None
    if not has_exposure:
        rows["exposure"] = 1.0
    units = tuple(dict.fromkeys(rows["unit"]))
    treated = tuple(u for u in units if u in treatment.units)
    controls = tuple(u for u in units if design.control_units and u in design.control_units)
    rows = rows.loc[rows["unit"].isin((*treated, *controls))]

    def first_t(unit: str) -> int:
        start = _key(treatment.start_of(unit))
        later = [i for p, i in index.items() if p >= start]
        return min(later) if later else -1

    cohorts = {u: first_t(u) for u in treated}
    rows["cohort"] = rows["unit"].map(cohorts).fillna(-1).astype(int)
    rows["treated_unit"] = rows["unit"].isin(treated)
    rows["post"] = rows["treated_unit"] & (rows["t"] >= rows["cohort"])
    rows["d"] = rows["post"].astype(int)
    ex = window.exclude
    rows["excluded"] = False if ex is None else rows["period"].between(_key(ex.start), _key(ex.end))
    covariates = tuple(design.data.covariates)
    cols = ["unit", "period", "t", "y", "exposure", *covariates, "cohort", "treated_unit", "post",
            "d", "excluded"]
    panel = rows[cols].sort_values(["unit", "t"]).reset_index(drop=True)
    panel["y"] = panel["y"].astype(float)
    panel["exposure"] = panel["exposure"].astype(float)
    sha = hashlib.sha256(panel.to_csv(index=False).encode()).hexdigest()
    return PreparedData(design=design, panel=panel, frequency=design.data.frequency,
                        treated_units=treated, control_units=controls, has_exposure=has_exposure,
                        covariates=covariates, periods=periods, data_sha256=sha,
                        data_cutoff=str(periods[-1]))


def simulate_weekly_counts(*, rng: np.random.Generator, weeks: int = 156, start: int = 104,
                           base_rate: float = 20.0, rate_ratio: float = 1.0,
                           dispersion: float = 2.0, trend_per_year: float = 0.05,
                           amplitude: float = 0.3, first_monday: str = "2021-01-04") -> pd.DataFrame:
    """One unit's weekly counts: log-linear trend, one seasonal pair, level change RR at `start`.

    Counts are gamma-Poisson with variance = dispersion x mean (dispersion > 1): the one
    simulation model (`simulation.model.PanelModel`) with each week's NB2 alpha
    (dispersion - 1) / mean.
    """
    periods = pd.date_range(first_monday, periods=weeks, freq="7D")
    t = np.arange(weeks)
    week = periods.isocalendar().week.to_numpy(dtype=float)
    log_mu = (np.log(base_rate) + trend_per_year * t / 52.18
              + amplitude * np.sin(2 * np.pi * week / 52.18))
    mu = np.exp(log_mu)
    post = t >= start
    model = PanelModel(mu=mu, t=t, process=np.zeros(weeks, dtype=int), frailty=t,
                       share=np.ones(weeks), treated_post=post, n_periods=weeks,
                       dispersion=(dispersion - 1) / (mu * np.where(post, rate_ratio, 1.0)),
                       kind="weekly series")
    return pd.DataFrame({"unit": "all", "period": periods,
                         "y": model.simulate(rng, rate_ratio=rate_ratio), "exposure": 1.0})
