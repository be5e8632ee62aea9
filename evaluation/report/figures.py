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
from evaluation.design.texts import local_text
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
    """Rate ratios with intervals per intervention; lines at 1 and at 1 - min_reduction.

    An interval end at 0, missing or infinite (unbounded) runs to the edge of the axis with an
    arrow; the axis is set from the positive finite numbers only (a log axis has no 0). A row
    without a point estimate (separation) still shows its one-sided interval.
    """
    rows = [r for r in rows if r.get("scale") == "rate_ratio"
            and (_positive(r.get("estimate")) or _positive(r.get("ci_high")))]
    height = 1.2 + 0.45 * max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(7.5, height))
    labels = [local_text(r.get("title"), lang) or r["id"] for r in rows]
    y = np.arange(len(rows))[::-1]
    thresholds = sorted({1 - float(r.get("min_reduction", defaults.MIN_REDUCTION)) for r in rows}) \
        or [1 - defaults.MIN_REDUCTION]
    values = [float(v) for r in rows for v in (r.get("ci_low"), r.get("ci_high"), r.get("estimate"))
              if _positive(v)] + thresholds + [1.0]
    low, high = min(values) / 1.15, max(values) * 1.15
    for yi, row in zip(y, rows, strict=True):
        lo = float(row["ci_low"]) if _positive(row.get("ci_low")) else low
        hi = float(row["ci_high"]) if _positive(row.get("ci_high")) else high
        ax.plot([lo, hi], [yi, yi], color=TREATED, linewidth=2)
        for end, open_end, marker in ((lo, not _positive(row.get("ci_low")), "<"),
                                      (hi, not _positive(row.get("ci_high")), ">")):
            if open_end:
                ax.plot([end], [yi], marker, color=TREATED, markersize=6)
        if _positive(row.get("estimate")):
            ax.plot([float(row["estimate"])], [yi], "o", color=TREATED, markersize=7)
    ax.axvline(1.0, color="black", linewidth=1)
    for i, thr in enumerate(thresholds):
        ax.axvline(thr, color=LINE, linestyle="--", linewidth=1.2,
                   label=text("min_reduction_line", lang) if i == 0 else None)
    ax.set_yticks(y, labels)
    ax.set_xscale("log")
    ax.set_xlabel(text("rate_ratio_axis", lang))
    ax.set_xlim(low, high)
    ticks = LOG_TICKS if high / low < 4 else LOG_TICKS_WIDE
    ax.xaxis.set_major_locator(FixedLocator(spaced_log_ticks(ticks, low, high)))
    ax.xaxis.set_minor_locator(FixedLocator([]))
    _axis_numbers(ax, lang, axis="x")
    ax.set_ylim(-0.8, len(rows) - 0.2 if rows else 0.8)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return to_png(fig)


def spaced_log_ticks(ticks: Sequence[float], low: float, high: float, *,
                     min_share: float = 0.09) -> list[float]:
    """Ticks within [low, high] at least `min_share` of the log axis apart (labels never overlap);
    1 is always kept, the others from 1 outwards."""
    span = math.log(high / low)
    inside = [t for t in ticks if low <= t <= high]
    kept = [1.0] if low <= 1.0 <= high else []
    for t in sorted(inside, key=lambda v: abs(math.log(v))):
        if all(abs(math.log(t / k)) >= min_share * span for k in kept):
            kept.append(t)
    return sorted(kept)


def _positive(value: Any) -> bool:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(x) and x > 0


