"""Separation before the start, fitted: no treated event before it, some after.

The statistics are in `did.separation` (the exact conditional lower bound). Here: the Poisson
fit of the comparison units alone gives the period effects; each treated unit's expected counts
before and after the start are exp(period effect) x exposure up to its own unknown level, which
cancels in their ratio. The fit is a `TwfeFit` with beta +inf (`separated_before`) whose
counterfactual is unknown (NaN) on the treated rows, so nothing downstream draws or counts a
level the data do not give. With randomization inference the p-value and the rule's confidence
are the randomization test's, as for separation after the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation.estimators.did.model_input import model_rows, validate
from evaluation.estimators.did.primary import (
    choose_inference,
    ri_confidence,
    thresholds_of,
    treated_cohorts,
)
from evaluation.estimators.did.randomization import randomization_inference
from evaluation.estimators.did.separation import exact_summary_before
from evaluation.estimators.did.staggered_common import two_way_effects
from evaluation.estimators.did.twfe import METHODS, TwfeFit, fepois, n_params
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import pearson_dispersion
from evaluation.notes import Note

INTERVAL_TEXT = ("exact conditional (binomial given each treated unit's total events) lower "
                 "limit; one-sided: no events in the treated units before the start")


@dataclass(frozen=True)
class BeforeStartFit:
    twfe: TwfeFit
    summary: dict[str, Any]  # beta +inf, ci_low (log), ci_high +inf, p_value, confidence, details
    ri_frame: pd.DataFrame
    notes: tuple[Note, ...]
    used: str
    reason: str
    treated: dict[str, int]


def fit_before_start(data: PreparedData) -> BeforeStartFit:
    """The comparison units' fit and the exact one-sided inference (see the module docstring)."""
    spec = data.spec
    validate(data)
    ri_frame, frame, notes = model_rows(data)
    used, reason = choose_inference(data)
    treated = treated_cohorts(data)
    is_treated = frame["unit"].isin(set(treated)).to_numpy()
    used_rows = frame.loc[~is_treated]
    # periods whose events are all in treated units carry no comparison information (rate 0
    # there), nor do units left without events by that
    for key in ("t", "unit"):
        used_rows = used_rows.loc[used_rows.groupby(key)["y"].transform("sum") > 0]
    controls = used_rows.reset_index(drop=True)
    fit = fepois("y ~ 1 | unit_id + t", controls, "iid")
    mu_c = np.asarray(fit.predict(type="response"), dtype=float)
    _, gamma = two_way_effects(controls["unit"], controls["t"],
                               np.log(mu_c) - controls["log_exposure"].to_numpy())
    rows = frame.loc[is_treated]
    relative = np.exp(rows["t"].map(gamma).to_numpy(dtype=float)
                      + rows["log_exposure"].to_numpy(dtype=float))
    totals = _totals(rows, np.nan_to_num(relative, nan=0.0))
    thresholds = thresholds_of(data, frame, math.inf)
    summary = {"beta": math.inf, "std_error": math.nan,
               **exact_summary_before(totals, alpha=spec.alpha, thresholds=thresholds)}
    details: dict[str, Any] = {}
    if used == "randomization":
        ri = randomization_inference(ri_frame, model=spec.model, treated=treated, beta_hat=0.0,
                                     se_hint=1.0, draws=spec.randomization_draws, seed=spec.seed,
                                     alpha=spec.alpha, n_periods=data.n_periods, interval=False,
                                     thresholds=thresholds)
        summary.update(p_value=ri.p_value, confidence=ri_confidence(ri, thresholds))
        details = ri.as_dict()
    summary["details"] = {**details, "separated_before": True, "interval": INTERVAL_TEXT,
                          "p_value_method": ("randomization" if used == "randomization"
                                             else "exact_conditional")}
    fitted = np.full(len(frame), np.nan)  # unknown on the treated rows
    fitted[frame.index.get_indexer(used_rows.index)] = mu_c
    k = n_params(controls) - 1  # no treatment coefficient
    twfe = TwfeFit(model=spec.model, method=METHODS[spec.model], beta=math.inf, se_model=math.nan,
                   se_cluster=math.nan, fitted=fitted, frame=frame, n_params=k,
                   dispersion=pearson_dispersion(controls["y"].to_numpy(), mu_c, k),
                   fitted_untreated=fitted, model_result=fit)
    return BeforeStartFit(twfe=twfe, summary=summary, ri_frame=ri_frame, notes=tuple(notes),
                          used=used, reason=reason, treated=treated)


def _totals(rows: pd.DataFrame, relative: np.ndarray) -> pd.DataFrame:
    """Per treated unit: n (events), e_pre and e_post (expected, up to the unit's level)."""
    post = rows["d"].to_numpy() == 1
    parts = pd.DataFrame({"unit": rows["unit"].to_numpy(), "n": rows["y"].to_numpy(dtype=float),
                          "e_pre": np.where(post, 0.0, relative),
                          "e_post": np.where(post, relative, 0.0)})
    out = parts.groupby("unit", sort=True)[["n", "e_pre", "e_post"]].sum()
    return out.loc[(out["n"] > 0) & (out["e_pre"] > 0) & (out["e_post"] > 0)]
