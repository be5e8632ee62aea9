"""Reading and validating a CSV/Parquet panel file (e.g. a published benchmark) for analysis."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.data.periods import period_text
from evaluation.data.tables import missing_columns_error, read_table_file
from evaluation.errors import DataError, DesignError, format_rows

_DATETIME = "datetime64[ns]"
_OUTPUT_COLUMNS = ("unit", "period", "y", "exposure", "start")


def _fail(path: Path, column: str, problem: str, rows: Any, fix: str) -> DataError:
    return DataError(f"{path}: column `{column}`: {problem} (data rows {format_rows(rows)}); {fix}")


def _numeric(frame: pd.DataFrame, column: str, path: Path, rows: np.ndarray) -> pd.Series:
    """The column as floats; text that is not a number is an error (missing stays NaN)."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        raise _fail(
            path,
            column,
            "not a number",
            rows[bad.to_numpy()],
            "write plain numbers with a decimal point",
        )
    return values


def _periods(frame: pd.DataFrame, column: str, path: Path, rows: np.ndarray) -> pd.Series:
    """Whole numbers stay int64 (period numbers); anything else must be a date."""
    raw = frame[column]
    missing = raw.isna() | (raw.astype(str).str.strip() == "")
    if missing.any():
        raise _fail(
            path,
            column,
            "missing period",
            rows[missing.to_numpy()],
            "every row needs its period (a whole number or a YYYY-MM-DD date)",
        )
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.dt.normalize().astype(_DATETIME)
    numbers = pd.to_numeric(raw, errors="coerce")
    if numbers.notna().all():
        fractional = numbers != np.floor(numbers)
        if fractional.any():
            raise _fail(
                path,
                column,
                "period numbers must be whole numbers",
                rows[fractional.to_numpy()],
                "use 1, 2, 3, ... or YYYY-MM-DD dates",
            )
        return numbers.astype("int64")
    dates = pd.to_datetime(raw.astype(str).str.strip(), format="ISO8601", errors="coerce")
    if dates.isna().any():
        raise _fail(
            path,
            column,
            "neither a whole number nor a YYYY-MM-DD date",
            rows[dates.isna().to_numpy()],
            "use period numbers or ISO dates throughout",
        )
    return dates.dt.normalize().astype(_DATETIME)




