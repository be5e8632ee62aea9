"""Store panels: the incident store as a balanced unit x period count panel.

`build_store_panel` turns the incident store into a balanced unit x period count panel with
explicit zeros (panel files are read by `evaluation.panel_file.read_panel_file`). It is pure: it
reads the store and returns a new frame. Periods from the store are Timestamps of the period
start (ISO-week Monday, first of month, quarter or year).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.data.periods import check_frequency, period_range, period_start
from evaluation.data.store import LATEST_NAME, connect, has_table, require_incidents
from evaluation.errors import DataError, DesignError, format_rows


@dataclass(frozen=True)
class SourcePanel:
    """The design's data before any analysis choice: the whole source, every unit and period."""

    frame: pd.DataFrame  # unit, period, y, [exposure], [covariates], [start], [name]
    cutoff: Any  # last period present in the source: the last incident date, or a period number
    integer_periods: bool
    source: str  # plain description: the store file or the panel file

    @property
    def periods(self) -> list[Any]:
        return sorted(self.frame["period"].unique())


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
    check_frequency(frequency)
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
