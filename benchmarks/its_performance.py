"""Wall time of evaluation.its.estimate_its on typical series (run: python benchmarks/its_performance.py).

Cases: a weekly series over three years (the usual pilot), the same with a control series, the
negative binomial model, and three years of daily counts (the influence check refits once per
period, so its cost grows with the number of periods).
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd

from evaluation.design.model import Design
from evaluation.estimators.its import estimate_its
from evaluation.simulation.series import prepared_from_long, simulate_weekly_counts


def design(*, model: str, frequency: str = "week", controls: list[str] | None = None) -> Design:
    raw = {
        "id": "its-benchmark", "title": "t", "owner": "o", "hypothesis": "h", "design": "its",
        "data": {"source": "/tmp/x.csv", "frequency": frequency, "unit_column": "unit", "outcome": "y"},
        "treatment": {"units": ["A"], "start": dt.date(2023, 1, 2)},
        "window": {"start": dt.date(2021, 1, 4), "end": dt.date(2023, 12, 25)},
        "analysis": {"model": model, "inference": "auto", "seasonality": 2},
    }
    if controls:
        raw["controls"] = controls
    return Design.model_validate(raw)


def weekly(units: tuple[str, ...]) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.concat([simulate_weekly_counts(rng=rng, rate_ratio=0.8).assign(unit=u) for u in units],
                     ignore_index=True)


def daily() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    periods = pd.date_range("2021-01-04", "2023-12-31", freq="D")
    mu = 3 * np.exp(0.3 * np.sin(2 * np.pi * periods.day_of_year / 365.25))
    return pd.DataFrame({"unit": "A", "period": periods, "y": rng.poisson(mu).astype(float)})


def timed(label: str, data) -> None:
    start = time.perf_counter()
    out = estimate_its(data)
    seconds = time.perf_counter() - start
    print(f"{label:<40} {data.n_periods:>5} periods  {seconds:6.2f} s  RR {out.primary['estimate']:.3f}")


def main() -> None:
    timed("weekly, quasi-Poisson", prepared_from_long(design(model="quasi_poisson"), weekly(("A",))))
    timed("weekly, negative binomial", prepared_from_long(design(model="negative_binomial"), weekly(("A",))))
    timed("weekly, controlled, quasi-Poisson",
          prepared_from_long(design(model="quasi_poisson", controls=["B"]), weekly(("A", "B"))))
    timed("daily, quasi-Poisson", prepared_from_long(design(model="quasi_poisson", frequency="day"), daily()))


if __name__ == "__main__":
    main()
