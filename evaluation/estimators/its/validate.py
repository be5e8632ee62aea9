"""Input checks for an interrupted time series: one-line errors naming the field and the rows."""

from __future__ import annotations

import pandas as pd

from evaluation import defaults
from evaluation.data.periods import period_json
from evaluation.errors import AnalysisError, DesignError, format_rows
from evaluation.estimators.its.segmented import TREATED
from evaluation.estimators.prepared import PreparedData

ITS_INFERENCE = ("auto", "model", "hac", "placebo_blocks")


def _where(rows: pd.DataFrame, periods: tuple) -> str:
    return format_rows(f"{u} {period_json(periods[int(t)])}" for u, t in zip(rows["unit"], rows["t"], strict=True))


def check_design(data: PreparedData) -> None:
    design = data.design
    if design.design != "its":
        raise AnalysisError(f"design: `{design.design}`; estimate_its runs ITS designs only (design: its)")
    if data.repeated_cross_section:
        raise DesignError("data.layout: repeated_cross_section is for did; an ITS needs one count "
                          "per unit and period (layout: panel)")
    if design.analysis.inference not in ITS_INFERENCE:
        raise DesignError(f"analysis.inference: `{design.analysis.inference}` is for did; an ITS uses "
                          f"{', '.join(ITS_INFERENCE)}")


def check_panel(data: PreparedData) -> None:
    """Outcome, exposure and covariates present and usable in every row of the series' units."""
    d = data.design.data
    panel = data.panel.loc[data.panel["unit"].isin((*data.treated_units, *data.control_units))]
    counts = panel.groupby("unit")["t"].nunique().reindex(
        [*data.treated_units, *data.control_units], fill_value=0)
    short = counts[counts < data.n_periods]
    if len(short):
        # a unit without a row for some period would silently lower its group's sum there
        raise AnalysisError(f"data: unit(s) {format_rows(short.index)} lack rows for some of the "
                            f"{data.n_periods} periods of the window (they have "
                            f"{format_rows(short.to_list())}); give every unit a row per period "
                            "(0 = no events)")
    missing = panel.loc[panel["y"].isna()]
    if len(missing):
        raise AnalysisError(f"data.outcome: `{d.outcome}` is missing in {len(missing)} unit-period(s) "
                            f"({_where(missing, data.periods)}); fill them (0 = no events) or "
                            "exclude those periods with window.exclude")
    if data.spec.model != "linear" and (panel["y"] < 0).any():
        bad = panel.loc[panel["y"] < 0]
        raise AnalysisError(f"data.outcome: `{d.outcome}` is negative in {len(bad)} unit-period(s) "
                            f"({_where(bad, data.periods)}); a count model needs counts >= 0")
    if data.has_exposure:
        bad = panel.loc[~(panel["exposure"] > 0)]  # also catches NaN
        if len(bad):
            raise AnalysisError(
                f"data.exposure: `{d.exposure}` is zero or missing in {len(bad)} unit-period(s) "
                f"({_where(bad, data.periods)}); the log(exposure) offset needs a positive exposure "
                "in every period: fix the data or drop data.exposure")
    for name in data.covariates:
        bad = panel.loc[panel[name].isna()]
        if len(bad):
            raise AnalysisError(f"data.covariates: `{name}` is missing in {len(bad)} unit-period(s) "
                                f"({_where(bad, data.periods)}); fill it or drop the covariate")


def start_period(data: PreparedData) -> int:
    """t of the (single) first treated period of the treated series."""
    panel = data.panel
    cohorts = sorted(int(c) for c in panel.loc[panel["unit"].isin(data.treated_units), "cohort"].unique())
    window = data.design.window
    start = data.design.treatment.start
    if len(cohorts) > 1:
        raise DesignError(f"treatment.start: the treated units start in different periods (t = "
                          f"{format_rows(cohorts)}); an ITS sums them into one series with one start: "
                          "give one start for all units, or use design: did")
    if not cohorts or cohorts[0] <= 0 or cohorts[0] >= data.n_periods:
        raise DesignError(f"treatment.start: {start} lies outside the window ({window.start} .. "
                          f"{window.end}); the window must include pre-periods and the start")
    return cohorts[0]


def check_series(data: PreparedData, frame: pd.DataFrame, t_start: int, *,
                 separation: bool = False) -> None:
    """Enough observed pre-periods, an observed start, and events before and after it
    (`separation`: no event after the start in the treated series is answered, not refused;
    `its.separation`)."""
    window = data.design.window
    start_label = period_json(data.periods[t_start])
    treated = frame.loc[frame["group"] == TREATED]
    if bool(treated.loc[treated["t"] == t_start, "excluded"].any()):
        ex = window.exclude
        raise DesignError(f"window.exclude: {ex.start} .. {ex.end} covers treatment.start "
                          f"{start_label}; the level change is measured at the start, so the start "
                          "must be observed: end the exclusion before the start, or move "
                          "treatment.start to the first period after the exclusion")
    used = frame.loc[~frame["excluded"]]
    n_pre = int((treated.loc[~treated["excluded"], "t"] < t_start).sum())
    if n_pre < defaults.MIN_PRE_PERIODS:
        raise AnalysisError(f"window.start: only {n_pre} observed pre-period(s) before treatment.start "
                            f"{start_label}; an ITS needs at least {defaults.MIN_PRE_PERIODS}: move "
                            "window.start earlier or shorten window.exclude")
    outcome = data.design.data.outcome
    for group, rows in used.groupby("group", sort=False):
        units = data.treated_units if group == TREATED else data.control_units
        for part, mask in (("pre", rows["t"] < t_start), ("post", rows["t"] >= t_start)):
            if separation and group == TREATED and part == "post":
                continue
            if (rows.loc[mask, "y"] == 0).all():
                whole = "every period" if (rows["y"] == 0).all() else f"every {part}-period"
                raise AnalysisError(
                    f"data.outcome: `{outcome}` is 0 in {whole} of the {group} series (units "
                    f"{format_rows(units)}); a rate ratio cannot be estimated from it: check "
                    "data.outcome, data.target_types and the units, or lengthen the window")
