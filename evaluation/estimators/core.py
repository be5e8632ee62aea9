"""The one estimator entry point, used by the analysis and by the diagnosis alike.

`estimate(data)` is the registered frequentist analysis with its checks, series and extras.
`primary_outcome(data, truth=...)` is the same primary estimate and inference without the checks,
plus whether the registered inference covers a known truth: what a simulation needs.
`PrimaryAnalysis` runs `primary_outcome` on many outcome vectors of one layout; where the
registered analysis is Poisson TWFE with randomization inference it uses the numpy fast path
(`did.fast_twfe`), which the tests hold equal to the general path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.estimators import did, its
from evaluation.estimators.did.fast_twfe import FastTwfeRandomization, NotConverged
from evaluation.estimators.output import EstimatorOutput
from evaluation.estimators.prepared import PreparedData


def estimate(data: PreparedData, *, neighbours: pd.DataFrame | None = None) -> EstimatorOutput:
    """The registered frequentist analysis of the prepared data, with its checks."""
    if data.design.design == "did":
        return did.estimate_did(data, neighbours=neighbours)
    return its.estimate_its(data)


@dataclass(frozen=True)
class PrimaryOutcome:
    """One primary analysis: estimate (log RR, or difference for linear), p-value, coverage, and
    the decision rule's confidence of any / of the minimum reduction (estimators.confidence)."""

    estimate: float
    p_value: float
    covered: bool
    conf_any: float = math.nan
    conf_min: float = math.nan
    error: str | None = None  # the analysis could not be run on this data set (e.g. no events)


def failed(message: str) -> PrimaryOutcome:
    return PrimaryOutcome(estimate=math.nan, p_value=math.nan, covered=False, error=message)


def _rule_quantities(confidence: dict | None) -> dict[str, float]:
    conf = confidence or {}
    values = {"conf_any": conf.get("any_reduction"), "conf_min": conf.get("min_reduction")}
    return {k: math.nan if v is None else float(v) for k, v in values.items()}


def primary_outcome(data: PreparedData, *, truth: float) -> PrimaryOutcome:
    """The registered primary estimate of `data` and whether its inference covers `truth`."""
    try:
        if data.design.design == "its":
            fit = its.fit_primary(data)
            return PrimaryOutcome(estimate=fit.level.coef, p_value=fit.level.p_value,
                                  covered=fit.covers(truth), **_rule_quantities(fit.confidence))
        primary = did.fit_primary(data, interval=False)
        return PrimaryOutcome(estimate=float(primary.summary["beta"]),
                              p_value=float(primary.summary["p_value"]),
                              covered=primary.covers(truth),
                              **_rule_quantities(primary.summary.get("confidence")))
    except EvaluationError as exc:  # the registered analysis would stop on these data too
        return failed(str(exc).split(";")[0])


class PrimaryAnalysis:
    """The registered primary analysis of one layout (`data`) on many outcome vectors."""

    def __init__(self, data: PreparedData) -> None:
        self.data = data
        self.fast = FastTwfeRandomization(data) if FastTwfeRandomization.applies(data) else None

    def outcome(self, y: np.ndarray, *, truth: float) -> PrimaryOutcome:
        """`primary_outcome` of `data` with outcome vector `y` (panel row order)."""
        if self.fast is not None:
            try:
                fast = self.fast.outcome(y, truth=truth)
                return PrimaryOutcome(estimate=fast.estimate, p_value=fast.p_value,
                                      covered=fast.covered, conf_any=fast.conf_any,
                                      conf_min=fast.conf_min)
            except EvaluationError as exc:
                return failed(str(exc).split(";")[0])
            except NotConverged:
                pass  # never seen in practice; the general path gives the same answer slower
        return primary_outcome(self.data.with_outcome(y), truth=truth)
