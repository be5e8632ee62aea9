"""Issue 14, item 5: `treatment.end` splits the window into the intervention period and after it.

A 5-week intervention that works while it runs (rate ratio 0.3) and not afterwards (1.0): the
registered estimand (`during` by default) decides, and the result shows the period after the end
with its own interval. Before, the end was ignored and the two were averaged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation.analysis.phases import phase_estimates, with_phase
from evaluation.analysis.prepare import prepare
from evaluation.design.model import parse_design
from evaluation.errors import DesignError
from evaluation.workspace import init_workspace

N_UNITS, N_PERIODS, START, END = 24, 40, 31, 35  # periods 1..40; intervention weeks 31..35


def _panel(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit_level = rng.gamma(8.0, 1.0, N_UNITS)
    rows = []
    for i in range(N_UNITS):
        for period in range(1, N_PERIODS + 1):
            effect = 0.3 if i < 2 and START <= period <= END else 1.0
            rows.append({"unit": f"U{i:02d}", "period": period,
                         "attacks": int(rng.poisson(unit_level[i] * effect)), "population": 1000})
    return pd.DataFrame(rows)


def _design(ws, **analysis) -> dict:
    return {
        "id": "pilot", "title": "Pilot", "owner": "Gemeente Test", "hypothesis": "Fewer attacks.",
        "design": "did",
        "data": {"source": str(ws.root / "data" / "panel.csv"), "frequency": "week",
                 "exposure": "population"},
        "treatment": {"units": ["U00", "U01"], "start": START, "end": END},
        "window": {"start": 1, "end": N_PERIODS},
        "analysis": {"model": "poisson", "inference": "cluster", "event_window": [-4, 4],
                     **analysis},
    }


@pytest.fixture
def ws(tmp_path):
    workspace = init_workspace(tmp_path / "ws")
    _panel().to_csv(workspace.root / "data" / "panel.csv", index=False)
    return workspace


def _prepared(ws, **analysis):
    design = parse_design(_design(ws, **analysis))
    (ws.designs / "pilot.yaml").write_text(yaml.safe_dump(_design(ws, **analysis)), "utf-8")
    return prepare(design, ws)


def test_during_is_the_default_estimand_and_after_is_shown_beside_it(ws):
    data = _prepared(ws)
    used = data.estimation_rows
    # the primary data: up to the end (week 35 is t = 34); weeks after it are left out
    assert used["t"].max() == END - 1 and (used.loc[used["d"] == 1, "t"].nunique() == END - START + 1)
    phases = phase_estimates(data)
    assert phases["estimand"] == "during" and "during" not in phases
    after = phases["after"]
    assert after["estimable"] and after["n_periods"] == N_PERIODS - END
    assert after["ci_low"] <= after["estimate"] <= after["ci_high"]
    # truth after the end: 1.0. Fixed seed; a 95% interval covers the truth with prob. 0.95
    assert after["ci_low"] < 1.0 < after["ci_high"]
    during = with_phase(data, "during")
    assert during.estimation_rows["t"].max() == END - 1


def test_after_estimand_moves_the_start_to_the_period_after_the_end(ws):
    data = _prepared(ws, estimand="after")
    used = data.estimation_rows
    treated_post = used.loc[used["d"] == 1, "t"]
    assert treated_post.min() == END  # week 36 is t = 35: the first period after the end
    # the intervention weeks are left out for every unit (one start, one end)
    assert not used["t"].between(START - 1, END - 1).any()
    phases = phase_estimates(data)
    assert phases["estimand"] == "after" and phases["during"]["estimable"]
    assert phases["during"]["n_periods"] == END - START + 1
    # truth during: 0.3; the interval lies below 1 (fixed seed; 40 expected vs ~12 observed)
    assert phases["during"]["ci_high"] < 1.0


def test_per_unit_ends_with_staggered_starts(ws):
    design = _design(ws)
    design["treatment"] = {"units": ["U00", "U01"], "start": {"U00": 29, "U01": 31},
                           "end": {"U00": 33, "U01": 37}}
    (ws.designs / "pilot.yaml").write_text(yaml.safe_dump(design), "utf-8")
    data = prepare(parse_design(design), ws)
    rows = data.panel.set_index(["unit", "t"])
    # U00 (weeks 29..33 = t 28..32): its rows after t 32 are left out, U01's are not
    assert rows.loc[("U00", 33), "excluded"] and not rows.loc[("U01", 33), "excluded"]
    after = with_phase(data, "after").panel.set_index(["unit", "t"])
    assert after.loc[("U00", 30), "excluded"] and not after.loc[("U00", 33), "excluded"]
    assert after.loc[("U00", 33), "d"] == 1 and after.loc[("U01", 33), "excluded"]


def test_estimand_after_needs_an_end(ws):
    design = _design(ws, estimand="after")
    design["treatment"] = {"units": ["U00", "U01"], "start": START}
    with pytest.raises((DesignError, ValueError), match="treatment.end"):
        parse_design(design)


def test_interrupted_time_series_is_split_at_the_end_too(ws):
    """ITS of one treated unit: during 0.3, after 1.0 (truth); each period its own estimate."""
    from evaluation.estimators.its import estimate_its

    design = _design(ws)
    design["design"], design["treatment"]["units"] = "its", ["U00"]
    design["analysis"] = {"model": "poisson", "inference": "auto", "seasonality": 0}
    data = prepare(parse_design(design), ws)
    during = estimate_its(data, with_checks=False).primary
    after = phase_estimates(data)["after"]
    assert after["n_periods"] == N_PERIODS - END
    # fixed seed; the 95% intervals cover the truths (0.3 during, 1.0 after)
    assert during["ci_low"] < 0.3 < during["ci_high"] < 1.0
    assert after["ci_low"] < 1.0 < after["ci_high"]
