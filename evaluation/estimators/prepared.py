"""The analysis data set: what every estimator (DiD, ITS, Bayesian, diagnosis) receives.

`PreparedData` is built once per analysis from a design and its panel (see `evaluation.prepare`)
and never mutated. Estimators are pure functions of it and the design's `AnalysisSpec`.

`panel` has one row per unit x period inside the design window (for repeated cross-sections:
one row per observation), sorted by unit then t, with these columns:

    unit          str       unit code (municipality code or the panel file's unit column)
    period        Timestamp (start of the period: ISO-week Monday, first of month, ...) or int
    t             int       0-based index of the period within the window
    y             float     the outcome (a count for count models)
    exposure      float     exposure (e.g. population); 1.0 everywhere when none is used
    <covariates>  float     panel-file covariates named in data.covariates
    cohort        int       t of the unit's first treated period; -1 for never-treated units
    treated_unit  bool      the unit is treated in this design
    post          bool      treated_unit and t >= cohort
    d             int       1 where post, else 0 (the treatment indicator)
    excluded      bool      the period falls in window.exclude (left out of estimation)

Units are the design's treated units plus its controls (listed, or all never-treated units in
the data for `controls: untreated`, minus units treated by other registered designs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluation.design.model import AnalysisSpec, Design
from evaluation.notes import Note


@dataclass(frozen=True)
class PreparedData:
    design: Design
    panel: pd.DataFrame
    frequency: str
    treated_units: tuple[str, ...]
    control_units: tuple[str, ...]
    has_exposure: bool
    covariates: tuple[str, ...]
    periods: tuple[Any, ...]  # period labels in order; periods[t] is the label of t
    data_sha256: str
    data_cutoff: str  # last period present in the source data (ISO date or period number)
    repeated_cross_section: bool = False
    notes: tuple[Note, ...] = field(default_factory=tuple)  # what preparing the data did (codes)

    @property
    def spec(self) -> AnalysisSpec:
        return self.design.analysis

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @property
    def staggered(self) -> bool:
        cohorts = self.panel.loc[self.panel["treated_unit"], "cohort"].unique()
        return len(cohorts) > 1

    @property
    def estimation_rows(self) -> pd.DataFrame:
        """Rows used for estimation: the panel without window.exclude periods."""
        return self.panel.loc[~self.panel["excluded"]]

    def with_outcome(self, y: np.ndarray) -> PreparedData:
        """A copy with another outcome vector (for simulation and diagnosis); nothing else changes."""
        panel = self.panel.copy()
        panel["y"] = np.asarray(y, dtype=float)
        return PreparedData(**{**self.__dict__, "panel": panel})

    def with_treatment(self, treated_units: tuple[str, ...], cohorts: dict[str, int]) -> PreparedData:
        """A copy with treatment re-assigned (placebo / randomization): units -> first treated t."""
        panel = self.panel.copy()
        cohort = panel["unit"].map(cohorts).fillna(-1).astype(int)
        panel["cohort"] = cohort
        panel["treated_unit"] = panel["unit"].isin(treated_units)
        panel["post"] = panel["treated_unit"] & (panel["t"] >= panel["cohort"])
        panel["d"] = panel["post"].astype(int)
        controls = tuple(u for u in dict.fromkeys(panel["unit"]) if u not in treated_units)
        return PreparedData(**{**self.__dict__, "panel": panel, "treated_units": tuple(treated_units),
                               "control_units": controls})
