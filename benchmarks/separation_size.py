"""Size of the exact conditional bound under separation (issue 14), by simulation.

The one-sided (1 - alpha/2) upper bound RR_high must lie below the true rate ratio r0 in at most
alpha/2 of the data sets (separation or not: without separation there is no bound, so it cannot
exclude r0). Treated units get sizes that differ, persistent AR(1) deviations of their log rate
and gamma overdispersion; the period effects are taken as known (as the analysis takes them from
the control units). Reports P(separation) and P(separation and RR_high < r0) with its Monte
Carlo error, for 1, 3 and 6 treated units.

    python benchmarks/separation_size.py [--reps 4000]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd

from evaluation.estimators.did.separation import upper_bound

ALPHA = 0.05
N_PRE, N_POST = 52, 14  # weeks before the start and of a 100-day intervention


def one(rng: np.random.Generator, *, n_treated: int, r0: float, base: float, shape: float,
        rho: float, sd: float) -> tuple[bool, bool]:
    size = rng.lognormal(0.0, 0.6, n_treated)
    n_weeks = N_PRE + N_POST
    dev = np.zeros((n_treated, n_weeks))
    dev[:, 0] = rng.normal(0, sd / math.sqrt(1 - rho ** 2), n_treated)
    for t in range(1, n_weeks):  # persistent local deviations (AR(1) on the log rate)
        dev[:, t] = rho * dev[:, t - 1] + rng.normal(0, sd, n_treated)
    effect = np.where(np.arange(n_weeks) >= N_PRE, r0, 1.0)
    mu = base * size[:, None] * np.exp(dev) * effect[None, :]
    y = rng.poisson(mu * rng.gamma(shape, 1 / shape, mu.shape))
    post = y[:, N_PRE:].sum()
    if post > 0:
        return False, False
    totals = pd.DataFrame({"n": y.sum(axis=1), "e_pre": N_PRE * size, "e_post": N_POST * size})
    totals = totals.loc[totals["n"] > 0]
    if totals.empty:
        return False, False
    high = math.exp(upper_bound(totals, alpha=ALPHA))
    return True, high < r0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4000)
    args = parser.parse_args()
    rng = np.random.default_rng(20261202)
    print(f"alpha/2 = {ALPHA / 2}; reps = {args.reps}")
    for n_treated in (1, 3, 6):
        for r0, base in ((0.3, 0.15), (0.5, 0.08)):
            sep = exclude = 0
            for _ in range(args.reps):
                s, e = one(rng, n_treated=n_treated, r0=r0, base=base, shape=2.0, rho=0.8,
                           sd=0.15)
                sep += s
                exclude += e
            rate = exclude / args.reps
            mcse = math.sqrt(max(rate * (1 - rate), 1 / args.reps) / args.reps)
            print(f"treated {n_treated}, RR {r0}, base rate {base}/week: P(separation) = "
                  f"{sep / args.reps:.3f}; P(RR_high < truth) = {rate:.4f} (MC se {mcse:.4f})")


if __name__ == "__main__":
    main()
