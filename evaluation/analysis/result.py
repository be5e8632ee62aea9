"""`AnalysisResult`: the read-only result of one analysis, exactly what `analyses/<id>/` holds.

`to_dict()` is `result.json`; `write()` adds `estimates.csv` and the plot data. Every file is
deterministic text (see `evaluation.files`), so equal results give byte-identical files, and the
folder is replaced as a whole, so it always holds one complete run.

Numbers that are not plain (the one representation, in result.json and every CSV):
- an unbounded end of an interval (a one-sided interval, a randomization interval open above) is
  the string "inf" / "-inf" (`evaluation.files.POSITIVE_INFINITY` / `NEGATIVE_INFINITY`; pandas
  writes and reads the same text in CSV); readers turn it back with `files.read_number`, and the
  report words it ("onbegrensd" / "unbounded");
- null (an empty CSV cell) means "no number": not estimable or not available. A term that cannot
  be estimated says why beside it: `primary.estimable` false with `primary.not_estimable`
  {code, reason} (separation: no events in the treated units after the start), and the columns
  `status` ("estimated" | "reference" | "not_estimable") and `reason` of `event_study.csv`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.estimators.output import Check
from evaluation.files import clean, frame_to_csv, replaced_folder, write_text_atomic

# Files in analyses/<id>/ (besides result.json and estimates.csv), written when present.
SERIES_FILE = "series.csv"  # observed, fitted and counterfactual series per period and group
EVENT_STUDY_FILE = "event_study.csv"  # event-time coefficients
RESULT_FILE = "result.json"
ESTIMATES_FILE = "estimates.csv"
POSTERIOR_FILE = "posterior.nc"
DIAGNOSIS_FILE = "diagnosis.json"


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
    # the store's data version the analysis used ({number, sha256}); None for a panel file
    data_version: dict[str, Any] | None = None
    # prospective | before_outcome_data | retrospective; None for an exploratory analysis
    registration_timing: str | None = None
    # the ledger head the analysis ran under: {"head_sha256", "length"} (`registry verify` checks it)
    ledger: dict[str, Any] = field(default_factory=dict)
    # evaluation.method.method_version(): the method settings (package versions: `software`)
    method_version: str | None = None

    def tidy(self) -> pd.DataFrame:
        return self.estimates.copy()

    def one_line(self) -> str:
        """The CLI's line per analysis: id, verdict, estimate, interval, p-value, registration."""
        p = self.primary
        verdict = (self.decision or {}).get("verdict", "-")
        scale = "RR" if p.get("scale") == "rate_ratio" else "diff"
        version = f"; data version {self.data_version['number']}" if self.data_version else ""
        def num(value: Any) -> str:  # no number: "–" (not estimable); an open end: "inf"
            return "–" if value is None or value != value else f"{value:.3f}"

        return (f"{self.id}: {verdict}; {scale} {num(p['estimate'])} "
                f"({num(p['ci_low'])}-{num(p['ci_high'])}), p={num(p['p_value'])} "
                f"[{self.registration}{version}]")

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "design": self.design,
            "design_sha256": self.design_sha256,
            "data_sha256": self.data_sha256,
            "registration": self.registration,
            "data_cutoff": self.data_cutoff,
            "method_version": self.method_version,
            "primary": self.primary,
            "checks": [c.to_dict() for c in self.checks],
            "software": self.software,
            "extras": self.extras,
            "bayesian": self.bayesian,
            "decision": self.decision,
            "context": self.context,
            "data_version": self.data_version,
            "registration_timing": self.registration_timing,
            "ledger": self.ledger,
        }
        return clean(out)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"

    def write(self, folder: str | os.PathLike) -> Path:
        """Replace `folder` as a whole with this result's files (see `write_files`)."""
        with replaced_folder(folder) as staging:
            self.write_files(staging)
        return Path(folder)

    def write_files(self, folder: Path) -> None:
        """result.json, estimates.csv and the plot data into `folder` (byte-identical for equal
        results); `analyse` writes them into the staging folder beside the posterior."""
        write_text_atomic(folder / RESULT_FILE, self.to_json())
        write_text_atomic(folder / ESTIMATES_FILE, frame_to_csv(self.estimates))
        for name, frame in ((SERIES_FILE, self.series), (EVENT_STUDY_FILE, self.event_study)):
            if frame is not None and len(frame):
                write_text_atomic(folder / name, frame_to_csv(frame))
