"""The decision rule's two quantities from a frequentist analysis: confidence of a reduction.

An interval says which effects the data are compatible with; the registered rule asks how sure
we are of a reduction, and of at least the minimum one. Both come from the inference that made
the interval, read one-sided at two thresholds of the effect (estimation scale):

  any_reduction   beta0 = 0                 (RR = 1, or a difference of 0)
  min_reduction   beta0 = log(1 - m)        (count models), or -m x |counterfactual mean|
                                            (linear: m of what the treated cells would have had)

confidence(beta0) = 1 - the one-sided p-value of "effect >= beta0" against "effect < beta0".
Over beta0 this is a confidence distribution (test inversion): "the upper end of the (1 - alpha)
interval lies below beta0" is exactly "confidence(beta0) > 1 - alpha / 2". Per inference:

- randomization: the one-sided mid-p of the sharp null from the same permutation distribution
  as the p-value and interval (`did.randomization`), with its Monte Carlo error when sampled;
- model-based, cluster-robust, HAC: the fitted normal on the estimation scale,
  Phi((beta0 - estimate) / std_error);
- wild cluster bootstrap: the restricted bootstrap t statistic at beta0 (`did.wild_bootstrap`);
- no event in the treated units after the start, without randomization inference: the exact
  conditional test the one-sided interval uses (`did.separation`), 1 - P(no treated event after
  the start | each treated unit's total, RR = e^beta0) (`poisson_zero_confidence` is the
  unconditional version that takes the expected count as known).

These are confidence levels, not probabilities: the report never calls them probabilities.
`interval_confidence` (from the interval ends alone) remains only as a clearly named fallback for
an analysis that provides no confidence of its own.
"""

from __future__ import annotations

import math
from typing import Any

from scipy.stats import norm


def rule_thresholds(*, scale: str, min_reduction: float,
                    counterfactual_mean: float | None = None) -> dict[str, float | None]:
    """The effects (estimation scale) at which the rule needs the confidence of being below."""
    if scale == "rate_ratio":
        return {"any_reduction": 0.0, "min_reduction": math.log(1.0 - min_reduction)}
    usable = counterfactual_mean is not None and math.isfinite(counterfactual_mean)
    return {"any_reduction": 0.0,
            "min_reduction": -min_reduction * abs(counterfactual_mean) if usable else None}


def confidence(values: dict[str, float | None], *, method: str,
               thresholds: dict[str, float | None],
               mcse: dict[str, float] | None = None) -> dict[str, Any]:
    """primary["confidence"]: the two quantities, their Monte Carlo errors (None when exact or
    analytic), the inference they come from and the thresholds they were read at."""
    return {name: values.get(name) for name in thresholds} | {
        "mcse": mcse, "method": method, "thresholds": dict(thresholds)}


def normal_confidence(estimate: float, std_error: float, *,
                      thresholds: dict[str, float | None]) -> dict[str, Any] | None:
    """Confidence from a normal sampling distribution on the estimation scale."""
    if not (all_finite(estimate, std_error) and std_error > 0):
        return None
    values = {name: None if b is None else float(norm.cdf((b - estimate) / std_error))
              for name, b in thresholds.items()}
    return confidence(values, method="normal", thresholds=thresholds)


def poisson_zero_confidence(expected: float, *,
                            thresholds: dict[str, float | None]) -> dict[str, Any] | None:
    """No event observed where `expected` were expected without an effect: confidence that the
    rate ratio lies below e^beta0 is 1 - P(0 events | mean expected x e^beta0)."""
    if not (all_finite(expected) and expected > 0):
        return None
    values = {name: None if b is None else float(-math.expm1(-expected * math.exp(b)))
              for name, b in thresholds.items()}
    return confidence(values, method="exact_poisson", thresholds=thresholds)


def interval_confidence(*, estimate: float, low: float, high: float, scale: str,
                        alpha: float, thresholds: dict[str, float | None]) -> dict[str, Any] | None:
    """Fallback only: the reported (1 - alpha) interval read as a normal confidence distribution
    on the estimation scale, each side scaled by its own half-width (for an estimator that
    provides no confidence of its own)."""
    to_est = math.log if scale == "rate_ratio" else float
    try:
        centre, lo, hi = to_est(estimate), to_est(low), to_est(high)
    except (TypeError, ValueError):
        return None
    if not all_finite(centre, lo, hi) or not lo < centre < hi:
        return None
    z = norm.ppf(1 - alpha / 2)
    sides = ((centre - lo) / z, (hi - centre) / z)
    values = {name: None if b is None else
              float(norm.cdf((b - centre) / (sides[1] if b >= centre else sides[0])))
              for name, b in thresholds.items()}
    return confidence(values, method="interval_fallback", thresholds=thresholds)


def all_finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)
