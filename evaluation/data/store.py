"""The incident store: police-registered incidents in an embedded DuckDB file.

Every row of an imported file is accounted for: it is stored, recognised as already stored, or
put in the `quarantine` table with its raw values and the reason(s). An import is one transaction,
so a failure half-way leaves the store as it was. Validation is vectorised (pandas), never a Python
loop per row, so files of a million rows import in seconds.

Tables: `incidents`, `quarantine`, `imports` (a log without wall-clock times, so that nothing in
the store depends on when it was filled) and `units` (population per municipality and year,
imported by `evaluation.store_units`; `evaluation.store_summary` summarises the store).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.data.tables import file_sha256, missing_columns_error, read_table_file
from evaluation.errors import DataError
from evaluation.progress import progress_bar

INCIDENT_COLUMNS = (
    "incident_id",
    "date",
    "municipality_code",
    "municipality",
    "target_type",
    "outcome",
    "neighbourhood_code",
)
REQUIRED_INCIDENT_COLUMNS = INCIDENT_COLUMNS[:-1]
MUNICIPALITY_CODE = r"^GM\d{4}$"
NEIGHBOURHOOD_CODE = r"^BU\d{8}$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
# The name of a municipality as on its latest incident (ties broken by name: deterministic).
LATEST_NAME = "arg_max(municipality, strftime(date, '%Y-%m-%d') || municipality)"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    incident_id VARCHAR PRIMARY KEY, date DATE NOT NULL, municipality_code VARCHAR NOT NULL,
    municipality VARCHAR NOT NULL, target_type VARCHAR NOT NULL, outcome VARCHAR NOT NULL,
    neighbourhood_code VARCHAR, source_file VARCHAR NOT NULL, source_row BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (
    file VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, "row" BIGINT NOT NULL,
    incident_id VARCHAR, date VARCHAR, municipality_code VARCHAR, municipality VARCHAR,
    target_type VARCHAR, outcome VARCHAR, neighbourhood_code VARCHAR, reason VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS imports (
    import_no INTEGER NOT NULL, kind VARCHAR NOT NULL, file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL, rows_read BIGINT NOT NULL, rows_stored BIGINT NOT NULL,
    rows_already_present BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    code VARCHAR NOT NULL, name VARCHAR NOT NULL, year INTEGER NOT NULL,
    population BIGINT NOT NULL);
"""


# --- validation -------------------------------------------------------------------------------
# A check is (mask, text): `text` is a string, or a function of the failing row positions that
# returns one string per position. Texts are built only for failing rows, so that validating a
# million clean rows costs a few vectorised comparisons and no string building.
Check = tuple[np.ndarray, "str | Callable[[np.ndarray], np.ndarray]"]


def _reasons(checks: list[Check], n: int, sep: str = "; ") -> np.ndarray:
    """Per row: the texts of every failed check joined by `sep`; '' for a row that passed all."""
    out = np.full(n, "", dtype=object)
    if not checks:
        return out
    failing = np.flatnonzero(np.column_stack([np.asarray(m, bool) for m, _ in checks]).any(axis=1))
    if failing.size == 0:
        return out
    joined = np.full(failing.size, "", dtype=object)
    for mask, text in checks:
        body = text if isinstance(text, str) else np.asarray(text(failing), dtype=object)
        joined = joined + np.where(np.asarray(mask, bool)[failing], body + sep, "").astype(object)
    out[failing] = pd.Series(joined, dtype=object).str.removesuffix(sep).to_numpy(dtype=object)
    return out


def _shown(values: pd.Series) -> np.ndarray:
    text = values.astype(object).where(values.notna(), "").astype(str).to_numpy(dtype=object)
    return np.where(text == "", "empty", text).astype(object)


