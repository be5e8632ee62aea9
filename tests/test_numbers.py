"""Number formats decided per file: a Dutch population of "670.000" is 670,000, never 670."""

from __future__ import annotations

import pandas as pd
import pytest

from evaluation.data import units as store_units
from evaluation.data.numbers import read_whole_numbers
from evaluation.errors import DataError


def whole(values, *, dutch_file=False):
    return read_whole_numbers(pd.Series(values), dutch_file=dutch_file, source="f.csv",
                              column="population")


@pytest.mark.parametrize(("values", "dutch_file", "expected", "fmt"), [
    (["670000", "12345"], False, [670_000, 12_345], "plain"),
    (["670.000", "12.345"], False, [670_000, 12_345], "dutch"),  # 12.345 is no whole number in English
    (["670,000", "12,345"], False, [670_000, 12_345], "english"),
    (["1.234.567", "670.000"], False, [1_234_567, 670_000], "dutch"),  # two dots: only Dutch
    (["1,234,567", "670,000"], False, [1_234_567, 670_000], "english"),
    (["670000.0", "670.000"], False, [670_000, 670], "english"),  # a decimal point decides
    (["670.000"], True, [670_000], "dutch"),  # a ';'-separated file is Dutch
    (["670000", "1.234,5"], False, [670_000, None], "plain"),  # 1.234,5 is no whole number
])
def test_formats(values, dutch_file, expected, fmt):
    got = whole(values, dutch_file=dutch_file)
    assert got.format == fmt
    assert [None if pd.isna(v) else v for v in got.values] == expected


def test_an_ambiguous_file_is_refused_with_example_rows():
    with pytest.raises(DataError) as err:
        whole(["670.000", "150.000", "9000"])
    text = str(err.value)
    assert text.startswith("f.csv: column `population`: ambiguous numbers:")
    assert '"670.000" (data row 1), "150.000" (data row 2)' in text and "\n" not in text
    assert "without separators" in text


def test_a_file_mixing_both_formats_is_refused_with_example_rows():
    with pytest.raises(DataError) as err:
        whole(["12.345", "9000", "12,345"])
    assert ('mixed number formats: "12.345" (data row 1) is Dutch, "12,345" (data row 3) is '
            "English") in str(err.value)


def units_file(tmp_path, text: str):
    path = tmp_path / "u.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_dutch_units_file_is_read_at_its_true_size(tmp_path):
    path = units_file(tmp_path, "code;name;year;population\nGM0599;Rotterdam;2024;670.000\n"
                                "GM0363;Amsterdam;2024;918.000\n")
    db = tmp_path / "s.duckdb"
    report = store_units.import_units(path, db_path=db)
    assert report.number_format == "dutch" and report.version == 1
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT code, population FROM units ORDER BY code").fetchall() == [
        ("GM0363", 918_000), ("GM0599", 670_000)]
    con.close()


@pytest.mark.parametrize(("text", "message"), [
    ("code,name,year,population\nGM0599,R,2024,\"670.000\"\nGM0363,A,2024,\"150.000\"\n",
     "ambiguous numbers"),
    ("code,name,year,population\nGM0599,R,2024,400\nGM0363,A,2024,2000000\nGM0344,U,2024,9000\n",
     "population: below 500 or above 1,500,000, implausible for a municipality (read as plain "
     "numbers) (data rows 1, 2)"),
    ("code;name;year;population\nGM0599;R;2024;670,5\n",  # Dutch decimal comma: 670.5
     "population: not a positive whole number (data rows 1)"),
])
def test_implausible_or_ambiguous_populations_are_refused_whole(tmp_path, text, message):
    db = tmp_path / "s.duckdb"
    with pytest.raises(DataError) as err:
        store_units.import_units(units_file(tmp_path, text), db_path=db)
    assert message in str(err.value) and "nothing was stored" in str(err.value)
    assert not db.exists()
