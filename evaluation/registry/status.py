"""Reading the registry: where each design stands, and whether the ledger is intact.

`registration_status` is what analyses call before they run; `verify` is `evaluation registry
verify`; `workspace_status` is `evaluation status`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from evaluation.design.model import Design, load_design
from evaluation.errors import DesignError, RegistryError
from evaluation.registry.ledger import chain_problems, entries_by_id, read_entries, read_locked
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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        latest = data.pop("latest")
        data["amendments"] = list(self.amendments)
        data["registered_sha256"] = latest.get("design_sha256") if latest else None
        data["data_cutoff"] = latest.get("data_cutoff") if latest else None
        return data


def registration_of(design_id: str, sha256: str, entries: list[dict[str, Any]]) -> Registration:
    own = [e for e in entries if e.get("id") == design_id]
    if not own:
        return Registration(design_id, "unregistered", False, sha256, None, (), None, None, False)
    first, latest = own[0], own[-1]
    amendments = tuple(
        {"date": e.get("timestamp"), "by": e.get("registrant"), "reason": e.get("reason"), "diff": e.get("diff")}
        for e in own[1:]
    )
    matches = latest.get("design_sha256") == sha256
    retrospective = bool(latest.get("retrospective"))
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
                        first.get("timestamp"), first.get("registrant"), retrospective)


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

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def entries(self) -> int:  # short names used by the demo job
        return self.n_entries

    @property
    def designs(self) -> int:
        return self.n_designs


def verify(workspace: Workspace) -> Verification:
    """Check the chain and that every registered design file matches its latest registered hash."""
    lines = read_locked(workspace.registry)
    ledger = _relative(workspace.registry, workspace)
    problems = chain_problems(lines, ledger)
    entries = [line.entry for line in lines if line.entry is not None]
    numbers = {id(line.entry): line.number for line in lines if line.entry is not None}
    grouped = entries_by_id(entries)
    for design_id, own in grouped.items():
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
            problems.append(
                f"{path}: registered ({where} of {ledger.name}) but the design file was deleted; restore it "
                f"from version control (the registered content is in the `design` field of {where})"
            )
            continue
        try:
            current = load_design(workspace.root / path).sha256
        except DesignError as exc:
            problems.append(f"{path}: registered but no longer a valid design ({exc})")
            continue
        if current != latest.get("design_sha256"):
            problems.append(
                f"{path}: edited without an amendment: hash {current[:12]} differs from the "
                f"{latest.get('kind')} {str(latest.get('design_sha256'))[:12]} ({where}, "
                f"{latest.get('timestamp')}, {latest.get('registrant')}); record it with "
                f"`evaluation amend {path} --reason TEXT --by NAME` or undo the edit"
            )
    return Verification(tuple(problems), len(entries), len(grouped))


def _relative(path: Path, workspace: Workspace) -> Path:
    """`designs/x.yaml` rather than a long absolute path in messages."""
    try:
        return path.relative_to(workspace.root)
    except ValueError:
        return path


def workspace_status(workspace: Workspace) -> list[dict[str, Any]]:
    """One row per design file and registered id, sorted by id (for `evaluation status`)."""
    entries = read_entries(workspace.registry)
    grouped = entries_by_id(entries)
    files = {p.stem: p for p in sorted(workspace.designs.glob("*.yaml"))}
    rows: list[dict[str, Any]] = []
    for design_id in sorted(set(files) | set(grouped)):
        path = files.get(design_id)
        row: dict[str, Any] = {"id": design_id, "file": str(path) if path else None}
        problem = None
        sha256 = None
        if path is not None:
            try:
                sha256 = load_design(path).sha256
            except DesignError as exc:
                problem = str(exc)
        if design_id in grouped:
            registration = registration_of(design_id, sha256 or "", grouped[design_id])
            latest = registration.latest or {}
            status = "missing" if path is None else registration.status
            row.update(status=status, registered_sha256=latest.get("design_sha256"),
                       registered_at=registration.registered_at, registered_by=registration.registered_by,
                       last_change=latest.get("timestamp"), amendments=len(registration.amendments),
                       retrospective=registration.retrospective, data_cutoff=latest.get("data_cutoff"))
        else:
            row.update(status="invalid" if problem else "unregistered", registered_sha256=None,
                       registered_at=None, registered_by=None, last_change=None, amendments=0,
                       retrospective=False, data_cutoff=None)
        row["design_sha256"] = sha256
        row["problem"] = problem
        rows.append(row)
    return rows
