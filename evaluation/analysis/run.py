"""`analyse()`: run the registered analysis of one design and write `analyses/<id>/`.

The orchestration only: registration check -> data -> frequentist estimator -> optional Bayesian
model -> verdict -> files. Every number comes from the estimator modules.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.analysis.prepare import prepare
from evaluation.analysis.result import POSTERIOR_FILE, AnalysisResult
from evaluation.design.model import Design, load_design
from evaluation.errors import DesignError, RegistryError
from evaluation.estimators.core import estimate
from evaluation.estimators.prepared import PreparedData
from evaluation.method import method_version
from evaluation.workspace import Workspace, find_workspace

SOFTWARE = ("numpy", "pandas", "scipy", "statsmodels", "linearmodels", "pyfixest", "csdid",
            "pymc", "arviz", "duckdb", "pydantic")


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "evaluation": _version("evaluation")}
    versions.update({name: _version(name) for name in SOFTWARE})
    return versions


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def resolve_design(design: str | os.PathLike | Design, workspace: Workspace) -> tuple[Design, Path | None]:
    """A Design from an id, a path or a Design object (with its file path when known)."""
    if isinstance(design, Design):
        path = workspace.design_path(design.id)
        return design, path if path.exists() else None
    text = str(design)
    path = Path(text)
    if not path.exists() and not text.endswith((".yaml", ".yml")):
        path = workspace.design_path(text)
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in workspace.designs.glob("*.yaml"))) or "none"
            raise DesignError(f"{text}: no design with this id in {workspace.designs} (known: {known})")
    return load_design(path), path


def units_treated_elsewhere(design: Design, workspace: Workspace) -> set[str]:
    """Units treated by the workspace's other designs: they are not 'never treated' controls."""
    units: set[str] = set()
    for path in sorted(workspace.designs.glob("*.yaml")):
        if path.stem == design.id:
            continue
        try:
            other = load_design(path)
        except DesignError as exc:
            # its treated units could otherwise slip into this design's controls unnoticed
            raise DesignError(
                f"{path}: cannot tell which units this other design treats, so they cannot be kept out "
                f"of the controls of {design.id}; fix it or move it out of designs/ ({exc})"
            ) from None
        if other.data.source == design.data.source:
            units.update(other.treatment.units)
    return units


def read_neighbours(workspace: Workspace) -> pd.DataFrame | None:
    path = workspace.neighbours
    if not path.exists():
        return None
    frame = pd.read_csv(path, dtype=str)
    missing = {"unit", "neighbour"} - set(frame.columns)
    if missing:
        raise DesignError(f"{path}: column(s) {', '.join(sorted(missing))} missing; a neighbour list has columns unit, neighbour")
    return frame[["unit", "neighbour"]]




