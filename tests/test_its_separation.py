"""Issue 14, item 2, for the interrupted time series: no attack in the treated series after the
start is answered by the exact conditional bound (before: an error), and the pages word it.

One series, 48 weeks with 3, 4, 2, ... attacks before the start (n = 144) and 12 weeks with none after,
no trend, no season, constant exposure: the untreated model is a constant rate, so
E_post / E_pre = 12 / 48 exactly. Given the 144 events, no event after the start has probability
(1 - pi)^144 with pi = RR r / (1 + RR r). The projected E_post is taken at the lower end of its
95% interval: the intercept's variance is 1 / 144 (the Fisher information of 144 Poisson
events), so E_post = 36 exp(-1.96 / 12) and r = E_post / 144. The upper end is then the
Clopper-Pearson bound for 0 of 144 (scipy) on the rate-ratio scale, the p-value
(1 / (1 + r))^144 by hand.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from evaluation.analysis.prepare import prepare
from evaluation.design.model import parse_design
from evaluation.estimators.its import estimate_its
from evaluation.workspace import init_workspace

N_PRE, N_POST, PER_WEEK, ALPHA = 48, 12, 3, 0.05


def _data(tmp_path, *, controls: bool = False, model: str = "poisson", pattern=None):
    ws = init_workspace(tmp_path / "ws")
    # 3, 4, 2, 3, 4, 2, ... before the start: 144 events, a mean of exactly 3 a week
    pattern = pattern or (lambda t: 2 + t % 3)
    rows = [{"unit": "U00", "period": t, "attacks": pattern(t) if t <= N_PRE else 0,
             "population": 1000} for t in range(1, N_PRE + N_POST + 1)]
    rows += [{"unit": "U01", "period": t, "attacks": 2 + t % 3, "population": 1000}
             for t in range(1, N_PRE + N_POST + 1)]
    pd.DataFrame(rows).to_csv(ws.root / "data" / "panel.csv", index=False)
    design = {"id": "pilot", "title": "P", "owner": "o", "hypothesis": "h", "design": "its",
              "data": {"source": str(ws.root / "data" / "panel.csv"), "frequency": "week",
                       "exposure": "population"},
              "treatment": {"units": ["U00"], "start": N_PRE + 1},
              "window": {"start": 1, "end": N_PRE + N_POST},
              "analysis": {"model": model, "inference": "auto", "seasonality": 0,
                           "trend": False, "alpha": ALPHA}}
    if controls:
        design["controls"] = ["U01"]
    return prepare(parse_design(design), ws)


def test_the_exact_upper_bound_scipy_agrees(tmp_path):
    out = estimate_its(_data(tmp_path))
    p = out.primary
    n = N_PRE * PER_WEEK
    ratio = N_POST / N_PRE * math.exp(-stats.norm.ppf(1 - ALPHA / 2) / math.sqrt(n))
    p_high = stats.beta.ppf(1 - ALPHA / 2, 1, n)
    # rel 1e-5: the constant rate and its variance come from the GLM's IRLS fit (tolerance 1e-8)
    assert p["ci_high"] == pytest.approx(p_high / (1 - p_high) / ratio, rel=1e-5)
    assert p["ci_low"] == 0.0 and math.isnan(p["estimate"]) and p["one_sided"]
    assert p["p_value"] == pytest.approx((1 / (1 + ratio)) ** n, rel=1e-5)
    assert p["not_estimable"]["code"] == "separation"
    assert p["inference"]["used"] == "exact_conditional"
    # averted = E_post (1 - RR) at the projected E_post = 12 weeks x 3 = 36: from 36 (1 - RR_high)
    averted = out.extras["averted"]
    assert math.isnan(averted["estimate"]) and averted["ci_high"] == pytest.approx(36.0, rel=1e-5)
    assert averted["ci_low"] == pytest.approx(36.0 * (1 - p["ci_high"]), rel=1e-5)
    refits = [c for c in out.checks if c.name != "recent_rise"]
    assert {c.status for c in refits} == {"skipped"}
    assert all(c.values["skip_code"] == "no_events_after" for c in refits)
    # the recent-rise check needs the pre-period only, so it runs: 3, 4, 2, ... has no rise
    assert next(c for c in out.checks if c.name == "recent_rise").status == "pass"
    treated = out.series.loc[out.series["group"] == "treated"]
    post = treated.loc[treated["t"] >= N_PRE]
    assert (post["fitted"] == 0).all() and post["counterfactual"].to_numpy() == pytest.approx(3.0)


def test_a_controlled_series_gets_the_bound_too(tmp_path):
    out = estimate_its(_data(tmp_path, controls=True))
    p = out.primary
    # wider than the plain series' (its projection carries the control's change, estimated too)
    plain = estimate_its(_data(tmp_path / "plain")).primary
    assert math.isnan(p["estimate"]) and plain["ci_high"] < p["ci_high"] < 0.5
    assert p["p_value"] < 1e-6
    assert "control_level_change" in set(out.estimates["term"])


def test_the_verdict_and_pages_word_it(tmp_path):
    from evaluation.analysis.decision import decide
    from evaluation.report import verdict_text

    out = estimate_its(_data(tmp_path))
    reg = {"status": "registered", "matches": True, "design": "its", "controlled": False}
    decision = decide(primary=out.primary, bayesian=None,
                      checks=[c.to_dict() for c in out.checks], registration=reg,
                      rule={"min_reduction": 0.1, "continue_probability": 0.8,
                            "stop_probability": 0.25})
    assert decision["verdict"] == "continue" and decision["basis"]["boundary"] == "separation"
    en = verdict_text.reasons(decision, "en")[0]
    assert "No attack was recorded in the treated units after the start" in en
    from evaluation.report.check_words import check_sentence
    from evaluation.report.term_words import inference_words

    assert inference_words(out.primary["inference"], "nl").startswith("exacte voorwaardelijke")
    assert "geen sprong te herberekenen" in check_sentence(out.checks[0].to_dict(), "nl")


def test_overdispersion_counts_fewer_events(tmp_path):
    """Quasi-Poisson counts carry n / dispersion events' information. Alternating 0 and 6 before
    the start (mean 3, 144 events): Pearson dispersion 48 x 9 / 3 / 47 = 144 / 47. By hand:
    n_eff = 144 / phi, the intercept's variance phi / 144, (1 - pi)^n_eff = alpha / 2."""
    pattern = lambda t: 6 * (t % 2)  # noqa: E731
    quasi = estimate_its(_data(tmp_path / "q", model="quasi_poisson", pattern=pattern)).primary
    poisson = estimate_its(_data(tmp_path / "p", pattern=pattern)).primary
    phi = 144 / 47
    ratio = N_POST / N_PRE * math.exp(-stats.norm.ppf(1 - ALPHA / 2) * math.sqrt(phi / 144))
    pi = 1 - (ALPHA / 2) ** (1 / (144 / phi))
    assert quasi["dispersion"] == pytest.approx(phi, rel=1e-6)
    assert quasi["ci_high"] == pytest.approx(pi / (1 - pi) / ratio, rel=1e-5)
    assert quasi["ci_high"] > 2 * poisson["ci_high"]
