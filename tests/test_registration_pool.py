"""Registration timing in words, attached diagnoses, and the control pool frozen at registration:
drafts change nothing, later registrations are deviations analysed with and without them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from test_registry import (
    DESIGN,
    PROSPECTIVE,
    RETROSPECTIVE,
    ledger_lines,
    rechain,
    rewrite,
    source,
    write_design,
)

from evaluation import registry
from evaluation.analysis.run import analyse, units_treated_elsewhere
from evaluation.errors import RegistryError
from evaluation.workspace import init_workspace


@pytest.fixture
def ws(tmp_path):
    return init_workspace(tmp_path / "ws")


def entries(ws):
    return [json.loads(line) for line in ledger_lines(ws)]


# --- timing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("now", "data", "expected"), [
    ("2025-04-13T23:00:00Z", PROSPECTIVE, "prospective"),  # the day before the start 2025-04-14
    ("2025-04-14T08:00:00Z", PROSPECTIVE, "before_outcome_data"),  # on the start day, data before it
    ("2025-08-01T08:00:00Z", RETROSPECTIVE, "retrospective"),  # data to 2025-07-13 existed
])
def test_timing_in_words(ws, now, data, expected):
    entry = registry.register(write_design(ws), workspace=ws, by="x", source=source(**data), now=now)
    assert entry["timing"] == expected
    status = registry.registration_status(write_design(ws), ws)
    assert status.timing == expected and status.retrospective == (expected == "retrospective")
    assert status.to_dict()["timing"] == expected


def test_timing_of_an_older_entry_is_derived_from_its_fields(ws):
    registry.register(write_design(ws), workspace=ws, by="x", source=source(**PROSPECTIVE),
                      now="2025-03-01T09:00:00Z")
    old = entries(ws)
    del old[0]["timing"]
    rewrite(ws, rechain(old))
    assert registry.registration_status(write_design(ws), ws).timing == "prospective"
    old[0]["timestamp"] = "2025-05-01T09:00:00Z"
    rewrite(ws, rechain(old))
    assert registry.registration_status(write_design(ws), ws).timing == "before_outcome_data"


def test_a_diagnosis_only_amendment_keeps_the_timing_and_a_design_change_drops_the_diagnosis(ws):
    design = write_design(ws)
    registry.register(design, workspace=ws, by="x", source=source(**PROSPECTIVE), now="2025-03-01T09:00:00Z")
    entry = registry.amend(design, workspace=ws, by="y", reason="diagnosis run", diagnosis_sha256="a" * 64,
                           source=source(**RETROSPECTIVE), now="2025-08-01T09:00:00Z")
    assert (entry["diff"], entry["diagnosis_sha256"], entry["previous_diagnosis_sha256"]) == ([], "a" * 64, None)
    assert entry["timing"] == "retrospective"  # when the amendment itself was made...
    status = registry.registration_status(design, ws)
    assert (status.status, status.timing, status.diagnosis_sha256) == ("amended", "prospective", "a" * 64)
    assert status.amendments[0]["diagnosis_sha256"] == "a" * 64  # ...shown in the deviation log
    with pytest.raises(RegistryError, match=r"nothing changed .*diagnosis aaaaaaaaaaaa already attached"):
        registry.amend(design, workspace=ws, by="y", reason="again", diagnosis_sha256="a" * 64,
                       source=source(**PROSPECTIVE))
    changed = write_design(ws, title="New title")
    entry = registry.amend(changed, workspace=ws, by="y", reason="title", source=source(**RETROSPECTIVE),
                           now="2025-08-02T09:00:00Z")
    assert entry["diagnosis_sha256"] is None and entry["previous_diagnosis_sha256"] == "a" * 64
    status = registry.registration_status(changed, ws)
    assert (status.status, status.timing, status.diagnosis_sha256) == ("retrospective", "retrospective", None)


# --- the control pool ----------------------------------------------------------------------------------
def two_registered(ws):
    """fl-01 (GM0599, GM0363) registered, then fl-02 treating GM0344 (in fl-01's pool)."""
    first = write_design(ws, id="fl-01-a")
    registry.register(first, workspace=ws, by="x", source=source(**PROSPECTIVE), now="2025-03-01T09:00:00Z")
    second = write_design(ws, id="fl-02-b", treatment={"units": ["GM0344"], "start": "2025-05-05"})
    registry.register(second, workspace=ws, by="x", source=source(**PROSPECTIVE), now="2025-03-02T09:00:00Z")
    return first, second


def test_the_pool_is_frozen_at_registration_and_later_registrations_are_deviations(ws):
    first, second = two_registered(ws)
    assert entries(ws)[0]["treated_elsewhere"] == {}
    assert entries(ws)[1]["treated_elsewhere"] == {"fl-01-a": ["GM0363", "GM0599"]}
    pool = registry.control_pool(first, entries(ws))
    assert pool.excluded == () and pool.frozen_at == 1
    assert [d.to_dict() for d in pool.deviations] == [
        {"unit": "GM0344", "treated_by": "fl-02-b", "seq": 2, "timestamp": "2025-03-02T09:00:00Z"}]
    later = registry.control_pool(second, entries(ws))
    assert later.excluded == ("GM0363", "GM0599") and later.deviations == ()
    # an older registration without the field: the same pool, read from the entries before it
    old = entries(ws)
    del old[1]["treated_elsewhere"]
    rewrite(ws, rechain(old))
    assert registry.control_pool(second, entries(ws)).excluded == ("GM0363", "GM0599")


def test_drafts_change_nothing(ws):
    first, _ = two_registered(ws)
    write_design(ws, id="fl-09-draft", treatment={"units": ["GM0518", "GM0344"], "start": "2025-04-14"})
    (ws.designs / "fl-08-broken.yaml").write_text("id: [")  # used to block every analysis
    assert units_treated_elsewhere(first, ws) == set()
    unregistered = write_design(ws, id="fl-07-new")
    assert units_treated_elsewhere(unregistered, ws) == {"GM0344", "GM0363", "GM0599"}
    rows = {r["id"]: r for r in registry.workspace_status(ws)}
    assert rows["fl-09-draft"]["status"] == "draft" and rows["fl-08-broken"]["status"] == "invalid"
    assert rows["fl-01-a"]["deviations"] == ["GM0344"] and rows["fl-02-b"]["deviations"] == []


def test_another_data_source_is_another_set_of_units(ws):
    first, _ = two_registered(ws)
    other = write_design(ws, {**DESIGN, "id": "fl-03-c", "data": {"source": "data/other.csv"},
                              "treatment": {"units": ["GM0518"], "start": "2025-05-05"}})
    registry.register(other, workspace=ws, by="x", source=source(**PROSPECTIVE))
    assert registry.control_pool(first, entries(ws)).deviation_units == ("GM0344",)
    assert entries(ws)[2]["treated_elsewhere"] == {}


def test_design_check_warns_about_overlaps(ws):
    two_registered(ws)
    draft = write_design(ws, id="fl-09-draft", treatment={"units": ["GM0344", "GM0518"], "start": "2025-05-05"})
    said = [str(p) for p in registry.overlap_problems(draft, entries(ws))]
    assert said == [
        "warning: treatment.units: GM0344 also treated by registered design fl-02-b; the two effects "
        "cannot be told apart in these units",
        "warning: treatment.units: GM0518 in the control pool of registered design fl-01-a: registering "
        "this design records a deviation there (analysed with and without these units)",
        "warning: treatment.units: GM0518 in the control pool of registered design fl-02-b: registering "
        "this design records a deviation there (analysed with and without these units)"]
    listed = write_design(ws, id="fl-10-listed", controls=["GM0599", "GM0518"],
                          treatment={"units": ["GM0344"], "start": "2025-05-05"})
    assert any(str(p) == "warning: controls: GM0599 treated by registered design fl-01-a; a treated "
               "unit is no control" for p in registry.overlap_problems(listed, entries(ws)))


# --- the analysis: with the frozen pool, and without the deviating unit -----------------------------------
def panel_workspace(tmp_path, *, n_units=12, n_periods=60, start=45, seed=4, analysis=None, planted=None):
    """fl-01-a treats GM0001-2 from period 45, fl-02-b treats GM0006 from 50 (no true effects);
    `planted`: {unit: (size multiple, rate multiple from period 45)} to make a unit dominate."""
    ws = init_workspace(tmp_path / "panel")
    rng = np.random.default_rng(seed)
    units = [f"GM{i:04d}" for i in range(1, n_units + 1)]
    pop = rng.lognormal(np.log(50_000), 0.4, n_units).round()
    mu = 0.8 * (pop / 50_000)[:, None] * np.exp(0.3 * np.sin(2 * np.pi * np.arange(n_periods) / 52))[None, :]
    for unit, (size, later) in (planted or {}).items():
        row = units.index(unit)
        pop[row] *= size
        mu[row] *= size
        mu[row, start - 1:] *= later
    y = rng.poisson(mu * rng.gamma(4.0, 0.25, size=mu.shape))
    pd.DataFrame({"unit": np.repeat(units, n_periods), "period": np.tile(np.arange(1, n_periods + 1), n_units),
                  "attacks": y.ravel(), "population": np.repeat(pop, n_periods)}).to_csv(ws.data / "panel.csv", index=False)
    base = {"title": "T", "owner": "tests", "hypothesis": "fewer attacks", "design": "did",
            "data": {"source": "data/panel.csv", "frequency": "week", "exposure": "population"},
            "window": {"start": 1, "end": n_periods}, "analysis": {"seed": 7, **(analysis or {})}}
    designs = {"fl-01-a": {"units": units[:2], "start": start}, "fl-02-b": {"units": [units[5]], "start": 50}}
    for design_id, treatment in designs.items():
        ws.design_path(design_id).write_text(yaml.safe_dump({"id": design_id, **base, "treatment": treatment}))
    for design_id in designs:  # each registered on the data before its start
        register_before_start(ws, design_id)
    return ws, units


def register_before_start(ws, design_id):
    from evaluation.analysis.prepare import source_panel
    from evaluation.data.panel import SourcePanel
    from evaluation.design.model import load_design

    design = load_design(ws.design_path(design_id))
    full = source_panel(design, ws)
    start = design.treatment.first_start
    before = SourcePanel(frame=full.frame.loc[full.frame["period"] < start], cutoff=start - 1,
                         integer_periods=True, source=full.source)
    registry.register(design, workspace=ws, by="x", source=before)


def test_a_deviation_is_analysed_with_and_without_the_unit(tmp_path):
    ws, units = panel_workspace(tmp_path)
    result = analyse("fl-01-a", workspace=ws)
    assert result.context["control_units"] == 10  # the registered pool keeps GM0006
    check = next(c for c in result.checks if c.kind == "control_pool_deviation")
    assert check.values["units"] == ["GM0006"] and check.values["treated_by"] == {"GM0006": "fl-02-b"}
    assert not check.blocking and check.status in ("pass", "fail")
    # reference: statsmodels Poisson GLM with unit and period dummies, without GM0006
    panel = pd.read_csv(ws.data / "panel.csv", dtype={"unit": str})
    panel = panel.loc[panel["unit"] != "GM0006"].copy()
    panel["d"] = (panel["unit"].isin(units[:2]) & (panel["period"] >= 45)).astype(float)
    exog = pd.get_dummies(panel[["unit", "period"]].astype(str), drop_first=True, dtype=float)
    exog.insert(0, "d", panel["d"])
    exog = sm.add_constant(exog)
    fit = sm.GLM(panel["attacks"], exog, family=sm.families.Poisson(),
                 offset=np.log(panel["population"])).fit(tol=1e-12)
    assert check.values["estimate_without"] == pytest.approx(np.exp(fit.params["d"]), rel=1e-6)
    assert (check.status == "pass") == (result.primary["ci_low"] <= check.values["estimate_without"]
                                        <= result.primary["ci_high"])
    saved = json.loads((ws.analysis_dir("fl-01-a") / "result.json").read_text())
    assert saved["registration_timing"] == "before_outcome_data"  # numbered periods: no calendar date
    assert saved["ledger"] == registry.read_head(ws.registry).to_dict()
    assert saved["context"]["registration"]["control_pool"]["deviations"][0]["unit"] == "GM0006"
    # the later design compares without fl-01's units and has no deviation
    later = analyse("fl-02-b", workspace=ws, write=False)
    assert later.context["control_units"] == 9
    assert not any(c.kind == "control_pool_deviation" for c in later.checks)


def test_the_deviation_check_fails_when_the_later_treated_unit_drives_the_result(tmp_path):
    """A dominant comparison unit (20 times the size) that a later intervention cuts to a fifth
    from the start biases the registered estimate (true rate ratio 1): the check must fail, and
    the estimate without the unit lies near the truth."""
    ws, _ = panel_workspace(tmp_path, analysis={"inference": "model"}, planted={"GM0006": (20, 0.2)})
    result = analyse("fl-01-a", workspace=ws, write=False)
    check = next(c for c in result.checks if c.kind == "control_pool_deviation")
    assert result.primary["ci_low"] > 1.2  # the contaminated comparison makes a null effect look harmful
    assert check.status == "fail" and "outside" in check.detail
    # without it, the truth (rate ratio 1) is within 3 standard errors of the log rate ratio (the
    # registered fit's, about 0.24 here: the sampling error of a fit on the same units and periods)
    assert abs(np.log(check.values["estimate_without"])) < 3 * result.primary["std_error"]
