"""The incident store: police-registered incidents in an embedded DuckDB file.

Every row of an imported file is accounted for: it is stored, recognised as already stored, or
put in the `quarantine` table with its raw values and the reason(s). An import is one transaction,
so a failure half-way leaves the store as it was, and a file that cannot be read as a whole
(unreadable, columns missing) stores nothing. DuckDB reads the file and runs every check itself
(see `file_table` and `validation`), so a million rows import in seconds.

The store is append-only (`schema`): an import that stores anything creates a new numbered data
version with the hash of the data; importing the same file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from evaluation import defaults
from evaluation.data.file_table import FileTable, drop_file_table, load_file_table
from evaluation.data.schema import (
    IMPORTED,
    ensure_schema,
    incident_history_at,
    is_versioned,
    latest_version,
    needs_conversion,
    record_version,
    table_kind,
)
from evaluation.data.tables import missing_columns_error
from evaluation.data.validation import (
    INCIDENT_COLUMNS,
    MUNICIPALITY_CODE,
    REQUIRED_INCIDENT_COLUMNS,
    checked_incidents_sql,
    differences_sql,
)
from evaluation.errors import DataError
from evaluation.progress import progress_bar

__all__ = ["INCIDENT_COLUMNS", "MUNICIPALITY_CODE", "REQUIRED_INCIDENT_COLUMNS", "ImportReport",
           "connect", "import_incidents", "open_for_writing", "transaction"]


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
    version: int | None = None  # the data version this import created; None: nothing changed
    data_version: int = 0  # the store's data version after the import
    # stored rows whose municipality name is not the reference's name for their code (the code
    # is used; the name is kept as delivered): row, municipality_code, municipality, reference
    name_mismatches: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def stored(self) -> int:
        return self.stored_new + self.already_present


# --- connections --------------------------------------------------------------------------------
def _without_progress_bar(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB's own progress bar off: it would print in the middle of our output. In a Jupyter
    kernel without ipywidgets DuckDB refuses to change the setting at all ("required package
    'ipywidgets' is missing"); it cannot draw a bar there either, so that refusal is harmless."""
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.InvalidInputException as exc:
        if "ipywidgets" not in str(exc):
            raise


