"""Issue 17: the verdict box agrees with its own numbers; Dutch pages hold no English or
identifiers; one catalogue per language; the programme's risk and the evidence kinds.

Fast: page sections are built in-process (no kernel, no pandoc); the rendered sites of
test_reports.py carry the end-to-end checks.
"""

from __future__ import annotations

import html as html_lib
import json
import re

import pandas as pd
import pytest
from test_reports import make_analysis, make_workspace, reliable_bayes

from evaluation.analysis.decision import classify, decide
from evaluation.analysis.result import DIAGNOSIS_FILE
from evaluation.portfolio.build import add_holm, programme_risk
from evaluation.report import figures, verdict_text
from evaluation.report.i18n import STRINGS
from evaluation.report.markup import guarded
from evaluation.report.page import intervention
from evaluation.report.verdict_box import effect_in_words, verdict_box

RULE = {"min_reduction": 0.10, "continue_probability": 0.80, "stop_probability": 0.50,
        "basis": "primary"}
PASS = {"name": "pre_trends", "kind": "pre_trends", "status": "pass", "blocking": True,
        "detail": "Joint Wald test of 7 lead(s): p = 0.41", "values": {"leads_tested": [1, 2, 3],
                                                                      "p_value": 0.41, "alpha": 0.05}}
FAIL = {**PASS, "status": "fail", "detail": "Joint Wald test: p = 0.01",
        "values": {"leads_tested": [1, 2, 3], "p_value": 0.01, "alpha": 0.05}}
REG = {"status": "registered", "matches": True, "design": "did", "controlled": True}

# English tell-tales: words that are not Dutch, and identifiers of the result files
ENGLISH = re.compile(r"\b(the|and|with|not|were|are|test|joint|lead|leads|fixed|effects|"
                     r"offset|attacks|averted|passed|failed|skipped|unit|units|period|periods|"
                     r"rule|randomization|dispersion|Pearson|Normal|HalfNormal|flat|exposure|"
                     r"quasi|Wald|chi2|treated|control|controls|window|none)\b")
IDENTIFIERS = re.compile(r"event_time_|pre_trends|rate_ratio|placebo_starts|bayesian_reliability|"
                         r"\bGM\d{4}\b|\batt\b|level_change|control_pool_deviation")


def primary(*, est=0.7, low=0.42, high=2.17, c_any=0.9, c_min=0.6, alpha=0.10, p=0.171,
            scale="rate_ratio") -> dict:
    return {"estimate": est, "ci_low": low, "ci_high": high, "p_value": p, "alpha": alpha,
            "pct_change": 100 * (est - 1) if scale == "rate_ratio" else -12.5, "scale": scale,
            "confidence": {"any_reduction": c_any, "min_reduction": c_min,
                           "method": "randomization"}}


def box_of(decision: dict, lang: str = "nl", **extra) -> str:
    return verdict_box({"decision": decision, "registration": "registered",
                        "registration_timing": "prospective", **extra}, lang=lang)


def shown(box: str, css: str) -> float | None:
    """A percentage shown in the box, read back as a probability ('79,6%' -> 0.796)."""
    match = re.search(rf'<span class="{css}">([^<]*)</span>', box)
    if match is None:
        return None
    said = html_lib.unescape(match.group(1)).replace(",", ".").rstrip("%")
    if said.startswith("<"):
        return float(said[1:]) / 100 - 1e-6
    if said.startswith(">"):
        return float(said[1:]) / 100 + 1e-6
    return float(said) / 100


def recomputed(box: str) -> str:
    """The verdict from the numbers the box displays and the rule it states."""
    if "verdict-box-blocked" in box:
        return "inconclusive"
    rule = type("Rule", (), {"continue_probability": shown(box, "t-cont"),
                             "stop_probability": shown(box, "t-stop")})
    verdict = classify(p_any=shown(box, "q-any"), p_min=shown(box, "q-min"), rule=rule)
    assert shown(box, "t-half") == 0.5  # the adapt limit the box states is classify()'s
    return verdict


@pytest.mark.parametrize(("c_any", "c_min"), [
    (0.97, 0.796),  # 79.6% must not show as "80%" beside "nog niet te zeggen"
    (0.99, 0.80), (0.4996, 0.1), (0.85, 0.4996), (0.85, 0.5), (0.999, 0.9999), (0.003, 0.0),
])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_verdict_recomputed_from_the_box_equals_the_displayed_verdict(c_any, c_min, lang):
    decision = decide(primary=primary(c_any=c_any, c_min=c_min), bayesian=None, checks=[PASS],
                      registration=REG, rule=RULE)
    box = box_of(decision, lang)
    displayed = re.search(r'data-verdict="(\w+)"', box).group(1)
    assert displayed == decision["verdict"]
    assert verdict_text.label(displayed, lang) in box
    assert recomputed(box) == displayed


