"""What every estimator returns: `EstimatorOutput`, its checks and the tidy estimates table.

Estimators (DiD, ITS) return an `EstimatorOutput`; `evaluation.analysis.run` wraps it, with the
registration, hashes and software versions, into a read-only `AnalysisResult`. Every estimate
lives in one tidy table with `TIDY_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from evaluation.files import clean

TIDY_COLUMNS = ("term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "method", "scale",
                "status", "reason")
# status of a term: "estimated", "reference" (0 by construction) or "not_estimable" (no number:
# estimate and interval empty; `reason` says why, e.g. no events at that event time)
TERM_STATUSES = ("estimated", "reference", "not_estimable")
CheckStatus = Literal["pass", "fail", "skipped"]
Scale = Literal["rate_ratio", "difference"]


# What a check examines; the decision rule and the report tell checks apart by this, never by
# their names (which stay stable identifiers in result.json).
CheckKind = Literal["pre_trends", "placebo", "leave_one_out", "displacement", "seasonality",
                    "autocorrelation", "influence", "bayesian_reliability", "prior_predictive",
                    "prior_sensitivity", "control_pool_deviation", "inference_validity",
                    "fit_warnings", "recent_rise"]
CHECK_KINDS: tuple[str, ...] = get_args(CheckKind)
CHECK_STATUSES: tuple[str, ...] = get_args(CheckStatus)


@dataclass(frozen=True, kw_only=True)
class Check:
    """A pre-specified check. `blocking` checks turn a verdict into inconclusive when they fail."""

    name: str
    kind: CheckKind
    status: CheckStatus
    detail: str = ""
    blocking: bool = False
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in CHECK_KINDS:
            raise ValueError(f"Check.kind: {self.kind!r} is not one of {', '.join(CHECK_KINDS)}")
        if self.status not in CHECK_STATUSES:
            raise ValueError(f"Check.status: {self.status!r} is not one of {', '.join(CHECK_STATUSES)}")

    @property
    def text(self) -> str:
        """What the check found, in one paragraph (`detail`)."""
        return self.detail

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> Check:
        """A check as result.json holds it (`to_dict`)."""
        return cls(name=saved["name"], kind=saved["kind"], status=saved["status"],
                   detail=saved.get("detail", ""), blocking=bool(saved.get("blocking", False)),
                   values=dict(saved.get("values") or {}))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "status": self.status, "detail": self.detail,
                "blocking": self.blocking, "values": clean(self.values)}


def tidy_row(term: str, estimate: float, std_error: float | None, ci_low: float, ci_high: float,
             p_value: float | None, *, method: str, scale: str, status: str | None = None,
             reason: str = "") -> dict[str, Any]:
    """One row of the tidy estimates table (status: see TERM_STATUSES; by default from whether
    the estimate is a number)."""
    return {"term": term, "estimate": estimate, "std_error": std_error, "ci_low": ci_low,
            "ci_high": ci_high, "p_value": p_value, "method": method, "scale": scale,
            "status": status, "reason": reason}


def tidy_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The tidy table; a row without a status is "estimated" when its estimate is a number and
    "not_estimable" otherwise (no number is never shown as one)."""
    frame = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    for col in ("estimate", "std_error", "ci_low", "ci_high", "p_value"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    known = frame["estimate"].notna() & np.isfinite(frame["estimate"].fillna(0.0))
    frame["status"] = frame["status"].where(frame["status"].notna(),
                                            np.where(known, "estimated", "not_estimable"))
    frame["reason"] = frame["reason"].fillna("").astype(str)
    return frame


@dataclass(frozen=True)
class EstimatorOutput:
    """What a frequentist estimator returns.

    primary: method, scale, estimate, ci_low, ci_high, p_value, pct_change, std_error (of the
      log rate ratio, or of the difference), inference {used, reason, ...}, n_treated, n_control,
      n_periods, and estimator-specific extras (dispersion, ...).
    estimates: tidy table (TIDY_COLUMNS), the primary estimate's row first.
    series: per period and group ('treated', 'control'): period, t, group, observed, fitted,
      counterfactual, cf_low, cf_high (NaN where not defined).
    event_study: event_time, estimate, std_error, ci_low, ci_high, scale.
    extras: JSON-ready dict, e.g. {"averted": {...}, "control_change": {...}, "twfe": {...}}.
    """

    primary: dict[str, Any]
    estimates: pd.DataFrame
    checks: tuple[Check, ...] = ()
    series: pd.DataFrame | None = None
    event_study: pd.DataFrame | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # the primary fit's own result object (pyfixest / statsmodels), not saved (`AnalysisResult.fit`)
    fit: Any = field(default=None, compare=False, repr=False)
