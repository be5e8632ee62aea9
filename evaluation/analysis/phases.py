"""`treatment.end`: the intervention period, the period after it, and which one the verdict is about.

With an end registered, the window after the start has two parts: `during` (start .. end, the
intervention period) and `after` (after the end: does a reduction last?). `analysis.estimand`
says which one the primary estimate and the verdict concern (default `during`; `both`: the whole
window after the start, as without an end). The other part is estimated too, with the same
estimator and inference, and shown beside the verdict (`phase_estimates`); it never changes it.

How the rows are chosen (the panel keeps every row; only the `excluded` flag changes, so the
estimators need nothing new):
- during: a treated unit's rows after its own end are left out; with one end for all units, every
  period after it is left out (a plain shorter window);
- after: a treated unit's rows from its start to its end are left out (with one start and one end:
  those whole periods, like a registered transition period), and its first treated period becomes
  the period after its end. A treated unit without an end has no after period; its treated rows
  are left out.
Columns added by `analysis.prepare`: start_t (the first treated period), end_t (the last period of
the intervention; -1 without an end) and window_excluded (window.exclude).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evaluation.errors import EvaluationError
from evaluation.estimators.did.primary import fit_primary as did_primary
from evaluation.estimators.its import fit_primary as its_primary
from evaluation.estimators.output import tidy_frame, tidy_row
from evaluation.estimators.prepared import PreparedData
from evaluation.estimators.stats import scale_of, to_scale
from evaluation.files import frame_sha256

PHASES = ("during", "after")


def has_end(data: PreparedData) -> bool:
    panel = data.panel
    return "end_t" in panel and bool((panel.loc[panel["treated_unit"], "end_t"] >= 0).any())


def with_phase(data: PreparedData, phase: str) -> PreparedData | None:
    """The prepared data restricted to `phase` (during | after | both); None when the window
    holds no period of that phase (no end registered, or no period after it)."""
    if phase == "both" or not has_end(data):
        return data if phase in ("both", "during") else None
    panel = data.panel
    treated, start, end, t = (panel[c].to_numpy() for c in ("treated_unit", "start_t", "end_t", "t"))
    ended = treated & (end >= 0)
    after = ended & (t > end)
    during = treated & (t >= start) & ~after
    single = len(set(start[treated])) == 1 and len(set(end[treated])) == 1 and ended[treated].all()
    if phase == "during":
        drop = after | (t > end[treated].max()) if single else after
        cohort = start
    else:
        if not after.any():
            return None
        drop = ((t >= start[treated].min()) & (t <= end[treated].max())) if single else \
            during | (treated & ~ended & (t >= start))
        cohort = np.where(ended, end + 1, start)
    cohort = np.where(treated, cohort, -1)
    out = panel.assign(excluded=panel["window_excluded"].to_numpy() | drop, cohort=cohort,
                       post=treated & (t >= cohort))
    out["d"] = out["post"].astype(int)
    return PreparedData(**{**data.__dict__, "panel": out, "data_sha256": frame_sha256(out)})


def phase_estimates(data: PreparedData) -> dict[str, Any] | None:
    """The estimate of every phase the verdict is not about, with its interval (None without
    treatment.end). The registered phase is recorded beside them."""
    estimand = data.spec.estimand
    if not has_end(data):
        return None
    others = [p for p in PHASES if p != estimand]
    out: dict[str, Any] = {"estimand": estimand}
    for phase in others:
        part = with_phase(data, phase)
        out[phase] = _summary(part, phase) if part is not None else \
            {"estimable": False, "reason": f"the window holds no period {phase} the intervention"}
    return out


def with_phase_rows(estimates: pd.DataFrame, phases: dict[str, Any] | None,
                    primary: dict[str, Any]) -> pd.DataFrame:
    """The tidy estimates with a row per phase the verdict is not about (`effect_after`, ...)."""
    rows = phase_rows(phases, method=str(primary.get("method", "")))
    if not rows:
        return estimates
    return tidy_frame([*estimates.to_dict("records"), *rows])


def phase_rows(phases: dict[str, Any] | None, *, method: str) -> list[dict[str, Any]]:
    """Tidy estimate rows (`effect_during` / `effect_after`) for estimates.csv and the report."""
    rows = []
    for phase in PHASES:
        part = (phases or {}).get(phase)
        if part is None:
            continue
        rows.append(tidy_row(f"effect_{phase}", part.get("estimate", math.nan), None,
                             part.get("ci_low", math.nan), part.get("ci_high", math.nan),
                             part.get("p_value"), method=method, scale=part.get("scale", ""),
                             reason=part.get("reason", "")))
    return rows


def _summary(data: PreparedData, phase: str) -> dict[str, Any]:
    scale = scale_of(data.spec.model)
    rows = data.estimation_rows
    periods = rows.loc[rows["d"] == 1, "t"]
    span = {"first_t": int(periods.min()), "last_t": int(periods.max()),
            "n_periods": int(periods.nunique()), "scale": scale}
    try:
        if data.design.design == "its":
            fit = its_primary(data)
            beta, low, high, p = fit.level.coef, fit.level.low, fit.level.high, fit.level.p_value
        else:
            fit = did_primary(data)
            s = fit.summary
            beta, low, high, p = s["beta"], s["ci_low"], s["ci_high"], s["p_value"]
    except EvaluationError as exc:
        return {**span, "estimable": False, "reason": str(exc).split(";")[0]}
    estimable = math.isfinite(beta)
    return {**span, "estimable": estimable,
            "estimate": to_scale(beta, scale) if estimable else math.nan,
            "ci_low": to_scale(low, scale), "ci_high": to_scale(high, scale), "p_value": p,
            "reason": "" if estimable else (
                "no events in the treated units before the start" if beta > 0 else
                f"no events in the treated units {phase} the intervention")}
