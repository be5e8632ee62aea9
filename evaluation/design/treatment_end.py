"""`treatment.end` checked against the starts, the units and `analysis.estimand`."""

from __future__ import annotations

from typing import Any


def end_problem(treatment: Any, estimand: str) -> str | None:
    """Why the registered end(s) cannot be used, in one line (None when they can)."""
    for unit in treatment.units:
        end, start = treatment.end_of(unit), treatment.start_of(unit)
        if end is not None and (type(end) is not type(start) or end < start):
            whose = f" (unit {unit})" if isinstance(treatment.end, dict) else ""
            return (f"treatment.end: {end}{whose} must be a {type(start).__name__} on or after "
                    f"treatment.start {start}")
    if isinstance(treatment.end, dict):
        extra = sorted(set(treatment.end) - set(treatment.units))
        if extra:
            return f"treatment.end: unit(s) {', '.join(extra)} have an end but are not in units"
    if estimand != "during" and treatment.end is None:
        return (f"analysis.estimand: {estimand} needs treatment.end (the last period of the "
                "intervention)")
    return None
