"""The portfolio: every analysis' verdict, Holm-adjusted p-values and national progress.

`build_portfolio()` is the only report input computed from the incident store; `evaluation analyse
--all` writes its dict to analyses/portfolio.json and the portfolio page only reads that file.

National progress towards the target (NATIONAL_TARGET_REDUCTION fewer attacks in
NATIONAL_TARGET_YEAR than in NATIONAL_BASELINE_YEAR):
- observed so far: incidents from 1 January of the target year up to the data cut-off, against the
  same calendar span of the baseline year; the rate ratio's 95% interval is statsmodels'
  `confint_poisson_2indep` (score method).
- projection of the target year's total: the observed count plus the rest of the year, where the
  rest is the baseline year's count for the same remaining span scaled by the year-to-date ratio
  (baseline seasonality carried over). Uncertainty by Monte Carlo with a fixed seed: the two
  year-to-date rates and the baseline remainder rate get Gamma(count + 1/2) posteriors (Jeffreys),
  and the remaining count is drawn Poisson. The interval is the 2.5-97.5% range of the total and
  `p_target_met` the share of draws at or below the target.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.analysis.result import RESULT_FILE
from evaluation.errors import DataError
from evaluation.files import clean, write_text_atomic
from evaluation.workspace import Workspace, find_workspace

PORTFOLIO_FILE = "portfolio.json"


def build_portfolio(workspace: Workspace | str | os.PathLike | None = None, *,
                    db: str | os.PathLike | None = None) -> dict[str, Any]:
    """The portfolio dict (JSON-ready) from analyses/*/result.json and the incident store."""
    ws = workspace if isinstance(workspace, Workspace) else find_workspace(workspace)
    results = read_results(ws)
    rows = verdict_rows(results)
    n_tests = add_holm(rows)
    return clean({
        "interventions": rows,
        "multiple_testing": multiple_testing_note(n_tests),
        "programme_risk": programme_risk(rows),
        "national": national_from_store(ws.db_path(db)),
    })


def add_holm(rows: list[dict[str, Any]]) -> int:
    """Holm-adjusted p-values in place over the confirmatory rows; an exploratory analysis stays
    out of the family (its p_holm is None). Returns the family's number of tests."""
    family = [i for i, row in enumerate(rows) if row.get("evidence_kind") != "exploratory"]
    adjusted = holm_adjust([rows[i]["p_value"] for i in family])
    for row in rows:
        row["p_holm"] = None
    for i, p_holm in zip(family, adjusted, strict=True):
        rows[i]["p_holm"] = p_holm
    return sum(p is not None for p in adjusted)


def evidence_kind(result: dict[str, Any]) -> str:
    """prospective | before_outcome_data | retrospective | exploratory | unknown."""
    if result.get("registration") == "exploratory":
        return "exploratory"
    timing = result.get("registration_timing")
    if timing in ("prospective", "before_outcome_data", "retrospective"):
        return timing
    return "retrospective" if result.get("registration") == "retrospective" else "unknown"


def programme_risk(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """If no intervention works: the chance that at least one is continued, from each design's
    diagnosed P(continue | no effect) (independent designs: 1 - prod(1 - p)). Exploratory
    analyses give no verdict and do not count; a design without diagnosis is counted apart."""
    confirmatory = [r for r in rows if r.get("evidence_kind") != "exploratory"]
    rates = [float(r["p_continue_no_effect"]) for r in confirmatory
             if r.get("p_continue_no_effect") is not None]
    p_any = 1 - math.prod(1 - p for p in rates) if rates else None
    return {"n": len(confirmatory), "n_diagnosed": len(rates), "p_any_continued": p_any,
            "min": min(rates, default=None), "max": max(rates, default=None)}


def write_portfolio(workspace: Workspace | str | os.PathLike | None = None, *,
                    db: str | os.PathLike | None = None) -> Path:
    """Build the portfolio and write analyses/portfolio.json (deterministic bytes)."""
    ws = workspace if isinstance(workspace, Workspace) else find_workspace(workspace)
    data = build_portfolio(ws, db=db)
    path = ws.analyses / PORTFOLIO_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False,
                                       allow_nan=False) + "\n")
    return path


# --- verdict table ---------------------------------------------------------------------------
def read_results(ws: Workspace) -> list[dict[str, Any]]:
    """Every analyses/<id>/result.json, sorted by id."""
    out = []
    for path in sorted(ws.analyses.glob(f"*/{RESULT_FILE}")):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: not valid JSON (line {exc.lineno}); re-run "
                            f"`evaluation analyse {path.parent.name}`") from None
    return out


