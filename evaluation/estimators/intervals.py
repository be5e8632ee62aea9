"""Intervals with ends that may be unbounded, and the intervals derived from them.

An interval is (low, high) on some scale; an end may be -inf / +inf (a one-sided randomization
interval, the exact bound under separation). In result files those ends are written as "inf" /
"-inf" (`evaluation.files.clean`), never as null, which means "not available".

A derived interval (attacks averted, percentage change) is the image of its source interval under
a monotone map. A decreasing map (attacks averted falls as the rate ratio rises) swaps the ends,
so the ends are always put in order after mapping, and each end keeps its own (possibly
infinite) value: an unbounded source end gives an unbounded (or a finite limiting) derived end,
never a lost one.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def ordered(a: float, b: float) -> tuple[float, float]:
    """(low, high) from two ends in any order; NaN when either end is not available."""
    if math.isnan(a) or math.isnan(b):
        return math.nan, math.nan
    return (a, b) if a <= b else (b, a)


def map_interval(low: float, high: float,
                 transform: Callable[[float], float]) -> tuple[float, float]:
    """The interval [low, high] mapped through a monotone `transform` (increasing or
    decreasing), ends in order. `transform` must accept +-inf and return its limit there."""
    return ordered(float(transform(low)), float(transform(high)))


def contains(low: float, high: float, value: float) -> bool:
    """Whether `value` lies in [low, high]; an infinite end bounds nothing on its side. False
    when an end or the value is not available (NaN)."""
    if any(math.isnan(x) for x in (low, high, value)):
        return False
    return low <= value <= high


def rate_ratio_pct(log_rr: float) -> float:
    """Percentage change of a log rate ratio: 100 (e^b - 1); -100 at b = -inf, +inf at +inf."""
    return 100.0 * math.expm1(log_rr) if log_rr < 700 else math.inf


def averted_of(*, fitted_post: float, observed_post: float, n_post: int,
               linear: bool) -> Callable[[float], float]:
    """Attacks averted if the effect were b (estimation scale): counterfactual minus observed.

    Counts: the counterfactual is the fitted treated post-start total divided by the rate ratio
    e^b, so averted(b) = F e^-b - observed (decreasing in b; +inf at b = -inf, -observed at
    b = +inf). Linear: the counterfactual is the fitted total minus b per treated cell.
    """
    def averted(b: float) -> float:
        if linear:
            return fitted_post - n_post * b - observed_post
        if fitted_post == 0:
            return -observed_post
        return (fitted_post * math.exp(-b) if -b < 700 else math.inf) - observed_post

    return averted
