"""The decision module's parts one by one, with literal expectations (issue 22: written from the
survivors of the mutation run of evaluation/design/decision_rule.py and
evaluation/analysis/decision.py). Every expected value is a literal: the registered defaults
(alpha 0.05, min_reduction 0.10, continue 0.80, stop 0.50, pre-trend power 0.80), or a hand
calculation / scipy value stated beside it."""

from __future__ import annotations

import math

import pytest

from evaluation.analysis.decision import (
    Basis,
    _check,
    _float,
    _registration,
    bayesian_basis,
    blocking_problems,
    decide,
    error_rates,
    evidence_level,
    frequentist_basis,
    rule_of,
)
from evaluation.design.decision_rule import DecisionSpec, as_rule_dict, classify
from evaluation.errors import DesignError

REG = {"status": "registered", "matches": True, "design": "did", "controlled": True}
BAYES_RULE = {"basis": "bayesian"}
FIT = {"reliable": True, "rr_median": 0.7, "hdi_low": 0.5, "hdi_high": 0.95, "hdi_prob": 0.9,
       "p_any_reduction": 0.99, "p_min_reduction": 0.9}
OWN = {"scale": "rate_ratio", "estimate": 0.8, "ci_low": 0.6, "ci_high": 1.1, "p_value": 0.2,
       "pct_change": -20.0, "alpha": 0.05,
       "confidence": {"any_reduction": 0.9, "min_reduction": 0.7, "method": "randomization",
                      "mcse": {"any_reduction": 0.01, "min_reduction": 0.02}}}


# --- decision_rule ---------------------------------------------------------------------------
def test_rule_of_keeps_a_registered_spec_and_builds_one_from_a_dict():
    spec = DecisionSpec(min_reduction=0.2, expected_reduction=0.3)
    assert rule_of(spec) is spec  # the registered object itself, not a copy
    built = rule_of({"min_reduction": 0.2, "expected_reduction": 0.3})
    assert isinstance(built, DecisionSpec) and built == spec
    assert rule_of(None) == DecisionSpec(basis="primary", min_reduction=0.1,
                                         expected_reduction=0.2, continue_probability=0.8,
                                         stop_probability=0.5)


def test_as_rule_dict_reads_any_object_with_model_dump():
    class Dumped:  # a pydantic-like block that is not iterable as a mapping
        def model_dump(self):
            return {"min_reduction": 0.3, "expected_reduction": 0.4, "basis": "bayesian"}

    assert as_rule_dict(Dumped()) == {"basis": "bayesian", "min_reduction": 0.3,
                                      "expected_reduction": 0.4, "continue_probability": 0.8,
                                      "stop_probability": 0.5}


def test_as_rule_dict_error_names_the_field_and_the_fix():
    with pytest.raises(DesignError) as caught:
        as_rule_dict({"basis": "posterior"})
    assert str(caught.value) == "decision.basis: Input should be 'primary' or 'bayesian'"
    with pytest.raises(DesignError) as caught:
        as_rule_dict({"stop_probability": 0})
    assert str(caught.value) == "decision.stop_probability: Input should be greater than 0"
    # the ordering check has no field location: the message starts with the block's name alone
    with pytest.raises(DesignError) as caught:
        as_rule_dict({"min_reduction": 0.3, "expected_reduction": 0.25})
    assert str(caught.value) == ("decision: expected_reduction: 0.25 is below min_reduction 0.3; "
                                 "the hoped-for reduction is at least the smallest one worth "
                                 "continuing for")


def test_decision_spec_bounds_are_literal():
    assert DecisionSpec(min_reduction=0.0).min_reduction == 0.0  # ge=0: no minimum is allowed
    assert DecisionSpec(min_reduction=0.5, expected_reduction=0.5).expected_reduction == 0.5
    for field, value in (("min_reduction", -0.01), ("min_reduction", 1.0),
                         ("expected_reduction", 0.0), ("expected_reduction", 1.0),
                         ("continue_probability", 0.0), ("continue_probability", 1.0),
                         ("stop_probability", 0.0), ("stop_probability", 1.0)):
        with pytest.raises(DesignError, match=rf"^decision\.{field}: Input should be"):
            as_rule_dict({field: value, **({"min_reduction": 0.0} if field == "expected_reduction"
                                            else {})})


