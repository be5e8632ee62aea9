"""The inputs key of an analysis: every fact its result is a function of, and nothing else.

`analyse` records the key beside the result (`analyses/<id>/inputs.json`); `analyse --all`,
`report` and `evaluation demo` reuse a result whose recorded key equals the key of the inputs as
they stand now (`evaluation.analysis.incremental`). The key is computed without preparing the data
or fitting anything (a ledger read, one DuckDB query, a few file hashes), and it is still exact,
because each fact covers everything the result reads from one input:

- `design_sha256`: the design file (an edit or an amendment changes it);
- `registration`: the label the result carries, the registration status, timing and the hash of
  the design's latest ledger entry (a new registration, amendment or repair of *this* design);
  an entry of another design does not change it (the result keeps the ledger head it ran under,
  which `registry verify` only requires to still be in the ledger);
- `control_pool`: the units other registered designs treat as the pool was frozen, and the
  deviations since (another design's registration that changes this design's pool or adds a
  deviation changes it; one that does not, does not);
- `data`: for the incident store, the data version used, whose SHA-256 covers every incident,
  the units table (exposure, names) and the municipality reference (boundaries, mergers): the
  prepared-data hash is a function of these and of the design, so it need not be computed; for
  a panel file, the SHA-256 of its bytes;
- `neighbours`: the SHA-256 of data/neighbours.csv, for a DiD only (the displacement check
  reads it; an interrupted time series does not);
- `diagnosis`: the SHA-256 of designs/<id>.diagnosis.json (the verdict's operating
  characteristics are read from it and it is copied into the result);
- `method_version` and `software` (package versions, this framework's included).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
from pathlib import Path
from typing import Any

from evaluation.analysis.prepare import source_path
from evaluation.data.store import connect
from evaluation.data.tables import file_sha256
from evaluation.data.versions import resolve_version
from evaluation.design.model import Design, canonical_json, load_design
from evaluation.errors import DesignError
from evaluation.files import clean, write_text_atomic
from evaluation.method import method_version
from evaluation.registry.control_pool import control_pool
from evaluation.registry.ledger import read_entries
from evaluation.registry.status import registration_of
from evaluation.workspace import Workspace

INPUTS_FILE = "inputs.json"  # analyses/<id>/inputs.json: the key the result was computed under
# (resolve_design and software_versions are here, not in run.py, so that checking a key never
# imports the estimators: a reused result costs no import of statsmodels, pyfixest or PyMC)


SOFTWARE = ("numpy", "pandas", "scipy", "statsmodels", "linearmodels", "pyfixest", "csdid",
            "pymc", "arviz", "duckdb", "pydantic")


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "evaluation": package_version("evaluation")}
    versions.update({name: package_version(name) for name in SOFTWARE})
    return versions


def package_version(name: str) -> str:
    """The installed version of a package, or "not installed"."""
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


def inputs_key(design: Design, workspace: Workspace, *, exploratory: bool,
               db: str | os.PathLike | None, data_version: int | None,
               software: dict[str, str]) -> dict[str, Any]:
    """{"sha256": ..., "facts": {...}}: the facts the result of `design` is a function of."""
    entries = read_entries(workspace.registry)
    registration = registration_of(design.id, design.sha256, entries)
    latest = registration.latest
    facts = {
        "design_sha256": design.sha256,
        "registration": {
            "label": "exploratory" if exploratory else registration.status,
            "status": registration.status,
            "matches": registration.matches,
            "timing": registration.timing,
            "entry_sha256": None if latest is None else _sha256_text(canonical_json(latest)),
        },
        "control_pool": control_pool(design, entries).to_dict(),
        "data": _data_facts(design, workspace, db=db, data_version=data_version),
        "neighbours": _file_fact(workspace.neighbours) if design.design == "did" else None,
        "diagnosis": _file_fact(workspace.designs / f"{design.id}.diagnosis.json"),
        "method_version": method_version(),
        "software": dict(sorted(software.items())),
    }
    facts = clean(facts)
    return {"sha256": _sha256_text(canonical_json(facts)), "facts": facts}


def write_inputs(folder: Path, key: dict[str, Any]) -> None:
    write_text_atomic(folder / INPUTS_FILE, json.dumps(key, indent=2, sort_keys=True) + "\n")


def recorded_inputs(folder: Path) -> dict[str, Any] | None:
    """The key recorded beside a result, or None (no result, an older one without a key, or an
    unreadable file: the analysis then simply runs)."""
    try:
        key = json.loads((folder / INPUTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return key if isinstance(key, dict) and isinstance(key.get("sha256"), str) else None


def changed_facts(recorded: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """The names of the facts that differ (all of them when nothing was recorded)."""
    if recorded is None:
        return ["result"]
    before = recorded.get("facts") or {}
    return sorted(name for name, value in current["facts"].items() if before.get(name) != value)


def _data_facts(design: Design, workspace: Workspace, *, db: str | os.PathLike | None,
                data_version: int | None) -> dict[str, Any] | None:
    if design.data.from_store:
        path = workspace.db_path(db)
        if not Path(path).exists():
            return None  # the analysis itself says what is missing
        with connect(path, read_only=True) as con:
            return {"store": resolve_version(con, path, data_version).to_dict()}
    return {"panel_file": _file_fact(source_path(design, workspace))}


def _file_fact(path: Path) -> str | None:
    return file_sha256(path) if path.exists() else None


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
