"""The report states the registration's timing, its diagnosis, the ledger head and the deviation
log, in Dutch and in English; the rendered head is what `registry verify` reads back."""

from __future__ import annotations

import json

import pytest

from evaluation import registry
from evaluation.registry import integrity
from evaluation.report.markup import Shared
from evaluation.report.portfolio_page import PortfolioPage
from evaluation.report.registration_section import ledger_marker, registration_section
from evaluation.workspace import init_workspace

HEAD = {"head_sha256": "3f" * 32, "length": 9}
RESULT = {
    "id": "fl-01-x", "design_sha256": "ab" * 32, "registration": "amended",
    "registration_timing": "before_outcome_data", "ledger": HEAD,
    "context": {"registration": {
        "registered_at": "2025-03-01T09:00:00Z", "registered_by": "J. Jansen", "design_sha256": "ab" * 32,
        "diagnosis_sha256": "d1" * 32,
        "amendments": [{"date": "2025-03-05T09:00:00Z", "by": "P. Smit", "reason": "diagnose toegevoegd",
                        "diff": [], "diagnosis_sha256": "d1" * 32, "previous_diagnosis_sha256": None}],
        "control_pool": {"frozen_at": 1, "treated_elsewhere": {},
                         "deviations": [{"unit": "GM0344", "treated_by": "fl-02-b", "seq": 5,
                                         "timestamp": "2025-04-02T09:00:00Z"}]}}},
}


@pytest.fixture
def ws(tmp_path):
    return init_workspace(tmp_path / "ws")


def test_dutch_registration_section(ws):
    text = registration_section(Shared(ws, "nl"), RESULT)
    assert "vóór de uitkomstdata: geregistreerd na de start, maar op data van vóór de start" in text
    assert f"<code>{'d1' * 32}</code>" in text and "kop 3f3f3f3f3f3f (9 vermeldingen)" in text
    assert "diagnose" in text and "d1d1d1d1d1d1" in text  # the attached diagnosis in the amendment
    assert "GM0344" in text and "fl-02-b" in text and "deviations-table" in text


def test_english_section_and_no_diagnosis_no_deviation(ws):
    bare = {**RESULT, "registration_timing": "prospective",
            "context": {"registration": {"amendments": [], "control_pool": {"deviations": []}}}}
    text = registration_section(Shared(ws, "en"), bare)
    assert "prospective: registered before the start" in text
    assert "none: there was no diagnosis for this version of the design" in text
    assert "None: no unit of the comparison group frozen at registration" in text


def test_rendered_heads_are_read_back_by_verify(ws):
    folder = ws.analysis_dir("fl-01-x")
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps(RESULT))
    footer = PortfolioPage(Shared(ws, "nl"), {}, True).footer()
    assert ledger_marker(HEAD) in footer and "kop 3f3f3f3f3f3f (9 vermeldingen)" in footer
    page = ws.root / "_site" / "index.html"
    page.parent.mkdir()
    page.write_text(footer)
    found = {(r.where, r.head.length) for r in integrity.recorded_heads(ws)}
    assert found == {("analyses/fl-01-x/result.json", 9), ("_site/index.html", 9)}
    problems = registry.verify(ws, history=False).problems  # an empty ledger cannot hold entry 9
    assert len(problems) == 2 and all("entry 9 (hash 3f3f3f3f3f3f) is gone" in p for p in problems)
