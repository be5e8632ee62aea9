"""The design diagnosis on an intervention page: how often the rule gives each verdict when the
intervention has no effect, the minimum and the expected reduction (from the simulations of the
diagnosis), with the size and coverage of the primary analysis. Words only, no identifiers.
"""

from __future__ import annotations

from typing import Any

from evaluation.report import formatting as fmt
from evaluation.report import verdict_text
from evaluation.report.markup import paragraph, table

VERDICT_ORDER = ("continue", "adapt", "stop", "inconclusive")
WORDS = {
    "nl": {"no_effect": "zonder effect", "scenario": "Als de interventie werkelijk geeft:",
           "reduction": "{pct} minder aanslagen", "sims": "Gebaseerd op {n} simulaties per regel.",
           "size": "Onterecht significant zonder effect (grens {ref}): {value}.",
           "coverage": "Het interval bevat het ware effect in {value} van de simulaties (doel {ref}).",
           "none": "De diagnose bevat geen beslisregel-simulaties.",
           "phase_during": "De simulaties betreffen, net als het oordeel, alleen de periode "
                           "tijdens de interventie.",
           "phase_after": "De simulaties betreffen, net als het oordeel, alleen de periode na "
                          "afloop van de interventie."},
    "en": {"no_effect": "no effect", "scenario": "If the intervention truly brings:",
           "reduction": "{pct} fewer attacks", "sims": "Based on {n} simulations per row.",
           "size": "Wrongly significant without an effect (limit {ref}): {value}.",
           "coverage": "The interval holds the true effect in {value} of the simulations "
                       "(target {ref}).",
           "none": "The diagnosis holds no simulations of the decision rule.",
           "phase_during": "Like the verdict, the simulations concern the period during the "
                           "intervention only.",
           "phase_after": "Like the verdict, the simulations concern the period after the "
                          "intervention ended only."},
}


def diagnosis_table(diagnosis: dict[str, Any], *, lang: str) -> str:
    words = WORDS[fmt.check_lang(lang)]
    oc = diagnosis.get("operating_characteristics") or {}
    rows = []
    for row in oc.get("scenarios") or []:
        reduction = float(row.get("reduction") or 0.0)
        name = words["no_effect"] if reduction == 0 else words["reduction"].format(
            pct=fmt.percent(100 * reduction, lang=lang, digits=0, signed=False))
        rates = row.get("rates") or {}
        rows.append([name] + [fmt.probability(rates.get(v), lang=lang) for v in VERDICT_ORDER])
    if not rows:
        return paragraph(words["none"])
    head = [words["scenario"]] + [verdict_text.label(v, lang) for v in VERDICT_ORDER]
    out = table(head, rows, table_id="diagnosis-table")
    notes = [words["sims"].format(n=fmt.integer(oc.get("sims"), lang=lang))]
    phase = (diagnosis.get("history") or {}).get("phase")  # treatment.end split the window
    if phase in ("during", "after"):
        notes.append(words[f"phase_{phase}"])
    for key in ("size", "coverage"):
        part = oc.get(key) or {}
        if part.get("value") is not None:
            notes.append(words[key].format(value=fmt.probability(part["value"], lang=lang),
                                           ref=fmt.probability(part.get("reference"), lang=lang)))
    return out + paragraph(" ".join(notes))
