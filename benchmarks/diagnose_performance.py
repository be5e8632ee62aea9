"""Benchmark: design diagnosis of the primary DiD on a national weekly panel (not a timed test).

342 municipalities x 156 weeks (simulated like the demo data: unit sizes vary, yearly season,
gamma-Poisson noise), 5 treated units from week 104, Poisson TWFE with randomization inference
(1,000 draws). Measures, in one run:

1. the diagnosis: 1,000 simulated data sets at no effect and at -10% (each: the TWFE estimate,
   the randomization p-value, and the test at the true effect for coverage) on --workers cores;
2. the general path (the did module's own fits via pyfixest: one TWFE fit + two null fits per
   data set), timed on a few data sets and extrapolated;
3. the naive way: refitting the TWFE model for every permutation (1,000 draws, plus as many
   for the test at the truth), timed on a few refits and extrapolated.

4. with --dask: the same diagnosis on a Dask `LocalCluster` (--workers processes, one thread
   each), and whether its numbers are identical to the local run's.

Run: .venv/bin/python benchmarks/diagnose_performance.py [--workers 2] [--sims 1000] [--dask]
Writes benchmarks/results/diagnose.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import pandas as pd
from results_file import row, write

from evaluation import progress
from evaluation.design.model import parse_design
from evaluation.diagnose import diagnose_prepared
from evaluation.estimators.core import primary_outcome
from evaluation.estimators.prepared import PreparedData
from evaluation.simulation.null_model import fit_null_model, placebo_history

N_UNITS, N_WEEKS, N_TREATED, START = 342, 156, 5, 104


def national_panel(seed: int = 1) -> PreparedData:
    rng = np.random.default_rng(seed)
    pop = rng.lognormal(np.log(30_000), 0.9, N_UNITS)
    t = np.arange(N_WEEKS)
    season = 0.3 * np.sin(2 * np.pi * t / 52.18)
    mu = 0.05 * (pop / 30_000)[:, None] * np.exp(season)[None, :]
    y = rng.poisson(mu * rng.gamma(2.0, 0.5, mu.shape))
    units = [f"GM{i:04d}" for i in range(N_UNITS)]
    treated = tuple(units[:N_TREATED])
    design = parse_design({
        "id": "bench-national", "title": "benchmark", "owner": "benchmarks",
        "hypothesis": "fewer attacks", "design": "did",
        "data": {"source": "panel.csv", "exposure": "population"},
        "treatment": {"units": list(treated), "start": START},
        "window": {"start": 0, "end": N_WEEKS - 1},
        "analysis": {"model": "poisson", "inference": "randomization", "seed": 11},
    })
    panel = pd.DataFrame({"unit": np.repeat(units, N_WEEKS), "period": np.tile(t, N_UNITS),
                          "t": np.tile(t, N_UNITS), "y": y.ravel().astype(float),
                          "exposure": np.repeat(pop, N_WEEKS)})
    panel["cohort"] = np.where(panel["unit"].isin(treated), START, -1)
    panel["treated_unit"] = panel["unit"].isin(treated)
    panel["post"] = panel["treated_unit"] & (panel["t"] >= START)
    panel["d"] = panel["post"].astype(int)
    panel["excluded"] = False
    return PreparedData(design=design, panel=panel, frequency="week", treated_units=treated,
                        control_units=tuple(units[N_TREATED:]), has_exposure=True, covariates=(),
                        periods=tuple(int(x) for x in t), data_sha256="0" * 64,
                        data_cutoff=str(N_WEEKS - 1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sims", type=int, default=1000)
    parser.add_argument("--dask", action="store_true", help="also run on a Dask LocalCluster")
    args = parser.parse_args()
    progress.set_enabled(False)
    data = national_panel()

    start = time.perf_counter()
    diagnosis = diagnose_prepared(data, sims=args.sims, effects=(-0.10,), workers=args.workers)
    fast = time.perf_counter() - start
    n_analyses = args.sims * len(diagnosis["diagnosands"])
    rows = {r["effect"]: r for r in diagnosis["diagnosands"]}
    print(f"diagnosis: {args.sims} sims x {len(rows)} effects = {n_analyses} analyses of "
          f"{N_UNITS} units x {N_WEEKS} weeks on {args.workers} worker(s): {fast:.1f} s "
          f"({1000 * fast / n_analyses:.1f} ms per analysis; "
          f"{fast * 1000 / args.sims:.1f} s per 1,000 sims of this diagnosis)")
    print(f"  false-positive rate {rows[0.0]['false_positive_rate']:.3f} "
          f"(mcse {rows[0.0]['false_positive_mcse']:.3f}); power at -10% {rows[-0.1]['power']:.3f}; "
          f"coverage at 0 {rows[0.0]['coverage']:.3f}; implementation: "
          f"{diagnosis['primary']['implementation']}")

    rows_out = []
    if args.dask:
        from distributed import LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True) as cluster:
            start = time.perf_counter()
            on_dask = diagnose_prepared(data, sims=args.sims, effects=(-0.10,),
                                        workers=args.workers, scheduler=cluster.scheduler_address)
            dask_seconds = time.perf_counter() - start
        same = json.dumps(on_dask, sort_keys=True) == json.dumps(diagnosis, sort_keys=True)
        print(f"on a Dask LocalCluster ({args.workers} workers): {dask_seconds:.1f} s; numbers "
              f"identical to the local run: {same}")
        rows_out.append(row(f"diagnose, {args.sims} simulations, Dask LocalCluster "
                            f"({args.workers} workers)", dask_seconds, [round(dask_seconds, 2)],
                            target=30.0, note=f"numbers identical to the local run: {same}"))

    placebo = placebo_history(data)
    null = fit_null_model(placebo)
    few = 3
    start = time.perf_counter()
    for i in range(few):
        y = null.simulate(np.random.default_rng(i), rate_ratio=0.9)
        primary_outcome(placebo.data.with_outcome(y), truth=math.log(0.9))
    general = (time.perf_counter() - start) / few
    print(f"general path (pyfixest TWFE + 2 null fits per data set): {general:.2f} s per analysis "
          f"-> {general * n_analyses:.0f} s for the same {n_analyses} analyses on 1 core "
          f"(~{general * n_analyses / args.workers:.0f} s on {args.workers})")

    draws = data.spec.randomization_draws
    per_refit = naive_refit_seconds(data)
    # naive: the estimate, then a refit per permutation for the p-value, and again for the
    # test at the true effect (coverage) -- 1 + 2 x draws refits per data set
    naive = per_refit * (1 + 2 * draws)
    print(f"naive (refit the TWFE model for every permutation, {draws} draws, twice): "
          f"{per_refit:.3f} s per refit -> {naive:.0f} s per analysis -> "
          f"{naive * n_analyses / 3600:.0f} core-hours for the same {n_analyses} analyses "
          f"({naive * n_analyses / fast:.0f}x the diagnosis)")
    rows_out.insert(0, row(
        f"diagnose, {args.sims} simulations of the primary basis ({len(rows)} effects), "
        f"{args.workers} worker(s)", fast, [round(fast, 2)], target=30.0,
        peer="the general path (pyfixest TWFE + 2 null fits per data set), extrapolated",
        peer_seconds=general * n_analyses / args.workers))
    write("diagnose", rows_out, panel=f"{N_UNITS} units x {N_WEEKS} weeks",
          false_positive_rate=rows[0.0]["false_positive_rate"], power=rows[-0.1]["power"])


def naive_refit_seconds(data: PreparedData, refits: int = 5) -> float:
    """Seconds per TWFE refit (pyfixest) on the placebo history: the cost of one permutation."""
    from evaluation.estimators.did import model_rows
    from evaluation.estimators.did.twfe import fit_twfe

    placebo = placebo_history(data).data
    _, frame, _ = model_rows(placebo)
    rng = np.random.default_rng(0)
    units = frame["unit"].unique()
    start = time.perf_counter()
    for _ in range(refits):
        chosen = rng.choice(units, N_TREATED, replace=False)
        permuted = frame.assign(d=(frame["unit"].isin(chosen) & (frame["t"] >= START - 52))
                                .astype(int))
        fit_twfe(permuted, model="poisson")
    return (time.perf_counter() - start) / refits


if __name__ == "__main__":
    main()
