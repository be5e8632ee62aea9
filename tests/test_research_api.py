"""The research API (issue 18): `analyse(data=..., write=False)`, the typed read-only parts of a
result, `summary()`, plots, and `load_result` giving back exactly what was saved."""

from __future__ import annotations

import json
import shutil
from dataclasses import FrozenInstanceError

import pandas as pd
import pytest
import yaml
from test_analysis import _design, _panel

import evaluation
from evaluation.cli import main
from evaluation.errors import AnalysisError, DataError
from evaluation.workspace import init_workspace


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A registered panel-file design, analysed once (written) for the whole module."""
    ws = init_workspace(tmp_path_factory.mktemp("api") / "ws")
    _panel().to_csv(ws.root / "data" / "panel.csv", index=False)
    design = _design(analysis={"inference": "cluster", "event_window": [-3, 3]})
    design["data"]["source"] = str(ws.root / "data" / "panel.csv")
    path = ws.designs / "pilot.yaml"
    path.write_text(yaml.safe_dump(design), encoding="utf-8")
    assert main(["--workspace", str(ws.root), "register", str(path), "--by", "Tester"]) == 0
    result = evaluation.analyse("pilot", workspace=ws)
    return ws, result


def test_typed_parts_agree_with_result_json_and_the_tidy_table(registered):
    _, result = registered
    saved = result.to_dict()
    assert saved["schema_version"] == 2
    effect = result.effect
    # result.json stores 12 significant digits (evaluation.files.clean)
    for name in ("estimate", "ci_low", "ci_high", "p_value"):
        assert getattr(effect, name) == pytest.approx(saved["primary"][name], rel=1e-11)
    first = result.tidy().iloc[0]
    assert first["term"] == "treatment"
    assert first["estimate"] == pytest.approx(effect.estimate, rel=1e-12)
    assert (first["ci_low"], first["ci_high"]) == pytest.approx(effect.interval, rel=1e-12)
    assert effect.scale == "rate_ratio" and effect.alpha == 0.05 and effect.inference == "cluster"
    assert result.verdict.category == saved["decision"]["verdict"]
    assert result.registration == "retrospective"  # registered after the data existed
    assert all(c.text == c.detail and c.kind for c in result.checks)
    # the fits' warnings are recorded as a check (none on this well-behaved panel)
    assert [c.status for c in result.checks if c.kind == "fit_warnings"] == ["pass"]
    with pytest.raises(FrozenInstanceError):
        effect.estimate = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.effect.confidence["any_reduction"] = 0.0  # type: ignore[index]
    assert type(result.fit).__name__ == "Fepois"
    with pytest.raises(AnalysisError, match="bayesian: false"):
        _ = result.idata


def test_summary_html_and_plots(registered):
    _, result = registered
    text = result.summary()
    assert "pilot" in text and "rate ratio" in text and f"{result.effect.estimate:.3f}" in text
    assert "<table>" in result._repr_html_()
    import matplotlib.figure

    for kind in ("series", "event_study"):
        assert isinstance(result.plot(kind), matplotlib.figure.Figure)
    with pytest.raises(AnalysisError, match="kind"):
        result.plot("forest")


def test_load_result_gives_back_every_saved_file(registered):
    ws, result = registered
    folder = ws.root / "analyses" / "pilot"
    loaded = evaluation.load_result(folder)
    assert loaded.to_json() == (folder / "result.json").read_text(encoding="utf-8")
    assert evaluation.load_result("pilot", workspace=ws.root).to_json() == loaded.to_json()
    assert loaded.effect == evaluation.load_result(folder).effect
    pd.testing.assert_frame_equal(loaded.tidy(), result.tidy(), check_exact=False, rtol=1e-9)
    assert loaded.summary() == result.summary()
    with pytest.raises(AnalysisError, match="not saved"):
        _ = loaded.fit
    newer = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    newer["schema_version"] = 99
    other = ws.root / "analyses" / "newer"
    other.mkdir()
    (other / "result.json").write_text(json.dumps(newer), encoding="utf-8")
    with pytest.raises(AnalysisError, match="schema_version 99"):
        evaluation.load_result(other)


def test_a_dataframe_is_validated_like_a_file_and_never_changed(registered):
    ws, result = registered
    frame = _panel()
    before = frame.copy()
    same = evaluation.analyse("pilot", data=frame, write=False, workspace=ws)
    pd.testing.assert_frame_equal(frame, before)
    # the registered data: the same numbers, and the registration's label
    assert same.registration == result.registration == "retrospective"
    assert same.to_json() == result.to_json()
    # changed data before the start: exploratory, and nothing written
    changed = frame.assign(attacks=frame["attacks"].where(frame["period"] != 3, frame["attacks"] + 1))
    written = (ws.root / "analyses" / "pilot" / "result.json").read_text(encoding="utf-8")
    other = evaluation.analyse("pilot", data=changed, write=False, workspace=ws)
    assert other.registration == "exploratory"
    assert "exploratory" in other.verdict.blocking
    assert (ws.root / "analyses" / "pilot" / "result.json").read_text(encoding="utf-8") == written
    bad = frame.assign(attacks=frame["attacks"].astype(float))
    bad.loc[5, "attacks"] = -1.0
    with pytest.raises(DataError, match=r"DataFrame: column `attacks`: counts must be whole numbers >= 0 \(data rows 6\)"):
        evaluation.analyse("pilot", data=bad, write=False, workspace=ws)


def test_a_saved_posterior_comes_back_as_idata_and_plots(registered, tmp_path):
    import arviz as az
    import matplotlib.figure
    import numpy as np

    from evaluation.estimators.bayes import save_posterior

    ws, _ = registered
    folder = tmp_path / "with_posterior"
    shutil.copytree(ws.root / "analyses" / "pilot", folder)
    draws = np.random.default_rng(1).normal(np.log(0.8), 0.1, size=(2, 50))
    save_posterior(az.from_dict(posterior={"log_rr": draws}), folder / "posterior.nc")
    loaded = evaluation.load_result(folder)
    np.testing.assert_allclose(np.asarray(loaded.idata.posterior["log_rr"]), draws)
    assert isinstance(loaded.plot("posterior"), matplotlib.figure.Figure)


@pytest.fixture(scope="module")
def store_ws(tmp_path_factory):
    from test_data_versions_analysis import DESIGN, _files

    ws = init_workspace(tmp_path_factory.mktemp("store") / "ws")
    paths = _files(ws)
    for command, name in (("municipalities", "municipalities"), ("units", "units"), ("import", "incidents")):
        assert main(["--workspace", str(ws.root), "data", command, str(paths[name])]) == 0
    design = {**DESIGN, "analysis": {**DESIGN["analysis"], "inference": "cluster"}}
    (ws.designs / "pilot.yaml").write_text(yaml.safe_dump(design), encoding="utf-8")
    return ws


@pytest.mark.slow  # a small national store and two analyses: ~15-40 s
def test_the_store_panel_as_a_dataframe_gives_the_store_analysis(store_ws, monkeypatch):
    monkeypatch.delenv("EVALUATION_DB", raising=False)
    panel = evaluation.load_panel("pilot", workspace=store_ws)
    assert {"unit", "period", "attacks", "population"} <= set(panel.columns)
    from_store = evaluation.analyse("pilot", exploratory=True, write=False, workspace=store_ws)
    from_frame = evaluation.analyse("pilot", data=panel, write=False, workspace=store_ws)
    assert from_frame.registration == "exploratory"  # not registered: exploratory, no error
    assert from_frame.effect.estimate == pytest.approx(from_store.effect.estimate, rel=1e-9)
    assert from_frame.effect.interval == pytest.approx(from_store.effect.interval, rel=1e-9)
    assert not any(store_ws.analyses.iterdir())
