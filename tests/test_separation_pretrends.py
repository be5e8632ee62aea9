"""Issue 14, items 1-2: separation answered exactly; non-estimable terms; what a pre-trend test is worth.

Expected values are hand calculations or scipy, never the code under test.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).parent))

from did_helpers import make_design, make_prepared, simulate_counts, unit_name  # noqa: E402

from evaluation.analysis.decision import decide  # noqa: E402
from evaluation.estimators.did import estimate_did  # noqa: E402
from evaluation.estimators.did.event_study import event_study  # noqa: E402
from evaluation.estimators.did.pretrend_power import sensitivity_bound, trend_power  # noqa: E402
from evaluation.report import verdict_text  # noqa: E402

ALPHA = 0.05
N_PRE, N_POST, TREATED_PER_PERIOD = 8, 4, 3


def flat_separated_panel() -> pd.DataFrame:
    """20 controls with 2 events every period, one treated unit with 3 events in each of its 8
    periods before the start and none in the 4 after it. The period effects are flat, so the
    treated unit's expected post / pre ratio is exactly 4 / 8."""
    units = [unit_name(i) for i in range(21)]
    rows = [{"unit": u, "t": t, "exposure": 1.0,
             "y": (0.0 if t >= N_PRE else float(TREATED_PER_PERIOD)) if i == 0 else 2.0}
            for i, u in enumerate(units) for t in range(N_PRE + N_POST)]
    return pd.DataFrame(rows)


def test_separation_gives_the_exact_conditional_bound_scipy_agrees():
    """Given the unit's 24 events, its post-start events are Binomial(24, pi), pi = RR r / (1 +
    RR r), r = 4/8. No event after the start: the upper end is the Clopper-Pearson bound for 0
    of 24 (scipy's beta quantile) on the rate-ratio scale; the p-value (2/3)^24 by hand."""
    design = make_design(treated=(unit_name(0),), start=N_PRE, end_t=N_PRE + N_POST - 1,
                         inference="model", alpha=ALPHA)
    out = estimate_did(make_prepared(flat_separated_panel(), design))
    p = out.primary
    n, ratio = N_PRE * TREATED_PER_PERIOD, N_POST / N_PRE
    p_high = stats.beta.ppf(1 - ALPHA / 2, 1, n)  # Clopper-Pearson, 0 successes in n
    rr_high = p_high / (1 - p_high) / ratio
    # rel 1e-6: the counterfactual comes from the IRLS fit (tolerance 1e-10), not exact arithmetic
    assert p["ci_high"] == pytest.approx(rr_high, rel=1e-6)
    assert p["ci_high"] == pytest.approx(((2 / ALPHA) ** (1 / n) - 1) / ratio, rel=1e-6)
    assert p["ci_low"] == 0.0 and math.isnan(p["estimate"]) and p["one_sided"]
    assert p["p_value"] == pytest.approx((1 / (1 + ratio)) ** n, rel=1e-6)
    # the rule's confidence of a 10% reduction: 1 - P(0 of 24 | RR = 0.9), by hand
    conf = p["confidence"]
    assert conf["method"] == "exact_conditional"
    assert conf["min_reduction"] == pytest.approx(1 - (1 / (1 + 0.9 * ratio)) ** n, rel=1e-6)
    treatment = out.estimates.iloc[0]
    assert treatment["status"] == "not_estimable" and math.isnan(treatment["estimate"])
    assert "no events in the treated units" in treatment["reason"]
    # attacks averted: no point, but an interval from the one-sided interval
    averted = out.extras["averted"]
    assert math.isnan(averted["estimate"])
    assert averted["ci_low"] <= averted["ci_high"] == pytest.approx(N_POST * TREATED_PER_PERIOD)

    # the verdict: the exact test's confidence is computable, so the one-sided interval decides;
    # the reason says there is no point estimate (never "0.000")
    reg = {"status": "registered", "matches": True, "design": "did", "controlled": True}
    decision = decide(primary=p, bayesian=None, checks=[], registration=reg,
                      rule={"min_reduction": 0.1, "continue_probability": 0.8,
                            "stop_probability": 0.25})
    assert decision["reason"] == "rule" and decision["verdict"] == "continue"
    assert decision["basis"]["estimable"] is False
    nl, en = verdict_text.reasons(decision, "nl")[0], verdict_text.reasons(decision, "en")[0]
    assert "geen puntschatting" in nl.lower() or "puntschatting bestaat" in nl
    assert "no point estimate" in en and "0.000" not in en


