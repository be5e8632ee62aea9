"""Property tests of the verdict (issue 22): monotone in its confidence quantities, equal to the
rule as the design docs state it, blocked whatever the numbers, and the confidence quantities
keep the order their thresholds have.

The oracle `stated_rule` is the rule as written in docs (design/decision_rule.py's docstring and
the methods page), restated here by hand, not imported.
"""

from __future__ import annotations

import math

from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.stats import norm

from evaluation.analysis.decision import decide
from evaluation.design.decision_rule import DecisionSpec, classify
from evaluation.estimators.confidence import (
    interval_confidence,
    normal_confidence,
    poisson_zero_confidence,
    rule_thresholds,
)

RANK = {"stop": 0, "inconclusive": 1, "adapt": 1, "continue": 2}
PROB = st.floats(0, 1, allow_nan=False)
REGISTERED = {"status": "registered", "matches": True, "design": "did", "controlled": True}


@st.composite
def rules(draw):
    stop = draw(st.floats(0.05, 0.6))
    cont = draw(st.floats(0.6, 0.99))
    assume(stop < cont)
    minimum = draw(st.floats(0, 0.5))
    return DecisionSpec(min_reduction=minimum, expected_reduction=max(minimum, 0.01) + 0.1,
                        continue_probability=cont, stop_probability=stop)


@st.composite
def quantities(draw):
    """(p_any, p_min) with p_min <= p_any: a minimum reduction is never surer than any reduction."""
    a, b = draw(PROB), draw(PROB)
    return max(a, b), min(a, b)


def stated_rule(p_any: float, p_min: float, rule: DecisionSpec) -> str:
    if p_min >= rule.continue_probability:
        return "continue"
    if p_any < rule.stop_probability:
        return "stop"
    if p_any >= rule.continue_probability and p_min < 0.5:
        return "adapt"
    return "inconclusive"


def frequentist_primary(p_any: float, p_min: float) -> dict:
    return {"method": "Poisson TWFE", "scale": "rate_ratio", "estimate": 0.85, "ci_low": 0.7,
            "ci_high": 1.03, "p_value": 0.1, "pct_change": -15.0, "n_control": 20,
            "confidence": {"any_reduction": p_any, "min_reduction": p_min,
                           "method": "randomization", "mcse": None}}


@given(rule=rules(), low=quantities(), high=quantities())
def test_verdict_is_monotone_in_both_quantities(rule, low, high):
    (a1, m1), (a2, m2) = low, high
    assume(a1 <= a2 and m1 <= m2)
    assert RANK[classify(p_any=a1, p_min=m1, rule=rule)] <= RANK[classify(p_any=a2, p_min=m2, rule=rule)]


@given(rule=rules(), q=quantities(), basis=st.sampled_from(["primary", "bayesian"]))
def test_decide_applies_the_stated_rule_on_its_registered_basis(rule, q, basis):
    p_any, p_min = q
    registered = rule.model_copy(update={"basis": basis})
    # the other analysis says the opposite, so a verdict taken from it would show
    other = (1 - p_any, 1 - p_any) if basis == "primary" else (p_min, p_min)
    bayes_q, freq_q = (q, other) if basis == "bayesian" else (other, q)
    bayesian = {"reliable": True, "rr_median": 0.9, "hdi_low": 0.7, "hdi_high": 1.1,
                "p_any_reduction": bayes_q[0], "p_min_reduction": bayes_q[1]}
    result = decide(primary=frequentist_primary(*freq_q), bayesian=bayesian, checks=[],
                    registration=REGISTERED, rule=registered)
    assert result["verdict"] == stated_rule(p_any, p_min, rule)
    assert result["reason"] == "rule" and result["basis"]["p_any_reduction"] == p_any
    assert result["support"]["verdict"] == stated_rule(*other, rule)


BLOCKERS = st.sampled_from([
    ({"status": "exploratory", "matches": None, "design": "did", "controlled": True}, [], "exploratory"),
    ({**REGISTERED, "matches": False}, [], "registration_mismatch"),
    (REGISTERED, [{"name": "pre_trends", "kind": "pre_trends", "status": "fail", "detail": "p = 0.001",
                   "blocking": True}], "check_failed"),
])


