"""Checks in words: a check's kind and status give a catalogue sentence, its values the numbers.

The check's own `detail` is English technical text; a Dutch page never shows it, an English page
shows it only as a tooltip beside the catalogue sentence.
"""

from __future__ import annotations

from typing import Any

from evaluation.report import formatting as fmt
from evaluation.report.i18n import STRINGS, text

STATUSES = ("pass", "fail", "skipped")


def check_name(kind: str | None, lang: str) -> str:
    """The check's name on the page ('Parallelle trends vóór de start'), never its identifier."""
    key = f"checkname_{kind}"
    return text(key if key in STRINGS else "checkname_other", lang)


def check_sentence(check: dict[str, Any], lang: str) -> str:
    """What the check found, in one sentence with its numbers where the values give them."""
    kind, status = check.get("kind"), check.get("status")
    status = status if status in STATUSES else "skipped"
    values = check.get("values") or {}
    key = f"checkmsg_{kind}_{status}"
    # a check that reads differently per design (the ITS recent-rise check speaks of one series,
    # the DiD one of the intervention areas) names its design in its values
    variant = f"checkmsg_{kind}_{values.get('design')}_{status}"
    if values.get("design") and variant in STRINGS:
        key = variant
    skip = f"checkskip_{values.get('skip_code')}"  # why it could not run
    if status == "skipped" and skip in STRINGS:
        key = skip
    sentence = text(key if key in STRINGS else f"checkmsg_other_{status}", lang)
    numbers = _numbers(kind, values, lang)
    if numbers and status != "skipped":
        sentence = f"{sentence.rstrip('.')} ({numbers})."
    return sentence


def _numbers(kind: str | None, values: dict[str, Any], lang: str) -> str:
    key = f"checknum_{kind}"
    if key not in STRINGS:
        return ""
    if kind == "pre_trends":
        tested, p, alpha = values.get("leads_tested"), values.get("p_value"), values.get("alpha")
        if tested is None or p is None or alpha is None:
            return ""
        return text(key, lang).format(n=fmt.integer(len(tested), lang=lang),
                                      p=fmt.p_value(p, lang=lang),
                                      alpha=fmt.number(alpha, lang=lang, digits=2))
    if kind == "recent_rise":
        periods, estimate, p = values.get("periods"), values.get("estimate"), values.get("p_value")
        if periods is None or estimate is None or p is None:
            return ""
        return text(key, lang).format(periods=fmt.integer(periods, lang=lang),
                                      ratio=fmt.number(estimate, lang=lang, digits=2),
                                      p=fmt.p_value(p, lang=lang))
    return ""
