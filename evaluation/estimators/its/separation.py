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
confidence follow as in `did.separation`. Two things would make that too narrow, and are taken
into account conservatively: the projection is uncertain (trend and season are estimated from
the same series), so E_post is taken at the lower end of its (1 - alpha) interval (delta method
on the log of the projected sum); and overdispersed models count n / dispersion events. One
path for the analysis, the phases and the diagnosis (`its.fit_primary`); the placebo-block
inference of `auto` has no level change to permute here, and the checks that refit one cannot run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evaluation.estimators.confidence import rule_thresholds
from evaluation.estimators.did.separation import exact_summary, overdispersed
from evaluation.estimators.intervals import map_interval
from evaluation.estimators.its.counterfactual import series_table
from evaluation.estimators.its.inference import InferenceResult, Wald
from evaluation.estimators.its.segmented import (
    INTERVENTION_TERMS,
    TREATED,
    CovChoice,
    ModelSpec,
    design_matrix,
    fit,
    linear_predictor,
    to_mean,
)
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import is_count, z_value

INTERVAL_TEXT = ("exact conditional (binomial given the treated series' total events) upper "
                 "limit, with the projected expected count at the lower end of its interval; "
                 "one-sided: no events in the treated series after the start")


def separated_series(data: PreparedData) -> bool:
    """A count ITS whose treated series has events before the start and none after it."""
    if data.design.design != "its" or not is_count(data.spec.model):
        return False
    panel = data.panel
    rows = panel.loc[panel["treated_unit"] & ~panel["excluded"]]
    post = rows["post"].to_numpy(dtype=bool)
    y = rows["y"].to_numpy(dtype=float)
    return float(y[post].sum()) == 0 and float(y[~post].sum()) > 0


def exact_level(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int, alpha: float,
                min_reduction: float) -> tuple[InferenceResult, Wald, dict[str, Any], float]:
    """(the untreated rows' fit as an InferenceResult, the level change as a one-sided Wald
    (-inf, interval [-inf, log RR_high]), the rule's confidence, E_post) for the validated
    series `frame` (see the module docstring)."""
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
    e_post = float(expected[after].sum())
    # the projected sum's uncertainty: Var(log sum mu) = g' Cov g, g = X' mu / sum mu
    x = design_matrix(rows.loc[after], spec=spec, t_start=t_start)[list(fitted.names)].to_numpy()
    g = x.T @ expected[after] / e_post
    sd = math.sqrt(max(float(g @ fitted.cov @ g), 0.0))
    totals = pd.DataFrame({"n": [float(rows["y"].sum())], "e_pre": [float(expected[~after].sum())],
                           "e_post": [e_post * math.exp(-z_value(alpha) * sd)]})
    totals = overdispersed(totals, model=spec.model, dispersion=fitted.dispersion)
    thresholds = rule_thresholds(scale="rate_ratio", min_reduction=min_reduction)
    exact = exact_summary(totals, alpha=alpha, thresholds=thresholds)
    info = {"used": "exact_conditional", "interval": INTERVAL_TEXT, "separated": True,
            "expected_without_intervention": e_post, "projection_log_sd": sd,
            "p_value_method": "exact_conditional"}
    level = Wald(-math.inf, math.nan, -math.inf, exact["ci_high"], exact["p_value"])
    return InferenceResult(fit=fitted, info=info, tests={}), level, exact["confidence"], e_post


def separated_output(frame: pd.DataFrame, inference: InferenceResult, level: Wald, *,
                     spec: ModelSpec, t_start: int, alpha: float,
                     e_post: float) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The series table (the fit with the boundary effect: no events after the start) and the
    attacks averted, E_post (1 - RR) over the one-sided interval of RR (no point estimate)."""
    series = series_table(frame, inference.fit, spec=spec, t_start=t_start, alpha=alpha)
    in_post = (series["group"] == TREATED).to_numpy() & (series["t"].to_numpy() >= t_start)
    series.loc[in_post, "fitted"] = 0.0
    low, high = map_interval(level.low, level.high, lambda b: -e_post * math.expm1(b))
    periods = int(np.count_nonzero(in_post & ~series["excluded"].to_numpy(dtype=bool)))
    averted = {"estimate": math.nan, "ci_low": low, "ci_high": high,
               "interval": "exact_conditional", "expected": e_post, "observed": 0.0,
               "pct_of_expected": None, "periods": periods,
               "method": ("expected minus observed (0) over the post periods, E (1 - RR), with RR "
                          "over its one-sided exact interval; no point estimate")}
    return series, averted
