"""The incident store: every row accounted for, idempotent, atomic, correct summaries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from evaluation.data import store
from evaluation.data import summary as store_summary
from evaluation.data import units as store_units
from evaluation.data.municipalities import import_municipalities
from evaluation.data.tables import file_sha256
from evaluation.errors import DataError

TODAY = dt.date(2025, 6, 30)
COLUMNS = list(store.INCIDENT_COLUMNS)


def good_rows(n: int = 6, prefix: str = "I") -> list[dict[str, str]]:
    kinds = ["woning", "bedrijf", "voertuig", "overig"]
    return [
        {
            "incident_id": f"{prefix}{i:04d}",
            "date": f"2024-0{1 + i % 9}-1{i % 10}",
            "municipality_code": f"GM0{363 + i % 3}",
            "municipality": f"Gemeente {i % 3}",
            "target_type": kinds[i % 4],
            "outcome": "explosie" if i % 3 else "poging",
            "neighbourhood_code": f"BU0{363 + i % 3}0{i % 10}01" if i % 2 else "",
        }
        for i in range(n)
    ]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


def tables(db: Path) -> dict[str, list[tuple]]:
    """Every table's full content, sorted: the store as a value."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


def stored(db: Path) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT * FROM incidents ORDER BY incident_id").df()
    finally:
        con.close()


def quarantine(db: Path) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute('SELECT * FROM quarantine ORDER BY file, "row"').df()
    finally:
        con.close()


# --- round trip -------------------------------------------------------------------------------
def test_import_round_trip_keeps_every_value(tmp_path):
    rows = good_rows(12)
    db = tmp_path / "s.duckdb"
    report = store.import_incidents(write_csv(tmp_path / "in.csv", rows), db_path=db, today=TODAY)
    assert (report.rows_read, report.stored_new, report.already_present, report.quarantined) == (
        12,
        12,
        0,
        0,
    )
    got = stored(db)
    expected = pd.DataFrame(rows).sort_values("incident_id", ignore_index=True)
    assert got["date"].dt.strftime("%Y-%m-%d").tolist() == expected["date"].tolist()
    for column in ("incident_id", "municipality_code", "municipality", "target_type", "outcome"):
        assert got[column].tolist() == expected[column].tolist()
    assert got["neighbourhood_code"].fillna("").tolist() == expected["neighbourhood_code"].tolist()
    assert got["source_row"].tolist() == [int(i[1:]) + 1 for i in expected["incident_id"]]
    log = [row[:-1] for row in tables(db)["data_versions"]]  # the last field is the data hash
    assert log == [(1, "incidents", "in.csv", file_sha256(tmp_path / "in.csv"), 12, 12, 0, 0, "")]
    assert (report.version, report.data_version) == (1, 1)


def test_parquet_with_date_type_stores_the_same_as_csv(tmp_path):
    rows = good_rows(8)
    frame = pd.DataFrame(rows)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame.to_parquet(tmp_path / "in.parquet")
    store.import_incidents(
        write_csv(tmp_path / "in.csv", rows), db_path=tmp_path / "a.duckdb", today=TODAY
    )
    report = store.import_incidents(
        tmp_path / "in.parquet", db_path=tmp_path / "b.duckdb", today=TODAY
    )
    assert report.stored_new == 8
    columns = COLUMNS
    pd.testing.assert_frame_equal(
        stored(tmp_path / "a.duckdb")[columns], stored(tmp_path / "b.duckdb")[columns]
    )


def test_csv_quirks_cr_line_endings_semicolons_and_case(tmp_path):
    text = (
        "incident_id;date;municipality_code;municipality;target_type;outcome;neighbourhood_code\r"
        "X1;2024-03-01;GM0363;Amsterdam; Woning ;EXPLOSIE;\r"
    )
    (tmp_path / "mac.csv").write_bytes(text.encode("utf-8"))
    report = store.import_incidents(
        tmp_path / "mac.csv", db_path=tmp_path / "s.duckdb", today=TODAY
    )
    assert report.stored_new == 1
    row = stored(tmp_path / "s.duckdb").iloc[0]
    assert (row["target_type"], row["outcome"], row["neighbourhood_code"]) == (
        "woning",
        "explosie",
        None,
    )


