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
    assert "Amsterdam" in text and "Incidents per year" in text


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
