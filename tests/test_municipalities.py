"""The municipality reference: unknown codes quarantined, names from the reference, and mergers
harmonised onto one boundary date so that a merger never shows up as a jump."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from evaluation.data import panel, store
from evaluation.data import summary as store_summary
from evaluation.data import units as store_units
from evaluation.data.municipalities import import_municipalities
from evaluation.errors import DataError

TODAY = dt.date(2025, 6, 30)

# GM0001 and GM0002 merge into GM0003 on 1 January 2024; GM0004 carries on.
REFERENCE = pd.DataFrame({
    "code": ["GM0001", "GM0002", "GM0003", "GM0004"],
    "name": ["Oud-Een", "Oud-Twee", "Nieuwgemeente", "Vier"],
    "valid_from": ["", "1990-01-01", "2024-01-01", ""],
    "valid_to": ["2023-12-31", "2023-12-31", "", ""],
    "successor": ["GM0003", "GM0003", "", ""],
})


def incident(i: int, date: str, code: str, name: str = "") -> dict[str, str]:
    return {"incident_id": f"I{i}", "date": date, "municipality_code": code, "municipality": name,
            "target_type": "woning", "outcome": "explosie", "neighbourhood_code": ""}


def steady_incidents() -> list[dict[str, str]]:
    """Two incidents a month in each old municipality in 2023, four a month in their successor in
    2024 (the same places, a new code), one a month in GM0004 throughout."""
    out, i = [], 0
    for month in range(1, 13):
        for year, codes in ((2023, ["GM0001", "GM0001", "GM0002", "GM0002"]),
                            (2024, ["GM0003"] * 4)):
            for code in [*codes, "GM0004"]:
                out.append(incident(i, f"{year}-{month:02d}-{1 + i % 27:02d}", code))
                i += 1
    return out


@pytest.fixture
def merged_store(tmp_path):
    db = tmp_path / "s.duckdb"
    REFERENCE.to_csv(tmp_path / "ref.csv", index=False)
    import_municipalities(tmp_path / "ref.csv", db_path=db)
    pd.DataFrame(steady_incidents()).to_csv(tmp_path / "in.csv", index=False)
    report = store.import_incidents(tmp_path / "in.csv", db_path=db, today=TODAY)
    assert report.quarantined == 0
    pd.DataFrame({
        "code": ["GM0001", "GM0002", "GM0003", "GM0004", "GM0004"],
        "name": ["Oud-Een", "Oud-Twee", "Nieuwgemeente", "Vier", "Vier"],
        "year": [2023, 2023, 2024, 2023, 2024],
        "population": [10_000, 5_000, 15_300, 8_000, 8_100],
    }).to_csv(tmp_path / "u.csv", index=False)
    store_units.import_units(tmp_path / "u.csv", db_path=db)
    return db


def test_a_merger_is_no_jump_counts_and_population_follow_the_successor(merged_store):
    frame = panel.build_store_panel(merged_store, frequency="month", start="2023-01-01",
                                    end="2024-12-31", with_exposure=True)
    assert sorted(frame["unit"].unique()) == ["GM0003", "GM0004"]
    successor = frame.loc[frame["unit"] == "GM0003"]
    assert (successor["y"] == 4).all()  # no jump at 2024-01: 2 + 2 before, 4 after
    assert successor["exposure"].tolist() == [15_000.0] * 12 + [15_300.0] * 12  # 10,000 + 5,000
    assert set(frame["name"]) == {"Nieuwgemeente", "Vier"}
    bounds = frame.attrs["boundaries"]
    assert bounds == {"year": 2024, "date": "2024-12-31", "reference": True,
                      "merged": {"GM0001": "GM0003", "GM0002": "GM0003"},
                      "ended_without_successor": [],
                      "names": {"GM0001": "Oud-Een", "GM0002": "Oud-Twee",
                                "GM0003": "Nieuwgemeente"}}


def test_boundaries_before_the_merger_keep_the_old_municipalities(merged_store):
    frame = panel.build_store_panel(merged_store, frequency="month", start="2023-01-01",
                                    end="2023-12-31")
    assert sorted(frame["unit"].unique()) == ["GM0001", "GM0002", "GM0004"]
    assert frame.attrs["boundaries"]["merged"] == {}


def test_without_a_reference_the_merger_is_a_jump_and_summary_says_none_is_loaded(tmp_path):
    db = tmp_path / "s.duckdb"
    pd.DataFrame(steady_incidents()).to_csv(tmp_path / "in.csv", index=False)
    store.import_incidents(tmp_path / "in.csv", db_path=db, today=TODAY)
    frame = panel.build_store_panel(db, frequency="month", start="2023-01-01", end="2024-12-31")
    series = frame.loc[frame["unit"] == "GM0003", "y"].tolist()
    assert series == [0.0] * 12 + [4.0] * 12  # what harmonisation prevents
    assert frame.attrs["boundaries"]["reference"] is False
    assert store_summary.summary(db)["municipality_reference"]["loaded"] is False


def test_population_of_a_successor_needs_every_predecessor(merged_store, tmp_path):
    pd.DataFrame({"code": ["GM0001", "GM0003", "GM0004"], "name": ["a", "b", "c"],
                  "year": [2022, 2024, 2022], "population": [10_000, 15_300, 8_000]}
                 ).to_csv(tmp_path / "u2.csv", index=False)
    store_units.import_units(tmp_path / "u2.csv", db_path=merged_store)
    with pytest.raises(DataError, match=r"population missing for GM0003 \(2022\)"):
        panel.build_store_panel(merged_store, frequency="month", start="2022-01-01",
                                end="2024-12-31", with_exposure=True)


def test_unknown_codes_are_quarantined_and_names_never_come_from_rows(merged_store, tmp_path):
    rows = [incident(900, "2024-05-01", "GM9999", "Nergens"),
            incident(901, "2024-05-02", "GM0004", "Rotterdam")]
    pd.DataFrame(rows).to_csv(tmp_path / "more.csv", index=False)
    report = store.import_incidents(tmp_path / "more.csv", db_path=merged_store, today=TODAY)
    assert (report.stored_new, report.quarantined) == (1, 1)
    assert report.rejects.loc[0, "reason"].startswith(
        "municipality_code: GM9999 is not in the municipality reference")
    assert report.name_mismatches[["municipality_code", "municipality", "reference"]].values.tolist() \
        == [["GM0004", "Rotterdam", "Vier"]]
    top = {t["code"]: t["name"] for t in store_summary.summary(merged_store)["top_municipalities"]}
    assert top["GM0004"] == "Vier"


def test_stored_codes_a_new_reference_does_not_know_are_reported_and_block_analyses(tmp_path):
    db = tmp_path / "s.duckdb"
    pd.DataFrame([incident(1, "2024-05-01", "GM0007")]).to_csv(tmp_path / "in.csv", index=False)
    store.import_incidents(tmp_path / "in.csv", db_path=db, today=TODAY)
    REFERENCE.to_csv(tmp_path / "ref.csv", index=False)
    report = import_municipalities(tmp_path / "ref.csv", db_path=db)
    assert report.unknown_in_store == (("GM0007", 1),) and report.version == 2
    assert store_summary.summary(db)["municipality_reference"]["unknown_codes_in_store"] == {
        "GM0007": 1}
    with pytest.raises(DataError, match=r"not in the municipality reference: GM0007 \(1\)"):
        panel.build_store_panel(db, frequency="month", start="2024-01-01", end="2024-12-31")
    again = import_municipalities(tmp_path / "ref.csv", db_path=db)
    assert again.version is None  # the same list again: no new data version


BAD_REFERENCES = [
    ({"code": "GM01"}, "code: not GM + 4 digits (data rows 1)"),
    ({"name": ""}, "name: missing (data rows 1)"),
    ({"valid_to": "2023-02-30"}, "valid_to: not a YYYY-MM-DD date (data rows 1)"),
    ({"valid_to": "1985-01-01"}, "successor: does not exist on the day after valid_to (data rows 1)"),
    ({"successor": "GM0008"}, "successor: not a code listed in the file (data rows 1)"),
    ({"successor": "GM0001"}, "successor: the municipality itself (data rows 1)"),
    ({"valid_to": "", "successor": "GM0003"}, "successor: given without valid_to (data rows 1)"),
]


@pytest.mark.parametrize(("change", "message"), BAD_REFERENCES, ids=[m for _, m in BAD_REFERENCES])
def test_a_bad_reference_is_refused_whole_naming_the_rows(tmp_path, change, message):
    table = REFERENCE.copy()
    for column, value in change.items():
        table.loc[0, column] = value
    table.to_csv(tmp_path / "ref.csv", index=False)
    with pytest.raises(DataError) as err:
        import_municipalities(tmp_path / "ref.csv", db_path=tmp_path / "s.duckdb")
    text = str(err.value)
    assert message in text and "nothing was stored" in text and "\n" not in text
    assert not (tmp_path / "s.duckdb").exists()
