"""The research notebook (issue 18) runs from top to bottom in a fresh workspace that holds the
committed demo designs: it builds the synthetic demo store, analyses one intervention without
writing, plots, and compares two models."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from evaluation.workspace import init_workspace

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "research_api.ipynb"


@pytest.mark.slow  # builds the national demo store and runs two national DiD analyses
def test_the_research_notebook_runs_and_writes_nothing(tmp_path, monkeypatch):
    ws = init_workspace(tmp_path / "ws")
    for path in (REPO / "designs").iterdir():
        if path.is_file():
            shutil.copyfile(path, ws.designs / path.name)
    monkeypatch.setenv("EVALUATION_WORKSPACE", str(ws.root))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=3000, kernel_name="python3",
                   resources={"metadata": {"path": str(ws.root)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "rate ratio" in text and "exploratory" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2
    assert not any(ws.analyses.iterdir())  # write=False: nothing in analyses/
