"""Result types: what estimators return and what `analyses/<id>/` holds.

Estimators (DiD, ITS) return an `EstimatorOutput`; `evaluation.analysis` wraps it, with the
registration, hashes and software versions, into a read-only `AnalysisResult` whose `to_dict()`
is exactly `result.json`. Every estimate lives in one tidy table with `TIDY_COLUMNS`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

TIDY_COLUMNS = ("term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "method", "scale")
CheckStatus = Literal["pass", "fail", "skipped"]
Scale = Literal["rate_ratio", "difference"]

# Files in analyses/<id>/ (besides result.json and estimates.csv), written when present.
SERIES_FILE = "series.csv"  # observed, fitted and counterfactual series per period and group
EVENT_STUDY_FILE = "event_study.csv"  # event-time coefficients
RESULT_FILE = "result.json"
ESTIMATES_FILE = "estimates.csv"


@dataclass(frozen=True)
class Check:
    """A pre-specified check. `blocking` checks turn a verdict into inconclusive when they fail."""

    name: str
    status: CheckStatus
    detail: str
    blocking: bool = False
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                "blocking": self.blocking, "values": clean(self.values)}


def tidy_row(term: str, estimate: float, std_error: float | None, ci_low: float, ci_high: float,
             p_value: float | None, *, method: str, scale: str) -> dict[str, Any]:
    """One row of the tidy estimates table."""
    return {"term": term, "estimate": estimate, "std_error": std_error, "ci_low": ci_low,
            "ci_high": ci_high, "p_value": p_value, "method": method, "scale": scale}


def tidy_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    for col in ("estimate", "std_error", "ci_low", "ci_high", "p_value"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
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


@dataclass(frozen=True)
class AnalysisResult:
    """Read-only result of one analysis; `to_dict()` is exactly result.json."""

    id: str
    design: str
    design_sha256: str
    data_sha256: str
    registration: str  # registered | amended | retrospective | exploratory
    data_cutoff: str
    primary: dict[str, Any]
    estimates: pd.DataFrame
    checks: tuple[Check, ...]
    software: dict[str, str]
    series: pd.DataFrame | None = None
    event_study: pd.DataFrame | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    bayesian: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None
    context: dict[str, Any] = field(default_factory=dict)  # title, units, dates, registry info

    def tidy(self) -> pd.DataFrame:
        return self.estimates.copy()

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "design": self.design,
            "design_sha256": self.design_sha256,
            "data_sha256": self.data_sha256,
            "registration": self.registration,
            "data_cutoff": self.data_cutoff,
            "primary": self.primary,
            "checks": [c.to_dict() for c in self.checks],
            "software": self.software,
            "extras": self.extras,
            "bayesian": self.bayesian,
            "decision": self.decision,
            "context": self.context,
        }
        return clean(out)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"

    def write(self, folder: str | os.PathLike) -> Path:
        """Write result.json, estimates.csv and the plot data; byte-identical for equal results."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / RESULT_FILE, self.to_json())
        write_text_atomic(folder / ESTIMATES_FILE, frame_to_csv(self.estimates))
        for name, frame in ((SERIES_FILE, self.series), (EVENT_STUDY_FILE, self.event_study)):
            path = folder / name
            if frame is not None and len(frame):
                write_text_atomic(path, frame_to_csv(frame))
            elif path.exists():
                path.unlink()
        return folder


def frame_to_csv(frame: pd.DataFrame) -> str:
    """Deterministic CSV text: fixed float format, '\n' line ends."""
    return frame.to_csv(index=False, float_format="%.10g", lineterminator="\n", date_format="%Y-%m-%d")


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def clean(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, floats rounded to 12 significant digits, NaN to None."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        if not math.isfinite(x):
            return None
        return float(f"{x:.12g}")
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