def test_missing_column_is_one_line_error_with_suggestion_and_writes_nothing(tmp_path):
    frame = pd.DataFrame(good_rows(2)).rename(columns={"outcome": "outcom"})
    frame.to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(DataError) as err:
        store.import_incidents(tmp_path / "in.csv", db_path=tmp_path / "s.duckdb", today=TODAY)
    message = str(err.value)
    assert "`outcome`" in message and "did you mean `outcom`" in message and "\n" not in message
    assert not (tmp_path / "s.duckdb").exists()


# --- bad rows ----------------------------------------------------------------------------------
BAD_ROWS = [
    ({"date": "2024-02-30"}, "date: not a real date"),
    ({"date": "05-01-2024"}, "date: not a real date"),
    ({"date": "2024-1-5"}, "date: not a real date"),
    ({"date": "0000-01-01"}, "date: before 1990-01-01, implausible"),
    ({"date": ""}, "date: missing"),
    # a real date after tomorrow (TODAY + 1 is still accepted: another time zone's today)
    ({"date": "2025-07-02"}, "date: after 2025-07-01, in the future"),
    ({"date": "9999-12-31"}, "date: after 2025-07-01, in the future"),
    ({"date": "1989-12-31"}, "date: before 1990-01-01, implausible"),
    ({"date": "1850-01-01"}, "date: before 1990-01-01, implausible"),
    # before pandas' first Timestamp (1677): once crashed the whole import
    ({"date": "1600-05-05"}, "date: before 1990-01-01, implausible"),
    ({"date": "0001-01-01"}, "date: before 1990-01-01, implausible"),
    ({"target_type": "auto"}, "target_type: unknown value"),
    ({"outcome": "boem"}, "outcome: unknown value"),
    ({"municipality_code": "GM363"}, "municipality_code: not GM + 4 digits"),
    ({"municipality_code": "0363"}, "municipality_code: not GM + 4 digits"),
    ({"neighbourhood_code": "BU123"}, "neighbourhood_code: not BU + 8 digits"),
    ({"incident_id": ""}, "incident_id: missing"),
    ({"municipality_code": ""}, "municipality_code: missing"),
    ({"incident_id": "I0001"}, "incident_id: duplicate of row 2"),
]


@pytest.mark.parametrize(("change", "reason"), BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_each_kind_of_bad_row_is_quarantined_with_its_reason(tmp_path, change, reason):
    rows = good_rows(4)
    bad = {**good_rows(5)[4], **change}
    db = tmp_path / "s.duckdb"
    report = store.import_incidents(
        write_csv(tmp_path / "in.csv", [*rows, bad]), db_path=db, today=TODAY
    )
    assert (report.rows_read, report.stored, report.quarantined) == (5, 4, 1)
    q = quarantine(db)
    assert len(q) == 1 and q.loc[0, "row"] == 5 and q.loc[0, "file"] == "in.csv"
    assert reason in q.loc[0, "reason"]
    for column, value in bad.items():  # the raw values are kept as they were
        assert (q.loc[0, column] or "") == value
    assert len(stored(db)) == 4


def test_a_row_with_several_problems_lists_them_all(tmp_path):
    bad = {**good_rows(1)[0], "date": "2030-01-01", "outcome": "boem", "neighbourhood_code": "X"}
    report = store.import_incidents(
        write_csv(tmp_path / "in.csv", [bad]), db_path=tmp_path / "s.duckdb", today=TODAY
    )
    reason = report.rejects.loc[0, "reason"]
    assert all(
        part in reason
        for part in ("neighbourhood_code: not BU", "date: after", "outcome: unknown")
    )


def test_municipality_name_is_optional_and_an_empty_file_stores_nothing(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "municipality"} for r in good_rows(3)]
    db = tmp_path / "s.duckdb"
    pd.DataFrame(rows).to_csv(tmp_path / "in.csv", index=False)
    assert store.import_incidents(tmp_path / "in.csv", db_path=db, today=TODAY).stored_new == 3
    assert stored(db)["municipality"].isna().all()
    (tmp_path / "empty.csv").write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    report = store.import_incidents(tmp_path / "empty.csv", db_path=db, today=TODAY)
    assert (report.rows_read, report.version, report.data_version) == (0, None, 1)


