"""Event study and the pre-trend check.

One row per event time e = t - first treated period in `analysis.event_window` [lo, hi]; the last
row combines every e >= hi. Estimates are on the presentation scale (rate ratio for counts,
difference for linear outcomes; std_error of the log rate ratio / of the difference).

Linear outcomes: the saturated cohort x event-time regression of `evaluation.did.sun_abraham`
(least squares, unit and period fixed effects, reference e = -1, leads before lo in one bin).
With one start date this is the ordinary two-way fixed-effects event study; with staggered
starts it is Sun & Abraham's interaction-weighted version (each cohort against never-treated
units). The reference row e = -1 has estimate 0 and no error.

Count outcomes: the imputation event study (Borusyak, Jaravel & Spiess). Rare events make a
single reference period useless (a week with no event in the treated units has rate 0), so
- leads: a Poisson PPML fit (unit and period fixed effects, offset log(exposure)) on the
  untreated observations with one dummy per lead e = lo .. -1 of the treated units; the
  reference is every untreated period before lo;
- lags (e >= 0): the imputation effects by event time, observed / imputed events, with the
  counterfactual from the untreated observations (as the primary imputation estimate).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyfixest as pf
from scipy import stats

from evaluation.estimators.did.staggered_common import is_count_model
from evaluation.estimators.did.sun_abraham import (
    error_choice,
    event_time_estimates,
    gradient_matrix,
    saturated_fit,
)
from evaluation.estimators.did.twfe import model_frame
from evaluation.estimators.fit_warnings import SEPARATION, recorded
from evaluation.estimators.output import Check
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import IRLS_TOL, demeaner, pearson_dispersion, to_scale, wald

EVENT_COLUMNS = ("event_time", "estimate", "std_error", "ci_low", "ci_high", "scale")
CHECK_NAME = "pre_trends"

PRE_TRENDS_RULE = (
    "Pre-trend check: the event-study coefficients of the periods before the start (the leads) "
    "are tested jointly with a Wald chi-square test. It fails when p < alpha (the design's "
    "analysis.alpha): the treated units already moved differently from the controls before the "
    "start, so the parallel-trends assumption is in doubt and the verdict becomes inconclusive "
    "(blocking). It is skipped when no lead can be estimated."
)


def event_study(data: PreparedData) -> tuple[pd.DataFrame, Check]:
    """Event-study coefficients (EVENT_COLUMNS) and the blocking `pre_trends` Check.

    Pre-trend rule (quoted by the methods page): PRE_TRENDS_RULE. Linear outcomes: leads
    e = lo .. -2 relative to e = -1; counts: leads e = lo .. -1 relative to the untreated periods
    before lo (see the module docstring).
    """
    if is_count_model(data):
        return _imputation_event_study(data)
    return _saturated_event_study(data)


# --- linear: saturated (Sun-Abraham) ---------------------------------------------------------------
def _saturated_event_study(data: PreparedData) -> tuple[pd.DataFrame, Check]:
    sat = saturated_fit(data, leads=True)
    events = event_time_estimates(sat, data)
    alpha = data.spec.alpha
    rows = [_row(rec.e, rec.est, rec.se, alpha, "difference") for rec in events.itertuples()]
    rows.append({"event_time": -1, "estimate": 0.0, "std_error": math.nan, "ci_low": math.nan,
                 "ci_high": math.nan, "scale": "difference"})
    lead_times = [int(e) for e in events["e"] if e <= -2]
    usable = events.loc[(events["e"] <= -2) & np.isfinite(events["est"]) & np.isfinite(events["se"])]
    groups = [sat.cells.loc[sat.cells["e"] == e] for e in usable["e"]]
    cov = gradient_matrix(sat, groups) @ sat.vcov @ gradient_matrix(sat, groups).T
    check = wald_check(usable["e"].astype(int).tolist(), usable["est"].to_numpy(dtype=float), cov,
                       lead_times=lead_times, errors=sat.errors, data=data,
                       reference="relative to e = -1")
    return _table(rows), check


# --- counts: imputation ---------------------------------------------------------------------------
def _imputation_event_study(data: PreparedData) -> tuple[pd.DataFrame, Check]:
    from evaluation.estimators.did.imputation import fit_imputation

    alpha = data.spec.alpha
    lo, hi = data.spec.event_window
    leads, cov, errors, lead_times = _lead_fit(data, lo)
    rows = [_row(e, est, se, alpha, "rate_ratio")
            for e, est, se in zip(leads["e"], leads["est"], leads["se"], strict=True)]
    post = fit_imputation(data, control_group=data.spec.control_group)
    effects = post.aggregations["imputation"]
    for e in range(0, hi + 1):
        key = f"imp_event_{e}" if e < hi else f"imp_event_{e}+"
        if key in effects:
            rows.append(_row(e, effects[key]["estimate"], effects[key]["std_error"], alpha,
                             "rate_ratio"))
    usable = leads.loc[np.isfinite(leads["est"]) & np.isfinite(leads["se"])]
    keep = usable.index.to_numpy()
    check = wald_check(usable["e"].astype(int).tolist(), usable["est"].to_numpy(dtype=float),
                       cov[np.ix_(keep, keep)] if len(keep) else np.zeros((0, 0)),
                       lead_times=lead_times, errors=errors, data=data,
                       reference=f"relative to the untreated periods before e = {lo}")
    return _table(rows), check


def _lead_fit(data: PreparedData, lo: int) -> tuple[pd.DataFrame, np.ndarray, str, list[int]]:
    """Poisson fit on untreated observations with one dummy per lead of the treated units.

    Returns the leads (e, est, se; est = -inf for a lead without any event), the covariance of
    the estimable leads (aligned with the leads frame's rows; zero rows for the others), the
    error description and every lead the window asks for that has data.
    """
    rows = data.estimation_rows
    frame = model_frame(rows).rename(columns={"treated_unit": "treated"})
    frame["e"] = frame["t"] - frame["cohort"]
    frame = frame.loc[frame["d"] == 0].copy()
    in_lead = frame["treated"] & (frame["e"] >= lo) & (frame["e"] <= -1)
    frame.loc[~in_lead, "e"] = 0
    lead_times = sorted(int(e) for e in frame.loc[in_lead, "e"].unique())
    events = frame.loc[in_lead].groupby("e")["y"].sum()
    estimable = [e for e in lead_times if events.get(e, 0) > 0]
    fit_rows = frame.loc[~(in_lead & ~frame["e"].isin(estimable))].copy()
    for key in ("unit", "t"):  # no event at all: zero ML rate, outside the Poisson fit
        fit_rows = fit_rows.loc[fit_rows.groupby(key)["y"].transform("sum") > 0]
    names = {e: f"lead_{-e}" for e in estimable}
    for e, name in names.items():
        fit_rows[name] = (fit_rows["e"] == e).astype(float)
    vcov_arg, errors, scale_dispersion = error_choice(data, fit_rows)
    out = pd.DataFrame({"e": lead_times, "est": -np.inf, "se": np.nan})
    cov = np.zeros((len(lead_times), len(lead_times)))
    if not estimable:
        return out, cov, errors, lead_times
    ssc = pf.ssc(k_adj=False, G_adj=False) if vcov_arg == "iid" else None
    with recorded(expected=(SEPARATION,)):
        fit = pf.fepois(f"y ~ {' + '.join(names.values())} | unit + t", data=fit_rows,
                        offset="log_exposure", vcov=vcov_arg, fixef_rm="none",
                        iwls_tol=IRLS_TOL, ssc=ssc, demeaner=demeaner())
    coef = fit.coef()
    vcov = pd.DataFrame(np.asarray(fit._vcov), index=coef.index, columns=coef.index)
    if scale_dispersion:
        mu = np.asarray(fit.predict(type="response"), dtype=float)
        k = len(coef) + fit_rows["unit"].nunique() + fit_rows["t"].nunique() - 1
        phi = pearson_dispersion(fit_rows["y"].to_numpy(), mu, k)
        vcov = vcov * phi
        errors += f"; scaled by the Pearson dispersion {phi:.3g}"
    position = {e: i for i, e in enumerate(lead_times)}
    for e, name in names.items():
        if name in coef.index and np.isfinite(coef[name]):
            out.loc[position[e], ["est", "se"]] = [coef[name], math.sqrt(vcov.loc[name, name])]
    fitted = [e for e, n in names.items() if n in coef.index and np.isfinite(coef[n])]
    idx = [position[e] for e in fitted]
    cov[np.ix_(idx, idx)] = vcov.loc[[names[e] for e in fitted], [names[e] for e in fitted]]
    return out, cov, errors, lead_times


# --- shared ----------------------------------------------------------------------------------------
def wald_check(tested: list[int], estimates: np.ndarray, cov: np.ndarray, *, lead_times: list[int],
               errors: str, data: PreparedData, reference: str) -> Check:
    """Joint Wald test of the leads (see PRE_TRENDS_RULE)."""
    alpha = data.spec.alpha
    values = {"leads": lead_times, "leads_tested": tested, "alpha": alpha, "errors": errors}
    if not tested:
        reason = ("no period before the start besides the reference period" if not lead_times
                  else "no lead could be estimated (no events before the start)")
        return Check(name=CHECK_NAME, kind="pre_trends", status="skipped", blocking=True, values=values,
                     detail=f"Pre-trends not tested: {reason}. {PRE_TRENDS_RULE}")
    rank = int(np.linalg.matrix_rank(cov))
    wald = float(estimates @ np.linalg.pinv(cov) @ estimates)
    p_value = float(stats.chi2.sf(wald, rank)) if rank > 0 else math.nan
    values.update({"wald": wald, "df": rank, "p_value": p_value})
    if not math.isfinite(p_value):
        return Check(name=CHECK_NAME, kind="pre_trends", status="skipped", blocking=True, values=values,
                     detail=f"Pre-trends not tested: the leads' covariance is singular. {PRE_TRENDS_RULE}")
    failed = p_value < alpha
    verdict = ("fail: the treated units already differed in trend before the start"
               if failed else "pass: no evidence of different trends before the start")
    detail = (f"Joint Wald test of {len(tested)} lead(s) (e = {', '.join(map(str, tested))}, "
              f"{reference}): chi2({rank}) = {wald:.3g}, p = {p_value:.3g} vs alpha = {alpha:g} "
              f"-> {verdict}. Errors: {errors}. Rule: fails when p < alpha.")
    return Check(name=CHECK_NAME, kind="pre_trends", status="fail" if failed else "pass", detail=detail,
                 blocking=True, values=values)


def _row(e: int, est: float, se: float, alpha: float, scale: str) -> dict:
    lo, hi, _ = wald(est, se, alpha) if math.isfinite(est) else (math.nan, math.nan, 0)
    return {"event_time": int(e), "estimate": to_scale(est, scale), "std_error": se,
            "ci_low": to_scale(lo, scale), "ci_high": to_scale(hi, scale), "scale": scale}


def _table(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS)).sort_values("event_time")
    return frame.reset_index(drop=True)
