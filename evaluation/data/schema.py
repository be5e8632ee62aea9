"""The incident store's tables, and the data as they stood at any data version.

Nothing in the store is ever updated or deleted. Every change (an import, a correction, a
retraction, a units or municipality-reference import) appends records that carry the number of
the data version that added them, and appends one row to `data_versions`. The data at version N
are therefore a query, not a copy:

* incidents: per incident id, its latest record up to N, unless that record is a retraction;
* units: per municipality and year, the latest population up to N;
* municipalities: the reference list of the latest reference import up to N.

The views `incidents`, `units` and `municipalities` are the latest state; readers use the
`*_at(version)` queries below when they need an older one. A store written before data versions
existed is converted once, in one transaction, into version 1.
"""

from __future__ import annotations

import hashlib
import json

import duckdb

TABLES = """
CREATE TABLE IF NOT EXISTS incident_records (
    incident_id VARCHAR NOT NULL, version INTEGER NOT NULL, kind VARCHAR NOT NULL,
    date DATE NOT NULL, municipality_code VARCHAR NOT NULL, municipality VARCHAR,
    target_type VARCHAR NOT NULL, outcome VARCHAR NOT NULL, neighbourhood_code VARCHAR,
    source_file VARCHAR NOT NULL, source_row BIGINT, note VARCHAR);
CREATE TABLE IF NOT EXISTS unit_records (
    code VARCHAR NOT NULL, name VARCHAR NOT NULL, year INTEGER NOT NULL,
    population BIGINT NOT NULL, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS municipality_records (
    code VARCHAR NOT NULL, name VARCHAR NOT NULL, valid_from DATE, valid_to DATE,
    successor VARCHAR, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (
    file VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, "row" BIGINT NOT NULL,
    incident_id VARCHAR, date VARCHAR, municipality_code VARCHAR, municipality VARCHAR,
    target_type VARCHAR, outcome VARCHAR, neighbourhood_code VARCHAR, reason VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS data_versions (
    version INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL, rows_read BIGINT NOT NULL, rows_stored BIGINT NOT NULL,
    rows_already_present BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL,
    note VARCHAR NOT NULL, sha256 VARCHAR NOT NULL)
"""
# kind of an incident record: the first delivery, a correction (new values) or a retraction
# (the values it retracts, with the reason in `note`)
IMPORTED, CORRECTED, RETRACTED = "import", "correction", "retraction"


def _upto(version: int | None, alias: str = "") -> str:
    column = f"{alias}version" if alias else "version"
    return "TRUE" if version is None else f"{column} <= {int(version)}"


def incident_history_at(version: int | None) -> str:
    """Per incident id its latest record up to `version` (retractions included): SQL text."""
    return (
        "SELECT r.* FROM incident_records r LEFT JOIN (SELECT incident_id, max(version) AS last "
        f"FROM incident_records WHERE kind <> '{IMPORTED}' AND {_upto(version)} "
        "GROUP BY incident_id) c USING (incident_id) "
        f"WHERE {_upto(version, 'r.')} AND (c.last IS NULL OR r.version = c.last)"
    )


def incidents_at(version: int | None) -> str:
    """The incidents as they stood at data version `version` (None: the latest): SQL text.

    An incident is imported once, so its only record of kind 'import' is its first; later
    records are corrections and retractions (few), which keeps this a join against a small table.
    """
    return (
        "SELECT incident_id, date, municipality_code, municipality, target_type, outcome, "
        f"neighbourhood_code, source_file, source_row, version FROM ({incident_history_at(version)}) "
        f"WHERE kind <> '{RETRACTED}'"
    )


def units_at(version: int | None) -> str:
    return (
        f"SELECT code, name, year, population FROM unit_records WHERE {_upto(version)} "
        "QUALIFY row_number() OVER (PARTITION BY code, year ORDER BY version DESC) = 1"
    )


def municipalities_at(version: int | None) -> str:
    return (
        "SELECT code, name, valid_from, valid_to, successor FROM municipality_records "
        "WHERE version = (SELECT max(version) FROM municipality_records "
        f"WHERE {_upto(version)})"
    )


VIEWS = {
    "incidents": incidents_at(None),
    "units": units_at(None),
    "municipalities": municipalities_at(None),
}


