"""Corrections, retractions and data versions: nothing is lost, every state can be recovered."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from evaluation.data import panel, store, versions
from evaluation.data import summary as store_summary
from evaluation.data.corrections import correct_incidents, retract_incidents
from evaluation.data.tables import file_sha256
from evaluation.errors import DataError

TODAY = dt.date(2025, 6, 30)
COLUMNS = list(store.INCIDENT_COLUMNS)


def rows(n: int, prefix: str = "I") -> list[dict[str, str]]:
    return [
        {
            "incident_id": f"{prefix}{i}",
            "date": f"2024-03-{1 + i % 28:02d}",
            "municipality_code": "GM0363" if i % 2 else "GM0599",
            "municipality": "",
            "target_type": "woning",
            "outcome": "explosie",
            "neighbourhood_code": "",
        }
        for i in range(n)
    ]


def write(tmp_path, name: str, frame_rows, columns=None):
    path = tmp_path / name
    pd.DataFrame(frame_rows, columns=columns).to_csv(path, index=False)
    return path


def current(db) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT * FROM incidents ORDER BY incident_id").df()
    finally:
        con.close()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.duckdb"
    store.import_incidents(write(tmp_path, "in.csv", rows(6)), db_path=path, today=TODAY)
    return path


def test_correction_is_a_new_version_and_the_old_one_stays(tmp_path, db):
    before = current(db)
    fix = write(tmp_path, "fix.csv", [
        {"incident_id": "I1", "outcome": "poging", "reason": "police report 12"},
        {"incident_id": "I2", "date": "2024-04-01", "reason": ""},
    ])
    report = correct_incidents(fix, db_path=db, today=TODAY)
    assert (report.stored_new, report.already_present, report.quarantined) == (2, 0, 0)
    assert (report.version, report.data_version) == (2, 2)
    after = current(db).set_index("incident_id")
    assert after.loc["I1", "outcome"] == "poging" and after.loc["I1", "date"].date().isoformat() == "2024-03-02"
    assert after.loc["I2", "date"].date() == dt.date(2024, 4, 1)
    assert (after.loc["I1", "source_file"], after.loc["I1", "source_row"]) == ("fix.csv", 1)
    # the old version is still there, value for value
    con = duckdb.connect(str(db), read_only=True)
    from evaluation.data.schema import incidents_at

    old = con.execute(f"SELECT * FROM ({incidents_at(1)}) ORDER BY incident_id").df()
    notes = con.execute("SELECT note FROM incident_records WHERE kind = 'correction' "
                        "ORDER BY incident_id").fetchall()
    con.close()
    pd.testing.assert_frame_equal(old, before)
    assert notes == [("police report 12",), (None,)]
    # the same correction again changes nothing
    again = correct_incidents(fix, db_path=db, today=TODAY)
    assert (again.stored_new, again.already_present, again.version) == (0, 2, None)
    # and re-importing the original file neither conflicts nor undoes the correction
    reimport = store.import_incidents(tmp_path / "in.csv", db_path=db, today=TODAY)
    assert (reimport.already_present, reimport.quarantined, reimport.version) == (6, 0, None)
    assert current(db).set_index("incident_id").loc["I1", "outcome"] == "poging"


def test_bad_correction_rows_are_quarantined_the_rest_applied(tmp_path, db):
    fix = write(tmp_path, "fix.csv", [
        {"incident_id": "I1", "outcome": "boem", "date": ""},
        {"incident_id": "NOPE", "outcome": "poging", "date": ""},
        {"incident_id": "I3", "outcome": "", "date": "1850-01-01"},
        {"incident_id": "I4", "outcome": "poging", "date": ""},
    ])
    report = correct_incidents(fix, db_path=db, today=TODAY)
    assert (report.rows_read, report.stored_new, report.quarantined) == (4, 1, 3)
    reasons = dict(zip(report.rejects["row"], report.rejects["reason"], strict=True))
    assert reasons[1].startswith("outcome: unknown value")
    assert reasons[2] == ("incident_id: not in the store; import the incident first "
                          "(`evaluation data import`)")
    assert reasons[3].startswith("date: before 1990-01-01")
    assert current(db).set_index("incident_id").loc["I4", "outcome"] == "poging"


def test_correction_file_without_values_is_refused_whole(tmp_path, db):
    with pytest.raises(DataError, match="no column to correct"):
        correct_incidents(write(tmp_path, "fix.csv", [{"incident_id": "I1"}]), db_path=db)
    with pytest.raises(DataError, match="`incident_id`"):
        correct_incidents(write(tmp_path, "fix2.csv", [{"id": "I1", "outcome": "poging"}]),
                          db_path=db)


def test_retraction_all_or_nothing_idempotent_and_versioned(tmp_path, db):
    with pytest.raises(DataError) as err:
        retract_incidents(["I1", "X9"], reason="double registration", db_path=db)
    assert "X9" in str(err.value) and "nothing was retracted" in str(err.value)
    with pytest.raises(DataError, match="--reason"):
        retract_incidents(["I1"], reason="  ", db_path=db)
    report = retract_incidents(["I1", "I2", "I1"], reason="double registration", db_path=db)
    assert (report.requested, report.retracted, report.version) == (2, 2, 2)
    assert sorted(current(db)["incident_id"]) == ["I0", "I3", "I4", "I5"]
    again = retract_incidents(["I2"], reason="double registration", db_path=db)
    assert (again.retracted, again.already_retracted, again.version) == (0, 1, None)
    # re-importing the original file does not bring a retracted incident back
    reimport = store.import_incidents(tmp_path / "in.csv", db_path=db, today=TODAY)
    assert (reimport.stored_new, reimport.already_present, reimport.quarantined) == (0, 6, 0)
    assert len(current(db)) == 4
    # a retracted incident is not corrected
    fix = write(tmp_path, "fix.csv", [{"incident_id": "I1", "outcome": "poging"}])
    assert "retracted in data version 2" in correct_incidents(fix, db_path=db).rejects.loc[0, "reason"]
    summary = store_summary.summary(db)
    assert (summary["incidents"], summary["retractions"]) == (4, 2)


def test_history_lists_every_version_and_older_versions_give_the_older_panel(tmp_path, db):
    retract_incidents(["I1"], reason="double", db_path=db)
    correct_incidents(write(tmp_path, "fix.csv", [{"incident_id": "I3", "date": "2024-05-10"}]),
                      db_path=db, today=TODAY)
    log = versions.history(db)
    assert [(v["version"], v["kind"], v["file"], v["rows_stored"]) for v in log] == [
        (1, "incidents", "in.csv", 6), (2, "retraction", "", 1), (3, "correction", "fix.csv", 1)]
    assert log[0]["file_sha256"] == file_sha256(tmp_path / "in.csv") and log[1]["note"] == "double"
    assert len({v["sha256"] for v in log}) == 3
    assert versions.verify_versions(db, every=True).ok

    def monthly(version):
        frame = panel.build_store_panel(db, frequency="month", start="2024-03-01",
                                        end="2024-05-31", version=version)
        return frame.groupby("period")["y"].sum().tolist(), frame.attrs["data_version"]

    assert monthly(1) == ([6.0, 0.0, 0.0], {"number": 1, "sha256": log[0]["sha256"]})
    assert monthly(2)[0] == [5.0, 0.0, 0.0]
    assert monthly(None) == ([4.0, 0.0, 1.0], {"number": 3, "sha256": log[2]["sha256"]})
    assert panel.store_cutoff(db, version=1) == dt.date(2024, 3, 6)
    with pytest.raises(DataError, match="has versions 1 to 3"):
        panel.store_cutoff(db, version=4)


def test_a_store_changed_outside_evaluation_fails_the_hash_check(db):
    con = duckdb.connect(str(db))
    con.execute("UPDATE incident_records SET outcome = 'poging' WHERE incident_id = 'I0'")
    con.close()
    check = versions.verify_versions(db)
    assert not check.ok and check.mismatches[0].startswith("version 1: recorded")


def test_equal_data_give_an_equal_hash_whatever_their_history(tmp_path, db):
    fix = write(tmp_path, "fix.csv", [{"incident_id": "I1", "outcome": "poging"}])
    back = write(tmp_path, "back.csv", [{"incident_id": "I1", "outcome": "explosie"}])
    correct_incidents(fix, db_path=db, today=TODAY)
    correct_incidents(back, db_path=db, today=TODAY)
    hashes = [v["sha256"] for v in versions.history(db)]
    assert hashes[0] == hashes[2] != hashes[1]


OLD_SCHEMA = """
CREATE TABLE incidents (
    incident_id VARCHAR PRIMARY KEY, date DATE NOT NULL, municipality_code VARCHAR NOT NULL,
    municipality VARCHAR NOT NULL, target_type VARCHAR NOT NULL, outcome VARCHAR NOT NULL,
    neighbourhood_code VARCHAR, source_file VARCHAR NOT NULL, source_row BIGINT NOT NULL);