def test_box_interval_and_level_are_the_basis_own():
    decision = decide(primary=primary(), bayesian=None, checks=[PASS], registration=REG, rule=RULE)
    box = html_lib.unescape(box_of(decision))
    # hand: 0.7 -> 30% fewer; 0.42 -> 58% fewer; 2.17 -> 117% more; alpha 0.10 -> 90%
    assert "Naar schatting 30% minder aanslagen; de onzekerheid (90%-BI) loopt van 58% minder " \
           "tot 117% meer." in box
    assert "95" not in box
    en = html_lib.unescape(box_of(decision, "en"))
    assert "30% fewer attacks; the uncertainty (90% CI) runs from 58% fewer to 117% more" in en


def test_effect_of_a_linear_model_is_a_difference_in_rates_and_unbounded_ends_in_words():
    basis = {"scale": "difference", "estimate": -4.2, "low": -7.1, "high": 1.2,
             "interval_level": 0.95, "source": "frequentist"}
    said = effect_in_words(basis, lang="nl")
    assert said == ("Naar schatting 4,20 minder aanslagen per periode (verschil in tempo); de "
                    "onzekerheid (95%-BI) loopt van 7,10 minder tot 1,20 meer.")
    assert "ratio" not in said
    open_basis = {"scale": "rate_ratio", "estimate": 0.8, "low": None, "high": float("inf"),
                  "interval_level": 0.9, "source": "frequentist"}
    assert "loopt van onbegrensd minder tot onbegrensd meer" in effect_in_words(open_basis, lang="nl")


def test_blocked_verdict_box_says_why_in_dutch_without_the_english_detail():
    decision = decide(primary=primary(c_any=0.99, c_min=0.95), bayesian=None, checks=[FAIL],
                      registration=REG, rule=RULE)
    box = html_lib.unescape(box_of(decision, checks=[FAIL]))
    assert decision["verdict"] == "inconclusive" and recomputed(box) == "inconclusive"
    assert "Parallelle trends vóór de start" in box and "p = 0,010, grens 0,05" in box
    assert "Joint Wald" not in box and "pre_trends" not in box
    assert 'class="q-any"' not in box  # the rule was not applied: no quantities beside it


def test_error_rates_in_words_from_the_diagnosis():
    diagnosis = {"sha256": "ab" * 32, "operating_characteristics": {
        "sims": 400, "basis": "primary", "basis_simulated": True, "scenarios": [
            {"scenario": "no_effect", "reduction": 0.0, "rates": {"continue": 0.125},
             "mcse": {"continue": 0.016}},
            {"scenario": "expected", "reduction": 0.2, "rates": {"stop": 0.05},
             "mcse": {"stop": 0.01}}]}}
    decision = decide(primary=primary(), bayesian=None, checks=[PASS], registration=REG, rule=RULE,
                      diagnosis=diagnosis)
    box = html_lib.unescape(box_of(decision))
    assert ("zet deze beslisregel een interventie zonder effect in 1 op de 8 gevallen door, en "
            "stopt hij een interventie die 20% minder aanslagen geeft in 1 op de 20 gevallen") in box
    assert "Onbekend" in html_lib.unescape(box_of(decide(primary=primary(), bayesian=None,
                                                         checks=[PASS], registration=REG, rule=RULE)))


def visible_text(markdown: str) -> str:
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", markdown)
    text = re.sub(r"<code>.*?</code>", "", text, flags=re.S)
    text = re.sub(r"\{[#.][^}]*\}", "", text)  # heading anchors and callout classes
    text = re.sub(r"<[^>]+>", " ", text)
    return html_lib.unescape(text)


