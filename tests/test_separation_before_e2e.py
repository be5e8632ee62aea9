"""Issue 14, item 2, end to end: a registered design whose treated units had no attack before the
start analyses to a one-sided lower bound (never an error, never a number from a diverging fit),
and both pages say so in their own language, with the figures drawn."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import yaml
from test_analysis import N_PERIODS, START, _design
from test_report_verdict_box import ENGLISH, visible_text

import evaluation
from evaluation.cli import main
from evaluation.report.page import intervention
from evaluation.workspace import init_workspace


def _panel() -> pd.DataFrame:
    """24 units; U00 and U01 (treated) have no attack before the start and about 3 a week after."""
    rng = np.random.default_rng(11)
    rows = []
    for i in range(24):
        for t in range(N_PERIODS):
            mu = (3.0 if t >= START else 0.0) if i < 2 else rng.gamma(4.0, 0.5)
            rows.append({"unit": f"U{i:02d}", "period": t + 1, "attacks": int(rng.poisson(mu)),
                         "population": 1000})
    return pd.DataFrame(rows)


def test_no_attack_before_the_start_analyses_and_reports_a_lower_bound(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    _panel().to_csv(ws.root / "data" / "panel.csv", index=False)
    design = _design()
    design["data"]["source"] = str(ws.root / "data" / "panel.csv")
    path = ws.designs / "pilot.yaml"
    path.write_text(yaml.safe_dump(design), encoding="utf-8")
    assert main(["--workspace", str(ws.root), "register", str(path), "--by", "Tester"]) == 0
    result = evaluation.analyse("pilot", workspace=ws)
    primary = result.primary
    assert primary["not_estimable"]["code"] == "separation_before"
    assert math.isnan(primary["estimate"]) and primary["ci_high"] == math.inf
    assert 1.0 < primary["ci_low"] < math.inf  # about 3 a week from none: clearly an increase
    assert primary["inference"]["used"] == "randomization"
    assert result.verdict.category == "stop" and result.verdict.evidence_level == "pretrend_no_events_before"
    for lang in ("nl", "en"):
        page = intervention("pilot", workspace=ws.root, lang=lang)
        body = "".join([page.verdict_box(), page.verdict(), page.effects(), page.checks(),
                        page.series_figure()])
        text = visible_text(body)
        assert "data:image/png;base64," in body  # the series figure was drawn
        if lang == "nl":
            assert not ENGLISH.findall(text), ENGLISH.findall(text)[:10]
            assert "onbegrensd" in text and "geen enkele aanslag" in text
        else:
            assert "unbounded" in text and "before the start" in text


def test_the_box_gives_no_point_estimate_under_separation():
    from evaluation.report.verdict_box import effect_in_words

    basis = {"scale": "rate_ratio", "estimate": math.nan, "low": 1.8, "high": math.inf,
             "interval_level": 0.95, "source": "frequentist", "estimable": False}
    assert effect_in_words(basis, lang="nl") == (
        "Geen puntschatting (zie het oordeel); de onzekerheid (95%-BI) loopt van 80% meer tot "
        "onbegrensd meer.")
    basis.update(low=0.0, high=0.4)
    assert effect_in_words(basis, lang="en").startswith("No point estimate (see the verdict)")
