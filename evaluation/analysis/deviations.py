"""Deviations from the registered control pool, and the sensitivity check that goes with them.

The control pool is frozen at registration (`evaluation.registry.control_pool`): the registered
analysis keeps comparing with the units it had then. A unit of that pool that a later registration
treats is a recorded deviation; this check repeats the registered primary estimate without those
units, so that the committee sees whether they matter.
"""

from __future__ import annotations

import math
from typing import Any

from evaluation.analysis.prepare import without_units
from evaluation.errors import EvaluationError
from evaluation.estimators.core import primary_outcome
from evaluation.estimators.output import Check
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import to_scale
from evaluation.registry.control_pool import ControlPool

CHECK_NAME = "control_pool_deviation"


def deviating_controls(data: PreparedData, pool: ControlPool) -> tuple[str, ...]:
    """The comparison units of `data` that a later registration treats."""
    return tuple(u for u in pool.deviation_units if u in set(data.control_units))


def control_pool_check(data: PreparedData, *, primary: dict[str, Any], pool: ControlPool) -> Check | None:
    """The primary estimate again without the deviating comparison units; None without any.

    Rule: pass when the estimate without them lies inside the primary confidence interval (they
    do not drive the result); fail otherwise; skipped when it cannot be estimated without them.
    Not blocking: the registered analysis is the one with the frozen pool.
    """
    units = deviating_controls(data, pool)
    if not units:
        return None
    by = {d.unit: d for d in pool.deviations}
    values: dict[str, Any] = {
        "units": list(units),
        "treated_by": {u: by[u].treated_by for u in units},
        "registered": {u: by[u].timestamp for u in units},
    }
    said = ", ".join(f"{u} (treated by {by[u].treated_by}, registered {by[u].timestamp})" for u in units)
    try:
        reduced = without_units(data, units)
    except EvaluationError as exc:
        return Check(name=CHECK_NAME, kind="control_pool_deviation", status="skipped",
                     detail=f"deviation from the frozen control pool: {said}; {exc}", values=values)
    outcome = primary_outcome(reduced, truth=0.0)
    scale = primary.get("scale", "rate_ratio")
    lo, hi = primary.get("ci_low"), primary.get("ci_high")
    if outcome.error is not None or math.isnan(outcome.estimate):
        return Check(name=CHECK_NAME, kind="control_pool_deviation", status="skipped",
                     detail=f"deviation from the frozen control pool: {said}; without them the "
                            f"primary estimate cannot be computed ({outcome.error})", values=values)
    without = to_scale(outcome.estimate, scale)
    # an interval may be unbounded (a randomization interval open to one side): compare anyway
    known = all(isinstance(v, int | float) and not math.isnan(v) for v in (lo, hi))
    inside = known and lo <= without <= hi
    interval = f"[{lo:.3g}, {hi:.3g}]" if known else "(not available)"
    values.update(estimate_without=without, p_value_without=outcome.p_value, ci_low=lo, ci_high=hi,
                  n_control_without=len(reduced.control_units))
    label = "rate ratio" if scale == "rate_ratio" else "difference"
    detail = (f"deviation from the frozen control pool: {said}; the registered analysis keeps them. "
              f"Without them the {label} is {without:.3g}; rule: pass when it lies inside the primary "
              f"interval {interval}; " + ("inside" if inside else "outside"))
    return Check(name=CHECK_NAME, kind="control_pool_deviation", status="pass" if inside else "fail",
                 detail=detail, values=values)