def validate_incidents(raw: pd.DataFrame, *, today: dt.date) -> pd.DataFrame:
    """Clean values plus `row` (1-based data row) and `reason` ('' for a valid row).

    `raw` holds text as read by `read_table_file(as_text=True)`; it is not modified.
    """
    frame = pd.DataFrame({c: raw[c] if c in raw else "" for c in INCIDENT_COLUMNS}, index=raw.index)
    frame["row"] = np.arange(1, len(frame) + 1)
    # Case and surrounding spaces in the vocabulary are typing noise, not a different category.
    frame["target_type"] = frame["target_type"].str.lower()
    frame["outcome"] = frame["outcome"].str.lower()
    checks: list[Check] = [(frame[c] == "", f"{c}: missing") for c in REQUIRED_INCIDENT_COLUMNS]

    text_date = frame["date"]
    dates = pd.to_datetime(
        text_date.where(text_date.str.match(ISO_DATE), None), format="%Y-%m-%d", errors="coerce"
    )
    checks.append(((text_date != "") & dates.isna(), "date: not a real date in YYYY-MM-DD form"))
    checks.append((dates > pd.Timestamp(today), f"date: in the future (after {today.isoformat()})"))
    for column, allowed in (("target_type", defaults.TARGET_TYPES), ("outcome", defaults.OUTCOMES)):
        bad = (frame[column] != "") & ~frame[column].isin(allowed)
        checks.append((bad, f"{column}: unknown value (allowed: {', '.join(allowed)})"))
    code = frame["municipality_code"]
    checks.append(
        ((code != "") & ~code.str.match(MUNICIPALITY_CODE), "municipality_code: not GM + 4 digits")
    )
    hood = frame["neighbourhood_code"]
    checks.append(
        (
            (hood != "") & ~hood.str.match(NEIGHBOURHOOD_CODE),
            "neighbourhood_code: not BU + 8 digits",
        )
    )

    ids = frame["incident_id"]
    first_row = frame["row"].groupby(ids).transform("min").where(ids != "", 0).to_numpy()
    later = (first_row > 0) & (first_row != frame["row"].to_numpy())
    checks.append(
        (
            later,
            lambda rows: (
                "incident_id: duplicate of row "
                + first_row[rows].astype(int).astype(str).astype(object)
            ),
        )
    )

    frame["date"] = dates.astype("datetime64[ns]")
    frame["neighbourhood_code"] = hood.where(hood != "", None)
    frame["reason"] = _reasons(checks, len(frame))
    return frame