def test_classify_without_a_minimum_quantity():
    rule = DecisionSpec()
    # p_min None (no minimum on this scale): never continue nor adapt
    assert classify(p_any=0.99, p_min=None, rule=rule) == "inconclusive"
    assert classify(p_any=0.49, p_min=None, rule=rule) == "stop"
    assert classify(p_any=0.5, p_min=None, rule=rule) == "inconclusive"


# --- Basis -----------------------------------------------------------------------------------
def test_basis_to_dict_with_and_without_a_boundary():
    basis = Basis(source="frequentist", quantity="confidence", method="exact_poisson",
                  scale="rate_ratio", estimate=math.inf, low=0.0, high=0.4, interval_level=0.95,
                  p_any=0.99, p_min=0.97, mcse={"any_reduction": 0.001}, p_value=0.004,
                  pct_change=-60.0, estimable=False, boundary="separation")
    assert basis.to_dict() == {
        "boundary": "separation", "source": "frequentist", "quantity": "confidence",
        "method": "exact_poisson", "scale": "rate_ratio", "estimate": math.inf, "low": 0.0,
        "high": 0.4, "interval_level": 0.95, "p_any_reduction": 0.99, "p_min_reduction": 0.97,
        "mcse": {"any_reduction": 0.001}, "p_value": 0.004, "pct_change": -60.0,
        "estimable": False}
    plain = Basis(source="bayesian", quantity="probability", method="posterior",
                  scale="rate_ratio", estimate=0.7, low=0.5, high=0.9, interval_level=0.9,
                  p_any=0.9, p_min=None)
    assert plain.to_dict() == {
        "source": "bayesian", "quantity": "probability", "method": "posterior",
        "scale": "rate_ratio", "estimate": 0.7, "low": 0.5, "high": 0.9, "interval_level": 0.9,
        "p_any_reduction": 0.9, "p_min_reduction": None, "mcse": None, "p_value": None,
        "pct_change": None, "estimable": True}


# --- bayesian_basis --------------------------------------------------------------------------
def test_bayesian_basis_literals():
    basis = bayesian_basis(FIT)
    assert basis.to_dict() == {
        "source": "bayesian", "quantity": "probability", "method": "posterior",
        "scale": "rate_ratio", "estimate": 0.7, "low": 0.5, "high": 0.95, "interval_level": 0.9,
        "p_any_reduction": 0.99, "p_min_reduction": 0.9, "mcse": None, "p_value": None,
        "pct_change": pytest.approx(-30.0),  # 100 * (0.7 - 1); float rounding only
        "estimable": True}
    # without an HDI probability the interval is read at 1 - alpha = 0.95; missing ends are NaN
    bare = bayesian_basis({**FIT, "hdi_prob": None, "hdi_low": None, "hdi_high": "x",
                           "rr_median": 1.25})
    assert bare.interval_level == pytest.approx(0.95)  # 1 - 0.05, float rounding only
    assert math.isnan(bare.low) and math.isnan(bare.high)
    assert bare.pct_change == pytest.approx(25.0)  # 100 * (1.25 - 1), float rounding only


@pytest.mark.parametrize("change", [
    {"reliable": False}, {"reliable": None}, {"p_any_reduction": None},
    {"p_min_reduction": math.nan}, {"rr_median": None}, {"p_any_reduction": "0.9"}])
def test_bayesian_basis_needs_a_reliable_fit_with_all_three_numbers(change):
    assert bayesian_basis({**FIT, **change}) is None


def test_bayesian_basis_without_a_reliability_flag_is_not_used():
    fit = {k: v for k, v in FIT.items() if k != "reliable"}
    assert bayesian_basis(fit) is None
    assert bayesian_basis(None) is None


