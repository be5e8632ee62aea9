"""Duplicate keys are refused, naming both lines, in every YAML the framework reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_design import BASE_YAML

from evaluation.design.model import load_design
from evaluation.design.yaml_loader import load_yaml
from evaluation.errors import DesignError
from evaluation.report import ReportError
from evaluation.report.fallback import parse_qmd

PACKAGE = Path(__file__).resolve().parents[1] / "evaluation"
DESIGN = BASE_YAML + "decision:\n  min_reduction: 0.1\n"  # 13 lines


def write(tmp_path, text):
    path = tmp_path / "fl-01-school-visits.yaml"
    path.write_text(text)
    return path


def test_a_duplicate_nested_key_names_both_lines(tmp_path):
    path = write(tmp_path, DESIGN + "  min_reduction: 0.3\n")  # lines 13 and 14
    with pytest.raises(DesignError) as info:
        load_design(path)
    assert str(info.value) == (f"{path}: key `min_reduction` appears twice, on line 13 and line 14; "
                               "keep one of them (YAML would silently use the last)")


def test_a_duplicate_top_level_key_and_a_flow_mapping(tmp_path):
    with pytest.raises(DesignError, match=r"key `title` appears twice, on line 2 and line 14"):
        load_design(write(tmp_path, DESIGN + "title: Another title\n"))
    with pytest.raises(DesignError, match=r"key `start` appears twice, on line 1 and line 1"):
        load_yaml("window: {start: 2024-01-01, start: 2024-02-05}\n", source="x.yaml")


def test_the_same_key_in_different_mappings_and_merge_keys_are_fine():
    text = "base: &b {a: 1, b: 2}\nfirst: {a: 1}\nsecond: {a: 2}\nmerged:\n  <<: *b\n  a: 3\n"
    assert load_yaml(text, source="x.yaml") == {"base": {"a": 1, "b": 2}, "first": {"a": 1},
                                                 "second": {"a": 2}, "merged": {"a": 3, "b": 2}}


def test_design_check_refuses_the_duplicate(tmp_path, capsys):
    from evaluation.cli import main
    from evaluation.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    ws.design_path("fl-01-school-visits").write_text(DESIGN.replace("design: did", "design: did\ndesign: its"))
    code = main(["--workspace", str(ws.root), "design", "check", "fl-01-school-visits"])
    assert code == 1
    assert "key `design` appears twice, on line 5 and line 6" in capsys.readouterr().err


def test_report_front_matter_and_cell_options_refuse_duplicates():
    with pytest.raises(ReportError, match=r"p.qmd: front matter: key `format` appears twice, on line 2 "
                                          r"and line 3"):
        parse_qmd("---\nformat: html\nformat: pdf\n---\ntext\n", name="p.qmd")
    qmd = "text\n```{python}\n#| output: asis\n#| output: false\nprint(1)\n```\n"
    with pytest.raises(ReportError, match=r"cell on line 2: key `output` appears twice, on line 3 "
                                          r"and line 4"):
        parse_qmd(qmd, name="p.qmd")


def test_no_other_yaml_loader_in_the_package():
    """Every YAML goes through design.yaml_loader.load_yaml (one loader, used everywhere)."""
    pattern = re.compile(r"\byaml\.(safe_load|load|full_load|unsafe_load)\b|\bsafe_load\(")
    offenders = [str(p.relative_to(PACKAGE)) for p in sorted(PACKAGE.rglob("*.py"))
                 if p.name != "yaml_loader.py" and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
