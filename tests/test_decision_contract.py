"""result.json["decision"] as a contract: every key and code with literal expectations (issue 22:
mutation testing found these read by no test)."""

from __future__ import annotations

import math

import pytest

from evaluation.analysis.decision import decide
from evaluation.design.decision_rule import DecisionSpec, as_rule_dict, basis_problem
from evaluation.errors import DesignError

REG = {"status": "registered", "matches": True, "design": "did", "controlled": True}
PRIMARY = {"scale": "rate_ratio", "estimate": 0.8, "ci_low": 0.6, "ci_high": 1.1, "p_value": 0.2,
           "pct_change": -20.0, "alpha": 0.05, "n_control": 10,
           "confidence": {"any_reduction": 0.9, "min_reduction": 0.7, "method": "randomization",
                          "mcse": {"any_reduction": 0.01, "min_reduction": 0.02}}}


def test_decision_dict_keys_and_basis_literals():
    out = decide(primary=PRIMARY, bayesian=None, checks=[], registration=REG, rule=None)
    assert set(out) == {"verdict", "reason", "blocking", "registered_basis", "basis", "support",
                        "rule", "evidence_level", "deviations", "error_rates",
                        "minimum_detectable"}
    assert out["minimum_detectable"] is None  # only an ITS under placebo-block inference has one
    assert out["basis"] == {
        "source": "frequentist", "quantity": "confidence", "method": "randomization",
        "scale": "rate_ratio", "estimate": 0.8, "low": 0.6, "high": 1.1, "interval_level": 0.95,
        "p_any_reduction": 0.9, "p_min_reduction": 0.7,
        "mcse": {"any_reduction": 0.01, "min_reduction": 0.02}, "p_value": 0.2, "pct_change": -20.0,
        "estimable": True}  # a point estimate exists (under separation it does not)
    # 0.7 < 0.8 to continue, 0.9 >= 0.8 but 0.7 >= 0.5: inconclusive (design/decision_rule.py)
    assert (out["verdict"], out["reason"], out["registered_basis"]) == ("inconclusive", "rule", "primary")
    assert out["rule"] == {"basis": "primary", "min_reduction": 0.1, "expected_reduction": 0.2,
                           "continue_probability": 0.8, "stop_probability": 0.5}
    assert out["support"] is None and out["deviations"] == [] and out["error_rates"] is None
    assert out["evidence_level"] == {"smss": 2, "code": "pretrend_not_run", "design": "did"}


def test_no_estimate_is_inconclusive_with_its_code():
    out = decide(primary={**PRIMARY, "estimate": None}, bayesian=None, checks=[], registration=REG,
                 rule=None)
    assert (out["verdict"], out["reason"], out["basis"]) == ("inconclusive", "no_estimate", None)


def test_evidence_level_uses_the_registered_design():
    its = {**REG, "design": "its", "controlled": False}
    out = decide(primary=PRIMARY, bayesian=None, checks=[], registration=its, rule=None)
    assert out["evidence_level"] == {"smss": 2, "code": "no_comparison", "design": "its"}


def test_checks_given_with_missing_fields_take_documented_defaults():
    # a failed check without `blocking` does not block; one with it blocks and is named
    quiet = decide(primary=PRIMARY, bayesian=None, registration=REG, rule=None,
                   checks=[{"kind": "pre_trends", "status": "fail"}])
    assert quiet["reason"] == "rule" and quiet["evidence_level"]["code"] == "pretrend_failed"
    loud = decide(primary=PRIMARY, bayesian=None, registration=REG, rule=None,
                  checks=[{"status": "fail", "blocking": True}])
    assert loud["blocking"] == [{"code": "check_failed", "check": "", "kind": "", "detail": ""}]
    # a check without a status counts as skipped: neither pass nor fail; a pre-trend check that
    # was there but skipped could not be tested (no check at all: `pretrend_not_run`, above)
    skipped = decide(primary=PRIMARY, bayesian=None, registration=REG, rule=None,
                     checks=[{"name": "pre", "kind": "pre_trends", "blocking": True}])
    assert skipped["blocking"] == [] and skipped["evidence_level"]["code"] == "pretrend_not_testable"