# --- frequentist_basis -----------------------------------------------------------------------
def test_frequentist_basis_from_the_analysis_own_confidence():
    basis = frequentist_basis({**OWN, "alpha": 0.1}, rule=None)
    assert basis.to_dict() == {
        "source": "frequentist", "quantity": "confidence", "method": "randomization",
        "scale": "rate_ratio", "estimate": 0.8, "low": 0.6, "high": 1.1,
        "interval_level": pytest.approx(0.9),  # 1 - 0.1, float rounding only
        "p_any_reduction": 0.9, "p_min_reduction": 0.7,
        "mcse": {"any_reduction": 0.01, "min_reduction": 0.02}, "p_value": 0.2,
        "pct_change": -20.0, "estimable": True}
    # the design's alpha wins over the primary's; without either the default 0.05
    assert frequentist_basis({**OWN, "alpha": 0.1}, rule=None, alpha=0.2).interval_level == \
        pytest.approx(0.8)  # 1 - 0.2, float rounding only
    no_alpha = {k: v for k, v in OWN.items() if k != "alpha"}
    # 1 - 0.05, float rounding only (both)
    assert frequentist_basis(no_alpha, rule=None).interval_level == pytest.approx(0.95)
    assert frequentist_basis({**OWN, "alpha": math.nan}, rule=None).interval_level == \
        pytest.approx(0.95)
    # a confidence without the minimum (no minimum on this scale) keeps None, never 0
    none_min = {**OWN, "confidence": {"any_reduction": 0.9, "min_reduction": None,
                                      "method": "normal"}}
    basis = frequentist_basis(none_min, rule=None)
    assert (basis.p_min, basis.method, basis.mcse) == (None, "normal", None)
    assert frequentist_basis({**OWN, "estimate": math.nan}, rule=None) is None


def test_frequentist_basis_under_separation_uses_the_exact_one_sided_confidence():
    separated = {"scale": "rate_ratio", "estimate": None, "ci_low": 0.0, "ci_high": 0.35,
                 "estimable": False, "one_sided": True, "p_value": 0.003, "pct_change": None,
                 "not_estimable": {"code": "separation", "detail": "no treated event after"},
                 "confidence": {"any_reduction": 0.997, "min_reduction": 0.99,
                                "method": "exact_poisson", "mcse": None}}
    basis = frequentist_basis(separated, rule=None)
    found = basis.to_dict()
    assert math.isnan(found.pop("estimate"))  # no point estimate: NaN, not a number
    assert found == {
        "boundary": "separation", "source": "frequentist", "quantity": "confidence",
        "method": "exact_poisson", "scale": "rate_ratio", "low": 0.0, "high": 0.35,
        "interval_level": pytest.approx(0.95),  # 1 - 0.05, float rounding only
        "p_any_reduction": 0.997, "p_min_reduction": 0.99, "mcse": None, "p_value": 0.003,
        "pct_change": None, "estimable": False}
    out = decide(primary=separated, bayesian=None, checks=[], registration=REG, rule=None)
    assert (out["verdict"], out["reason"]) == ("continue", "rule")  # 0.99 >= 0.8
    # separation without a one-sided confidence, or not flagged one-sided: no basis
    assert frequentist_basis({**separated, "one_sided": False}, rule=None) is None
    assert frequentist_basis({**separated, "confidence": None}, rule=None) is None
    assert frequentist_basis({**separated, "confidence": {"any_reduction": None}},
                             rule=None) is None
    assert frequentist_basis({**separated, "estimable": None}, rule=None) is None
    # an estimable primary is never labelled with a boundary
    assert "boundary" not in frequentist_basis({**OWN, "not_estimable": {"code": "x"}},
                                               rule=None).to_dict()
    unnamed = frequentist_basis({k: v for k, v in separated.items() if k != "not_estimable"},
                                rule=None)
    assert unnamed.boundary is None and unnamed.estimable is False


