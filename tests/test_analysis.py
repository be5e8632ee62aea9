"""`evaluation analyse` end to end on a small panel-file workspace: the result contract,
registration gating, byte-identical reruns, and bad input refused with one line and nothing written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation import analyse, load_design
from evaluation.cli import main
from evaluation.estimators.output import TIDY_COLUMNS
from evaluation.workspace import init_workspace

N_UNITS, N_PERIODS, START = 24, 40, 30


def _panel(seed: int = 3, *, rate_ratio: float = 0.6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit_level = rng.gamma(4.0, 1.0, N_UNITS)
    period_level = np.exp(0.3 * np.sin(np.arange(N_PERIODS) / 4))
    rows = []
    for i in range(N_UNITS):
        for t in range(N_PERIODS):
            mu = unit_level[i] * period_level[t] * (rate_ratio if i < 2 and t >= START else 1.0)
            rows.append({"unit": f"U{i:02d}", "period": t + 1, "attacks": int(rng.poisson(mu)),
                         "population": 1000 + 10 * i})
    return pd.DataFrame(rows)


def _design(**overrides) -> dict:
    design = {
        "id": "pilot", "title": "Pilot", "owner": "Gemeente Test", "hypothesis": "Fewer attacks.",
        "design": "did",
        "data": {"source": "panel.csv", "frequency": "week", "exposure": "population"},
        "treatment": {"units": ["U00", "U01"], "start": START + 1},
        "window": {"start": 1, "end": N_PERIODS},
        "analysis": {"model": "poisson", "inference": "auto", "randomization_draws": 200,
                     "event_window": [-4, 4]},
    }
    for key, value in overrides.items():
        design[key] = {**design[key], **value} if isinstance(value, dict) else value
    return design


@pytest.fixture
def ws(tmp_path):
    workspace = init_workspace(tmp_path / "ws")
    _panel().to_csv(workspace.root / "data" / "panel.csv", index=False)
    return workspace


def _write(ws, design: dict) -> str:
    design = {**design, "data": {**design["data"], "source": str(ws.root / "data" / "panel.csv")}}
    path = ws.designs / f"{design['id']}.yaml"
    path.write_text(yaml.safe_dump(design), encoding="utf-8")
    return str(path)


def _run(ws, capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--workspace", str(ws.root), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_unregistered_design_is_refused_then_runs_exploratory(ws, capsys):
    path = _write(ws, _design())
    code, _, err = _run(ws, capsys, "analyse", path)
    assert code == 1 and err.count("\n") == 1 and "--exploratory" in err
    assert not (ws.analyses / "pilot").exists()

    code, out, _ = _run(ws, capsys, "analyse", path, "--exploratory", "--json")
    assert code == 0
    result = json.loads(out)
    folder = ws.analyses / "pilot"
    assert result == json.loads((folder / "result.json").read_text())
    assert result["registration"] == "exploratory" and result["decision"]["verdict"] == "inconclusive"
    assert result["design_sha256"] == load_design(path).sha256 and len(result["data_sha256"]) == 64
    primary = result["primary"]
    assert primary["scale"] == "rate_ratio" and primary["inference"]["used"] == "randomization"
    assert primary["pct_change"] == pytest.approx(100 * (primary["estimate"] - 1))
    assert (primary["n_treated"], primary["n_control"], primary["n_periods"]) == (2, N_UNITS - 2, N_PERIODS)
    assert primary["ci_low"] < 0.6 < primary["ci_high"]
    assert {"python", "statsmodels", "pyfixest", "pymc"} <= set(result["software"])
    assert {c["name"] for c in result["checks"]} >= {"pre_trends"}
    # the panel is simulated with parallel trends (no effect before the start): pre-trends pass
    assert {c["name"]: c["status"] for c in result["checks"]}["pre_trends"] == "pass"
    estimates = pd.read_csv(folder / "estimates.csv")
    assert tuple(estimates.columns) == TIDY_COLUMNS and estimates.loc[0, "term"] == "treatment"
    assert (folder / "series.csv").exists() and (folder / "event_study.csv").exists()


def test_registered_run_is_labelled_and_byte_identical_on_rerun(ws, capsys):
    path = _write(ws, _design())
    assert _run(ws, capsys, "register", path, "--by", "Tester")[0] == 0
    first = analyse(path, workspace=ws)
    assert first.registration == "retrospective"  # the post-period data existed at registration
    files = {p.name: p.read_bytes() for p in (ws.analyses / "pilot").iterdir()}
    again = analyse(load_design(path), workspace=ws)
    assert again.to_dict() == first.to_dict()
    assert files == {p.name: p.read_bytes() for p in (ws.analyses / "pilot").iterdir()}

    edited = _design(analysis={"alpha": 0.10})
    _write(ws, edited)
    code, _, err = _run(ws, capsys, "analyse", "pilot")
    assert code == 1 and "amend" in err


@pytest.mark.parametrize(("change", "expected"), [
    ({"treatment": {"start": 1}}, "treatment.start"),                      # no pre-period at all
    ({"controls": ["U00", "U05"]}, "controls"),                            # treated and control
    ({"treatment": {"units": ["U99", "U01"]}}, "U99"),                     # unknown unit
])
def test_bad_designs_give_one_line_and_write_nothing(ws, capsys, change, expected):
    path = _write(ws, _design(**change))
    code, _, err = _run(ws, capsys, "analyse", path, "--exploratory")
    assert code == 1 and err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert not (ws.analyses / "pilot").exists()


def test_all_zero_treated_series_and_gaps_are_refused(ws, capsys):
    panel = _panel()
    panel.loc[panel["unit"].isin(["U00", "U01"]), "attacks"] = 0
    panel.to_csv(ws.root / "data" / "panel.csv", index=False)
    path = _write(ws, _design())
    code, _, err = _run(ws, capsys, "analyse", path, "--exploratory")
    assert code == 1 and "no events" in err and not (ws.analyses / "pilot").exists()

    gappy = _panel().query("not (unit == 'U03' and period == 12)")
    gappy.to_csv(ws.root / "data" / "panel.csv", index=False)
    code, _, err = _run(ws, capsys, "analyse", path, "--exploratory")
    assert code == 1 and "U03" in err and err.count("\n") == 1
    assert not (ws.analyses / "pilot").exists()