def test_random_mixture_every_row_accounted_for(tmp_path):
    rng = np.random.default_rng(7)
    rows = good_rows(300)
    kinds = [change for change, _ in BAD_ROWS]
    broken = rng.choice(300, size=60, replace=False)
    for i in broken:
        change = dict(kinds[rng.integers(len(kinds))])
        if change.get("incident_id") == "I0001" and i <= 1:
            change = {"outcome": "boem"}
        rows[i] = {**rows[i], **change}
    db = tmp_path / "s.duckdb"
    report = store.import_incidents(write_csv(tmp_path / "in.csv", rows), db_path=db, today=TODAY)
    assert report.rows_read == 300
    assert report.stored + report.quarantined == 300
    assert report.quarantined == 60
    assert len(stored(db)) + len(quarantine(db)) == 300
    assert sorted(quarantine(db)["row"]) == sorted(int(i) + 1 for i in broken)


# --- idempotency and conflicts -----------------------------------------------------------------
def test_second_import_adds_nothing(tmp_path):
    rows = [*good_rows(10), {**good_rows(11)[10], "outcome": "boem"}]
    db = tmp_path / "s.duckdb"
    path = write_csv(tmp_path / "in.csv", rows)
    store.import_incidents(path, db_path=db, today=TODAY)
    before = tables(db)
    again = store.import_incidents(path, db_path=db, today=TODAY)
    assert (again.stored_new, again.already_present, again.quarantined, again.quarantined_new) == (
        0,
        10,
        1,
        0,
    )
    assert tables(db) == before  # nothing changed: not even a new data version
    assert (again.version, again.data_version) == (None, 1)


def test_conflicting_reimport_is_quarantined_never_overwritten(tmp_path):
    rows = good_rows(5)
    db = tmp_path / "s.duckdb"
    store.import_incidents(write_csv(tmp_path / "a.csv", rows), db_path=db, today=TODAY)
    before = stored(db)
    changed = [dict(r) for r in rows]
    changed[2] = {
        **changed[2],
        "outcome": "poging" if rows[2]["outcome"] == "explosie" else "explosie",
        "date": "2024-12-31",
    }
    changed.append(good_rows(6, prefix="N")[5])
    report = store.import_incidents(write_csv(tmp_path / "b.csv", changed), db_path=db, today=TODAY)
    assert (report.stored_new, report.already_present, report.quarantined) == (1, 4, 1)
    reason = report.rejects.loc[0, "reason"]
    assert reason.startswith("conflicts with the stored incident")
    assert (
        f"outcome (stored {rows[2]['outcome']})" in reason
        and f"date (stored {rows[2]['date']})" in reason
    )
    assert "municipality" not in reason
    after = stored(db)
    pd.testing.assert_frame_equal(
        after.loc[after["incident_id"] != "N0005"].reset_index(drop=True), before
    )