def analyse(design: str | os.PathLike | Design, *, exploratory: bool = False,
            workspace: Workspace | str | os.PathLike | None = None,
            db: str | os.PathLike | None = None, write: bool = True) -> AnalysisResult:
    """Run the registered analysis of `design` and (by default) write analyses/<id>/."""
    ws = workspace if isinstance(workspace, Workspace) else find_workspace(workspace)
    design_obj, _ = resolve_design(design, ws)

    from evaluation.registry.status import registration_status

    registration = registration_status(design_obj, ws)
    if not registration.matches and not exploratory:
        raise RegistryError(
            f"{design_obj.id}: the design file does not match its registration ({registration.status}); "
            f"register it (`evaluation register`), record the change (`evaluation amend FILE --reason ... --by ...`) "
            "or run with --exploratory"
        )
    label = "exploratory" if exploratory else registration.status

    from evaluation.progress import progress_bar

    steps = 3 if design_obj.analysis.bayesian else 2
    with progress_bar(f"analysing {design_obj.id}", steps) as advance:
        data = prepare(design_obj, ws, db=db, exclude_units=units_treated_elsewhere(design_obj, ws))
        advance()
        output = estimate(data, neighbours=read_neighbours(ws))
        advance()
        bayesian_summary, idata, checks = None, None, list(output.checks)
        if design_obj.analysis.bayesian:
            from evaluation.estimators.bayes import fit_bayesian
            from evaluation.estimators.bayes.checks import bayesian_checks

            fitted = fit_bayesian(data, frequentist=output)
            bayesian_summary, idata = fitted.summary, fitted.idata
            checks.extend(bayesian_checks(bayesian_summary, basis=design_obj.decision.basis))
            advance()

    from evaluation.analysis.decision import decide
    from evaluation.design.diagnosis_file import current_diagnosis

    primary = dict(output.primary)
    current_method = method_version()
    decision = decide(
        primary=primary, bayesian=bayesian_summary, checks=[c.to_dict() for c in checks],
        registration={"status": label, "matches": registration.matches, "design": design_obj.design,
                      "controlled": bool(data.control_units)},
        rule=design_obj.decision, alpha=design_obj.analysis.alpha,
        deviations=method_deviations(registration.latest, current_method),
        diagnosis=current_diagnosis(ws, design_obj),
    )
    result = AnalysisResult(
        id=design_obj.id, design=design_obj.design, design_sha256=design_obj.sha256,
        data_sha256=data.data_sha256, registration=label, data_cutoff=data.data_cutoff,
        primary=primary, estimates=output.estimates, checks=tuple(checks),
        software=software_versions(), series=output.series, event_study=output.event_study,
        extras=output.extras, bayesian=bayesian_summary, decision=decision,
        context=_context(design_obj, data, registration), method_version=current_method,
    )
    if write:
        folder = result.write(ws.analysis_dir(design_obj.id))
        posterior = folder / POSTERIOR_FILE
        if idata is not None:
            from evaluation.estimators.bayes import save_posterior

            save_posterior(idata, posterior)
        elif posterior.exists():
            posterior.unlink()
        _copy_diagnosis(ws, design_obj, folder)
    return result


def method_deviations(entry: dict[str, Any] | None, current: str) -> list[dict[str, Any]]:
    """A deviation when the analysis runs under another method version than its registration
    recorded (or the registration recorded none: registered before method versions existed)."""
    if entry is None:
        return []
    registered = entry.get("method_version")
    if registered == current:
        return []
    code = "method_version_changed" if registered else "method_version_unrecorded"
    return [{"code": code, "registered": registered, "current": current}]


def _copy_diagnosis(ws: Workspace, design: Design, folder: Path) -> None:
    """The pre-registration diagnosis (designs/<id>.diagnosis.json) travels with the result."""
    source = ws.designs / f"{design.id}.diagnosis.json"
    target = folder / "diagnosis.json"
    if source.exists():
        shutil.copyfile(source, target)
    elif target.exists():
        target.unlink()




def _context(design: Design, data: PreparedData, registration: Any) -> dict[str, Any]:
    starts = {u: _iso(design.treatment.start_of(u)) for u in design.treatment.units} \
        if design.treatment.start is not None else {}
    return {
        "title": design.title,
        "owner": design.owner,
        "hypothesis": design.hypothesis,
        "frequency": design.data.frequency,
        "outcome": design.data.outcome,
        "target_types": list(design.data.target_types),
        "outcomes": list(design.data.outcomes),
        "units": list(data.treated_units),
        "control_units": len(data.control_units),
        "starts": starts,
        "end": _iso(design.treatment.end),
        "window": {"start": _iso(design.window.start), "end": _iso(design.window.end),
                   "exclude": None if design.window.exclude is None else
                   {"start": _iso(design.window.exclude.start), "end": _iso(design.window.exclude.end)}},
        "model": design.analysis.model,
        "registration": registration.to_dict() if hasattr(registration, "to_dict") else {},
        "decision_rule": design.decision.model_dump(),
        "notes": list(data.notes),
    }


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
