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
    assert lines[1].split()[:2] == ["fl-02-cams", "draft"]
    code, out, _ = run(ws, capsys, "status", "--json")
    rows = json.loads(out)
    assert [(r["id"], r["status"], r["amendments"]) for r in rows] == [("fl-01-visits", "amended", 1),
                                                                        ("fl-02-cams", "draft", 0)]
    code, out, _ = run(ws, capsys, "registry", "verify")
    assert code == 0 and out.strip().splitlines()[-1].startswith("registry OK: 2 entries, 1 designs; head ")


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
    code, _, err = run(ws, capsys, "registry", "repair")
    assert code == 1 and "Missing option '--by'" in err
    code, out, _ = run(ws, capsys, "registry", "repair", "--by", "ops")
    assert code == 0 and out.startswith("removed the incomplete line 2 (25 characters) and logged the "
                                        "repair as entry 2")
    assert ws.registry.read_bytes().startswith(good)
    assert "registry OK: 2 entries, 1 designs" in run(ws, capsys, "registry", "verify")[1]


def test_status_of_an_empty_workspace(ws, capsys):
    code, out, _ = run(ws, capsys, "status")
    assert code == 0 and "no designs yet" in out


def fake_diagnosis(ws, design_id, **extra):
    """A saved diagnosis for exactly the current design (its content hash made as `diagnose` does)."""
    from evaluation.design.model import load_design
    from evaluation.diagnose import content_sha256, write_diagnosis

    diagnosis = {"id": design_id, "design_sha256": load_design(ws.design_path(design_id)).sha256,
                 "minimum_detectable_reduction": 0.3, "minimum_detectable_text": "30%",
                 "power_target": 0.8, "suggestions": [], **extra}
    diagnosis["sha256"] = content_sha256(diagnosis)
    write_diagnosis(diagnosis, ws)
    return diagnosis["sha256"]


def test_register_says_when_and_with_which_diagnosis(ws, capsys):
    path = new_design(ws, capsys)
    code, out, _ = run(ws, capsys, "register", str(path), "--by", "x")
    lines = out.splitlines()
    assert code == 0 and lines[0].endswith("; before outcome data: registered after the start, on data "
                                           "that end before it; data cut-off 2025-04-06")
    assert lines[1] == (f"  no diagnosis attached: no diagnosis yet; run `evaluation diagnose {shown(path)}` "
                        "to see whether the design can detect a 10% reduction")
    sha = fake_diagnosis(ws, "fl-01-visits")
    code, out, err = run(ws, capsys, "amend", str(path), "--reason", "diagnosis made", "--by", "y")
    assert code == 0, err
    assert out.splitlines()[1:] == [f"  diagnosis: none -> {sha[:12]}"]
    code, out, _ = run(ws, capsys, "status")
    assert out.split()[:2] == ["fl-01-visits", "amended"]
    assert f"before outcome data; diagnosis {sha[:12]}; 1 amendment(s)" in out
    head = json.loads(ws.registry.read_text().splitlines()[-1])["entry_sha256"]
    code, out, _ = run(ws, capsys, "registry", "verify", "--expect-head", head[:16])
    assert code == 0 and f"note: expected head {head[:12]} is entry 2 (id fl-01-visits); it is the head" in out
    code, out, _ = run(ws, capsys, "registry", "verify", "--expect-head", "f" * 64)
    assert code == 1 and "error: designs/registry.jsonl: no entry has the expected head ffffffffffff" in out


def test_a_new_registration_with_a_diagnosis_attaches_it(ws, capsys):
    path = new_design(ws, capsys)
    sha = fake_diagnosis(ws, "fl-01-visits")
    code, out, _ = run(ws, capsys, "register", str(path), "--by", "x")
    assert code == 0 and out.splitlines()[1] == f"  diagnosis attached: {sha[:12]} (minimum detectable reduction 30%)"
    assert json.loads(ws.registry.read_text())["diagnosis_sha256"] == sha
    # a diagnosis made before another design was registered kept another pool out: said so
    other = new_design(ws, capsys, "fl-02-cams", units=("GM0344",))
    fake_diagnosis(ws, "fl-02-cams", data_used={"units_treated_elsewhere": []})
    code, out, _ = run(ws, capsys, "register", str(other), "--by", "x")
    assert code == 0 and ("note: the diagnosis kept other units out of the controls than the frozen "
                          "pool (0 vs 2: a design was registered in between)") in out


def test_design_check_warns_about_overlaps_and_status_lists_drafts(ws, capsys):
    run(ws, capsys, "register", str(new_design(ws, capsys)), "--by", "x")
    draft = new_design(ws, capsys, "fl-02-cams", units=("GM0363", "GM0344"))
    code, out, _ = run(ws, capsys, "design", "check", str(draft))
    assert code == 0 and "2 warning(s)" in out
    assert ("warning: treatment.units: GM0363 also treated by registered design fl-01-visits; the two "
            "effects cannot be told apart in these units") in out
    assert ("warning: treatment.units: GM0344 in the control pool of registered design fl-01-visits: "
            "registering this design records a deviation there") in out
    code, out, _ = run(ws, capsys, "status")
    assert out.splitlines()[1].split()[:2] == ["fl-02-cams", "draft"]
    assert "changes nothing for registered designs" in out.splitlines()[1]
    code, out, _ = run(ws, capsys, "register", str(draft), "--by", "x")
    assert code == 0 and "control pool frozen: 2 unit(s) treated by 1 other registered design(s)" in out
    code, out, _ = run(ws, capsys, "status")
    assert "1 control pool deviation(s): GM0344 treated by later registrations" in out.splitlines()[0]


def test_demo_only_names_an_unknown_design_before_any_work(ws, capsys):
    (ws.designs / "fl-01-school-visits.yaml").write_text("id: fl-01-school-visits\n")
    code, out, err = run(ws, capsys, "demo", "--only", "fl-99-nothing")
    assert code != 0
    assert "--only fl-99-nothing: no such design" in err and "fl-01-school-visits" in err
    assert len(err.strip().splitlines()) == 1
    assert not (ws.data / "demo").exists()  # refused before the demo data were written
