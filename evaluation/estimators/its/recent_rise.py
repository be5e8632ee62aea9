"""The blocking recent-rise check of an interrupted time series: picked right after a spike?

A series chosen for a pilot right after a run of attacks falls back afterwards whatever the
intervention does (regression to the mean), and the segmented model, which projects the whole
pre-period forward, reads that fall as an effect. The DiD has the same check
(`did.checks.recent_rise_check`); this is its ITS form, on ITS's own fit path:

- the last defaults.RECENT_RISE_PERIODS[frequency] periods before the start (8 weeks, 56 days,
  2 months) are a placebo post-period, the rest of the pre-period its reference: a placebo start
  at the first of them, fitted on the pre-period rows only (as `checks.placebo_starts`) with the
  registered model, trend, seasonality, covariates and offset; in a controlled ITS the control
  series is stacked as in the primary, so the rise is the treated series' over the control's;
- its p-value comes from the design's inference: the placebo-block test when that is the
  primary's (`auto`, `placebo_blocks`): under shocks that persist for weeks a model-based p-value
  of a level change rejects far too often (the placebo-start check's reason, issue 21), and a
  spike-selected window is exactly such a shock; otherwise the primary's covariance
  (model-based or Newey-West);
- rule: fail when the level change is a rise (rate ratio above 1, difference above 0) with
  p < alpha, p the design's two-sided p-value as in the DiD (so a rise fails at one-sided level
  alpha / 2); a fall before the start is not selection on a spike. The verdict is then withheld
  (code `recent_rise`). Skipped (so nothing is withheld) when the pre-period leaves fewer than
  defaults.MIN_PRE_PERIODS periods before that window (the minimum before a placebo start), or
  too few for the placebo-block test, or when the refit fails. A design that expects such a rise
  registers a pre-period without it (`window.exclude`), whose periods this check then never sees.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.data.periods import period_json
from evaluation.design.its_limits import valid_lengths
from evaluation.estimators.its.checks import block_p, refit
from evaluation.estimators.its.inference import newey_west_lags, wald
from evaluation.estimators.its.segmented import TREATED, CovChoice, ModelSpec
from evaluation.estimators.output import Check
from evaluation.estimators.stats import scale_of, to_scale

NAME = "recent_rise"
# tells the report that the check concerns one series, not a group of areas (check_words)
DESIGN = "its"


def recent_rise_check(frame: pd.DataFrame, *, spec: ModelSpec, t_start: int, choice: CovChoice,
                      blocks: bool, alpha: float, window: int,
                      periods: tuple[Any, ...]) -> Check:
    """Blocking: did the series rise in the last `window` periods before the start?

    `frame`: the rows the primary is fitted on (excluded periods dropped); `choice`: the primary's
    covariance; `blocks`: the primary's inference is the placebo-block test. See the module
    docstring for the rule; it is repeated in the detail text.
    """
    pre = frame.loc[frame["t"] < t_start]
    times = np.sort(pre["t"].unique())
    n_pre, need = len(times), defaults.MIN_PRE_PERIODS
    if n_pre < window + need:
        return _skipped("short_pre_period", window,
                        f"the pre-period has {n_pre} periods, too few to test the last {window} "
                        f"against at least {need} before them")
    if blocks and not valid_lengths(n_pre - window, window):
        return _skipped("short_pre_period", window,
                        f"the {n_pre - window} periods before the last {window} hold too few "
                        f"blocks for the placebo-block test (at least "
                        f"{defaults.ITS_MIN_PLACEBO_BLOCKS} of at least "
                        f"{min(window, defaults.ITS_MIN_BLOCK_LENGTH)} periods)")
    date = int(times[-window])
    label, scale = period_json(periods[date]), scale_of(spec.model)
    how = ("placebo-block test" if blocks else "model-based errors" if choice.kind == "model"
           else f"Newey-West errors ({choice.lags} lags)")
    rows = pre.loc[(pre["group"] == TREATED) & (pre["t"] >= date), "y"]
    if spec.is_count and float(rows.sum()) == 0:
        # no event at all in the window: a fall, never a rise (the refit's level change would be
        # -inf, a boundary the fit cannot reach, and the check would be skipped for nothing)
        values = _values(window, date, label, estimate=0.0, p_value=None, alpha=alpha,
                         how="none", rise=False)
        return Check(name=NAME, kind="recent_rise", status="pass", blocking=True, values=values,
                     detail=f"rule: fail when the series' last {window} periods before the start "
                            f"(from {label}) rise with p < {alpha:g}; it has no events in them: "
                            "no rise")
    fitted = refit(pre, spec=spec, t_start=date, choice=choice)
    if fitted is None:
        return _skipped("not_estimable", window,
                        f"the last {window} periods before the start (from {label}) could not be "
                        "compared with the rest: the pre-period refit failed or did not converge")
    level = wald(fitted, "level_change", alpha=alpha)
    p_value = level.p_value
    if blocks:
        # the refit's own NB2 alpha: the check sees the pre-period only
        nb_alpha = fitted.nb_alpha if spec.model == "negative_binomial" else None
        p_value = block_p(pre, spec=spec, t_start=date, nb_alpha=nb_alpha)
        if p_value is None:
            return _skipped("not_estimable", window,
                            f"the placebo-block test of the last {window} periods before the "
                            f"start (from {label}) could not be computed")
    rise = bool(level.coef > 0 and p_value < alpha)
    estimate = to_scale(level.coef, scale)
    what = "rate ratio" if scale == "rate_ratio" else "difference"
    # ITS check details state their rule first (as placebo_starts and the others do)
    detail = (f"rule: fail when the series' last {window} periods before the start (from "
              f"{label}), a placebo start fitted on the pre-period with the registered model and "
              f"the {how}, are a rise over its earlier pre-period with p < {alpha:g}; {what} "
              f"{estimate:.3g}, p = {p_value:.3g}"
              + ("; a fall after the start may be a return to normal (code recent_rise): "
                 "register a pre-period without these periods (window.exclude) or a later start"
                 if rise else ""))
    values = _values(window, date, label, estimate=estimate, p_value=p_value, alpha=alpha,
                     how="placebo_blocks" if blocks else choice.kind, rise=rise)
    return Check(name=NAME, kind="recent_rise", status="fail" if rise else "pass", detail=detail,
                 blocking=True, values=values)


def registered_choice(requested: str, *, hac_lags: int | None,
                      n_periods: int) -> tuple[bool, CovChoice]:
    """(blocks, covariance) of the check when the primary has no model inference to lend it (no
    event after the start: `its.separation`): the registered inference, chosen as
    `inference.fit_with_inference` chooses it. The calibration-only `ljung_box_switch` starts
    model-based (its switch needs the residuals of a level-change fit, which separation lacks)."""
    if requested == "hac":
        lags = hac_lags if hac_lags is not None else newey_west_lags(n_periods)
        return False, CovChoice("hac", lags)
    if requested in ("model", "ljung_box_switch"):
        return False, CovChoice("model")
    return True, CovChoice("model")


def _values(window: int, date: int, label: Any, *, estimate: float, p_value: float | None,
            alpha: float, how: str, rise: bool) -> dict[str, Any]:
    return {"periods": window, "from_t": date, "from": label, "estimate": estimate,
            "p_value": p_value, "alpha": alpha, "inference": how,
            "code": "recent_rise" if rise else None, "design": DESIGN}


def _skipped(code: str, window: int, detail: str) -> Check:
    return Check(name=NAME, kind="recent_rise", status="skipped", blocking=True, detail=detail,
                 values={"skip_code": code, "periods": window, "design": DESIGN})