def series_plot(series: pd.DataFrame, *, lang: str, start: Any = None, level: str = "95%") -> bytes:
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
                                linewidth=0, label=text("counterfactual_band", lang).format(level=level))
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
    """Event-time coefficients with intervals; a reference line at no effect.

    Only estimable periods are drawn (finite estimate and interval); rate ratios on a log axis.
    The axis follows the estimates, so one huge interval of a thin period cannot stretch it to
    millions: intervals beyond the axis run to its edge.
    """
    scale = str(event_study["scale"].iloc[0]) if "scale" in event_study and len(event_study) else ""
    ratio = scale == "rate_ratio"
    frame = event_study.copy()
    for column in ("estimate", "ci_low", "ci_high"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    # terms that could not be estimated have no number and are not drawn
    if "status" in frame:
        frame = frame.loc[frame["status"] != "not_estimable"]
    finite = np.isfinite(frame[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)).all(axis=1)
    if ratio:
        finite &= (frame["estimate"] > 0).to_numpy()
    frame = frame.loc[finite]
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    null = 1.0 if ratio else 0.0
    est = frame["estimate"].to_numpy(dtype=float)
    if ratio:
        ax.set_yscale("log")
        centre = np.log(est) if len(est) else np.zeros(1)
        reach = max(float(np.ptp(np.append(centre, 0.0))), math.log(1.5))
        lo_lim, hi_lim = math.exp(min(centre.min(), 0) - reach), math.exp(max(centre.max(), 0) + reach)
    else:
        centre = est if len(est) else np.zeros(1)
        reach = max(float(np.ptp(np.append(centre, 0.0))), 1e-9)
        lo_lim, hi_lim = min(centre.min(), 0) - reach, max(centre.max(), 0) + reach
    low = frame["ci_low"].clip(lower=lo_lim).to_numpy(dtype=float)
    high = frame["ci_high"].clip(upper=hi_lim).to_numpy(dtype=float)
    ax.errorbar(frame["event_time"].to_numpy(), est, yerr=[np.maximum(est - low, 0),
                                                          np.maximum(high - est, 0)],
                fmt="o", color=TREATED, ecolor=TREATED, capsize=2, markersize=4)
    ax.set_ylim(lo_lim, hi_lim)
    ax.axhline(null, color="black", linewidth=1)
    ax.axvline(-0.5, color="black", linestyle=":", linewidth=1)
    ax.set_xlabel(text("event_time_axis", lang))
    ax.set_ylabel(text("rate_ratio_axis" if ratio else "diff_axis_rate", lang))
    if ratio:
        ax.yaxis.set_major_locator(FixedLocator(spaced_log_ticks(LOG_TICKS_WIDE, lo_lim, hi_lim)))
        ax.yaxis.set_minor_locator(FixedLocator([]))
    _axis_numbers(ax, lang)
    ax.grid(alpha=0.3)
    return to_png(fig)


def posterior_plot(draws: np.ndarray, *, min_reduction: float, lang: str,
                   scale: str = "rate_ratio") -> bytes:
    """Histogram of posterior rate-ratio draws, with lines at 1 and 1 - min_reduction; for a
    linear model (scale "difference") the differences, with a line at 0."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    draws = np.asarray(draws, dtype=float)
    ratio = scale != "difference"
    if ratio:
        draws = draws[np.isfinite(draws) & (draws > 0)]
        # a ratio on a log axis: halving and doubling lie equally far from 1
        low, high = min(draws.min(), 1 - min_reduction, 1.0) / 1.05, max(draws.max(), 1.0) * 1.05
        ax.hist(draws, bins=np.geomspace(low, high, 61), color=BAND, edgecolor=TREATED,
                linewidth=0.3, density=True)
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        ax.xaxis.set_major_locator(FixedLocator(spaced_log_ticks(LOG_TICKS, low, high)))
        ax.xaxis.set_minor_locator(FixedLocator([]))
        ax.axvline(1.0, color="black", linewidth=1, label=text("no_effect", lang))
        ax.axvline(1 - min_reduction, color=LINE, linestyle="--", linewidth=1.2,
                   label=text("min_reduction_line", lang))
    else:  # a linear model's differences, with a line at no difference
        draws = draws[np.isfinite(draws)]
        ax.hist(draws, bins=60, color=BAND, edgecolor=TREATED, linewidth=0.3, density=True)
        ax.axvline(0.0, color="black", linewidth=1, label=text("no_effect", lang))
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
