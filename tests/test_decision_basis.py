"""The registered decision basis (issue 12): the design field, its validation and hash, and the
verdict following the basis with the other analysis as support."""

from __future__ import annotations

import pytest
import yaml

from evaluation.design.model import parse_design
from evaluation.errors import DesignError

BASE_YAML = """\
id: fl-01-school-visits
title: School visits by youth workers
owner: Jongerenwerk op Zuid
hypothesis: Visits reduce attacks in the visited municipalities.
design: did
treatment:
  units: [GM0599, GM0363]
  start: 2025-04-14
window:
  start: 2024-01-01
  end: 2025-07-22
"""


def design(**blocks):
    data = yaml.safe_load(BASE_YAML)
    for name, block in blocks.items():
        data[name] = block
    return parse_design(data)


# --- the design field --------------------------------------------------------------------------
def test_basis_defaults_to_primary_and_is_covered_by_the_hash():
    default = design()
    assert default.decision.basis == "primary"
    assert default.decision.expected_reduction == 0.20
    assert default.canonical["decision"]["basis"] == "primary"
    explicit = design(decision={"basis": "primary"})
    assert explicit.sha256 == default.sha256  # writing the default changes nothing
    bayes = design(analysis={"bayesian": True}, decision={"basis": "bayesian"})
    same_analysis = design(analysis={"bayesian": True})
    assert bayes.sha256 != same_analysis.sha256  # the basis alone changes the hash


def test_bayesian_basis_needs_the_bayesian_model():
    with pytest.raises(DesignError, match=r"decision\.basis: `bayesian` needs analysis\.bayesian: "
                                          r"true"):
        design(decision={"basis": "bayesian"})
    with pytest.raises(DesignError, match=r"decision\.basis: Input should be 'primary' or "
                                          r"'bayesian'"):
        design(decision={"basis": "posterior"})


def test_expected_reduction_is_at_least_the_minimum():
    with pytest.raises(DesignError, match=r"decision\.expected_reduction: 0\.1 is below "
                                          r"min_reduction 0\.15"):
        design(decision={"min_reduction": 0.15, "expected_reduction": 0.1})
    assert design(decision={"min_reduction": 0.15, "expected_reduction": 0.15}).decision.\
        expected_reduction == 0.15


# --- the verdict follows the registered basis --------------------------------------------------
from evaluation.analysis.decision import decide  # noqa: E402
from evaluation.report import verdict_text  # noqa: E402

PASS_PRETREND = {"name": "pre_trends", "kind": "pre_trends", "status": "pass", "detail": "",
                 "blocking": True, "values": {"power": {"power": 0.91}}}
REG = {"status": "registered", "matches": True, "design": "did", "controlled": True}
RULE = {"min_reduction": 0.10, "continue_probability": 0.80, "stop_probability": 0.25}


def primary_ri(*, c_any, c_min, rr=0.698, lo=0.415, hi=2.173, p=0.171, alpha=0.05):
    """A primary analysis with its own confidence (as randomization inference records it)."""
    return {"method": "Poisson TWFE", "scale": "rate_ratio", "estimate": rr, "ci_low": lo,
            "ci_high": hi, "p_value": p, "pct_change": 100 * (rr - 1), "alpha": alpha,
            "confidence": {"any_reduction": c_any, "min_reduction": c_min,
                           "mcse": {"any_reduction": 0.01, "min_reduction": 0.012},
                           "method": "randomization",
                           "thresholds": {"any_reduction": 0.0, "min_reduction": -0.105}},
            "inference": {"used": "randomization"}, "n_treated": 3, "n_control": 300}


def posterior(*, p_any, p_min, reliable=True):
    return {"rr_median": 0.716, "hdi_low": 0.42, "hdi_high": 1.08, "hdi_prob": 0.95,
            "p_any_reduction": p_any, "p_min_reduction": p_min, "reliable": reliable,
            "reliability_reason": "ok" if reliable else "r_hat 1.07 > 1.01"}