def _open(db_path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        con = duckdb.connect(str(db_path), read_only=read_only)
        _without_progress_bar(con)
    except duckdb.Error as exc:
        raise DataError(f"{db_path}: cannot open the incident store ({exc})") from None
    return con


@contextmanager
def connect(db_path: str | Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the store; a store from before data versions is converted first."""
    db_path = Path(db_path)
    if read_only and not db_path.is_file():
        raise DataError(
            f"{db_path}: no incident store here; import incidents first with "
            "`evaluation data import FILE` (or point --db / EVALUATION_DB at the store)"
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(db_path, read_only)
    if needs_conversion(con):
        if read_only:  # convert once with a writing connection, then read as asked
            con.close()
            con = _open(db_path, False)
        try:
            with transaction(con):
                ensure_schema(con)
        finally:
            if read_only:
                con.close()
        if read_only:
            con = _open(db_path, True)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def open_for_writing(db_path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory connection for reading a delivered file, with the store attached on demand.

    Files are read and checked before the store is opened, so a file that cannot be used
    leaves no trace (not even a new, empty store). Call `attach_store` when it is needed.
    """
    con = duckdb.connect()
    _without_progress_bar(con)
    # A bounded buffer: DuckDB spills to disk beside the store rather than grow with the file.
    con.execute(f"SET memory_limit = '{defaults.STORE_MEMORY_LIMIT}'")
    spill = str(Path(db_path).with_name(Path(db_path).name + ".tmp")).replace("'", "''")
    con.execute(f"SET temp_directory = '{spill}'")
    try:
        yield con
    finally:
        con.close()


def attach_store(con: duckdb.DuckDBPyConnection, db_path: str | Path) -> None:
    """Attach the store file to `con` as its default database (created when new)."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(f"ATTACH '{str(db_path).replace(chr(39), chr(39) * 2)}' AS store")
    except duckdb.Error as exc:
        raise DataError(f"{db_path}: cannot open the incident store ({exc})") from None
    con.execute("USE store")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


@contextmanager
def stages(path: Path, description: str, steps: int) -> Iterator[Callable[[], None]]:
    """A progress bar over the import steps, only for files big enough to take seconds."""
    if not path.is_file() or path.stat().st_size < defaults.IMPORT_PROGRESS_BYTES:
        yield lambda: None
        return
    with progress_bar(f"{description} from {path.name}", steps) as advance:
        yield advance


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return table_kind(con, name) is not None


def has_reference(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM municipality_records").fetchone()[0])


def require_incidents(con: duckdb.DuckDBPyConnection, db_path: str | Path) -> None:
    if not has_table(con, "incidents"):
        raise DataError(
            f"{db_path}: not an incident store (no incidents table); import incidents "
            "with `evaluation data import FILE`"
        )


def require_versioned(con: duckdb.DuckDBPyConnection, db_path: str | Path) -> None:
    require_incidents(con, db_path)
    if not is_versioned(con):
        raise DataError(
            f"{db_path}: an incident table without data versions (not written by "
            "`evaluation data import`); import the incidents with `evaluation data import FILE`"
        )


def require_columns(loaded: FileTable, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in loaded.columns]
    if missing:
        raise missing_columns_error(loaded.path, missing, list(loaded.columns))


def insert_quarantine(con: duckdb.DuckDBPyConnection, *, loaded: FileTable, checked: str) -> int:
    """Quarantine the raw values of the rows of `checked` (row, reason) with a reason, unless
    already quarantined for this file content; returns how many were added."""
    raw = ", ".join(
        f"f.{c}" if c in loaded.columns else "''" for c in INCIDENT_COLUMNS
    )
    before = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    con.execute(
        f"INSERT INTO quarantine SELECT ?, ?, f.\"row\", {raw}, c.reason "
        f"FROM {checked} c JOIN {loaded.table} f USING (\"row\") WHERE c.reason <> '' "
        "AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.file_sha256 = ? "
        'AND q."row" = f."row") ORDER BY f."row"',
        [loaded.path.name, loaded.sha256, loaded.sha256],
    )
    return int(con.execute("SELECT count(*) FROM quarantine").fetchone()[0] - before)


def rejects_frame(con: duckdb.DuckDBPyConnection, checked: str) -> pd.DataFrame:
    return con.execute(
        f"SELECT \"row\", incident_id, reason FROM {checked} WHERE reason <> '' ORDER BY \"row\""
    ).df()


# --- import -------------------------------------------------------------------------------------
def import_incidents(
    path: str | Path, *, db_path: str | Path, today: dt.date | None = None
) -> ImportReport:
    """Import an incident file (CSV or Parquet) into the store in one transaction."""
    path = Path(path)
    with stages(path, "importing incidents", 3) as advance, open_for_writing(db_path) as con:
        loaded = load_file_table(con, path, table="_delivered")
        require_columns(loaded, REQUIRED_INCIDENT_COLUMNS)
        ignored = tuple(c for c in loaded.columns if c not in INCIDENT_COLUMNS)
        source = "(SELECT \"row\", " + ", ".join(
            c if c in loaded.columns else f"'' AS {c}" for c in INCIDENT_COLUMNS
        ) + f" FROM {loaded.table})"
        advance()
        attach_store(con, db_path)
        with transaction(con):
            ensure_schema(con)
            version = latest_version(con) + 1
            checked_sql = checked_incidents_sql(
                source, today=today or dt.date.today(), reference=has_reference(con)
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE _checked AS {checked_sql}")
            present = _compare_with_store(con)
            advance()
            quarantined_new = insert_quarantine(con, loaded=loaded, checked="_checked")
            drop_file_table(con, loaded)  # its memory is needed for the insert
            stored_new = _insert_new(con, loaded.path.name, version)
            quarantined = con.execute(
                "SELECT count(*) FROM _checked WHERE reason <> ''"
            ).fetchone()[0]
            if stored_new:
                record_version(
                    con, version=version, kind="incidents", file=loaded.path.name,
                    file_sha256=loaded.sha256, read=loaded.rows, stored=stored_new,
                    present=present, quarantined=quarantined,
                )
            rejects = rejects_frame(con, "_checked")
            mismatches = _name_mismatches(con, version) if stored_new else pd.DataFrame()
            current = latest_version(con)
        advance()
    report = ImportReport(
        file=loaded.path.name, sha256=loaded.sha256, rows_read=loaded.rows, stored_new=stored_new,
        already_present=present, quarantined=int(quarantined), quarantined_new=quarantined_new,
        rejects=rejects, ignored_columns=ignored, version=version if stored_new else None,
        data_version=current, name_mismatches=mismatches,
    )
    if report.stored + report.quarantined != report.rows_read:  # the invariant, even under -O
        raise RuntimeError(
            f"{path}: rows read {report.rows_read} != stored {report.stored} + quarantined "
            f"{report.quarantined}"
        )
    return report


def _compare_with_store(con: duckdb.DuckDBPyConnection) -> int:
    """Mark valid rows already stored (equal to any stored record of their id, so that neither a
    later correction nor a retraction makes the original file conflict) and quarantine the
    others whose id is stored with other values; returns how many were already present."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _known AS "
        "SELECT c.\"row\", bool_or(" + " AND ".join(
            f"coalesce(CAST(r.{col} AS VARCHAR), '') = coalesce(CAST(c.{col} AS VARCHAR), '')"
            for col in INCIDENT_COLUMNS[1:]
        ) + ") AS same FROM _checked c JOIN incident_records r USING (incident_id) "
        "WHERE c.reason = '' GROUP BY c.\"row\""
    )
    con.execute(
        "UPDATE _checked SET reason = 'conflicts with the stored incident: differs in ' || "
        + differences_sql("_checked", "latest")
        + f" FROM _known k, ({incident_history_at(None)}) latest "
        "WHERE k.\"row\" = _checked.\"row\" AND NOT k.same "
        "AND latest.incident_id = _checked.incident_id"
    )
    return int(con.execute("SELECT count(*) FROM _known WHERE same").fetchone()[0])


def _insert_new(con: duckdb.DuckDBPyConnection, file: str, version: int) -> int:
    return int(
        con.execute(
            f"INSERT INTO incident_records SELECT c.incident_id, ?, '{IMPORTED}', c.date, "
            "c.municipality_code, c.municipality, c.target_type, c.outcome, "
            "c.neighbourhood_code, ?, c.\"row\", NULL FROM _checked c "
            "WHERE c.reason = '' AND c.\"row\" NOT IN (SELECT \"row\" FROM _known)",
            [version, file],
        ).fetchone()[0]
    )


def _name_mismatches(con: duckdb.DuckDBPyConnection, version: int) -> pd.DataFrame:
    return con.execute(
        "SELECT r.source_row AS \"row\", r.municipality_code, r.municipality, m.name AS reference "
        "FROM incident_records r JOIN municipalities m ON m.code = r.municipality_code "
        "WHERE r.version = ? AND r.municipality IS NOT NULL "
        "AND lower(r.municipality) <> lower(m.name) ORDER BY r.source_row",
        [version],
    ).df()
