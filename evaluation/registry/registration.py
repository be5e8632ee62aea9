"""Writing the registry: register, amend, repair and (for the demo only) restart.

The ledger file (`designs/registry.jsonl`, append-only and hash-chained, see
`evaluation.registry.ledger`) holds one entry per registration or amendment: the canonical design
and its SHA-256, who and when, what data existed at that moment (cut-off, hash of the pre-period
rows, whether post-period data already existed: `retrospective`), the registration's timing in
words (`timing`, see `TIMINGS`), the attached diagnosis (`diagnosis_sha256`) and, in a
registration, the units other registered designs treated (`treated_elsewhere`: the frozen control
pool, see `evaluation.registry.control_pool`). An amendment records a changed design (field-level
`diff`), a new or replaced diagnosis, or both, with its reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from evaluation.data.panel import SourcePanel
from evaluation.data.periods import period_json, to_period
from evaluation.design.model import Design
from evaluation.design.texts import design_diff
from evaluation.errors import RegistryError
from evaluation.files import frame_sha256
from evaluation.method import method_version
from evaluation.registry.control_pool import treated_by_registered
from evaluation.registry.ledger import (
    Head,
    LedgerLine,
    append_entry,
    design_entries,
    repair_last_line,
    restart,
    sha256_text,
)
from evaluation.workspace import Workspace

# When a registration was made, in words (stored as these codes):
#   prospective          registered before the (first) start date;
#   before_outcome_data  registered on or after the start, but on data that end before it (the
#                        demo's registrations replay the past this way);
#   retrospective        data after the start already existed when it was registered.
TIMINGS = ("prospective", "before_outcome_data", "retrospective")
TIMING_TEXT = {
    "prospective": "prospective: registered before the start",
    "before_outcome_data": "before outcome data: registered after the start, on data that end before it",
    "retrospective": "RETROSPECTIVE: data after the start already existed",
}


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


def timing(*, retrospective: bool, start: Any, timestamp: str) -> str:
    """The registration's timing code (see TIMINGS). With numbered periods the calendar date of
    the start is unknown, so a registration on data before it is `before_outcome_data`."""
    if retrospective:
        return "retrospective"
    key = None if start is None else _comparable(start)
    if key is None or isinstance(key, float):
        return "before_outcome_data"
    registered_on = dt.date.fromisoformat(str(timestamp)[:10])
    return "prospective" if registered_on < key.date() else "before_outcome_data"


def entry_timing(entry: dict[str, Any]) -> str | None:
    """The timing of a ledger entry: recorded, or (older entries) derived from its fields."""
    if entry.get("timing") in TIMINGS:
        return entry["timing"]
    if entry.get("retrospective"):
        return "retrospective"
    start = ((entry.get("design") or {}).get("treatment") or {}).get("start")
    if isinstance(start, dict):
        start = min(start.values()) if start else None
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    return timing(retrospective=False, start=start, timestamp=str(entry.get("timestamp")))


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


def _timed(design: Design, source: SourcePanel, facts: dict[str, Any], now: str | None) -> dict[str, Any]:
    stamp = now or _utc_now()
    when = timing(retrospective=facts["retrospective"], start=first_start(design, source.frame),
                  timestamp=stamp)
    return {"timestamp": stamp, "timing": when}


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
    """Freeze `design`: append a registration entry. An id is registered once; changes are amendments.

    The entry records the attached diagnosis (`diagnosis_sha256`, None when there is none) and
    the units other registered designs treat at this moment (the frozen control pool)."""
    _require_name(by, "--by")
    facts = data_facts(design, source)

    def build(entries: list[dict[str, Any]]) -> dict[str, Any]:
        earlier = [e for e in design_entries(entries) if e.get("id") == design.id]
        if earlier:
            raise RegistryError(
                f"{design.id}: already registered on {earlier[0].get('timestamp')} by {earlier[0].get('registrant')}; "
                f"record a change with `evaluation amend designs/{design.id}.yaml --reason TEXT --by NAME`"
            )
        stamp = _timed(design, source, facts, now)
        return {
            "kind": "registration", "id": design.id, "design_sha256": design.sha256,
            "timestamp": stamp["timestamp"], "registrant": by, **facts, "timing": stamp["timing"],
            "diagnosis_sha256": diagnosis_sha256, "method_version": method_version(),
            "treated_elsewhere": {k: list(v) for k, v in treated_by_registered(entries, design).items()},
            "design": design.canonical,
        }

    return append_entry(workspace.registry, build)


def amend(design: Design, *, workspace: Workspace, by: str, reason: str, source: Any,
          diagnosis_sha256: str | None = None, now: str | None = None) -> dict[str, Any]:
    """Record a change as an amendment: a changed design (new hash, field-level diff), a new or
    replaced diagnosis (`diagnosis_sha256`, made for exactly this design), or both, with the reason.

    A changed design keeps no diagnosis made for its earlier version: `diagnosis_sha256` is the
    one attached to this version, or None."""
    _require_name(by, "--by")
    _require_name(reason, "--reason")
    facts = data_facts(design, source)

    def build(entries: list[dict[str, Any]]) -> dict[str, Any]:
        earlier = [e for e in design_entries(entries) if e.get("id") == design.id]
        if not earlier:
            raise RegistryError(
                f"{design.id}: not registered yet, so there is nothing to amend; "
                f"register it first with `evaluation register designs/{design.id}.yaml --by NAME`"
            )
        latest = earlier[-1]
        same_design = latest.get("design_sha256") == design.sha256
        if same_design and diagnosis_sha256 in (None, latest.get("diagnosis_sha256")):
            raise RegistryError(
                f"{design.id}: nothing changed since the {latest.get('kind')} of {latest.get('timestamp')} "
                f"(hash {design.sha256[:12]}, "
                + (f"diagnosis {str(diagnosis_sha256)[:12]} already attached" if diagnosis_sha256
                   else "no new diagnosis")
                + "); edit the design file, or run `evaluation diagnose` to attach a new diagnosis"
            )
        stamp = _timed(design, source, facts, now)
        return {
            "kind": "amendment", "id": design.id, "design_sha256": design.sha256,
            "previous_design_sha256": latest.get("design_sha256"),
            "timestamp": stamp["timestamp"], "registrant": by, "reason": reason,
            "diff": design_diff(latest.get("design") or {}, design.canonical), **facts,
            "timing": stamp["timing"], "diagnosis_sha256": diagnosis_sha256,
            "method_version": method_version(),
            "previous_diagnosis_sha256": latest.get("diagnosis_sha256"),
            "design": design.canonical,
        }

    return append_entry(workspace.registry, build)


def _require_name(value: str, option: str) -> None:
    if not value or not value.strip():
        raise RegistryError(f"{option}: must not be empty; the ledger records who registered and why")



def repair(workspace: Workspace, *, by: str, now: str | None = None) -> str | None:
    """Remove a last ledger line left incomplete by a crash and log the repair as an entry; a
    note, or None when there is nothing to do."""
    _require_name(by, "--by")

    def record(torn: LedgerLine) -> dict[str, Any]:
        return {"kind": "repair", "timestamp": now or _utc_now(), "registrant": by,
                "reason": "an interrupted write left an incomplete last line; it was removed",
                "removed_line": torn.number, "removed_characters": len(torn.text),
                "removed_text_sha256": sha256_text(torn.text)}

    return repair_last_line(workspace.registry, record=record)


def restart_ledger(workspace: Workspace, *, by: str, reason: str, now: str | None = None) -> dict[str, Any]:
    """Begin the ledger afresh with a `restart` entry naming the head it replaces (demo only:
    after a schema change every design must be registered again; see `make register-demo`)."""
    _require_name(by, "--by")
    _require_name(reason, "--reason")

    def record(previous: Head) -> dict[str, Any]:
        return {"kind": "restart", "timestamp": now or _utc_now(), "registrant": by, "reason": reason,
                "previous_head_sha256": previous.sha256, "previous_length": previous.length}

    return restart(workspace.registry, record=record)
