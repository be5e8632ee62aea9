"""Issue 17: the committee's pages show a design's title and hypothesis in the page language
when the design gives both; one text is shown as it is; an empty language is refused."""

from __future__ import annotations

import pytest

from evaluation.design.model import parse_design
from evaluation.design.texts import local_text
from evaluation.errors import DesignError


def _design(**texts) -> dict:
    return {"id": "pilot", "title": "T", "owner": "O", "hypothesis": "H", "design": "did",
            "treatment": {"units": ["GM0363"], "start": "2025-03-03"},
            "window": {"start": "2024-01-01", "end": "2025-06-10"}, **texts}


def test_one_text_or_one_per_language():
    both = parse_design(_design(title={"nl": "Schoolbezoeken", "en": "School visits"}))
    assert local_text(both.title, "nl") == "Schoolbezoeken"
    assert local_text(both.title, "en") == "School visits"
    only_dutch = parse_design(_design(hypothesis={"nl": "Minder aanslagen."}))
    assert local_text(only_dutch.hypothesis, "en") == "Minder aanslagen."  # the one given
    assert local_text(parse_design(_design()).title, "nl") == "T"


@pytest.mark.parametrize("title", [{}, {"nl": "  "}, {"de": "Schulbesuche"}])
def test_empty_or_unknown_languages_are_refused(title):
    with pytest.raises(DesignError, match="title"):
        parse_design(_design(title=title))


def test_every_demo_design_speaks_both_languages():
    from pathlib import Path

    import yaml

    for path in sorted((Path(__file__).resolve().parents[1] / "designs").glob("fl-*.yaml")):
        design = yaml.safe_load(path.read_text(encoding="utf-8"))
        for field in ("title", "hypothesis"):
            assert set(design[field]) == {"nl", "en"}, (path.name, field)
