"""Reading the registry: where each design stands, and whether the ledger is intact.

`registration_status` is what analyses call before they run; `verify` is `evaluation registry
verify`; `workspace_status` is `evaluation status`.

A registration's timing (prospective, before outcome data, retrospective; see
`evaluation.registry.registration.TIMINGS`) and its `retrospective` flag come from the latest
entry that changed the design: an amendment that only attaches a diagnosis changes neither.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from evaluation.design.model import Design, load_design
from evaluation.errors import DesignError, RegistryError
from evaluation.registry import integrity
from evaluation.registry.control_pool import control_pool
from evaluation.registry.ledger import (
    Head,
    chain_problems,
    entries_by_id,
    head,
    read_entries,
    read_locked,
)
from evaluation.registry.registration import entry_timing
from evaluation.workspace import Workspace

Status = Literal["registered", "amended", "retrospective", "unregistered", "modified-since-registration"]


@dataclass(frozen=True)
class Registration:
    """Where one design stands in the ledger (what analyses check before they run)."""

    id: str
    status: Status
    matches: bool  # the design's hash equals its latest registered hash
    design_sha256: str
    latest: dict[str, Any] | None
    amendments: tuple[dict[str, Any], ...]
    registered_at: str | None
    registered_by: str | None
    retrospective: bool
    timing: str | None = None  # prospective | before_outcome_data | retrospective (None: unregistered)
    diagnosis_sha256: str | None = None  # the diagnosis attached to the latest entry

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        latest = data.pop("latest")
        data["amendments"] = list(self.amendments)
        data["registered_sha256"] = latest.get("design_sha256") if latest else None
        data["data_cutoff"] = latest.get("data_cutoff") if latest else None
        return data


def changes_design(entry: dict[str, Any]) -> bool:
    """A registration, or an amendment that changed the design (not only its diagnosis)."""
    return entry.get("kind") == "registration" or entry.get("previous_design_sha256") != entry.get("design_sha256")


def amendment_record(entry: dict[str, Any]) -> dict[str, Any]:
    """One amendment as the deviation log shows it."""
    return {"date": entry.get("timestamp"), "by": entry.get("registrant"), "reason": entry.get("reason"),
            "diff": entry.get("diff"), "diagnosis_sha256": entry.get("diagnosis_sha256"),
            "previous_diagnosis_sha256": entry.get("previous_diagnosis_sha256")}


def registration_of(design_id: str, sha256: str, entries: list[dict[str, Any]]) -> Registration:
    own = [e for e in entries if e.get("id") == design_id]
    if not own:
        return Registration(design_id, "unregistered", False, sha256, None, (), None, None, False)
    first, latest = own[0], own[-1]
    amendments = tuple(amendment_record(e) for e in own[1:])
    matches = latest.get("design_sha256") == sha256
    timing = entry_timing(([e for e in own if changes_design(e)] or own)[-1])
    retrospective = timing == "retrospective"
    status: Status
    if not matches:
        status = "modified-since-registration"
    elif retrospective:
        status = "retrospective"
    elif amendments:
        status = "amended"
    else:
        status = "registered"
    return Registration(design_id, status, matches, sha256, latest, amendments,
                        first.get("timestamp"), first.get("registrant"), retrospective, timing,
                        latest.get("diagnosis_sha256"))


def _as_workspace(workspace: Workspace | str | os.PathLike) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))


def registration_status(design: Design, workspace: Workspace | str | os.PathLike) -> Registration:
    """The registration of `design` (a loaded Design) in the workspace ledger."""
    ws = _as_workspace(workspace)
    return registration_of(design.id, design.sha256, read_entries(ws.registry))


def require_registered(design: Design, *, workspace: Workspace | str | os.PathLike,
                       exploratory: bool = False) -> Registration:
    """The registration, or RegistryError when the design does not match it (unless exploratory)."""
    ws = _as_workspace(workspace)
    registration = registration_status(design, ws)
    if exploratory or registration.matches:
        return registration
    if registration.status == "unregistered":
        fix = f"register it with `evaluation register designs/{design.id}.yaml --by NAME`"
    else:
        fix = f"record the change with `evaluation amend designs/{design.id}.yaml --reason TEXT --by NAME`"
    raise RegistryError(f"{design.id}: the design is {registration.status}; {fix}, or run with --exploratory")


@dataclass(frozen=True)
class Verification:
    problems: tuple[str, ...]
    n_entries: int
    n_designs: int
    notes: tuple[str, ...] = ()  # what was checked beyond the chain, or why not
    head: Head | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def entries(self) -> int:  # short names used by the demo job
        return self.n_entries

    @property
    def designs(self) -> int:
        return self.n_designs


def verify(workspace: Workspace, *, expect_head: str | None = None, history: bool = True) -> Verification:
    """Check the chain, that every registered design file matches its latest registered hash, the
    heads recorded by results and rendered pages, `expect_head`, and (`history`, in a git
    repository) that the ledger only ever grew across its committed versions."""
    lines = read_locked(workspace.registry)
    ledger = _relative(workspace.registry, workspace)
    problems = chain_problems(lines, ledger)
    entries = [line.entry for line in lines if line.entry is not None]
    numbers = {id(line.entry): line.number for line in lines if line.entry is not None}
    for entry in entries[1:]:
        if entry.get("kind") == "restart":
            problems.append(f"{ledger}: line {numbers[id(entry)]} (restart): a restart may only open a "
                            "ledger; this one hides the entries before it")
    grouped = entries_by_id(entries)
    for design_id, own in grouped.items():
        problems.extend(_design_problems(workspace, ledger, design_id, own, numbers))
    notes: list[str] = []
    recorded = integrity.recorded_heads(workspace)
    problems.extend(integrity.head_problems(entries, recorded, str(ledger)))
    notes.extend(integrity.stale_notes(entries, recorded, str(ledger)))
    if expect_head is not None:
        found, note = integrity.expected_head_problems(entries, expect_head, str(ledger))
        problems.extend(found)
        notes.extend([note] if note else [])
    if history:
        found, said = integrity.git_history_problems(workspace)
        problems.extend(found)
        notes.extend(said)
    return Verification(tuple(problems), len(entries), len(grouped), tuple(notes), head(entries))


def _design_problems(workspace: Workspace, ledger: Path, design_id: str, own: list[dict[str, Any]],
                     numbers: dict[int, int]) -> list[str]:
    problems = []
    first = own[0]
    if first.get("kind") != "registration":
        problems.append(f"{ledger}: line {numbers[id(first)]} (id {design_id}): the first entry is an "
                        f"{first.get('kind')}, not a registration")
    for extra in own[1:]:
        if extra.get("kind") == "registration":
            problems.append(f"{ledger}: line {numbers[id(extra)]} (id {design_id}): registered a second time")
    latest = own[-1]
    path = _relative(workspace.design_path(design_id), workspace)
    where = f"line {numbers[id(latest)]}"
    if not (workspace.root / path).exists():
        return [*problems,
                f"{path}: registered ({where} of {ledger.name}) but the design file was deleted; restore it "
                f"from version control (the registered content is in the `design` field of {where})"]
    try:
        current = load_design(workspace.root / path).sha256
    except DesignError as exc:
        return [*problems, f"{path}: registered but no longer a valid design ({exc})"]
    if current != latest.get("design_sha256"):
        problems.append(
            f"{path}: edited without an amendment: hash {current[:12]} differs from the "
            f"{latest.get('kind')} {str(latest.get('design_sha256'))[:12]} ({where}, "
            f"{latest.get('timestamp')}, {latest.get('registrant')}); record it with "
            f"`evaluation amend {path} --reason TEXT --by NAME` or undo the edit"
        )
    return problems


def _relative(path: Path, workspace: Workspace) -> Path:
    """`designs/x.yaml` rather than a long absolute path in messages."""
    try:
        return path.relative_to(workspace.root)
    except ValueError:
        return path


def workspace_status(workspace: Workspace) -> list[dict[str, Any]]:
    """One row per design file and registered id, sorted by id (for `evaluation status`).

    A design file that is not registered is a `draft`: it changes nothing for other designs."""
    entries = read_entries(workspace.registry)
    grouped = entries_by_id(entries)
    files = {p.stem: p for p in sorted(workspace.designs.glob("*.yaml"))}
    rows: list[dict[str, Any]] = []
    for design_id in sorted(set(files) | set(grouped)):
        path = files.get(design_id)
        row: dict[str, Any] = {"id": design_id, "file": str(path) if path else None}
        problem, design = None, None
        if path is not None:
            try:
                design = load_design(path)
            except DesignError as exc:
                problem = str(exc)
        sha256 = design.sha256 if design is not None else None
        if design_id in grouped:
            registration = registration_of(design_id, sha256 or "", grouped[design_id])
            latest = registration.latest or {}
            status = "missing" if path is None else registration.status
            deviations = control_pool(design, entries).deviation_units if design is not None else ()
            row.update(status=status, registered_sha256=latest.get("design_sha256"),
                       registered_at=registration.registered_at, registered_by=registration.registered_by,
                       last_change=latest.get("timestamp"), amendments=len(registration.amendments),
                       retrospective=registration.retrospective, timing=registration.timing,
                       data_cutoff=latest.get("data_cutoff"), diagnosis_sha256=registration.diagnosis_sha256,
                       deviations=list(deviations))
        else:
            row.update(status="invalid" if problem else "draft", registered_sha256=None,
                       registered_at=None, registered_by=None, last_change=None, amendments=0,
                       retrospective=False, timing=None, data_cutoff=None, diagnosis_sha256=None,
                       deviations=[])
        row["design_sha256"] = sha256
        row["problem"] = problem
        rows.append(row)
    return rows