def test_interval_fallback_on_the_default_rate_ratio_scale():
    """No scale given: a rate ratio. RR 0.8 with 95% interval [0.64, 1.0]: log scale centre
    -0.22314, both half-widths 0.22314, sd 0.22314 / 1.95996 = 0.113851;
    confidence(log RR < 0) = Phi(1.95996) = 0.975, confidence(log RR < log 0.9) =
    Phi((-0.10536 + 0.22314) / 0.113851) = Phi(1.03450) = 0.84956 (scipy.stats.norm)."""
    primary = {"estimate": 0.8, "ci_low": 0.64, "ci_high": 1.0, "p_value": 0.05,
               "pct_change": -20.0}
    basis = frequentist_basis(primary, rule=None)
    assert (basis.method, basis.scale) == ("interval_fallback", "rate_ratio")
    assert basis.p_any == pytest.approx(0.975, abs=1e-6)  # table value to 6 places
    assert basis.p_min == pytest.approx(0.849558, abs=1e-6)  # scipy value to 6 places
    # an own confidence without a finite `any` is replaced by the fallback
    nan_conf = frequentist_basis({**primary, "confidence": {"any_reduction": math.nan,
                                                           "method": "randomization"}}, rule=None)
    assert nan_conf.method == "interval_fallback"
    assert nan_conf.p_any == pytest.approx(0.975, abs=1e-6)  # as above


def test_interval_fallback_on_a_linear_scale_needs_a_counterfactual_mean():
    """Difference -2 with 95% interval [-4, 0]: sd 2 / 1.95996, confidence(< 0) = 0.975. The
    minimum reduction needs the counterfactual mean estimate / (pct_change / 100): without a
    usable pct_change (None, 0, NaN) there is no minimum, so p_min is None (never continue)."""
    primary = {"scale": "difference", "estimate": -2.0, "ci_low": -4.0, "ci_high": 0.0}
    for pct in (None, 0.0, math.nan):
        basis = frequentist_basis({**primary, "pct_change": pct}, rule=None)
        assert basis.p_any == pytest.approx(0.975, abs=1e-6)  # table value to 6 places
        assert basis.p_min is None
        out = decide(primary={**primary, "pct_change": pct}, bayesian=None, checks=[],
                     registration=REG, rule=None)
        assert out["verdict"] == "inconclusive"  # 0.975 >= 0.8 but no p_min: no adapt either


# --- decide ----------------------------------------------------------------------------------
def test_decide_with_the_bayesian_basis_and_the_primary_as_support():
    out = decide(primary=OWN, bayesian=FIT, checks=[], registration=REG, rule=BAYES_RULE)
    assert (out["verdict"], out["reason"], out["registered_basis"]) == ("continue", "rule",
                                                                        "bayesian")
    assert out["basis"]["source"] == "bayesian" and out["basis"]["method"] == "posterior"
    # the primary (0.9, 0.7) would be inconclusive: it differs, and says so
    assert out["support"] == {
        "source": "frequentist", "quantity": "confidence", "verdict": "inconclusive",
        "code": "support_differs", "p_any_reduction": 0.9, "p_min_reduction": 0.7,
        "estimate": 0.8, "low": 0.6, "high": 1.1,
        "interval_level": pytest.approx(0.95)}  # 1 - 0.05, float rounding only
    # the same numbers on both sides agree
    same = decide(primary=OWN, bayesian={**FIT, "p_any_reduction": 0.9, "p_min_reduction": 0.7},
                  checks=[], registration=REG, rule=BAYES_RULE)
    assert same["support"]["code"] == "support_agrees"
    assert same["support"]["verdict"] == "inconclusive"


def test_support_of_a_blocked_verdict_has_no_comparison_code():
    out = decide(primary=OWN, bayesian=FIT, checks=[], rule=None,
                 registration={**REG, "status": "exploratory"})
    assert (out["verdict"], out["reason"], out["basis"]) == ("inconclusive", "blocked", None)
    assert out["support"]["verdict"] == "continue" and out["support"]["code"] is None


def test_bayesian_basis_without_a_usable_fit():
    # the registered posterior is missing: no estimate, and the primary is shown as support
    out = decide(primary=OWN, bayesian=None, checks=[], registration=REG, rule=BAYES_RULE)
    assert (out["verdict"], out["reason"], out["blocking"]) == ("inconclusive", "no_estimate", [])
    assert out["support"]["source"] == "frequentist" and out["support"]["code"] is None
    # neither analysis usable: no support either
    none = decide(primary={**OWN, "estimate": None}, bayesian=None, checks=[], registration=REG,
                  rule=BAYES_RULE)
    assert none["support"] is None


