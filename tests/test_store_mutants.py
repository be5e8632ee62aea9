"""The incident store and its row checks read line by line (issue 22: the survivors of the mutation
run of 2026-12-08). Every expectation is a literal: the reasons, the quarantined raw values, the
data-version counts and the messages are spelled out in full; file hashes are computed here with
hashlib over the file's bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from evaluation.data import store
from evaluation.data.municipalities import import_municipalities
from evaluation.errors import DataError

TODAY = dt.date(2025, 6, 30)  # the last plausible date is TODAY + 1 day: 2025-07-01
COLUMNS = ["incident_id", "date", "municipality_code", "municipality", "target_type", "outcome",
           "neighbourhood_code"]
GOOD = {"incident_id": "", "date": "2024-03-01", "municipality_code": "GM0363", "municipality": "",
        "target_type": "woning", "outcome": "explosie", "neighbourhood_code": ""}


def csv(path: Path, rows: list[dict[str, str]], columns=COLUMNS) -> Path:
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def row(incident_id: str, **changes: str) -> dict[str, str]:
    return {**GOOD, "incident_id": incident_id, **changes}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# (row as delivered, its reason; '' for a row that is stored)
CASES = [
    (row("A1"), ""),
    (row("A1", date="2024-03-02"), "incident_id: duplicate of row 1"),
    (row(""), "incident_id: missing"),
    (row("A3", date=""), "date: missing"),
    (row("A4", date="2024-02-30"), "date: not a real date in YYYY-MM-DD form"),
    (row("A5", date="2024-3-01"), "date: not a real date in YYYY-MM-DD form"),
    (row("A6", date="1989-12-31"), "date: before 1990-01-01, implausible for this register; check the year"),
    (row("A7", date="1990-01-01"), ""),  # the first plausible date
    (row("A8", date="2025-07-01"), ""),  # the last: one day ahead of today (another time zone)
    (row("A9", date="2025-07-02"), "date: after 2025-07-01, in the future; check the date"),
    (row("B1", municipality_code=""), "municipality_code: missing"),
    (row("B2", municipality_code="gm0363"), "municipality_code: not GM + 4 digits"),
    (row("B3", municipality_code="GM03631"), "municipality_code: not GM + 4 digits"),
    (row("B4", target_type=""), "target_type: missing"),
    (row("B5", target_type="boot"), "target_type: unknown value (allowed: woning, bedrijf, voertuig, overig)"),
    (row("B6", target_type="VOERTUIG"), ""),
    (row("B7", outcome="brand"), "outcome: unknown value (allowed: explosie, poging)"),
    (row("B8", outcome=""), "outcome: missing"),
    (row("B9", neighbourhood_code="BU1234567"), "neighbourhood_code: not BU + 8 digits"),
    (row("C1", neighbourhood_code="BU12345678"), ""),
    (row("C2", date="", outcome="Boem", neighbourhood_code="X"),
     "date: missing; outcome: unknown value (allowed: explosie, poging); neighbourhood_code: not BU + 8 digits"),
]


def test_every_reason_in_full_and_the_raw_values_kept(tmp_path):
    db = tmp_path / "s.duckdb"
    path = csv(tmp_path / "in.csv", [case for case, _ in CASES])
    report = store.import_incidents(path, db_path=db, today=TODAY)
    bad = [(number, case["incident_id"], reason) for number, (case, reason) in enumerate(CASES, start=1) if reason]
    assert report.rejects.values.tolist() == [list(b) for b in bad]
    assert (report.file, report.sha256) == ("in.csv", sha256_of(path))
    assert list(report.rejects.columns) == ["row", "incident_id", "reason"]
    assert (report.rows_read, report.stored_new, report.already_present, report.quarantined,
            report.quarantined_new, report.version, report.data_version) == (21, 5, 0, 16, 16, 1, 1)
    sha = sha256_of(path)
    assert query(db, 'SELECT * FROM quarantine WHERE "row" IN (2, 21) ORDER BY "row"') == [
        ("in.csv", sha, 2, "A1", "2024-03-02", "GM0363", "", "woning", "explosie", "", "incident_id: duplicate of row 1"),
        ("in.csv", sha, 21, "C2", "", "GM0363", "", "woning", "Boem", "X", CASES[-1][1])]
    assert query(db, "SELECT incident_id, strftime(date, '%Y-%m-%d'), target_type, neighbourhood_code "
                     "FROM incidents ORDER BY incident_id") == [
        ("A1", "2024-03-01", "woning", None), ("A7", "1990-01-01", "woning", None),
        ("A8", "2025-07-01", "woning", None), ("B6", "2024-03-01", "voertuig", None),
        ("C1", "2024-03-01", "woning", "BU12345678")]
    assert query(db, "SELECT incident_id, version, kind, source_file, source_row, note FROM incident_records "
                     "ORDER BY source_row") == [
        ("A1", 1, "import", "in.csv", 1, None), ("A7", 1, "import", "in.csv", 8, None),
        ("A8", 1, "import", "in.csv", 9, None), ("B6", 1, "import", "in.csv", 16, None),
        ("C1", 1, "import", "in.csv", 20, None)]
    assert query(db, "SELECT version, kind, file, file_sha256, rows_read, rows_stored, rows_already_present, "
                     "rows_quarantined, note FROM data_versions") == [
        (1, "incidents", "in.csv", sha, 21, 5, 0, 16, "")]


def test_codes_outside_the_reference_and_names_that_differ_from_it(tmp_path):
    db = tmp_path / "s.duckdb"
    csv(tmp_path / "m.csv", [{"code": "GM0363", "name": "Amsterdam", "valid_from": "", "valid_to": "",
                              "successor": ""}], columns=["code", "name", "valid_from", "valid_to", "successor"])
    import_municipalities(tmp_path / "m.csv", db_path=db)
    rows = [row("R1", municipality="Mokum"), row("R2", municipality="AMSTERDAM"), row("R3"),
            row("R4", municipality_code="GM0599", municipality="Rotterdam")]
    report = store.import_incidents(csv(tmp_path / "in.csv", rows), db_path=db, today=TODAY)
    assert report.rejects.values.tolist() == [
        [4, "R4", "municipality_code: GM0599 is not in the municipality reference; correct the code, or import "
                  "a municipality reference that lists it (`evaluation data municipalities FILE`)"]]
    # the names are compared without regard to case; a missing name is no mismatch
    assert list(report.name_mismatches.columns) == ["row", "municipality_code", "municipality", "reference"]
    assert report.name_mismatches.values.tolist() == [[1, "GM0363", "Mokum", "Amsterdam"]]
    assert (report.version, report.data_version) == (2, 2)  # version 1: the reference
    again = store.import_incidents(csv(tmp_path / "more.csv", [row("R5", municipality="Mokum")]), db_path=db,
                                   today=TODAY)
    assert again.name_mismatches.values.tolist() == [[1, "GM0363", "Mokum", "Amsterdam"]]  # this version's only


def test_a_conflict_names_every_field_that_differs_and_the_second_version_counts_it(tmp_path):
    db = tmp_path / "s.duckdb"
    first = [row("K1", municipality="Amsterdam"), row("K2"), row("K3", neighbourhood_code="BU03630001"),
             row("K6")]
    store.import_incidents(csv(tmp_path / "a.csv", first), db_path=db, today=TODAY)
    second = [row("K1", date="2024-03-02", municipality="", outcome="poging", neighbourhood_code="BU03630002"),
              row("K2"), row("K3", municipality_code="GM0599", target_type="Bedrijf", neighbourhood_code=""),
              row("K4"), row("K5", outcome="boem"), row("K6", date="2024-03-03")]
    path = csv(tmp_path / "b.csv", second)
    report = store.import_incidents(path, db_path=db, today=TODAY)
    assert report.rejects.values.tolist() == [
        [1, "K1", "conflicts with the stored incident: differs in date (stored 2024-03-01), municipality "
                  "(stored Amsterdam), outcome (stored explosie), neighbourhood_code (stored empty)"],
        [3, "K3", "conflicts with the stored incident: differs in municipality_code (stored GM0363), "
                  "target_type (stored woning), neighbourhood_code (stored BU03630001)"],
        [5, "K5", "outcome: unknown value (allowed: explosie, poging)"],
        [6, "K6", "conflicts with the stored incident: differs in date (stored 2024-03-01)"]]
    assert (report.rows_read, report.stored_new, report.already_present, report.quarantined,
            report.quarantined_new, report.version, report.data_version) == (6, 1, 1, 4, 4, 2, 2)
    assert query(db, "SELECT version, kind, file, file_sha256, rows_read, rows_stored, rows_already_present, "
                     "rows_quarantined, note FROM data_versions WHERE version = 2") == [
        (2, "incidents", "b.csv", sha256_of(path), 6, 1, 1, 4, "")]
    assert query(db, "SELECT incident_id, strftime(date, '%Y-%m-%d'), outcome FROM incidents "
                     "ORDER BY incident_id") == [
        ("K1", "2024-03-01", "explosie"), ("K2", "2024-03-01", "explosie"), ("K3", "2024-03-01", "explosie"),
        ("K4", "2024-03-01", "explosie"), ("K6", "2024-03-01", "explosie")]


def test_the_same_content_under_another_name_is_quarantined_once(tmp_path):
    db = tmp_path / "s.duckdb"
    rows = [row("Q1"), row("Q2", outcome="boem")]
    store.import_incidents(csv(tmp_path / "a.csv", rows), db_path=db, today=TODAY)
    again = store.import_incidents(csv(tmp_path / "b.csv", rows), db_path=db, today=TODAY)
    assert (again.stored_new, again.already_present, again.quarantined, again.quarantined_new,
            again.version, again.data_version) == (0, 1, 1, 0, None, 1)
    assert query(db, 'SELECT file, "row" FROM quarantine') == [("a.csv", 2)]


def test_unknown_columns_are_ignored_and_a_missing_name_column_is_quarantined_as_empty(tmp_path):
    db = tmp_path / "s.duckdb"
    columns = ["incident_id", "date", "municipality_code", "target_type", "outcome", "neighbourhood_code",
               "notes", "extra"]
    rows = [{**row("N1"), "notes": "x", "extra": "y"}, {**row("N2", outcome="boem"), "notes": "", "extra": ""}]
    path = csv(tmp_path / "in.csv", rows, columns=columns)
    report = store.import_incidents(path, db_path=db, today=TODAY)
    assert report.ignored_columns == ("notes", "extra")
    assert query(db, "SELECT * FROM quarantine") == [
        ("in.csv", sha256_of(path), 2, "N2", "2024-03-01", "GM0363", "", "woning", "boem", "",
         "outcome: unknown value (allowed: explosie, poging)")]
    assert query(db, "SELECT incident_id, municipality FROM incidents") == [("N1", None)]


# --- connections ----------------------------------------------------------------------------------
def test_a_missing_store_is_not_created_by_a_reader(tmp_path):
    db = tmp_path / "none" / "s.duckdb"
    with pytest.raises(DataError) as caught, store.connect(db, read_only=True):
        pass
    assert str(caught.value) == (f"{db}: no incident store here; import incidents first with `evaluation data "
                                 "import FILE` (or point --db / EVALUATION_DB at the store)")
    assert not db.parent.exists()


def test_a_reader_cannot_write(tmp_path):
    db = tmp_path / "s.duckdb"
    store.import_incidents(csv(tmp_path / "in.csv", [row("W1")]), db_path=db, today=TODAY)
    with store.connect(db, read_only=True) as con:
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("CREATE TABLE x (a INTEGER)")
    with store.connect(db) as con:  # a writer can
        con.execute("CREATE TABLE x (a INTEGER)")


def test_a_file_that_is_not_a_store_is_named(tmp_path):
    db = tmp_path / "s.duckdb"
    db.write_bytes(b"not a database" * 512)
    with pytest.raises(DataError) as caught, store.connect(db):
        pass
    assert str(caught.value).startswith(f"{db}: cannot open the incident store (")
    with pytest.raises(DataError) as caught, store.open_for_writing(db) as con:
        store.attach_store(con, db)
    assert str(caught.value).startswith(f"{db}: cannot open the incident store (")


def test_a_store_path_with_a_quote(tmp_path):
    db = tmp_path / "o'brien" / "new" / "s.duckdb"  # folders made as needed
    report = store.import_incidents(csv(tmp_path / "in.csv", [row("O1")]), db_path=db, today=TODAY)
    assert report.stored_new == 1 and query(db, "SELECT incident_id FROM incidents") == [("O1",)]


def test_the_writing_connection_spills_beside_the_store_within_its_memory_limit(tmp_path):
    db = tmp_path / "s.duckdb"
    with store.open_for_writing(db) as con:
        settings = con.execute("SELECT current_setting('temp_directory'), current_setting('memory_limit'), "
                               "current_setting('enable_progress_bar')").fetchone()
    # 200 MB = 200e6 bytes = 190.7 MiB, as DuckDB shows a limit
    assert settings == (str(tmp_path / "s.duckdb.tmp"), "190.7 MiB", False)
    assert not db.exists()  # nothing is created before the store is attached


class RefusingConnection:
    def __init__(self, message):
        self.message = message

    def execute(self, sql):
        raise duckdb.InvalidInputException(self.message)


def test_only_the_missing_ipywidgets_refusal_is_harmless():
    store._without_progress_bar(RefusingConnection("required package 'ipywidgets' is missing"))
    with pytest.raises(duckdb.InvalidInputException, match="something else"):
        store._without_progress_bar(RefusingConnection("something else"))


def test_require_an_incident_table_and_data_versions(tmp_path):
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    try:
        with pytest.raises(DataError) as caught:
            store.require_versioned(con, "x.duckdb")
        assert str(caught.value) == ("x.duckdb: not an incident store (no incidents table); import incidents with "
                                     "`evaluation data import FILE`")
        con.execute("CREATE VIEW incidents AS SELECT 1 AS a")
        with pytest.raises(DataError) as caught:
            store.require_versioned(con, "x.duckdb")
        assert str(caught.value) == ("x.duckdb: an incident table without data versions (not written by "
                                     "`evaluation data import`); import the incidents with `evaluation data "
                                     "import FILE`")
        assert store.has_table(con, "incidents") and not store.has_table(con, "units")
    finally:
        con.close()


# --- validation helpers ---------------------------------------------------------------------------
def test_sql_text_quotes_are_doubled():
    from evaluation.data.validation import _text
    assert _text("it's") == "'it''s'"
    con = duckdb.connect()
    try:
        assert con.execute("SELECT " + _text("O'Neil's")).fetchone()[0] == "O'Neil's"
    finally:
        con.close()


def test_plausible_dates():
    from evaluation.data.validation import plausible_dates
    assert plausible_dates(dt.date(2025, 12, 31)) == (dt.date(1990, 1, 1), dt.date(2026, 1, 1))


# --- import_incidents: defaults, progress, the invariant --------------------------------------------
def test_without_today_the_dates_are_judged_against_the_real_today(tmp_path):
    today = dt.date.today()
    tomorrow, later = today + dt.timedelta(days=1), today + dt.timedelta(days=2)
    rows = [row("T1", date=tomorrow.isoformat()), row("T2", date=later.isoformat())]
    report = store.import_incidents(csv(tmp_path / "in.csv", rows), db_path=tmp_path / "s.duckdb")
    assert report.rejects.values.tolist() == [
        [2, "T2", f"date: after {tomorrow.isoformat()}, in the future; check the date"]]


def test_a_progress_bar_from_the_size_limit_on(tmp_path, monkeypatch):
    from contextlib import contextmanager

    from evaluation import defaults

    shown = []

    @contextmanager
    def bar(description, steps):
        shown.append([description, steps, 0])
        yield lambda: shown[-1].__setitem__(2, shown[-1][2] + 1)

    monkeypatch.setattr(store, "progress_bar", bar)
    path = csv(tmp_path / "in.csv", [row("P1")])
    size = path.stat().st_size
    monkeypatch.setattr(defaults, "IMPORT_PROGRESS_BYTES", size + 1)
    store.import_incidents(path, db_path=tmp_path / "a.duckdb", today=TODAY)
    assert shown == []  # a file below the limit: no bar
    monkeypatch.setattr(defaults, "IMPORT_PROGRESS_BYTES", size)
    store.import_incidents(path, db_path=tmp_path / "b.duckdb", today=TODAY)
    assert shown == [["importing incidents from in.csv", 3, 3]]  # three steps, each advanced once


def test_rows_that_go_missing_stop_the_import(tmp_path, monkeypatch):
    real = store._insert_new
    monkeypatch.setattr(store, "_insert_new", lambda con, file, version: real(con, file, version) + 1)
    path = csv(tmp_path / "in.csv", [row("M1"), row("M2", outcome="boem")])
    with pytest.raises(RuntimeError) as caught:
        store.import_incidents(path, db_path=tmp_path / "s.duckdb", today=TODAY)
    assert str(caught.value) == f"{path}: rows read 2 != stored 2 + quarantined 1"


def test_a_failure_inside_a_transaction_rolls_it_back(tmp_path):
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (a INTEGER)")
        with pytest.raises(KeyboardInterrupt), store.transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
            raise KeyboardInterrupt  # any exception, not only errors
        with store.transaction(con):
            con.execute("INSERT INTO t VALUES (2)")
        assert con.execute("SELECT a FROM t").fetchall() == [(2,)]
    finally:
        con.close()


def test_a_missing_column_is_named_with_the_file(tmp_path):
    columns = ["incident_id", "date", "municipality_code", "target_type", "outcom"]
    path = csv(tmp_path / "in.csv", [{"incident_id": "X", "date": "2024-03-01", "municipality_code": "GM0363",
                                      "target_type": "woning", "outcom": "poging"}], columns=columns)
    with pytest.raises(DataError) as caught:
        store.import_incidents(path, db_path=tmp_path / "s.duckdb", today=TODAY)
    assert str(caught.value) == (f"{path}: column(s) `outcome` (did you mean `outcom`?) missing; the file has "
                                 "columns incident_id, date, municipality_code, target_type, outcom; rename the "
                                 "column in the file or correct the name you gave")


OLD_STORE = """
CREATE TABLE incidents (incident_id VARCHAR, date DATE, municipality_code VARCHAR, municipality VARCHAR,
    target_type VARCHAR, outcome VARCHAR, neighbourhood_code VARCHAR, source_file VARCHAR, source_row BIGINT);
INSERT INTO incidents VALUES ('E1', DATE '2024-03-01', 'GM0363', '', 'woning', 'explosie', '', 'old.csv', 1);
"""


def test_an_empty_name_or_neighbourhood_stored_as_text_is_missing_like_null(tmp_path):
    """A store from before data versions may hold '' where an import stores NULL: both are
    missing, neither is a difference."""
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(OLD_STORE)
    con.close()
    report = store.import_incidents(csv(tmp_path / "in.csv", [row("E1", outcome="poging"), row("E1")]),
                                    db_path=db, today=TODAY)
    assert report.rejects.values.tolist() == [
        [1, "E1", "conflicts with the stored incident: differs in outcome (stored explosie)"],
        [2, "E1", "incident_id: duplicate of row 1"]]
    again = store.import_incidents(csv(tmp_path / "same.csv", [row("E1")]), db_path=db, today=TODAY)
    assert (again.already_present, again.quarantined) == (1, 0)
