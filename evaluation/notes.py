"""Notes an analysis makes on its data and fits: a code and its numbers, never a sentence.

The data and estimator layers say *what* they did (a unit left out, a Fourier pair dropped) as a
`Note`; the report words it from one catalogue per language (`report/note_words.py`). `FIELDS`
names each code's values, so a test can check that both catalogues use exactly these codes and
these placeholders, and a note built with a missing or extra value fails where it is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# code -> the names of its values (the placeholders of its sentence in every language)
FIELDS: dict[str, tuple[str, ...]] = {
    # analysis.prepare
    "rows_missing_outcome": ("rows", "outcome", "remain"),
    "diagnosis_history_only": ("n_before", "first", "last", "n_post", "start"),
    "diagnosis_history_gap": ("last",),
    "treated_elsewhere": ("n", "units"),
    "few_pre_periods": ("n",),
    # interrupted time series
    "seasonality_reduced": ("registered", "pairs", "frequency"),
    "fit_not_converged": ("model",),
    # Bayesian models
    "bayes_covariates_unused": ("covariates",),
    # difference-in-differences
    "empty_periods_dropped": ("n", "periods"),
    "zero_control_units_dropped": ("n", "units"),
    "cs_covariates_base_period": (),
    "unbalanced_panel": ("n",),
    "sun_abraham_covariates_unused": ("covariates",),
    "last_cohort_controls": ("cohort",),
    "empty_cells_dropped": ("n",),
    "cells_not_identified": ("n",),
    "imputation_covariates_unused": ("covariates",),
    "zero_comparison_periods": ("n",),
    "treated_rows_unusable": ("n", "units"),
}


@dataclass(frozen=True)
class Note:
    """One note: its code and its values in the order `FIELDS` gives (JSON-ready)."""

    code: str
    values: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, **{k: list(v) if isinstance(v, tuple) else v
                                      for k, v in self.values}}


def note(code: str, **values: Any) -> Note:
    """A note with exactly the values its code names (a programming error otherwise)."""
    expected = FIELDS.get(code)
    if expected is None:
        raise KeyError(f"note code `{code}` is not in evaluation.notes.FIELDS")
    if set(values) != set(expected):
        raise KeyError(f"note `{code}` takes {sorted(expected)}, got {sorted(values)}")
    return Note(code, tuple((name, _plain(values[name])) for name in expected))


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, sequences as tuples of plain values (hashable, JSON-ready)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | np.ndarray):
        return tuple(_plain(v) for v in value)
    return value