def test_separation_without_a_computable_confidence_is_no_estimate():
    """A missing estimate without the exact test's confidence never gives a verdict."""
    reg = {"status": "registered", "matches": True, "design": "did", "controlled": True}
    primary = {"estimate": math.nan, "ci_low": 0.0, "ci_high": 0.3, "estimable": False,
               "one_sided": True, "scale": "rate_ratio", "confidence": None}
    decision = decide(primary=primary, bayesian=None, checks=[], registration=reg, rule=None)
    assert (decision["verdict"], decision["reason"]) == ("inconclusive", "no_estimate")


def fl04_like_panel() -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The fl-04 case: the treated units have no event in the reference periods before the
    event window (e < -8) and none at e = 0; their only pre-start events fall in the leads."""
    panel = simulate_counts(n_units=40, n_periods=40, n_treated=3, start=30, seed=3,
                            base_rate=0.4)
    treated = tuple(unit_name(i) for i in range(3))
    is_treated = panel["unit"].isin(treated)
    panel.loc[is_treated & (panel["t"] < 22), "y"] = 0.0
    panel.loc[is_treated & (panel["t"] == 30), "y"] = 0.0
    panel.loc[is_treated & (panel["t"] == 29), "y"] = 2.0  # events at e = -1 only ...
    panel.loc[is_treated & (panel["t"] == 31), "y"] = 1.0  # ... and after the start
    return panel, treated


def test_event_study_reports_non_estimable_terms_without_numbers():
    panel, treated = fl04_like_panel()
    design = make_design(treated=treated, start=30, end_t=39, inference="cluster")
    table, check = event_study(make_prepared(panel, design))
    rows = table.set_index("event_time")
    leads = rows.loc[rows.index < 0]
    assert (leads["status"] == "not_estimable").all()
    assert leads["estimate"].isna().all() and leads["ci_high"].isna().all()
    assert "reference periods" in rows.loc[-1, "reason"]
    assert rows.loc[0, "status"] == "not_estimable" and "event time 0" in rows.loc[0, "reason"]
    assert rows.loc[1, "status"] == "estimated" and np.isfinite(rows.loc[1, "estimate"])
    # the pre-trend test cannot be run: skipped with a code, never a pass
    assert check.status == "skipped" and check.values["reason_code"] == "no_estimable_leads"
    assert "cannot be tested" in check.detail


def test_trend_power_matches_the_normal_hand_calculation():
    """One lead with variance v: the Wald test is |z| > 1.96 and under a trend with mean gamma
    its power is Phi(gamma/sd - 1.96) + Phi(-gamma/sd - 1.96). With gamma = 1 and
    sd = 1 / (1.96 + 0.8416) the power is 0.80 (textbook numbers)."""
    sd = 1 / (stats.norm.ppf(0.975) + stats.norm.ppf(0.80))
    out = trend_power([-1], np.array([[sd ** 2]]), reference_e=-2.0, post_mean_e=1.0,
                      pre_mean_e=0.0, shift=1.0, alpha=0.05)
    assert out["slope"] == 1.0
    assert out["power"] == pytest.approx(0.80, abs=1e-4)


def test_sensitivity_bound_by_hand():
    """Largest pre-period deviation 0.3 (log scale): the interval widens by 0.3 on each side."""
    wide = sensitivity_bound([0.1, -0.3], low=-0.5, high=-0.1, scale="rate_ratio")
    assert wide["ci_low"] == pytest.approx(math.exp(-0.8))
    assert wide["ci_high"] == pytest.approx(math.exp(0.2))
    assert wide["excludes_no_effect"] is False
    narrow = sensitivity_bound([0.1, -0.3], low=-0.5, high=-0.4, scale="rate_ratio")
    assert narrow["excludes_no_effect"] is True
    one_sided = sensitivity_bound([0.2], low=-math.inf, high=-0.5, scale="rate_ratio")
    assert one_sided["ci_low"] == 0.0 and one_sided["excludes_no_effect"] is True


def test_zero_counterfactual_cell_is_not_estimable_without_a_warning():
    """Events in the treated units in a week without any comparison event: the imputed
    counterfactual is 0, so that event time has no rate ratio. Before, y / 0 raised a
    divide-by-zero RuntimeWarning on the terminal (make demo) and gave an infinite term."""
    import warnings

    panel = simulate_counts(n_units=30, n_periods=40, n_treated=3, start=30, seed=3,
                            base_rate=0.4)
    treated = tuple(unit_name(i) for i in range(3))
    is_treated = panel["unit"].isin(treated)
    panel.loc[~is_treated & (panel["t"] == 31), "y"] = 0.0
    panel.loc[is_treated & (panel["t"] == 31), "y"] = 1.0
    design = make_design(treated=treated, start=30, end_t=39, inference="cluster")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        table, _ = event_study(make_prepared(panel, design))
    row = table.set_index("event_time").loc[1]
    assert row["status"] == "not_estimable" and np.isnan(row["estimate"])
    assert "counterfactual is 0" in row["reason"]


def test_separation_before_the_start_gives_the_exact_lower_bound_scipy_agrees():
    """The mirror image: one treated unit with no event in its 8 periods before the start and 3
    in each of the 4 after it (12 in all); 20 controls with 2 events every period (flat period
    effects, so E_post / E_pre = 4 / 8). Given its 12 events, all fall after the start with
    probability pi^12, pi = RR r / (1 + RR r): the lower end is the Clopper-Pearson bound for 12
    of 12 (scipy's beta quantile) on the rate-ratio scale, the upper end unbounded. Before, a
    fit gave RR e^21.9 (3 billion); then an error refused to answer."""
    units = [unit_name(i) for i in range(21)]
    panel = pd.DataFrame([{"unit": u, "t": t, "exposure": 1.0,
                           "y": (float(TREATED_PER_PERIOD) if t >= N_PRE else 0.0) if i == 0
                           else 2.0}
                          for i, u in enumerate(units) for t in range(N_PRE + N_POST)])
    design = make_design(treated=(unit_name(0),), start=N_PRE, end_t=N_PRE + N_POST - 1,
                         inference="model", alpha=ALPHA)
    out = estimate_did(make_prepared(panel, design))
    p = out.primary
    n, ratio = N_POST * TREATED_PER_PERIOD, N_POST / N_PRE
    p_low = stats.beta.ppf(ALPHA / 2, n, 1)  # Clopper-Pearson, n successes in n
    rr_low = p_low / (1 - p_low) / ratio
    # rel 1e-6: the period effects come from the IRLS fit (tolerance 1e-10)
    assert p["ci_low"] == pytest.approx(rr_low, rel=1e-6)
    assert p["ci_low"] == pytest.approx((ALPHA / 2) ** (1 / n) / (1 - (ALPHA / 2) ** (1 / n)) / ratio,
                                        rel=1e-6)
    assert p["ci_high"] == math.inf and math.isnan(p["estimate"]) and p["one_sided"]
    assert p["not_estimable"]["code"] == "separation_before"
    assert p["p_value"] == pytest.approx((ratio / (1 + ratio)) ** n, rel=1e-6)  # (1/3)^12
    assert p["confidence"]["any_reduction"] == 0.0 and p["confidence"]["min_reduction"] == 0.0
    # averted = observed (1/RR - 1): from -12 (RR unbounded) to 12 (1/RR_low - 1)
    averted = out.extras["averted"]
    assert math.isnan(averted["estimate"]) and averted["ci_low"] == pytest.approx(-12.0)
    assert averted["ci_high"] == pytest.approx(12 * (1 / rr_low - 1), rel=1e-6)
    checks = {c.kind: c for c in out.checks}
    assert checks["pre_trends"].status == "skipped"
    assert checks["pre_trends"].values["skip_code"] == "no_events_before"
    assert out.event_study is None
    treated_cf = out.series.loc[out.series["group"] == "treated", "counterfactual"]
    assert treated_cf.isna().all()  # the level without the intervention is not drawn
    reg = {"status": "registered", "matches": True, "design": "did", "controlled": True}
    decision = decide(primary=p, bayesian=None, checks=[], registration=reg,
                      rule={"min_reduction": 0.1, "continue_probability": 0.8,
                            "stop_probability": 0.25})
    assert decision["reason"] == "rule" and decision["verdict"] == "stop"
    assert decision["basis"]["boundary"] == "separation_before"
    nl, en = verdict_text.reasons(decision, "nl")[0], verdict_text.reasons(decision, "en")[0]
    assert "before the start" in en and "no point estimate" in en
    assert "vóór de start" in nl.lower() and "puntschatting" in nl and "onbegrensd" in nl


def _before_panel(control_y=lambda i, t: 2.0) -> pd.DataFrame:
    """Unit 0 treated: no event in its 8 periods before the start, 3 in each of the 4 after."""
    units = [unit_name(i) for i in range(21)]
    return pd.DataFrame([{"unit": u, "t": t, "exposure": 1.0,
                          "y": (float(TREATED_PER_PERIOD) if t >= N_PRE else 0.0) if i == 0
                          else control_y(i, t)}
                         for i, u in enumerate(units) for t in range(N_PRE + N_POST)])


def _before_design(**kwargs):
    return make_design(treated=(unit_name(0),), start=N_PRE, end_t=N_PRE + N_POST - 1,
                       inference="model", alpha=ALPHA, **kwargs)


def test_separation_before_without_comparison_events_before_the_start_is_refused():
    """No event anywhere before the start: no rate without the intervention exists. A one-line
    error (the comparison fit on nothing used to abort the process inside pyfixest)."""
    from evaluation.errors import AnalysisError

    panel = _before_panel(control_y=lambda i, t: 2.0 if t >= N_PRE else 0.0)
    with pytest.raises(AnalysisError, match="comparison units none either"):
        estimate_did(make_prepared(panel, _before_design()))


def test_separation_before_leaves_out_periods_without_comparison_events():
    """Controls without any event in the first post period (t = 8): the treated unit's 3 events
    there identify only that period's effect, so they leave the totals: n = 9 events over
    E_post / E_pre = 3 / 8 (by hand, as in the test above)."""
    panel = _before_panel(control_y=lambda i, t: 0.0 if t == N_PRE else 2.0)
    p = estimate_did(make_prepared(panel, _before_design())).primary
    n, ratio = 3 * TREATED_PER_PERIOD, 3 / N_PRE
    p_low = stats.beta.ppf(ALPHA / 2, n, 1)
    assert p["ci_low"] == pytest.approx(p_low / (1 - p_low) / ratio, rel=1e-6)


def test_separation_before_in_the_other_phase_is_a_bound_not_a_number():
    """With treatment.end, the period the verdict is not about is estimated on the same path:
    no treated event before the start gives a one-sided interval there too (before: a diverging
    fit's rate ratio of about 3.8e9 beside the verdict)."""
    import evaluation.analysis.phases as phases

    panel = _before_panel()
    design = _before_design()
    data = make_prepared(panel, design)
    summary = phases._summary(data, "after")
    assert summary["estimable"] is False and summary["ci_high"] == math.inf
    assert summary["reason"] == "no events in the treated units before the start"


def test_separation_with_staggered_starts_gets_the_exact_interval():
    """Staggered starts, no treated event after any start: before, no estimate and no interval
    at all (NaN); now the one-sided exact conditional interval, and the averted interval."""
    panel = simulate_counts(n_units=30, n_periods=40, n_treated=0, start=0, seed=12,
                            base_rate=1.0)
    starts = {unit_name(i): (20 if i < 2 else 28) for i in range(4)}
    for unit, start in starts.items():
        panel.loc[(panel["unit"] == unit) & (panel["t"] >= start), "y"] = 0.0
    design = make_design(treated=tuple(starts), start=starts, end_t=39, inference="cluster")
    out = estimate_did(make_prepared(panel, design))
    p = out.primary
    assert math.isnan(p["estimate"]) and p["ci_low"] == 0.0 and 0 < p["ci_high"] < 1
    assert p["estimator"] == "twfe" and "exact conditional" in p["estimator_reason"]
    averted = out.extras["averted"]
    assert averted["ci_low"] <= averted["ci_high"] == pytest.approx(averted["counterfactual"])


def test_overdispersed_totals_count_n_over_the_dispersion():
    from evaluation.estimators.did.separation import overdispersed

    totals = pd.DataFrame({"n": [12.0], "e_pre": [8.0], "e_post": [4.0]})
    assert overdispersed(totals, model="quasi_poisson", dispersion=3.0)["n"].tolist() == [4.0]
    assert overdispersed(totals, model="negative_binomial", dispersion=2.0)["n"].tolist() == [6.0]
    for model, phi in (("poisson", 3.0), ("quasi_poisson", 0.5), ("quasi_poisson", None)):
        assert overdispersed(totals, model=model, dispersion=phi)["n"].tolist() == [12.0]
