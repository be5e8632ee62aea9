"""Separation in an interrupted time series: no event in the treated series after the start.

The level change's maximum-likelihood value is then -inf (rate ratio 0), a boundary, not an
estimate. As for the DiD (`did.separation`), the answer is the exact conditional one. The
segmented model is fitted to every row except the treated series' post periods, without the
intervention's terms (a plain ITS: its pre-period alone; a controlled ITS: with the control
series, whose own change at the start stays in), and projected onto those periods. Given the
treated series' n events, its post-start events are Binomial(n, pi(RR)),
pi = RR E_post / (E_pre + RR E_post), with E_pre and E_post the projected expected counts (only
their ratio enters: trend, season and exposure; the level cancels). No event after the start has
probability (1 - pi)^n; the upper end of the interval, the one-sided exact p-value and the rule's
confidence follow as in `did.separation`. The trend and season are estimated from the same
series, so the conditioning is approximate where the model has them. The placebo-block
inference of `auto` has no level change to permute here; the checks that refit one cannot run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evaluation.estimators.confidence import rule_thresholds
from evaluation.estimators.did.separation import exact_summary
from evaluation.estimators.intervals import map_interval
from evaluation.estimators.its.counterfactual import series_table
from evaluation.estimators.its.segmented import (
    INTERVENTION_TERMS,
    TREATED,
    CovChoice,
    ItsFit,
    ModelSpec,
    fit,
    linear_predictor,
    to_mean,
)
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import is_count

INTERVAL_TEXT = ("exact conditional (binomial given the treated series' total events) upper "
                 "limit; one-sided: no events in the treated series after the start")


def separated_series(data: PreparedData) -> bool:
    """A count ITS whose treated series has events before the start and none after it."""
    if data.design.design != "its" or not is_count(data.spec.model):
        return False
    panel = data.panel
    rows = panel.loc[panel["treated_unit"] & ~panel["excluded"]]
    post = rows["post"].to_numpy(dtype=bool)
    y = rows["y"].to_numpy(dtype=float)
    return float(y[post].sum()) == 0 and float(y[~post].sum()) > 0


@dataclass(frozen=True)
class SeparatedIts:
    fit: ItsFit  # the model of the untreated rows, without the intervention's terms
    summary: dict[str, Any]  # ci_low 0, ci_high, p_value, confidence (rate-ratio scale)
    series: pd.DataFrame
    averted: dict[str, Any]


def fit_separated(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int, alpha: float,
                  min_reduction: float) -> SeparatedIts:
    """The exact one-sided answer (see the module docstring); `frame` is the validated series."""
    used = frame.loc[~frame["excluded"]]
    treated = (used["group"] == TREATED).to_numpy()
    post = used["t"].to_numpy() >= t_start
    terms = tuple(t for t in INTERVENTION_TERMS if t != "slope_change" or spec.slope_change)
    fitted = fit(used.loc[~(treated & post)], spec=spec, t_start=t_start,
                 choice=CovChoice("model"), without=terms)
    rows = used.loc[treated]
    eta, _ = linear_predictor(rows, fitted, spec=spec, t_start=t_start, counterfactual=True)
    expected = to_mean(eta, rows, spec)
    after = rows["t"].to_numpy() >= t_start
    totals = pd.DataFrame({"n": [float(rows["y"].sum())], "e_pre": [float(expected[~after].sum())],
                           "e_post": [float(expected[after].sum())]})
    thresholds = rule_thresholds(scale="rate_ratio", min_reduction=min_reduction)
    exact = exact_summary(totals, alpha=alpha, thresholds=thresholds)
    summary = {"ci_low": 0.0, "ci_high": math.exp(exact["ci_high"]), "p_value": exact["p_value"],
               "confidence": exact["confidence"]}
    series = series_table(frame, fitted, spec=spec, t_start=t_start, alpha=alpha)
    in_post = (series["group"] == TREATED).to_numpy() & (series["t"].to_numpy() >= t_start)
    series.loc[in_post, "fitted"] = 0.0  # the fit with the boundary effect: no events
    e_post = float(expected[after].sum())
    low, high = map_interval(-math.inf, exact["ci_high"], lambda b: -e_post * math.expm1(b))
    averted = {"estimate": math.nan, "ci_low": low, "ci_high": high, "interval": "exact_conditional",
               "expected": e_post, "observed": 0.0, "pct_of_expected": None,
               "periods": int(after.sum()),
               "method": ("expected minus observed (0) over the post periods, E (1 - RR), with "
                          "RR over its one-sided exact interval; no point estimate")}
    return SeparatedIts(fit=fitted, summary=summary, series=series, averted=averted)