def table_kind(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'BASE TABLE', 'VIEW' or None when there is no table of that name."""
    row = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? "
        "AND table_catalog = current_database()",
        [name],
    ).fetchone()
    return row[0] if row else None


def is_versioned(con: duckdb.DuckDBPyConnection) -> bool:
    return table_kind(con, "data_versions") is not None


def needs_conversion(con: duckdb.DuckDBPyConnection) -> bool:
    """A store written before data versions: `incidents` is a table, not the view."""
    return table_kind(con, "incidents") == "BASE TABLE" and not is_versioned(con)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables and views (idempotent); convert a store from before data versions."""
    if is_versioned(con):
        return
    convert = needs_conversion(con)
    for statement in TABLES.split(";"):
        con.execute(statement)
    if convert:
        _convert_unversioned(con)
    for name, sql in VIEWS.items():
        con.execute(f"CREATE VIEW IF NOT EXISTS {name} AS {sql}")


def _convert_unversioned(con: duckdb.DuckDBPyConnection) -> None:
    """Everything an unversioned store held becomes data version 1; nothing is lost."""
    columns = {r[0] for r in con.execute("DESCRIBE incidents").fetchall()}

    def column(name: str, default: str = "NULL") -> str:
        return name if name in columns else default

    con.execute(
        f"INSERT INTO incident_records SELECT incident_id, 1, '{IMPORTED}', date, "
        f"municipality_code, {column('municipality')}, target_type, outcome, "
        f"{column('neighbourhood_code')}, {column('source_file', repr('unknown'))}, "
        f"{column('source_row')}, NULL FROM incidents"
    )
    con.execute("DROP TABLE incidents")
    if table_kind(con, "units") == "BASE TABLE":
        con.execute("INSERT INTO unit_records SELECT code, name, year, population, 1 FROM units")
        con.execute("DROP TABLE units")
    if table_kind(con, "imports") == "BASE TABLE":
        con.execute("DROP TABLE imports")
    for name, sql in VIEWS.items():
        con.execute(f"CREATE VIEW IF NOT EXISTS {name} AS {sql}")
    stored = con.execute("SELECT count(*) FROM incident_records").fetchone()[0]
    record_version(
        con, version=1, kind="conversion", file="", file_sha256="", read=stored, stored=stored,
        present=0, quarantined=0, note="the store before data versions",
    )


# --- the data's hash at a version ---------------------------------------------------------------
# What an analysis can see, row by row as text. The fingerprint of a table is the XOR of its rows'
# MD5 numbers: independent of row order (no sort of a million rows) and computed by DuckDB in
# parallel; rows are unique (one per incident id, code-year or code), so none cancels another.
_ROW_TEXT = {
    "incidents": (
        incidents_at,
        "incident_id, strftime(date, '%Y-%m-%d'), municipality_code, coalesce(municipality, ''), "
        "target_type, outcome, coalesce(neighbourhood_code, '')",
    ),
    "units": (units_at, "code, name, CAST(year AS VARCHAR), CAST(population AS VARCHAR)"),
    "municipalities": (
        municipalities_at,
        "code, name, coalesce(CAST(valid_from AS VARCHAR), ''), "
        "coalesce(CAST(valid_to AS VARCHAR), ''), coalesce(successor, '')",
    ),
}


def state_sha256(con: duckdb.DuckDBPyConnection, version: int | None) -> str:
    """SHA-256 of the data at `version`: equal data give an equal hash, whatever their history."""
    parts = {}
    for name, (query, text) in _ROW_TEXT.items():
        count, fingerprint = con.execute(
            f"SELECT count(*), coalesce(bit_xor(md5_number(concat_ws(chr(31), {text}))), 0) "
            f"FROM ({query(version)})"
        ).fetchone()
        parts[name] = [int(count), str(fingerprint)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def latest_version(con: duckdb.DuckDBPyConnection) -> int:
    """The newest data version (0 for a store without any)."""
    return int(con.execute("SELECT coalesce(max(version), 0) FROM data_versions").fetchone()[0])


def record_version(
    con: duckdb.DuckDBPyConnection, *, version: int, kind: str, file: str, file_sha256: str,
    read: int, stored: int, present: int, quarantined: int, note: str = "",
) -> str:
    """Append data version `version` (whose records are already written); returns its hash."""
    sha = state_sha256(con, version)
    con.execute(
        "INSERT INTO data_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [version, kind, file, file_sha256, read, stored, present, quarantined, note, sha],
    )
    return sha
