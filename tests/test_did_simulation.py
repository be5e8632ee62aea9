"""Simulation with known truth: size of randomization inference vs cluster-robust errors,
coverage of the randomization interval and unbiasedness of the Poisson TWFE estimate.

Data like the demo's: 100 units (3 treated), 100 weekly periods, treatment from week 70,
gamma-Poisson (overdispersed) counts with yearly seasonality and unit sizes varying ~10-fold.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from did_helpers import simulate_counts, unit_name

from evaluation.estimators.did.randomization import randomization_inference
from evaluation.estimators.did.twfe import drop_all_zero_units, fit_twfe, model_frame

N_UNITS, N_PERIODS, N_TREATED, START = 100, 100, 3, 70
ALPHA = 0.05
Z = 1.959963984540054


def _one(seed: int, *, rate_ratio: float, draws: int, interval: bool) -> dict[str, float]:
    panel = simulate_counts(n_units=N_UNITS, n_periods=N_PERIODS, n_treated=N_TREATED,
                            start=START, rate_ratio=rate_ratio, seed=seed)
    panel["d"] = ((panel["unit"] < unit_name(N_TREATED)) & (panel["t"] >= START)).astype(int)
    frame = model_frame(panel)
    fit_frame, _ = drop_all_zero_units(frame)
    treated = {unit_name(i): START for i in range(N_TREATED)}
    if not set(treated) <= set(fit_frame["unit"]):
        return {}  # a treated unit without events: estimate_did refuses such data
    fit = fit_twfe(fit_frame, model="poisson")
    ri = randomization_inference(frame, model="poisson", treated=treated, beta_hat=fit.beta,
                                 se_hint=fit.se_model * math.sqrt(max(fit.dispersion, 1.0)),
                                 draws=draws, seed=seed, alpha=ALPHA,
                                 n_periods=N_PERIODS, interval=interval)
    return {"beta": fit.beta, "se_cluster": fit.se_cluster, "p_ri": ri.p_value,
            "ci_low": ri.ci_low, "ci_high": ri.ci_high}


def _run(n_sets: int, *, rate_ratio: float = 1.0, draws: int = 500, interval: bool = False):
    rows = [_one(seed, rate_ratio=rate_ratio, draws=draws, interval=interval)
            for seed in range(1000, 1000 + n_sets)]
    rows = [r for r in rows if r]
    assert len(rows) >= 0.95 * n_sets
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def _cluster_rejects(res) -> np.ndarray:
    return np.abs(res["beta"] / res["se_cluster"]) > Z


def test_size_randomization_vs_cluster_small():
    """100 data sets under no effect. RI's true size is 5% (it is exact), so > 12% rejections
    would have probability < 1% (binomial); CRV1 with 3 treated clusters over-rejects."""
    res = _run(100)
    ri_rate = float(np.mean(res["p_ri"] < ALPHA))
    cluster_rate = float(np.mean(_cluster_rejects(res)))
    assert ri_rate <= 0.12, ri_rate
    assert cluster_rate >= 0.10, cluster_rate
    assert cluster_rate > ri_rate + 0.04, (cluster_rate, ri_rate)


@pytest.mark.slow
def test_size_randomization_vs_cluster_500():
    res = _run(500)
    ri_rate = float(np.mean(res["p_ri"] < ALPHA))
    cluster_rate = float(np.mean(_cluster_rejects(res)))
    print(f"rejection at 5%: randomization {ri_rate:.3f}, cluster-robust {cluster_rate:.3f}")
    assert ri_rate <= 0.06, ri_rate
    assert cluster_rate > 0.10 and cluster_rate > ri_rate + 0.04, cluster_rate


@pytest.mark.slow
def test_coverage_and_bias_500():
    true_rr = 0.8
    res = _run(500, rate_ratio=true_rr, draws=500, interval=True)
    truth = math.log(true_rr)
    covered = float(np.mean((res["ci_low"] <= truth) & (truth <= res["ci_high"])))
    bias = float(np.mean(res["beta"]) - truth)
    mc_se = float(np.std(res["beta"], ddof=1) / math.sqrt(len(res["beta"])))
    print(f"coverage {covered:.3f}; bias {bias:.4f} (Monte Carlo se {mc_se:.4f})")
    assert 0.93 <= covered <= 0.97, covered
    assert abs(bias) <= 3 * mc_se, (bias, mc_se)
