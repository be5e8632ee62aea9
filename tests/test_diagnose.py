"""Design diagnosis: simulation with known truth, the fast path against evaluation.did, the files
and the commands. Heavy simulations are marked slow."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation.analysis.prepare import prepare
from evaluation.cli import main
from evaluation.design.model import load_design
from evaluation.diagnose import (
    content_sha256,
    current_diagnosis,
    diagnose,
    diagnose_prepared,
    diagnosis_path,
    parse_effects,
)
from evaluation.diagnose.diagnosands import minimum_detectable_reduction, summarise_effect
from evaluation.errors import AnalysisError, EvaluationError
from evaluation.estimators.core import PrimaryAnalysis, estimate, primary_outcome
from evaluation.estimators.did.fast_twfe import FastTwfeRandomization
from evaluation.simulation.null_model import fit_null_model, nb_alpha, placebo_history
from evaluation.workspace import init_workspace

FAST_EFFECTS = (-0.2, -0.5)


# --- synthetic workspaces ------------------------------------------------------------------------
def write_panel(path, *, n_units=40, n_periods=80, n_treated=3, start=60, rate=0.4,
                rate_ratio=1.0, seed=0, equal_units=False):
    """A panel CSV like weekly attack counts: unit sizes vary, seasonality, NB noise (alpha 0.5)."""
    rng = np.random.default_rng(seed)
    pop = np.full(n_units, 40_000.0) if equal_units else rng.lognormal(np.log(40_000), 0.5, n_units)
    t = np.arange(1, n_periods + 1)
    season = 0.3 * np.sin(2 * np.pi * t / 52)
    mu = rate * (pop / 40_000)[:, None] * np.exp(season)[None, :]
    mu[:n_treated, start - 1:] *= rate_ratio
    y = rng.poisson(mu * rng.gamma(2.0, 0.5, size=mu.shape))
    units = [f"GM{i:04d}" for i in range(1, n_units + 1)]
    frame = pd.DataFrame({"unit": np.repeat(units, n_periods), "period": np.tile(t, n_units),
                          "attacks": y.ravel(), "population": np.repeat(pop.round(), n_periods)})
    frame.to_csv(path, index=False)
    return units


def make_workspace(tmp_path, *, design_id="fl-01-test", kind="did", n_treated=3, start=60,
                   end=80, analysis=None, **panel):
    ws = init_workspace(tmp_path / "ws")
    units = write_panel(ws.data / "panel.csv", n_treated=n_treated, start=start, n_periods=end,
                        **panel)
    design = {
        "id": design_id, "title": "Test", "owner": "tests", "hypothesis": "fewer attacks",
        "design": kind,
        "data": {"source": "data/panel.csv", "frequency": "week", "exposure": "population"},
        "treatment": {"units": units[:n_treated], "start": start},
        "window": {"start": 1, "end": end},
        "analysis": {"seed": 7, **(analysis or {})},
    }
    path = ws.design_path(design_id)
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    return ws, path


def prepared(tmp_path, **kwargs):
    ws, path = make_workspace(tmp_path, **kwargs)
    return prepare(load_design(path), ws)


def run_cli(ws, capsys, *args):
    code = main(["--workspace", str(ws.root), *args])
    out, err = capsys.readouterr()
    return code, out, err


# --- the history and the null model ----------------------------------------------------------------
def test_placebo_uses_only_the_history_before_the_start(tmp_path):
    data = prepared(tmp_path, start=60, end=80)
    placebo = placebo_history(data)
    assert placebo.data.n_periods == 59 and placebo.data.panel["t"].max() == 58
    assert placebo.n_post == placebo.n_post_registered == 21  # t 59..79 registered
    assert set(placebo.cohorts.values()) == {59 - 21}
    assert placebo.data.panel.loc[placebo.data.panel["post"], "unit"].unique().tolist() == \
        list(data.treated_units)
    # outcomes from the start on never change the diagnosis
    later = data.panel["t"] >= 59
    y = data.panel["y"].to_numpy().copy()
    y[later.to_numpy()] = 50.0
    a = diagnose_prepared(data, sims=4, effects=FAST_EFFECTS)
    b = diagnose_prepared(data.with_outcome(y), sims=4, effects=FAST_EFFECTS)
    assert a == b


def test_placebo_post_is_capped_and_keeps_the_staggered_pattern(tmp_path):
    data = prepared(tmp_path, start=20, end=80, n_treated=2)
    placebo = placebo_history(data)
    # 19 periods before the start: at most 19 - 8 = 11 placebo post periods
    assert placebo.n_post == 11 and placebo.n_post_registered == 61
    staggered = data.with_treatment(("GM0001", "GM0002"), {"GM0001": 19, "GM0002": 49})
    pl = placebo_history(staggered)
    assert pl.cohorts == {"GM0001": 8, "GM0002": 8 + math.floor(30 * 11 / 61)}
    with pytest.raises(AnalysisError, match="window.start: the diagnosis needs more than 8"):
        placebo_history(data.with_treatment(("GM0001",), {"GM0001": 8}))


def test_null_model_recovers_the_dispersion():
    rng = np.random.default_rng(3)
    mu = rng.uniform(0.2, 3.0, 40_000)
    y = rng.poisson(mu * rng.gamma(1 / 0.4, 0.4, mu.size))
    # the estimator's sampling sd at 40,000 cells is 0.008 (30 seeds, mean 0.403): 0.024 is 3 sd
    assert nb_alpha(y, mu) == pytest.approx(0.4, rel=0.06)
    assert nb_alpha(rng.poisson(mu), mu) < 0.02  # Poisson data: (almost) no overdispersion


def test_simulated_counts_have_the_null_means_and_the_injected_effect(tmp_path):
    data = prepared(tmp_path)
    null = fit_null_model(placebo_history(data))
    assert null.describe()["nb2_alpha"] > 0.1  # the panel's gamma noise (alpha 0.5) is kept
    draws = np.stack([null.simulate(np.random.default_rng(s), rate_ratio=0.5) for s in range(400)])
    post = null.treated_post
    assert draws[:, post].sum() / (400 * null.mu[post].sum()) == pytest.approx(0.5, rel=0.05)
    assert draws[:, ~post].sum() / (400 * null.mu[~post].sum()) == pytest.approx(1.0, rel=0.02)
    # the fitted unit and period totals equal the observed ones (Poisson ML with 0/1 effects)
    panel = placebo_history(data).data.panel
    fitted = pd.Series(null.mu).groupby(panel["unit"].to_numpy()).sum()
    observed = panel.groupby("unit")["y"].sum()
    np.testing.assert_allclose(fitted.to_numpy(), observed.to_numpy(), rtol=1e-8)


# --- the primary analysis ------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["poisson", "quasi_poisson"])
def test_fast_path_equals_the_did_module(tmp_path, model):
    data = prepared(tmp_path, analysis={"model": model, "randomization_draws": 200})
    placebo = placebo_history(data).data
    assert FastTwfeRandomization.applies(placebo)
    fast = PrimaryAnalysis(placebo)
    assert fast.fast is not None
    null = fit_null_model(placebo_history(data))
    compared = 0
    for seed in range(6):
        y = null.simulate(np.random.default_rng(seed), rate_ratio=0.6)
        truth = math.log(0.6) if seed % 2 else 0.0
        quick = fast.outcome(y, truth=truth)
        full = primary_outcome(placebo.with_outcome(y), truth=truth)
        assert (quick.error is None) == (full.error is None)
        if full.error is None:
            compared += 1
            if math.isinf(quick.estimate):  # no treated event before the start: no finite ML
                assert full.estimate > 10
            else:
                assert quick.estimate == pytest.approx(full.estimate, abs=1e-8)
            assert quick.p_value == pytest.approx(full.p_value, abs=1e-12)
            assert quick.covered == full.covered
            # the rule's confidence too (one-sided mid-p at no effect and the minimum reduction)
            assert quick.conf_any == pytest.approx(full.conf_any, abs=1e-12)
            assert quick.conf_min == pytest.approx(full.conf_min, abs=1e-12)
    assert compared >= 4


@pytest.mark.parametrize("kind, options", [
    ("did", {"analysis": {"randomization_draws": 200}}),
    ("did", {"analysis": {"inference": "cluster", "model": "quasi_poisson"}}),
    ("its", {"n_units": 6, "n_treated": 4, "start": 60, "end": 90, "rate": 1.5}),
])
def test_analysis_and_diagnosis_share_one_primary_estimate(tmp_path, kind, options):
    # The diagnosis simulates exactly what the analysis reports: the same primary estimate and
    # p-value on the same data, from estimators.core (fast path or not).
    data = prepared(tmp_path, kind=kind, **options)
    reported = estimate(data).primary
    simulated = primary_outcome(data, truth=0.0)
    many = PrimaryAnalysis(data).outcome(data.panel["y"].to_numpy(), truth=0.0)
    assert math.exp(simulated.estimate) == pytest.approx(reported["estimate"], rel=1e-9)
    assert simulated.p_value == pytest.approx(reported["p_value"], abs=1e-12)
    assert many.estimate == pytest.approx(simulated.estimate, abs=1e-8)
    assert many.p_value == pytest.approx(simulated.p_value, abs=1e-12)


def test_fast_path_refuses_what_it_does_not_implement(tmp_path):
    data = placebo_history(prepared(tmp_path, analysis={"inference": "cluster"})).data
    assert not FastTwfeRandomization.applies(data)
    nb = placebo_history(prepared(tmp_path / "b", analysis={"model": "negative_binomial"})).data
    assert not FastTwfeRandomization.applies(nb)


# --- diagnosands ---------------------------------------------------------------------------------
def test_minimum_detectable_reduction_interpolates_the_curve():
    curve = [{"effect": 0.0, "power": 0.02}, {"effect": -0.1, "power": 0.5},
             {"effect": -0.2, "power": 0.9}, {"effect": -0.3, "power": 1.0}]
    assert minimum_detectable_reduction(curve, target=0.8) == pytest.approx(0.175)
    assert minimum_detectable_reduction(curve[:2], target=0.8) is None


def test_power_counts_direction_and_failures():
    # estimate, p, covered, failed
    values = np.array([[-0.3, 0.01, 1, 0], [0.3, 0.01, 1, 0], [-0.1, 0.5, 1, 0],
                       [np.nan, np.nan, 0, 1]])
    row = summarise_effect(values, effect=-0.2, truth=math.log(0.8), alpha=0.05)
    assert row["power"] == 0.25 and row["n_failed"] == 1 and row["coverage"] == 1.0
    assert row["power_mcse"] == pytest.approx(math.sqrt(0.25 * 0.75 / 4))
    null = summarise_effect(values, effect=0.0, truth=0.0, alpha=0.05)
    assert null["false_positive_rate"] == 0.5 and null["power"] == 0.25


def test_parse_effects():
    assert parse_effects("-5%, -10%,-0.2") == (-0.05, -0.1, -0.2)
    with pytest.raises(EvaluationError, match="--effects: `ten` is not a number"):
        parse_effects("ten")
    with pytest.raises(EvaluationError, match="--effects: -1.0"):
        parse_effects([-1.0])


# --- diagnosis: known truth --------------------------------------------------------------------------
def test_power_rises_with_effect_size_and_with_treated_units(tmp_path):
    few = diagnose_prepared(prepared(tmp_path / "a", n_treated=2, n_units=30),
                            sims=40, effects=(-0.2, -0.5))
    many = diagnose_prepared(prepared(tmp_path / "b", n_treated=8, n_units=30),
                             sims=40, effects=(-0.2, -0.5))
    power = {id(d): {r["effect"]: r["power"] for r in d["diagnosands"]} for d in (few, many)}
    for d in (few, many):
        p = power[id(d)]
        assert p[-0.5] > p[-0.2] >= p[0.0] - 0.05
    assert power[id(many)][-0.5] > power[id(few)][-0.5] + 0.2
    assert many["primary"]["inference"] == "randomization"
    assert "numpy" in many["primary"]["implementation"]


def test_false_positive_rate_is_alpha_for_a_valid_design(tmp_path):
    # exchangeable units: randomization inference is exact, so rejections at no effect ~ alpha
    data = prepared(tmp_path, n_units=30, n_treated=4, equal_units=True,
                    analysis={"randomization_draws": 200})
    d = diagnose_prepared(data, sims=300, effects=(-0.5,))
    fpr = d["false_positive_rate"]
    assert abs(fpr["value"] - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / 300)
    null = next(r for r in d["diagnosands"] if r["effect"] == 0)
    assert abs(null["coverage"] - 0.95) <= 3 * math.sqrt(0.05 * 0.95 / 300)


def test_a_weak_design_cannot_answer_its_question(tmp_path, capsys):
    ws, path = make_workspace(tmp_path, n_units=10, n_treated=1, start=20, end=30, rate=0.3)
    code, out, err = run_cli(ws, capsys, "diagnose", str(path), "--sims", "20",
                             "--effects", "-20%,-50%")
    assert code == 0, err
    assert "minimum detectable reduction at 80% power: above 50%" in out
    assert "the design cannot answer its question" in out
    # 10 units, 1 treated: the randomization p-value is at least 1/10
    assert "only 10 assignments" in out
    saved = json.loads(diagnosis_path(ws, "fl-01-test").read_text())
    assert saved["answerable"] is False and saved["sha256"] == content_sha256(saved)

    code, out, err = run_cli(ws, capsys, "design", "check", str(path))
    assert code == 0, err
    assert "warning: decision.min_reduction: the design cannot reach 80% power" in out
    assert "  - more units: 1 treated unit(s)" in out and "pooling target types" in out


def test_design_check_uses_the_hook_when_the_curve_crosses(tmp_path, capsys):
    ws, path = make_workspace(tmp_path, n_units=30, n_treated=8, rate=1.0)
    diagnosis = diagnose(load_design(path), workspace=ws, sims=20, effects=(-0.2, -0.5))
    assert diagnosis["minimum_detectable_reduction"] is not None
    from evaluation.diagnose import write_diagnosis

    write_diagnosis(diagnosis, ws)
    code, out, _ = run_cli(ws, capsys, "design", "check", str(path))
    assert code == 0
    mdr = diagnosis["minimum_detectable_reduction"]
    assert (f"can only detect reductions of {mdr:.0%} or more" in out) == (mdr > 0.10)


def test_register_records_a_current_diagnosis_only(tmp_path, capsys):
    ws, path = make_workspace(tmp_path, n_units=12, n_treated=2)
    code, out, err = run_cli(ws, capsys, "diagnose", str(path), "--sims", "6", "--effects", "-50%")
    assert code == 0, err
    design = load_design(path)
    diagnosis = current_diagnosis(ws, design)
    assert diagnosis is not None
    # a changed design makes the diagnosis stale: design check says so, register ignores it
    path.write_text(path.read_text().replace("seed: 7", "seed: 8"))
    code, out, _ = run_cli(ws, capsys, "design", "check", str(path))
    assert "was made for another version of the design" in out
    assert current_diagnosis(ws, load_design(path)) is None
    path.write_text(path.read_text().replace("seed: 8", "seed: 7"))
    code, out, err = run_cli(ws, capsys, "register", str(path), "--by", "tester")
    assert code == 0, err
    entry = json.loads(ws.registry.read_text().splitlines()[-1])
    assert entry["diagnosis_sha256"] == diagnosis["sha256"]
    assert f"diagnosis attached: {diagnosis['sha256'][:12]}" in out


def test_an_edited_diagnosis_is_not_evidence(tmp_path, capsys):
    ws, path = make_workspace(tmp_path, n_units=12, n_treated=2)
    run_cli(ws, capsys, "diagnose", str(path), "--sims", "4", "--effects", "-50%")
    saved = diagnosis_path(ws, "fl-01-test")
    saved.write_text(saved.read_text().replace('"answerable": false', '"answerable": true'))
    assert current_diagnosis(ws, load_design(path)) is None
    code, out, _ = run_cli(ws, capsys, "register", str(path), "--by", "tester")
    assert code == 0
    assert json.loads(ws.registry.read_text().splitlines()[-1])["diagnosis_sha256"] is None


# --- determinism and back ends ------------------------------------------------------------------------
def test_same_seed_same_diagnosis_whatever_the_workers(tmp_path, capsys):
    ws, path = make_workspace(tmp_path, n_units=15, n_treated=2)
    run_cli(ws, capsys, "diagnose", str(path), "--sims", "8", "--effects", "-50%")
    first = diagnosis_path(ws, "fl-01-test").read_bytes()
    code, _, err = run_cli(ws, capsys, "diagnose", str(path), "--sims", "8", "--effects", "-50%",
                           "--workers", "2")
    assert code == 0, err
    assert diagnosis_path(ws, "fl-01-test").read_bytes() == first
    # another seed gives another diagnosis (the test above could not fail otherwise)
    path.write_text(path.read_text().replace("seed: 7", "seed: 9"))
    run_cli(ws, capsys, "diagnose", str(path), "--sims", "8", "--effects", "-50%")
    other = json.loads(diagnosis_path(ws, "fl-01-test").read_text())
    assert other["diagnosands"] != json.loads(first)["diagnosands"]


def test_dask_cluster_gives_the_same_diagnosis(tmp_path):
    distributed = pytest.importorskip("distributed")
    data = prepared(tmp_path, n_units=12, n_treated=2)
    local = diagnose_prepared(data, sims=6, effects=(-0.5,))
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        remote = diagnose_prepared(data, sims=6, effects=(-0.5,),
                                   scheduler=cluster.scheduler_address)
    assert remote == local


def test_cli_json_and_option_errors(tmp_path, capsys):
    ws, path = make_workspace(tmp_path, n_units=12, n_treated=2)
    code, out, err = run_cli(ws, capsys, "diagnose", "fl-01-test", "--sims", "4", "--effects",
                             "-50%", "--json")
    assert code == 0, err
    printed = json.loads(out)
    assert printed == json.loads(diagnosis_path(ws, "fl-01-test").read_text())
    assert printed["design_sha256"] == load_design(path).sha256
    assert [r["effect"] for r in printed["diagnosands"]] == [-0.5, -0.2, -0.1, 0.0]
    code, _, err = run_cli(ws, capsys, "diagnose", str(path), "--workers", "2",
                           "--scheduler", "tcp://x:1")
    assert code == 1 and "--workers or --scheduler" in err
    code, _, err = run_cli(ws, capsys, "diagnose", str(path), "--effects", "-150%")
    assert code == 1 and err.startswith("error: --effects: -1.5")


# --- ITS -------------------------------------------------------------------------------------------------
def test_its_diagnosis_uses_the_segmented_model(tmp_path):
    # model-based inference: the diagnosis re-times the design inside its 60 pre-periods (30
    # before, 30 after), where the default placebo-block test has no power (blocks of 7 weeks)
    data = prepared(tmp_path, kind="its", n_units=6, n_treated=4, start=60, end=90, rate=1.5,
                    analysis={"inference": "model"})
    d = diagnose_prepared(data, sims=30, effects=(-0.2, -0.5))
    assert d["null_model"]["kind"].startswith("segmented null model")
    power = {r["effect"]: r["power"] for r in d["diagnosands"]}
    # power grows with the effect and the segmented model finds a halving well above its 5% level;
    # 30 simulations: a binomial MCSE of about 0.08 at 0.3. (With the trend extrapolated 30
    # periods from 30 pre-periods a 20% drop is rarely seen: 2 of 30 in this run.)
    assert power[-0.5] > power[-0.2] and power[-0.5] >= 0.2
    assert d["primary"]["estimator"] == "segmented regression"
    null = next(r for r in d["diagnosands"] if r["effect"] == 0)
    assert abs(null["bias"]) < 0.1


@pytest.mark.slow
def test_its_false_positive_rate_and_coverage(tmp_path):
    # quasi-Poisson errors allow for the overdispersion: a valid test
    data = prepared(tmp_path, kind="its", n_units=6, n_treated=4, start=70, end=100, rate=1.5,
                    analysis={"inference": "model", "model": "quasi_poisson"})
    d = diagnose_prepared(data, sims=400, effects=(-0.3,))
    mcse = math.sqrt(0.05 * 0.95 / 400)
    assert abs(d["false_positive_rate"]["value"] - 0.05) <= 3 * mcse
    for row in d["diagnosands"]:
        assert abs(row["coverage"] - 0.95) <= 3 * mcse + 0.01


@pytest.mark.slow
def test_its_with_plain_poisson_errors_is_shown_to_over_reject(tmp_path):
    # the same overdispersed counts with Poisson (model-based) errors: too many false positives
    data = prepared(tmp_path, kind="its", n_units=6, n_treated=4, start=70, end=100, rate=1.5,
                    analysis={"inference": "model", "model": "poisson"})
    d = diagnose_prepared(data, sims=400, effects=(-0.3,))
    fpr = d["false_positive_rate"]
    assert fpr["value"] > 0.05 + 3 * fpr["mcse"]


@pytest.mark.slow
def test_general_path_staggered_imputation_runs(tmp_path):
    data = prepared(tmp_path, n_units=25, n_treated=3, analysis={"randomization_draws": 200})
    staggered = data.with_treatment(data.treated_units, {"GM0001": 55, "GM0002": 59, "GM0003": 59})
    d = diagnose_prepared(staggered, sims=30, effects=(-0.5,))
    assert d["primary"]["estimator"] == "imputation"
    power = {r["effect"]: r["power"] for r in d["diagnosands"]}
    assert power[-0.5] > power[0.0]


def test_no_treated_event_before_the_start_gives_an_infinite_estimate(tmp_path):
    # the ML estimate does not exist; pyfixest stops at some large number, the fast path says +inf
    placebo = placebo_history(prepared(tmp_path, analysis={"randomization_draws": 200})).data
    fast = FastTwfeRandomization(placebo)
    panel = placebo.panel
    y = panel["y"].to_numpy().copy()
    y[(panel["treated_unit"] & ~panel["post"]).to_numpy()] = 0.0
    y[panel["post"].to_numpy()] += 1.0
    quick, full = fast.outcome(y, truth=0.0), primary_outcome(placebo.with_outcome(y), truth=0.0)
    assert quick.estimate == math.inf and full.estimate > 10
    assert quick.p_value == pytest.approx(full.p_value, abs=1e-12) and quick.covered == full.covered


# --- before the start -------------------------------------------------------------------------------
def test_diagnosis_before_the_start_equals_the_diagnosis_on_later_data(tmp_path):
    """Data that end before the start (the window reaching into the future) give the same
    diagnosis as data that run to window.end: only the history before the start is used."""
    ws, path = make_workspace(tmp_path, n_units=12, n_treated=2, start=60, end=80)
    full = diagnose(load_design(path), workspace=ws, sims=6, effects=(-0.5,))
    panel = pd.read_csv(ws.data / "panel.csv")
    panel.loc[panel["period"] < 60].to_csv(ws.data / "panel.csv", index=False)  # data to period 59
    early = diagnose(load_design(path), workspace=ws, sims=6, effects=(-0.5,))
    assert early["data_used"]["data_cutoff"] == 59 and full["data_used"]["data_cutoff"] == 80
    assert early["data_used"]["last_period"] == 59 and early["history"]["n_post_registered"] == 21
    assert early["data_used"]["pre_period_sha256"] == full["data_used"]["pre_period_sha256"]
    drop = lambda d: {k: v for k, v in d.items() if k not in ("data_used", "sha256")}  # noqa: E731
    assert drop(early) == drop(full)
    assert {k: v for k, v in early["data_used"].items() if k != "data_cutoff"} == \
        {k: v for k, v in full["data_used"].items() if k != "data_cutoff"}
    assert early["sha256"] == content_sha256(early)


def test_diagnosis_mode_prepares_the_history_and_the_registered_post_period():
    import datetime as dt
    import types

    from evaluation.data.panel import SourcePanel
    from evaluation.design.model import parse_design

    periods = pd.date_range("2024-01-01", "2025-03-17", freq="W-MON")  # data end 2025-03-23
    frame = pd.DataFrame([(u, p) for u in ("GM0001", "GM0002", "GM0003") for p in periods],
                         columns=["unit", "period"]).assign(y=1.0)
    source = SourcePanel(frame=frame, cutoff=dt.date(2025, 3, 23), integer_periods=False, source="s")
    design = parse_design({"id": "fl-01-x", "title": "t", "owner": "o", "hypothesis": "h", "design": "did",
                           "treatment": {"units": ["GM0001"], "start": "2025-04-14"},
                           "window": {"start": "2024-01-01", "end": "2025-06-29"}})
    workspace = types.SimpleNamespace(root=None)
    with pytest.raises(AnalysisError, match="after the last period with data"):
        prepare(design, workspace, source=source)  # the analysis needs data after the start
    data = prepare(design, workspace, source=source, mode="diagnosis")
    assert data.periods[:len(periods)] == tuple(periods)
    post = data.periods[len(periods):]  # 2025-04-14 .. 2025-06-23: 11 weeks; the gap weeks are not there
    assert post[0] == pd.Timestamp("2025-04-14") and post[-1] == pd.Timestamp("2025-06-23") and len(post) == 11
    assert len(data.panel) == 3 * len(periods) and data.panel["post"].sum() == 0
    assert int(data.panel.loc[data.panel["treated_unit"], "cohort"].iloc[0]) == len(periods)
    codes = [n.to_dict() for n in data.notes]
    assert codes[0] == {"code": "diagnosis_history_only", "n_before": len(periods),
                        "first": str(periods[0].date()), "last": "2025-03-17", "n_post": 11,
                        "start": "2025-04-14"}
    assert codes[1] == {"code": "diagnosis_history_gap", "last": "2025-03-17"}
    placebo = placebo_history(data)
    assert placebo.n_post_registered == 11 and placebo.data.n_periods == len(periods)
