"""`evaluation data import | summary | units`: exit codes, output and where the store lives."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evaluation.cli import main
from evaluation.data import store
from evaluation.data import summary as store_summary
from evaluation.workspace import DB_ENV, init_workspace

COLUMNS = list(store.INCIDENT_COLUMNS)


def rows(n: int, *, bad: int = 0) -> list[dict[str, str]]:
    out = [
        {
            "incident_id": f"I{i}",
            "date": f"2024-03-{1 + i % 28:02d}",
            "municipality_code": "GM0363",
            "municipality": "Amsterdam",
            "target_type": "woning",
            "outcome": "explosie",
            "neighbourhood_code": "",
        }
        for i in range(n)
    ]
    for i in range(bad):
        out[i]["outcome"] = "boem"
    return out


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.delenv(DB_ENV, raising=False)
    return init_workspace(tmp_path / "ws")


def incident_file(tmp_path: Path, n: int, *, bad: int = 0, name: str = "in.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows(n, bad=bad), columns=COLUMNS).to_csv(path, index=False)
    return path


def run(ws, *args: str) -> int:
    return main(["--workspace", str(ws.root), *args])


def test_clean_import_exits_0_and_prints_counts(ws, tmp_path, capsys):
    assert run(ws, "data", "import", str(incident_file(tmp_path, 5))) == 0
    out = capsys.readouterr().out
    assert "stored (new)" in out and "5" in out
    assert store_summary.summary(ws.db_path())["incidents"] == 5


def test_rejects_exit_1_unless_allowed_but_valid_rows_are_stored(ws, tmp_path, capsys):
    path = incident_file(tmp_path, 6, bad=2)
    assert run(ws, "data", "import", str(path)) == 1
    captured = capsys.readouterr()
    error_lines = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "2 row(s) quarantined (rows 1, 2)" in error_lines[0]
    assert "--allow-rejects" in error_lines[0]
    assert "outcome: unknown value" in captured.out
    assert store_summary.summary(ws.db_path())["incidents"] == 4
    assert run(ws, "data", "import", str(path), "--allow-rejects") == 0
    assert store_summary.summary(ws.db_path())["incidents"] == 4  # idempotent


def test_summary_json_equals_python_api(ws, tmp_path, capsys):
    run(ws, "data", "import", str(incident_file(tmp_path, 7)))
    capsys.readouterr()
    assert run(ws, "data", "summary", "--json") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == store_summary.summary(ws.db_path())
    assert printed["by_year"] == {"2024": 7}
    assert run(ws, "data", "summary") == 0
    text = capsys.readouterr().out
    assert "Incidents per year" in text and "GM0363" in text
    assert "municipality reference: none loaded" in text and "data version 1" in text


def test_db_option_and_environment_override_the_workspace_store(ws, tmp_path, monkeypatch):
    other = tmp_path / "elsewhere" / "x.duckdb"
    assert run(ws, "data", "import", str(incident_file(tmp_path, 3)), "--db", str(other)) == 0
    assert other.exists() and not ws.db_path().exists()
    env_db = tmp_path / "env.duckdb"
    monkeypatch.setenv(DB_ENV, str(env_db))
    assert (
        main(["data", "import", str(incident_file(tmp_path, 2, name="b.csv"))]) == 0
    )  # no workspace
    assert store_summary.summary(env_db)["incidents"] == 2


def test_units_command_and_bad_units(ws, tmp_path, capsys):
    good = tmp_path / "u.csv"
    pd.DataFrame(
        {"code": ["GM0363"], "name": ["Amsterdam"], "year": [2024], "population": [900000]}
    ).to_csv(good, index=False)
    assert run(ws, "data", "units", str(good)) == 0
    assert "1 new" in capsys.readouterr().out
    assert run(ws, "data", "units", str(good)) == 0
    assert "1 unchanged" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {"code": ["GM0363"], "name": ["Amsterdam"], "year": [2025], "population": [0]}
    ).to_csv(bad, index=False)
    assert run(ws, "data", "units", str(bad)) == 1
    err = capsys.readouterr().err
    assert "population: not a positive whole number (data rows 1)" in err
    assert store_summary.summary(ws.db_path())["units"] == {
        "codes": 1,
        "first_year": 2024,
        "last_year": 2024,
    }


def test_summary_without_a_store_is_a_one_line_error(ws, capsys):
    assert run(ws, "data", "summary") == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "evaluation data import" in err


def test_missing_file_exits_1(ws, tmp_path, capsys):
    assert run(ws, "data", "import", str(tmp_path / "nope.csv")) == 1
    assert "file not found" in capsys.readouterr().err


# --- the bad inputs: each one line naming the file, the rows and the fix; exit 1 ------
REFERENCE = "code,name,valid_from,valid_to,successor\nGM0363,Amsterdam,,,\nGM0599,Rotterdam,,,\n"
INCIDENTS = "incident_id,date,municipality_code,municipality,target_type,outcome,neighbourhood_code\n"
BAD_INPUTS = {
    "unknown code": (
        "import", INCIDENTS + "A1,2024-03-01,GM0363,Amsterdam,woning,explosie,\n"
        "A2,2024-03-02,GM9999,Nergens,woning,explosie,\n",
        ["in.csv: 1 row(s) quarantined (rows 2)", "fix them"],
        "GM9999 is not in the municipality reference"),
    "date before 1677": (
        "import", INCIDENTS + "A1,1600-05-05,GM0363,Amsterdam,woning,explosie,\n"
        "A2,2024-03-02,GM0363,Amsterdam,woning,explosie,\n",
        ["in.csv: 1 row(s) quarantined (rows 1)"], "date: before 1990-01-01"),
    "date in 1850": (
        "import", INCIDENTS + "A1,1850-01-01,GM0363,Amsterdam,woning,explosie,\n",
        ["in.csv: 1 row(s) quarantined (rows 1)"], "date: before 1990-01-01"),
    "unreadable csv": (
        "import", INCIDENTS + "A1,2024-03-01,GM0363\n",
        ["in.csv: not a readable CSV file (line 2: Expected Number of Columns: 7 Found: 3)",
         "fix the file"], None),
    "ambiguous population": (
        "units", 'code,name,year,population\nGM0363,A,2024,"918.000"\nGM0599,R,2024,"670.000"\n',
        ["in.csv: column `population`: ambiguous numbers:", "(data row 1)",
         "without separators", "nothing was stored"], None),
    "implausible population": (
        "units", "code;name;year;population\nGM0363;A;2024;418\nGM0599;R;2024;670.000\n",
        ["in.csv: population: below 500", "(data rows 1)", "nothing was stored"], None),
    "unit code not in the reference": (
        "units", "code,name,year,population\nGM0001,X,2024,5000\n",
        ["in.csv: code(s) GM0001 are not in the municipality reference (data rows 1)"], None),
    "correction of an unknown incident": (
        "correct", "incident_id,outcome\nNOPE,poging\n",
        ["in.csv: 1 row(s) quarantined (rows 1)"], "incident_id: not in the store"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_inputs_exit_1_with_one_line(ws, tmp_path, capsys, case):
    command, text, parts, shown = BAD_INPUTS[case]
    (tmp_path / "ref.csv").write_text(REFERENCE, encoding="utf-8")
    assert run(ws, "data", "municipalities", str(tmp_path / "ref.csv")) == 0
    if command == "correct":
        assert run(ws, "data", "import", str(incident_file(tmp_path, 2, name="first.csv"))) == 0
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert run(ws, "data", command, str(path)) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert all(part in lines[0] for part in parts), lines[0]
    if shown:  # the full reason is kept with the row in the quarantine table
        import duckdb

        con = duckdb.connect(str(ws.db_path()), read_only=True)
        reasons = [r for (r,) in con.execute("SELECT reason FROM quarantine").fetchall()]
        con.close()
        assert len(reasons) == 1 and shown in reasons[0]


def test_dutch_population_and_corrections_through_the_cli(ws, tmp_path, capsys):
    units = tmp_path / "u.csv"
    units.write_text("code;name;year;population\nGM0363;Amsterdam;2024;918.000\n", encoding="utf-8")
    assert run(ws, "data", "units", str(units)) == 0
    assert "(dutch number format)" in capsys.readouterr().out
    assert run(ws, "data", "import", str(incident_file(tmp_path, 3))) == 0
    fix = tmp_path / "fix.csv"
    fix.write_text("incident_id,target_type,reason\nI1,bedrijf,verkeerd doel\n", encoding="utf-8")
    assert run(ws, "data", "correct", str(fix)) == 0
    assert run(ws, "data", "retract", "I2", "--reason", "dubbel") == 0
    capsys.readouterr()
    assert run(ws, "data", "history", "--verify", "--json") == 0
    history = json.loads(capsys.readouterr().out)
    assert [(v["kind"], v["rows_stored"]) for v in history] == [
        ("units", 1), ("incidents", 3), ("correction", 1), ("retraction", 1)]
    assert run(ws, "data", "history") == 0
    out = capsys.readouterr().out
    assert "verkeerd doel" not in out and "dubbel" in out and "matches the stored data" in out
    summary = store_summary.summary(ws.db_path())
    assert (summary["incidents"], summary["corrections"], summary["retractions"]) == (2, 1, 1)
    assert summary["by_target_type"]["2024"]["bedrijf"] == 1
