"""Issue 14, item 4: figures on the right scale; unbounded and non-estimable values drawn honestly."""

from __future__ import annotations

import math

import h5py
import numpy as np
import pandas as pd

from evaluation.report import figures
from evaluation.report.intervention_page import posterior_rr_draws


def test_linear_posterior_is_drawn_as_differences_not_exp(tmp_path):
    """The linear Bayesian model's `effect` is a difference; exp(difference) is no rate ratio."""
    path = tmp_path / "posterior.nc"
    draws = np.array([[-2.0, -1.0, 0.5]])
    with h5py.File(path, "w") as handle:
        handle.create_group("posterior").create_dataset("effect", data=draws)
    assert list(posterior_rr_draws(path, scale="difference")) == [-2.0, -1.0, 0.5]
    assert np.allclose(posterior_rr_draws(path), np.exp([-2.0, -1.0, 0.5]))  # counts: log RR
    png = figures.posterior_plot(np.linspace(-3, 1, 200), min_reduction=0.1, lang="nl",
                                 scale="difference")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_forest_plot_draws_open_and_one_sided_intervals():
    rows = [{"id": "a", "scale": "rate_ratio", "estimate": 1.1, "ci_low": 0.17, "ci_high": "inf"},
            {"id": "b", "scale": "rate_ratio", "estimate": None, "ci_low": 0.0, "ci_high": 0.33},
            {"id": "c", "scale": "rate_ratio", "estimate": 0.8, "ci_low": 0.6, "ci_high": 0.95}]
    assert figures.forest_plot(rows, lang="en")[:4] == b"\x89PNG"


def test_event_study_plot_leaves_out_non_estimable_terms():
    table = pd.DataFrame({"event_time": [-2, -1, 0], "estimate": [math.nan, 1.2, 0.8],
                          "ci_low": [math.nan, 0.8, 0.5], "ci_high": [math.nan, 1.8, math.inf],
                          "scale": "rate_ratio",
                          "status": ["not_estimable", "estimated", "estimated"]})
    assert figures.event_study_plot(table, lang="nl")[:4] == b"\x89PNG"