def _compare_with_store(
    con: duckdb.DuckDBPyConnection, valid: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """(already_present mask, conflict reason or '') for valid rows, against stored incidents."""
    con.register("_candidates", valid[["incident_id"]])
    stored = con.execute("SELECT i.* FROM incidents i JOIN _candidates c USING (incident_id)").df()
    con.unregister("_candidates")
    theirs = valid[["incident_id"]].merge(stored, on="incident_id", how="left")
    theirs.index = valid.index
    known = theirs["municipality"].notna().to_numpy()
    theirs["date"] = pd.to_datetime(theirs["date"]).astype("datetime64[ns]")
    fields: list[Check] = []
    for column in INCIDENT_COLUMNS[1:]:
        ours_col, theirs_col = valid[column], theirs[column]
        if column != "date":  # NULL and '' are the same missing neighbourhood
            ours_col, theirs_col = ours_col.fillna(""), theirs_col.fillna("")
        differs = known & (ours_col != theirs_col).to_numpy(bool)
        if column == "date":
            theirs_col = theirs_col.dt.strftime("%Y-%m-%d")
        fields.append(
            (
                differs,
                lambda rows, c=column, t=theirs_col: c + " (stored " + _shown(t.iloc[rows]) + ")",
            )
        )
    detail = _reasons(fields, len(valid), sep=", ")
    conflict = detail != ""
    reason = _reasons(
        [(conflict, lambda rows: "conflicts with the stored incident: differs in " + detail[rows])],
        len(valid),
    )
    return known & ~conflict, reason


# --- import -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportReport:
    """Counts of one import; `rows_read == stored_new + already_present + quarantined`."""

    file: str
    sha256: str
    rows_read: int
    stored_new: int
    already_present: int
    quarantined: int
    quarantined_new: int  # not already in the quarantine table from an earlier import of this file
    rejects: pd.DataFrame = field(repr=False)  # row, incident_id, reason of quarantined rows
    ignored_columns: tuple[str, ...] = ()

    @property
    def stored(self) -> int:
        return self.stored_new + self.already_present


@contextmanager
def connect(db_path: str | Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    db_path = Path(db_path)
    if read_only and not db_path.is_file():
        raise DataError(
            f"{db_path}: no incident store here; import incidents first with "
            "`evaluation data import FILE` (or point --db / EVALUATION_DB at the store)"
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(db_path), read_only=read_only)
        # DuckDB's own progress bar would print in the middle of our output
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error as exc:
        raise DataError(f"{db_path}: cannot open the incident store ({exc})") from None
    try:
        yield con
    finally:
        con.close()


@contextmanager
def _stages(path: Path, description: str, steps: int) -> Iterator[Callable[[], None]]:
    """A progress bar over the import steps, only for files big enough to take seconds."""
    if not path.is_file() or path.stat().st_size < defaults.IMPORT_PROGRESS_BYTES:
        yield lambda: None
        return
    with progress_bar(f"{description} from {path.name}", steps) as advance:
        yield advance


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            con.execute(statement)


def log_import(
    con, *, kind: str, file: str, sha: str, read: int, stored: int, present: int, quarantined: int
) -> None:
    number = con.execute("SELECT coalesce(max(import_no), 0) + 1 FROM imports").fetchone()[0]
    con.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [number, kind, file, sha, read, stored, present, quarantined],
    )


def _insert_incidents(con, rows: pd.DataFrame, file: str) -> None:
    table = rows[list(INCIDENT_COLUMNS)].assign(source_file=file, source_row=rows["row"])
    con.register("_new_incidents", table)
    con.execute(
        "INSERT INTO incidents SELECT incident_id, CAST(date AS DATE), municipality_code, "
        "municipality, target_type, outcome, neighbourhood_code, source_file, source_row "
        "FROM _new_incidents"
    )
    con.unregister("_new_incidents")


def _insert_quarantine(con, rows: pd.DataFrame, file: str, sha: str) -> int:
    """Quarantine rows not yet quarantined for this file content; returns how many were added."""
    table = rows.assign(file=file, file_sha256=sha)
    con.register("_rejects", table)
    added = con.execute(
        'INSERT INTO quarantine SELECT r.file, r.file_sha256, r."row", '
        + ", ".join(f"r.{c}" for c in INCIDENT_COLUMNS)
        + ", r.reason FROM _rejects r WHERE NOT EXISTS (SELECT 1 FROM quarantine q "
        'WHERE q.file_sha256 = r.file_sha256 AND q."row" = r."row")'
    ).fetchone()[0]
    con.unregister("_rejects")
    return int(added)


def import_incidents(
    path: str | Path, *, db_path: str | Path, today: dt.date | None = None
) -> ImportReport:
    """Import an incident file (CSV or Parquet) into the store in one transaction."""
    path = Path(path)
    with _stages(path, "importing incidents", 4) as advance:
        raw = read_table_file(path, as_text=True)
        missing = [c for c in REQUIRED_INCIDENT_COLUMNS if c not in raw.columns]
        if missing:
            raise missing_columns_error(path, missing, list(raw.columns))
        ignored = tuple(c for c in raw.columns if c not in INCIDENT_COLUMNS)
        sha = file_sha256(path)
        advance()
        checked = validate_incidents(raw, today=today or dt.date.today())
        advance()
        with connect(db_path) as con, transaction(con):
            ensure_schema(con)
            valid = checked.loc[checked["reason"] == ""]
            present, conflict = _compare_with_store(con, valid)
            new = valid.loc[~present & (conflict == "")]
            checked.loc[valid.index, "reason"] = conflict
            rejected = checked.loc[checked["reason"] != ""]
            advance()
            _insert_incidents(con, new, path.name)
            raw_rejects = raw.loc[rejected.index].reindex(
                columns=list(INCIDENT_COLUMNS), fill_value=""
            )
            raw_rejects = raw_rejects.assign(row=rejected["row"], reason=rejected["reason"])
            quarantined_new = _insert_quarantine(con, raw_rejects, path.name, sha)
            log_import(
                con,
                kind="incidents",
                file=path.name,
                sha=sha,
                read=len(raw),
                stored=len(new),
                present=int(present.sum()),
                quarantined=len(rejected),
            )
        advance()
    report = ImportReport(
        file=path.name,
        sha256=sha,
        rows_read=len(raw),
        stored_new=len(new),
        already_present=int(present.sum()),
        quarantined=len(rejected),
        quarantined_new=quarantined_new,
        rejects=raw_rejects[["row", "incident_id", "reason"]].reset_index(drop=True),
        ignored_columns=ignored,
    )
    # every row is accounted for: stored, already present, or quarantined
    if report.stored + report.quarantined != report.rows_read:  # the invariant, even under python -O
        raise RuntimeError(f"{path}: rows read {report.rows_read} != stored {report.stored} + quarantined {report.quarantined}")
    return report


# --- reading the store ------------------------------------------------------------------------
def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0]
    )


def require_incidents(con: duckdb.DuckDBPyConnection, db_path: str | Path) -> None:
    if not has_table(con, "incidents"):
        raise DataError(
            f"{db_path}: not an incident store (no incidents table); import incidents "
            "with `evaluation data import FILE`"
        )
