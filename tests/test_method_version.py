"""The method version (issue 12): a hash of every constant that changes a number, recorded in the
registration and in each result; another method version than registered is a deviation."""

from __future__ import annotations

import ast
import json
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from evaluation import defaults, method, registry
from evaluation.design.model import load_design
from evaluation.workspace import init_workspace

DEFAULTS_FILE = Path(defaults.__file__)


def default_names() -> set[str]:
    tree = ast.parse(DEFAULTS_FILE.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        names.update(t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper())
    return names


def test_every_default_is_either_a_method_constant_or_says_why_not():
    listed = set(method.METHOD_CONSTANTS)
    excused = set(method.NOT_METHOD)
    assert not listed & excused, "a constant is in both lists"
    assert default_names() == listed | excused, (
        "classify the new default in evaluation/method.py: METHOD_CONSTANTS if it can change a "
        "number of an analysis, else NOT_METHOD with the reason")


def test_the_version_changes_with_a_method_constant_and_only_then(monkeypatch):
    before = method.method_version()
    assert len(before) == 12 and int(before, 16) >= 0
    assert method.method_version() == before  # deterministic
    monkeypatch.setattr(defaults, "PRIOR_LOG_RR_SD", 0.5)
    changed = method.method_version()
    assert changed != before
    monkeypatch.setattr(defaults, "PRIOR_LOG_RR_SD", 0.47)
    assert method.method_version() == before
    monkeypatch.setattr(defaults, "REPORT_FIGURE_DPI", 300)  # no number of an analysis
    assert method.method_version() == before
    monkeypatch.setattr(method, "LOGIC_REVISION", method.LOGIC_REVISION + 1)
    assert method.method_version() not in (before, changed)


def test_registration_records_the_method_version(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    data = {"id": "fl-01-x", "title": "x", "owner": "x", "hypothesis": "x", "design": "did",
            "treatment": {"units": ["GM0001"], "start": "2025-04-14"},
            "window": {"start": "2024-01-01", "end": "2025-07-22"}}
    path = ws.design_path("fl-01-x")
    path.write_text(yaml.safe_dump(data))
    periods = pd.date_range("2024-01-01", periods=60, freq="W-MON")
    frame = pd.DataFrame([(u, p) for u in ("GM0001", "GM0002") for p in periods],
                         columns=["unit", "period"])
    frame["y"] = np.ones(len(frame))
    source = types.SimpleNamespace(frame=frame, cutoff=periods[-1].date(), integer_periods=False)
    registry.register(load_design(path), workspace=ws, by="tester", source=source)
    entry = json.loads(ws.registry.read_text().splitlines()[-1])
    assert entry["method_version"] == method.method_version()


def test_method_module_imports_only_the_defaults():
    tree = ast.parse(Path(method.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in imported if m and m.startswith("evaluation")} == {"evaluation"}


def test_each_result_records_it_and_another_version_is_a_deviation(tmp_path, monkeypatch, capsys):
    from test_analysis import _design, _panel, _write

    from evaluation import analyse
    from evaluation.cli import main
    from evaluation.report import verdict_text

    ws = init_workspace(tmp_path / "ws")
    _panel().to_csv(ws.root / "data" / "panel.csv", index=False)
    path = _write(ws, _design(analysis={"alpha": 0.10}))
    assert main(["--workspace", str(ws.root), "register", path, "--by", "Tester"]) == 0
    capsys.readouterr()
    first = analyse(path, workspace=ws)
    saved = json.loads((ws.analyses / "pilot" / "result.json").read_text())
    assert saved["method_version"] == method.method_version() == first.method_version
    assert "method_version" not in saved["software"]  # package versions beside it, not in it
    assert first.decision["deviations"] == []
    # the design's alpha 0.10: a 90% interval, labelled so
    assert first.decision["basis"]["interval_level"] == pytest.approx(0.90)
    assert "90% CI" in verdict_text.reasons(first.decision, "en")[0]

    registered = method.method_version()
    monkeypatch.setattr(defaults, "RI_CI_TOLERANCE", 0.01)  # a method setting changed since
    second = analyse(path, workspace=ws)
    assert second.method_version != registered
    assert second.decision["deviations"] == [{"code": "method_version_changed",
                                             "registered": registered,
                                             "current": second.method_version}]
    assert second.decision["verdict"] == first.decision["verdict"]  # a deviation, not a block
    assert f"registered under {registered}" in " ".join(
        verdict_text.reasons(second.decision, "en"))
