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

from evaluation.analysis.parts import Effect, Verdict, summary_html, summary_rows, summary_text
from evaluation.errors import AnalysisError
from evaluation.estimators.output import Check
from evaluation.files import clean, frame_to_csv, replaced_folder, write_text_atomic

# Files in analyses/<id>/ (besides result.json and estimates.csv), written when present.
SERIES_FILE = "series.csv"  # observed, fitted and counterfactual series per period and group
EVENT_STUDY_FILE = "event_study.csv"  # event-time coefficients
RESULT_FILE = "result.json"
ESTIMATES_FILE = "estimates.csv"
POSTERIOR_FILE = "posterior.nc"
DIAGNOSIS_FILE = "diagnosis.json"
# The layout of result.json; raise it when a key changes meaning or goes (added keys do not).
# 2: notes (context, primary, bayesian) are {"code": ..., values} records, not English sentences.
SCHEMA_VERSION = 2
PLOT_KINDS = ("series", "event_study", "posterior")


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
    # not in result.json: the primary fit's library object and the ArviZ posterior (saved as
    # posterior.nc); `origin` says where the result came from (a run, or a folder it was loaded from)
    model_fit: Any = field(default=None, compare=False, repr=False)
    posterior: Any = field(default=None, compare=False, repr=False)
    origin: str = field(default="run", compare=False, repr=False)

    # --- the typed parts researchers use (all read from the fields above) -----------------------
    @property
    def effect(self) -> Effect:
        """The registered primary estimate (estimate, interval, scale, p-value, method, alpha)."""
        return Effect.from_primary(self.primary)

    @property
    def verdict(self) -> Verdict:
        return Verdict.from_decision(self.decision)

    @property
    def fit(self) -> Any:
        """The primary fit's own result object (pyfixest Fepois/Feols or statsmodels)."""
        if self.model_fit is None:
            raise AnalysisError(
                f"{self.id}: no fitted model here ({self.origin}); fitted models are not saved, "
                "run evaluation.analyse(..., write=False) to get one")
        return self.model_fit

    @property
    def idata(self) -> Any:
        """The Bayesian posterior (arviz.InferenceData)."""
        if self.posterior is None:
            raise AnalysisError(
                f"{self.id}: no posterior; the design has analysis.bayesian: false"
                if self.bayesian is None else f"{self.id}: the posterior ({POSTERIOR_FILE}) was not found")
        return self.posterior

    def tidy(self) -> pd.DataFrame:
        """Every estimate in one table (term, estimate, std_error, ci_low, ci_high, p_value,
        method, scale); the primary estimate is the row `treatment` (the first)."""
        return self.estimates.copy()

    def summary(self) -> str:
        """A plain-text table to paste: verdict, primary estimate, interval, checks."""
        return summary_text(self._summary_rows())

    def _summary_rows(self) -> list[tuple[str, str]]:
        return summary_rows(design_id=self.id, registration=self.registration,
                            data_cutoff=self.data_cutoff, effect=self.effect,
                            verdict=self.verdict, checks=self.checks)

    def _repr_html_(self) -> str:
        return summary_html(self._summary_rows(), estimates_html=self.estimates.to_html(index=False))

    def __str__(self) -> str:
        return self.summary()

    def plot(self, kind: str = "series") -> Any:
        """A matplotlib Figure: `series` (observed with counterfactual), `event_study` or
        `posterior` (the rate ratio's posterior draws)."""
        from evaluation import figures

        if kind not in PLOT_KINDS:
            raise AnalysisError(f"plot: kind `{kind}` is not one of {', '.join(PLOT_KINDS)}")
        if kind == "series":
            if self.series is None or not len(self.series):
                raise AnalysisError(f"{self.id}: no series to plot")
            starts = sorted(self.context.get("starts", {}).values())
            return figures.series_figure(self.series, start=starts[0] if starts else None)
        if kind == "event_study":
            if self.event_study is None or not len(self.event_study):
                raise AnalysisError(f"{self.id}: no event study to plot (an ITS design, or no leads)")
            return figures.event_study_figure(self.event_study)
        draws = figures.posterior_rate_ratios(self.idata.posterior)
        if draws is None:
            raise AnalysisError(f"{self.id}: the posterior holds no rate ratio (a linear outcome)")
        rule = (self.decision or {}).get("rule") or {}
        return figures.posterior_figure(draws, min_reduction=float(rule.get("min_reduction", 0.0)))

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
            "schema_version": SCHEMA_VERSION,
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
