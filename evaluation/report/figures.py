"""Report figures as PNG bytes (matplotlib, Agg): forest plot, series, event study, posterior.

Figures are embedded into the page as data URIs by `page.figure()`, so Quarto and the fallback
renderer produce the same self-contained pages. Axis numbers follow the page language.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display in a kernel or CI; set before pyplot is imported anywhere

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter  # noqa: E402

from evaluation import defaults  # noqa: E402
from evaluation.files import read_number  # noqa: E402
from evaluation.report import formatting as fmt  # noqa: E402
from evaluation.report.i18n import text  # noqa: E402

TREATED, CONTROL, BAND, LINE = "#1f4e79", "#6c757d", "#9ecae1", "#c0392b"
LOG_TICKS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0)
# On a wide axis the close ticks around 1 overlap; keep these then.
LOG_TICKS_WIDE = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0, 1.5, 2.0, 3.0, 5.0)


def to_png(fig: plt.Figure) -> bytes:
    """PNG bytes without timestamps in the metadata (identical bytes for identical figures)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=defaults.REPORT_FIGURE_DPI, bbox_inches="tight",
                metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _axis_numbers(ax: plt.Axes, lang: str, *, axis: str = "y", digits: int = 2) -> None:
    formatter = FuncFormatter(lambda v, _pos: fmt.number(v, lang=lang, digits=digits))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def forest_plot(rows: Sequence[dict[str, Any]], *, lang: str) -> bytes:
    """Rate ratios with intervals per intervention; lines at 1 and at 1 - min_reduction."""
    # a row without a point estimate (separation) still has its one-sided interval
    rows = [r for r in rows if r.get("scale") == "rate_ratio"
            and (r.get("estimate") is not None or r.get("ci_high") is not None)]
    height = 1.2 + 0.45 * max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(7.5, height))
    labels = [r.get("title") or r["id"] for r in rows]
    y = np.arange(len(rows))[::-1]
    open_ends = []
    for yi, row in zip(y, rows, strict=True):
        low, high = read_number(row.get("ci_low")), read_number(row.get("ci_high"))
        if low is not None and high is not None:
            open_ends.append((yi, low, high))
        if read_number(row.get("estimate")) is not None:
            ax.plot([row["estimate"]], [yi], "o", color=TREATED, markersize=7)
    ax.axvline(1.0, color="black", linewidth=1)
    thresholds = sorted({1 - float(r.get("min_reduction", defaults.MIN_REDUCTION)) for r in rows}) \
        or [1 - defaults.MIN_REDUCTION]
    for i, thr in enumerate(thresholds):
        ax.axvline(thr, color=LINE, linestyle="--", linewidth=1.2,
                   label=text("min_reduction_line", lang) if i == 0 else None)
    ax.set_yticks(y, labels)
    ax.set_xscale("log")
    ax.set_xlabel(text("rate_ratio_axis", lang))
    # a log axis shows too few labels by default; label round ratios within the data range
    values = [v for r in rows for v in map(read_number, (r.get("ci_low"), r.get("ci_high"),
                                                          r.get("estimate")))
              if v is not None and 0 < v < math.inf] + thresholds + [1.0]
    low, high = min(values) / 1.08, max(values) * 1.08
    ax.set_xlim(low, high)
    for yi, end_low, end_high in open_ends:  # an unbounded (or zero) end runs to the axis edge
        ax.plot([max(end_low, low), min(end_high, high)], [yi, yi], color=TREATED, linewidth=2)
        if end_high == math.inf:
            ax.plot([high], [yi], ">", color=TREATED, markersize=6, clip_on=False)
    ticks = LOG_TICKS if high / low < 4 else LOG_TICKS_WIDE
    ax.xaxis.set_major_locator(FixedLocator([t for t in ticks if low <= t <= high]))
    ax.xaxis.set_minor_locator(FixedLocator([]))
    _axis_numbers(ax, lang, axis="x")
    ax.set_ylim(-0.8, len(rows) - 0.2 if rows else 0.8)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return to_png(fig)


