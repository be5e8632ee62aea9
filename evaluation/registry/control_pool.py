"""The control pool, frozen at registration: which units other interventions treat.

A design with `controls: untreated` compares with every unit no other intervention treats. Which
units those are is taken from the ledger, never from the design files in designs/: a draft that is
not registered changes nothing, and what a registered design compares with is decided when it is
registered. The registration entry records the units that the other registered designs (latest
registered version, same data source) treated at that moment (`treated_elsewhere`); for an older
entry without that field it is read from the entries before it, which is the same thing.

A unit that a *later* registration (or amendment) of another design treats, while it is in this
design's frozen pool, is a deviation: the registered analysis keeps it (the pool was frozen), and
a sensitivity check repeats the primary estimate without it (`evaluation.analysis.deviations`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evaluation.design.checks import Problem
from evaluation.design.model import Design
from evaluation.registry.ledger import design_entries


@dataclass(frozen=True)
class Deviation:
    """A unit of the frozen pool that a later ledger entry of another design treats."""

    unit: str
    treated_by: str  # the other design's id
    seq: int  # its ledger entry
    timestamp: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "treated_by": self.treated_by, "seq": self.seq,
                "timestamp": self.timestamp}


@dataclass(frozen=True)
class ControlPool:
    """Units treated elsewhere (kept out of the controls) and the deviations since the freeze."""

    treated_elsewhere: dict[str, tuple[str, ...]]  # other design id -> its treated units
    frozen_at: int | None  # seq of the registration that froze it; None: the ledger as it stands
    deviations: tuple[Deviation, ...] = field(default_factory=tuple)

    @property
    def excluded(self) -> tuple[str, ...]:
        return tuple(sorted({u for units in self.treated_elsewhere.values() for u in units}))

    @property
    def deviation_units(self) -> tuple[str, ...]:
        return tuple(sorted({d.unit for d in self.deviations}))

    def to_dict(self) -> dict[str, Any]:
        return {"frozen_at": self.frozen_at,
                "treated_elsewhere": {k: list(v) for k, v in sorted(self.treated_elsewhere.items())},
                "deviations": [d.to_dict() for d in self.deviations]}


def _treated(entry: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted((entry.get("design") or {}).get("treatment", {}).get("units") or ()))


def _source(entry: dict[str, Any]) -> Any:
    return ((entry.get("design") or {}).get("data") or {}).get("source")


def _latest_others(entries: list[dict[str, Any]], design_id: str) -> dict[str, dict[str, Any]]:
    """The latest entry of every other design, by id (sorted)."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in design_entries(entries):
        if entry.get("id") != design_id and entry.get("design") is not None:
            latest[str(entry.get("id"))] = entry
    return dict(sorted(latest.items()))


def treated_by_registered(entries: list[dict[str, Any]], design: Design) -> dict[str, tuple[str, ...]]:
    """Other designs' treated units in their latest entry among `entries` (same data source):
    what a registration of `design` records as `treated_elsewhere`."""
    return _treated_elsewhere(entries, design.id, design.data.source)


def _treated_elsewhere(entries: list[dict[str, Any]], design_id: str, source: Any) -> dict[str, tuple[str, ...]]:
    return {other: _treated(e) for other, e in _latest_others(entries, design_id).items()
            if _source(e) == source and _treated(e)}


def control_pool(design: Design, entries: list[dict[str, Any]]) -> ControlPool:
    """The pool of `design`: frozen by its registration entry, or the ledger as it stands when
    the design is not registered (a draft, or its diagnosis before registration)."""
    return _pool(design.id, design.data.source, design.treatment.units, entries)


def _pool(design_id: str, source: Any, own: tuple[str, ...], entries: list[dict[str, Any]]) -> ControlPool:
    entries = design_entries(entries)
    position = next((i for i, e in enumerate(entries)
                     if e.get("id") == design_id and e.get("kind") == "registration"), None)
    if position is None:
        return ControlPool(_treated_elsewhere(entries, design_id, source), None)
    registration = entries[position]
    recorded = registration.get("treated_elsewhere")
    frozen = ({k: tuple(v) for k, v in recorded.items()} if isinstance(recorded, dict)
              else _treated_elsewhere(entries[:position], design_id, source))
    known = {u for units in frozen.values() for u in units} | set(own)
    deviations: list[Deviation] = []
    for entry in entries[position + 1:]:
        if entry.get("id") == design_id or _source(entry) != source:
            continue
        for unit in _treated(entry):
            if unit not in known:
                known.add(unit)
                deviations.append(Deviation(unit, str(entry.get("id")), int(entry.get("seq", 0)),
                                            entry.get("timestamp")))
    return ControlPool(frozen, int(registration.get("seq", 0)), tuple(deviations))


def overlap_problems(design: Design, entries: list[dict[str, Any]]) -> list[Problem]:
    """Warnings for `design check`: units this design shares with registered designs."""
    problems: list[Problem] = []
    own = set(design.treatment.units)
    others = treated_by_registered(entries, design)
    for field_name, mine, consequence in (
            ("treatment.units", own, "the two effects cannot be told apart in these units"),
            ("controls", set(design.control_units or ()), "a treated unit is no control")):
        verb = "also treated" if field_name == "treatment.units" else "treated"
        for other, units in others.items():
            both = sorted(mine & set(units))
            if both:
                problems.append(Problem("warning", field_name, f"{', '.join(both)} {verb} by registered "
                                                               f"design {other}; {consequence}"))
    pools = _pools_holding(design, entries, own)
    for other, units in pools.items():
        problems.append(Problem(
            "warning", "treatment.units",
            f"{', '.join(units)} in the control pool of registered design {other}: registering this "
            "design records a deviation there (analysed with and without these units)"))
    return problems


def _pools_holding(design: Design, entries: list[dict[str, Any]], units: set[str]) -> dict[str, list[str]]:
    """Registered designs (other than `design`) whose comparison would include `units` (not yet
    counted as deviations there)."""
    out: dict[str, list[str]] = {}
    for other, entry in _latest_others(entries, design.id).items():
        spec = entry["design"]
        if _source(entry) != design.data.source:
            continue
        controls = spec.get("controls")
        pool = _pool(other, _source(entry), _treated(entry), entries)
        if isinstance(controls, list):
            inside = units & set(controls)
        elif controls == "untreated":
            inside = units - set(_treated(entry)) - set(pool.excluded)
        else:
            inside = set()
        inside -= set(pool.deviation_units)
        if inside:
            out[other] = sorted(inside)
    return out
