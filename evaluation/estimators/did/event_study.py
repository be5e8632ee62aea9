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

from evaluation import defaults
from evaluation.estimators.did.pretrend_power import trend_power, trend_shift
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
from evaluation.estimators.stats import (
    IRLS_TOL,
    coefficient_covariance,
    demeaner,
    pearson_dispersion,
    to_scale,
    wald,
)

# status: "estimated" | "reference" (0 by construction) | "not_estimable" (no number; `reason`
# says why: no events at that event time, no events in the reference periods, not identified)
EVENT_COLUMNS = ("event_time", "estimate", "std_error", "ci_low", "ci_high", "scale", "status",
                 "reason")
CHECK_NAME = "pre_trends"

PRE_TRENDS_RULE = (
    "Pre-trend check: the event-study coefficients of the periods before the start (the leads) "
    "are tested jointly with a Wald chi-square test. It fails when p < alpha (the design's "
    "analysis.alpha): the treated units already moved differently from the controls before the "
    "start, so the parallel-trends assumption is in doubt and the verdict becomes inconclusive "
    "(blocking). Only estimable leads are tested; it is skipped (cannot be tested) when none "
    "remains. Beside it: its power against a linear trend that would move the estimate by the "
    "minimum reduction, and the relative-magnitudes sensitivity bound on the effect; a pass with "
    "low power is not evidence of parallel trends on its own."
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
    rows = [_row(rec.e, rec.est, rec.se, alpha, "difference",
                 reason=f"not identified at event time {int(rec.e)} (no observations or no "
                        "variation)")
            for rec in events.itertuples()]
    rows.append({"event_time": -1, "estimate": 0.0, "std_error": math.nan, "ci_low": math.nan,
                 "ci_high": math.nan, "scale": "difference", "status": "reference",
                 "reason": "reference period: 0 by construction"})
    lead_times = [int(e) for e in events["e"] if e <= -2]
    table = _table(rows)
    usable = events.loc[(events["e"] <= -2) & events["e"].isin(_estimated(table))]
    groups = [sat.cells.loc[sat.cells["e"] == e] for e in usable["e"]]
    cov = sat.covariance(gradient_matrix(sat, groups))
    check = wald_check(usable["e"].astype(int).tolist(), usable["est"].to_numpy(dtype=float), cov,
                       lead_times=lead_times, errors=sat.errors, data=data,
                       reference="relative to e = -1", reference_e=-1.0,
                       not_estimable=_reasons(table, lead_times))
    return table, check


# --- counts: imputation ---------------------------------------------------------------------------
def _imputation_event_study(data: PreparedData) -> tuple[pd.DataFrame, Check]:
    from evaluation.estimators.did.imputation import fit_imputation

    alpha = data.spec.alpha
    lo, hi = data.spec.event_window
    leads, cov, errors, lead_times = _lead_fit(data, lo)
    rows = [_row(e, est, se, alpha, "rate_ratio", reason=why)
            for e, est, se, why in zip(leads["e"], leads["est"], leads["se"], leads["reason"],
                                       strict=True)]
    post = fit_imputation(data, control_group=data.spec.control_group)
    effects = post.aggregations["imputation"]
    for e in range(0, hi + 1):
        key = f"imp_event_{e}" if e < hi else f"imp_event_{e}+"
        if key in effects:
            label = f"{e}" if e < hi else f"{e} and later"
            estimate = effects[key]["estimate"]
            why = (f"no events in the treated units at event time {label}: a rate ratio of 0 is "
                   "a boundary, not an estimate" if estimate == -math.inf
                   else f"the imputed counterfactual is 0 at event time {label} (no comparison "
                        "events): no rate ratio exists" if math.isnan(estimate)
                   else f"no standard error at event time {label}")
            rows.append(_row(e, effects[key]["estimate"], effects[key]["std_error"], alpha,
                             "rate_ratio", reason=why))
    table = _table(rows)
    keep = leads.index[leads["e"].isin(_estimated(table))].to_numpy()
    ref_e = _mean_event_time(data, lambda e, d: (d == 0) & (e < lo))
    check = wald_check(leads.loc[keep, "e"].astype(int).tolist(),
                       leads.loc[keep, "est"].to_numpy(dtype=float),
                       cov[np.ix_(keep, keep)] if len(keep) else np.zeros((0, 0)),
                       lead_times=lead_times, errors=errors, data=data,
                       reference=f"relative to the untreated periods before e = {lo}",
                       reference_e=ref_e, not_estimable=_reasons(table, lead_times))
    return table, check


def _lead_fit(data: PreparedData, lo: int) -> tuple[pd.DataFrame, np.ndarray, str, list[int]]:
    """Poisson fit on untreated observations with one dummy per lead of the treated units.

    Returns the leads (e, est, se, reason; est NaN and a reason for a lead that is not
    estimable), the covariance of the estimable leads (aligned with the leads frame's rows; zero
    rows for the others), the error description and every lead the window asks for that has data.
    Not estimable: a lead without any event in the treated units (separation: its ML rate ratio
    is 0), every lead when the treated units have no event in the reference periods before lo
    (their level is then fixed by the leads themselves), and a coefficient the fit cannot pin
    down (standard error above defaults.EVENT_STUDY_MAX_LOG_SE).
    """
    rows = data.estimation_rows
    frame = model_frame(rows).rename(columns={"treated_unit": "treated"})
    frame["e"] = frame["t"] - frame["cohort"]
    frame = frame.loc[frame["d"] == 0].copy()
    in_lead = frame["treated"] & (frame["e"] >= lo) & (frame["e"] <= -1)
    reference_events = float(frame.loc[frame["treated"] & (frame["e"] < lo), "y"].sum())
    frame.loc[~in_lead, "e"] = 0
    lead_times = sorted(int(e) for e in frame.loc[in_lead, "e"].unique())
    events = frame.loc[in_lead].groupby("e")["y"].sum()
    reasons = {e: f"no events in the treated units at event time {e}" for e in lead_times
               if events.get(e, 0) <= 0}
    if reference_events <= 0:
        reasons.update({e: f"no events in the treated units in the reference periods before "
                           f"event time {lo}: their level, and so this lead, is not identified"
                        for e in lead_times if e not in reasons})
    estimable = [e for e in lead_times if e not in reasons]
    fit_rows = frame.loc[~(in_lead & ~frame["e"].isin(estimable))].copy()
    for key in ("unit", "t"):  # no event at all: zero ML rate, outside the Poisson fit
        fit_rows = fit_rows.loc[fit_rows.groupby(key)["y"].transform("sum") > 0]
    names = {e: f"lead_{-e}" for e in estimable}
    for e, name in names.items():
        fit_rows[name] = (fit_rows["e"] == e).astype(float)
    vcov_arg, errors, scale_dispersion = error_choice(data, fit_rows)
    out = pd.DataFrame({"e": lead_times, "est": np.nan, "se": np.nan,
                        "reason": [reasons.get(e, "") for e in lead_times]})
    cov = np.zeros((len(lead_times), len(lead_times)))
    if not estimable:
        return out, cov, errors, lead_times
    ssc = pf.ssc(k_adj=False, G_adj=False) if vcov_arg == "iid" else None
    with recorded(expected=(SEPARATION,)):
        fit = pf.fepois(f"y ~ {' + '.join(names.values())} | unit + t", data=fit_rows,
                        offset="log_exposure", vcov=vcov_arg, fixef_rm="none",
                        iwls_tol=IRLS_TOL, ssc=ssc, demeaner=demeaner())
    coef = fit.coef()
    present = [n for n in names.values() if n in coef.index]
    vcov = pd.DataFrame(coefficient_covariance(fit, present), index=present, columns=present)
    if scale_dispersion:
        mu = np.asarray(fit.predict(type="response"), dtype=float)
        k = len(coef) + fit_rows["unit"].nunique() + fit_rows["t"].nunique() - 1
        phi = pearson_dispersion(fit_rows["y"].to_numpy(), mu, k)
        vcov = vcov * phi
        errors += f"; scaled by the Pearson dispersion {phi:.3g}"
    position = {e: i for i, e in enumerate(lead_times)}
    fitted = []
    for e, name in names.items():
        se = math.sqrt(vcov.loc[name, name]) if name in coef.index else math.nan
        if name in coef.index and np.isfinite(coef[name]) and se <= defaults.EVENT_STUDY_MAX_LOG_SE:
            out.loc[position[e], ["est", "se"]] = [coef[name], se]
            fitted.append(e)
        else:
            out.loc[position[e], "reason"] = (f"not identified by the data at event time {e} "
                                              f"(standard error {se:.3g} on the log scale)")
    idx = [position[e] for e in fitted]
    cov[np.ix_(idx, idx)] = vcov.loc[[names[e] for e in fitted], [names[e] for e in fitted]]
    return out, cov, errors, lead_times


# --- shared ----------------------------------------------------------------------------------------
def wald_check(tested: list[int], estimates: np.ndarray, cov: np.ndarray, *, lead_times: list[int],
               errors: str, data: PreparedData, reference: str, reference_e: float = math.nan,
               not_estimable: dict[str, str] | None = None) -> Check:
    """Joint Wald test of the estimable leads (see PRE_TRENDS_RULE), with its power against a
    trend that would matter (`did.pretrend_power`). `reason_code` of a skipped check: no_leads,
    no_estimable_leads or singular_covariance."""
    alpha = data.spec.alpha
    values: dict = {"leads": lead_times, "leads_tested": tested, "alpha": alpha, "errors": errors,
                    "lead_estimates": {str(e): float(x) for e, x in zip(tested, estimates,
                                                                           strict=True)},
                    "not_estimable": dict(not_estimable or {})}
    if not tested:
        code = "no_leads" if not lead_times else "no_estimable_leads"
        reason = ("no period before the start besides the reference period" if not lead_times
                  else "no lead can be estimated (see not_estimable)")
        values["reason_code"] = code
        return Check(name=CHECK_NAME, kind="pre_trends", status="skipped", blocking=True, values=values,
                     detail=f"Pre-trends cannot be tested: {reason}. {PRE_TRENDS_RULE}")
    rank = int(np.linalg.matrix_rank(cov))
    wald = float(estimates @ np.linalg.pinv(cov) @ estimates)
    p_value = float(stats.chi2.sf(wald, rank)) if rank > 0 else math.nan
    values.update({"wald": wald, "df": rank, "p_value": p_value})
    if not math.isfinite(p_value):
        values["reason_code"] = "singular_covariance"
        return Check(name=CHECK_NAME, kind="pre_trends", status="skipped", blocking=True, values=values,
                     detail=f"Pre-trends cannot be tested: the leads' covariance is singular. {PRE_TRENDS_RULE}")
    values["power"] = _power(tested, cov, data=data, reference_e=reference_e)
    failed = p_value < alpha
    verdict = ("fail: the treated units already differed in trend before the start"
               if failed else "pass: no evidence of different trends before the start")
    power = values["power"].get("power")
    power_text = (f" Power against a linear trend that would move the estimate by the minimum "
                  f"reduction: {power:.2f}." if power is not None else "")
    skipped_leads = f" Not estimable: e = {', '.join(map(str, not_estimable))}." \
        if not_estimable else ""
    detail = (f"Joint Wald test of {len(tested)} lead(s) (e = {', '.join(map(str, tested))}, "
              f"{reference}): chi2({rank}) = {wald:.3g}, p = {p_value:.3g} vs alpha = {alpha:g} "
              f"-> {verdict}. Errors: {errors}. Rule: fails when p < alpha.{power_text}"
              f"{skipped_leads}")
    return Check(name=CHECK_NAME, kind="pre_trends", status="fail" if failed else "pass", detail=detail,
                 blocking=True, values=values)


def _power(tested: list[int], cov: np.ndarray, *, data: PreparedData,
           reference_e: float) -> dict:
    count = is_count_model(data)
    pre_y = data.estimation_rows.loc[data.estimation_rows["treated_unit"]
                                     & (data.estimation_rows["d"] == 0), "y"]
    shift = trend_shift(count=count, min_reduction=data.design.decision.min_reduction,
                        pre_mean=float(pre_y.mean()) if len(pre_y) else math.nan)
    return trend_power(tested, cov, reference_e=reference_e,
                       post_mean_e=_mean_event_time(data, lambda e, d: d == 1),
                       pre_mean_e=_mean_event_time(data, lambda e, d: d == 0),
                       shift=shift, alpha=data.spec.alpha)


def _mean_event_time(data: PreparedData, select) -> float:
    """Mean event time e = t - cohort of the treated rows `select(e, d)` picks (NaN if none)."""
    rows = data.estimation_rows.loc[data.estimation_rows["treated_unit"]]
    e = (rows["t"] - rows["cohort"]).to_numpy(dtype=float)
    picked = e[select(e, rows["d"].to_numpy())]
    return float(picked.mean()) if len(picked) else math.nan


def _row(e: int, est: float, se: float, alpha: float, scale: str, *, reason: str = "") -> dict:
    """One event-time row; a term without a finite estimate and standard error has no number,
    status not_estimable and its reason."""
    if not (math.isfinite(est) and math.isfinite(se)):
        return {"event_time": int(e), "estimate": math.nan, "std_error": math.nan,
                "ci_low": math.nan, "ci_high": math.nan, "scale": scale,
                "status": "not_estimable", "reason": reason or "not estimable"}
    lo, hi, _ = wald(est, se, alpha)
    return {"event_time": int(e), "estimate": to_scale(est, scale), "std_error": se,
            "ci_low": to_scale(lo, scale), "ci_high": to_scale(hi, scale), "scale": scale,
            "status": "estimated", "reason": ""}


def _estimated(table: pd.DataFrame) -> set[int]:
    return set(table.loc[table["status"] == "estimated", "event_time"].astype(int))


def _reasons(table: pd.DataFrame, event_times: list[int]) -> dict[str, str]:
    rows = table.loc[(table["status"] == "not_estimable") & table["event_time"].isin(event_times)]
    return {str(int(e)): str(r) for e, r in zip(rows["event_time"], rows["reason"], strict=True)}


def _table(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS)).sort_values("event_time")
    return frame.reset_index(drop=True)