def series_plot(series: pd.DataFrame, *, lang: str, start: Any = None) -> bytes:
    """Observed and counterfactual counts per period with the counterfactual band.

    The comparison series (when there is one) gets its own panel: it is usually many units summed
    and would flatten the treated series on a shared axis.
    """
    groups = [g for g in ("treated", "control") if (series["group"] == g).any()]
    fig, axes = plt.subplots(len(groups), 1, figsize=(8, 2.2 + 1.6 * len(groups)), sharex=True,
                             squeeze=False)
    for ax, group in zip(axes[:, 0], groups, strict=True):
        part = series.loc[series["group"] == group]
        x = _x(part)
        colour = TREATED if group == "treated" else CONTROL
        ax.plot(x, part["observed"], color=colour, linewidth=1, marker=".", markersize=3,
                label=text(f"observed_{group}", lang))
        if group == "treated" and part["counterfactual"].notna().any():
            ax.plot(x, part["counterfactual"], color=LINE, linewidth=1.5,
                    label=text("counterfactual", lang))
            if {"cf_low", "cf_high"} <= set(part) and part["cf_low"].notna().any():
                ax.fill_between(x, part["cf_low"], part["cf_high"], color=BAND, alpha=0.5,
                                linewidth=0, label=text("counterfactual_band", lang))
        if start is not None:
            ax.axvline(_x_value(start, series), color="black", linestyle=":", linewidth=1,
                       label=text("start", lang))
        ax.set_ylabel(text("count_axis", lang), fontsize=8)
        _axis_numbers(ax, lang, digits=0)
        ax.legend(fontsize=7, frameon=False, ncol=2, loc="upper left")
        ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return to_png(fig)


def event_study_plot(event_study: pd.DataFrame, *, lang: str) -> bytes:
    """Event-time coefficients with intervals; a reference line at no effect."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    scale = str(event_study["scale"].iloc[0]) if "scale" in event_study and len(event_study) else ""
    null = 1.0 if scale == "rate_ratio" else 0.0
    # terms that could not be estimated have no number and are not drawn
    if "status" in event_study:
        event_study = event_study.loc[event_study["status"] != "not_estimable"]
    event_study = event_study.replace([np.inf, -np.inf], np.nan)
    x = event_study["event_time"].to_numpy()
    ax.errorbar(x, event_study["estimate"],
                yerr=[event_study["estimate"] - event_study["ci_low"],
                      event_study["ci_high"] - event_study["estimate"]],
                fmt="o", color=TREATED, ecolor=TREATED, capsize=2, markersize=4)
    ax.axhline(null, color="black", linewidth=1)
    ax.axvline(-0.5, color="black", linestyle=":", linewidth=1)
    ax.set_xlabel(text("event_time_axis", lang))
    ax.set_ylabel(text("rate_ratio_axis" if scale == "rate_ratio" else "difference_axis", lang))
    _axis_numbers(ax, lang)
    ax.grid(alpha=0.3)
    return to_png(fig)


def posterior_plot(draws: np.ndarray, *, min_reduction: float, lang: str,
                   scale: str = "rate_ratio") -> bytes:
    """Histogram of posterior rate-ratio draws, with lines at 1 and 1 - min_reduction; for a
    linear model (scale "difference") the differences, with a line at 0."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(draws, bins=60, color=BAND, edgecolor=TREATED, linewidth=0.3, density=True)
    ratio = scale != "difference"
    ax.axvline(1.0 if ratio else 0.0, color="black", linewidth=1, label=text("no_effect", lang))
    if ratio:
        ax.axvline(1 - min_reduction, color=LINE, linestyle="--", linewidth=1.2,
                   label=text("min_reduction_line", lang))
    ax.set_xlabel(text("rate_ratio_axis" if ratio else "difference_axis", lang))
    ax.set_yticks([])
    _axis_numbers(ax, lang, axis="x")
    ax.legend(fontsize=8, frameon=False)
    return to_png(fig)


def _x(part: pd.DataFrame) -> Any:
    period = part["period"]
    parsed = pd.to_datetime(period, errors="coerce")
    return parsed if parsed.notna().all() else part["t"] if "t" in part else period


def _x_value(start: Any, series: pd.DataFrame) -> Any:
    parsed = pd.to_datetime(series["period"], errors="coerce")
    return pd.Timestamp(start) if parsed.notna().all() else start