def run(basis, *, prim=None, bayes=None, **kwargs):
    return decide(primary=prim or primary_ri(c_any=0.80, c_min=0.70),
                  bayesian=bayes if bayes is not None else posterior(p_any=0.92, p_min=0.83),
                  checks=[PASS_PRETREND], registration=REG, rule={**RULE, "basis": basis},
                  **kwargs)


def test_the_verdict_comes_from_the_registered_basis_the_other_is_support():
    # the fl-04 situation: the posterior says continue, the randomization test does not
    primary_basis = run("primary")
    assert primary_basis["verdict"] == "inconclusive"
    assert primary_basis["registered_basis"] == "primary"
    assert primary_basis["basis"]["source"] == "frequentist"
    assert primary_basis["basis"]["quantity"] == "confidence"
    assert primary_basis["basis"]["method"] == "randomization"
    assert primary_basis["basis"]["p_min_reduction"] == 0.70  # the analysis' own number
    assert primary_basis["support"]["code"] == "support_differs"
    assert primary_basis["support"]["verdict"] == "continue"
    bayes_basis = run("bayesian")
    assert bayes_basis["verdict"] == "continue" and bayes_basis["basis"]["source"] == "bayesian"
    assert bayes_basis["support"] == {**bayes_basis["support"], "source": "frequentist",
                                      "verdict": "inconclusive", "code": "support_differs"}
    # the page says so in one sentence, in both languages
    nl = verdict_text.reasons(primary_basis, "nl")
    en = verdict_text.reasons(primary_basis, "en")
    assert nl[0].startswith("Beslisgrond, vooraf vastgelegd: de hoofdanalyse.")
    assert "Het vertrouwen in een daling van minstens 10% is 70%" in nl[1]
    assert "kans" not in nl[1].lower() and "probab" not in en[1].lower()
    assert "De ondersteunende Bayesiaanse analyse zou 'doorzetten' geven" in nl[2]
    assert "The supporting Bayesian analysis would give 'continue'" in en[2]
    assert "probability of a reduction of at least 10% is 83%" in \
        " ".join(verdict_text.reasons(bayes_basis, "en"))
    agree = run("primary", bayes=posterior(p_any=0.80, p_min=0.70))
    assert agree["support"]["code"] == "support_agrees"
    assert len(verdict_text.reasons(agree, "en")) == 2  # nothing to add when they agree


def test_an_unreliable_bayesian_fit_blocks_only_when_it_is_the_basis():
    bad = posterior(p_any=0.99, p_min=0.99, reliable=False)
    check = {"name": "bayesian_reliability", "kind": "bayesian_reliability", "status": "fail",
             "detail": "r_hat 1.07 > 1.01", "blocking": True}
    as_basis = decide(primary=primary_ri(c_any=0.99, c_min=0.95), bayesian=bad,
                      checks=[PASS_PRETREND, check], registration=REG,
                      rule={**RULE, "basis": "bayesian"})
    assert as_basis["verdict"] == "inconclusive"
    assert [b["code"] for b in as_basis["blocking"]] == ["bayesian_unreliable"]
    as_support = decide(primary=primary_ri(c_any=0.99, c_min=0.95), bayesian=bad,
                        checks=[PASS_PRETREND, check], registration=REG, rule=RULE)
    assert as_support["verdict"] == "continue" and as_support["blocking"] == []
    assert as_support["support"]["code"] == "support_unreliable"
    assert "r_hat 1.07 > 1.01" in verdict_text.reasons(as_support, "en")[2]