def _expected_periods(observed: pd.Series) -> list[Any]:
    """Every period from the first to the last, at the finest spacing the data show."""
    values = np.sort(observed.unique())
    if len(values) < 2:
        return list(observed.unique())
    if pd.api.types.is_integer_dtype(observed):
        step = int(np.gcd.reduce(np.diff(values.astype("int64"))))
        return list(range(int(values[0]), int(values[-1]) + 1, step))
    stamps = pd.DatetimeIndex(values)
    if (stamps.day == 1).all():  # monthly, quarterly or yearly: step in calendar months
        months = (stamps.year * 12 + stamps.month - 1).to_numpy()
        step = int(np.gcd.reduce(np.diff(months)))
        grid = np.arange(months[0], months[-1] + 1, step)
        return list(
            pd.to_datetime({"year": grid // 12, "month": grid % 12 + 1, "day": 1}).astype(_DATETIME)
        )
    days = stamps.to_numpy().astype("datetime64[D]").astype("int64")
    step = int(np.gcd.reduce(np.diff(days)))
    return list(
        pd.DatetimeIndex(np.arange(days[0], days[-1] + 1, step).astype("datetime64[D]")).astype(
            _DATETIME
        )
    )


def _check_gaps(panel: pd.DataFrame, path: Path, column: str) -> None:
    expected = _expected_periods(panel["period"])
    pairs = panel[["unit", "period"]].drop_duplicates()
    full = pd.MultiIndex.from_product([pairs["unit"].unique(), expected], names=["unit", "period"])
    missing = full.difference(pd.MultiIndex.from_frame(pairs))
    if len(missing):
        gaps = (
            missing.to_frame(index=False)
            .groupby("unit", sort=True)["period"]
            .apply(lambda p: f"{p.name} ({format_rows([period_text(v) for v in sorted(p)], limit=3)})")
        )
        raise DataError(
            f"{path}: column `{column}`: unit(s) with missing periods: "
            f"{format_rows(gaps, limit=3)}; every unit needs one row per period "
            "(a count of 0 when nothing happened): add the rows"
        )


def _starts_column(
    frame: pd.DataFrame, panel: pd.DataFrame, column: str, path: Path, rows: np.ndarray
) -> pd.Series:
    """The unit's first treated period; NA for never treated (empty, 0 or NaN)."""
    raw = frame[column]
    text = raw.astype(str).str.strip()
    never = raw.isna() | text.isin(["", "0", "0.0", "nan", "NaN"])
    if pd.api.types.is_integer_dtype(panel["period"]):
        values = pd.to_numeric(raw.where(~never), errors="coerce")
        bad = ~never & (values.isna() | (values != np.floor(values)))
        start = values.round().astype("Int64")
        kind = "a whole period number"
    else:
        values = pd.to_datetime(text.where(~never), format="ISO8601", errors="coerce")
        bad = ~never & values.isna()
        start = values.astype(_DATETIME)
        kind = "a YYYY-MM-DD date"
    if bad.any():
        raise _fail(
            path,
            column,
            f"first treated period is not {kind}",
            rows[bad.to_numpy()],
            "use the period format of the time column, or 0/empty for never treated",
        )
    key = start.astype(object).where(start.notna(), "never")
    per_unit = key.groupby(panel["unit"].to_numpy()).nunique()
    mixed = per_unit.index[per_unit > 1]
    if len(mixed):
        raise _fail(
            path,
            column,
            f"first treated period differs within unit(s) {format_rows(list(mixed), limit=3)}",
            rows[panel["unit"].isin(mixed).to_numpy()],
            "give each unit one start on every row",
        )
    return start


def read_panel_file(
    path: str | Path,
    *,
    unit_column: str | None = defaults.UNIT_COLUMN,
    time_column: str = defaults.TIME_COLUMN,
    outcome: str,
    exposure: str | None = None,
    covariates: Sequence[str] = (),
    start_column: str | None = None,
    counts: bool = True,
    repeated: bool = False,
    drop_missing: bool = False,
) -> pd.DataFrame:
    """Read and validate a CSV/Parquet panel; columns unit, period, y, [exposure], covariates,
    [start]. Each problem is a one-line DataError naming file, column and data rows (1-based,
    header not counted).

    `repeated`: a repeated cross-section (many rows per unit-period). Only then, and only with
    `drop_missing`, rows with a missing outcome are dropped; `attrs["dropped_rows"]` says how
    many (always set) and `attrs["dropped_row_numbers"]` which.
    """
    path = Path(path)
    text_columns = [unit_column] if unit_column else []
    frame = read_table_file(path, as_text=False, text_columns=text_columns)
    return read_panel_frame(
        frame, source=path, unit_column=unit_column, time_column=time_column, outcome=outcome,
        exposure=exposure, covariates=covariates, start_column=start_column, counts=counts,
        repeated=repeated, drop_missing=drop_missing,
    )


def read_panel_frame(
    frame: pd.DataFrame,
    *,
    source: str | Path,
    unit_column: str | None = defaults.UNIT_COLUMN,
    time_column: str = defaults.TIME_COLUMN,
    outcome: str,
    exposure: str | None = None,
    covariates: Sequence[str] = (),
    start_column: str | None = None,
    counts: bool = True,
    repeated: bool = False,
    drop_missing: bool = False,
) -> pd.DataFrame:
    """Validate a panel already in memory (a pandas DataFrame) exactly like a panel file; `source`
    names it in messages. The caller's frame is never changed (a new panel is returned)."""
    path = source
    unit_column = unit_column or None  # a design's "" means: one series, no unit column
    clash = sorted(set(covariates) & set(_OUTPUT_COLUMNS))
    if clash:
        raise DesignError(
            f"data.covariates: {', '.join(clash)} clash with the panel's own columns "
            f"({', '.join(_OUTPUT_COLUMNS)}); rename the column in the file"
        )
    wanted = [
        c for c in (unit_column, time_column, outcome, exposure, *covariates, start_column) if c
    ]
    missing = list(dict.fromkeys(c for c in wanted if c not in frame.columns))
    if missing:
        raise missing_columns_error(path, missing, [str(c) for c in frame.columns])
    if frame.empty:
        raise DataError(f"{path}: no data rows below the header; give a file with the panel's rows")
    rows = np.arange(1, len(frame) + 1)

    y = _numeric(frame, outcome, path, rows)
    dropped = np.array([], dtype=int)
    if y.isna().any():
        if not (repeated and drop_missing):
            fix = "remove those rows or fill in the values; rows are never dropped silently"
            if repeated:
                fix += " (for a repeated cross-section they may be dropped with drop_missing)"
            raise _fail(path, outcome, "missing outcome", rows[y.isna().to_numpy()], fix)
        dropped = rows[y.isna().to_numpy()]
        keep = y.notna().to_numpy()
        frame, y, rows = frame.loc[keep], y.loc[keep], rows[keep]

    if unit_column:
        units = frame[unit_column].astype(str).str.strip()
        blank = frame[unit_column].isna() | (units == "")
        if blank.any():
            raise _fail(
                path,
                unit_column,
                "missing unit",
                rows[blank.to_numpy()],
                "every row needs its unit code",
            )
    else:
        units = pd.Series("all", index=frame.index)
    panel = pd.DataFrame(
        {"unit": units.astype(str), "period": _periods(frame, time_column, path, rows), "y": y}
    )
    if counts:
        bad = (y < 0) | (y != np.floor(y))
        if bad.any():
            raise _fail(
                path,
                outcome,
                "counts must be whole numbers >= 0",
                rows[bad.to_numpy()],
                "fix the values, or declare the outcome not a count (e.g. model: linear)",
            )
    if exposure:
        values = _numeric(frame, exposure, path, rows)
        bad = values.isna() | (values <= 0)
        if bad.any():
            raise _fail(
                path,
                exposure,
                "exposure missing or not > 0",
                rows[bad.to_numpy()],
                "fill in a positive exposure (e.g. population) for every row",
            )
        panel["exposure"] = values
    for name in covariates:
        values = _numeric(frame, name, path, rows)
        if values.isna().any():
            raise _fail(
                path,
                name,
                "missing covariate value",
                rows[values.isna().to_numpy()],
                "fill in the values or leave the covariate out of the design",
            )
        panel[name] = values
    if not repeated:
        twice = panel.duplicated(["unit", "period"], keep=False)
        if twice.any():
            raise _fail(
                path,
                time_column,
                "unit-period listed more than once",
                rows[twice.to_numpy()],
                "keep one row per unit and period (for survey "
                "waves with many rows per unit-period use layout: repeated_cross_section)",
            )
    _check_gaps(panel, path, time_column)
    if start_column:
        panel["start"] = _starts_column(frame, panel, start_column, path, rows)
    panel = panel.sort_values(["unit", "period"], kind="stable", ignore_index=True)
    panel.attrs.update(
        source=str(path), dropped_rows=len(dropped), dropped_row_numbers=[int(r) for r in dropped]
    )
    return panel
