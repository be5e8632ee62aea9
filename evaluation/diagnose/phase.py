"""The diagnosis of the phase the verdict concerns (`treatment.end`, `analysis.estimand`).

With an end registered, the analysis estimates the effect during the intervention (or after it)
from that phase's rows only (`analysis.phases.with_phase`). The diagnosis must simulate the same
analysis: the placebo post period is re-timed inside the history like the start
(`simulation.placebo_history`), each treated unit's end is mapped onto that placebo timeline the
same way, and the phase is cut from it with the very function the analysis uses. The null model
still sees every history row (it describes the outcome, not the analysis); a planted effect acts
on the whole placebo post period, as an intervention's would.

When the phase is the whole registered post period (no end, `both`, or every end at or after the
window's end), the placebo is returned untouched, so such diagnoses are unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from evaluation.errors import AnalysisError
from evaluation.estimators.prepared import PreparedData
from evaluation.simulation.null_model import Placebo


def splits(data: PreparedData) -> bool:
    """Whether the registered phase is a part of the post period (an end inside the window)."""
    if data.spec.estimand == "both":
        return False
    panel = data.panel
    ends = panel.loc[panel["treated_unit"], "end_t"].to_numpy() if "end_t" in panel else []
    return bool(np.any((np.asarray(ends) >= 0) & (np.asarray(ends) < data.n_periods - 1)))


def registered_post_length(data: PreparedData, *, default: int) -> int:
    """Periods of the registered phase after the first start (the whole post period, `default`,
    when the phase is all of it): what the ITS limits are judged on, as in the analysis."""
    if not splits(data):
        return default
    panel = data.panel
    treated = panel.loc[panel["treated_unit"]]
    first = int(treated["cohort"].min())
    ends = treated.loc[treated["end_t"] >= 0, "end_t"]
    if data.spec.estimand == "during":
        return int(min(ends.max(), data.n_periods - 1)) - first + 1
    return data.n_periods - 1 - int(ends.min())


def registered_phase(data: PreparedData, placebo: Placebo) -> PreparedData:
    """The placebo data cut to the registered phase (see the module docstring)."""
    from evaluation.analysis.phases import with_phase

    if not splits(data):
        return placebo.data
    panel = data.panel
    first = int(panel.loc[panel["treated_unit"], "cohort"].min())
    placebo_start = min(placebo.cohorts.values())
    ends = panel.loc[panel["treated_unit"]].groupby("unit")["end_t"].first()

    def moved(t: int) -> int:  # the same compression as the starts (simulation.placebo_history)
        return placebo_start + int(math.floor((t - first) * placebo.n_post
                                              / placebo.n_post_registered))

    timeline = placebo.data.panel
    unit = timeline["unit"].astype(str)
    start_t = unit.map(placebo.cohorts).fillna(-1).astype(int)
    end_t = unit.map({str(u): moved(int(e)) for u, e in ends.items() if e >= 0}).fillna(-1)
    shifted = timeline.assign(start_t=start_t.to_numpy(), end_t=end_t.astype(int).to_numpy(),
                              window_excluded=timeline["excluded"].to_numpy())
    data_shifted = PreparedData(**{**placebo.data.__dict__, "panel": shifted})
    phased = with_phase(data_shifted, data.spec.estimand)
    if phased is None or not phased.panel["post"].any():
        raise AnalysisError(
            f"design {data.design.id}: analysis.estimand is {data.spec.estimand}, but the history "
            f"before the start is too short to hold a placebo of the period after "
            "treatment.end; move window.start earlier")
    return phased
