"""Incremental analyses: rerun a design only when an input of its result changed.

`analyse_or_reuse` computes the inputs key (`evaluation.analysis.inputs`: no data preparation, no
model fit) and compares it with the key recorded beside the result in `analyses/<id>/`; when they
are equal the stored result is returned as it is, otherwise (or with `force`) the analysis runs
and writes a new result with its key. The stored files are never touched on reuse, so a reused
result is byte for byte the result a rerun would write, bar the ledger head it records: that is
the head it ran under, which is still in the ledger (a later entry of another design that does
not change this design's control pool does not change a number of it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from evaluation.analysis.inputs import (
    changed_facts,
    inputs_key,
    recorded_inputs,
    resolve_design,
    software_versions,
)
from evaluation.analysis.result import (
    AnalysisResult,
)
from evaluation.analysis.saved import load_result
from evaluation.design.model import Design
from evaluation.errors import AnalysisError
from evaluation.workspace import Workspace


@dataclass(frozen=True)
class Outcome:
    """One design's analysis: the result, whether it was reused, and which facts changed."""

    result: AnalysisResult
    reused: bool
    changed: tuple[str, ...] = ()  # facts of the inputs key that differ from the recorded ones

    def status_line(self) -> str:
        """`fl-01: unchanged, reused` or `fl-01: analysed (changed: data, software)`."""
        if self.reused:
            return f"{self.result.id}: unchanged, reused"
        return f"{self.result.id}: analysed (changed: {', '.join(self.changed) or 'forced'})"


def analyse_or_reuse(design: str | os.PathLike | Design, *, workspace: Workspace,
                     force: bool = False, exploratory: bool = False,
                     db: str | os.PathLike | None = None,
                     data_version: int | None = None) -> Outcome:
    """The stored result of `design` when its inputs key is unchanged, else a new analysis."""
    design_obj, _ = resolve_design(design, workspace)
    folder = workspace.analysis_dir(design_obj.id)
    current = inputs_key(design_obj, workspace, exploratory=exploratory, db=db,
                         data_version=data_version, software=software_versions())
    recorded = recorded_inputs(folder)
    if not force and recorded is not None and recorded["sha256"] == current["sha256"]:
        stored = read_result(folder)
        if stored is not None:
            return Outcome(result=stored, reused=True)
    changed = () if force else tuple(changed_facts(recorded, current))
    from evaluation.analysis.run import analyse  # the estimators are imported only to run

    result = analyse(design_obj, exploratory=exploratory, workspace=workspace, db=db,
                     data_version=data_version)
    return Outcome(result=result, reused=False, changed=changed)


def read_result(folder: Path) -> AnalysisResult | None:
    """The result stored in `folder` (`load_result`), or None when it cannot be read (then the
    design is analysed again). Its `to_json()` is the stored result.json."""
    try:  # the posterior stays on disk: reading it would import ArviZ for nothing
        return load_result(folder, with_posterior=False)
    except (AnalysisError, OSError, TypeError, ValueError, KeyError):
        return None  # a result written by another version of AnalysisResult: run again
