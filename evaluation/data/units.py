"""The store's units table: population per municipality and year (for exposure).

A units file is checked as a whole and stored as a whole: one bad row stops the import and
nothing is stored (a population table with holes would only fail later, in an analysis). The
number format is decided per file (`numbers`), and a population outside what a Dutch municipality
can have is a misread number, never data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.data.numbers import read_whole_numbers
from evaluation.data.schema import ensure_schema, latest_version, record_version
from evaluation.data.store import (
    MUNICIPALITY_CODE,
    attach_store,
    has_reference,
    open_for_writing,
    transaction,
)
from evaluation.data.tables import (
    file_sha256,
    missing_columns_error,
    read_table_file,
    refuse_bad_rows,
    semicolon_separated,
)
from evaluation.errors import DataError, format_rows

UNIT_COLUMNS = ("code", "name", "year", "population")


@dataclass(frozen=True)
class UnitsReport:
    file: str
    sha256: str
    rows_read: int
    inserted: int  # code-years new to the store
    replaced: int  # code-years whose name or population changed
    unchanged: int
    number_format: str = "plain"  # dutch | english | plain: how the file writes its numbers
    version: int | None = None  # the data version this import created; None: nothing changed


def _semicolon_file(path: Path) -> bool:
    if path.suffix.lower() in {".parquet", ".pq"}:
        return False
    with path.open("rb") as handle:
        return semicolon_separated(handle.readline().decode("utf-8-sig", errors="replace"))


def validate_units(raw: pd.DataFrame, *, source: str, dutch_file: bool = False) -> pd.DataFrame:
    """Typed unit rows, or a one-line DataError naming every bad row (grouped by reason)."""
    missing = [c for c in UNIT_COLUMNS if c not in raw.columns]
    if missing:
        raise missing_columns_error(Path(source), missing, list(raw.columns))
    frame = raw[list(UNIT_COLUMNS)].reset_index(drop=True)
    year = pd.to_numeric(
        frame["year"].where(frame["year"].str.fullmatch(r"\d{4}"), None), errors="coerce"
    )
    numbers = read_whole_numbers(
        frame["population"], dutch_file=dutch_file, source=source, column="population"
    )
    population = numbers.values
    key = frame["code"] + "|" + frame["year"]
    low, high = defaults.POPULATION_MIN, defaults.POPULATION_MAX
    checks = {
        "code: not GM + 4 digits": ~frame["code"].str.match(MUNICIPALITY_CODE),
        "name: missing": frame["name"] == "",
        "year: not a 4-digit year": year.isna(),
        "population: not a positive whole number": population.isna() | (population <= 0),
        f"population: below {low:,} or above {high:,}, implausible for a municipality "
        f"(read as {numbers.format} numbers)": (population > 0)
        & ((population < low) | (population > high)),
        "code and year: listed twice": key.duplicated(keep="first"),
    }
    refuse_bad_rows(source, checks)
    out = pd.DataFrame(
        {
            "code": frame["code"],
            "name": frame["name"],
            "year": year.astype("int64"),
            "population": population.astype("int64"),
        }
    )
    out.attrs["number_format"] = numbers.format
    return out


def import_units(path: str | Path, *, db_path: str | Path) -> UnitsReport:
    """Import population per code and year; a re-import supersedes the same code-years."""
    path = Path(path)
    units = validate_units(
        read_table_file(path, as_text=True), source=str(path), dutch_file=_semicolon_file(path)
    )
    sha = file_sha256(path)
    with open_for_writing(db_path) as con:
        con.register("_units_delivered", units)
        attach_store(con, db_path)
        with transaction(con):
            ensure_schema(con)
            _check_reference(con, units, path)
            inserted, unchanged = con.execute(
                "SELECT count(*) FILTER (WHERE s.code IS NULL), "
                "count(*) FILTER (WHERE s.name = u.name AND s.population = u.population) "
                "FROM _units_delivered u LEFT JOIN units s ON s.code = u.code AND s.year = u.year"
            ).fetchone()
            version = latest_version(con) + 1
            changed = con.execute(
                "INSERT INTO unit_records SELECT u.code, u.name, u.year, u.population, ? "
                "FROM _units_delivered u LEFT JOIN units s ON s.code = u.code AND s.year = u.year "
                "WHERE s.code IS NULL OR s.name <> u.name OR s.population <> u.population",
                [version],
            ).fetchone()[0]
            replaced = len(units) - inserted - unchanged
            if changed:
                record_version(
                    con, version=version, kind="units", file=path.name, file_sha256=sha,
                    read=len(units), stored=int(changed), present=int(unchanged), quarantined=0,
                    note=f"numbers read as {units.attrs['number_format']}",
                )
    return UnitsReport(
        file=path.name,
        sha256=sha,
        rows_read=len(units),
        inserted=int(inserted),
        replaced=int(replaced),
        unchanged=int(unchanged),
        number_format=units.attrs["number_format"],
        version=version if changed else None,
    )


def _check_reference(con, units: pd.DataFrame, path: Path) -> None:
    """With a municipality reference loaded, every unit code must be in it."""
    if not has_reference(con):
        return
    unknown = con.execute(
        "SELECT DISTINCT u.code FROM _units_delivered u ANTI JOIN municipalities m USING (code) "
        "ORDER BY u.code"
    ).fetchall()
    if unknown:
        codes = [c for (c,) in unknown]
        rows = np.flatnonzero(units["code"].isin(codes).to_numpy()) + 1
        raise DataError(
            f"{path}: code(s) {format_rows(codes)} are not in the municipality reference (data "
            f"rows {format_rows(rows)}); correct the codes or import a reference that lists them "
            "(`evaluation data municipalities FILE`); nothing was stored"
        )
