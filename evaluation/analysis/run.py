"""`analyse()`: run the registered analysis of one design and write `analyses/<id>/`.

The orchestration only: registration check -> data -> frequentist estimator -> optional Bayesian
model -> verdict -> files. Every number comes from the estimator modules.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.analysis.deviations import control_pool_check
from evaluation.analysis.inputs import inputs_key, resolve_design, software_versions, write_inputs
from evaluation.analysis.phases import phase_estimates, with_phase_rows
from evaluation.analysis.prepare import prepare, source_panel
from evaluation.analysis.result import DIAGNOSIS_FILE, POSTERIOR_FILE, AnalysisResult
from evaluation.data.panel import SourcePanel
from evaluation.data.periods import period_json
from evaluation.design.model import Design
from evaluation.errors import AnalysisError, DesignError, RegistryError
from evaluation.estimators.core import estimate
from evaluation.estimators.fit_warnings import warning_log, warnings_check
from evaluation.estimators.prepared import PreparedData
from evaluation.files import clean, replaced_folder
from evaluation.method import method_version
from evaluation.registry.control_pool import ControlPool, control_pool
from evaluation.registry.ledger import head, read_entries, self_sha256
from evaluation.registry.registration import pre_period_sha256
from evaluation.registry.status import registration_of
from evaluation.workspace import Workspace, find_workspace


def units_treated_elsewhere(design: Design, workspace: Workspace) -> set[str]:
    """Units other interventions treat, from the ledger (registered versions, never the files in
    designs/): frozen at the design's registration, or the ledger as it stands for a design not
    registered yet (its diagnosis, an exploratory run). Drafts change nothing."""
    return set(control_pool(design, read_entries(workspace.registry)).excluded)


def history_facts(design: Design, source: SourcePanel, data: PreparedData, *,
                  excluded: set[str]) -> dict[str, Any]:
    """What a diagnosis records about the data it used: the hash of the history it simulated
    from, the source's cut-off, the periods used, the pre-period hash a registration records
    (equal when both saw the same data before the start) and the units kept out of the controls
    because registered designs treat them."""
    periods = data.panel["period"]
    return clean({
        "data_sha256": data.data_sha256,
        "data_cutoff": period_json(source.cutoff),
        "first_period": period_json(periods.min()) if len(periods) else None,
        "last_period": period_json(periods.max()) if len(periods) else None,
        "pre_period_sha256": pre_period_sha256(design, source),
        "units_treated_elsewhere": sorted(excluded),
    })


def read_neighbours(workspace: Workspace, merged: dict[str, str] | None = None) -> pd.DataFrame | None:
    """The neighbour list, with codes of merged municipalities mapped like the incidents."""
    path = workspace.neighbours
    if not path.exists():
        return None
    frame = pd.read_csv(path, dtype=str)
    missing = {"unit", "neighbour"} - set(frame.columns)
    if missing:
        raise DesignError(f"{path}: column(s) {', '.join(sorted(missing))} missing; a neighbour list has columns unit, neighbour")
    frame = frame[["unit", "neighbour"]]
    if merged:
        frame = frame.apply(lambda column: column.map(lambda code: merged.get(code, code)))
        frame = frame.loc[frame["unit"] != frame["neighbour"]].drop_duplicates(ignore_index=True)
    return frame


def analyse(design: str | os.PathLike | Design, *,
            data: pd.DataFrame | str | os.PathLike | None = None, write: bool = True,
            workspace: Workspace | str | os.PathLike | None = None, exploratory: bool = False,
            db: str | os.PathLike | None = None, data_version: int | None = None) -> AnalysisResult:
    """Run the registered analysis of `design` and (by default) write analyses/<id>/.

    `data`: None for the design's own source (the store or its panel file), or a pandas
    DataFrame / panel file with the design's columns, validated like a panel file (the caller's
    frame is not changed). Such an analysis is exploratory unless the data before the start are
    those the registration recorded (its pre-period hash). `write=False` writes nothing.
    `data_version`: analyse the incident store as it stood at that data version (default: the
    latest); the same version gives the same result.
    """
    ws = workspace if isinstance(workspace, Workspace) else find_workspace(workspace)
    design_obj, _ = resolve_design(design, ws)
    if data is not None and data_version is not None:
        raise AnalysisError("data_version: only for the incident store; leave it out when you give data")
    # the key of the inputs as they stand before anything is read (evaluation.analysis.inputs):
    # should one change during the run, the recorded key is older and the next run redoes it.
    # Data given by the caller have no key: such a result is never reused.
    inputs = None if data is not None else inputs_key(
        design_obj, ws, exploratory=exploratory, db=db, data_version=data_version,
        software=software_versions())

    entries = read_entries(ws.registry)
    registration = registration_of(design_obj.id, design_obj.sha256, entries)
    pool = control_pool(design_obj, entries)
    source = _source(design_obj, ws, db=db, data_version=data_version, data=data)
    exploratory = exploratory or (data is not None and not _registered_data(registration, design_obj, source))
    if not registration.matches and not exploratory:
        raise RegistryError(
            f"{design_obj.id}: the design file does not match its registration ({registration.status}); "
            f"register it (`evaluation register`), record the change (`evaluation amend FILE --reason ... --by ...`) "
            "or run with --exploratory"
        )
    label = "exploratory" if exploratory else registration.status

    from evaluation.progress import progress_bar

    steps = 3 if design_obj.analysis.bayesian else 2
    # every warning of the fits is recorded into the `fit_warnings` check, none printed
    with progress_bar(f"analysing {design_obj.id}", steps) as advance, warning_log() as log:
        prepared = prepare(design_obj, ws, db=db, exclude_units=pool.excluded, source=source)
        advance()
        merged = (source.boundaries or {}).get("merged")
        output = estimate(prepared, neighbours=read_neighbours(ws, merged))
        phases = phase_estimates(prepared)  # treatment.end: the period the verdict is not about
        advance()
        bayesian_summary, idata, checks = None, None, list(output.checks)
        deviation = control_pool_check(prepared, primary=output.primary, pool=pool)
        checks.extend([deviation] if deviation is not None else [])
        if design_obj.analysis.bayesian:
            from evaluation.estimators.bayes import fit_bayesian
            from evaluation.estimators.bayes.checks import bayesian_checks

            fitted = fit_bayesian(prepared, frequentist=output)
            bayesian_summary, idata = fitted.summary, fitted.idata
            checks.extend(bayesian_checks(bayesian_summary, basis=design_obj.decision.basis))
            advance()
    checks.append(warnings_check(log))

    from evaluation.analysis.decision import decide
    from evaluation.design.diagnosis_file import current_diagnosis

    primary = dict(output.primary)
    current_method = method_version()
    decision = decide(
        primary=primary, bayesian=bayesian_summary, checks=[c.to_dict() for c in checks],
        registration={"status": label, "matches": registration.matches, "design": design_obj.design,
                      "controlled": bool(prepared.control_units)},
        rule=design_obj.decision, alpha=design_obj.analysis.alpha,
        deviations=method_deviations(registration.latest, current_method),
        diagnosis=current_diagnosis(ws, design_obj),
    )
    result = AnalysisResult(
        id=design_obj.id, design=design_obj.design, design_sha256=design_obj.sha256,
        data_sha256=prepared.data_sha256, registration=label, data_cutoff=prepared.data_cutoff,
        primary=primary, estimates=with_phase_rows(output.estimates, phases, primary),
        checks=tuple(checks), software=software_versions(), series=output.series,
        event_study=output.event_study,
        extras={**output.extras, **({"phases": phases} if phases else {})},
        bayesian=bayesian_summary, decision=decision,
        context=_context(design_obj, prepared, registration, pool, source,
                         noted=_noted_units([*prepared.notes, *(primary.get("notes") or [])])),
        method_version=current_method,
        data_version=source.data_version,
        registration_timing=None if exploratory else registration.timing,
        ledger=head(entries).to_dict(),
        model_fit=output.fit, posterior=idata,
    )
    if write:
        # written beside analyses/<id>/ and switched in as a whole: a run killed half-way leaves
        # the previous result, never a folder with files from two runs
        with replaced_folder(ws.analysis_dir(design_obj.id)) as folder:
            result.write_files(folder)
            if inputs is not None:
                write_inputs(folder, inputs)
            if idata is not None:
                from evaluation.estimators.bayes import save_posterior

                save_posterior(idata, folder / POSTERIOR_FILE)
            _copy_diagnosis(ws, design_obj, folder,
                            attached=None if exploratory else registration.diagnosis_sha256)
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


def _registered_data(registration: Any, design: Design, source: SourcePanel) -> bool:
    """Data given to `analyse` count as the registered data when their rows before the start
    are those the registration recorded (its pre-period hash)."""
    recorded = (registration.latest or {}).get("pre_period_sha256")
    return recorded is not None and recorded == pre_period_sha256(design, source)


def _source(design: Design, ws: Workspace, *, db: str | os.PathLike | None,
            data_version: int | None, data: Any = None) -> SourcePanel:
    if data is not None:
        return source_panel(design, ws, data=data)
    if data_version is not None and not design.data.from_store:
        raise AnalysisError(
            f"--data-version: {design.id} reads the panel file {design.data.source}, which has no "
            "data versions; leave out --data-version (data versions belong to the incident store)"
        )
    return source_panel(design, ws, db=db, data_version=data_version)


def _copy_diagnosis(ws: Workspace, design: Design, folder: Path, *, attached: str | None) -> None:
    """The diagnosis attached to the registration (designs/<id>.diagnosis.json, when it is still
    the one whose hash the ledger holds) travels with the result; no other does. The folder is
    new (written beside the old one), so nothing stale needs removing."""
    source = ws.designs / f"{design.id}.diagnosis.json"
    if attached is not None and source.exists() and _intact(source, attached):
        shutil.copyfile(source, folder / DIAGNOSIS_FILE)


def _intact(path: Path, sha256: str) -> bool:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and saved.get("sha256") == sha256 == self_sha256(saved, "sha256")


def _noted_units(notes: list[Any]) -> tuple[str, ...]:
    """The units the notes name (codes with values, `evaluation.notes`), for their names."""
    found: list[str] = []
    for item in notes:
        values = item.to_dict() if hasattr(item, "to_dict") else item
        found.extend(str(u) for u in (values.get("units") or ()))
    return tuple(found)


def _context(design: Design, data: PreparedData, registration: Any, pool: ControlPool,
             source: SourcePanel, *, noted: tuple[str, ...] = ()) -> dict[str, Any]:
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
        "registration": {**registration.to_dict(), "control_pool": pool.to_dict()},
        "decision_rule": design.decision.model_dump(),
        "notes": [n.to_dict() for n in data.notes],
        # names shown in reports: the municipality reference's (or the units table's), never
        # an incident row's; for the treated units, every unit the control-pool section names
        # (treated elsewhere, deviations since the freeze) and every unit a note names
        "unit_names": _unit_names(source.frame, tuple(dict.fromkeys(
            (*data.treated_units, *pool.excluded, *pool.deviation_units, *noted)))),
        # the municipal boundaries every count and population was mapped onto (store only)
        "boundaries": source.boundaries,
    }


def _unit_names(frame: pd.DataFrame, units: tuple[str, ...]) -> dict[str, str]:
    if "name" not in frame:
        return {}
    names = frame.drop_duplicates("unit").set_index("unit")["name"]
    return {u: str(names[u]) for u in units if u in names.index and isinstance(names[u], str)}


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
