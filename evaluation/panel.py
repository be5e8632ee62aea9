"""The one place where data enter analyses: store panels and panel files.

`build_store_panel` turns the incident store into a balanced unit x period count panel with
explicit zeros; `read_panel_file` reads and validates a CSV/Parquet panel (e.g. a published
benchmark). Both are pure: they read files and return new frames. Periods from the store are
Timestamps of the period start (ISO-week Monday, first of month, quarter or year).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.errors import DataError, DesignError, format_rows
from evaluation.store import (
    LATEST_NAME,
    connect,
    has_table,
    missing_columns_error,
    read_table_file,
    require_incidents,
)

_DATETIME = "datetime64[ns]"
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


# --- periods ----------------------------------------------------------------------------------
def _check_frequency(frequency: str) -> None:
    if frequency not in defaults.FREQUENCIES:
        raise DesignError(
            f"data.frequency: `{frequency}` is not one of {', '.join(defaults.FREQUENCIES)}"
        )


def _starts(days: np.ndarray, frequency: str) -> np.ndarray:
    """Period starts (datetime64[D]) of dates given as datetime64[D]; integer arithmetic only."""
    if frequency == "day":
        return days
    if frequency == "week":
        # The ISO week is Monday-based, so the Monday on or before a date starts its ISO week,
        # also across years: 2024-12-30 starts 2025-W01 and 2021-01-03 lies in 2020-W53.
        number = days.astype("int64")
        return (number - (number + _EPOCH_WEEKDAY) % 7).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    if frequency == "month":
        return months.astype("datetime64[D]")
    if frequency == "quarter":
        number = months.astype("int64")  # months since 1970-01, a quarter start
        return (number - number % 3).astype("datetime64[M]").astype("datetime64[D]")
    return days.astype("datetime64[Y]").astype("datetime64[D]")


def period_start(dates: Any, frequency: str) -> pd.Series | pd.Timestamp:
    """Start of the period containing each date: a Timestamp for one date, else a Series."""
    _check_frequency(frequency)
    scalar = isinstance(dates, str | dt.date | pd.Timestamp | np.datetime64)
    if scalar:
        values = pd.to_datetime(pd.Series([dates]))
    else:  # a Series keeps its index; any other sequence gets positions
        values = pd.to_datetime(dates if isinstance(dates, pd.Series) else pd.Series(list(dates)))
    if values.isna().any():
        raise DataError(
            f"period_start: missing or unparseable date at positions "
            f"{format_rows(np.flatnonzero(values.isna()))}"
        )
    days = values.to_numpy().astype("datetime64[D]")
    starts = pd.Series(
        _starts(days, frequency).astype(_DATETIME),
        index=values.index if not scalar else None,
        name=None,
    )
    return starts.iloc[0] if scalar else starts


def period_range(start: Any, end: Any, frequency: str) -> pd.DatetimeIndex:
    """Period starts from the period containing `start` to the one containing `end`."""
    first, last = period_start(start, frequency), period_start(end, frequency)
    if last < first:
        raise DataError(f"period_range: end {end} lies before start {start}")
    step = {"day": "D", "week": "7D", "month": "MS", "quarter": "QS-JAN", "year": "YS"}[frequency]
    return pd.date_range(first, last, freq=step).astype(_DATETIME)


def period_label(period: pd.Timestamp, frequency: str) -> str:
    """How people write a period: 2025-W01, 2024-12, 2024-Q4, 2024 or 2024-12-30."""
    period = pd.Timestamp(period)
    if frequency == "week":
        year, week, _ = period.isocalendar()
        return f"{year}-W{week:02d}"
    if frequency == "month":
        return f"{period.year}-{period.month:02d}"
    if frequency == "quarter":
        return f"{period.year}-Q{(period.month - 1) // 3 + 1}"
    if frequency == "year":
        return str(period.year)
    return period.date().isoformat()


# --- store panels -----------------------------------------------------------------------------
def store_cutoff(db_path: str | Path) -> dt.date:
    """Date of the last stored incident (the data cutoff of a store analysis)."""
    with connect(db_path, read_only=True) as con:
        require_incidents(con, db_path)
        last = con.execute("SELECT max(date) FROM incidents").fetchone()[0]
    if last is None:
        raise DataError(
            f"{db_path}: the incident store is empty; import incidents with "
            "`evaluation data import FILE`"
        )
    return last


def build_store_panel(
    db_path: str | Path,
    *,
    frequency: str,
    start: Any,
    end: Any,
    target_types: Sequence[str] = defaults.TARGET_TYPES,
    outcomes: Sequence[str] = defaults.OUTCOMES,
    outcome_name: str = defaults.OUTCOME,
    with_exposure: bool = False,
) -> pd.DataFrame:
    """Balanced unit x period counts of stored incidents, zeros explicit.

    Units are every municipality in the incidents or the units table; periods run from the one
    containing `start` to the one containing `end`, each counted in full. Columns: unit, name,
    period, y (float) and, with `with_exposure`, exposure = population in the period's calendar
    year. `attrs`: outcome_name, frequency, data_cutoff (last stored incident date).
    """
    _check_frequency(frequency)
    for field, values, allowed in (
        ("data.target_types", target_types, defaults.TARGET_TYPES),
        ("data.outcomes", outcomes, defaults.OUTCOMES),
    ):
        unknown = sorted(set(values) - set(allowed))
        if unknown or not values:
            raise DesignError(
                f"{field}: {', '.join(unknown) or 'empty list'} not allowed; "
                f"choose from {', '.join(allowed)}"
            )
    periods = period_range(start, end, frequency)
    step_end = period_range(periods[-1], periods[-1] + pd.Timedelta(days=400), frequency)[1]
    with connect(db_path, read_only=True) as con:
        require_incidents(con, db_path)
        with_units = has_table(con, "units")
        events = con.execute(
            "SELECT municipality_code AS unit, date FROM incidents WHERE date >= ? AND date < ? "
            "AND list_contains(?, target_type) AND list_contains(?, outcome)",
            [periods[0].date(), step_end.date(), list(target_types), list(outcomes)],
        ).df()
        unit_sql = (
            f"SELECT municipality_code AS unit, {LATEST_NAME} AS name FROM incidents GROUP BY ALL"
        )
        if with_units:  # the latest registered name of a unit wins over incident spellings
            unit_sql = (
                f"SELECT coalesce(u.code, i.unit) AS unit, coalesce(u.name, i.name) AS name "
                f"FROM ({unit_sql}) i FULL JOIN (SELECT code, arg_max(name, year) AS name "
                f"FROM units GROUP BY code) u ON u.code = i.unit"
            )
        units = con.execute(unit_sql + " ORDER BY unit").df()
        population = (
            con.execute("SELECT code AS unit, year, population FROM units").df()
            if with_units
            else pd.DataFrame(columns=["unit", "year", "population"])
        )
        cutoff = con.execute("SELECT max(date) FROM incidents").fetchone()[0]
    if units.empty:
        raise DataError(
            f"{db_path}: the incident store is empty; import incidents with "
            "`evaluation data import FILE`"
        )

    counts = (
        pd.DataFrame(
            {
                "unit": events["unit"].astype(str),
                "period": period_start(pd.to_datetime(events["date"]), frequency),
            }
        )
        .value_counts()
        .rename("y")
        .reset_index()
    )
    grid = pd.MultiIndex.from_product(
        [units["unit"].astype(str), periods], names=["unit", "period"]
    ).to_frame(index=False)
    panel = grid.merge(counts, on=["unit", "period"], how="left")
    panel["y"] = panel["y"].fillna(0).astype(float)
    panel.insert(1, "name", panel["unit"].map(dict(zip(units["unit"], units["name"], strict=True))))
    if with_exposure:
        panel["exposure"] = _exposure(panel, population, db_path)
    panel = panel.sort_values(["unit", "period"], ignore_index=True)
    panel.attrs.update(
        outcome_name=outcome_name,
        frequency=frequency,
        data_cutoff=cutoff.isoformat() if cutoff else None,
    )
    return panel


def _exposure(panel: pd.DataFrame, population: pd.DataFrame, db_path: str | Path) -> pd.Series:
    lookup = population.assign(year=population["year"].astype(int)).set_index(["unit", "year"])
    keys = pd.MultiIndex.from_arrays([panel["unit"], panel["period"].dt.year])
    values = lookup["population"].reindex(keys).to_numpy(dtype=float)
    missing = pd.DataFrame({"unit": panel["unit"], "year": panel["period"].dt.year})[
        np.isnan(values)
    ]
    if not missing.empty:
        pairs = (
            missing.drop_duplicates()
            .groupby("unit")["year"]
            .apply(lambda y: f"{y.name} ({', '.join(map(str, sorted(y)))})")
        )
        raise DataError(
            f"{db_path}: units table: population missing for {format_rows(pairs)}; "
            "import it with `evaluation data units FILE` (columns code, name, year, "
            "population) or drop exposure from the design"
        )
    return pd.Series(values, index=panel.index)


# --- panel files ------------------------------------------------------------------------------
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


def _label(value: Any) -> str:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)


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
            .apply(lambda p: f"{p.name} ({format_rows([_label(v) for v in sorted(p)], limit=3)})")
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
    unit_column = unit_column or None  # a design's "" means: one series, no unit column
    clash = sorted(set(covariates) & set(_OUTPUT_COLUMNS))
    if clash:
        raise DesignError(
            f"data.covariates: {', '.join(clash)} clash with the panel's own columns "
            f"({', '.join(_OUTPUT_COLUMNS)}); rename the column in the file"
        )
    frame = read_table_file(path, as_text=False, text_columns=[unit_column] if unit_column else [])
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
