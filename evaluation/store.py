"""The incident store: police-registered incidents in an embedded DuckDB file.

Every row of an imported file is accounted for: it is stored, recognised as already stored, or
put in the `quarantine` table with its raw values and the reason(s). An import is one transaction,
so a failure half-way leaves the store as it was. Validation is vectorised (pandas), never a Python
loop per row, so files of a million rows import in seconds.

Tables: `incidents`, `quarantine`, `imports` (a log without wall-clock times, so that nothing in
the store depends on when it was filled) and `units` (population per municipality and year).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.errors import DataError, format_rows
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
UNIT_COLUMNS = ("code", "name", "year", "population")
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


# --- files ------------------------------------------------------------------------------------
def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_table_file(
    path: str | Path, *, as_text: bool, text_columns: Sequence[str] = ()
) -> pd.DataFrame:
    """Read a CSV or Parquet file. `as_text`: every value a stripped string, '' when missing.

    `text_columns` are read as text even when `as_text` is false (codes such as `0363` keep
    their leading zeros); missing values there are NaN.

    CSV files may have old-Mac CR line endings, a UTF-8 byte-order mark, `;` as separator (Dutch
    Excel, then `,` is the decimal mark) and an empty trailing column (a `,` at the end of every
    line); all are handled here so that callers see clean columns.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found; give the path of a .csv or .parquet file")
    if path.suffix.lower() in {".parquet", ".pq"}:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a corrupt file
            raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
        if as_text:
            return _as_text(frame)
        text = [c for c in text_columns if c in frame.columns]
        return frame.assign(**{c: _as_text(frame[[c]])[c].replace("", np.nan) for c in text})
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    header = text.split("\n", 1)[0]
    semicolon = header.count(";") > header.count(",")
    options = {"sep": ";", "decimal": ","} if semicolon else {"sep": ","}
    try:
        if as_text:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, **options)
        else:
            frame = pd.read_csv(
                io.StringIO(text), dtype=dict.fromkeys(text_columns, str), **options
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({str(exc).strip()})") from None
    frame = _drop_empty_unnamed(frame)
    return frame.apply(lambda col: col.str.strip()) if as_text and len(frame.columns) else frame


def _drop_empty_unnamed(frame: pd.DataFrame) -> pd.DataFrame:
    # A trailing separator on every line gives a nameless, empty column ("Unnamed: 16").
    empty = [
        c
        for c in frame.columns
        if str(c).startswith("Unnamed: ") and frame[c].replace("", np.nan).isna().all()
    ]
    return frame.drop(columns=empty)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            # a date(time) column: its calendar date is the incident date
            text = col.dt.strftime("%Y-%m-%d")
        elif len(col) and isinstance(col.dropna().iloc[0] if col.notna().any() else None, dt.date):
            text = col.map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
        else:
            text = col
        out[str(name)] = text.astype(object).where(col.notna(), "").astype(str).str.strip()
    return pd.DataFrame(out, index=frame.index)


def missing_columns_error(path: Path, missing: list[str], present: list[str]) -> DataError:
    import difflib

    hints = []
    for name in missing:
        close = difflib.get_close_matches(name, present, n=1)
        hints.append(f"`{name}`" + (f" (did you mean `{close[0]}`?)" if close else ""))
    return DataError(
        f"{path}: column(s) {', '.join(hints)} missing; the file has columns "
        f"{', '.join(present) or '(none)'}; rename the column in the file or correct the name "
        "you gave"
    )


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
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            con.execute(statement)


def _log_import(
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
        with connect(db_path) as con, _transaction(con):
            _ensure_schema(con)
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
            _log_import(
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
    assert report.stored + report.quarantined == report.rows_read, report
    return report


# --- units (population per municipality and year, for exposure) ------------------------------
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
    with connect(db_path) as con, _transaction(con):
        _ensure_schema(con)
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
        _log_import(
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


def summary(db_path: str | Path) -> dict:
    """Totals per year, per target type and outcome by year, and the top 10 municipalities.

    Years are string keys so that the dict equals its JSON form.
    """
    with connect(db_path, read_only=True) as con:
        require_incidents(con, db_path)
        total, first, last = con.execute(
            "SELECT count(*), min(date), max(date) FROM incidents"
        ).fetchone()
        by_year = con.execute(
            "SELECT year(date) AS y, count(*) FROM incidents GROUP BY y ORDER BY y"
        )
        years = {str(y): int(n) for y, n in by_year.fetchall()}
        breakdown = {}
        for column, values in (
            ("target_type", defaults.TARGET_TYPES),
            ("outcome", defaults.OUTCOMES),
        ):
            rows = con.execute(f"SELECT year(date), {column}, count(*) FROM incidents GROUP BY ALL")
            table = {year: dict.fromkeys(values, 0) for year in years}
            for year, value, count in rows.fetchall():
                table[str(year)][value] = int(count)
            breakdown[column] = table
        top = con.execute(
            f"SELECT municipality_code, {LATEST_NAME}, count(*) AS n "
            "FROM incidents GROUP BY municipality_code ORDER BY n DESC, "
            "municipality_code LIMIT 10"
        ).fetchall()
        quarantined = (
            con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            if has_table(con, "quarantine")
            else 0
        )
        units = (
            con.execute("SELECT count(DISTINCT code), min(year), max(year) FROM units").fetchone()
            if has_table(con, "units")
            else (0, None, None)
        )
    return {
        "store": str(db_path),
        "incidents": int(total),
        "first_date": first.isoformat() if first else None,
        "last_date": last.isoformat() if last else None,
        "by_year": years,
        "by_target_type": breakdown["target_type"],
        "by_outcome": breakdown["outcome"],
        "top_municipalities": [{"code": c, "name": n, "incidents": int(k)} for c, n, k in top],
        "quarantined_rows": int(quarantined),
        "units": {"codes": int(units[0]), "first_year": units[1], "last_year": units[2]},
    }
