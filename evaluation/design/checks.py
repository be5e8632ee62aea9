"""Checks of a valid design against its data, before it is registered (`evaluation design check`).

The design model (`evaluation.design`) checks everything that can be checked without data; this
module checks what needs the data: do the units exist, are there controls, enough pre-periods,
are the dates inside the data, is the exposure there. It is a pure function of the design and a
source frame (columns unit, period, y, [exposure], [covariates], [start]) so it can be tested on
synthetic frames without a store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from evaluation import defaults
from evaluation.design.its_limits import block_length, placebo_block_count, valid_lengths
from evaluation.design.model import Design
from evaluation.errors import format_rows


@dataclass(frozen=True)
class Problem:
    level: Literal["error", "warning"]
    field: str  # design field path, e.g. "treatment.units"
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.field}: {self.message}"


def _key(value: Any) -> Any:
    """Period numbers as float, dates as Timestamp: design values and frame labels compare."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value)
    return pd.Timestamp(value)


def _label(value: Any) -> str:
    key = _key(value)
    if isinstance(key, float):
        return str(int(key)) if key.is_integer() else str(key)
    return key.date().isoformat()


def period_floor(value: Any, frequency: str) -> Any:
    """The first day of the period holding a date (ISO weeks start on Monday); numbers unchanged."""
    key = _key(value)
    if isinstance(key, float):
        return key
    day = key.normalize()
    if frequency == "week":
        return day - pd.Timedelta(days=day.weekday())
    if frequency == "month":
        return day.replace(day=1)
    if frequency == "quarter":
        return day.replace(day=1, month=3 * ((day.month - 1) // 3) + 1)
    if frequency == "year":
        return day.replace(day=1, month=1)
    return day


def check_design_against_data(design: Design, frame: pd.DataFrame, *, cutoff: Any,
                              diagnosis: Mapping[str, Any] | None = None) -> list[Problem]:
    """Every problem of `design` on `frame`, errors first in field order; [] when it fits.

    `cutoff` is the last period present in the source (a date or a period number). `diagnosis`
    is the optional result of `evaluation diagnose` with the key `minimum_detectable_reduction`
    (a fraction, e.g. 0.25); when it exceeds `decision.min_reduction` a warning says the design
    cannot detect the effect it is meant to decide on.
    """
    problems: list[Problem] = [
        Problem("error", name, "still the template's TODO text; say what it is before registering")
        for name in ("title", "owner", "hypothesis")
        if any(text.strip().startswith("TODO") for text in _texts(getattr(design, name)))
    ]
    if frame.empty:
        return [*problems, Problem("error", "data.source", "the data source holds no rows in the design window")]
    units = set(frame["unit"].astype(str))
    periods = sorted({_key(p) for p in frame["period"]})
    treated, starts = _treated_units(design, frame, problems)

    missing = sorted(set(treated) - units)
    if missing:
        problems.append(Problem("error", "treatment.units",
                                f"unit(s) {format_rows(missing)} are not in the data; check the codes "
                                f"(the data have {len(units)} units, e.g. {', '.join(sorted(units)[:3])})"))
    _check_controls(design, treated, units, problems)
    if starts:
        _check_periods(design, periods, starts, cutoff, problems)
    _check_columns(design, frame, set(treated), problems)
    if design.design == "its" and starts and not problems_block(problems):
        problems.extend(its_problems(design, frame, treated, starts))
    if diagnosis is not None:
        _check_diagnosis(design, diagnosis, problems)
    return sorted(problems, key=lambda p: p.level != "error")


def _treated_units(design: Design, frame: pd.DataFrame,
                   problems: list[Problem]) -> tuple[list[str], list[Any]]:
    """Treated units and their starts (from the design, or from the panel's start column)."""
    tr = design.treatment
    if tr.start is not None:
        return list(tr.units), [tr.start_of(u) for u in tr.units]
    if "start" not in frame.columns:
        problems.append(Problem("error", "treatment.start_column",
                                f"column `{tr.start_column}` is not in the panel file; check its name"))
        return list(tr.units), []
    marked = frame.loc[frame["start"].notna(), ["unit", "start"]].drop_duplicates("unit")
    starts = dict(zip(marked["unit"].astype(str), marked["start"], strict=True))
    if tr.units:
        unmarked = sorted(set(tr.units) - set(starts))
        if unmarked:
            problems.append(Problem("error", "treatment.units",
                                    f"unit(s) {format_rows(unmarked)} have no value in start column "
                                    f"`{tr.start_column}`; fill it in or remove them from treatment.units"))
        starts = {u: s for u, s in starts.items() if u in tr.units}
    if not starts:
        problems.append(Problem("error", "treatment.start_column",
                                f"`{tr.start_column}` marks no unit as treated; check the column"))
    return sorted(starts), list(starts.values())


def _check_controls(design: Design, treated: list[str], units: set[str], problems: list[Problem]) -> None:
    listed = design.control_units
    if listed is not None:
        absent = sorted(set(listed) - units)
        if absent:
            problems.append(Problem("error", "controls",
                                    f"unit(s) {format_rows(absent)} are not in the data; check the codes"))
        both = sorted(set(listed) & set(treated))
        if both:
            problems.append(Problem("error", "controls",
                                    f"unit(s) {format_rows(both)} are also treated; a unit is either treated or control"))
        if not (set(listed) & units) - set(treated):
            problems.append(Problem("error", "controls", "no listed control unit is in the data"))
    elif design.controls == "untreated" and not units - set(treated):
        problems.append(Problem("error", "controls",
                                "`untreated`: every unit in the data is treated, no comparison is possible; "
                                "add untreated units to the data or use design: its"))


def _check_periods(design: Design, periods: list[Any], starts: list[Any], cutoff: Any,
                   problems: list[Problem]) -> None:
    first_data, last_data = periods[0], _key(cutoff)
    window_start = _key(design.window.start)
    if window_start > last_data:
        problems.append(Problem("error", "window.start",
                                f"{_label(design.window.start)} lies after the last data ({_label(cutoff)}); "
                                "there are no pre-periods yet"))
        return
    if window_start < first_data:
        problems.append(Problem("warning", "window.start",
                                f"{_label(design.window.start)} lies before the first period with data "
                                f"({_label(first_data)}); the analysis starts there"))
    first = min(starts, key=_key)
    frequency = design.data.frequency
    start_period = period_floor(first, frequency)
    window_period = period_floor(design.window.start, frequency)
    excluded = _excluded_periods(design, periods)
    n_pre = sum(1 for p in periods if window_period <= p < start_period and p not in excluded)
    where = f"with data between window.start {_label(design.window.start)} and treatment.start {_label(first)}"
    if n_pre < defaults.MIN_PRE_PERIODS:
        problems.append(Problem("error", "window.start",
                                f"only {n_pre} pre-period(s) {where}; at least "
                                f"{defaults.MIN_PRE_PERIODS} are needed: move window.start earlier"))
    elif n_pre < defaults.WARN_PRE_PERIODS:
        problems.append(Problem("warning", "window.start",
                                f"only {n_pre} pre-periods {where}; fewer than {defaults.WARN_PRE_PERIODS} "
                                "make the pre-trend and seasonality poorly estimated"))


def _excluded_periods(design: Design, periods: list[Any]) -> set[Any]:
    ex = design.window.exclude
    if ex is None:
        return set()
    lo = period_floor(ex.start, design.data.frequency)
    return {p for p in periods if lo <= p <= _key(ex.end)}


def _check_columns(design: Design, frame: pd.DataFrame, treated: set[str], problems: list[Problem]) -> None:
    spec = design.data
    used = frame
    if design.control_units is not None:
        used = frame.loc[frame["unit"].isin(treated | set(design.control_units))]
    elif design.design == "its":
        used = frame.loc[frame["unit"].isin(treated)]
    if spec.exposure is not None:
        if "exposure" not in frame.columns:
            problems.append(Problem("error", "data.exposure",
                                    f"`{spec.exposure}` is not in the data; check the name or leave exposure out"))
        else:
            bad = used.loc[~(pd.to_numeric(used["exposure"], errors="coerce") > 0)]
            if len(bad):
                rows = (bad["unit"].astype(str) + " " + bad["period"].map(_label)).tolist()
                problems.append(Problem("error", "data.exposure",
                                        f"`{spec.exposure}` is missing or not positive for {format_rows(rows)}; "
                                        "fix the exposure values"))
    absent = [c for c in spec.covariates if c not in frame.columns]
    if absent:
        problems.append(Problem("error", "data.covariates",
                                f"column(s) {', '.join(absent)} are not in the data; check the names"))


def _check_diagnosis(design: Design, diagnosis: Mapping[str, Any], problems: list[Problem]) -> None:
    # Hook for the diagnosis issue: a design too weak to see the effect it decides on.
    mdr = diagnosis.get("minimum_detectable_reduction")
    if mdr is None:
        return
    if float(mdr) > design.decision.min_reduction:
        problems.append(Problem("warning", "decision.min_reduction",
                                f"the design can only detect reductions of {float(mdr):.0%} or more "
                                f"(80% power), above the {design.decision.min_reduction:.0%} it decides on; "
                                "add units or periods, or accept that a null result is uninformative"))


# --- interrupted time series (issue 21) ------------------------------------------------------
PANDAS_FREQ = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
SIMILAR_UNITS = 5  # comparison units suggested by similar size


def problems_block(problems: list[Problem]) -> bool:
    """True when an error already stops the design (the ITS advice would be noise)."""
    return any(p.level == "error" for p in problems)


def _planned_periods(first: Any, last: Any, frequency: str) -> int:
    lo, hi = _key(first), _key(last)
    if isinstance(lo, float):
        return max(int(hi - lo) + 1, 0)
    return len(pd.period_range(lo, hi, freq=PANDAS_FREQ.get(frequency, "D")))


def its_problems(design: Design, frame: pd.DataFrame, treated: list[str],
                 starts: list[Any]) -> list[Problem]:
    """ITS advice: a series too short for valid inference, and a comparison series to add."""
    out: list[Problem] = []
    frequency = design.data.frequency
    start = period_floor(min(starts, key=_key), frequency)
    window_start = period_floor(design.window.start, frequency)
    periods = sorted({_key(p) for p in frame["period"]})
    excluded = _excluded_periods(design, periods)
    n_pre = sum(1 for p in periods if window_start <= p < start and p not in excluded)
    n_post = _planned_periods(start, design.window.end, frequency)
    if design.analysis.inference in ("auto", "placebo_blocks") and n_post > 0 \
            and not valid_lengths(n_pre, n_post):
        out.append(Problem("warning", "window.start", (
            f"{n_pre} periods before the start and {n_post} after leave "
            f"{placebo_block_count(n_pre, n_post)} pre-period block(s) of "
            f"{block_length(n_pre, n_post)} periods; the placebo-block inference needs "
            f"{defaults.ITS_MIN_PLACEBO_BLOCKS} of at least "
            f"{min(n_post, defaults.ITS_MIN_BLOCK_LENGTH)}, so the verdict will be inconclusive "
            "(series too short for valid inference): move window.start earlier or end the "
            "window sooner")))
    if design.control_units is None:
        suggestion = comparison_suggestion(frame, treated, before=start)
        if suggestion:
            out.append(Problem("warning", "controls", suggestion))
    return out


def comparison_suggestion(frame: pd.DataFrame, treated: list[str], *, before: Any) -> str | None:
    """A comparison series for an ITS that has none, when the data hold untreated units: the
    rest of the data (e.g. the rest of the country), or the units closest in size (mean count
    before the start)."""
    others = frame.loc[~frame["unit"].astype(str).isin(treated)]
    if others.empty:
        return None
    pre = frame.loc[frame["period"].map(_key) < before]
    means = pre.groupby(pre["unit"].astype(str))["y"].mean()
    target = float(means.reindex(treated).sum())
    pool = means.drop(index=[u for u in treated if u in means.index])
    similar = (pool - target).abs().sort_values(kind="stable").index[:SIMILAR_UNITS].tolist()
    return (f"this time series has no comparison series, and the data hold "
            f"{pool.size} untreated unit(s): list them under `controls` (the rest of the data, "
            f"e.g. the rest of the country) or the {len(similar)} closest in size before the "
            f"start ({', '.join(similar)}) for a controlled ITS, which corrects for what happens "
            "elsewhere at the same time (same placebo-block inference)")


def _texts(value: Any) -> list[str]:
    """A design text as its strings (one, or one per language)."""
    return [str(v) for v in value.values()] if isinstance(value, dict) else [str(value)]