@given(q=quantities(), blocker=BLOCKERS)
def test_a_blocking_problem_makes_any_numbers_inconclusive(q, blocker):
    registration, checks, code = blocker
    result = decide(primary=frequentist_primary(*q), bayesian=None, checks=checks,
                    registration=registration, rule=None)
    assert result["verdict"] == "inconclusive" and result["reason"] == "blocked"
    assert [b["code"] for b in result["blocking"]] == [code]


@given(shift=st.floats(-1.5, 1.5), step=st.floats(0, 1), se=st.floats(0.02, 1))
def test_a_lower_estimate_never_gives_a_worse_verdict(shift, step, se):
    """Same uncertainty, a larger estimated reduction: the verdict can only move towards continue."""
    def verdict(log_rr: float) -> str:
        est, z = math.exp(log_rr), norm.ppf(0.975)
        primary = {"scale": "rate_ratio", "estimate": est, "ci_low": math.exp(log_rr - z * se),
                   "ci_high": math.exp(log_rr + z * se), "p_value": 0.5,
                   "pct_change": 100 * (est - 1), "n_control": 20}
        return decide(primary=primary, bayesian=None, checks=[], registration=REGISTERED,
                      rule=None, alpha=0.05)["verdict"]

    assert RANK[verdict(shift - step)] >= RANK[verdict(shift)]


# --- the confidence quantities keep the order of their thresholds ------------------------------
MIN_REDUCTION = st.floats(0.01, 0.9)


@given(estimate=st.floats(-3, 3), se=st.floats(0.01, 3), m=MIN_REDUCTION)
def test_normal_confidence_of_the_minimum_is_below_that_of_any(estimate, se, m):
    conf = normal_confidence(estimate, se, thresholds=rule_thresholds(scale="rate_ratio", min_reduction=m))
    assert 0 <= conf["min_reduction"] <= conf["any_reduction"] <= 1
    # reading: the confidence that log RR < 0 is Phi(-estimate / se) (scipy, not the code under test)
    assert math.isclose(conf["any_reduction"], norm.cdf(-estimate / se), rel_tol=1e-12, abs_tol=1e-300)


@given(expected=st.floats(0.01, 200), m=MIN_REDUCTION)
def test_poisson_zero_confidence_order_and_value(expected, m):
    conf = poisson_zero_confidence(expected, thresholds=rule_thresholds(scale="rate_ratio", min_reduction=m))
    assert 0 <= conf["min_reduction"] <= conf["any_reduction"] <= 1
    # P(no event | mean E) = exp(-E): the confidence of RR < 1 is 1 - exp(-E)
    assert math.isclose(conf["any_reduction"], 1 - math.exp(-expected), rel_tol=1e-9)


@given(log_rr=st.floats(-2, 2), below=st.floats(0.01, 2), above=st.floats(0.01, 2),
       alpha=st.sampled_from([0.05, 0.1, 0.2]), m=MIN_REDUCTION)
def test_interval_fallback_reads_the_ends_at_alpha_over_two(log_rr, below, above, alpha, m):
    """Test inversion: the confidence that RR lies below the upper end is 1 - alpha/2, below the
    lower end alpha/2; below 1 and below 1 - m in the order of those thresholds."""
    est, low, high = math.exp(log_rr), math.exp(log_rr - below), math.exp(log_rr + above)

    def at(threshold: float) -> float:
        return interval_confidence(estimate=est, low=low, high=high, scale="rate_ratio", alpha=alpha,
                                   thresholds={"any_reduction": math.log(threshold)})["any_reduction"]

    assert math.isclose(at(high), 1 - alpha / 2, rel_tol=1e-9)
    assert math.isclose(at(low), alpha / 2, rel_tol=1e-9)
    conf = interval_confidence(estimate=est, low=low, high=high, scale="rate_ratio", alpha=alpha,
                               thresholds=rule_thresholds(scale="rate_ratio", min_reduction=m))
    assert conf["min_reduction"] <= conf["any_reduction"]
