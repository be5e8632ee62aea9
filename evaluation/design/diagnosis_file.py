"""The design diagnosis file beside a design: designs/<id>.diagnosis.json.

`evaluation diagnose` writes it (`evaluation.diagnose`); `design check`, `register` and the
analysis read it. It carries the hash of the design it was made for and a SHA-256 of its own
content, so an edited or truncated file, or one made for another version of the design, is never
taken as evidence.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from evaluation.design.model import Design, canonical_json
from evaluation.files import write_text_atomic
from evaluation.workspace import Workspace

DIAGNOSIS_SUFFIX = ".diagnosis.json"


def content_sha256(diagnosis: dict[str, Any]) -> str:
    """SHA-256 of the diagnosis' canonical JSON without its own `sha256` field."""
    body = {k: v for k, v in diagnosis.items() if k != "sha256"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def diagnosis_path(workspace: Workspace, design_id: str) -> Path:
    return workspace.designs / f"{design_id}{DIAGNOSIS_SUFFIX}"


def write_diagnosis(diagnosis: dict[str, Any], workspace: Workspace) -> Path:
    path = diagnosis_path(workspace, diagnosis["id"])
    text = json.dumps(diagnosis, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
    write_text_atomic(path, text)
    return path


def read_diagnosis(workspace: Workspace, design_id: str) -> dict[str, Any] | None:
    """The saved diagnosis of `design_id`, or None when there is none or it is not intact."""
    path = diagnosis_path(workspace, design_id)
    if not path.exists():
        return None
    try:
        diagnosis = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(diagnosis, dict) or diagnosis.get("sha256") != content_sha256(diagnosis):
        return None  # edited by hand or truncated: not evidence of anything
    return diagnosis


def current_diagnosis(workspace: Workspace, design: Design) -> dict[str, Any] | None:
    """The saved diagnosis when it is intact and was made for exactly this design (hash)."""
    diagnosis = read_diagnosis(workspace, design.id)
    if diagnosis is None or diagnosis.get("design_sha256") != design.sha256:
        return None
    return diagnosis
