"""Reports rendered with the fallback renderer, plus the fixture factory the other H7 tests use.

Factory: fake analysis folders (make_workspace, make_analysis, make_store, reliable_bayes).

Files are written with the real writer (AnalysisResult.write), so they have the exact layout and
rounding of analyses/<id>/; verdicts come from evaluation.decision.decide like in the orchestrator.
"""

from __future__ import annotations

import base64
import datetime as dt
import html as html_lib
import io
import json
import re
from pathlib import Path
from typing import Any

# the site tests' expected strings: independent of report.formatting, the code under test
import notation as ref
import numpy as np
import pandas as pd
import pytest

from evaluation.analysis.decision import decide
from evaluation.analysis.result import AnalysisResult
from evaluation.estimators.output import Check, tidy_frame, tidy_row
from evaluation.portfolio.build import write_portfolio
from evaluation.report import ReportError, verdict_text
from evaluation.report.check_words import check_name, check_sentence
from evaluation.report.fallback import execute, parse_qmd, set_parameters
from evaluation.report.render import render_reports
from evaluation.workspace import Workspace, init_workspace

SOFTWARE = {"python": "3.11.9", "evaluation": "0.1.0", "statsmodels": "0.14.4", "pymc": "5.16.2"}


def make_workspace(root: Path) -> Workspace:
    return init_workspace(root)


