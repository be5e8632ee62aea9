"""From a design and its data source to the `PreparedData` every estimator receives.

This is the only glue between the data layer (`evaluation.panel`, `evaluation.panel_file`) and
the estimators: it picks the window, the treated units and their first treated periods, the
comparison units, the exposure and the excluded transition periods, and it hashes exactly the
data the analysis uses.

Two modes. `analysis` (the default) uses every period of the window that has data. `diagnosis`
uses only the history before the first start, so a design can be diagnosed before it starts: the
data may end before the start date and the window may reach into the future. Its `periods` are
the history's periods followed by the registered post period (the window's periods from the first
start to window.end, at the design's frequency), and its panel holds the history rows only:
whether the data end before the start or run past it, the diagnosis sees the same thing.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.analysis.phases import with_phase
from evaluation.data import panel
from evaluation.data.panel import SourcePanel
from evaluation.data.panel_file import read_panel_file, read_panel_frame
from evaluation.data.periods import period_range, period_start, period_text, to_period
from evaluation.design.model import Design, Period
from evaluation.errors import AnalysisError, DataError, format_rows
from evaluation.estimators.prepared import PreparedData
from evaluation.files import frame_sha256
from evaluation.notes import Note, note
from evaluation.workspace import Workspace

SINGLE_SERIES_UNIT = "all"
MODES = ("analysis", "diagnosis")




# --- reading the source ---------------------------------------------------------------------
def source_path(design: Design, workspace: Workspace) -> Path:
    path = Path(os.path.expanduser(design.data.source))
    return path if path.is_absolute() else workspace.root / path


def source_panel(design: Design, workspace: Workspace, *, db: str | os.PathLike | None = None,
                 data_version: int | None = None,
                 data: pd.DataFrame | str | os.PathLike | None = None) -> SourcePanel:
    """Read the design's data source as a balanced panel (store, at `data_version`: None for the
    latest) or a validated panel file.

    `data` replaces the design's source: a pandas DataFrame or a panel file, validated exactly
    like the design's own panel file, with the design's column names (as `source_frame` gives them)."""
    spec = design.data
    if data is not None:
        if isinstance(data, pd.DataFrame):
            return _file_panel(design, data, label="DataFrame")
        path = Path(os.path.expanduser(str(data)))
        if not path.exists():
            raise DataError(f"data: panel file {path} not found; give the path of a .csv or .parquet file")
        return _file_panel(design, path, label=str(path))
    if spec.from_store:
        db_path = workspace.db_path(db)
        if not Path(db_path).exists():
            raise DataError(
                f"{db_path}: the incident database does not exist; import incidents first with "
                "`evaluation data import FILE` (or `make demo` for the demo data)"
            )
        cutoff = panel.store_cutoff(db_path, version=data_version)
        # Only periods that have ended by the cut-off: a half-observed last period would look
        # like a drop in attacks.
        end = min(_as_date(design.window.end), cutoff)
        frame = panel.build_store_panel(
            db_path, frequency=spec.frequency, start=_as_date(design.window.start), end=end,
            target_types=spec.target_types, outcomes=spec.outcomes, outcome_name=spec.outcome,
            with_exposure=spec.exposure is not None, version=data_version,
        )
        attrs = dict(frame.attrs)
        last_complete = _last_complete_period(cutoff, spec.frequency)
        frame = frame.loc[frame["period"] <= last_complete].reset_index(drop=True)
        return SourcePanel(frame=frame, cutoff=cutoff, integer_periods=False, source=str(db_path),
                           data_version=attrs["data_version"], boundaries=attrs["boundaries"])

    path = source_path(design, workspace)
    if not path.exists():
        raise DataError(f"data.source: panel file {path} not found; give a path relative to the workspace or an absolute path")
    return _file_panel(design, path, label=str(path))


def source_frame(design: Design, workspace: Workspace, *, db: str | os.PathLike | None = None,
                 data_version: int | None = None) -> pd.DataFrame:
    """The design's source panel with the design's column names (unit, time, outcome, exposure):
    what `analyse(data=...)` accepts back, e.g. after a researcher changed it in a notebook."""
    spec = design.data
    frame = source_panel(design, workspace, db=db, data_version=data_version).frame
    names = {"unit": spec.unit_column or "unit", "period": spec.time_column, "y": spec.outcome}
    if spec.exposure:
        names["exposure"] = spec.exposure
    if design.treatment.start_column:
        names["start"] = design.treatment.start_column
    out = frame.rename(columns=names)
    out.attrs = {}
    return out


def _file_panel(design: Design, data: pd.DataFrame | Path, *, label: str) -> SourcePanel:
    """A panel file, or a DataFrame with the same columns, validated into a `SourcePanel`."""
    spec = design.data
    options = dict(
        unit_column=spec.unit_column or None,
        time_column=spec.time_column,
        outcome=spec.outcome,
        exposure=spec.exposure,
        covariates=tuple(spec.covariates),
        start_column=design.treatment.start_column,
        counts=design.analysis.model != "linear",
        repeated=spec.layout == "repeated_cross_section",
        drop_missing=spec.layout == "repeated_cross_section",
    )
    frame = (read_panel_frame(data, source=label, **options) if isinstance(data, pd.DataFrame)
             else read_panel_file(data, **options))
    integer = pd.api.types.is_integer_dtype(frame["period"])
    if not integer and spec.frequency:
        frame = frame.assign(period=period_start(frame["period"], spec.frequency))
    cutoff = frame["period"].max()
    cutoff = int(cutoff) if integer else pd.Timestamp(cutoff).date()
    return SourcePanel(frame=frame, cutoff=cutoff, integer_periods=integer, source=label)


def _as_date(value: Period) -> dt.date:
    if isinstance(value, int):
        raise AnalysisError("window: period numbers are only valid for panel files; use dates with source: store")
    return value


def _last_complete_period(cutoff: dt.date, frequency: str) -> pd.Timestamp:
    """Start of the last period that has fully ended on the cut-off date."""
    next_day = pd.Timestamp(cutoff) + pd.Timedelta(days=1)
    start_of_next = pd.Timestamp(period_start(pd.Series([next_day]), frequency).iloc[0])
    if start_of_next == next_day:  # the cut-off is the last day of its period
        return pd.Timestamp(period_start(pd.Series([pd.Timestamp(cutoff)]), frequency).iloc[0])
    # the cut-off's own period is incomplete: the last complete one starts before it
    own = pd.Timestamp(period_start(pd.Series([pd.Timestamp(cutoff)]), frequency).iloc[0])
    return own - pd.Timedelta(days=1)




# --- building the analysis data --------------------------------------------------------------
def prepare(design: Design, workspace: Workspace, *, db: str | os.PathLike | None = None,
            exclude_units: Iterable[str] = (), source: SourcePanel | None = None,
            mode: str = "analysis") -> PreparedData:
    """The analysis data set for `design`; `exclude_units` are treated by other designs.

    `mode="diagnosis"`: the history before the first start and the registered post period's
    labels, without its rows (see the module docstring)."""
    if mode not in MODES:
        raise AnalysisError(f"prepare: mode `{mode}` is not one of {', '.join(MODES)}")
    sp = source or source_panel(design, workspace, db=db)
    spec = design.data
    integer = sp.integer_periods
    frame = sp.frame
    period_of = lambda v: to_period(v, frequency=spec.frequency, integer=integer)  # noqa: E731

    w_start, w_end = period_of(design.window.start), period_of(design.window.end)
    frame = frame.loc[(frame["period"] >= w_start) & (frame["period"] <= w_end)]
    if not len(frame):
        raise AnalysisError(f"window: no data between {design.window.start} and {design.window.end} in {sp.source}; the data run to {sp.cutoff}")
    notes: list[Note] = []
    first_treated = _first_treated_periods(design, frame, period_of)
    if mode == "diagnosis":
        frame, periods = _history_and_registered_post(design, frame, min(first_treated.values()),
                                                      w_end, integer, notes)
    else:
        periods = sorted(frame["period"].unique())
    t_of = {p: i for i, p in enumerate(periods)}

    treated = tuple(first_treated)
    missing = sorted(set(treated) - set(frame["unit"]))
    if missing:
        raise AnalysisError(f"treatment.units: unit(s) {', '.join(missing)} are not in the data ({sp.source}); check the codes")
    cohorts: dict[str, int] = {}
    for unit, start in first_treated.items():
        if start > periods[-1]:
            raise AnalysisError(
                f"treatment.start: unit {unit} starts at {period_text(start)}, after the last period with data "
                f"({period_text(periods[-1])}, data cut-off {sp.cutoff}); wait for data or move window.end"
            )
        if start <= periods[0]:
            raise AnalysisError(
                f"treatment.start: unit {unit} has no pre-period data (start {period_text(start)}, window starts "
                f"{period_text(periods[0])}); move window.start earlier"
            )
        cohorts[unit] = t_of.get(start, int(np.searchsorted(np.array(periods, dtype=object), start)))

    controls = _control_units(design, frame, treated, exclude_units, notes)
    keep = set(treated) | set(controls)
    frame = frame.loc[frame["unit"].isin(keep)]

    out = pd.DataFrame({
        "unit": frame["unit"].astype(str).to_numpy(),
        "period": frame["period"].to_numpy(),
        "t": frame["period"].map(t_of).astype(int).to_numpy(),
        "y": frame["y"].astype(float).to_numpy(),
    })
    if spec.exposure is not None:
        out["exposure"] = frame["exposure"].astype(float).to_numpy()
    else:
        out["exposure"] = 1.0
    for cov in spec.covariates:
        out[cov] = frame[cov].astype(float).to_numpy()
    out["cohort"] = out["unit"].map(cohorts).fillna(-1).astype(int)
    out["treated_unit"] = out["unit"].isin(treated)
    out["post"] = out["treated_unit"] & (out["t"] >= out["cohort"])
    out["d"] = out["post"].astype(int)
    out["excluded"] = _excluded(design, out["period"], period_of)
    out = _with_phase_columns(out, design, periods, period_of)
    out = out.sort_values(["unit", "t"], kind="stable").reset_index(drop=True)

    _check_usable(design, out, cohorts, notes)
    dropped = frame.attrs.get("dropped_rows") or sp.frame.attrs.get("dropped_rows")
    if dropped:
        notes.append(note("rows_missing_outcome", rows=int(dropped), outcome=spec.outcome,
                          remain=len(out)))
    prepared = PreparedData(
        design=design, panel=out, frequency=spec.frequency, treated_units=tuple(sorted(treated)),
        control_units=tuple(sorted(controls)), has_exposure=spec.exposure is not None,
        covariates=tuple(spec.covariates), periods=tuple(periods), data_sha256=frame_sha256(out),
        data_cutoff=period_text(sp.cutoff), repeated_cross_section=spec.layout == "repeated_cross_section",
        notes=tuple(notes),
    )
    if mode == "diagnosis":
        return prepared
    registered = with_phase(prepared, design.analysis.estimand)
    if registered is None:
        raise AnalysisError(f"analysis.estimand: {design.analysis.estimand}, but the window holds no "
                            f"period after treatment.end ({design.treatment.end}); wait for data or "
                            "move window.end")
    return registered


def _with_phase_columns(out: pd.DataFrame, design: Design, periods: list[Any],
                        period_of) -> pd.DataFrame:
    """start_t, end_t (last period of the intervention, -1 without an end) and window_excluded:
    what `analysis.phases` needs to split the window at treatment.end."""
    out["start_t"] = out["cohort"]
    out["window_excluded"] = out["excluded"]
    ends: dict[str, int] = {}
    if design.treatment.end is not None and design.treatment.start is not None:
        for unit in design.treatment.units:
            end = design.treatment.end_of(unit)
            if end is not None:
                # the last period that starts on or before the end date
                ends[unit] = int(np.searchsorted(np.array(periods, dtype=object), period_of(end),
                                                 side="right")) - 1
    out["end_t"] = out["unit"].map(ends).fillna(-1).astype(int)
    return out


def _history_and_registered_post(design: Design, frame: pd.DataFrame, first: Any, w_end: Any,
                                 integer: bool, notes: list[Note]) -> tuple[pd.DataFrame, list[Any]]:
    """The rows before the first start, and the history's periods followed by the registered
    post period's (from the first start to window.end; no rows: the outcome is never looked at)."""
    history = frame.loc[frame["period"] < first]
    past = sorted(history["period"].unique())
    if integer:
        post = list(range(int(first), int(w_end) + 1))
    else:
        post = [pd.Timestamp(p) for p in period_range(first, w_end, design.data.frequency)]
    if past:
        adjacent = (int(first) - int(past[-1]) == 1 if integer else
                    len(period_range(past[-1], first, design.data.frequency)) == 2)
        notes.append(note("diagnosis_history_only", n_before=len(past), first=period_text(past[0]),
                          last=period_text(past[-1]), n_post=len(post), start=period_text(first)))
        if not adjacent:  # the data end before the period just before the start
            notes.append(note("diagnosis_history_gap", last=period_text(past[-1])))
    return history, past + post


