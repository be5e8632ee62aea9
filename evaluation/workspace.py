"""Workspace discovery: the folder holding designs/, data/, analyses/ and reports/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from evaluation.errors import WorkspaceError

SUBFOLDERS = ("designs", "data", "analyses", "reports")
DB_ENV = "EVALUATION_DB"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def designs(self) -> Path:
        return self.root / "designs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def analyses(self) -> Path:
        return self.root / "analyses"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def registry(self) -> Path:
        return self.designs / "registry.jsonl"

    @property
    def neighbours(self) -> Path:
        """Optional neighbour list (unit, neighbour) used by the displacement check."""
        return self.data / "neighbours.csv"

    def db_path(self, override: str | os.PathLike | None = None) -> Path:
        """The incident database: --db, else $EVALUATION_DB, else data/evaluation.duckdb."""
        if override:
            return Path(override)
        env = os.environ.get(DB_ENV)
        if env:
            return Path(env)
        return self.data / "evaluation.duckdb"

    def design_path(self, design_id: str) -> Path:
        return self.designs / f"{design_id}.yaml"

    def analysis_dir(self, design_id: str) -> Path:
        return self.analyses / design_id


def find_workspace(start: str | os.PathLike | None = None) -> Workspace:
    """The nearest folder at or above `start` (default: cwd) that has a designs/ folder."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "designs").is_dir() and (folder / "data").is_dir():
            return Workspace(folder)
    raise WorkspaceError(
        f"no workspace found at or above {here}: a workspace has designs/ and data/ folders; "
        "run `evaluation init DIR` to create one or pass --workspace DIR"
    )


def init_workspace(root: str | os.PathLike) -> Workspace:
    """Create an empty workspace (idempotent: existing files are left alone)."""
    ws = Workspace(Path(root).resolve())
    for name in SUBFOLDERS:
        (ws.root / name).mkdir(parents=True, exist_ok=True)
    if not ws.registry.exists():
        ws.registry.touch()
    return ws