CREATE TABLE quarantine (
    file VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, "row" BIGINT NOT NULL,
    incident_id VARCHAR, date VARCHAR, municipality_code VARCHAR, municipality VARCHAR,
    target_type VARCHAR, outcome VARCHAR, neighbourhood_code VARCHAR, reason VARCHAR NOT NULL);
CREATE TABLE imports (
    import_no INTEGER NOT NULL, kind VARCHAR NOT NULL, file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL, rows_read BIGINT NOT NULL, rows_stored BIGINT NOT NULL,
    rows_already_present BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL);
CREATE TABLE units (code VARCHAR NOT NULL, name VARCHAR NOT NULL, year INTEGER NOT NULL,
    population BIGINT NOT NULL);
INSERT INTO incidents VALUES ('A', DATE '2024-01-05', 'GM0363', 'Amsterdam', 'woning',
    'explosie', NULL, 'old.csv', 1), ('B', DATE '2024-02-05', 'GM0599', 'Rotterdam', 'bedrijf',
    'poging', 'BU05990101', 'old.csv', 2);
INSERT INTO quarantine VALUES ('old.csv', 'abc', 3, 'C', '1850-01-01', 'GM0363', 'x', 'woning',
    'explosie', '', 'date: in the past');
INSERT INTO units VALUES ('GM0363', 'Amsterdam', 2024, 900000);
"""


def test_a_store_from_before_data_versions_becomes_version_1_losing_nothing(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(OLD_SCHEMA)
    con.close()
    result = store_summary.summary(db)  # a reader converts it
    assert (result["incidents"], result["quarantined_rows"], result["units"]["codes"]) == (2, 1, 1)
    assert [(v["version"], v["kind"], v["rows_stored"]) for v in versions.history(db)] == [
        (1, "conversion", 2)]
    got = current(db)
    assert got["incident_id"].tolist() == ["A", "B"] and got["source_file"].tolist() == ["old.csv"] * 2
    assert got["neighbourhood_code"].fillna("").tolist() == ["", "BU05990101"]
    assert versions.verify_versions(db).ok