def without_units(data: PreparedData, units: Iterable[str]) -> PreparedData:
    """The same prepared data without some comparison units (treated units are never dropped)."""
    drop = set(units) - set(data.treated_units)
    panel = data.panel.loc[~data.panel["unit"].isin(drop)].reset_index(drop=True)
    controls = tuple(u for u in data.control_units if u not in drop)
    if data.control_units and not controls:
        raise AnalysisError("controls: no comparison unit is left without "
                            f"{', '.join(sorted(drop))}; the check cannot be run")
    return PreparedData(**{**data.__dict__, "panel": panel, "control_units": controls,
                           "data_sha256": frame_sha256(panel)})


def _first_treated_periods(design: Design, frame: pd.DataFrame, period_of) -> dict[str, Any]:
    tr = design.treatment
    if tr.start_column is not None:
        starts = frame.dropna(subset=["start"]).groupby("unit")["start"].first()
        starts = {str(u): period_of(_integral(s)) for u, s in starts.items()}
        if tr.units:
            unknown = sorted(set(tr.units) - set(starts))
            if unknown:
                raise AnalysisError(f"treatment.units: {', '.join(unknown)} have no value in start column `{tr.start_column}`")
            starts = {u: starts[u] for u in tr.units}
        if not starts:
            raise AnalysisError(f"treatment.start_column: `{tr.start_column}` marks no unit as treated; check the column")
        return dict(sorted(starts.items()))
    return {u: period_of(tr.start_of(u)) for u in tr.units}


