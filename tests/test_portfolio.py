"""Portfolio: verdict table, Holm adjustment, national progress (known truth and edge dates)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.rates import confint_poisson_2indep
from test_reports import make_analysis, make_store, make_workspace, reliable_bayes

from evaluation.errors import DataError
from evaluation.portfolio.build import (
    build_portfolio,
    holm_adjust,
    national_progress,
    write_portfolio,
)


def test_holm_against_hand_computed_values():
    # Holm: sorted p (0.01, 0.02, 0.03) * (3, 2, 1) -> 0.03, 0.04, 0.03 -> monotone 0.03, 0.04, 0.04
    assert holm_adjust([0.03, 0.01, None, 0.02]) == pytest.approx([0.04, 0.03, None, 0.04])
    assert holm_adjust([None, None]) == [None, None]
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def _daily(counts_by_date: dict[dt.date, int]) -> pd.Series:
    return pd.Series(counts_by_date, dtype=float)


def test_observed_counts_spans_and_interval():
    counts = {dt.date(2024, 1, 5): 3, dt.date(2024, 3, 1): 2, dt.date(2024, 3, 2): 7,
              dt.date(2024, 11, 1): 10, dt.date(2025, 1, 2): 1, dt.date(2025, 2, 27): 3,
              dt.date(2025, 3, 1): 4, dt.date(2025, 3, 2): 100}
    out = national_progress(_daily(counts), cutoff=dt.date(2025, 3, 1))
    obs = out["observed"]
    # 2025-01-01..03-01 against 2024-01-01..03-01 (the 2 March incidents are after the span)
    assert (obs["count"], obs["baseline_count"]) == (8, 5)
    assert obs["baseline_span"] == ["2024-01-01", "2024-03-01"]
    assert obs["ratio"] == pytest.approx(8 / 5)
    ref = confint_poisson_2indep(8, 1, 5, 1, method="score", compare="ratio")
    assert (obs["ci_low"], obs["ci_high"]) == pytest.approx(ref)
    assert out["baseline_total"] == 22 and out["target_total"] == pytest.approx(19.8)
    assert not out["year_complete"]


def test_projection_covers_the_truth_in_a_simulation():
    """2024 at 1.0 a day, 2025 at 0.8 a day (-20%): ratio and projected total recover it."""
    rng = np.random.default_rng(5)
    covered_ratio = covered_total = 0
    for _ in range(40):
        days = pd.date_range("2024-01-01", "2025-06-30").date
        rates = np.where([d.year == 2024 for d in days], 1.0, 0.8)
        daily = pd.Series(rng.poisson(rates), index=days, dtype=float)
        out = national_progress(daily, cutoff=dt.date(2025, 6, 30), draws=4000)
        obs, proj = out["observed"], out["projection"]
        covered_ratio += obs["ci_low"] <= 0.8 <= obs["ci_high"]
        expected_total = 0.8 * 365  # the truth for 2025
        covered_total += proj["low"] <= expected_total <= proj["high"]
    assert covered_ratio >= 34  # nominal 95% of 40 = 38
    assert covered_total >= 34


def test_complete_year_and_too_early_cutoff():
    days = pd.date_range("2024-01-01", "2026-01-10").date
    daily = pd.Series(1.0, index=days)
    done = national_progress(daily, cutoff=dt.date(2026, 1, 10))
    assert done["year_complete"] and done["projection"]["total"] == 365
    assert done["projection"]["low"] == done["projection"]["high"] == 365
    early = national_progress(daily, cutoff=dt.date(2024, 12, 31))
    assert early == {"available": False, "reason": "the data end on 2024-12-31, before 2025 started"}


def test_projection_is_deterministic_for_the_seed():
    days = pd.date_range("2024-01-01", "2025-05-01").date
    daily = pd.Series(np.random.default_rng(1).poisson(1.0, len(days)), index=days, dtype=float)
    a = national_progress(daily, cutoff=dt.date(2025, 5, 1))
    b = national_progress(daily, cutoff=dt.date(2025, 5, 1))
    assert a == b


def test_build_portfolio_from_analyses_and_store(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    make_analysis(ws, "b-second", p_value=0.04, seed=2)
    make_analysis(ws, "a-first", p_value=0.01, bayes=reliable_bayes(0.8, p_any=0.99, p_min=0.85))
    make_analysis(ws, "c-third", design="its", controlled=False, p_value=None, rr=1.1,
                  ci=(0.9, 1.3), seed=3)
    truth = make_store(ws.db_path())
    data = build_portfolio(ws)
    rows = data["interventions"]
    assert [r["id"] for r in rows] == ["a-first", "b-second", "c-third"]
    assert [r["p_holm"] for r in rows] == pytest.approx([0.02, 0.04, None])
    assert rows[0]["verdict"] == "continue" and rows[0]["p_min_reduction"] == 0.85
    assert data["multiple_testing"]["n_tests"] == 2
    assert data["national"]["available"]
    assert data["national"]["observed"]["count"] == truth["2025"]
    path = write_portfolio(ws)
    first = path.read_bytes()
    assert write_portfolio(ws).read_bytes() == first  # deterministic bytes
    assert json.loads(first)["interventions"][2]["id"] == "c-third"


def test_without_store_national_is_unavailable_with_a_reason(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    data = build_portfolio(ws)
    assert data["interventions"] == []
    assert data["national"]["available"] is False
    assert "no incident store" in data["national"]["reason"]


def test_broken_result_json_names_the_file(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws.analyses / "x").mkdir()
    (ws.analyses / "x" / "result.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match=r"x/result.json: not valid JSON"):
        build_portfolio(ws)


def test_store_without_incidents_table_is_reported_not_raised(tmp_path):
    import duckdb

    ws = make_workspace(tmp_path / "ws")
    duckdb.connect(str(ws.db_path())).close()
    national = build_portfolio(ws)["national"]
    assert national["available"] is False and "cannot read incidents" in national["reason"]
