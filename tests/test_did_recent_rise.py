"""The DiD recent-rise check (issue 13: selection on a spike): the data it hands to the design's
estimate, its rule by hand, and on simulated programmes whose pilots were picked after a spike."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.analysis.decision import blocking_problems
from evaluation.estimators.did import recent_rise
from evaluation.estimators.did.checks import recent_rise_check
from evaluation.simulation.synthetic import SimulationConfig, simulate


def _frame(n_periods: int = 40) -> pd.DataFrame:
    units = ["A", "B", "C", "D"]
    rows = [{"unit": u, "t": t, "y": 1.0, "treated_unit": u in ("A", "B"), "d": 0}
            for u in units for t in range(n_periods)]
    return pd.DataFrame(rows)


def _fake(beta: float, p: float, seen: list):
    def estimate(sub, *, treated, interval):
        seen.append((sub, treated, interval))
        return {"beta": beta, "p_value": p}
    return estimate


def test_the_last_eight_periods_before_the_start_are_the_placebo_post_period():
    seen: list = []
    check = recent_rise_check(_frame(), treated={"A": 30, "B": 30}, estimate=_fake(math.log(2), 0.01, seen),
                              alpha=0.05, scale="rate_ratio", periods=8)
    sub, treated, interval = seen[0]
    # only t < 30 is used; periods 22..29 are the last 8 before the start
    assert sub["t"].max() == 29 and sub["t"].min() == 0 and len(sub) == 4 * 30
    assert treated == {"A": 22, "B": 22} and interval is False
    marked = sub.loc[sub["d"] == 1]
    assert sorted(marked["unit"].unique()) == ["A", "B"]
    assert sorted(marked["t"].unique()) == list(range(22, 30))
    assert check.status == "fail" and check.blocking is True
    assert check.values["code"] == "recent_rise"
    assert check.values["estimate"] == pytest.approx(2.0, rel=1e-12)
    assert check.values["from_t"] == 22 and check.values["periods"] == 8


@pytest.mark.parametrize(("beta", "p", "status"), [
    (math.log(2), 0.049, "fail"),   # a rise, significant
    (math.log(2), 0.05, "pass"),    # p not below alpha
    (-math.log(2), 0.001, "pass"),  # a fall before the start is not selection on a spike
    (0.0, 0.001, "pass"),
    (math.log(2), None, "pass"),   # an inference without a p-value cannot show a rise
])
def test_rule_fails_only_on_a_significant_rise(beta, p, status):
    check = recent_rise_check(_frame(), treated={"A": 30, "B": 30}, estimate=_fake(beta, p, []),
                              alpha=0.05, scale="rate_ratio", periods=8)
    assert check.status == status
    assert check.values["code"] == ("recent_rise" if status == "fail" else None)


def test_linear_scale_reports_the_difference():
    check = recent_rise_check(_frame(), treated={"A": 30}, estimate=_fake(1.5, 0.01, []),
                              alpha=0.05, scale="difference", periods=8)
    assert check.status == "fail" and check.values["estimate"] == 1.5


def test_skipped_when_the_pre_period_is_too_short():
    seen: list = []
    # 11 periods before the start: 8 recent ones leave 3 < DID_PLACEBO_MIN_PERIODS (4)
    check = recent_rise_check(_frame(), treated={"A": 11}, estimate=_fake(1.0, 0.0, seen),
                              alpha=0.05, scale="rate_ratio", periods=8)
    assert check.status == "skipped" and check.values["skip_code"] == "short_pre_period"
    assert seen == []
    twelve = recent_rise_check(_frame(), treated={"A": 12}, estimate=_fake(1.0, 0.5, seen),
                               alpha=0.05, scale="rate_ratio", periods=8)
    assert twelve.status == "pass"


def test_not_estimable_subset_is_skipped_with_its_reason():
    def skipped(sub, *, treated, interval):
        return {"skipped": "no control unit left in these data"}
    check = recent_rise_check(_frame(), treated={"A": 30}, estimate=skipped, alpha=0.05,
                              scale="rate_ratio", periods=8)
    assert check.status == "skipped" and check.values["skip_code"] == "not_estimable"
    assert "no control unit" in check.detail


def _programme(treated: str, seed: int):
    config = SimulationConfig(n_units=60, n_periods=80, n_treated=3, start=60,
                              events_per_period=30.0, dispersion=0.3, treated=treated,
                              analysis={"model": "quasi_poisson", "inference": "randomization",
                                        "randomization_draws": 200})
    return simulate(np.random.default_rng(seed), config)


def test_pilots_picked_after_a_spike_fail_and_block_the_verdict():
    """Three pilots picked as the units with the largest excess in the 8 weeks before the start
    (no effect at all): the check fails and the rule is blocked."""
    check = recent_rise(_programme("spike", seed=5))
    assert check.status == "fail", check.detail
    assert check.values["estimate"] > 1.5
    found = blocking_problems({"status": "registered", "matches": True}, [check.to_dict()], None)
    assert found == [{"code": "check_failed", "check": "recent_rise", "kind": "recent_rise",
                      "detail": check.detail}]


def test_pilots_picked_at_random_pass():
    check = recent_rise(_programme("random", seed=5))
    assert check.status == "pass", check.detail


def test_the_page_words_the_check_in_both_languages():
    from evaluation.report.check_words import check_name, check_sentence
    check = {"kind": "recent_rise", "status": "fail",
             "values": {"periods": 8, "estimate": 2.5, "p_value": 0.012}}
    assert check_name("recent_rise", "nl") == "Piek vlak vóór de start"
    assert check_name("recent_rise", "en") == "A rise just before the start"
    nl = check_sentence(check, "nl")
    assert nl.startswith("De interventiegebieden hadden vlak vóór de start opvallend veel aanslagen")
    assert "(de laatste 8 perioden vóór de start tegen de eerdere: schatting 2,50, p = 0,012)" in nl
    en = check_sentence(check, "en")
    assert "(the last 8 periods before the start against the earlier ones: estimate 2.50, p = 0.012)" in en
    short = check_sentence({"kind": "recent_rise", "status": "skipped",
                            "values": {"skip_code": "short_pre_period"}}, "nl")
    assert short.startswith("Niet uitgevoerd: de periode vóór de start is te kort")
