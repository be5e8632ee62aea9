"""Diagnosands (DeclareDesign's term) from the simulated analyses, with Monte Carlo errors.

Per effect size: power (share of simulations with p < alpha AND the estimate in the direction of
the effect; failures of the analysis count as "not detected"), the false-positive rate at no
effect (p < alpha in either direction), bias of the log rate ratio (or of the difference for a
linear outcome), the spread of the estimates, and the coverage of the registered interval. The
minimum detectable effect is where the power curve crosses the target (defaults.
DIAGNOSE_POWER_TARGET), linearly interpolated in the size of the reduction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

# Columns of the per-simulation outcome array (sims x effects x OUTCOME_FIELDS); conf_any and
# conf_min are the decision rule's two quantities (see `diagnose.operating`).
OUTCOME_FIELDS = ("estimate", "p_value", "covered", "failed", "conf_any", "conf_min")


def summarise_effect(values: np.ndarray, *, effect: float, truth: float, alpha: float) -> dict[str, Any]:
    """Diagnosands of one effect size; `values` is (n_sims, len(OUTCOME_FIELDS)) (the first four
    columns are enough)."""
    estimate, p, covered, failed = (values[:, i] for i in range(4))
    n = len(values)
    ok = failed == 0
    reject = ok & (p < alpha)
    # At no effect "power" is the share wrongly detected as a reduction: the curve's start.
    detected = reject & (estimate > 0) if effect > 0 else reject & (estimate < 0)
    finite = ok & np.isfinite(estimate)
    errors = estimate[finite] - truth
    n_ok = int(ok.sum())
    row: dict[str, Any] = {
        "effect": effect, "rate_ratio": 1.0 + effect, "truth": truth,
        "n_sims": n, "n_failed": int(n - n_ok),
        "power": _share(detected), "power_mcse": _share_mcse(detected),
        "bias": float(np.mean(errors)) if len(errors) else None,
        "bias_mcse": float(np.std(errors, ddof=1) / math.sqrt(len(errors))) if len(errors) > 1 else None,
        "sd_estimate": float(np.std(estimate[finite], ddof=1)) if finite.sum() > 1 else None,
        "rmse": float(np.sqrt(np.mean(errors**2))) if len(errors) else None,
        "coverage": _share(covered[ok] > 0) if n_ok else None,
        "coverage_mcse": _share_mcse(covered[ok] > 0) if n_ok else None,
        "n_infinite_estimates": int((ok & ~np.isfinite(estimate)).sum()),
    }
    if effect == 0:
        # the false-positive rate: p < alpha in either direction
        row["false_positive_rate"] = _share(reject)
        row["false_positive_mcse"] = _share_mcse(reject)
    return row


def _share(flags: np.ndarray) -> float:
    return float(np.mean(flags)) if len(flags) else math.nan


def _share_mcse(flags: np.ndarray) -> float:
    if not len(flags):
        return math.nan
    p = float(np.mean(flags))
    return math.sqrt(p * (1 - p) / len(flags))


def minimum_detectable_reduction(curve: Sequence[dict[str, Any]], *, target: float) -> float | None:
    """The smallest reduction with power >= target on the curve, interpolated; None if never.

    `curve`: rows with `effect` (<= 0) and `power`, any order; the no-effect row anchors the
    interpolation below the smallest effect tried.
    """
    points = sorted(((-r["effect"], r["power"]) for r in curve if r["effect"] <= 0),
                    key=lambda pt: pt[0])
    for k, (size, power) in enumerate(points):
        if power >= target:
            if k == 0:
                return size
            size0, power0 = points[k - 1]
            return size0 + (target - power0) * (size - size0) / (power - power0)
    return None