# --- atomicity ---------------------------------------------------------------------------------
@pytest.mark.parametrize("failing_step", ["rejects_frame", "record_version"])
def test_failure_half_way_leaves_the_store_unchanged(tmp_path, monkeypatch, failing_step):
    db = tmp_path / "s.duckdb"
    store.import_incidents(write_csv(tmp_path / "a.csv", good_rows(5)), db_path=db, today=TODAY)
    before = tables(db)
    inserted = []
    real_insert = store._insert_new

    def spy_insert(con, file, version):
        inserted.append(real_insert(con, file, version))
        return inserted[-1]

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_insert_new", spy_insert)
    monkeypatch.setattr(store, failing_step, boom)
    rows = [*good_rows(20, prefix="B"), {**good_rows(1, prefix="C")[0], "outcome": "boem"}]
    with pytest.raises(RuntimeError, match="disk full"):
        store.import_incidents(write_csv(tmp_path / "b.csv", rows), db_path=db, today=TODAY)
    assert inserted == [20]  # the new incidents had been written before the failure
    assert tables(db) == before


# --- summary -----------------------------------------------------------------------------------
def test_summary_numbers(tmp_path):
    rows = []
    plan = [
        ("2023", "GM0363", "woning", "explosie", 3),
        ("2023", "GM0599", "bedrijf", "poging", 2),
        ("2024", "GM0363", "voertuig", "explosie", 4),
        ("2024", "GM0518", "overig", "explosie", 1),
        ("2024", "GM0599", "woning", "poging", 2),
    ]
    for year, code, kind, outcome, n in plan:
        for k in range(n):
            rows.append(
                {
                    "incident_id": f"{year}{code}{kind}{k}",
                    "date": f"{year}-05-0{k + 1}",
                    "municipality_code": code,
                    "municipality": f"name {code}",
                    "target_type": kind,
                    "outcome": outcome,
                    "neighbourhood_code": "",
                }
            )
    db = tmp_path / "s.duckdb"
    store.import_incidents(write_csv(tmp_path / "in.csv", rows), db_path=db, today=TODAY)
    result = store_summary.summary(db)
    assert result["incidents"] == 12
    assert result["by_year"] == {"2023": 5, "2024": 7}
    assert result["by_target_type"]["2023"] == {
        "woning": 3,
        "bedrijf": 2,
        "voertuig": 0,
        "overig": 0,
    }
    assert result["by_target_type"]["2024"] == {
        "woning": 2,
        "bedrijf": 0,
        "voertuig": 4,
        "overig": 1,
    }
    assert result["by_outcome"] == {
        "2023": {"explosie": 3, "poging": 2},
        "2024": {"explosie": 5, "poging": 2},
    }
    # names never come from incident rows: without a reference or units table there are none
    assert result["top_municipalities"] == [
        {"code": "GM0363", "name": None, "incidents": 7},
        {"code": "GM0599", "name": None, "incidents": 4},
        {"code": "GM0518", "name": None, "incidents": 1},
    ]
    assert result["municipality_reference"]["loaded"] is False
    assert result["data_version"]["number"] == 1
    assert (result["first_date"], result["last_date"]) == ("2023-05-01", "2024-05-04")


def test_summary_of_a_missing_store_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no incident store"):
        store_summary.summary(tmp_path / "nothing.duckdb")


# --- units -------------------------------------------------------------------------------------
def test_units_import_insert_replace_and_idempotent(tmp_path):
    db = tmp_path / "s.duckdb"
    units = pd.DataFrame(
        {
            "code": ["GM0363", "GM0363", "GM0599"],
            "name": ["Amsterdam"] * 2 + ["Rotterdam"],
            "year": [2023, 2024, 2024],
            "population": [900_000, 910_000, 650_000],
        }
    )
    units.to_csv(tmp_path / "u.csv", index=False)
    first = store_units.import_units(tmp_path / "u.csv", db_path=db)
    assert (first.inserted, first.replaced, first.unchanged) == (3, 0, 0)
    again = store_units.import_units(tmp_path / "u.csv", db_path=db)
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, 3)
    units.loc[1, "population"] = 915_000
    units.iloc[[1]].to_csv(tmp_path / "u2.csv", index=False)
    third = store_units.import_units(tmp_path / "u2.csv", db_path=db)
    assert (third.inserted, third.replaced, third.unchanged) == (0, 1, 0)
    assert sorted(tables(db)["units"]) == [
        ("GM0363", "Amsterdam", 2023, 900_000),
        ("GM0363", "Amsterdam", 2024, 915_000),
        ("GM0599", "Rotterdam", 2024, 650_000),
    ]


