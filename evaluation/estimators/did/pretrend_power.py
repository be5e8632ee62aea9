"""What a passed pre-trend test is worth: its power, and a bound that does not need it.

A pre-trend test that does not reject is weak evidence of parallel trends when it has little
power (Roth 2022, "Pretest with caution"); with three treated units it usually has almost none.
Two numbers go beside the test:

- power against a trend that would matter: a linear difference in trends, slope delta per period
  on the estimation scale (log rate ratio, or difference), steep enough that, left uncorrected,
  it would move the post-period estimate by the registered minimum reduction: delta =
  shift / (mean event time of the treated post cells - mean event time of their pre cells),
  shift = |log(1 - min_reduction)| for counts, min_reduction x the treated units' pre-period mean
  for linear outcomes. Under that trend the tested leads have mean gamma_e = delta (e - e_ref)
  (e_ref: the reference period's mean event time), and the joint Wald test's power is
  P(chi2(df, lambda) > chi2_{df, 1 - alpha}), lambda = gamma' V^+ gamma (noncentral chi-square);
- a sensitivity bound in the spirit of Rambachan & Roth (2023), relative magnitudes with
  Mbar = defaults.PRETREND_MBAR: if the post-period violation of parallel trends is no larger than
  Mbar times the largest pre-period deviation |lead|, the effect lies in the primary interval
  widened by that amount on each side (estimation scale). It ignores the leads' own sampling
  error, so it is a plain bound, not RR's full robust interval.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from scipy import stats

from evaluation import defaults
from evaluation.estimators.intervals import contains
from evaluation.estimators.output import Check
from evaluation.estimators.stats import to_scale


def trend_shift(*, count: bool, min_reduction: float, pre_mean: float) -> float:
    """The bias (estimation scale) of the post-period estimate that would matter."""
    if count:
        return abs(math.log(1.0 - min_reduction))
    return min_reduction * abs(pre_mean)


def trend_power(tested: list[int], cov: np.ndarray, *, reference_e: float, post_mean_e: float,
                pre_mean_e: float, shift: float, alpha: float) -> dict[str, Any]:
    """Power of the joint Wald test of the tested leads against the linear trend that would
    move the post-period estimate by `shift` (see the module docstring)."""
    span = post_mean_e - pre_mean_e
    if not tested or not (math.isfinite(span) and span > 0 and shift > 0):
        return {"power": None, "slope": None, "shift": shift}
    slope = shift / span
    gamma = slope * (np.asarray(tested, dtype=float) - reference_e)
    rank = int(np.linalg.matrix_rank(cov))
    if rank == 0:
        return {"power": None, "slope": slope, "shift": shift}
    noncentrality = float(gamma @ np.linalg.pinv(cov) @ gamma)
    critical = stats.chi2.ppf(1 - alpha, rank)
    power = float(stats.ncx2.sf(critical, rank, noncentrality))
    return {"power": power, "slope": slope, "shift": shift, "noncentrality": noncentrality,
            "df": rank, "alpha": alpha}


def sensitivity_bound(lead_estimates: list[float], *, low: float, high: float, scale: str,
                      mbar: float = defaults.PRETREND_MBAR) -> dict[str, Any] | None:
    """The primary interval (estimation scale) widened by Mbar x max |lead|, on both scales,
    and whether it still excludes no effect (see the module docstring)."""
    leads = [abs(x) for x in lead_estimates if math.isfinite(x)]
    if not leads or math.isnan(low) or math.isnan(high):
        return None
    widen = mbar * max(leads)
    robust_low, robust_high = low - widen, high + widen
    return {"mbar": mbar, "max_pre_deviation": max(leads), "ci_low": to_scale(robust_low, scale),
            "ci_high": to_scale(robust_high, scale), "scale": scale,
            "excludes_no_effect": not contains(robust_low, robust_high, 0.0)}


def with_sensitivity(check: Check, *, low: float, high: float, scale: str) -> Check:
    """The pre-trend check with the sensitivity bound of the primary interval [low, high]
    (estimation scale) in its values (none when the check could not be run)."""
    if check.status == "skipped":
        return check
    leads = [float(x) for x in (check.values.get("lead_estimates") or {}).values()]
    bound = sensitivity_bound(leads, low=low, high=high, scale=scale)
    if bound is None:
        return check
    return replace(check, values={**check.values, "sensitivity": bound})