def test_support_of_the_other_analysis():
    bayes = {"reliable": True, "rr_median": 0.7, "hdi_low": 0.5, "hdi_high": 0.95,
             "hdi_prob": 0.95, "p_any_reduction": 0.99, "p_min_reduction": 0.9}
    out = decide(primary=PRIMARY, bayesian=bayes, checks=[], registration=REG, rule=None)
    assert out["support"] == {
        "source": "bayesian", "quantity": "probability", "verdict": "continue",
        "code": "support_differs", "p_any_reduction": 0.99, "p_min_reduction": 0.9,
        "estimate": 0.7, "low": 0.5, "high": 0.95, "interval_level": 0.95}
    unreliable = decide(primary=PRIMARY, bayesian={**bayes, "reliable": False,
                                                   "reliability_reason": "r_hat 1.05"},
                        checks=[], registration=REG, rule=None)
    assert unreliable["support"] == {"source": "bayesian", "code": "support_unreliable",
                                     "detail": "r_hat 1.05"}
    assert unreliable["verdict"] == "inconclusive" and unreliable["blocking"] == []


def test_interval_fallback_uses_the_primary_alpha_and_the_counterfactual_mean():
    """Linear scale, no confidence of its own: estimate -2 with 90% interval [-4, 0] (alpha 0.1),
    counterfactual mean -2 / (-20 / 100) = 10, so the minimum reduction 10% is a difference of -1.
    z_0.95 = 1.6449, half-width 2 -> sd 1.2159: confidence(< 0) = Phi(2 / 1.2159) = 0.9500,
    confidence(< -1) = Phi(1 / 1.2159) = Phi(0.8224) = 0.7946 (hand calculation, normal table)."""
    primary = {"scale": "difference", "estimate": -2.0, "ci_low": -4.0, "ci_high": 0.0,
               "p_value": 0.1, "pct_change": -20.0, "alpha": 0.1}
    out = decide(primary=primary, bayesian=None, checks=[], registration=REG, rule=None)
    basis = out["basis"]
    assert basis["method"] == "interval_fallback" and basis["interval_level"] == pytest.approx(0.9)
    assert basis["p_any_reduction"] == pytest.approx(0.9500, abs=1e-4)
    assert basis["p_min_reduction"] == pytest.approx(0.7946, abs=1e-4)
    # without an interval there is nothing to read the confidence from
    no_interval = decide(primary={**primary, "ci_low": None}, bayesian=None, checks=[],
                         registration=REG, rule=None)
    assert (no_interval["reason"], no_interval["basis"]) == ("no_estimate", None)
    # with its own confidence but no interval, the basis shows the missing end as NaN
    own = decide(primary={**PRIMARY, "ci_low": None}, bayesian=None, checks=[], registration=REG,
                 rule=None)
    assert math.isnan(own["basis"]["low"]) and own["basis"]["high"] == 1.1


def test_rule_errors_and_basis_problem_literals():
    assert basis_problem(basis="bayesian", bayesian=False) == (
        "decision.basis: `bayesian` needs analysis.bayesian: true (the posterior supplies the "
        "rule's probabilities); set it, or use basis: primary")
    assert basis_problem(basis="bayesian", bayesian=True) is None
    assert basis_problem(basis="primary", bayesian=False) is None
    with pytest.raises(DesignError, match=r"^decision\.min_reduction: Input should be less than 1$"):
        as_rule_dict({"min_reduction": 1.5})
    with pytest.raises(DesignError, match=r"^decision: expected_reduction: 0\.05 is below "
                                          r"min_reduction 0\.1; the hoped-for"):
        as_rule_dict({"expected_reduction": 0.05})
    spec = DecisionSpec(min_reduction=0.2, expected_reduction=0.3)
    assert as_rule_dict(spec)["min_reduction"] == 0.2 and as_rule_dict(None)["min_reduction"] == 0.1
    assert as_rule_dict({"min_reduction": 0.2, "unknown": 1})["min_reduction"] == 0.2
