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
from evaluation.data.municipalities import Boundaries, boundaries_at, read_reference, valid_in_year
from evaluation.data.periods import check_frequency, period_range, period_start
from evaluation.data.schema import incidents_at, units_at
from evaluation.data.store import connect
from evaluation.data.versions import resolve_version
from evaluation.errors import DataError, DesignError, format_rows


@dataclass(frozen=True)
class SourcePanel:
    """The design's data before any analysis choice: the whole source, every unit and period."""

    frame: pd.DataFrame  # unit, period, y, [exposure], [covariates], [start], [name]
    cutoff: Any  # last period present in the source: the last incident date, or a period number
    integer_periods: bool
    source: str  # plain description: the store file or the panel file
    data_version: dict[str, Any] | None = None  # store: {number, sha256}; a panel file: None
    boundaries: dict[str, Any] | None = None  # store: the municipal boundaries used

    @property
    def periods(self) -> list[Any]:
        return sorted(self.frame["period"].unique())


# --- store panels -----------------------------------------------------------------------------
def store_cutoff(db_path: str | Path, *, version: int | None = None) -> dt.date:
    """Date of the last stored incident at data `version` (the cutoff of a store analysis)."""
    with connect(db_path, read_only=True) as con:
        number = resolve_version(con, db_path, version).number
        last = con.execute(f"SELECT max(date) FROM ({incidents_at(number)})").fetchone()[0]
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
    version: int | None = None,
) -> pd.DataFrame:
    """Balanced unit x period counts of stored incidents at data `version`, zeros explicit.

    With a municipality reference, units are the municipalities as they stood on `end` (the
    boundary date): incidents and population of municipalities that merged away count for their
    successor throughout, so a merger is never a jump. Without one, units are every code in the
    incidents or the units table. Names come from the reference, else the units table, never
    from incident rows. Periods run from the one containing `start` to the one containing `end`,
    each counted in full. Columns: unit, name, period, y (float) and, with `with_exposure`,
    exposure = population in the period's calendar year. `attrs`: outcome_name, frequency,
    data_cutoff (last stored incident date), data_version {number, sha256}, boundaries.
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
        data_version = resolve_version(con, db_path, version)
        incidents = f"({incidents_at(data_version.number)})"
        events = con.execute(
            f"SELECT municipality_code AS unit, date FROM {incidents} WHERE date >= ? AND date < ? "
            "AND list_contains(?, target_type) AND list_contains(?, outcome)",
            [periods[0].date(), step_end.date(), list(target_types), list(outcomes)],
        ).df()
        codes = [c for (c,) in con.execute(
            f"SELECT DISTINCT municipality_code FROM {incidents} ORDER BY 1").fetchall()]
        population = con.execute(
            f"SELECT code AS unit, name, year, population FROM ({units_at(data_version.number)}) "
            "ORDER BY code, year"
        ).df()
        reference = read_reference(con, data_version.number)
        cutoff = con.execute(f"SELECT max(date) FROM {incidents}").fetchone()[0]
    boundary = boundaries_at(reference, pd.Timestamp(end).date())
    units, names = _units_and_names(boundary, codes, population, events, db_path)
    if not units:
        raise DataError(
            f"{db_path}: the incident store is empty; import incidents with "
            "`evaluation data import FILE`"
        )

    counts = (
        pd.DataFrame(
            {
                "unit": events["unit"].astype(str).map(boundary.code_on_date),
                "period": period_start(pd.to_datetime(events["date"]), frequency),
            }
        )
        .value_counts()
        .rename("y")
        .reset_index()
    )
    grid = pd.MultiIndex.from_product([units, periods], names=["unit", "period"]).to_frame(
        index=False
    )
    panel = grid.merge(counts, on=["unit", "period"], how="left")
    panel["y"] = panel["y"].fillna(0).astype(float)
    panel.insert(1, "name", panel["unit"].map(names))
    if with_exposure:
        panel["exposure"] = _exposure(panel, harmonised_population(population, boundary, reference),
                                      db_path)
    panel = panel.sort_values(["unit", "period"], ignore_index=True)
    panel.attrs.update(
        outcome_name=outcome_name,
        frequency=frequency,
        data_cutoff=cutoff.isoformat() if cutoff else None,
        data_version=data_version.to_dict(),
        boundaries=boundary.to_dict(),
    )
    return panel


def _units_and_names(boundary: Boundaries, codes: list[str], population: pd.DataFrame,
                     events: pd.DataFrame, db_path: str | Path) -> tuple[list[str], dict]:
    """The panel's units and their names (reference, else the units table's latest name)."""
    latest_name = population.groupby("unit")["name"].last().to_dict()
    if not boundary.reference:
        units = sorted(set(codes) | set(population["unit"].astype(str)))
        return units, {u: latest_name.get(u) for u in units}
    unknown = sorted(set(events["unit"]) - set(boundary.names))
    if unknown:
        counted = events.loc[events["unit"].isin(unknown), "unit"].value_counts().sort_index()
        raise DataError(
            f"{db_path}: incidents with code(s) not in the municipality reference: "
            f"{format_rows([f'{c} ({n})' for c, n in counted.items()])}; correct them with "
            "`evaluation data correct FILE` or retract them with `evaluation data retract`"
        )
    kept = {boundary.code_on_date(c) for c in events["unit"]}  # e.g. ended without successor
    units = sorted(set(boundary.current) | kept)
    return units, {u: boundary.names.get(u) for u in units}


def harmonised_population(population: pd.DataFrame, boundary: Boundaries,
                          reference: pd.DataFrame) -> pd.DataFrame:
    """Population per unit on the boundary date and year: a municipality's own figure, else (for
    the years before it was formed) the sum over the municipalities that merged into it, but
    only when every one of them that existed that year has a figure."""
    if not boundary.merged:
        return population[["unit", "year", "population"]]
    frame = population.assign(target=population["unit"].map(boundary.code_on_date))
    own = frame.loc[frame["unit"] == frame["target"], ["unit", "year", "population"]]
    parts = frame.loc[frame["unit"] != frame["target"]]
    sums = parts.groupby(["target", "year"], as_index=False).agg(
        population=("population", "sum"), given=("unit", "nunique"))
    expected = [
        (target, year, sum(valid_in_year(reference, p, year)
                           for p, t in boundary.merged.items() if t == target))
        for target, year in zip(sums["target"], sums["year"], strict=True)
    ]
    sums["expected"] = [n for _, _, n in expected]
    complete = sums.loc[sums["given"] >= sums["expected"]].rename(columns={"target": "unit"})
    combined = pd.concat([own, complete[["unit", "year", "population"]]], ignore_index=True)
    return combined.drop_duplicates(["unit", "year"], keep="first")


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
