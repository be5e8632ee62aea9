"""Writing the registry: register, amend and repair.

The ledger file (`designs/registry.jsonl`, append-only and hash-chained, see
`evaluation.registry.ledger`) holds one entry per registration or amendment: the canonical design
and its SHA-256, who and when, and what data existed at that moment (cut-off, hash of the
pre-period rows, whether post-period data already existed: `retrospective`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from evaluation.data.panel import SourcePanel
from evaluation.data.periods import period_json, to_period
from evaluation.design.model import Design, design_diff
from evaluation.errors import RegistryError
from evaluation.files import frame_sha256
from evaluation.method import method_version
from evaluation.registry.ledger import append_entry, repair_last_line
from evaluation.workspace import Workspace


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _comparable(value: Any) -> Any:
    """Period numbers as float, dates as Timestamp, so that source and design values compare."""
    import numpy as np
    import pandas as pd

    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value)
    return pd.Timestamp(value)


def first_start(design: Design, frame: Any) -> Any:
    """The earliest treatment start: from the design, or from the panel's start column."""
    if design.treatment.start is not None:
        return design.treatment.first_start
    starts = frame.loc[frame["start"].notna()]
    if design.treatment.units:
        starts = starts.loc[starts["unit"].isin(design.treatment.units)]
    return starts["start"].min() if len(starts) else None


def data_facts(design: Design, source: SourcePanel) -> dict[str, Any]:
    """What existed in the data when the design was frozen (for the ledger entry).

    `source` is the design's `SourcePanel` (frame, cutoff, integer_periods).
    """
    start = first_start(design, source.frame)
    retrospective = start is not None and _comparable(source.cutoff) >= _comparable(start)
    return {
        "data_cutoff": period_json(source.cutoff),
        "pre_period_sha256": pre_period_sha256(design, source),
        "retrospective": bool(retrospective),
    }


def pre_period_sha256(design: Design, source: SourcePanel) -> str:
    """Hash of the source rows of the design's units before its first start."""
    first = None
    if design.treatment.start is not None:
        first = to_period(design.treatment.first_start, frequency=design.data.frequency,
                          integer=source.integer_periods)
    frame = source.frame
    if first is not None:
        frame = frame.loc[frame["period"] < first]
    frame = frame.sort_values(["unit", "period"], kind="stable").reset_index(drop=True)
    return frame_sha256(frame)


def register(design: Design, *, workspace: Workspace, by: str, source: Any,
             diagnosis_sha256: str | None = None, now: str | None = None) -> dict[str, Any]:
    """Freeze `design`: append a registration entry. An id is registered once; changes are amendments."""
    _require_name(by, "--by")
    facts = data_facts(design, source)

    def build(entries: list[dict[str, Any]]) -> dict[str, Any]:
        earlier = [e for e in entries if e.get("id") == design.id]
        if earlier:
            raise RegistryError(
                f"{design.id}: already registered on {earlier[0].get('timestamp')} by {earlier[0].get('registrant')}; "
                f"record a change with `evaluation amend designs/{design.id}.yaml --reason TEXT --by NAME`"
            )
        return {
            "kind": "registration", "id": design.id, "design_sha256": design.sha256,
            "timestamp": now or _utc_now(), "registrant": by, **facts,
            "diagnosis_sha256": diagnosis_sha256, "method_version": method_version(),
            "design": design.canonical,
        }

    return append_entry(workspace.registry, build)


def amend(design: Design, *, workspace: Workspace, by: str, reason: str, source: Any,
          diagnosis_sha256: str | None = None, now: str | None = None) -> dict[str, Any]:
    """Record a changed design as an amendment: new hash, field-level diff, reason."""
    _require_name(by, "--by")
    _require_name(reason, "--reason")
    facts = data_facts(design, source)

    def build(entries: list[dict[str, Any]]) -> dict[str, Any]:
        earlier = [e for e in entries if e.get("id") == design.id]
        if not earlier:
            raise RegistryError(
                f"{design.id}: not registered yet, so there is nothing to amend; "
                f"register it first with `evaluation register designs/{design.id}.yaml --by NAME`"
            )
        latest = earlier[-1]
        if latest.get("design_sha256") == design.sha256:
            raise RegistryError(
                f"{design.id}: nothing changed since the {latest.get('kind')} of {latest.get('timestamp')} "
                f"(hash {design.sha256[:12]}); edit the design file first"
            )
        return {
            "kind": "amendment", "id": design.id, "design_sha256": design.sha256,
            "previous_design_sha256": latest.get("design_sha256"),
            "timestamp": now or _utc_now(), "registrant": by, "reason": reason,
            "diff": design_diff(latest.get("design") or {}, design.canonical), **facts,
            "diagnosis_sha256": diagnosis_sha256, "method_version": method_version(),
            "design": design.canonical,
        }

    return append_entry(workspace.registry, build)


def _require_name(value: str, option: str) -> None:
    if not value or not value.strip():
        raise RegistryError(f"{option}: must not be empty; the ledger records who registered and why")



def repair(workspace: Workspace) -> str | None:
    """Remove a last ledger line left incomplete by a crash; a note, or None when nothing to do."""
    return repair_last_line(workspace.registry)