def verdict_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for res in results:
        primary, decision = res.get("primary") or {}, res.get("decision") or {}
        bayes, context = res.get("bayesian") or {}, res.get("context") or {}
        rule = context.get("decision_rule") or {}
        rows.append({
            "id": res["id"],
            "title": context.get("title", res["id"]),
            "design": res.get("design"),
            "registration": res.get("registration"),
            "scale": primary.get("scale"),
            "estimate": primary.get("estimate"),
            "ci_low": primary.get("ci_low"),
            "ci_high": primary.get("ci_high"),
            "pct_change": primary.get("pct_change"),
            "p_value": primary.get("p_value"),
            "interval_level": 1 - float(primary.get("alpha") or defaults.ALPHA),
            "p_min_reduction": bayes.get("p_min_reduction") if bayes else None,
            "min_reduction": rule.get("min_reduction", defaults.MIN_REDUCTION),
            "verdict": decision.get("verdict"),
            "smss": (decision.get("evidence_level") or {}).get("smss"),
            "evidence_kind": evidence_kind(res),
            "p_continue_no_effect": ((decision.get("error_rates") or {})
                                     .get("continue_at_no_effect") or {}).get("value"),
            "data_cutoff": res.get("data_cutoff"),
        })
    return rows


def multiple_testing_note(n_tests: int) -> dict[str, Any]:
    """The one-line note on multiple testing, in Dutch and English."""
    if n_tests <= 1:
        nl = f"Er {'is één toets' if n_tests == 1 else 'zijn geen toetsen'}; Holm-correctie verandert niets."
        en = f"There {'is one test' if n_tests == 1 else 'are no tests'}; the Holm correction changes nothing."
    else:
        nl = (f"Bij {n_tests} gelijktijdige toetsen is de kans op minstens één toevallig "
              "significant resultaat groter dan 5%; de Holm-gecorrigeerde p-waarden houden die "
              "kans over de hele portefeuille onder 5%.")
        en = (f"With {n_tests} simultaneous tests the chance of at least one significant result "
              "by luck exceeds 5%; Holm-adjusted p-values keep that chance below 5% across the "
              "whole portfolio.")
    return {"method": "holm", "n_tests": n_tests, "note_nl": nl, "note_en": en}


