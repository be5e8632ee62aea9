"""Wall time of the DiD estimator on a national weekly panel (run: python benchmarks/did_performance.py).

Panel: 342 municipalities x 156 weeks, simulated like the demo data (unit sizes varying ~10-fold,
yearly seasonality, gamma-Poisson overdispersion, about 1,500 events a year nationally), three
treated municipalities from week 110 with rate ratio 0.8.

1. The primary Poisson estimate (model frame + pyfixest fepois + both error types) against a
   bare pyfixest `fepois("y ~ d | unit + t", offset, CRV1)` on the same data, both warm
   (median of 5 runs); target ratio <= 1.5.
2. The full `estimate_did`: randomization inference with 1,000 draws (p-value and interval by
   test inversion), event study, placebo dates, leave-one-out, displacement; target <= 10 s
   on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from evaluation.design.model import parse_design
from evaluation.estimators.prepared import PreparedData

N_UNITS, N_WEEKS, START, N_TREATED = 342, 156, 110, 3


def simulate(seed: int = 1, events_per_year: float = 1500.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pop = rng.lognormal(np.log(30_000), 0.9, N_UNITS)
    t = np.arange(N_WEEKS)
    season = 0.3 * np.cos(2 * np.pi * t / 52.0)
    share = pop / pop.sum()
    mu = events_per_year / 52.0 * share[:, None] * np.exp(season)[None, :]
    mu[:N_TREATED, START:] *= 0.8
    y = rng.poisson(mu * rng.gamma(2.0, 0.5, mu.shape))
    return pd.DataFrame({"unit": np.repeat([f"GM{i:04d}" for i in range(N_UNITS)], N_WEEKS),
                         "t": np.tile(t, N_UNITS), "y": y.ravel().astype(float),
                         "exposure": np.repeat(pop, N_WEEKS)})


def prepared(panel: pd.DataFrame) -> PreparedData:
    treated = tuple(f"GM{i:04d}" for i in range(N_TREATED))
    design = parse_design({
        "id": "did-benchmark", "title": "t", "owner": "o", "hypothesis": "h", "design": "did",
        "data": {"source": "panel.csv", "exposure": "population"},
        "treatment": {"units": list(treated), "start": START},
        "window": {"start": 0, "end": N_WEEKS - 1},
        "analysis": {"model": "poisson", "randomization_draws": 1000},
    })
    frame = panel.copy()
    frame["period"] = frame["t"]
    frame["cohort"] = np.where(frame["unit"].isin(treated), START, -1)
    frame["treated_unit"] = frame["unit"].isin(treated)
    frame["post"] = frame["treated_unit"] & (frame["t"] >= START)
    frame["d"] = frame["post"].astype(int)
    frame["excluded"] = False
    controls = tuple(u for u in dict.fromkeys(frame["unit"]) if u not in treated)
    return PreparedData(design=design, panel=frame, frequency="week", treated_units=treated,
                        control_units=controls, has_exposure=True, covariates=(),
                        periods=tuple(range(N_WEEKS)), data_sha256="0" * 64,
                        data_cutoff=str(N_WEEKS - 1))


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import pyfixest as pf

    import evaluation.estimators.did as did
    from evaluation.estimators.did import estimate_did
    from evaluation.estimators.did.twfe import fit_twfe

    data = prepared(simulate())
    frame = did.model_rows(data)[1]
    print(f"panel: {N_UNITS} units x {N_WEEKS} weeks, {int(data.panel['y'].sum())} events, "
          f"{frame['unit'].nunique()} units with events; cpu_count={os.cpu_count()}")

    def ours():
        fit_twfe(did.model_rows(data)[1], model="poisson")

    def bare():
        pf.fepois("y ~ d | unit_id + t", data=frame, offset="log_exposure",
                  vcov={"CRV1": "unit_id"})

    ours(), bare()  # warm: numba compilation
    t_ours, t_bare = median_time(ours, args.runs), median_time(bare, args.runs)
    print(f"primary Poisson estimate: {t_ours:.3f} s; bare pyfixest fepois: {t_bare:.3f} s; "
          f"ratio {t_ours / t_bare:.2f} (target <= 1.5)")

    estimate_did(data)  # warm
    start = time.perf_counter()
    out = estimate_did(data)
    total = time.perf_counter() - start
    start = time.perf_counter()
    did.event_study(data)
    event = time.perf_counter() - start
    p = out.primary
    print(f"full analysis (1,000 randomization draws, interval, all checks): {total:.2f} s "
          f"(of which event study {event:.2f} s); target <= 10 s")
    print(f"RR {p['estimate']:.3f} [{p['ci_low']:.3f}, {p['ci_high']:.3f}], p = {p['p_value']:.3f}"
          f" ({p['inference']['used']}, {p['inference']['draws']} draws)")


if __name__ == "__main__":
    main()
