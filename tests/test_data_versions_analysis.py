"""Analyses on a store with data versions and a merger, written atomically.

One small national store (16 municipalities, two of which merge on 1 January 2024) and one DiD
design: the result records its data version and boundaries, analysing an older version reproduces
the older result byte for byte, and a run killed half-way leaves the previous result whole.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation import analyse
from evaluation.analysis import result as result_module
from evaluation.cli import main
from evaluation.data.corrections import retract_incidents
from evaluation.files import recover_folder, staging_folders
from evaluation.workspace import init_workspace

CODES = [f"GM{i:04d}" for i in range(1, 17)]
MERGED, SUCCESSOR = ("GM0015", "GM0016"), "GM0017"


def _files(ws):
    rng = np.random.default_rng(11)
    reference = pd.DataFrame({"code": [*CODES, SUCCESSOR],
                              "name": [f"Gemeente {c[2:]}" for c in CODES] + ["Samengevoegd"],
                              "valid_from": [""] * len(CODES) + ["2024-01-01"],
                              "valid_to": ["2023-12-31" if c in MERGED else "" for c in CODES] + [""],
                              "successor": [SUCCESSOR if c in MERGED else "" for c in CODES] + [""]})
    units = pd.DataFrame([(c, "x", y, 20_000 + 1_000 * i) for i, c in enumerate(CODES)
                          for y in (2023, 2024) if not (c in MERGED and y == 2024)]
                         + [(SUCCESSOR, "x", 2024, 60_000)],
                         columns=["code", "name", "year", "population"])
    days = pd.date_range("2023-07-03", "2024-09-29", freq="D")
    rows = []
    for i, code in enumerate(CODES):
        rate = rng.gamma(2.0, 0.1) * np.ones(len(days))  # attacks per day
        if i < 2:
            rate = np.where(days >= "2024-06-03", rate * 0.5, rate)
        for day in np.repeat(days, rng.poisson(rate)):
            registered = SUCCESSOR if code in MERGED and day.year >= 2024 else code
            rows.append((day.strftime("%Y-%m-%d"), registered))
    incidents = pd.DataFrame(rows, columns=["date", "municipality_code"])
    incidents.insert(0, "incident_id", [f"X{i:05d}" for i in range(len(incidents))])
    incidents = incidents.assign(municipality="", target_type="woning", outcome="explosie",
                                 neighbourhood_code="")
    paths = {}
    for name, frame in (("municipalities", reference), ("units", units), ("incidents", incidents)):
        paths[name] = ws.root / "data" / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


DESIGN = {
    "id": "pilot", "title": "Pilot", "owner": "Gemeente 1", "hypothesis": "Fewer attacks.",
    "design": "did",
    "data": {"source": "store", "frequency": "week", "exposure": "population"},
    "treatment": {"units": ["GM0001", "GM0002"], "start": "2024-06-03", "end": "2024-09-10"},
    "window": {"start": "2023-07-03", "end": "2024-09-29"},
    "analysis": {"model": "poisson", "inference": "auto", "randomization_draws": 100,
                 "event_window": [-4, 4]},
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    workspace = init_workspace(tmp_path_factory.mktemp("versions") / "ws")
    os.environ.pop("EVALUATION_DB", None)
    paths = _files(workspace)
    for command in ("municipalities", "units", "import"):
        name = {"import": "incidents"}.get(command, command)
        assert main(["--workspace", str(workspace.root), "data", command, str(paths[name])]) == 0
    (workspace.designs / "pilot.yaml").write_text(yaml.safe_dump(DESIGN), encoding="utf-8")
    return workspace


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_result_records_version_and_boundaries_and_older_versions_reproduce(ws, capsys):
    folder = ws.analysis_dir("pilot")
    first = analyse("pilot", exploratory=True, workspace=ws)
    assert first.data_version["number"] == 3
    saved = json.loads((folder / "result.json").read_text())
    assert saved["data_version"] == first.data_version
    bounds = saved["context"]["boundaries"]
    assert (bounds["year"], bounds["merged"]) == (2024, {"GM0015": SUCCESSOR, "GM0016": SUCCESSOR})
    assert saved["context"]["unit_names"] == {"GM0001": "Gemeente 0001", "GM0002": "Gemeente 0002"}
    version_3 = _bytes(folder)

    treated = pd.read_csv(ws.root / "data" / "incidents.csv")
    treated = treated.loc[treated["municipality_code"] == "GM0001"]
    late = treated.loc[treated["date"] >= "2024-06-03", "incident_id"].head(3).tolist()
    assert retract_incidents(late, reason="double registration", db_path=ws.db_path()).version == 4
    assert main(["--workspace", str(ws.root), "analyse", "pilot", "--exploratory"]) == 0
    assert "data version 4" in capsys.readouterr().out
    assert _bytes(folder) != version_3

    assert main(["--workspace", str(ws.root), "analyse", "pilot", "--exploratory",
                 "--data-version", "3"]) == 0
    assert _bytes(folder) == version_3  # the older data version gives the older result

    capsys.readouterr()
    assert main(["--workspace", str(ws.root), "analyse", "pilot", "--exploratory",
                 "--data-version", "9"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has versions 1 to 4" in err and "data history" in err


def test_a_run_killed_between_files_leaves_the_previous_result(ws, monkeypatch):
    folder = ws.analysis_dir("pilot")
    if not folder.exists():  # a previous complete result (the test above leaves one)
        analyse("pilot", exploratory=True, workspace=ws)
    before = _bytes(folder)
    real = result_module.write_text_atomic

    def dies_after_result_json(path, text):
        if path.name == result_module.ESTIMATES_FILE:
            raise KeyboardInterrupt  # killed after result.json was written
        real(path, text)

    monkeypatch.setattr(result_module, "write_text_atomic", dies_after_result_json)
    with pytest.raises(KeyboardInterrupt):
        analyse("pilot", exploratory=True, workspace=ws, data_version=3)
    assert _bytes(folder) == before
    assert not staging_folders(folder)[0].parent.exists()  # nothing half-written is left


def test_a_kill_between_the_two_renames_is_recovered_on_the_next_run(tmp_path):
    target = tmp_path / "analyses" / "x"
    new, old = staging_folders(target)
    old.mkdir(parents=True)
    (old / "result.json").write_text("previous", encoding="utf-8")
    new.mkdir()
    (new / "result.json").write_text("unfinished", encoding="utf-8")
    assert not list(tmp_path.glob("analyses/*/result.json"))  # staging is out of readers' way
    recover_folder(target)
    assert (target / "result.json").read_text() == "previous" and not new.parent.exists()


def test_units_named_by_the_control_pool_section_have_their_names(ws):
    """A unit another registered design treats is named in the pool section by its municipality
    name, as the treated units are (not by its GM code). Runs last: it registers a design."""
    from evaluation.analysis.prepare import source_panel
    from evaluation.design.model import load_design
    from evaluation.registry import register

    other = {**DESIGN, "id": "other", "treatment": {"units": ["GM0005"], "start": "2024-07-01"}}
    (ws.designs / "other.yaml").write_text(yaml.safe_dump(other), encoding="utf-8")
    design = load_design(ws.designs / "other.yaml")
    register(design, workspace=ws, by="tests", source=source_panel(design, ws))
    result = analyse("pilot", exploratory=True, workspace=ws, write=False)
    assert result.context["registration"]["control_pool"]["treated_elsewhere"] == {"other": ["GM0005"]}
    assert result.context["unit_names"] == {"GM0001": "Gemeente 0001", "GM0002": "Gemeente 0002",
                                            "GM0005": "Gemeente 0005"}
