"""The design and registry commands end to end: output lines and exit codes."""

from __future__ import annotations

import json
import types

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation.cli import design_cmds, main
from evaluation.cli.context import shown
from evaluation.workspace import init_workspace

UNITS = ["GM0599", "GM0363", "GM0344", "GM0518"]


def synthetic_source(design, workspace, db):
    """Stands in for evaluation.prepare.source_panel: 66 weeks from 2024-01-01, cut-off 2025-04-06."""
    periods = pd.date_range("2024-01-01", periods=66, freq="W-MON")
    frame = pd.DataFrame([(u, p) for u in UNITS for p in periods], columns=["unit", "period"])
    frame["y"] = np.random.default_rng(1).poisson(2.0, len(frame)).astype(float)
    return types.SimpleNamespace(frame=frame, cutoff=pd.Timestamp("2025-04-06").date(), integer_periods=False,
                                 source="synthetic")


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setattr(design_cmds, "_source_panel", synthetic_source)
    return init_workspace(tmp_path / "ws")


def run(ws, capsys, *args):
    code = main(["--workspace", str(ws.root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def new_design(ws, capsys, design_id="fl-01-visits", kind="did", units=("GM0599", "GM0363")):
    code, out, _ = run(ws, capsys, "design", "new", design_id, "--design", kind)
    assert code == 0 and f"wrote {shown(ws.design_path(design_id))}: fill in the TODOs" in out
    path = ws.design_path(design_id)
    text = path.read_text().replace("units: [GM0000]", f"units: [{', '.join(units)}]")
    for name in ("title", "owner", "hypothesis"):
        text = "\n".join(f'{name}: "Filled in {name}"' if line.startswith(f"{name}:") else line
                         for line in text.split("\n"))
    path.write_text(text)
    return path


@pytest.mark.parametrize("command", [["design", "new"], ["design", "check"], ["register"], ["amend"],
                                     ["registry", "verify"], ["registry", "repair"], ["status"]])
def test_every_command_has_help(capsys, command):
    assert main([*command, "--help"]) == 0
    assert "Usage: evaluation" in capsys.readouterr().out


def test_design_new_refuses_to_overwrite(ws, capsys):
    path = new_design(ws, capsys)
    before = path.read_text()
    code, _, err = run(ws, capsys, "design", "new", "fl-01-visits", "--design", "its")
    assert code == 1 and err.strip() == f"error: {shown(path)}: already exists; edit it, or choose another ID"
    assert path.read_text() == before
    code, _, err = run(ws, capsys, "design", "new", "Bad_Id", "--design", "did")
    assert code == 1 and "lowercase slug" in err and err.count("\n") == 1


def test_design_check_passes_a_filled_in_template(ws, capsys):
    path = new_design(ws, capsys)
    code, out, err = run(ws, capsys, "design", "check", str(path))
    assert code == 0, err
    assert out.startswith("design OK: fl-01-visits (hash ") and "data to 2025-04-06" in out


def test_design_check_reports_the_placeholder_unit(ws, capsys):
    run(ws, capsys, "design", "new", "fl-02-cams", "--design", "its")
    code, out, err = run(ws, capsys, "design", "check", "fl-02-cams")  # an id works too
    assert code == 1
    assert out.splitlines()[-1] == ("error: treatment.units: unit(s) GM0000 are not in the data; check the codes "
                                    "(the data have 4 units, e.g. GM0344, GM0363, GM0518)")
    assert "4 error(s), see above" in err


def test_design_check_prints_one_line_per_validation_problem(ws, capsys):
    path = new_design(ws, capsys)
    path.write_text(path.read_text().replace("model: poisson", "modle: poisson").replace("design: did", "design: rdd"))
    code, out, err = run(ws, capsys, "design", "check", str(path))
    assert code == 1
    assert out.splitlines() == ["error: design: Input should be 'did' or 'its'",
                                "error: analysis.modle: unknown field; did you mean `model`?"]
    assert err.strip() == f"error: {path}: 2 error(s), see above"


def test_design_check_warns_on_few_pre_periods(ws, capsys):
    path = new_design(ws, capsys)
    path.write_text(path.read_text().replace("start: 2024-01-01", "start: 2024-12-02"))
    code, out, _ = run(ws, capsys, "design", "check", str(path))
    assert code == 0
    assert out.splitlines()[0].startswith("warning: window.start: only 18 pre-periods with data")
    assert "1 warning(s)" in out


def test_register_amend_status_verify(ws, capsys):
    path = new_design(ws, capsys)
    code, out, err = run(ws, capsys, "register", str(path), "--by", "E. de Vries")
    assert code == 0, err
    assert out.startswith("registration 1: fl-01-visits ") and "by E. de Vries" in out
    assert "data cut-off 2025-04-06" in out and "RETROSPECTIVE" not in out

    code, _, err = run(ws, capsys, "register", str(path), "--by", "x")
    assert code == 1 and "already registered" in err and "evaluation amend" in err

    code, _, err = run(ws, capsys, "amend", str(path), "--reason", "no change", "--by", "x")
    assert code == 1 and "nothing changed" in err

    path.write_text(path.read_text().replace("min_reduction: 0.1 ", "min_reduction: 0.2 "))
    code, out, err = run(ws, capsys, "status")
    assert code == 0 and out.split()[:2] == ["fl-01-visits", "modified-since-registration"]
    code, out, _ = run(ws, capsys, "registry", "verify")
    assert code == 1 and "edited without an amendment" in out

    code, out, err = run(ws, capsys, "amend", str(path), "--reason", "steering committee asked for 20%",
                         "--by", "P. Jansen")
    assert code == 0, err
    assert out.splitlines()[1] == "  decision.min_reduction: 0.1 -> 0.2"

    new_design(ws, capsys, "fl-02-cams", "its", units=("GM0344",))
    code, out, _ = run(ws, capsys, "status")
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["fl-01-visits", "amended"] and "1 amendment(s)" in lines[0]
    assert lines[1].split()[:2] == ["fl-02-cams", "unregistered"]
    code, out, _ = run(ws, capsys, "status", "--json")
    rows = json.loads(out)
    assert [(r["id"], r["status"], r["amendments"]) for r in rows] == [("fl-01-visits", "amended", 1),
                                                                        ("fl-02-cams", "unregistered", 0)]
    code, out, _ = run(ws, capsys, "registry", "verify")
    assert code == 0 and out.strip() == "registry OK: 2 entries, 1 designs"


def test_retrospective_registration_is_announced(ws, capsys, monkeypatch):
    path = new_design(ws, capsys)
    path.write_text(path.read_text().replace("start: 2025-04-14", "start: 2025-03-03"))
    code, out, _ = run(ws, capsys, "register", str(path), "--by", "x")
    assert code == 0 and "RETROSPECTIVE: data after the start already existed (cut-off 2025-04-06)" in out
    code, out, _ = run(ws, capsys, "status")
    assert out.split()[:2] == ["fl-01-visits", "retrospective"]


def test_a_broken_design_never_touches_the_ledger(ws, capsys):
    path = new_design(ws, capsys)
    run(ws, capsys, "register", str(path), "--by", "x")
    other = new_design(ws, capsys, "fl-02-cams")
    before = ws.registry.read_bytes()
    other.write_text(other.read_text().replace("\nwindow:\n", "\nwindow: [\n"))
    code, _, err = run(ws, capsys, "register", str(other), "--by", "x")
    assert code == 1 and "not valid YAML at line" in err
    other.write_text(yaml.safe_dump({"id": "fl-02-cams"}))
    code, _, err = run(ws, capsys, "register", str(other), "--by", "x")
    assert code == 1 and "title: required field is missing" in err
    assert ws.registry.read_bytes() == before


def test_a_design_failing_its_check_is_not_registered(ws, capsys):
    run(ws, capsys, "design", "new", "fl-03-todo", "--design", "did")
    code, _, err = run(ws, capsys, "register", "fl-03-todo", "--by", "x")
    assert code == 1
    path = shown(ws.design_path("fl-03-todo"))
    assert err.strip() == (f"error: {path}: not registered: title: still the template's TODO text; "
                           f"say what it is before registering (and 3 more); see `evaluation design check {path}`")
    code, out, _ = run(ws, capsys, "design", "check", "fl-03-todo")
    assert code == 1 and [line.split(":")[1].strip() for line in out.splitlines()] == [
        "title", "owner", "hypothesis", "treatment.units"]
    assert ws.registry.read_bytes() == b""


def test_only_workspace_designs_can_be_registered(ws, capsys, tmp_path):
    path = new_design(ws, capsys)
    outside = tmp_path / "fl-01-visits.yaml"
    outside.write_text(path.read_text())
    code, _, err = run(ws, capsys, "register", str(outside), "--by", "x")
    assert code == 1 and "only designs in the workspace's designs/ folder can be registered" in err


def test_verify_and_repair_a_crashed_write(ws, capsys):
    path = new_design(ws, capsys)
    run(ws, capsys, "register", str(path), "--by", "x")
    good = ws.registry.read_bytes()
    ws.registry.write_bytes(good + b'{"seq": 2, "kind": "regis')
    code, out, err = run(ws, capsys, "registry", "verify")
    assert code == 1
    assert out.strip().startswith("error: designs/registry.jsonl: line 2 is incomplete")
    assert "1 problem(s)" in err
    code, out, _ = run(ws, capsys, "registry", "repair")
    assert code == 0 and out.startswith("removed the incomplete line 2")
    assert ws.registry.read_bytes() == good
    assert run(ws, capsys, "registry", "verify")[1].strip() == "registry OK: 1 entries, 1 designs"


def test_status_of_an_empty_workspace(ws, capsys):
    code, out, _ = run(ws, capsys, "status")
    assert code == 0 and "no designs yet" in out
