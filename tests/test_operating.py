"""The decision rule's operating characteristics (issue 12): the calibrated reference against a
case with a known answer, the simulated verdict rates, the diagnosis' warnings, and the one
simulation model (persistent deviations, spike selection, single-series ITS)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy.stats import norm
from test_diagnose import make_workspace, prepared, run_cli

from evaluation.design.decision_rule import DecisionSpec
from evaluation.diagnose import diagnose_prepared, diagnosis_path
from evaluation.diagnose.operating import calibrated_rates, rates, simulated_verdicts
from evaluation.estimators.its import estimate_its
from evaluation.simulation.null_model import fit_null_model, placebo_history
from evaluation.simulation.synthetic import SimulationConfig, simulate

RULE = DecisionSpec(min_reduction=0.10, continue_probability=0.80, stop_probability=0.25)
LOG_MIN = math.log(0.9)


# --- the calibrated reference: an exactly normal estimator --------------------------------------
@pytest.mark.parametrize("truth", [0.0, LOG_MIN, math.log(0.8)])
def test_calibrated_rates_have_the_closed_form(truth):
    # estimate ~ N(truth, sd), confidence(b) = Phi((b - estimate) / sd):
    #   continue  <=>  Phi((log 0.9 - estimate) / sd) >= 0.8  <=>  estimate <= log 0.9 - sd z(0.8)
    #   stop      <=>  Phi(-estimate / sd) < 0.25             <=>  estimate > -sd z(0.25)
    # (adapt needs confidence >= 0.8 of any reduction and < 0.5 of the minimum: estimate in
    #  (log 0.9, -sd z(0.8)], empty here since -sd z(0.8) = -0.21 < log 0.9 = -0.105)
    sd = 0.25
    got = calibrated_rates(truth=truth, sd=sd, threshold_min=LOG_MIN, rule=RULE)
    p_continue = norm.cdf((LOG_MIN - sd * norm.ppf(0.8) - truth) / sd)
    p_stop = norm.sf((-sd * norm.ppf(0.25) - truth) / sd)
    assert got["continue"] == pytest.approx(p_continue, abs=1e-12)
    assert got["stop"] == pytest.approx(p_stop, abs=1e-12)
    assert got["adapt"] == 0.0
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)
    if truth == 0.0:  # the "about 13% with 3 treated": here sd 0.25 gives 10.3%
        assert got["continue"] == pytest.approx(0.10328, abs=5e-5)  # hand: Phi(-1.26306)
        assert got["stop"] == pytest.approx(0.25, abs=1e-12)


def test_calibrated_rates_with_an_adapt_region():
    # a precise estimate (sd 0.04): -sd z(0.8) = -0.034 > log 0.9, so estimates in
    # (log 0.9, -0.034] give adapt (a sure but small reduction)
    sd, truth = 0.04, -0.06
    got = calibrated_rates(truth=truth, sd=sd, threshold_min=LOG_MIN, rule=RULE)
    low, high = LOG_MIN, -sd * norm.ppf(0.8)
    assert got["adapt"] == pytest.approx(norm.cdf((high - truth) / sd) - norm.cdf((low - truth) / sd),
                                         abs=1e-12)
    assert got["adapt"] > 0.5


def test_simulated_verdicts_of_a_normal_estimator_match_the_reference():
    # 20,000 exactly normal estimates judged one by one: each rate within 4 binomial Monte
    # Carlo errors of the closed form (a 1-in-15,000 chance per rate of failing by accident)
    rng = np.random.default_rng(12)
    sd, truth, n = 0.25, math.log(0.85), 20_000
    estimate = rng.normal(truth, sd, n)
    conf_any, conf_min = norm.cdf(-estimate / sd), norm.cdf((LOG_MIN - estimate) / sd)
    share, _ = rates(simulated_verdicts(conf_any, conf_min, np.zeros(n, bool), rule=RULE))
    reference = calibrated_rates(truth=truth, sd=sd, threshold_min=LOG_MIN, rule=RULE)
    for verdict, p in reference.items():
        assert abs(share[verdict] - p) <= 4 * math.sqrt(p * (1 - p) / n) + 1e-12, verdict
    failed = simulated_verdicts(np.array([0.99, np.nan]), np.array([0.99, np.nan]),
                                np.array([True, False]), rule=RULE)
    assert failed.tolist() == ["inconclusive", "inconclusive"]


# --- the diagnosis ---------------------------------------------------------------------------------
def test_diagnosis_reports_the_rule_and_flags_a_miscalibrated_analysis(tmp_path, capsys):
    # an ITS with plain Poisson (model-based) errors on a series of ~50 events a period with
    # gamma noise: intervals far too narrow (variance about 6x Poisson), so the test rejects a
    # true null in ~30% of data sets and the rule continues a useless intervention about twice
    # as often as a calibrated analysis would: both must be flagged (40 simulations: the rates
    # lie 3-4 Monte Carlo errors beyond their limits, deterministic for the design seed)
    ws, path = make_workspace(tmp_path, kind="its", n_units=6, n_treated=4, start=70, end=100,
                              rate=12.0, analysis={"inference": "model", "model": "poisson"})
    code, out, err = run_cli(ws, capsys, "diagnose", str(path), "--sims", "40", "--effects",
                             "-50%", "--workers", "1")
    assert code == 0, err
    assert "the rule's verdicts (basis: primary; share of 40 simulations" in out
    assert "no effect" in out and "20% reduction (hoped for)" in out
    warnings = [line for line in out.splitlines() if line.startswith("  warning: ")]
    assert any("the test rejects a true null" in w for w in warnings), out
    assert any("continues a useless intervention" in w for w in warnings), out
    saved = json.loads(diagnosis_path(ws, "fl-01-test").read_text())
    oc = saved["operating_characteristics"]
    assert {p["code"] for p in oc["problems"]} >= {"size", "continue_at_no_effect"}
    for row in oc["scenarios"]:
        assert sum(row["rates"].values()) == pytest.approx(1.0)
        assert sum(row["reference"].values()) == pytest.approx(1.0)


def test_a_calibrated_design_has_no_problems(tmp_path):
    # exchangeable units and randomization inference: exact, so no rate should be flagged
    data = prepared(tmp_path, n_units=30, n_treated=4, equal_units=True,
                    analysis={"randomization_draws": 200})
    oc = diagnose_prepared(data, sims=120, effects=(-0.5,))["operating_characteristics"]
    assert oc["problems"] == [], oc["problems"]
    assert oc["basis_simulated"] is True
    assert [s["scenario"] for s in oc["scenarios"]] == ["no_effect", "min_reduction", "expected"]


# --- the one simulation model ----------------------------------------------------------------------
def test_the_null_model_recovers_persistent_deviations():
    # 300 units, 89 weeks of history, AR(1) rho 0.8 with sd 0.3 and NB2 alpha 0.3. Over 20 seeds
    # one estimate spreads by sd 0.20 (rho) and 0.09 (deviation sd), with mean 0.73 and 0.27:
    # the mean of 5 seeds is held to 0.8 +- 0.2 and 0.3 +- 0.1 (about 2 standard errors of such
    # a mean, plus the small downward bias); without persistence it finds almost none
    def fitted(seed, rho, sd):
        config = SimulationConfig(n_units=300, n_periods=104, start=90, events_per_period=150,
                                  persistence=rho, deviation_sd=sd, dispersion=0.3)
        return fit_null_model(placebo_history(simulate(np.random.default_rng(seed), config))) \
            .describe()

    persistent = [fitted(seed, 0.8, 0.3) for seed in range(5)]
    assert np.mean([d["persistence"] for d in persistent]) == pytest.approx(0.8, abs=0.2)
    assert np.mean([d["deviation_sd"] for d in persistent]) == pytest.approx(0.3, abs=0.1)
    assert np.mean([d["nb2_alpha"] for d in persistent]) == pytest.approx(0.3, abs=0.1)
    plain = fitted(1, 0.0, 0.0)
    assert plain["deviation_sd"] <= 0.15
    assert plain["nb2_alpha"] == pytest.approx(0.3, abs=0.1)


def test_series_of_attacks_are_linear_overdispersion_not_quadratic():
    # counts whose extra variance grows with the mean (NB1, variance 1.5 m, like series of
    # attacks) are fitted as NB1, so the large units do not get a squared-mean variance
    config = SimulationConfig(n_units=300, n_periods=60, start=50, events_per_period=150)
    placebo = placebo_history(simulate(np.random.default_rng(2), config))
    poisson = fit_null_model(placebo).describe()
    assert poisson["nb1_excess"] < 0.1 and poisson["nb2_alpha"] < 0.05
    mu = fit_null_model(placebo).mu
    rng = np.random.default_rng(5)
    # gamma shape m / 0.5, scale 0.5: mean m, variance m + 0.5 m: NB1 excess 0.5, no NB2 part
    y = rng.poisson(rng.gamma(np.maximum(mu, 1e-12) / 0.5, 0.5)).astype(float)
    compound = dataclasses.replace(placebo, data=placebo.data.with_outcome(y))
    fitted = fit_null_model(compound).describe()
    assert fitted["nb1_excess"] == pytest.approx(0.5, abs=0.15)
    assert fitted["nb2_alpha"] < 0.1


def test_spike_selection_picks_recent_highs_that_then_regress():
    # no effect, no persistence: the treated units' excess in the 8 weeks before the start is
    # selected (large), after the start it is gone (regression to the mean)
    config = SimulationConfig(n_units=80, n_periods=60, n_treated=3, start=40,
                              events_per_period=40, treated="spike", spike_periods=8)
    before, after = [], []
    for seed in range(20):
        data = simulate(np.random.default_rng(seed), config)
        panel = data.panel
        treated = panel.loc[panel["treated_unit"]]
        share = treated["exposure"].sum() / panel["exposure"].sum()
        for rows, out in ((treated.loc[treated["t"].between(32, 39)], before),
                          (treated.loc[treated["t"] >= 40], after)):
            out.append(rows["y"].sum() / (share * panel.loc[panel["t"].isin(rows["t"]), "y"].sum()))
    assert np.mean(before) > 1.5  # selected on a spike
    assert abs(np.mean(after) - 1.0) < 0.35  # back to their level (ratio noise over 20 draws)
    assert data.design.treatment.units != ("GM0001", "GM0002", "GM0003")


def test_single_series_its_from_the_synthetic_programme():
    config = SimulationConfig(n_units=10, n_periods=120, n_treated=1, start=100,
                              events_per_period=60, design="its", season_amplitude=0.2,
                              persistence=0.5, deviation_sd=0.1,
                              analysis={"model": "quasi_poisson", "seasonality": 1})
    data = simulate(np.random.default_rng(4), config, rate_ratio=0.7)
    assert data.treated_units == ("GM0001",) and data.control_units == ()
    primary = estimate_its(data, with_checks=False).primary
    assert primary["ci_low"] < 0.7 < primary["ci_high"]
    # the ITS default (issue 21): the confidence comes from the placebo-block test itself
    assert primary["confidence"]["method"] == "placebo_blocks"


def test_rule_lines_say_when_the_registered_basis_was_not_simulated():
    from evaluation.cli.diagnose_cmds import rule_lines

    rates = {"continue": 0.1, "adapt": 0.0, "stop": 0.4, "inconclusive": 0.5}
    row = {"scenario": "no_effect", "reduction": 0.0, "rates": rates, "mcse": rates,
           "reference": rates}
    oc = {"basis": "bayesian", "basis_simulated": False, "sims": 30, "scenarios": [row],
          "size": {"value": 0.05, "mcse": 0.04, "reference": 0.05},
          "coverage": {"value": 0.95, "mcse": 0.04, "reference": 0.95},
          "problems": [{"code": "continue_at_no_effect", "value": 0.3, "reference": 0.1,
                        "limit": 0.21, "worse": "higher"}]}
    lines = rule_lines({"operating_characteristics": oc})
    assert any("decision.basis is bayesian" in line and "not simulated" in line for line in lines)
    assert "  warning: the rule continues a useless intervention in 30.0% of simulations; a " \
           "calibrated analysis: 10.0% (above its limit 21.0% = reference + 2 Monte Carlo " \
           "errors)" in lines
