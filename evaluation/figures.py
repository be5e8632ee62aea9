"""matplotlib Figures of an analysis for researchers (`AnalysisResult.plot`): the series with its
counterfactual, the event study and the posterior of the rate ratio.

A base module (no layer imported), so the analysis layer can draw without the report layer; the
report's own PNG figures (`evaluation.report.figures`) add the page language and the styling of
the pages. Labels here are English.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TREATED, CONTROL, BAND, LINE = "#1f4e79", "#6c757d", "#9ecae1", "#c0392b"
# posterior variables that hold the rate ratio, or its logarithm (the Bayesian models' names)
RR_VARIABLES = ("rr", "rate_ratio", "RR")
LOG_RR_VARIABLES = ("log_rr", "log_rate_ratio", "effect", "tau", "beta_d", "delta")


def _pyplot() -> Any:
    # pyplot on first use only: importing this module must not choose a backend for the caller
    import matplotlib.pyplot as plt

    return plt


def series_figure(series: pd.DataFrame, *, start: Any = None) -> Any:
    """Observed counts per period and group, with the counterfactual and its band (treated)."""
    plt = _pyplot()
    groups = [g for g in ("treated", "control") if (series["group"] == g).any()]
    fig, axes = plt.subplots(len(groups), 1, figsize=(8, 2.2 + 1.6 * len(groups)), sharex=True,
                             squeeze=False)
    dates = pd.to_datetime(series["period"], errors="coerce")
    use_dates = bool(dates.notna().all())
    for ax, group in zip(axes[:, 0], groups, strict=True):
        part = series.loc[series["group"] == group]
        x = dates.loc[part.index] if use_dates else part["period"]
        ax.plot(x, part["observed"], color=TREATED if group == "treated" else CONTROL,
                linewidth=1, marker=".", markersize=3, label=f"observed ({group})")
        if group == "treated" and part["counterfactual"].notna().any():
            ax.plot(x, part["counterfactual"], color=LINE, linewidth=1.5, label="counterfactual")
            if {"cf_low", "cf_high"} <= set(part) and part["cf_low"].notna().any():
                ax.fill_between(x, part["cf_low"], part["cf_high"], color=BAND, alpha=0.5,
                                linewidth=0, label="counterfactual interval")
        if start is not None:
            ax.axvline(pd.Timestamp(start) if use_dates else start, color="black", linestyle=":",
                       linewidth=1, label="start")
        ax.set_ylabel("count")
        ax.legend(fontsize=7, frameon=False, ncol=2, loc="upper left")
        ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return fig


def event_study_figure(event_study: pd.DataFrame) -> Any:
    """Event-time coefficients with their intervals and a line at no effect."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    scale = str(event_study["scale"].iloc[0]) if "scale" in event_study else ""
    estimate = event_study["estimate"]
    ax.errorbar(event_study["event_time"], estimate,
                yerr=[estimate - event_study["ci_low"], event_study["ci_high"] - estimate],
                fmt="o", color=TREATED, ecolor=TREATED, capsize=2, markersize=4)
    ax.axhline(1.0 if scale == "rate_ratio" else 0.0, color="black", linewidth=1)
    ax.axvline(-0.5, color="black", linestyle=":", linewidth=1)
    ax.set_xlabel("periods since the start")
    ax.set_ylabel("rate ratio" if scale == "rate_ratio" else "difference")
    ax.grid(alpha=0.3)
    return fig


def posterior_rate_ratios(posterior: Any) -> np.ndarray | None:
    """Rate-ratio draws (all chains) from an ArviZ posterior group, or None when it has none."""
    for names, transform in ((RR_VARIABLES, np.asarray), (LOG_RR_VARIABLES, np.exp)):
        for name in names:
            if name in posterior:
                return transform(np.asarray(posterior[name], dtype=float).ravel())
    return None


def posterior_figure(draws: np.ndarray, *, min_reduction: float) -> Any:
    """Histogram of the rate ratio's posterior draws, with lines at 1 and 1 - min_reduction."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(draws, bins=60, color=BAND, edgecolor=TREATED, linewidth=0.3, density=True)
    ax.axvline(1.0, color="black", linewidth=1, label="no effect")
    ax.axvline(1 - min_reduction, color=LINE, linestyle="--", linewidth=1.2,
               label=f"{min_reduction:.0%} reduction")
    ax.set_xlabel("rate ratio")
    ax.set_yticks([])
    ax.legend(fontsize=8, frameon=False)
    return fig