def _integral(value: Any) -> Any:
    """2005.0 read from a CSV column with blanks is the period number 2005."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _control_units(design: Design, frame: pd.DataFrame, treated: tuple[str, ...],
                   exclude_units: Iterable[str], notes: list[Note]) -> tuple[str, ...]:
    units = list(dict.fromkeys(frame["unit"].astype(str)))
    listed = design.control_units
    if listed is not None:
        missing = sorted(set(listed) - set(units))
        if missing:
            raise AnalysisError(f"controls: unit(s) {', '.join(missing)} are not in the data; check the codes")
        return tuple(listed)
    if design.design == "its" and design.controls is None:
        return ()  # a plain ITS; `controls: untreated` makes it a controlled ITS against all the rest
    excluded = sorted((set(exclude_units) & set(units)) - set(treated))
    if excluded:
        notes.append(note("treated_elsewhere", n=len(excluded), units=excluded))
    controls = tuple(u for u in units if u not in treated and u not in excluded)
    if not controls:
        raise AnalysisError("controls: no never-treated unit is left to compare with; list control units or widen the data")
    return controls


def _excluded(design: Design, periods: pd.Series, period_of) -> np.ndarray:
    ex = design.window.exclude
    if ex is None:
        return np.zeros(len(periods), dtype=bool)
    lo, hi = period_of(ex.start), period_of(ex.end)
    return ((periods >= lo) & (periods <= hi)).to_numpy()


def _check_usable(design: Design, out: pd.DataFrame, cohorts: dict[str, int], notes: list[Note]) -> None:
    counts = design.analysis.model != "linear"
    pre_periods = min(cohorts.values()) if cohorts else 0
    n_pre = out.loc[(out["t"] < pre_periods) & ~out["excluded"], "t"].nunique()
    if n_pre < defaults.MIN_PRE_PERIODS and design.design == "did" and n_pre >= 1:
        # A DiD identifies the effect from the comparison units too (2x2 designs have one
        # pre-period); only the pre-trend check needs more. An ITS has nothing but its own past.
        notes.append(note("few_pre_periods", n=int(n_pre)))
    elif n_pre < defaults.MIN_PRE_PERIODS:
        raise AnalysisError(
            f"window.start: only {n_pre} pre-period(s) before treatment.start, at least "
            f"{defaults.MIN_PRE_PERIODS} are needed; move window.start earlier"
        )
    treated_rows = out.loc[out["treated_unit"]]
    if counts and treated_rows["y"].sum() == 0:
        raise AnalysisError(
            f"data.outcome: the treated units ({', '.join(sorted(cohorts))}) have no events at all in the window; "
            "a rate ratio cannot be estimated — widen the window or pool target types"
        )
    if design.data.exposure is not None:
        bad = out.index[~(out["exposure"] > 0)]
        if len(bad):
            rows = out.loc[bad, ["unit", "period"]].astype(str).agg(" ".join, axis=1)
            raise DataError(f"data.exposure: `{design.data.exposure}` is zero or missing for {format_rows(rows)}; fix the exposure values")





