"""Property test of the incident store's promise (issue 22): every row read is either stored or
quarantined, for any mix of good and bad rows, and which rows end where follows from how the test
made them (the oracle), not from the store's own counts.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.data import store

TODAY = dt.date(2025, 6, 30)
COLUMNS = list(store.INCIDENT_COLUMNS)

# one field made invalid, per kind of defect the store documents (data/validation.py)
DEFECTS = {
    "missing id": ("incident_id", ""),
    "no date": ("date", ""),
    "month 13": ("date", "2024-13-01"),
    "30 February": ("date", "2024-02-30"),
    "day first": ("date", "01-02-2024"),
    "before 1990": ("date", "1989-12-31"),
    "future": ("date", "2025-07-02"),  # TODAY + 2 days; one day ahead is allowed
    "short code": ("municipality_code", "GM363"),
    "no code": ("municipality_code", ""),
    "not GM": ("municipality_code", "XX0363"),
    "unknown target": ("target_type", "boot"),
    "no target": ("target_type", ""),
    "unknown outcome": ("outcome", "brand"),
    "neighbourhood code": ("neighbourhood_code", "BU123"),
}
ROW = st.one_of(st.none(), st.sampled_from(sorted(DEFECTS)), st.just("duplicate"))


def good_row(i: int) -> dict[str, str]:
    return {"incident_id": f"I{i:05d}", "date": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "municipality_code": f"GM0{363 + i % 5}", "municipality": "" if i % 4 else "Amsterdam",
            "target_type": ("woning", "Bedrijf", "VOERTUIG", "overig")[i % 4],
            "outcome": ("explosie", "poging")[i % 2],
            "neighbourhood_code": f"BU0{363 + i % 5}{i % 10:04d}" if i % 3 else ""}


@settings(max_examples=12)  # each example: a fresh DuckDB store, imported twice (about 1 s)
@given(plan=st.lists(ROW, min_size=1, max_size=30))
def test_rows_read_are_stored_or_quarantined(tmp_path_factory, plan):
    rows, bad = [], set()
    for i, defect in enumerate(plan):
        row = good_row(i)
        if defect == "duplicate" and i > 0 and rows[i // 2]["incident_id"]:
            row["incident_id"] = rows[i // 2]["incident_id"]
            bad.add(i + 1)  # the later of two rows with one id waits in quarantine
        elif defect in DEFECTS:
            column, value = DEFECTS[defect]
            row[column] = value
            bad.add(i + 1)
        rows.append(row)
    folder = tmp_path_factory.mktemp("store")
    path = folder / "in.csv"
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    db = folder / "store.duckdb"

    report = store.import_incidents(path, db_path=db, today=TODAY)
    with duckdb.connect(str(db), read_only=True) as con:
        stored_ids = sorted(r[0] for r in con.execute("SELECT incident_id FROM incidents").fetchall())
        quarantined_rows = sorted(r[0] for r in con.execute('SELECT "row" FROM quarantine').fetchall())
        stored = con.execute("SELECT incident_id, strftime(date, '%Y-%m-%d'), municipality_code, "
                             "target_type, outcome, coalesce(neighbourhood_code, '') "
                             "FROM incidents").fetchall()
    good = [i for i in range(1, len(rows) + 1) if i not in bad]
    assert quarantined_rows == sorted(bad)
    assert stored_ids == sorted(rows[i - 1]["incident_id"] for i in good)
    assert (report.rows_read, report.stored_new, report.quarantined) == (len(rows), len(good), len(bad))
    # stored as delivered (vocabulary in lower case, as documented)
    delivered = {(r["incident_id"], r["date"], r["municipality_code"], r["target_type"].lower(),
                  r["outcome"], r["neighbourhood_code"]) for r in (rows[i - 1] for i in good)}
    assert set(stored) == delivered

    again = store.import_incidents(path, db_path=db, today=TODAY)  # the same file once more
    assert (again.rows_read, again.stored_new, again.already_present, again.quarantined,
            again.quarantined_new) == (len(rows), 0, len(good), len(bad), 0)