def test_alpha_sets_the_interval_label_in_every_sentence():
    out = decide(primary=primary_ri(c_any=0.9, c_min=0.6, alpha=0.10), bayesian=None,
                 checks=[PASS_PRETREND], registration=REG, rule=RULE)
    assert out["basis"]["interval_level"] == pytest.approx(0.90)
    nl, en = verdict_text.reasons(out, "nl"), verdict_text.reasons(out, "en")
    assert "(90%-BI 0,41 tot 2,17" in nl[0] and "(90% CI 0.41 to 2.17" in en[0]
    assert "95" not in nl[0] + en[0]
    assert verdict_text.interval_label(0.9, "frequentist", "nl") == "90%-BI"
    assert verdict_text.interval_label(0.975, "bayesian", "nl") == "97,5%-HDI"
    assert verdict_text.interval_label(0.9, "bayesian", "en") == "90% HDI"
    # without a recorded alpha the design's alpha (passed by the analysis) labels the fallback
    fallback = dict(primary_ri(c_any=0.9, c_min=0.6), alpha=None, confidence=None)
    out = decide(primary=fallback, bayesian=None, checks=[PASS_PRETREND], registration=REG,
                 rule=RULE, alpha=0.10)
    assert out["basis"]["method"] == "interval_fallback"
    assert "90% CI" in verdict_text.reasons(out, "en")[0]


def test_error_rates_and_method_deviation_are_quoted():
    diagnosis = {"sha256": "abc", "operating_characteristics": {
        "sims": 400, "basis": "primary", "basis_simulated": True,
        "scenarios": [
            {"scenario": "no_effect", "reduction": 0.0,
             "rates": {"continue": 0.125, "adapt": 0.05, "stop": 0.6, "inconclusive": 0.225},
             "mcse": {"continue": 0.017, "adapt": 0.01, "stop": 0.02, "inconclusive": 0.02}},
            {"scenario": "expected", "reduction": 0.2,
             "rates": {"continue": 0.5, "adapt": 0.1, "stop": 0.0, "inconclusive": 0.4},
             "mcse": {"continue": 0.025, "adapt": 0.01, "stop": 0.0, "inconclusive": 0.02}}]}}
    deviation = [{"code": "method_version_changed", "registered": "aaaaaaaaaaaa",
                  "current": "bbbbbbbbbbbb"}]
    out = run("primary", diagnosis=diagnosis, deviations=deviation)
    assert out["error_rates"]["continue_at_no_effect"] == {"value": 0.125, "mcse": 0.017}
    assert out["deviations"] == deviation
    en = " ".join(verdict_text.reasons(out, "en"))
    nl = " ".join(verdict_text.reasons(out, "nl"))
    assert "continues an intervention without effect in 1 of 8 cases" in en
    assert "stops an intervention that brings 20% fewer attacks in none of the simulations" in en
    assert "zet deze beslisregel een interventie zonder effect in 1 op de 8 gevallen door" in nl
    assert "analysed with method version bbbbbbbbbbbb, registered under aaaaaaaaaaaa" in en
    assert "methodeversie bbbbbbbbbbbb" in nl
    # a deviation is not a blocking problem: the verdict still follows the rule
    assert out["reason"] == "rule"


def test_sentence_catalogues_have_the_same_keys_in_both_languages():
    for catalogue in verdict_text.CATALOGUES:
        nl, en = catalogue["nl"], catalogue["en"]
        assert (set(nl) == set(en)) if isinstance(nl, dict) else isinstance(en, str)


def test_a_bad_rule_is_a_one_line_design_error():
    from evaluation.errors import DesignError

    with pytest.raises(DesignError, match=r"^decision: expected_reduction: 0\.2 is below "
                                          r"min_reduction 0\.5"):
        decide(primary=primary_ri(c_any=0.9, c_min=0.6), bayesian=None, checks=[],
               registration=REG, rule={"min_reduction": 0.5})
    blocked = decide(primary=primary_ri(c_any=0.99, c_min=0.99), bayesian=posterior(
        p_any=0.9, p_min=0.8), checks=[], registration="exploratory", rule=RULE)
    assert blocked["verdict"] == "inconclusive" and blocked["support"]["code"] is None
