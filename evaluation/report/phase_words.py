"""`treatment.end` in words: which period the verdict is about, and the other period's estimate."""

from __future__ import annotations

from typing import Any

from evaluation.report import formatting as fmt
from evaluation.report.markup import Shared, paragraph
from evaluation.report.term_words import period_word


def phase_sentence(s: Shared, result: dict[str, Any], *, level: str) -> str:
    """A paragraph under the effects table, or "" without a registered end. The other period's
    estimate never changes the verdict; the sentence says so."""
    phases = (result.get("extras") or {}).get("phases") or {}
    estimand = phases.get("estimand")
    other = next((p for p in ("after", "during") if p != estimand and p in phases), None)
    if estimand is None or other is None:
        return ""
    part = phases[other]
    words = {"estimand": s.t(f"phase_{estimand}"), "other_label": s.t(f"term_effect_{other}")}
    if not part.get("estimable"):
        return paragraph(s.t("phase_not_estimable").format(**words))
    n = int(part.get("n_periods") or 0)
    unit = period_word(n, s.lang)
    return paragraph(s.t("phase_sentence").format(
        **words, n=fmt.integer(n, lang=s.lang), unit=unit, estimate=s.num(part.get("estimate")),
        level=level, interval=s.ci(part.get("ci_low"), part.get("ci_high")),
        question=s.t(f"phase_question_{other}")))
