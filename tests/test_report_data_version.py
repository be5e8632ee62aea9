"""An intervention page names the data version, the municipal boundaries and the reference's
names of its units (never an incident row's)."""

from __future__ import annotations

import json

import pytest

from evaluation.report.intervention_page import InterventionPage
from evaluation.report.markup import Shared
from evaluation.workspace import init_workspace

RESULT = {
    "id": "pilot", "design": "did", "design_sha256": "ab" * 32, "data_sha256": "cd" * 32,
    "data_cutoff": "2025-06-30", "registration": "registered", "software": {"python": "3.11"},
    "data_version": {"number": 3, "sha256": "ef" * 32},
    "context": {
        "units": ["GM9325", "GM0363"], "unit_names": {"GM9325": "Demogemeente 325"},
        "starts": {"GM9325": "2025-03-03"}, "window": {"start": "2024-01-01", "end": "2025-06-10"},
        "boundaries": {"year": 2025, "date": "2025-06-10", "reference": True,
                       "merged": {"GM9128": "GM9325", "GM9156": "GM9325"},
                       "ended_without_successor": [],
                       "names": {"GM9128": "Demogemeente 128", "GM9325": "Demogemeente 325"}},
    },
}


@pytest.mark.parametrize(("lang", "words"), [
    ("nl", ["Gegevensversie", "3 (sha256 efefefefefef…)", "gemeenten zoals in 2025",
            # named where the reference names them (GM9156 is not in this result's names)
            "Demogemeente 128 → Demogemeente 325, GM9156 → Demogemeente 325",
            "Demogemeente 325, GM0363"]),
    ("en", ["Data version", "municipalities as in 2025", "Demogemeente 325"]),
])
def test_about_and_footer_show_version_boundaries_and_names(tmp_path, lang, words):
    ws = init_workspace(tmp_path / "ws")
    (ws.analyses / "pilot").mkdir()
    (ws.analyses / "pilot" / "result.json").write_text(json.dumps(RESULT), encoding="utf-8")
    page = InterventionPage.load(Shared(ws, lang), "pilot")
    about = page.about()
    assert all(word in about for word in words), about
    assert "(GM9325)" not in about  # issue 17: the name where the reference has one, not the code
    assert f"<code>{'ef' * 32}</code>" in page.footer()
