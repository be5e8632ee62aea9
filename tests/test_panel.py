"""Panels: period arithmetic (ISO weeks!), balanced store panels, validated panel files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.data import panel, panel_file, periods, store
from evaluation.data import units as store_units
from evaluation.errors import DataError, DesignError

TODAY = dt.date(2025, 6, 30)


# --- periods -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("date", "frequency", "start"),
    [
        ("2024-12-30", "week", "2024-12-30"),  # Monday of ISO 2025-W01
        ("2025-01-05", "week", "2024-12-30"),  # Sunday of 2025-W01, across the year edge
        ("2021-01-03", "week", "2020-12-28"),  # Sunday of ISO 2020-W53
        ("2021-01-04", "week", "2021-01-04"),
        ("1969-12-31", "week", "1969-12-29"),  # before the epoch (negative day numbers)
        ("2024-12-31", "day", "2024-12-31"),
        ("2024-02-29", "month", "2024-02-01"),
        ("2024-03-31", "quarter", "2024-01-01"),
        ("2024-07-01", "quarter", "2024-07-01"),
        ("2024-12-31", "quarter", "2024-10-01"),
        ("2024-12-31", "year", "2024-01-01"),
        ("2025-01-01", "year", "2025-01-01"),
    ],
)
def test_period_start_edges(date, frequency, start):
    assert periods.period_start(date, frequency) == pd.Timestamp(start)


@pytest.mark.parametrize("frequency", ["week", "month", "quarter", "year"])
def test_period_start_agrees_with_pandas_periods_over_eleven_years(frequency):
    days = pd.Series(pd.date_range("2015-01-01", "2025-12-31", freq="D"))
    got = periods.period_start(days, frequency)
    if frequency == "week":
        iso = days.dt.isocalendar()
        # the same ISO (year, week) as the date, and a Monday
        assert (got.dt.isocalendar()[["year", "week"]] == iso[["year", "week"]]).all().all()
        assert (got.dt.day_of_week == 0).all()
    else:
        code = {"month": "M", "quarter": "Q", "year": "Y"}[frequency]
        expected = days.dt.to_period(code).dt.start_time
        assert (got.to_numpy() == expected.to_numpy().astype("datetime64[ns]")).all()


def test_period_start_keeps_the_index_and_does_not_mutate():
    dates = pd.Series(pd.to_datetime(["2024-05-15", "2024-05-20"]), index=[10, 20])
    copy = dates.copy()
    result = periods.period_start(dates, "month")
    assert list(result.index) == [10, 20]
    pd.testing.assert_series_equal(dates, copy)


def test_period_labels_use_iso_week_years():
    assert periods.period_label(pd.Timestamp("2024-12-30"), "week") == "2025-W01"
    assert periods.period_label(periods.period_start("2021-01-03", "week"), "week") == "2020-W53"
    assert periods.period_label(pd.Timestamp("2024-10-01"), "quarter") == "2024-Q4"


@pytest.mark.parametrize(
    ("start", "end", "frequency", "expected"),
    [
        ("2024-12-25", "2025-01-08", "week", ["2024-12-23", "2024-12-30", "2025-01-06"]),
        (
            "2024-11-15",
            "2025-02-01",
            "month",
            ["2024-11-01", "2024-12-01", "2025-01-01", "2025-02-01"],
        ),
        (
            "2024-05-05",
            "2025-01-01",
            "quarter",
            ["2024-04-01", "2024-07-01", "2024-10-01", "2025-01-01"],
        ),
        ("2023-06-01", "2025-01-01", "year", ["2023-01-01", "2024-01-01", "2025-01-01"]),
        ("2024-02-28", "2024-03-01", "day", ["2024-02-28", "2024-02-29", "2024-03-01"]),
    ],
)
def test_period_range(start, end, frequency, expected):
    assert list(periods.period_range(start, end, frequency)) == [pd.Timestamp(d) for d in expected]


def test_period_range_rejects_reversed_bounds_and_unknown_frequency():
    with pytest.raises(DataError, match="before start"):
        periods.period_range("2025-01-01", "2024-01-01", "month")
    with pytest.raises(DesignError, match="fortnight"):
        periods.period_range("2024-01-01", "2025-01-01", "fortnight")


# --- store panels ------------------------------------------------------------------------------
def incident(i: int, date: str, code: str, kind: str = "woning", outcome: str = "explosie") -> dict:
    return {
        "incident_id": f"I{i}",
        "date": date,
        "municipality_code": code,
        "municipality": f"n{code}",
        "target_type": kind,
        "outcome": outcome,
        "neighbourhood_code": "",
    }


@pytest.fixture
def small_store(tmp_path) -> Path:
    rows = [
        incident(1, "2024-12-29", "GM0001"),  # Sunday of 2024-W52
        incident(2, "2024-12-30", "GM0001"),  # Monday of 2025-W01
        incident(3, "2025-01-05", "GM0001", kind="bedrijf"),
        incident(4, "2025-01-06", "GM0002", outcome="poging"),
        incident(5, "2025-01-19", "GM0002"),
        incident(6, "2023-03-01", "GM0004"),
    ]  # outside every window below
    db = tmp_path / "s.duckdb"
    pd.DataFrame(rows).to_csv(tmp_path / "i.csv", index=False)
    store.import_incidents(tmp_path / "i.csv", db_path=db, today=TODAY)
    pd.DataFrame(
        {
            "code": ["GM0001", "GM0002", "GM0003"] * 2,
            "name": ["Een", "Twee", "Drie"] * 2,
            "year": [2024] * 3 + [2025] * 3,
            "population": [1000, 2000, 3000, 1100, 2200, 3300],
        }
    ).to_csv(tmp_path / "u.csv", index=False)
    store_units.import_units(tmp_path / "u.csv", db_path=db)
    return db


def test_store_panel_is_balanced_with_explicit_zeros(small_store):
    frame = panel.build_store_panel(
        small_store, frequency="week", start="2024-12-23", end="2025-01-26"
    )
    assert list(frame.columns) == ["unit", "name", "period", "y"]
    weeks = periods.period_range("2024-12-23", "2025-01-26", "week")
    assert len(weeks) == 5
    # four units known: incidents (GM0001, GM0002, GM0004) union the units table (GM0003)
    assert sorted(frame["unit"].unique()) == ["GM0001", "GM0002", "GM0003", "GM0004"]
    assert len(frame) == 4 * 5 and not frame.duplicated(["unit", "period"]).any()
    counts = frame.set_index(["unit", "period"])["y"]
    assert counts[("GM0001", pd.Timestamp("2024-12-23"))] == 1  # 2024-12-29 is in 2024-W52
    assert counts[("GM0001", pd.Timestamp("2024-12-30"))] == 2  # 12-30 and 01-05: 2025-W01
    assert counts[("GM0002", pd.Timestamp("2025-01-06"))] == 1
    assert counts[("GM0002", pd.Timestamp("2025-01-13"))] == 1
    assert (
        frame["y"].sum() == 5
        and (frame.loc[frame["unit"].isin(["GM0003", "GM0004"]), "y"] == 0).all()
    )
    assert frame["y"].dtype == float
    assert frame.set_index("unit")["name"].to_dict()["GM0003"] == "Drie"
    assert frame.attrs["data_cutoff"] == "2025-01-19"


def test_store_panel_filters_target_types_and_outcomes(small_store):
    frame = panel.build_store_panel(
        small_store,
        frequency="month",
        start="2024-12-01",
        end="2025-01-31",
        target_types=("woning",),
        outcomes=("explosie",),
    )
    totals = frame.groupby("unit")["y"].sum()
    assert totals["GM0001"] == 2 and totals["GM0002"] == 1 and frame["y"].sum() == 3
    with pytest.raises(DesignError, match="auto"):
        panel.build_store_panel(
            small_store,
            frequency="month",
            start="2024-12-01",
            end="2025-01-31",
            target_types=("auto",),
        )


@pytest.mark.parametrize(
    ("frequency", "n_periods"), [("day", 62), ("month", 2), ("quarter", 2), ("year", 2)]
)
def test_store_panel_other_frequencies_count_everything_once(small_store, frequency, n_periods):
    frame = panel.build_store_panel(
        small_store, frequency=frequency, start="2024-12-01", end="2025-01-31"
    )
    assert frame["period"].nunique() == n_periods
    assert frame["y"].sum() == 5


def test_store_panel_exposure_and_missing_population(small_store):
    frame = panel.build_store_panel(
        small_store, frequency="month", start="2024-12-01", end="2025-01-31", with_exposure=False
    )
    assert "exposure" not in frame
    with pytest.raises(DataError) as err:  # GM0004 has no population
        panel.build_store_panel(
            small_store, frequency="month", start="2024-12-01", end="2025-01-31", with_exposure=True
        )
    assert "GM0004 (2024, 2025)" in str(err.value) and "evaluation data units" in str(err.value)


def test_store_panel_exposure_by_year(tmp_path, small_store):
    pd.DataFrame(
        {
            "code": ["GM0004", "GM0004"],
            "name": ["Vier"] * 2,
            "year": [2024, 2025],
            "population": [1_000, 1_100],
        }
    ).to_csv(tmp_path / "u4.csv", index=False)
    store_units.import_units(tmp_path / "u4.csv", db_path=small_store)
    frame = panel.build_store_panel(
        small_store, frequency="month", start="2024-12-01", end="2025-01-31", with_exposure=True
    )
    exposure = frame.set_index(["unit", "period"])["exposure"]
    assert exposure[("GM0002", pd.Timestamp("2024-12-01"))] == 2000
    assert exposure[("GM0002", pd.Timestamp("2025-01-01"))] == 2200
    assert exposure[("GM0004", pd.Timestamp("2025-01-01"))] == 1_100


def test_store_cutoff_and_missing_store(small_store, tmp_path):
    assert panel.store_cutoff(small_store) == dt.date(2025, 1, 19)
    with pytest.raises(DataError, match="evaluation data import"):
        panel.store_cutoff(tmp_path / "none.duckdb")


# --- panel files -------------------------------------------------------------------------------
def write(tmp_path: Path, frame: pd.DataFrame, name: str = "p.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def simple_panel() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["A"] * 3 + ["B"] * 3,
            "period": [1, 2, 3] * 2,
            "y": [1, 0, 2, 3, 4, 0],
            "pop": [10.0] * 6,
            "x": [0.5] * 6,
            "first": [2, 2, 2, 0, 0, 0],
        }
    )


def test_read_panel_file_integer_periods(tmp_path):
    path = write(tmp_path, simple_panel())
    frame = panel_file.read_panel_file(
        path, outcome="y", exposure="pop", covariates=("x",), start_column="first"
    )
    assert list(frame.columns) == ["unit", "period", "y", "exposure", "x", "start"]
    assert frame["period"].dtype == np.int64 and frame["y"].tolist() == [1, 0, 2, 3, 4, 0]
    assert (
        frame["start"].tolist()[:3] == [2, 2, 2]
        and frame["start"].isna().tolist()[3:] == [True] * 3
    )
    assert frame.attrs["dropped_rows"] == 0


def test_read_panel_file_dates_single_series_and_parquet(tmp_path):
    months = pd.date_range("2020-01-01", periods=6, freq="MS")
    data = pd.DataFrame({"month": months, "n": [1, 2, 3, 4, 5, 6]})
    data.to_parquet(tmp_path / "p.parquet")
    frame = panel_file.read_panel_file(
        tmp_path / "p.parquet", unit_column=None, time_column="month", outcome="n"
    )
    assert (frame["unit"] == "all").all() and list(frame["period"]) == list(months)
    data.assign(month=months.strftime("%Y-%m-%d")).to_csv(tmp_path / "p.csv", index=False)
    from_csv = panel_file.read_panel_file(
        tmp_path / "p.csv", unit_column="", time_column="month", outcome="n"
    )
    pd.testing.assert_frame_equal(frame, from_csv, check_dtype=False)


def test_read_panel_file_cr_line_endings_trailing_column_and_leading_zeros(tmp_path):
    text = "code,t,count,\r0363,1,5,\r0363,2,6,\r0599,1,7,\r0599,2,8,\r"
    (tmp_path / "mac.csv").write_bytes(text.encode())
    frame = panel_file.read_panel_file(
        tmp_path / "mac.csv", unit_column="code", time_column="t", outcome="count"
    )
    assert frame["unit"].tolist() == ["0363", "0363", "0599", "0599"]
    assert frame["y"].tolist() == [5, 6, 7, 8] and list(frame.columns) == ["unit", "period", "y"]


def test_read_panel_file_semicolons_and_decimal_commas(tmp_path):
    (tmp_path / "nl.csv").write_text("unit;period;y;w\nA;1;1;0,5\nA;2;2;1,5\n", encoding="utf-8")
    frame = panel_file.read_panel_file(tmp_path / "nl.csv", outcome="y", covariates=("w",))
    assert frame["w"].tolist() == [0.5, 1.5]


def error_of(tmp_path: Path, frame: pd.DataFrame, **options) -> str:
    path = write(tmp_path, frame)
    with pytest.raises(DataError) as err:
        panel_file.read_panel_file(path, **{"outcome": "y", **options})
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    return message


def test_missing_column_lists_columns_and_suggests(tmp_path):
    message = error_of(tmp_path, simple_panel(), outcome="yy")
    assert "`yy` (did you mean `y`?)" in message and "unit, period, y, pop, x, first" in message


def test_duplicate_unit_period_names_rows(tmp_path):
    frame = pd.concat([simple_panel(), simple_panel().iloc[[4]]], ignore_index=True)
    message = error_of(tmp_path, frame)
    assert (
        "column `period`" in message and "more than once" in message and "data rows 5, 7" in message
    )
    # a repeated cross-section may have many rows per unit-period
    assert len(panel_file.read_panel_file(write(tmp_path, frame), outcome="y", repeated=True)) == 7


def test_gap_names_unit_and_periods(tmp_path):
    frame = simple_panel().drop(index=[1])
    message = error_of(tmp_path, frame)
    assert "missing periods: A (2)" in message
    single = pd.DataFrame(
        {"period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-04-01"]), "y": [1, 2, 3]}
    )
    message = error_of(tmp_path, single, unit_column=None)
    assert "all (2024-03-01)" in message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (-1, "whole numbers >= 0"),
        (1.5, "whole numbers >= 0"),
        (None, "missing outcome"),
        ("many", "not a number"),
    ],
)
def test_bad_counts_name_column_and_rows(tmp_path, value, problem):
    frame = simple_panel().astype({"y": object})
    frame.loc[4, "y"] = value
    message = error_of(tmp_path, frame)
    assert "column `y`" in message and problem in message and "data rows 5)" in message


def test_non_counts_allow_fractions_and_negatives(tmp_path):
    frame = simple_panel().assign(y=[-1.5, 0.2, 3.0, 1.0, 2.0, 3.0])
    assert (
        panel_file.read_panel_file(write(tmp_path, frame), outcome="y", counts=False)["y"].iloc[0]
        == -1.5
    )


@pytest.mark.parametrize("value", [0.0, -3.0, None])
def test_bad_exposure(tmp_path, value):
    frame = simple_panel()
    frame.loc[2, "pop"] = value
    message = error_of(tmp_path, frame, exposure="pop")
    assert "column `pop`" in message and "data rows 3)" in message


def test_inconsistent_start_within_unit(tmp_path):
    frame = simple_panel()
    frame.loc[2, "first"] = 3
    message = error_of(tmp_path, frame, start_column="first")
    assert (
        "column `first`" in message
        and "differs within unit(s) A" in message
        and "data rows 1, 2, 3" in message
    )


def test_missing_outcome_in_repeated_cross_section_dropped_only_when_asked(tmp_path):
    frame = simple_panel().astype({"y": float})
    frame.loc[[1, 4], "y"] = np.nan
    message = error_of(tmp_path, frame, repeated=True)
    assert "data rows 2, 5" in message
    result = panel_file.read_panel_file(
        write(tmp_path, frame), outcome="y", repeated=True, drop_missing=True
    )
    assert len(result) == 4 and result.attrs["dropped_rows"] == 2
    assert result.attrs["dropped_row_numbers"] == [2, 5]


# --- published data (outside the repository) --------------------------------------------------
def test_benchmark_files_read_as_published(benchmarks):
    florida = panel_file.read_panel_file(
        benchmarks / "florida_syg_homicide_wide.csv",
        unit_column=None,
        time_column="time",
        outcome="fl_hom",
        exposure="fl_stdpop",
    )
    raw = pd.read_csv(benchmarks / "florida_syg_homicide_wide.csv")
    assert len(florida) == 192 and florida["y"].sum() == raw["fl_hom"].sum()
    card = panel_file.read_panel_file(
        benchmarks / "card_krueger_njmin3.csv",
        unit_column="nj",
        time_column="d",
        outcome="fte",
        counts=False,
        repeated=True,
        drop_missing=True,
    )
    assert (
        len(card) == 794 and card.attrs["dropped_rows"] == 26
    )  # the 794 complete rows of the paper
    mpdta = panel_file.read_panel_file(
        benchmarks / "mpdta_min_wage_teen_emp.csv",
        unit_column="countyreal",
        time_column="year",
        outcome="lemp",
        counts=False,
        start_column="first.treat",
    )
    assert len(mpdta) == 2500 and mpdta["unit"].nunique() == 500
    cohorts = mpdta.drop_duplicates("unit")["start"].value_counts(dropna=False)
    assert (
        cohorts[2004] == 20
        and cohorts[2006] == 40
        and cohorts[2007] == 131
        and cohorts[pd.NA] == 309
    )


def test_a_panel_file_without_rows_is_an_error(tmp_path):
    (tmp_path / "p.csv").write_text("unit,period,y\n")
    with pytest.raises(DataError, match="no data rows"):
        panel_file.read_panel_file(tmp_path / "p.csv", outcome="y")
