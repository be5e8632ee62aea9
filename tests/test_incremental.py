"""Incremental analyses: each input's change invalidates exactly the results it should.

One small store (that of test_data_versions_analysis), three designs:
- `a`: DiD on the store treating GM0001-GM0002, registered first;
- `b`: DiD on the store treating GM0003, registered second (its frozen pool leaves out a's units);
- `c`: an ITS on a panel file, not registered (its control pool is the ledger as it stands).
The key tests compute keys only (no analysis); one test runs `a` through `analyse --all` to show
reuse, `--force` and byte-identical files.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
import yaml
from test_data_versions_analysis import _files as store_files

from evaluation import method
from evaluation.analysis import run as run_module
from evaluation.analysis.incremental import read_result
from evaluation.analysis.inputs import changed_facts, inputs_key, software_versions
from evaluation.analysis.prepare import source_panel
from evaluation.cli import main
from evaluation.data.corrections import retract_incidents
from evaluation.data.units import import_units
from evaluation.design.model import load_design
from evaluation.registry.registration import amend, register
from evaluation.report.site_inputs import SITE_KEY_FILE, reused_pages, site_key, write_site_key
from evaluation.workspace import init_workspace


def _did(design_id: str, units: list[str], **analysis) -> dict:
    return {
        "id": design_id, "title": design_id, "owner": "Gemeente 1", "hypothesis": "Fewer attacks.",
        "design": "did", "controls": "untreated",
        "data": {"source": "store", "frequency": "week", "exposure": "population"},
        "treatment": {"units": units, "start": "2024-06-03"},
        "window": {"start": "2023-07-03", "end": "2024-09-29"},
        "analysis": {"model": "poisson", "inference": "cluster",
                     "event_window": [-4, 4], **analysis},
    }


ITS = {
    "id": "c", "title": "c", "owner": "o", "hypothesis": "h", "design": "its",
    "data": {"source": "data/panel.csv", "frequency": "week", "unit_column": "unit",
             "outcome": "attacks"},
    "treatment": {"units": ["A"], "start": "2024-06-03"},
    "window": {"start": "2023-07-03", "end": "2024-09-29"},
    "analysis": {"model": "quasi_poisson", "inference": "model"},
}


def _write(ws, raw: dict) -> None:
    (ws.designs / f"{raw['id']}.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    workspace = init_workspace(tmp_path_factory.mktemp("incremental") / "ws")
    os.environ.pop("EVALUATION_DB", None)
    paths = store_files(workspace)  # 16 municipalities, two merging in 2024
    for command, name in (("municipalities", "municipalities"), ("units", "units"),
                          ("import", "incidents")):
        assert main(["--workspace", str(workspace.root), "data", command, str(paths[name])]) == 0
    pd.DataFrame({"unit": ["GM0001", "GM0003"], "neighbour": ["GM0004", "GM0005"]}).to_csv(
        workspace.neighbours, index=False)
    weeks = pd.date_range("2023-07-03", "2024-09-23", freq="7D")
    pd.DataFrame({"unit": "A", "period": weeks.strftime("%Y-%m-%d"), "attacks": 3}).to_csv(
        workspace.root / "data" / "panel.csv", index=False)
    for raw in (_did("a", ["GM0001", "GM0002"]), _did("b", ["GM0003"]), ITS):
        _write(workspace, raw)
    for design_id in ("a", "b"):
        design = load_design(workspace.design_path(design_id))
        register(design, workspace=workspace, by="Tester",
                 source=source_panel(design, workspace), now="2024-06-01T00:00:00+00:00")
    return workspace


def _keys(ws, software=None) -> dict[str, str]:
    software = software or software_versions()
    return {i: inputs_key(load_design(ws.design_path(i)), ws, exploratory=False, db=None,
                          data_version=None, software=software)["sha256"] for i in "abc"}


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {i for i in before if before[i] != after[i]}


def test_the_key_is_stable_and_records_the_facts(ws):
    assert _keys(ws) == _keys(ws)
    key = inputs_key(load_design(ws.design_path("a")), ws, exploratory=False, db=None,
                     data_version=None, software={"numpy": "1"})
    facts = key["facts"]
    assert facts["data"]["store"]["number"] == 3  # municipalities, units, incidents
    assert facts["neighbours"] is not None and facts["registration"]["label"] == "retrospective"
    assert set(facts) == {"design_sha256", "registration", "control_pool", "data", "neighbours",
                          "diagnosis", "method_version", "software"}
    assert changed_facts(None, key) == ["result"]


def test_an_edit_and_an_amendment_invalidate_only_that_design(ws):
    before = _keys(ws)
    raw = _did("a", ["GM0001", "GM0002"])
    _write(ws, {**raw, "hypothesis": "Fewer attacks on homes."})
    edited = _keys(ws)
    assert _changed(before, edited) == {"a"}
    amend(load_design(ws.design_path("a")), workspace=ws, by="Tester", reason="wording",
          source=source_panel(load_design(ws.design_path("a")), ws))
    amended = _keys(ws)
    assert _changed(edited, amended) == {"a"}  # same units: no other pool changes


def test_another_registration_invalidates_only_the_pools_it_changes(ws):
    before = _keys(ws)
    # d treats a's unit: not in a's pool (its own unit) nor in b's (frozen without a's units);
    # c's pool holds designs on its own panel file only
    raw = _did("d", ["GM0001"])
    _write(ws, raw)
    design = load_design(ws.design_path("d"))
    register(design, workspace=ws, by="Tester", source=source_panel(design, ws))
    after = _keys(ws)
    assert _changed(before, after) == set()
    # e treats GM0006, a unit of a's and b's frozen pools: a deviation of both
    raw = _did("e", ["GM0006"])
    _write(ws, raw)
    design = load_design(ws.design_path("e"))
    register(design, workspace=ws, by="Tester", source=source_panel(design, ws))
    assert _changed(after, _keys(ws)) == {"a", "b"}
    for extra in ("d", "e"):
        ws.design_path(extra).unlink()


def test_neighbours_invalidate_the_did_designs_only(ws):
    before = _keys(ws)
    frame = pd.read_csv(ws.neighbours)
    pd.concat([frame, pd.DataFrame({"unit": ["GM0002"], "neighbour": ["GM0007"]})]).to_csv(
        ws.neighbours, index=False)
    assert _changed(before, _keys(ws)) == {"a", "b"}


def test_the_diagnosis_file_invalidates_only_its_design(ws):
    before = _keys(ws)
    (ws.designs / "b.diagnosis.json").write_text("{}", encoding="utf-8")
    assert _changed(before, _keys(ws)) == {"b"}
    (ws.designs / "b.diagnosis.json").unlink()
    assert _keys(ws) == before


def test_method_and_package_versions_invalidate_every_result(ws, monkeypatch):
    before = _keys(ws)
    assert _changed(before, _keys(ws, software={**software_versions(), "pyfixest": "0.0.1"})) \
        == {"a", "b", "c"}
    monkeypatch.setattr(method, "LOGIC_REVISION", method.LOGIC_REVISION + 1)
    assert _changed(before, _keys(ws)) == {"a", "b", "c"}


def test_a_new_data_version_or_units_table_invalidates_the_store_designs_only(ws):
    before = _keys(ws)
    units = pd.read_csv(ws.root / "data" / "units.csv")
    units.loc[units["code"] == "GM0010", "population"] += 1
    units.to_csv(ws.root / "data" / "units_changed.csv", index=False)
    assert import_units(ws.root / "data" / "units_changed.csv", db_path=ws.db_path()).version == 4
    after_units = _keys(ws)
    assert _changed(before, after_units) == {"a", "b"}  # c reads a panel file
    incidents = pd.read_csv(ws.root / "data" / "incidents.csv")
    retract_incidents(incidents["incident_id"].head(1).tolist(), reason="double",
                      db_path=ws.db_path())
    after_retraction = _keys(ws)
    assert _changed(after_units, after_retraction) == {"a", "b"}
    panel = pd.read_csv(ws.root / "data" / "panel.csv")
    panel.loc[0, "attacks"] = 4
    panel.to_csv(ws.root / "data" / "panel.csv", index=False)
    assert _changed(after_retraction, _keys(ws)) == {"c"}


def test_analyse_all_reuses_unchanged_results_and_force_reruns(ws, capsys, monkeypatch):
    for extra in ("b", "c"):  # one design keeps the run short
        ws.design_path(extra).rename(ws.designs / f"{extra}.off")
    try:
        args = ["--workspace", str(ws.root), "analyse", "--all"]
        assert main(args) == 0
        assert "a: analysed (changed: result)" in capsys.readouterr().err
        folder = ws.analysis_dir("a")
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
        assert main(args) == 0
        captured = capsys.readouterr()
        assert "a: unchanged, reused" in captured.err and captured.out.startswith("a: ")
        assert {p.name: p.read_bytes() for p in sorted(folder.iterdir())} == files
        assert read_result(folder).to_json().encode() == files["result.json"]
        ran = []
        monkeypatch.setattr(run_module, "analyse", lambda *a, **k: ran.append(a) or outcome_result)
        outcome_result = read_result(folder)
        assert main([*args, "--force"]) == 0  # --force runs the analysis (a stub here)
        assert "a: analysed (changed: forced)" in capsys.readouterr().err and len(ran) == 1
        assert {p.name: p.read_bytes() for p in sorted(folder.iterdir())} == files
    finally:
        for extra in ("b", "c"):
            (ws.designs / f"{extra}.off").rename(ws.design_path(extra))


def test_the_site_key_follows_the_analyses_and_the_language(ws, tmp_path):
    key = site_key(ws, lang="nl", engine="fallback")
    assert key == site_key(ws, lang="nl", engine="fallback")
    assert key["sha256"] != site_key(ws, lang="en", engine="fallback")["sha256"]
    site = tmp_path / "_site"
    (site / "interventions").mkdir(parents=True)
    pages = [site / "index.html", site / "methods.html", site / "interventions" / "x.html"]
    for page in pages:
        page.write_text("page", encoding="utf-8")
    assert reused_pages(site, key, ["x"]) is None  # no key recorded
    write_site_key(site, key)
    assert (site / SITE_KEY_FILE).exists() and reused_pages(site, key, ["x"]) == pages
    assert reused_pages(site, key, ["x", "y"]) is None  # a page missing
    ws.analyses.mkdir(exist_ok=True)
    (ws.analyses / "portfolio.json").write_text("{}", encoding="utf-8")
    try:
        assert reused_pages(site, site_key(ws, lang="nl", engine="fallback"), ["x"]) is None
    finally:
        (ws.analyses / "portfolio.json").unlink()
