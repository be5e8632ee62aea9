"""Corrections and retractions of stored incidents, without losing history.

`evaluation data correct FILE` takes a file with `incident_id` and the columns to change (empty
cells leave a value as it is; an optional `reason` column is kept with each correction).
`evaluation data retract ID... --reason TEXT` withdraws incidents. Both append records and never
change or delete one (`schema`); each run that changes anything is a new data version, so an
analysis of an earlier version still sees the data as they were. Corrected values pass the same
checks as imported ones; a row that fails them is quarantined with its reasons and the rest is
stored, as for an import. Running the same correction again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluation.data.file_table import drop_file_table, load_file_table
from evaluation.data.schema import (
    CORRECTED,
    RETRACTED,
    ensure_schema,
    incident_history_at,
    latest_version,
    record_version,
)
from evaluation.data.store import (
    INCIDENT_COLUMNS,
    ImportReport,
    attach_store,
    has_reference,
    insert_quarantine,
    open_for_writing,
    rejects_frame,
    require_columns,
    stages,
    transaction,
)
from evaluation.data.validation import checked_incidents_sql, differences_sql
from evaluation.errors import DataError, format_rows

VALUE_COLUMNS = INCIDENT_COLUMNS[1:]
REASON_COLUMN = "reason"


def correct_incidents(
    path: str | Path, *, db_path: str | Path, today: dt.date | None = None
) -> ImportReport:
    """Apply a correction file; `stored_new` counts corrected incidents, `already_present` rows
    whose values are already the stored ones."""
    path = Path(path)
    _require_store(db_path)
    with stages(path, "correcting incidents", 2) as advance, open_for_writing(db_path) as con:
        loaded = load_file_table(con, path, table="_corrections")
        require_columns(loaded, ("incident_id",))
        given = [c for c in VALUE_COLUMNS if c in loaded.columns]
        if not given:
            raise DataError(
                f"{path}: no column to correct; give `incident_id` and one or more of "
                f"{', '.join(VALUE_COLUMNS)} (and optionally `{REASON_COLUMN}`)"
            )
        ignored = tuple(
            c for c in loaded.columns if c not in INCIDENT_COLUMNS and c != REASON_COLUMN
        )
        attach_store(con, db_path)
        with transaction(con):
            ensure_schema(con)
            version = latest_version(con) + 1
            con.execute(f"CREATE OR REPLACE TEMP TABLE _merged AS {_merged_sql(loaded, given)}")
            checked = checked_incidents_sql(
                "_merged", today=today or dt.date.today(), reference=has_reference(con)
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE _checked AS {checked}")
            _reject_unknown_and_retracted(con)
            advance()
            note = f"f.{REASON_COLUMN}" if REASON_COLUMN in loaded.columns else "''"
            unchanged = con.execute(
                "SELECT count(*) FROM _checked c JOIN _merged m USING (\"row\") "
                f"JOIN ({incident_history_at(None)}) h ON h.incident_id = c.incident_id "
                f"WHERE c.reason = '' AND {differences_sql('c', 'h')} = ''"
            ).fetchone()[0]
            quarantined_new = insert_quarantine(con, loaded=loaded, checked="_checked")
            corrected = con.execute(
                f"INSERT INTO incident_records SELECT c.incident_id, ?, '{CORRECTED}', c.date, "
                "c.municipality_code, c.municipality, c.target_type, c.outcome, "
                f"c.neighbourhood_code, ?, c.\"row\", nullif({note}, '') FROM _checked c "
                f"JOIN {loaded.table} f USING (\"row\") "
                f"JOIN ({incident_history_at(None)}) h ON h.incident_id = c.incident_id "
                f"WHERE c.reason = '' AND {differences_sql('c', 'h')} <> ''",
                [version, path.name],
            ).fetchone()[0]
            quarantined = con.execute(
                "SELECT count(*) FROM _checked WHERE reason <> ''"
            ).fetchone()[0]
            if corrected:
                record_version(
                    con, version=version, kind="correction", file=path.name,
                    file_sha256=loaded.sha256, read=loaded.rows, stored=int(corrected),
                    present=int(unchanged), quarantined=int(quarantined),
                )
            rejects = rejects_frame(con, "_checked")
            drop_file_table(con, loaded)
            current = latest_version(con)
        advance()
    report = ImportReport(
        file=path.name, sha256=loaded.sha256, rows_read=loaded.rows, stored_new=int(corrected),
        already_present=int(unchanged), quarantined=int(quarantined),
        quarantined_new=quarantined_new, rejects=rejects, ignored_columns=ignored,
        version=version if corrected else None, data_version=current,
    )
    if report.stored + report.quarantined != report.rows_read:  # every row accounted for
        raise RuntimeError(
            f"{path}: rows read {report.rows_read} != corrected or unchanged {report.stored} + "
            f"quarantined {report.quarantined}"
        )
    return report


def _merged_sql(loaded, given: Sequence[str]) -> str:
    """Each correction row with the stored values filled in where it leaves a cell empty."""
    def value(column: str) -> str:
        stored = (
            "coalesce(strftime(h.date, '%Y-%m-%d'), '')"
            if column == "date"
            else f"coalesce(h.{column}, '')"
        )
        if column not in given:
            return f"{stored} AS {column}"
        return f"CASE WHEN f.{column} <> '' THEN f.{column} ELSE {stored} END AS {column}"

    return (
        "SELECT f.\"row\", f.incident_id, "
        + ", ".join(value(c) for c in VALUE_COLUMNS)
        + ", h.incident_id IS NOT NULL AS known, h.kind AS stored_kind, "
        "h.version AS stored_version "
        f"FROM {loaded.table} f LEFT JOIN ({incident_history_at(None)}) h "
        "ON h.incident_id = f.incident_id"
    )


def _reject_unknown_and_retracted(con) -> None:
    # one clear reason instead of a list of 'missing' values that were never there
    con.execute(
        "UPDATE _checked SET reason = CASE WHEN NOT m.known THEN "
        "'incident_id: not in the store; import the incident first (`evaluation data import`)' "
        "ELSE 'incident_id: retracted in data version ' || m.stored_version || "
        "'; a retracted incident is not corrected' END "
        "FROM _merged m WHERE m.\"row\" = _checked.\"row\" AND _checked.incident_id <> '' "
        f"AND (NOT m.known OR m.stored_kind = '{RETRACTED}')"
    )


@dataclass(frozen=True)
class RetractionReport:
    requested: int
    retracted: int
    already_retracted: int
    version: int | None  # the data version this retraction created; None: nothing changed
    data_version: int


def retract_incidents(
    ids: Sequence[str], *, reason: str, db_path: str | Path
) -> RetractionReport:
    """Retract stored incidents (all or none: an unknown id stops it with nothing retracted)."""
    reason = reason.strip()
    if not reason:
        raise DataError("--reason: say why the incidents are retracted (it is kept with them)")
    wanted = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not wanted:
        raise DataError("give the incident id(s) to retract, e.g. `evaluation data retract "
                        "I0001 I0002 --reason \"duplicate registration\"`")
    _require_store(db_path)
    with open_for_writing(db_path) as con:
        con.register("_retract", pd.DataFrame({"incident_id": wanted}))
        attach_store(con, db_path)
        with transaction(con):
            ensure_schema(con)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _latest AS SELECT h.* FROM _retract r JOIN "
                f"({incident_history_at(None)}) h USING (incident_id)"
            )
            found = {i for (i,) in con.execute("SELECT incident_id FROM _latest").fetchall()}
            unknown = [i for i in wanted if i not in found]
            if unknown:
                raise DataError(
                    f"incident id(s) {format_rows(unknown)} are not in the store {db_path}; "
                    "check the ids (nothing was retracted)"
                )
            version = latest_version(con) + 1
            retracted = con.execute(
                f"INSERT INTO incident_records SELECT incident_id, ?, '{RETRACTED}', date, "
                "municipality_code, municipality, target_type, outcome, neighbourhood_code, "
                f"source_file, source_row, ? FROM _latest WHERE kind <> '{RETRACTED}'",
                [version, reason],
            ).fetchone()[0]
            if retracted:
                ids_sha = hashlib.sha256("\n".join(sorted(wanted)).encode()).hexdigest()
                record_version(
                    con, version=version, kind="retraction", file="", file_sha256=ids_sha,
                    read=len(wanted), stored=int(retracted), present=len(wanted) - retracted,
                    quarantined=0, note=reason,
                )
            current = latest_version(con)
    return RetractionReport(
        requested=len(wanted), retracted=int(retracted),
        already_retracted=len(wanted) - int(retracted),
        version=version if retracted else None, data_version=current,
    )


def _require_store(db_path: str | Path) -> None:
    if not Path(db_path).is_file():
        raise DataError(
            f"{db_path}: no incident store here; import incidents first with "
            "`evaluation data import FILE` (or point --db / EVALUATION_DB at the store)"
        )