def test_support_from_a_reliable_fit_without_numbers_is_none():
    # reliable but no p_any: the fit gives no basis and is not `unreliable` either
    out = decide(primary=OWN, bayesian={**FIT, "p_any_reduction": None}, checks=[],
                 registration=REG, rule=None)
    assert out["support"] is None
    # an unreliable fit without a reason: the default detail
    plain = decide(primary=OWN, bayesian={**FIT, "reliable": False}, checks=[], registration=REG,
                   rule=None)
    assert plain["support"] == {"source": "bayesian", "code": "support_unreliable",
                                "detail": "diagnostics failed"}
    # a fit with no reliability flag counts as unreliable
    unflagged = {k: v for k, v in FIT.items() if k != "reliable"}
    assert decide(primary=OWN, bayesian=unflagged, checks=[], registration=REG,
                  rule=None)["support"]["code"] == "support_unreliable"


def test_decide_passes_deviations_error_rates_and_minimum_detectable_through():
    deviation = {"code": "method_version", "registered": "1.0", "used": "1.1"}
    out = decide(primary={**OWN, "minimum_detectable": 0.31}, bayesian=None, checks=[],
                 registration=REG, rule=None, deviations=[deviation], diagnosis=DIAGNOSIS)
    assert out["deviations"] == [deviation] and out["minimum_detectable"] == 0.31
    assert out["error_rates"]["continue_at_no_effect"] == {"value": 0.04, "mcse": 0.006}


def test_decide_reads_the_registered_control_and_design():
    # controlled ITS: the registration says so, even when the primary reports no controls
    its = {**REG, "design": "its", "controlled": True}
    out = decide(primary={**OWN, "n_control": 0}, bayesian=None, checks=[], registration=its,
                 rule=None)
    assert out["evidence_level"] == {"smss": 2, "code": "pretrend_not_run", "design": "its"}
    # without a registered control flag the primary's control count decides
    unknown = {**its, "controlled": None}
    out = decide(primary={**OWN, "n_control": 0}, bayesian=None, checks=[], registration=unknown,
                 rule=None)
    assert out["evidence_level"] == {"smss": 2, "code": "no_comparison", "design": "its"}


# --- error rates -----------------------------------------------------------------------------
DIAGNOSIS = {"sha256": "ab" * 32, "operating_characteristics": {
    "sims": 500, "basis": "primary", "basis_simulated": "interval_fallback",
    "scenarios": [
        {"scenario": "no_effect", "reduction": 0.0,
         "rates": {"continue": 0.04, "stop": 0.5}, "mcse": {"continue": 0.006, "stop": 0.02}},
        {"scenario": "expected", "reduction": 0.2,
         "rates": {"continue": 0.7, "stop": 0.03}, "mcse": {"continue": 0.02, "stop": 0.008}}]}}


def test_error_rates_literals():
    assert error_rates(DIAGNOSIS) == {
        "sims": 500, "basis": "primary", "basis_simulated": "interval_fallback",
        "expected_reduction": 0.2, "continue_at_no_effect": {"value": 0.04, "mcse": 0.006},
        "stop_at_expected": {"value": 0.03, "mcse": 0.008}, "diagnosis_sha256": "ab" * 32}


def test_error_rates_need_both_scenarios():
    oc = DIAGNOSIS["operating_characteristics"]
    assert error_rates(None) is None
    assert error_rates({"operating_characteristics": None}) is None
    assert error_rates({"operating_characteristics": {}}) is None
    assert error_rates({"operating_characteristics": {"sims": 500}}) is None  # no scenarios
    for keep in ("no_effect", "expected"):
        one = {**oc, "scenarios": [s for s in oc["scenarios"] if s["scenario"] == keep]}
        assert error_rates({"operating_characteristics": one}) is None
    unsigned = error_rates({"operating_characteristics": oc})
    assert unsigned["diagnosis_sha256"] is None and unsigned["sims"] == 500


# --- blocking problems -----------------------------------------------------------------------
def _reliability_check(status="fail"):
    return {"name": "bayes_fit", "kind": "bayesian_reliability", "status": status,
            "detail": "r_hat 1.05", "blocking": True, "values": {}}


def _pre_check(status="fail", blocking=True):
    return {"name": "pre_trends", "kind": "pre_trends", "status": status,
            "detail": "leads p = 0.003", "blocking": blocking, "values": {}}


