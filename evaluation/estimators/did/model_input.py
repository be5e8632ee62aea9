"""Input of the DiD estimators: validation of the prepared panel and the model frames.

`validate` refuses, in one line that names the fix, data no DiD estimate can be trusted on;
`model_rows` gives the estimation rows as model frames, with the rows a count model cannot use
(periods and control units without any event) left out of the fits and noted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.data.periods import period_text
from evaluation.errors import AnalysisError, format_rows
from evaluation.estimators.did.twfe import drop_all_zero_units, model_frame
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import is_count
from evaluation.notes import Note, note


def validate(data: PreparedData) -> None:
    """Raise a one-line AnalysisError for data no DiD estimate can be trusted on."""
    panel = data.panel
    design = data.design.id
    count = is_count(data.spec.model)
    bad_y = np.flatnonzero(~np.isfinite(panel["y"].to_numpy(dtype=float)))
    if len(bad_y):
        raise AnalysisError(f"design {design}: outcome `y` is missing in panel row(s) "
                            f"{format_rows(bad_y)}; fill them (0 when no event) or shorten the window")
    if count and (panel["y"] < 0).any():
        rows = np.flatnonzero(panel["y"].to_numpy() < 0)
        raise AnalysisError(f"design {design}: model {data.spec.model} needs counts >= 0; "
                            f"negative outcome in panel row(s) {format_rows(rows)}; use model: linear")
    exposure = panel["exposure"].to_numpy(dtype=float)
    if count and not np.all(np.isfinite(exposure) & (exposure > 0)):
        rows = np.flatnonzero(~(np.isfinite(exposure) & (exposure > 0)))
        raise AnalysisError(f"design {design}: exposure must be positive; panel row(s) "
                            f"{format_rows(rows)} have a missing or non-positive exposure")
    if not data.repeated_cross_section:
        per_unit = panel.groupby("unit", sort=True)["t"].nunique()
        short = per_unit[per_unit < data.n_periods]
        if len(short):
            present = panel.loc[panel["unit"] == short.index[0], "t"]
            missing = sorted(set(range(data.n_periods)) - set(present.tolist()))
            raise AnalysisError(
                f"design {design}: the panel has gaps: unit(s) {format_rows(short.index)} lack "
                f"period(s) (e.g. {short.index[0]}: t = {format_rows(missing)}); add the missing "
                "unit-periods (0 when no event) or drop the unit from the design")
    rows = data.estimation_rows
    treated_rows = rows.loc[rows["treated_unit"]]
    pre = treated_rows.loc[treated_rows["t"] < treated_rows["cohort"]].groupby("unit").size()
    no_pre = sorted(set(data.treated_units) - set(pre.index))
    if no_pre:
        raise AnalysisError(f"design {design}: treated unit(s) {format_rows(no_pre)} have no "
                            "pre-period data in the window; move window.start earlier or drop them")
    totals = treated_rows.groupby("unit")["y"].apply(lambda y: float(np.abs(y).sum()))
    zero = sorted(totals.index[totals.to_numpy() == 0])
    if zero:
        raise AnalysisError(f"design {design}: treated unit(s) {format_rows(zero)} have an "
                            "all-zero outcome in the window, so no effect can be estimated; "
                            "check the unit codes or drop them")
    if rows.loc[~rows["treated_unit"], "unit"].nunique() == 0:
        raise AnalysisError(f"design {design}: no control units in the panel; a did design "
                            "needs untreated units (controls: untreated, or a list)")


def model_rows(data: PreparedData) -> tuple[pd.DataFrame, pd.DataFrame, list[Note]]:
    """(all estimation rows, rows the models are fitted on, notes) as model frames.

    For count models, periods with no event in any unit and control units with no event in the
    window are left out of the fits: their fixed effect is minus infinity and they carry no
    information on the rate ratio. They stay in the randomization pool (its first frame),
    since under the null they could have been treated.
    """
    frame = model_frame(data.estimation_rows)
    notes: list[Note] = []
    if not is_count(data.spec.model):
        return frame, frame, notes
    per_t = frame.groupby("t")["y"].sum()
    empty = per_t.index[per_t.to_numpy() == 0].tolist()
    if empty:
        frame = frame.loc[~frame["t"].isin(empty)].reset_index(drop=True)
        notes.append(note("empty_periods_dropped", n=len(empty),
                          periods=[period_text(data.periods[int(t)]) for t in empty]))
    fit_frame, zero_units = drop_all_zero_units(frame)
    if zero_units:
        notes.append(note("zero_control_units_dropped", n=len(zero_units),
                          units=sorted(str(u) for u in zero_units)))
    return frame, fit_frame, notes
