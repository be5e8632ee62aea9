"""Issue 14, item 5: the diagnosis simulates the phase the verdict concerns (`treatment.end`).

Weekly panel, periods 1..80, start week 60 (t = 59), so the registered post period is t 59..79
(21 weeks) and the placebo post in the history is t 38..58. An end at week 65 (t = 64) maps to
placebo t 38 + (64 - 59) = 43: `during` analyses placebo t 38..43 (6 weeks), `after` t 44..58
(15 weeks = weeks 66..80). Expected values are this hand calculation.
"""

from __future__ import annotations

import json

import pytest
import yaml

from evaluation.analysis.prepare import prepare
from evaluation.design.model import load_design
from evaluation.diagnose import diagnose_prepared
from evaluation.diagnose.phase import registered_phase
from evaluation.simulation.null_model import placebo_history
from tests.test_diagnose import FAST_EFFECTS, make_workspace


def _data(tmp_path, *, end_week=None, estimand=None):
    ws, path = make_workspace(tmp_path, start=60, end=80,
                              analysis={"estimand": estimand} if estimand else None)
    design = yaml.safe_load(path.read_text())
    if end_week is not None:
        design["treatment"]["end"] = end_week
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    return prepare(load_design(path), ws, mode="diagnosis")


def _analysed(data):
    phased = registered_phase(data, placebo_history(data)).panel
    used = phased.loc[~phased["excluded"]]
    return sorted(used.loc[used["post"], "t"].unique()), sorted(phased.loc[phased["excluded"], "t"].unique())


def test_during_analyses_the_placebo_intervention_weeks_only(tmp_path):
    treated_t, excluded_t = _analysed(_data(tmp_path, end_week=65))
    assert treated_t == list(range(38, 44)) and excluded_t == list(range(44, 59))


def test_after_analyses_the_placebo_weeks_after_the_end(tmp_path):
    treated_t, excluded_t = _analysed(_data(tmp_path, end_week=65, estimand="after"))
    assert treated_t == list(range(44, 59)) and excluded_t == list(range(38, 44))


def test_an_end_at_the_window_end_or_both_changes_nothing(tmp_path):
    plain = diagnose_prepared(_data(tmp_path / "a"), sims=6, effects=FAST_EFFECTS)
    at_end = diagnose_prepared(_data(tmp_path / "b", end_week=80), sims=6, effects=FAST_EFFECTS)
    both = diagnose_prepared(_data(tmp_path / "c", end_week=65, estimand="both"), sims=6,
                             effects=FAST_EFFECTS)
    for other in (at_end, both):
        assert "phase" not in other["history"]
        assert json.dumps(other["diagnosands"]) == json.dumps(plain["diagnosands"])


def test_the_diagnosis_records_its_phase_and_a_shorter_phase_has_less_power(tmp_path):
    whole = diagnose_prepared(_data(tmp_path / "a"), sims=40, effects=(-0.5,))
    during = diagnose_prepared(_data(tmp_path / "b", end_week=65), sims=40, effects=(-0.5,))
    assert during["history"]["phase"] == "during"
    power = {name: next(r["power"] for r in d["diagnosands"] if r["effect"] == -0.5)
             for name, d in (("whole", whole), ("during", during))}
    # 6 of 21 weeks: the expected treated count drops to 2/7, so the standard error grows by
    # about sqrt(3.5) ~ 1.9; with 40 simulations each, the power difference dwarfs its MC error
    assert power["during"] < power["whole"] - 0.2, power


def test_a_history_too_short_for_the_after_period_is_refused(tmp_path):
    from evaluation.errors import AnalysisError

    data = _data(tmp_path / "a", end_week=79, estimand="after")  # one week after the end
    treated_t, _ = _analysed(data)  # week 79 is t 78 -> placebo t 57; after: t 58
    assert treated_t == [58]
    # start week 20 (t 19): registered post t 19..79 (61 weeks), only 19 - 8 = 11 fit in the
    # history (placebo t 8..18); the end t 78 maps to 8 + floor(59 * 11 / 61) = 18, the last
    # history week: no placebo week is left after it
    ws, path = make_workspace(tmp_path / "b", start=20, end=80, analysis={"estimand": "after"})
    design = yaml.safe_load(path.read_text())
    design["treatment"]["end"] = 79
    path.write_text(yaml.safe_dump(design, sort_keys=False))
    short = prepare(load_design(path), ws, mode="diagnosis")
    with pytest.raises(AnalysisError, match="too short to hold a placebo"):
        registered_phase(short, placebo_history(short))


def test_the_page_says_which_phase_the_diagnosis_simulated():
    from evaluation.report.diagnosis_section import diagnosis_table

    diagnosis = {"history": {"phase": "during"}, "operating_characteristics": {
        "sims": 200, "scenarios": [{"reduction": 0.0, "rates": {
            "continue": 0.05, "adapt": 0.05, "stop": 0.6, "inconclusive": 0.3}}]}}
    assert "alleen de periode tijdens de interventie" in diagnosis_table(diagnosis, lang="nl")
    assert "during the intervention only" in diagnosis_table(diagnosis, lang="en")
    diagnosis["history"] = {}
    assert "intervention only" not in diagnosis_table(diagnosis, lang="en")


def test_warnings_of_the_simulated_fits_are_counted_into_the_diagnosis(tmp_path, monkeypatch):
    """Issue 18: a diagnosis records its fits' warnings (like its failed fits), not silently."""
    import warnings

    from evaluation.estimators.core import PrimaryAnalysis

    data = _data(tmp_path)
    clean = diagnose_prepared(data, sims=3, effects=(-0.5,))
    assert "fit_warnings" not in clean
    real = PrimaryAnalysis.outcome

    def warning_outcome(self, y, *, truth):
        warnings.warn("overflow encountered in exp", RuntimeWarning, stacklevel=1)
        return real(self, y, truth=truth)

    monkeypatch.setattr(PrimaryAnalysis, "outcome", warning_outcome)
    warned = diagnose_prepared(data, sims=3, effects=(-0.5,))
    # 3 simulations x 4 effects (0, -0.5 and the rule's minimum and expected reductions)
    n_effects = len(warned["diagnosands"])
    assert warned["fit_warnings"] == {"RuntimeWarning: overflow encountered in exp": 3 * n_effects}
    assert warned["diagnosands"] == clean["diagnosands"]


def test_the_registered_phase_length_judges_the_its_limits(tmp_path):
    """Start week 60 (t 59), end week 65 (t 64), window to week 80 (t 79): during is 6 periods,
    after 15; without a split the whole 21."""
    from evaluation.diagnose.phase import registered_post_length

    assert registered_post_length(_data(tmp_path / "a", end_week=65), default=21) == 6
    assert registered_post_length(_data(tmp_path / "b", end_week=65, estimand="after"),
                                  default=21) == 15
    assert registered_post_length(_data(tmp_path / "c", end_week=80), default=21) == 21
