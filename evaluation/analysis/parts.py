"""Typed, read-only views of an analysis result for researchers: `Effect`, `Verdict` and the
plain-text / HTML tables of `AnalysisResult.summary()` and `_repr_html_`.

Every part is read from what result.json holds (the primary estimate, the decision and the
checks), so a result loaded back from `analyses/<id>/` shows exactly what the run showed.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from evaluation.estimators.output import Check


def _frozen(value: Any) -> Any:
    """A read-only copy of nested dicts and lists (mapping proxies and tuples)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


@dataclass(frozen=True, kw_only=True)
class Effect:
    """The registered primary estimate: a rate ratio (counts) or a difference (linear)."""

    estimate: float
    ci_low: float
    ci_high: float
    scale: str  # rate_ratio | difference
    p_value: float | None
    method: str
    alpha: float | None
    std_error: float | None = None
    pct_change: float | None = None
    inference: str | None = None  # randomization | crv1 | model | bootstrap | hac | ...
    # the rule's confidence of a reduction from the inference itself: {any_reduction, min_reduction, ...}
    confidence: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_primary(cls, primary: Mapping[str, Any]) -> Effect:
        inference = primary.get("inference") or {}
        return cls(estimate=_number(primary.get("estimate")), ci_low=_number(primary.get("ci_low")),
                   ci_high=_number(primary.get("ci_high")), scale=str(primary.get("scale", "")),
                   p_value=_optional(primary.get("p_value")), method=str(primary.get("method", "")),
                   alpha=_optional(primary.get("alpha")), std_error=_optional(primary.get("std_error")),
                   pct_change=_optional(primary.get("pct_change")),
                   inference=inference.get("used") if isinstance(inference, Mapping) else None,
                   confidence=_frozen(primary.get("confidence") or {}))

    @property
    def interval(self) -> tuple[float, float]:
        return self.ci_low, self.ci_high

    @property
    def confidence_level(self) -> float | None:
        return None if self.alpha is None else 1 - self.alpha


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """The verdict as data: its category (continue | adapt | stop | inconclusive), why, and the
    quantities it was read from (`basis`: the registered basis' probabilities)."""

    category: str
    reason: str  # rule | blocked | no_estimate
    registered_basis: str | None
    basis: Mapping[str, Any] | None  # the quantities of the rule (p_any, p_min, ...) or None
    blocking: tuple[str, ...]  # codes of what kept the verdict inconclusive
    support: Mapping[str, Any] | None
    evidence_level: str | None
    deviations: tuple[Mapping[str, Any], ...]
    error_rates: Mapping[str, Any] | None

    @classmethod
    def from_decision(cls, decision: Mapping[str, Any] | None) -> Verdict:
        d = decision or {}
        evidence = d.get("evidence_level") or {}
        return cls(category=str(d.get("verdict", "inconclusive")), reason=str(d.get("reason", "")),
                   registered_basis=d.get("registered_basis"), basis=_frozen(d.get("basis")),
                   blocking=tuple(str(b.get("code")) for b in d.get("blocking") or ()),
                   support=_frozen(d.get("support")),
                   evidence_level=evidence.get("code") if isinstance(evidence, Mapping) else None,
                   deviations=_frozen(d.get("deviations") or []),
                   error_rates=_frozen(d.get("error_rates")))

    @property
    def label(self) -> str:
        """The plain code (the reports word it in Dutch and English)."""
        return self.category

    @property
    def quantities(self) -> Mapping[str, Any]:
        return self.basis or MappingProxyType({})


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def summary_rows(*, design_id: str, registration: str, data_cutoff: str, effect: Effect,
                 verdict: Verdict, checks: Sequence[Check]) -> list[tuple[str, str]]:
    """The (label, value) rows that `summary()` and `_repr_html_` both show."""
    scale = "rate ratio" if effect.scale == "rate_ratio" else "difference"
    level = f"{effect.confidence_level:.0%}" if effect.confidence_level is not None else ""
    rows = [("design", design_id), ("registration", registration), ("data cut-off", data_cutoff),
            ("verdict", f"{verdict.category} ({verdict.reason})"),
            ("method", effect.method), ("inference", effect.inference or "-"),
            (f"{scale}", _fmt(effect.estimate)),
            (f"{level} interval".strip(), f"{_fmt(effect.ci_low)} - {_fmt(effect.ci_high)}"),
            ("p-value", _fmt(effect.p_value))]
    if verdict.blocking:
        rows.append(("blocked by", ", ".join(verdict.blocking)))
    for key, value in sorted((verdict.basis or {}).items()):
        if isinstance(value, float):
            rows.append((f"basis {key}", _fmt(value)))
    rows.extend((f"check {c.name}", f"{c.status}{' (blocking)' if c.blocking else ''}") for c in checks)
    return rows


def summary_text(rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def summary_html(rows: Sequence[tuple[str, str]], *, estimates_html: str) -> str:
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(label)}</th>"
                   f"<td style='text-align:left'>{html.escape(value)}</td></tr>" for label, value in rows)
    return f"<div><table>{body}</table><details><summary>estimates</summary>{estimates_html}</details></div>"