def test_blocking_problems_in_order_with_their_details():
    reg = {"status": "exploratory", "matches": False, "design": "did", "controlled": True}
    found = blocking_problems(reg, [_pre_check()], {"reliable": False}, basis="bayesian")
    assert found == [
        {"code": "exploratory"}, {"code": "registration_mismatch"},
        {"code": "bayesian_unreliable", "detail": "diagnostics failed"},
        {"code": "check_failed", "check": "pre_trends", "kind": "pre_trends",
         "detail": "leads p = 0.003"}]
    # an unknown match (None) is no mismatch; a passed or non-blocking check blocks nothing
    reg = {"status": "registered", "matches": None, "design": "did", "controlled": True}
    assert blocking_problems(reg, [_pre_check("pass"), _pre_check(blocking=False)], None) == []
    # a fit without a reliability flag is unreliable
    assert blocking_problems(REG, [], {"rr_median": 0.7}, basis="bayesian") == [
        {"code": "bayesian_unreliable", "detail": "diagnostics failed"}]


def test_reliability_check_blocks_only_the_bayesian_basis_and_is_said_once():
    # primary basis (also the default): the fit is support only, its failed check never blocks,
    # and the checks after it are still read
    checks = [_reliability_check(), _pre_check()]
    pre = {"code": "check_failed", "check": "pre_trends", "kind": "pre_trends",
           "detail": "leads p = 0.003"}
    assert blocking_problems(REG, checks, dict(FIT)) == [pre]
    assert blocking_problems(REG, checks, dict(FIT), basis="primary") == [pre]
    # bayesian basis, a fit reported reliable but whose check failed: the check blocks
    assert blocking_problems(REG, checks, dict(FIT), basis="bayesian") == [
        {"code": "check_failed", "check": "bayes_fit", "kind": "bayesian_reliability",
         "detail": "r_hat 1.05"}, pre]
    # bayesian basis, an unreliable fit: said once (bayesian_unreliable), then the others
    unreliable = {**FIT, "reliable": False, "reliability_reason": "r_hat 1.05"}
    assert blocking_problems(REG, checks, unreliable, basis="bayesian") == [
        {"code": "bayesian_unreliable", "detail": "r_hat 1.05"}, pre]


# --- evidence level --------------------------------------------------------------------------
def _pass(kind="pre_trends", values=None):
    return {"name": kind, "kind": kind, "status": "pass", "detail": "", "blocking": True,
            "values": values or {}}


def test_evidence_level_literals_per_code():
    def level(checks, design="did", controlled=True, primary=None):
        return evidence_level(design=design, controlled=controlled, primary=primary or {},
                              checks=checks)

    assert level([], design="its", controlled=False) == {
        "smss": 2, "code": "no_comparison", "design": "its"}
    assert level([_pre_check()]) == {"smss": 2, "code": "pretrend_failed", "design": "did"}
    assert level([]) == {"smss": 2, "code": "pretrend_not_run", "design": "did"}
    assert level([_pre_check("skipped")]) == {
        "smss": 2, "code": "pretrend_not_testable", "design": "did"}
    no_events = dict(_pre_check("skipped"), values={"skip_code": "no_events_before"})
    assert level([no_events]) == {"smss": 2, "code": "pretrend_no_events_before", "design": "did"}
    other_skip = dict(_pre_check("skipped"), values={"skip_code": "too_few_leads"})
    assert level([other_skip])["code"] == "pretrend_not_testable"
    assert level([_pass(values={"power": {"power": 0.8}})]) == {
        "smss": 3, "code": "parallel_shown", "design": "did", "power": 0.8, "min_power": 0.8,
        "sensitivity_excludes_no_effect": False}
    assert level([_pass(values={"power": {"power": 0.79},
                                "sensitivity": {"excludes_no_effect": True}})]) == {
        "smss": 3, "code": "parallel_robust", "design": "did", "power": 0.79, "min_power": 0.8,
        "sensitivity_excludes_no_effect": True}
    assert level([_pass()]) == {
        "smss": 2, "code": "pretrend_low_power", "design": "did", "power": None,
        "min_power": 0.8, "sensitivity_excludes_no_effect": False}