def holm_adjust(p_values: list[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (statsmodels), None where no p-value exists."""
    from statsmodels.stats.multitest import multipletests

    present = [i for i, p in enumerate(p_values) if p is not None and math.isfinite(p)]
    out: list[float | None] = [None] * len(p_values)
    if present:
        _, adjusted, _, _ = multipletests([p_values[i] for i in present], method="holm")
        for i, p in zip(present, adjusted, strict=True):
            out[i] = float(p)
    return out


# --- national progress -----------------------------------------------------------------------
def national_from_store(db_path: Path) -> dict[str, Any]:
    """National progress from the store, or {available: false, reason} without a usable store."""
    if not Path(db_path).exists():
        return {"available": False, "reason": f"no incident store at {db_path}"}
    import duckdb

    try:
        daily, cutoff = daily_national_counts(db_path)
    except duckdb.Error as exc:  # no incidents table, or the store is locked by a writer
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {"available": False, "reason": f"cannot read incidents from {db_path}: {first_line}"}
    if cutoff is None:
        return {"available": False, "reason": f"the incident store {db_path} is empty"}
    return national_progress(daily, cutoff=cutoff)


def daily_national_counts(db_path: Path) -> tuple[pd.Series, dt.date | None]:
    """Incidents per calendar day (all target types and outcomes) and the last incident date."""
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        frame = con.execute(
            "SELECT date, count(*) AS n FROM incidents GROUP BY date ORDER BY date").df()
    finally:
        con.close()
    if frame.empty:
        return pd.Series(dtype=float), None
    series = pd.Series(frame["n"].to_numpy(dtype=float),
                       index=pd.to_datetime(frame["date"]).dt.date)
    return series, max(series.index)


def national_progress(daily: pd.Series, *, cutoff: dt.date,
                      target_year: int = defaults.NATIONAL_TARGET_YEAR,
                      baseline_year: int = defaults.NATIONAL_BASELINE_YEAR,
                      target_reduction: float = defaults.NATIONAL_TARGET_REDUCTION,
                      draws: int = defaults.NATIONAL_PROJECTION_DRAWS,
                      seed: int = defaults.SEED) -> dict[str, Any]:
    """Observed year-to-date change and projected target-year total (see the module docstring).

    `daily` holds counts indexed by date (days without incidents may be absent: they count 0).
    """
    if cutoff < dt.date(target_year, 1, 1):
        return {"available": False,
                "reason": f"the data end on {cutoff}, before {target_year} started"}
    span_end = min(cutoff, dt.date(target_year, 12, 31))
    base_span_end = _same_day(span_end, baseline_year)
    counts = pd.Series(daily.to_numpy(dtype=float), index=[_as_date(d) for d in daily.index])
    ytd = _sum_between(counts, dt.date(target_year, 1, 1), span_end)
    base_ytd = _sum_between(counts, dt.date(baseline_year, 1, 1), base_span_end)
    base_total = _sum_between(counts, dt.date(baseline_year, 1, 1), dt.date(baseline_year, 12, 31))
    base_rest = base_total - base_ytd
    target_total = (1 - target_reduction) * base_total
    complete = span_end == dt.date(target_year, 12, 31)

    from statsmodels.stats.rates import confint_poisson_2indep

    # equal exposure: the two spans cover the same calendar days
    ratio = ytd / base_ytd if base_ytd > 0 else math.nan
    ci = confint_poisson_2indep(ytd, 1.0, base_ytd, 1.0, method="score", compare="ratio") \
        if base_ytd > 0 else (math.nan, math.nan)

    rng = np.random.default_rng(seed)
    if complete:
        totals = np.full(draws, ytd)
    else:
        rate_now = rng.gamma(ytd + 0.5, size=draws)
        rate_then = rng.gamma(base_ytd + 0.5, size=draws)
        rest_mean = rng.gamma(base_rest + 0.5, size=draws) * rate_now / rate_then
        totals = ytd + rng.poisson(rest_mean)
    low, median, high = np.quantile(totals, [0.025, 0.5, 0.975])
    return {
        "available": True,
        "method": ("year-to-date ratio against the same span of the baseline year, applied to the "
                   "baseline year's remaining weeks; Jeffreys Gamma posteriors for the rates and "
                   f"Poisson noise for the remaining count, {draws} draws, seed {seed}"),
        "target_year": target_year,
        "baseline_year": baseline_year,
        "target_reduction": target_reduction,
        "cutoff": span_end.isoformat(),
        "year_complete": complete,
        "observed": {"count": ytd, "baseline_count": base_ytd,
                     "span": [dt.date(target_year, 1, 1).isoformat(), span_end.isoformat()],
                     "baseline_span": [dt.date(baseline_year, 1, 1).isoformat(),
                                       base_span_end.isoformat()],
                     "ratio": ratio, "ci_low": float(ci[0]), "ci_high": float(ci[1]),
                     "pct_change": 100 * (ratio - 1) if math.isfinite(ratio) else None},
        "baseline_total": base_total,
        "target_total": target_total,
        "projection": {"total": float(median), "low": float(low), "high": float(high),
                       "pct_change": 100 * (float(median) / base_total - 1) if base_total else None,
                       "p_target_met": float(np.mean(totals <= target_total))},
    }


def _same_day(day: dt.date, year: int) -> dt.date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a non-leap year: the span ends on 28 February
        return dt.date(year, 2, 28)


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, pd.Timestamp | dt.datetime) else value


def _sum_between(counts: pd.Series, start: dt.date, end: dt.date) -> float:
    mask = [(start <= d <= end) for d in counts.index]
    return float(counts[mask].sum())