def test_bad_unit_rows_name_rows_and_store_nothing(tmp_path):
    db = tmp_path / "s.duckdb"
    pd.DataFrame(
        {
            "code": ["GM0363", "GM363", "GM0599", "GM0363"],
            "name": ["A", "B", "", "A"],
            "year": ["2024", "2024", "24", "2024"],
            "population": ["1000", "-5", "2000", "1000"],
        }
    ).to_csv(tmp_path / "u.csv", index=False)
    with pytest.raises(DataError) as err:
        store_units.import_units(tmp_path / "u.csv", db_path=db)
    message = str(err.value)
    assert "\n" not in message and "nothing was stored" in message
    assert "code: not GM + 4 digits (data rows 2)" in message
    assert "name: missing (data rows 3)" in message
    assert "year: not a 4-digit year (data rows 3)" in message
    assert "population: not a positive whole number (data rows 2)" in message
    assert "code and year: listed twice (data rows 4)" in message
    assert not db.exists()


# --- speed -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_million_rows_are_all_accounted_for_in_file_order(tmp_path):
    """Speed is measured by benchmarks/import_performance.py, never here."""
    n = 1_000_000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "incident_id": [f"I{i}" for i in range(n)],
            "date": (
                pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1800, n), unit="D")
            ).strftime("%Y-%m-%d"),
            "municipality_code": [f"GM{i:04d}" for i in rng.integers(1, 999, n)],
            "municipality": "x",
            "target_type": "woning",
            "outcome": "explosie",
            "neighbourhood_code": "",
        }
    )
    frame.loc[::1000, "outcome"] = "boem"
    frame.to_csv(tmp_path / "big.csv", index=False)
    report = store.import_incidents(
        tmp_path / "big.csv", db_path=tmp_path / "s.duckdb", today=TODAY
    )
    assert (report.stored_new, report.quarantined) == (n - 1000, 1000)
    # DuckDB reads in parallel; the data rows still keep the file's order
    assert report.rejects["row"].tolist() == list(range(1, n + 1, 1000))
    assert (report.rejects["incident_id"] == "I" + (report.rejects["row"] - 1).astype(str)).all()


def test_names_come_from_the_reference_then_the_units_table_never_from_incident_rows(tmp_path):
    rows = good_rows(3)
    for row, name in zip(rows, ["Rotterdam", "Amsterdam", "Mokum"], strict=True):
        row.update(municipality=name, municipality_code="GM0363")
    db = tmp_path / "s.duckdb"
    store.import_incidents(write_csv(tmp_path / "in.csv", rows), db_path=db, today=TODAY)
    assert store_summary.summary(db)["top_municipalities"][0]["name"] is None
    pd.DataFrame({"code": ["GM0363"], "name": ["Amsterdam (units)"], "year": [2024],
                  "population": [900_000]}).to_csv(tmp_path / "u.csv", index=False)
    store_units.import_units(tmp_path / "u.csv", db_path=db)
    assert store_summary.summary(db)["top_municipalities"][0]["name"] == "Amsterdam (units)"
    pd.DataFrame({"code": ["GM0363"], "name": ["Amsterdam"], "valid_from": [""],
                  "valid_to": [""], "successor": [""]}).to_csv(tmp_path / "m.csv", index=False)
    import_municipalities(tmp_path / "m.csv", db_path=db)
    assert store_summary.summary(db)["top_municipalities"] == [
        {"code": "GM0363", "name": "Amsterdam", "incidents": 3}
    ]