def test_evidence_level_takes_the_largest_finite_power_of_the_passes():
    def level(checks, **kw):
        return evidence_level(design="did", controlled=True, primary={}, checks=checks, **kw)

    passes = [_pass(values={"power": {"power": 0.3}}), _pass(values={"power": {"power": 0.85}}),
              _pass(values={"power": {"power": math.nan}}), _pass(values={"power": None}),
              _pass(values={"power": {"power": "0.99"}}), dict(_pass(), values=None)]
    found = level(passes)
    assert (found["code"], found["power"]) == ("parallel_shown", 0.85)
    # any one pass with the sensitivity bound is robust
    found = level([_pass(values={"power": {"power": 0.2}}),
                   _pass(values={"sensitivity": {"excludes_no_effect": True}})])
    assert (found["code"], found["sensitivity_excludes_no_effect"]) == ("parallel_robust", True)
    # a failure among passes is a failure
    assert level([_pass(values={"power": {"power": 0.9}}), _pre_check()])["code"] == \
        "pretrend_failed"


def test_evidence_level_check_kinds_per_design():
    placebo_fail = dict(_pre_check(), kind="placebo", name="placebo")
    # did (and no design, or an unknown one): only the event study's pre-trend check counts
    for design in ("did", None, "rdd"):
        found = evidence_level(design=design, controlled=True, primary={}, checks=[placebo_fail])
        assert found == {"smss": 2, "code": "pretrend_not_run", "design": design}
    # controlled ITS without an event study: the placebo-start check
    assert evidence_level(design="its", controlled=True, primary={}, checks=[placebo_fail]) == \
        {"smss": 2, "code": "pretrend_failed", "design": "its"}
    # controlled ITS with an event study: that one, not the placebo
    shown = _pass(values={"power": {"power": 0.9}})
    assert evidence_level(design="its", controlled=True, primary={},
                          checks=[shown, placebo_fail])["code"] == "parallel_shown"


def test_evidence_level_reads_controls_from_the_primary_when_unregistered():
    assert evidence_level(design="its", controlled=None, primary={"n_control": 3}, checks=[]) == \
        {"smss": 2, "code": "pretrend_not_run", "design": "its"}
    assert evidence_level(design="its", controlled=None, primary={}, checks=[]) == \
        {"smss": 2, "code": "no_comparison", "design": "its"}
    # a registered False wins over the primary's count
    assert evidence_level(design="its", controlled=False, primary={"n_control": 3},
                          checks=[])["code"] == "no_comparison"


# --- input normalisation ---------------------------------------------------------------------
def test_registration_from_a_status_or_a_dict():
    assert _registration("registered") == {"status": "registered", "matches": None,
                                           "design": None, "controlled": None}
    assert _registration({"status": "registered", "matches": False, "design": "its",
                          "controlled": True, "sha256": "x"}) == {
        "status": "registered", "matches": False, "design": "its", "controlled": True}
    assert _registration({}) == {"status": None, "matches": None, "design": None,
                                 "controlled": None}


def test_check_defaults_and_objects():
    assert _check({}) == {"name": "", "kind": "", "status": "skipped", "detail": "",
                          "blocking": False, "values": {}}
    assert _check({"name": "pre", "kind": "pre_trends", "status": "fail", "detail": 3,
                   "blocking": 1, "values": {"power": None}}) == {
        "name": "pre", "kind": "pre_trends", "status": "fail", "detail": "3", "blocking": True,
        "values": {"power": None}}

    class Check:
        def to_dict(self):
            return {"name": "placebo", "kind": "placebo", "status": "pass", "detail": "0 of 4",
                    "blocking": False, "values": None}

    assert _check(Check()) == {"name": "placebo", "kind": "placebo", "status": "pass",
                               "detail": "0 of 4", "blocking": False, "values": {}}


def test_float_keeps_numbers_and_infinities_and_turns_the_rest_into_nan():
    assert _float(2) == 2.0 and isinstance(_float(2), float)
    assert _float(-math.inf) == -math.inf and _float(0.25) == 0.25
    for value in (None, "0.5", math.nan, [1.0]):
        assert math.isnan(_float(value))