def test_dutch_page_sections_hold_no_english_and_no_identifiers(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    priors = {"effect": "log RR ~ Normal(0, 0.5)", "unit_effects": "flat on the log rate",
              "period_effects": "ZeroSumNormal(1) on the log rate (sum to zero over periods)"}
    make_analysis(ws, "cam", bayes={**reliable_bayes(0.82, p_any=0.97, p_min=0.74), "priors": priors})
    (ws.analysis_dir("cam") / DIAGNOSIS_FILE).write_text(json.dumps({
        "operating_characteristics": {"sims": 400, "size": {"value": 0.06, "reference": 0.05},
                                      "scenarios": [{"reduction": 0.0, "rates": {
                                          "continue": 0.1, "adapt": 0.1, "stop": 0.5,
                                          "inconclusive": 0.3}}]}}))
    make_analysis(ws, "lin", scale="difference", rr=0.8, ci=(0.5, 1.1), seed=5)
    for analysis_id in ("cam", "lin"):
        path = ws.analysis_dir(analysis_id) / "result.json"
        result = json.loads(path.read_text())
        result["context"]["unit_names"] = {"GM0363": "Amsterdam", "GM0599": "Rotterdam"}
        result["context"]["notes"] = [
            {"code": "treated_elsewhere", "n": 2, "units": ["GM0363", "GM0599"]}]
        path.write_text(json.dumps(result))
        page = intervention(analysis_id, workspace=ws.root, lang="nl")
        body = "".join([page.verdict_box(), page.verdict(), page.about(), page.data(),
                        page.effects(), page.checks(), page.diagnosis()])
        text = visible_text(body)
        assert not ENGLISH.findall(text), ENGLISH.findall(text)[:10]
        assert not IDENTIFIERS.findall(body.replace("data-", "")), IDENTIFIERS.findall(body)[:5]
        assert "Amsterdam" in text and "Rotterdam" in text
    cam = visible_text(intervention("cam", workspace=ws.root, lang="nl").effects())
    assert "normaal(0; 0,5)" in cam and "vlak: geen voorkeur" in cam
    linear = visible_text(intervention("lin", workspace=ws.root, lang="nl").effects())
    assert "Voorkomen aanslagen" not in linear and "rate ratio" not in linear
    assert "verschil in tempo" in linear


def test_one_catalogue_per_language_with_the_same_keys():
    for catalogue in verdict_text.CATALOGUES:
        if isinstance(catalogue["nl"], dict):
            assert set(catalogue["nl"]) == set(catalogue["en"])
    for key, pair in STRINGS.items():
        assert len(pair) == 2 and all(pair), key
        assert sorted(re.findall(r"{(\w*)}", pair[0])) == sorted(re.findall(r"{(\w*)}", pair[1])), key


def test_a_failing_figure_is_an_error_block_naming_it():
    def broken() -> str:
        raise ValueError("no column 'estimate'")

    block = guarded("event_study_figure", broken, lang="nl")
    assert 'data-failed="event_study_figure"' in block and "kon niet worden gemaakt" in block


def test_forest_plot_with_a_lower_bound_of_zero_and_an_open_end():
    rows = [{"id": "a", "scale": "rate_ratio", "estimate": 0.5, "ci_low": 0.0, "ci_high": 1.4},
            {"id": "b", "scale": "rate_ratio", "estimate": 1.2, "ci_low": 0.8, "ci_high": None}]
    assert figures.forest_plot(rows, lang="nl").startswith(b"\x89PNG")  # ZeroDivisionError before
    ticks = figures.spaced_log_ticks(figures.LOG_TICKS_WIDE, 0.3, 3.0)
    assert 1.0 in ticks and 0.9 not in ticks  # 0,90 and 1,00 overlapped on a wide axis


def test_event_study_draws_only_estimable_periods():
    frame = pd.DataFrame({"event_time": [-3, -2, 0, 1], "estimate": [1.0, float("nan"), 0.8, 0.7],
                          "ci_low": [0.8, float("nan"), 0.6, 1e-9],
                          "ci_high": [1.2, float("nan"), 1.1, 1.2e8], "scale": "rate_ratio"})
    assert figures.event_study_plot(frame, lang="nl").startswith(b"\x89PNG")


def test_exploratory_out_of_the_holm_family_and_programme_risk():
    rows = [{"p_value": 0.03, "evidence_kind": "prospective", "p_continue_no_effect": 0.1},
            {"p_value": 0.01, "evidence_kind": "exploratory", "p_continue_no_effect": 0.5},
            {"p_value": 0.02, "evidence_kind": "retrospective", "p_continue_no_effect": 0.2},
            {"p_value": None, "evidence_kind": "before_outcome_data", "p_continue_no_effect": None}]
    assert add_holm(rows) == 2
    # hand: family (0.03, 0.02): 0.02 x 2 = 0.04; max(0.04, 0.03 x 1) = 0.04
    assert [r["p_holm"] for r in rows] == pytest.approx([0.04, None, 0.04, None])
    risk = programme_risk(rows)
    # hand: 1 - 0.9 x 0.8 = 0.28 over the two diagnosed confirmatory designs
    assert risk == pytest.approx({"n": 3, "n_diagnosed": 2, "p_any_continued": 0.28,
                                  "min": 0.1, "max": 0.2})
    eight = programme_risk([{"evidence_kind": "prospective", "p_continue_no_effect": 0.05}] * 8)
    assert eight["p_any_continued"] == pytest.approx(1 - 0.95 ** 8)  # 0.3366


def test_national_progress_of_a_complete_year_is_not_called_so_far(tmp_path):
    import datetime as dt

    from evaluation.portfolio.build import national_progress
    from evaluation.report.markup import Shared
    from evaluation.report.portfolio_page import PortfolioPage

    days = pd.date_range("2024-01-01", "2025-12-31", freq="D").date
    nat = national_progress(pd.Series(1.0, index=days), cutoff=dt.date(2025, 12, 31))
    assert nat["year_complete"]
    page = PortfolioPage(Shared(make_workspace(tmp_path / "ws"), "nl"), {"national": nat}, True)
    text = html_lib.unescape(page.national())
    assert "tot nu toe" not in text and "De data bestrijken heel 2025" in text
    assert "Doel 2025 gehaald" in text


def test_pdf_without_chromium_is_a_one_line_error_before_rendering(tmp_path, monkeypatch, capsys):
    from evaluation.cli import main

    ws = make_workspace(tmp_path / "ws")
    make_analysis(ws, "one")
    monkeypatch.setenv("EVALUATION_CHROMIUM", str(tmp_path / "no-such-browser"))
    code = main(["--workspace", str(ws.root), "report", "--pdf", "--engine", "fallback"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "--pdf: no Chromium found" in err and len(err.splitlines()) == 1
    assert not (ws.root / "_site").exists()  # said before minutes of rendering
