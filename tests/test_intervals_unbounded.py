"""Issue 14, item 3: unbounded / one-sided intervals kept as such, derived intervals in order.

Cases from the issue: an averted-attacks interval beside its own estimate (bounds mapped from the
rate-ratio bounds in the wrong order), and a randomization interval unbounded above that came out
as null and lost the lower bound too.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from did_helpers import simulated_prepared  # noqa: E402

from evaluation.estimators.did.checks import leave_one_out_check  # noqa: E402
from evaluation.estimators.intervals import (  # noqa: E402
    averted_of,
    contains,
    map_interval,
    rate_ratio_pct,
)
from evaluation.files import clean, read_number  # noqa: E402
from evaluation.report import formatting as fmt  # noqa: E402

ends = st.one_of(st.floats(min_value=-30, max_value=30), st.just(-math.inf), st.just(math.inf))


@settings(max_examples=200, deadline=None)
@given(a=ends, b=ends, observed=st.floats(min_value=0, max_value=500),
       fitted=st.floats(min_value=0.1, max_value=500), point=st.floats(0, 1))
def test_averted_interval_is_ordered_and_holds_its_estimate(a, b, observed, fitted, point):
    """Averted attacks fall as the rate ratio rises (a decreasing map): the mapped ends are
    ordered and the estimate at any effect inside the source interval lies inside the image."""
    low, high = sorted((a, b))
    averted = averted_of(fitted_post=fitted, observed_post=observed, n_post=10, linear=False)
    lo_av, hi_av = map_interval(low, high, averted)
    assert lo_av <= hi_av
    # the ends of the image are the images of the ends, swapped
    assert (lo_av, hi_av) == (averted(high), averted(low))
    if math.isfinite(low) and math.isfinite(high):
        inside = low + point * (high - low)
        assert contains(lo_av, hi_av, averted(inside))
    if high == math.inf:  # rate ratio unbounded above: averted bounded below by -observed
        assert lo_av == -observed
    if low == -math.inf:  # rate ratio down to 0: averted unbounded above
        assert hi_av == math.inf


@settings(max_examples=100, deadline=None)
@given(a=ends, b=ends)
def test_percentage_interval_is_ordered(a, b):
    low, high = sorted((a, b))
    lo_pct, hi_pct = map_interval(low, high, rate_ratio_pct)
    assert lo_pct <= hi_pct
    assert lo_pct >= -100.0


@settings(max_examples=100, deadline=None)
@given(a=ends, b=ends, cf_mean=st.floats(min_value=-50, max_value=50).filter(lambda x: x != 0))
def test_linear_percentage_with_negative_counterfactual_swaps(a, b, cf_mean):
    """100 b / cf_mean is decreasing when the counterfactual mean is negative."""
    low, high = sorted((a, b))
    lo_pct, hi_pct = map_interval(low, high, lambda x: 100 * x / cf_mean)
    assert lo_pct <= hi_pct


def test_unbounded_end_is_text_not_null_and_reads_back():
    """JSON cannot hold infinity: "inf" / "-inf", and NaN (not available) stays null."""
    text = json.dumps(clean({"ci_low": 0.8, "ci_high": math.inf, "low": -math.inf,
                             "missing": math.nan}), allow_nan=False)
    back = json.loads(text)
    assert back == {"ci_low": 0.8, "ci_high": "inf", "low": "-inf", "missing": None}
    assert read_number(back["ci_high"]) == math.inf
    assert read_number(back["low"]) == -math.inf
    assert read_number(back["missing"]) is None


@pytest.mark.parametrize(("lang", "expected"), [("nl", "0,17 tot onbegrensd"),
                                               ("en", "0.17 to unbounded")])
def test_unbounded_end_in_words(lang, expected):
    assert fmt.interval(0.1684, "inf", lang=lang) == expected
    assert fmt.interval(0.1684, math.inf, lang=lang) == expected
    assert fmt.interval(None, 1.0, lang=lang) == fmt.MISSING


def test_leave_one_out_with_interval_open_above_can_pass():
    """A randomization interval open above bounds nothing above: estimates above the lower end
    are inside (before, every estimate was 'outside' and the check always failed)."""
    def estimate(sub, *, treated, interval, inference):
        return {"beta": {"A": 0.1, "B": 0.5}[next(u for u in ("A", "B") if u not in treated)]}

    import pandas as pd
    frame = pd.DataFrame({"unit": ["A", "B", "C"], "t": [0, 0, 0], "y": [1.0, 1.0, 1.0]})
    primary = {"ci_low": math.log(0.5), "ci_high": math.inf}
    check = leave_one_out_check(frame, treated={"A": 1, "B": 1}, estimate=estimate,
                                primary=primary, scale="difference")
    assert check.status == "pass"
    primary = {"ci_low": 0.2, "ci_high": math.inf}
    check = leave_one_out_check(frame, treated={"A": 1, "B": 1}, estimate=estimate,
                                primary=primary, scale="difference")
    assert check.status == "fail"  # without B: 0.1 < 0.2, still able to fail


def test_randomization_interval_open_above_on_simulated_null_panel():
    """3 treated units, rare events, no effect: the randomization interval is unbounded above
    (seed 5 gives one). The rate ratio's upper end stays "inf", the lower end is kept, the
    averted and percentage intervals are ordered and hold their estimates."""
    from evaluation.estimators.did import estimate_did

    data = simulated_prepared(n_units=20, n_periods=40, n_treated=3, start=30, seed=5,
                              draws=200, base_rate=0.1)
    out = estimate_did(data)
    p = out.primary
    assert p["ci_high"] == math.inf and math.isfinite(p["ci_low"]) and p["ci_low"] > 0
    assert p["ci_low"] <= p["estimate"]
    assert p["pct_ci_low"] <= p["pct_change"] <= p["pct_ci_high"] == math.inf
    averted = out.extras["averted"]
    assert averted["ci_low"] <= averted["estimate"] <= averted["ci_high"]
    # rate ratio unbounded above: the averted count is bounded below by minus the observed count
    assert averted["ci_low"] == pytest.approx(-averted["observed"])
    assert json.loads(json.dumps(clean(p)))["ci_high"] == "inf"
    loo = next(c for c in out.checks if c.name == "leave_one_out")
    assert loo.status == "pass"


def test_decision_keeps_an_open_end_and_the_reason_says_so():
    """The basis keeps the unbounded end (it was turned into NaN and shown as no interval);
    the verdict's reason names it in words."""
    from evaluation.analysis.decision import decide
    from evaluation.report import verdict_text

    primary = {"estimate": 1.0952, "ci_low": 0.1685, "ci_high": math.inf, "p_value": 0.94,
               "pct_change": 9.52, "scale": "rate_ratio", "alpha": 0.05, "estimable": True,
               "confidence": {"any_reduction": 0.45, "min_reduction": 0.40, "method": "randomization",
                              "mcse": None, "thresholds": {}}}
    reg = {"status": "registered", "matches": True, "design": "did", "controlled": True}
    decision = decide(primary=primary, bayesian=None, checks=[], registration=reg, rule=None)
    assert decision["basis"]["high"] == math.inf and decision["reason"] == "rule"
    stored = json.loads(json.dumps(clean(decision), allow_nan=False))
    assert stored["basis"]["high"] == "inf"
    assert "0,17 tot onbegrensd" in verdict_text.reasons(stored, "nl")[0]
    assert "0.17 to unbounded" in verdict_text.reasons(stored, "en")[0]
