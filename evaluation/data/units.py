"""The store's units table: population per municipality and year (for exposure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.data.store import MUNICIPALITY_CODE, connect, ensure_schema, log_import, transaction
from evaluation.data.tables import file_sha256, missing_columns_error, read_table_file
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


def validate_units(raw: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Typed unit rows, or a one-line DataError naming every bad row (grouped by reason)."""
    missing = [c for c in UNIT_COLUMNS if c not in raw.columns]
    if missing:
        raise missing_columns_error(Path(source), missing, list(raw.columns))
    frame = raw[list(UNIT_COLUMNS)].copy()
    year = pd.to_numeric(
        frame["year"].where(frame["year"].str.fullmatch(r"\d{4}"), None), errors="coerce"
    )
    population = pd.to_numeric(
        frame["population"]
        .str.replace(r"\.0+$", "", regex=True)
        .where(lambda s: s.str.fullmatch(r"\d+"), None),
        errors="coerce",
    )
    key = frame["code"] + "|" + frame["year"]
    checks = {
        "code: not GM + 4 digits": ~frame["code"].str.match(MUNICIPALITY_CODE),
        "name: missing": frame["name"] == "",
        "year: not a 4-digit year": year.isna(),
        "population: not a positive whole number": population.isna() | (population <= 0),
        "code and year: listed twice": key.duplicated(keep="first"),
    }
    problems = [
        f"{text} (data rows {format_rows(np.flatnonzero(mask.to_numpy()) + 1)})"
        for text, mask in checks.items()
        if mask.any()
    ]
    if problems:
        raise DataError(
            f"{source}: {'; '.join(problems)}; fix these rows and import again (nothing was stored)"
        )
    return pd.DataFrame(
        {
            "code": frame["code"],
            "name": frame["name"],
            "year": year.astype("int64"),
            "population": population.astype("int64"),
        }
    )


def import_units(path: str | Path, *, db_path: str | Path) -> UnitsReport:
    """Import population per code and year; a re-import replaces the same code-years."""
    path = Path(path)
    units = validate_units(read_table_file(path, as_text=True), source=str(path))
    sha = file_sha256(path)
    with connect(db_path) as con, transaction(con):
        ensure_schema(con)
        con.register("_units", units)
        inserted, unchanged = con.execute(
            "SELECT count(*) FILTER (WHERE s.code IS NULL), "
            "count(*) FILTER (WHERE s.name = u.name AND s.population = u.population) "
            "FROM _units u LEFT JOIN units s ON s.code = u.code AND s.year = u.year"
        ).fetchone()
        con.execute("DELETE FROM units WHERE (code, year) IN (SELECT (code, year) FROM _units)")
        con.execute("INSERT INTO units SELECT code, name, year, population FROM _units")
        con.unregister("_units")
        replaced = len(units) - inserted - unchanged
        log_import(
            con,
            kind="units",
            file=path.name,
            sha=sha,
            read=len(units),
            stored=inserted + replaced,
            present=unchanged,
            quarantined=0,
        )
    return UnitsReport(
        file=path.name,
        sha256=sha,
        rows_read=len(units),
        inserted=int(inserted),
        replaced=int(replaced),
        unchanged=int(unchanged),
    )