def make_analysis(ws: Workspace, analysis_id: str, *, design: str = "did", rr: float = 0.85,
                  ci: tuple[float, float] = (0.74, 0.97), p_value: float | None = 0.018,
                  registration: str = "registered", pretrend: str = "pass",
                  bayes: dict[str, Any] | None = None, posterior_sd: float | None = None,
                  units: tuple[str, ...] = ("GM0363", "GM0599"), controlled: bool = True,
                  amendments: list[dict[str, Any]] | None = None, scale: str = "rate_ratio",
                  treated_base: float = 6.0, seed: int = 1) -> dict[str, Any]:
    """Write analyses/<id>/ and return the result dict (as in result.json)."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2023-01-02", periods=104, freq="7D")
    start = periods[60]
    groups = ["treated"] + (["control"] if controlled else [])
    series_rows = []
    for group in groups:
        base = treated_base if group == "treated" else 40.0
        for t, period in enumerate(periods):
            cf = base * (1 + 0.2 * np.sin(2 * np.pi * t / 52))
            effect = rr if (group == "treated" and period >= start) else 1.0
            series_rows.append({"period": period.date().isoformat(), "t": t, "group": group,
                                "observed": float(rng.poisson(cf * effect)), "fitted": cf * effect,
                                "counterfactual": cf if group == "treated" else np.nan,
                                "cf_low": cf * 0.85 if group == "treated" else np.nan,
                                "cf_high": cf * 1.15 if group == "treated" else np.nan})
    series = pd.DataFrame(series_rows)
    event_rows = [{"event_time": k, "estimate": float(np.exp(rng.normal(0, 0.05)) if k < 0 else rr),
                   "std_error": 0.08, "ci_low": 0.0, "ci_high": 0.0, "scale": "rate_ratio"}
                  for k in range(-8, 9) if k != -1]
    event_study = pd.DataFrame(event_rows)
    event_study["ci_low"] = event_study["estimate"] * 0.85
    event_study["ci_high"] = event_study["estimate"] * 1.18
    primary = {"method": "Poisson TWFE with unit and week effects, exposure offset" if design == "did"
               else "segmented Poisson regression with trend and 2 harmonic pairs",
               "scale": scale, "estimate": rr, "ci_low": ci[0], "ci_high": ci[1],
               "p_value": p_value, "pct_change": 100 * (rr - 1) if scale == "rate_ratio" else -12.5,
               "std_error": float((np.log(ci[1]) - np.log(max(ci[0], 1e-3))) / 3.92) if scale == "rate_ratio" else 0.5,
               "inference": {"used": "randomization", "reason": "2 treated units (< 10)"},
               "n_treated": len(units), "n_control": 40 if controlled else 0, "n_periods": 104}
    estimates = tidy_frame([
        tidy_row("att" if design == "did" else "level_change", rr, primary["std_error"], ci[0],
                 ci[1], p_value, method=primary["method"], scale=scale),
        tidy_row("trend", 1.002, 0.001, 1.0, 1.004, 0.04, method=primary["method"], scale=scale),
    ])
    checks = [Check(name="pre_trends", kind="pre_trends", status=pretrend, blocking=True,
                    detail="joint Wald test of 7 leads: p = 0.41 (fail when p < 0.05)",
                    values={"p_value": 0.41}),
              Check(name="placebo_starts", kind="placebo", status="pass", detail="0 of 4 placebo starts significant"),
              Check(name="displacement", kind="displacement", status="skipped", detail="no data/neighbours.csv")]
    if not controlled:
        checks = checks[1:]
    if bayes is not None:
        checks.append(Check(name="bayesian_reliability", kind="bayesian_reliability", status="pass" if bayes["reliable"] else "fail",
                            detail=bayes.get("reliability_reason", ""), blocking=True))
    # with a Bayesian model these fixtures register it as the decision basis
    rule = {"min_reduction": 0.10, "continue_probability": 0.80, "stop_probability": 0.50,
            "basis": "primary" if bayes is None else "bayesian"}
    decision = decide(primary=primary, bayesian=bayes, checks=[c.to_dict() for c in checks],
                      registration={"status": registration, "matches": True, "design": design,
                                    "controlled": controlled},
                      rule=rule)
    registered_at = "2024-02-01T10:00:00+00:00"
    context = {
        "title": f"Interventie {analysis_id}", "owner": "Gemeente Utrecht",
        "hypothesis": "Cameratoezicht verlaagt het aantal explosies met minstens 10%.",
        "units": list(units), "control_units": 40 if controlled else 0,
        "starts": {u: start.date().isoformat() for u in units}, "end": None,
        "window": {"start": "2023-01-02", "end": periods[-1].date().isoformat(), "exclude": None},
        "registration": {"status": registration, "registered_at": registered_at,
                         "registered_by": "j.jansen", "design_sha256": "ab" * 32,
                         "amendments": amendments or []},
        "decision_rule": rule, "notes": ["2 incidents without neighbourhood code kept"],
        "unit_names": {"GM0363": "Amsterdam", "GM0599": "Rotterdam"},  # the municipality reference
    }
    result = AnalysisResult(
        id=analysis_id, design=design, design_sha256="ab" * 32, data_sha256="cd" * 32,
        registration=registration, data_cutoff="2024-12-29", primary=primary, estimates=estimates,
        checks=tuple(checks), software=SOFTWARE, series=series, event_study=event_study,
        extras={"averted": {"estimate": 14.3, "ci_low": 2.1, "ci_high": 27.8}},
        bayesian=bayes, decision=decision, context=context)
    folder = result.write(ws.analysis_dir(analysis_id))
    if posterior_sd is not None and bayes is not None:
        import arviz as az

        draws = np.exp(rng.normal(np.log(bayes["rr_median"]), posterior_sd, size=(2, 500)))
        az.from_dict(posterior={"rr": draws}).to_netcdf(str(folder / "posterior.nc"))
    return json.loads((folder / "result.json").read_text(encoding="utf-8"))


def make_store(path: Path, *, daily_2024: float = 1.0, daily_2025: float = 0.8,
               cutoff: dt.date = dt.date(2025, 6, 30), seed: int = 3) -> dict[str, int]:
    """A DuckDB incidents table with Poisson daily counts; returns the true counts per year."""
    import duckdb

    rng = np.random.default_rng(seed)
    rows = []
    day = dt.date(2024, 1, 1)
    while day <= cutoff:
        rate = daily_2024 if day.year == 2024 else daily_2025
        for k in range(int(rng.poisson(rate))):
            rows.append((f"I{day.isoformat()}-{k}", day, "GM0363", "Amsterdam", "woning", "explosie"))
        day += dt.timedelta(days=1)
    frame = pd.DataFrame(rows, columns=["incident_id", "date", "municipality_code", "municipality",
                                        "target_type", "outcome"])
    frame["date"] = pd.to_datetime(frame["date"])
    con = duckdb.connect(str(path))
    con.register("frame", frame)
    con.execute("CREATE TABLE incidents AS SELECT incident_id, CAST(date AS DATE) AS date, "
                "municipality_code, municipality, target_type, outcome FROM frame")
    con.close()
    return {"2024": sum(r[1].year == 2024 for r in rows), "2025": sum(r[1].year == 2025 for r in rows)}


def reliable_bayes(rr: float, *, p_any: float, p_min: float, reliable: bool = True) -> dict[str, Any]:
    return {"model": "Poisson DiD", "rr_median": rr, "hdi_low": rr * 0.85, "hdi_high": rr * 1.15,
            "hdi_prob": 0.95, "p_any_reduction": p_any, "p_min_reduction": p_min,
            "reliable": reliable,
            "reliability_reason": "all gates passed" if reliable else "r_hat 1.08 > 1.01",
            "averted": {"median": 12.0, "hdi_low": 1.0, "hdi_high": 24.0},
            "diagnostics": {"r_hat_max": 1.002 if reliable else 1.08, "ess_bulk_min": 900,
                            "ess_tail_min": 800, "divergences": 0}}


# ============================================================================================
# Tests
# ============================================================================================
AMENDMENT = {"date": "2024-05-01", "by": "p.de.vries", "reason": "extra vergelijkingsgemeenten",
             "diff": [{"field": "analysis.model", "old": "poisson", "new": "negative_binomial"}]}


def build_demo_workspace(root: Path) -> Workspace:
    """Three analyses covering the page variants, a store and portfolio.json."""
    ws = make_workspace(root)
    make_analysis(ws, "cam-utrecht", bayes=reliable_bayes(0.82, p_any=0.97, p_min=0.74),
                  posterior_sd=0.08)
    make_analysis(ws, "its-rotterdam", design="its", controlled=False, units=("GM0599",), rr=1.05,
                  ci=(0.9, 1.2), p_value=0.5, registration="retrospective", seed=2)
    make_analysis(ws, "buurt-noord", rr=0.7, ci=(0.55, 0.88), p_value=0.003,
                  registration="amended", units=("BU03630001",), treated_base=0.03, seed=3,
                  amendments=[AMENDMENT])
    # issue 17: an interval from 0 (ZeroDivisionError in the forest plot before), exploratory,
    # and an event-study file the figure cannot read: the site still renders, saying so
    make_analysis(ws, "nul-grens", rr=0.5, ci=(0.0, 1.6), p_value=0.2, registration="exploratory",
                  seed=4)
    (ws.analysis_dir("nul-grens") / "event_study.csv").write_text("event_time\n-2\n")
    make_store(ws.db_path())
    write_portfolio(ws)
    return ws


def page_text(path: Path) -> str:
    return html_lib.unescape(path.read_text(encoding="utf-8"))


def figure_png(page: str, figure_id: str) -> bytes:
    match = re.search(rf'<figure[^>]*id="{figure_id}"[^>]*>\s*<img src="data:image/png;base64,'
                      r'([A-Za-z0-9+/=]+)"', page)
    assert match, f"figure {figure_id} missing"
    return base64.b64decode(match.group(1))


def assert_not_blank(png: bytes) -> None:
    import matplotlib.image as mpimg

    assert png.startswith(b"\x89PNG")
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels[..., :3].std() > 0.05, "figure is blank"


def section(page: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}".*?</table>', page, flags=re.S)
    assert match, f"table {table_id} missing"
    return match.group(0)


@pytest.fixture(scope="module")
def site_nl(tmp_path_factory):
    ws = build_demo_workspace(tmp_path_factory.mktemp("nl") / "ws")
    result = render_reports(ws, lang="nl", engine="fallback")
    return ws, result


# --- qmd parsing -----------------------------------------------------------------------------
QMD = '''---
title: test
format: html
---

Some *text*.

```{python}
#| tags: [parameters]
x = 1
```

```{python}
#| output: asis
#| fig-cap: "A caption"
print(f"**{x}**")
```
'''


def test_parse_qmd_front_matter_markdown_and_cell_options():
    nb = parse_qmd(QMD, name="t.qmd")
    assert nb.metadata["qmd"]["front_matter"] == {"title": "test", "format": "html"}
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "code", "code"]
    assert nb.cells[1].metadata["tags"] == ["parameters"]
    assert nb.cells[2].metadata["options"] == {"output": "asis", "fig-cap": "A caption"}
    assert nb.cells[2].source == 'print(f"**{x}**")'
    set_parameters(nb, {"x": 42})
    assert nb.cells[2].source == "x = 42" and nb.cells[2].metadata["tags"] == ["injected-parameters"]


def test_unclosed_cell_names_the_line():
    with pytest.raises(ReportError, match=r"bad.qmd: line 2: .* never closed"):
        parse_qmd("text\n```{python}\nx = 1\n", name="bad.qmd")


def test_failing_cell_is_a_report_error_naming_the_page(tmp_path):
    nb = parse_qmd("```{python}\nraise ValueError('boom in cell')\n```\n", name="broken.qmd")
    with pytest.raises(ReportError, match=r"broken.qmd: a cell failed: .*boom in cell"):
        execute(nb, cwd=tmp_path, name="broken.qmd")


def test_intervention_template_without_id_is_refused(tmp_path):
    from evaluation.report import page

    with pytest.raises(ReportError, match="parameter `id` is empty"):
        page.intervention("", workspace=tmp_path)


# --- the rendered Dutch site -----------------------------------------------------------------
def test_every_page_renders_with_the_fallback(site_nl):
    ws, result = site_nl
    assert result.engine == "fallback" and "fallback" in result.note
    site = result.out_dir
    expected = {site / "index.html", site / "methods.html"} | {
        site / "interventions" / f"{i}.html"
        for i in ("buurt-noord", "cam-utrecht", "its-rotterdam", "nul-grens")}
    assert set(result.pages) == expected and all(p.stat().st_size > 1000 for p in expected)
    # the intervention sources are copies of the one template with the id set
    copy_text = (ws.reports / "interventions" / "cam-utrecht.qmd").read_text(encoding="utf-8")
    assert "id = 'cam-utrecht'" in copy_text
    assert '<html xmlns="http://www.w3.org/1999/xhtml" lang="nl"' in (site / "index.html").read_text()
    assert result.seconds < 120


def test_intervention_numbers_equal_result_json_in_dutch_notation(site_nl):
    ws, result = site_nl
    for analysis_id in ("cam-utrecht", "its-rotterdam", "buurt-noord"):
        res = json.loads((ws.analysis_dir(analysis_id) / "result.json").read_text())
        page = page_text(result.out_dir / "interventions" / f"{analysis_id}.html")
        p = res["primary"]
        effects = section(page, "effects-table")
        assert ref.number(p["estimate"], lang="nl") in effects
        assert ref.interval(p["ci_low"], p["ci_high"], lang="nl") in effects
        assert ref.p_value(p["p_value"], lang="nl") in effects
        averted = res["extras"]["averted"]
        assert ref.interval(averted["ci_low"], averted["ci_high"], lang="nl", digits=1) in effects
        decision = res["decision"]
        assert verdict_text.label(decision["verdict"], "nl") in page
        for reason in verdict_text.reasons(decision, "nl"):
            assert reason in page
        assert f"{decision['evidence_level']['smss']}</strong>" in page
        assert verdict_text.evidence(decision, "nl") in page
        for check in res["checks"]:  # in words, never the identifier or the English detail
            checks = section(page, "checks-table")
            assert check_name(check["kind"], "nl") in checks
            assert check_sentence(check, "nl") in checks
            assert check["name"] not in checks and check["detail"] not in checks
        footer = page[page.index('id="report-footer"'):]
        assert res["design_sha256"] in footer and res["data_sha256"] in footer
        assert ref.date(res["data_cutoff"], lang="nl") in footer
        assert "statsmodels 0.14.4" in footer


def test_bayesian_numbers_and_posterior_figure(site_nl):
    ws, result = site_nl
    res = json.loads((ws.analysis_dir("cam-utrecht") / "result.json").read_text())
    page = page_text(result.out_dir / "interventions" / "cam-utrecht.html")
    b = res["bayesian"]
    effects = section(page, "effects-table")
    assert ref.interval(b["hdi_low"], b["hdi_high"], lang="nl") in effects
    assert ref.probability(b["p_min_reduction"], lang="nl") in effects
    assert res["decision"]["verdict"] == "inconclusive"  # 74% < 80%: not enough to continue
    for figure_id in ("series-plot", "event-study-plot", "posterior-plot"):
        assert_not_blank(figure_png(page, figure_id))


def test_posterior_missing_is_skipped_with_a_note(site_nl):
    _, result = site_nl
    page = page_text(result.out_dir / "interventions" / "its-rotterdam.html")
    assert "posterior-plot" not in page and "posterior-missing" in page
    assert_not_blank(figure_png(page, "series-plot"))


def test_banners_registration_and_amendments(site_nl):
    _, result = site_nl
    retro = page_text(result.out_dir / "interventions" / "its-rotterdam.html")
    assert "banner-retrospective" in retro and "pas geregistreerd nadat" in retro
    registered = page_text(result.out_dir / "interventions" / "cam-utrecht.html")
    assert "banner-" not in registered
    assert "ab" * 32 in section(registered, "registration-table")
    assert "1 februari 2024 door j.jansen" in registered
    amended = page_text(result.out_dir / "interventions" / "buurt-noord.html")
    diff = section(amended, "amendment-1")
    assert all(word in diff for word in ("analysis.model", "poisson", "negative_binomial"))
    assert "extra vergelijkingsgemeenten" in amended


def test_neighbourhood_counts_below_five_show_as_suppressed(site_nl):
    ws, result = site_nl
    series = pd.read_csv(ws.analysis_dir("buurt-noord") / "series.csv")
    treated = series.loc[series["group"] == "treated", "observed"]
    assert treated.sum() < 5, "factory should give a small neighbourhood count"
    data = section(page_text(result.out_dir / "interventions" / "buurt-noord.html"), "data-table")
    row = re.search(r"<tr><td>Interventiegebied</td>(.*?)</tr>", data).group(1)
    assert row.count("&lt;5") == 2 or row.count("<5") == 2
    # a municipality's small counts are shown exactly (the control row is large anyway)
    control = series.loc[series["group"] == "control", "observed"]
    start = pd.Timestamp("2024-02-26")
    before = control[pd.to_datetime(series.loc[control.index, "period"]) < start].sum()
    assert ref.integer(before, lang="nl") in data


def test_portfolio_page_numbers_table_and_forest_plot(site_nl):
    ws, result = site_nl
    portfolio = json.loads((ws.analyses / "portfolio.json").read_text())
    page = page_text(result.out_dir / "index.html")
    table = section(page, "verdict-table")
    for row in portfolio["interventions"]:
        assert f'href="interventions/{row["id"]}.html"' in table
        assert verdict_text.label(row["verdict"], "nl") in table
        assert ref.number(row["estimate"], lang="nl") in table
        if row["p_holm"] is not None:  # exploratory lines are outside the Holm family (below)
            assert ref.p_value(row["p_holm"], lang="nl") in table
    # issue 17: the kind of evidence per line; the exploratory line is out of the Holm family
    kinds = {r["id"]: r["evidence_kind"] for r in portfolio["interventions"]}
    assert kinds["nul-grens"] == "exploratory"
    assert [r["p_holm"] for r in portfolio["interventions"] if r["id"] == "nul-grens"] == [None]
    assert "verkennend (buiten de toetsfamilie)" in table
    assert "vooraf geregistreerd en met de vastgelegde methode" not in page
    assert 'id="programme-risk"' in page
    # national progress in the year's own wording (data to 30 June 2025: the rest of 2025)
    assert "rest van 2025" in page and "rest van 2024" not in page and "2025 tot nu toe" in page
    assert portfolio["multiple_testing"]["note_nl"] in page
    national = section(page, "national-table")
    nat = portfolio["national"]
    assert ref.number(nat["observed"]["count"], lang="nl", digits=0) in national
    assert ref.number(nat["baseline_total"], lang="nl", digits=0) in national
    assert ref.probability(nat["projection"]["p_target_met"], lang="nl") in national
    assert_not_blank(figure_png(page, "forest-plot"))


def test_methods_page_states_the_rule_and_mapping(site_nl):
    _, result = site_nl
    page = page_text(result.out_dir / "methods.html")
    for words in ("Beslisregel", "doorzetten", "aanpassen", "stoppen", "nog niet te zeggen",
                  "Holm", "Maryland", "Beslisgrond", "vertrouwen", "&lt;5", "Pre-trends"):
        assert words.replace("&lt;", "<") in page


# --- English, through the CLI ----------------------------------------------------------------
def test_cli_report_in_english(tmp_path):
    from evaluation.cli import main

    ws = make_workspace(tmp_path / "ws")
    res = make_analysis(ws, "cam-en", bayes=reliable_bayes(0.8, p_any=0.99, p_min=0.86))
    out = tmp_path / "site-en"
    code = main(["--workspace", str(ws.root), "report", "--lang", "en", "--out", str(out),
                 "--engine", "fallback"])
    assert code == 0
    index = page_text(out / "index.html")
    assert 'lang="en"' in index and "Verdicts" in index
    assert "portfolio.json is missing" in index  # no portfolio written: said so, not hidden
    page = page_text(out / "interventions" / "cam-en.html")
    assert res["decision"]["verdict"] == "continue" and ">continue<" in page
    assert ref.interval(res["primary"]["ci_low"], res["primary"]["ci_high"], lang="en") in page
    assert "0.74 to 0.97" in page and "0,74 tot 0,97" not in page
    for reason in verdict_text.reasons(res["decision"], "en"):
        assert reason in page


def test_report_without_workspace_templates_copies_them(tmp_path):
    from evaluation.report.render import prepare_sources

    ws = make_workspace(tmp_path / "ws")
    make_analysis(ws, "one")
    assert prepare_sources(ws) == ["one"]
    assert (ws.reports / "index.qmd").exists() and (ws.root / "_quarto.yml").exists()
    (ws.analyses / "one" / "result.json").unlink()
    assert prepare_sources(ws) == []
    assert not (ws.reports / "interventions" / "one.qmd").exists()  # stale copy removed


FAKE_QUARTO = """#!/bin/sh
# A stand-in for Quarto: answers --version and mimics `quarto render`'s nested output layout.
if [ "$1" = "--version" ]; then echo "1.5.57"; exit 0; fi
out="$4"
mkdir -p "$out/reports/interventions" "$out/site_libs"
echo "$EVALUATION_REPORT_LANG $QUARTO_PYTHON" > "$out/env.txt"
echo '<script src="../site_libs/quarto.js"></script>' > "$out/reports/index.html"
echo '<script src="../../site_libs/quarto.js"></script>' > "$out/reports/interventions/a.html"
"""


def test_quarto_path_with_a_stand_in_quarto(tmp_path, monkeypatch):
    """With Quarto >= 1.4 on PATH, `quarto render` runs and the site is flattened to _site/."""
    import os
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "quarto"
    exe.write_text(FAKE_QUARTO)
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    ws = make_workspace(tmp_path / "ws")
    result = render_reports(ws, lang="en")
    site = ws.root / "_site"
    assert result.engine == "quarto" and "Quarto 1.5" in result.note
    assert (site / "index.html").read_text().strip() == '<script src="site_libs/quarto.js"></script>'
    assert '"../site_libs/quarto.js"' in (site / "interventions" / "a.html").read_text()
    assert not (site / "reports").exists()
    assert (site / "env.txt").read_text().split() == ["en", sys.executable]


def test_engine_quarto_without_quarto_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no quarto here
    ws = make_workspace(tmp_path / "ws")
    with pytest.raises(ReportError, match=r"quarto: need version >= 1.4 on PATH, found none"):
        render_reports(ws, engine="quarto")


def test_posterior_draws_from_rr_or_log_rr(tmp_path):
    import arviz as az

    from evaluation.report.intervention_page import posterior_rr_draws

    log_rr = np.random.default_rng(0).normal(-0.2, 0.1, size=(2, 50))
    az.from_dict(posterior={"log_rr": log_rr}).to_netcdf(str(tmp_path / "a.nc"))
    assert np.allclose(np.sort(posterior_rr_draws(tmp_path / "a.nc")), np.sort(np.exp(log_rr).ravel()))
    az.from_dict(posterior={"other": log_rr}).to_netcdf(str(tmp_path / "b.nc"))
    assert posterior_rr_draws(tmp_path / "b.nc") is None  # unrecognised: figure skipped with note
    assert posterior_rr_draws(tmp_path / "missing.nc") is None


# --- issue 17: the page opens with the verdict box; failures are shown, not fatal --------------
def test_intervention_page_opens_with_the_verdict_box_and_folds_the_details(site_nl):
    _, result = site_nl
    page = page_text(result.out_dir / "interventions" / "cam-utrecht.html")
    box = page.index('id="verdict-box"')
    assert box < page.index("<details") and box < page.index('id="about-table"')
    assert page.count('id="verdict-box"') == 1


def test_a_zero_lower_bound_and_a_broken_figure_do_not_stop_the_site(site_nl):
    _, result = site_nl
    assert (result.out_dir / "index.html").exists()
    assert_not_blank(figure_png(page_text(result.out_dir / "index.html"), "forest-plot"))
    page = page_text(result.out_dir / "interventions" / "nul-grens.html")
    assert 'data-failed="event_study_figure"' in page and "kon niet worden gemaakt" in page
    assert_not_blank(figure_png(page, "series-plot"))  # the rest of the page is there
    assert "0,00 tot 1,60" in section(page, "effects-table")


def test_rendered_dutch_pages_hold_no_english_tell_tales(site_nl):
    from test_report_verdict_box import ENGLISH, IDENTIFIERS, visible_text

    _, result = site_nl
    for path in [result.out_dir / "index.html", *sorted((result.out_dir / "interventions").glob("*.html"))]:
        raw = path.read_text(encoding="utf-8")
        body = raw[raw.index("<body"):]
        body = re.sub(r'<footer.*?</footer>', "", body, flags=re.S)  # hashes and package names
        body = re.sub(r'<table id="amendment-\d+".*?</table>', "", body, flags=re.S)  # a record
        text = visible_text(body)
        assert not ENGLISH.findall(text), (path.name, ENGLISH.findall(text)[:10])
        assert not IDENTIFIERS.findall(re.sub(r'(id|class|data-[a-z-]+)="[^"]*"', "", body)), \
            (path.name, IDENTIFIERS.findall(body)[:5])


def test_every_rendered_verdict_box_recomputes_to_its_verdict(site_nl):
    from test_report_verdict_box import recomputed

    ws, result = site_nl
    for path in sorted((result.out_dir / "interventions").glob("*.html")):
        raw = path.read_text(encoding="utf-8")
        box = re.search(r'<section class="verdict-box.*?</section>', raw, flags=re.S).group(0)
        shown = re.search(r'data-verdict="(\w+)"', box).group(1)
        res = json.loads((ws.analysis_dir(path.stem) / "result.json").read_text())
        assert shown == res["decision"]["verdict"] and recomputed(box) == shown, path.name
        basis = res["decision"].get("basis")
        if basis:  # the interval beside the verdict is the basis' own, at its own level
            level = verdict_text.level_percent(basis["interval_level"], "nl")
            assert f"({level}-" in html_lib.unescape(box)
