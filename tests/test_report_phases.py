"""`treatment.end` on the page: the verdict's period named, the other period's estimate in words,
and its estimate row under a catalogue term (never `effect_after`)."""

from __future__ import annotations

import json

import pytest

from evaluation.report.intervention_page import InterventionPage
from evaluation.report.markup import Shared
from evaluation.workspace import init_workspace

AFTER = {"first_t": 60, "last_t": 69, "n_periods": 10, "scale": "rate_ratio", "estimable": True,
         "estimate": 0.8123, "ci_low": 0.61, "ci_high": 1.07, "p_value": 0.12, "reason": ""}


def _page(tmp_path, lang, after):
    ws = init_workspace(tmp_path / "ws")
    folder = ws.analyses / "pilot"
    folder.mkdir()
    result = {"id": "pilot", "design": "did", "primary": {"scale": "rate_ratio", "alpha": 0.05},
              "extras": {"phases": {"estimand": "during", "after": after}}, "context": {}}
    (folder / "result.json").write_text(json.dumps(result), encoding="utf-8")
    (folder / "estimates.csv").write_text(
        "term,estimate,std_error,ci_low,ci_high,p_value,method,scale,reason\n"
        "att,0.70,,0.55,0.9,0.01,poisson,rate_ratio,\n"
        f"effect_after,{after.get('estimate', '')},,{after.get('ci_low', '')},"
        f"{after.get('ci_high', '')},{after.get('p_value', '')},poisson,rate_ratio,\n", encoding="utf-8")
    return InterventionPage.load(Shared(ws, lang), "pilot").effects()


@pytest.mark.parametrize(("lang", "words"), [
    ("nl", ["Het besluit gaat over de periode tijdens de interventie.",
            "Effect na afloop van de interventie (10 perioden): 0,81",
            "(95%-interval 0,61 tot 1,07)", "telt niet mee in het besluit", "of een daling aanhoudt"]),
    ("en", ["The verdict concerns the period during the intervention.",
            "Effect after the intervention ended (10 periods): 0.81", "(95% interval 0.61 to 1.07)",
            "does not count in the verdict", "whether a reduction lasts"]),
])
def test_the_period_after_the_end_is_said_in_words(tmp_path, lang, words):
    effects = _page(tmp_path, lang, AFTER)
    missing = [w for w in words if w not in effects]
    assert not missing, (missing, effects)
    assert "effect_after" not in effects and "effect after" not in effects


def test_a_period_after_without_estimate_says_so(tmp_path):
    effects = _page(tmp_path, "nl", {"estimable": False, "reason": "no events"})
    assert "Effect na afloop van de interventie: niet te schatten" in effects
