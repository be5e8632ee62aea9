"""Periods: the start of the period holding a date, ranges of periods, and period labels.

A period is labelled by its start (ISO-week Monday, first of month, quarter or year) in store
panels, or by an integer in panel files that count periods. `period_json` / `period_text` are the
one way a period is written into results and messages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.errors import AnalysisError, DataError, DesignError, format_rows

_DATETIME = "datetime64[ns]"
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def check_frequency(frequency: str) -> None:
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
    check_frequency(frequency)
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


def period_json(value: Any) -> Any:
    """A period as JSON: an ISO date for dated periods, an int for numbered ones."""
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def period_text(value: Any) -> str:
    """A period as text for messages: 2024-03-04 or 2005."""
    return str(period_json(value))

def to_period(value: Any, *, frequency: str, integer: bool) -> Any:
    """A design date or number as the panel's period label."""
    if integer:
        if not isinstance(value, int):
            raise AnalysisError(f"the panel counts periods with numbers but the design gives the date {value}; give period numbers")
        return value
    if isinstance(value, int):
        raise AnalysisError(f"the panel has dated periods but the design gives the period number {value}; give a date (YYYY-MM-DD)")
    return pd.Timestamp(period_start(pd.Series([pd.Timestamp(value)]), frequency).iloc[0])
