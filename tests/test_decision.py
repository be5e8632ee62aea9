"""Verdicts: the registered rule, blocking problems, the frequentist mapping, evidence levels."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import norm

from evaluation.analysis.decision import classify, decide, evidence_level, frequentist_basis
from evaluation.design.decision_rule import DecisionSpec as Rule
from evaluation.report import verdict_text

RULE = {"min_reduction": 0.10, "continue_probability": 0.80, "stop_probability": 0.50}
BAYES_RULE = {**RULE, "basis": "bayesian"}


def frequentist_probabilities(primary, *, min_reduction, alpha=0.05):
    """The interval fallback (a primary without its own confidence), as the tests below use it."""
    return frequentist_basis(primary, rule={"min_reduction": min_reduction}, alpha=alpha)
# a pass with the power to see a trend that matters (evidence level 3 needs it, issue 14)
PASS_PRETREND = {"name": "pre_trends", "kind": "pre_trends", "status": "pass", "detail": "p = 0.41",
                 "blocking": True, "values": {"power": {"power": 0.91}}}
FAIL_PRETREND = {"name": "pre_trends", "kind": "pre_trends", "status": "fail", "detail": "joint test of leads p = 0.003",
                 "blocking": True}
REG = {"status": "registered", "matches": True, "design": "did", "controlled": True}


def primary(rr=0.85, lo=0.74, hi=0.97, p=0.018, scale="rate_ratio", pct=None, se=None):
    return {"method": "Poisson TWFE", "scale": scale, "estimate": rr, "ci_low": lo, "ci_high": hi,
            "p_value": p, "pct_change": 100 * (rr - 1) if pct is None else pct, "std_error": se,
            "inference": {"used": "model", "reason": ""}, "n_treated": 12, "n_control": 300,
            "n_periods": 104}


def bayes(p_any, p_min, reliable=True, rr=0.85):
    return {"rr_median": rr, "hdi_low": 0.7, "hdi_high": 1.02, "p_any_reduction": p_any,
            "p_min_reduction": p_min, "reliable": reliable,
            "reliability_reason": "ok" if reliable else "r_hat 1.07 > 1.01"}


@pytest.mark.parametrize(("p_any", "p_min", "expected"), [
    (0.99, 0.80, "continue"),      # exactly at the continue threshold
    (0.99, 0.7999, "inconclusive"),  # probably >= minimum, not sure enough
    (0.49, 0.10, "stop"),
    (0.50, 0.10, "inconclusive"),  # a merely likely reduction: the data cannot tell
    (0.79, 0.10, "inconclusive"),
    (0.80, 0.10, "adapt"),         # P_any as sure as a continue needs, P_min below one half
    (0.90, 0.49, "adapt"),
    (0.90, 0.50, "inconclusive"),
    (0.999, 0.95, "continue"),
])
def test_rule_boundaries(p_any, p_min, expected):
    rule = Rule(min_reduction=0.1, continue_probability=0.8, stop_probability=0.5)
    assert classify(p_any=p_any, p_min=p_min, rule=rule) == expected


def test_adapt_needs_p_any_at_the_continue_probability_even_with_a_low_stop_bound():
    rule = Rule(min_reduction=0.1, continue_probability=0.8, stop_probability=0.2)
    assert classify(p_any=0.4, p_min=0.1, rule=rule) == "inconclusive"
    assert classify(p_any=0.7, p_min=0.1, rule=rule) == "inconclusive"
    assert classify(p_any=0.1, p_min=0.01, rule=rule) == "stop"


def test_reliable_bayesian_fit_decides_with_posterior_probabilities():
    out = decide(primary=primary(), bayesian=bayes(0.97, 0.83), checks=[PASS_PRETREND],
                 registration=REG, rule=BAYES_RULE)
    assert out["verdict"] == "continue" and verdict_text.label(out["verdict"], "nl") == "doorzetten"
    assert out["basis"]["source"] == "bayesian"
    assert out["basis"]["p_min_reduction"] == 0.83
    # the report turns the codes into reasons with the numbers in Dutch or English notation
    nl, en = verdict_text.reasons(out, "nl"), verdict_text.reasons(out, "en")
    assert "0,85" in nl[0] and "83%" in nl[1]
    assert "0.85" in en[0] and "0.70 to 1.02" in en[0]
    assert "95% HDI" in en[0] and "probability" in en[1]
    assert 2 <= len(nl) <= 3
    assert out["evidence_level"]["smss"] == 3
    json.dumps(out, allow_nan=False)  # stored in result.json as is


@pytest.mark.parametrize("blocker", ["exploratory", "mismatch", "pretrend", "unreliable"])
def test_blocking_problems_give_inconclusive_never_continue(blocker):
    reg = dict(REG)
    checks = [PASS_PRETREND]
    fit = bayes(0.999, 0.99)
    if blocker == "exploratory":
        reg["status"] = "exploratory"
    elif blocker == "mismatch":
        reg["matches"] = False
    elif blocker == "pretrend":
        checks = [FAIL_PRETREND]
    else:
        fit = bayes(0.999, 0.99, reliable=False)
    out = decide(primary=primary(0.6, 0.5, 0.7, 1e-6), bayesian=fit, checks=checks,
                 registration=reg, rule=BAYES_RULE)
    assert out["verdict"] == "inconclusive"
    assert verdict_text.label(out["verdict"], "nl") == "nog niet te zeggen"
    assert out["blocking"] and out["reason"] == "blocked", "the blocking reason is named"
    text = " ".join(verdict_text.reasons(out, "en"))
    key = {"exploratory": "exploratory", "mismatch": "registration", "pretrend": "Parallel trends",
           "unreliable": "r_hat 1.07"}[blocker]
    assert key in text


def test_string_registration_and_check_objects_are_accepted():
    from evaluation.estimators.output import Check

    out = decide(primary=primary(), bayesian=None, registration="exploratory", rule=RULE,
                 checks=[Check(name="placebo", kind="placebo", status="fail", detail="1 of 4", blocking=False)])
    assert out["verdict"] == "inconclusive" and out["blocking"] == [{"code": "exploratory"}]


def test_failed_non_blocking_check_does_not_block():
    checks = [PASS_PRETREND, {"name": "placebo", "kind": "placebo", "status": "fail", "detail": "1 of 4 significant",
                              "blocking": False}]
    out = decide(primary=primary(0.6, 0.5, 0.72, 1e-5), bayesian=None, checks=checks,
                 registration=REG, rule=RULE)
    assert out["verdict"] == "continue" and out["blocking"] == []


def test_unreliable_fit_is_mentioned_once_not_twice():
    checks = [PASS_PRETREND, {"name": "bayesian_reliability", "kind": "bayesian_reliability",
                              "status": "fail",
                              "detail": "r_hat 1.07 > 1.01", "blocking": True}]
    out = decide(primary=primary(), bayesian=bayes(0.99, 0.95, reliable=False), checks=checks,
                 registration=REG, rule=BAYES_RULE)
    assert [b["code"] for b in out["blocking"]] == ["bayesian_unreliable"]


def test_frequentist_mapping_matches_the_interval_statements():
    # upper bound of the 95% CI below 1 - min_reduction  <=>  P_min > 97.5%
    below = frequentist_probabilities(primary(0.75, 0.66, 0.899), min_reduction=0.1)
    above = frequentist_probabilities(primary(0.75, 0.66, 0.901), min_reduction=0.1)
    assert below.p_min > 0.975 > above.p_min
    # point estimate above 1  <=>  P_any < 50%  -> stop with the default bound
    up = decide(primary=primary(1.04, 0.9, 1.2, 0.6), bayesian=None, checks=[PASS_PRETREND],
                registration=REG, rule=RULE)
    assert up["verdict"] == "stop" and up["basis"]["p_any_reduction"] < 0.5


def test_frequentist_probabilities_against_a_statsmodels_poisson_fit():
    # P_any from a symmetric Wald interval is the one-sided p-value complement: 1 - p/2
    rng = np.random.default_rng(7)
    n = 400
    treated = np.repeat([0, 1], n // 2)
    y = rng.poisson(np.exp(1.0 + np.log(0.8) * treated))
    fit = sm.GLM(y, sm.add_constant(treated), family=sm.families.Poisson()).fit()
    b, se, p = fit.params[1], fit.bse[1], fit.pvalues[1]
    lo, hi = np.exp(fit.conf_int()[1])
    basis = frequentist_probabilities(primary(float(np.exp(b)), float(lo), float(hi), float(p)),
                                      min_reduction=0.1)
    assert basis.p_any == pytest.approx(1 - p / 2, abs=1e-9)
    assert basis.p_min == pytest.approx(norm.cdf((math.log(0.9) - b) / se), abs=1e-9)


def test_simulation_known_truth_continue_rates():
    """True RR 0.7: mostly continue; true RR 1.0: almost never continue (false-positive rate)."""
    rng = np.random.default_rng(11)
    treated = np.repeat([0, 1], 150)
    x = sm.add_constant(treated)
    rates = {}
    for true_rr in (0.7, 1.0):
        verdicts = []
        for _ in range(120):
            y = rng.poisson(np.exp(1.2 + np.log(true_rr) * treated))
            fit = sm.GLM(y, x, family=sm.families.Poisson()).fit()
            lo, hi = np.exp(fit.conf_int()[1])
            out = decide(primary=primary(float(np.exp(fit.params[1])), float(lo), float(hi),
                                         float(fit.pvalues[1])), bayesian=None,
                         checks=[PASS_PRETREND], registration=REG, rule=RULE)
            verdicts.append(out["verdict"])
        rates[true_rr] = pd.Series(verdicts).value_counts(normalize=True)
    assert rates[0.7].get("continue", 0) > 0.9
    assert rates[1.0].get("continue", 0) < 0.05
    assert rates[1.0].get("stop", 0) == pytest.approx(0.5, abs=0.15)  # estimate > 1 half the time


def test_difference_scale_uses_the_counterfactual_mean():
    # difference -2.0 on a counterfactual mean of 10 (pct -20%): min reduction 10% = -1.0
    p = primary(-2.0, -2.8, -1.2, 0.001, scale="difference", pct=-20.0)
    basis = frequentist_probabilities(p, min_reduction=0.1)
    assert basis.p_min == pytest.approx(norm.cdf((-1.0 + 2.0) / (0.8 / norm.ppf(0.975))))
    assert decide(primary=p, bayesian=None, checks=[PASS_PRETREND], registration=REG,
                  rule=RULE)["verdict"] == "continue"


def test_missing_estimate_is_inconclusive():
    out = decide(primary={"estimate": None, "scale": "rate_ratio"}, bayesian=None, checks=[],
                 registration=REG, rule=RULE)
    assert out["verdict"] == "inconclusive" and out["basis"] is None


def test_evidence_levels():
    its = evidence_level(design="its", controlled=False, primary={}, checks=[])
    assert its["smss"] == 2 and its["code"] == "no_comparison"
    assert "vergelijkingsreeks" in verdict_text.evidence({"evidence_level": its}, "nl")
    assert evidence_level(design="did", controlled=True, primary={},
                          checks=[PASS_PRETREND])["smss"] == 3
    assert evidence_level(design="did", controlled=True, primary={},
                          checks=[FAIL_PRETREND])["smss"] == 2
    skipped = dict(PASS_PRETREND, status="skipped")
    assert evidence_level(design="its", controlled=True, primary={}, checks=[skipped])["smss"] == 2
    assert evidence_level(design="its", controlled=True, primary={},
                          checks=[PASS_PRETREND])["smss"] == 3
    placebo = {"name": "placebo_start_dates", "kind": "placebo", "status": "pass", "detail": "", "blocking": False}
    # a pass that reports no power is a non-rejection alone: not evidence of parallel trends
    assert evidence_level(design="its", controlled=True, primary={},
                          checks=[placebo])["code"] == "pretrend_low_power"
    assert evidence_level(design="its", controlled=True, primary={},
                          checks=[dict(placebo, values={"power": {"power": 0.95}})])["smss"] == 3
    assert evidence_level(design="its", controlled=True, primary={},
                          checks=[dict(placebo, status="fail")])["smss"] == 2


def test_decide_is_pure_and_deterministic():
    args = {"primary": primary(), "bayesian": bayes(0.9, 0.6), "checks": [PASS_PRETREND],
            "registration": REG, "rule": RULE}
    before = copy.deepcopy(args)
    first, second = decide(**args), decide(**args)
    assert first == second and args == before


def test_rule_from_a_design_decision_spec():
    from evaluation.design.model import DecisionSpec

    out = decide(primary=primary(0.6, 0.5, 0.72, 1e-5), bayesian=None, checks=[PASS_PRETREND],
                 registration=REG, rule=DecisionSpec(min_reduction=0.5, expected_reduction=0.5))
    assert out["rule"]["min_reduction"] == 0.5 and out["verdict"] == "adapt"


def test_verdict_catalogues_have_the_same_keys_in_both_languages():
    for catalogue in verdict_text.CATALOGUES:
        nl, en = catalogue["nl"], catalogue["en"]
        assert (set(nl) == set(en)) if isinstance(nl, dict) else isinstance(en, str)


def test_evidence_level_does_not_rest_on_a_non_rejection_alone():
    """Issue 14: a passed pre-trend test with little power (3 treated units) is level 2, unless
    the relative-magnitudes bound still excludes no effect; a test that could not be run says so."""
    low_power = dict(PASS_PRETREND, values={"power": {"power": 0.12}})
    level = evidence_level(design="did", controlled=True, primary={}, checks=[low_power])
    assert (level["smss"], level["code"], level["power"]) == (2, "pretrend_low_power", 0.12)
    robust = dict(PASS_PRETREND, values={"power": {"power": 0.12},
                                         "sensitivity": {"excludes_no_effect": True}})
    level = evidence_level(design="did", controlled=True, primary={}, checks=[robust])
    assert (level["smss"], level["code"]) == (3, "parallel_robust")
    untestable = dict(PASS_PRETREND, status="skipped", values={"reason_code": "no_estimable_leads"})
    level = evidence_level(design="did", controlled=True, primary={}, checks=[untestable])
    assert (level["smss"], level["code"]) == (2, "pretrend_not_testable")
    assert evidence_level(design="did", controlled=True, primary={},
                          checks=[dict(PASS_PRETREND, values={"power": {"power": 0.80}})]
                          )["code"] == "parallel_shown"  # the threshold itself is enough
    for lang in ("nl", "en"):
        for code in ("pretrend_low_power", "parallel_robust", "pretrend_not_testable"):
            assert verdict_text.evidence({"evidence_level": {"code": code, "design": "did"}}, lang)
