"""Callaway & Sant'Anna (2021) group-time effects for linear outcomes, via the `csdid` package.

ATT(g, t) for every cohort g (first treated period) and period t, each from a 2x2 comparison of
cohort g with never-treated units (`never_treated`) or with units not yet treated at t
(`not_yet_treated`), doubly robust (`est_method="dr"`; without covariates identical to the
outcome-regression and IPW forms), varying base period. Standard errors are the analytic
influence-function ones (R `did` with bstrap=FALSE), which are clustered by unit by
construction. The primary estimate is the `simple` aggregation (average of post-treatment
ATT(g, t) weighted by cohort size); `group`, `dynamic` and `calendar` aggregations are reported
beside it. Count outcomes are not supported: use the imputation or Sun-Abraham estimator.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import AnalysisError
from evaluation.estimators.did.staggered_common import (
    StaggeredFit,
    is_count_model,
    make_fit,
    period_label,
    scaled_row,
)
from evaluation.estimators.fit_warnings import recorded
from evaluation.estimators.prepared import PreparedData
from evaluation.notes import Note, note

AGGREGATIONS = ("simple", "group", "dynamic", "calendar")
CSDID_CONTROL = {"never_treated": "nevertreated", "not_yet_treated": "notyettreated"}


def fit_callaway_santanna(data: PreparedData, *, control_group: str) -> StaggeredFit:
    if is_count_model(data):
        raise AnalysisError(
            f"design {data.design.id}: analysis.estimator: callaway_santanna is for model: linear; "
            "for counts use estimator: imputation or sun_abraham")
    frame, notes = _frame(data)
    if control_group == "never_treated" and not (frame["g"] == 0).any():
        raise AnalysisError(f"design {data.design.id}: analysis.control_group: never_treated, but "
                            "every unit is treated; use not_yet_treated or add control units")
    model = _att_gt(frame, data, control_group=control_group)
    att_gt = pd.DataFrame({"g": model.results["group"], "t": model.results["year"],
                           "att": model.results["att"], "se": model.results["se"]})
    aggregations: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    alpha = data.spec.alpha
    simple = (np.nan, np.nan)
    for kind in AGGREGATIONS:
        agg = _aggregate(model, kind)
        est, se = float(agg["overall_att"]), float(agg["overall_se"])
        if kind == "simple":
            simple = (est, se)
        else:
            rows.append(scaled_row(f"cs_{kind}", est, se, alpha, method=f"Callaway-Sant'Anna {kind}",
                                   scale="difference"))
        detail = _detail(agg, kind, data)
        aggregations[f"cs_{kind}"] = {"estimate": est, "std_error": se, "detail": detail}
    rows.insert(0, scaled_row("cs_simple", *simple, alpha, method="Callaway-Sant'Anna simple",
                              scale="difference"))
    for rec in att_gt.itertuples(index=False):
        term = f"att_gt_{period_label(data, rec.g - 1)}_{period_label(data, rec.t - 1)}"
        rows.append(scaled_row(term, float(rec.att), float(rec.se), alpha,
                               method="Callaway-Sant'Anna ATT(g,t)", scale="difference"))
    aggregations["pretest"] = {"wald": model.MP.get("W"), "p_value": model.MP.get("Wpval")}
    return make_fit(
        data, estimator="callaway_santanna", control_group=control_group, estimate=simple[0],
        std_error=simple[1], method=_method(control_group),
        inference=("analytic influence-function errors (clustered by unit), as R `did` with "
                   "bstrap=FALSE"),
        extra_rows=rows, aggregations=aggregations, notes=tuple(notes))


def _frame(data: PreparedData) -> tuple[pd.DataFrame, list[str]]:
    """csdid's columns: numeric id, time (t + 1) and group (cohort + 1; 0 = never treated)."""
    rows = data.estimation_rows
    codes, _ = pd.factorize(rows["unit"].astype(str), sort=True)
    frame = pd.DataFrame({
        "id": codes + 1,
        "time": rows["t"].to_numpy(dtype=int) + 1,
        "y": rows["y"].to_numpy(dtype=float),
        "g": np.where(rows["cohort"].to_numpy() >= 0, rows["cohort"].to_numpy() + 1, 0),
    })
    notes: list[Note] = []
    for cov in data.covariates:
        frame[cov] = rows[cov].to_numpy(dtype=float)
    if data.covariates:
        notes.append(note("cs_covariates_base_period"))
    if not data.repeated_cross_section:
        per_unit = frame.groupby("id").size()
        if per_unit.nunique() > 1:
            notes.append(note("unbalanced_panel", n=int((per_unit < per_unit.max()).sum())))
    return frame, notes


def _att_gt(frame: pd.DataFrame, data: PreparedData, *, control_group: str) -> Any:
    from csdid.att_gt import ATTgt

    balanced = data.repeated_cross_section or frame.groupby("id").size().nunique() == 1
    xformla = "y ~ " + " + ".join(data.covariates) if data.covariates else None
    # csdid prints summaries and warns about R-style details; keep the CLI output clean.
    with contextlib.redirect_stdout(io.StringIO()), recorded():
        try:
            model = ATTgt(yname="y", tname="time", idname="id", gname="g", data=frame,
                          control_group=CSDID_CONTROL[control_group], xformla=xformla,
                          panel=not data.repeated_cross_section,
                          allow_unbalanced_panel=not balanced, alp=data.spec.alpha)
            return model.fit(est_method="dr", base_period="varying", bstrap=False)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise AnalysisError(f"design {data.design.id}: Callaway-Sant'Anna could not be "
                                f"estimated ({exc}); check the cohorts and control units") from None


def _aggregate(model: Any, kind: str) -> dict[str, Any]:
    with contextlib.redirect_stdout(io.StringIO()), recorded():
        model.aggte(typec=kind, bstrap=False)
    return model.atte


def _detail(agg: dict[str, Any], kind: str, data: PreparedData) -> list[dict[str, Any]]:
    """Per-cohort / event-time / period components of an aggregation."""
    if kind == "simple" or agg.get("egt") is None:
        return []
    out = []
    for key, est, se in zip(np.asarray(agg["egt"]).tolist(), np.asarray(agg["att_egt"]).tolist(),
                            np.asarray(agg["se_egt"]).ravel().tolist(), strict=True):
        label = int(key) if kind == "dynamic" else period_label(data, int(key) - 1)
        out.append({"key": label, "estimate": est, "std_error": se})
    return out


def _method(control_group: str) -> str:
    controls = "never-treated units" if control_group == "never_treated" else "not-yet-treated units"
    return (f"Callaway-Sant'Anna (doubly robust, {controls} as controls), simple average of "
            "post-treatment ATT(g,t)")
