"""The verdict box that opens every intervention page: verdict, why, effect in words, the rule
with its two quantities, the design's error rates, evidence level, registration and deviations.

Every number in the box is the decision basis' own (its interval and interval level, its two
quantities) and is rounded so that it cannot cross a threshold of the rule
(`formatting.probability_against`): the box never shows a number that contradicts its verdict.
The quantities and thresholds sit in spans with fixed classes (q-any, q-min, t-cont, t-stop,
t-half) so a test can recompute the verdict from what is displayed.
"""

from __future__ import annotations

import html
from typing import Any

from evaluation.report import formatting as fmt
from evaluation.report import verdict_text
from evaluation.report.i18n import text
from evaluation.report.markup import raw_html, verdict_badge

ADAPT_LIMIT = 0.5  # classify(): adapt when the minimum reduction is below 50% (decision_rule.py)


def verdict_box(result: dict[str, Any], *, lang: str) -> str:
    """The box as a raw-HTML block (for a result without a decision: a box saying so)."""
    decision = result.get("decision")
    if not decision:
        return raw_html(f'<section class="verdict-box" id="verdict-box" data-verdict="none">'
                        f'<p>{_e(text("verdict_missing", lang))}</p></section>')
    verdict = decision.get("verdict") or "inconclusive"
    # a failed check blocks with its numbers: they are in the result's checks, not the decision
    values = {c.get("name"): c.get("values") for c in result.get("checks") or []}
    blocking = [{**b, "values": values.get(b.get("check")) or {}} for b in decision.get("blocking") or []]
    reasons = verdict_text.reasons({**decision, "blocking": blocking}, lang)
    rule_applied = decision.get("reason") == "rule" and decision.get("basis")
    why = reasons[1] if rule_applied and len(reasons) > 1 else (reasons[0] if reasons else "")
    parts = [f'<p class="verdict-label">{verdict_badge(verdict, verdict_text.label(verdict, lang))}</p>',
             _line("box-why", text("box_why", lang), _e(why))]
    if rule_applied:
        parts.append(_line("box-effect", text("box_effect", lang),
                           _e(effect_in_words(decision["basis"], lang=lang))))
    parts.append(_line("box-rule", text("box_rule", lang), _rule_html(decision, lang=lang)))
    parts.append(_line("box-errors", text("box_error_rates", lang),
                       _e(" ".join(verdict_text.error_rate_sentences(decision, lang))
                          or text("box_no_error_rates", lang))))
    level = decision.get("evidence_level") or {}
    parts.append(_line("box-evidence", text("evidence", lang),
                       f'<strong>SMS {_e(level.get("smss", "–"))}</strong> — '
                       f'{_e(verdict_text.evidence(decision, lang))}'))
    parts.append(_line("box-registration", text("box_registration", lang),
                       _e(registration_words(result, lang=lang))))
    deviations = verdict_text.deviation_sentences(decision, lang)
    if deviations:
        parts.append(_line("box-deviations", text("box_deviations", lang), _e(" ".join(deviations))))
    blocked = "" if rule_applied else " verdict-box-blocked"
    return raw_html(f'<section class="verdict-box verdict-box-{_e(verdict)}{blocked}" '
                    f'id="verdict-box" data-verdict="{_e(verdict)}" '
                    f'data-reason="{_e(decision.get("reason", ""))}">' + "".join(parts) + "</section>")


def effect_in_words(basis: dict[str, Any], *, lang: str) -> str:
    """'Naar schatting 30% minder aanslagen; de onzekerheid (90%-BI) loopt van 58% minder tot
    117% meer.' A rate ratio speaks of percentages, a linear model of attacks per period."""
    level = verdict_text.interval_label(basis.get("interval_level"), basis.get("source", "frequentist"),
                                        lang)
    if basis.get("scale") == "rate_ratio":
        words = [_change(None if _open(v) else 100 * (float(v) - 1), lang, percent=True)
                 for v in (basis.get("estimate"), basis.get("low"), basis.get("high"))]
        key = "box_effect_rr"
    else:
        words = [_change(None if _open(v) else float(v), lang, percent=False)
                 for v in (basis.get("estimate"), basis.get("low"), basis.get("high"))]
        key = "box_effect_diff"
    if _open(basis.get("low")):
        words[1] = text("unbounded_fewer", lang)
    if _open(basis.get("high")):
        words[2] = text("unbounded_more", lang)
    if basis.get("estimable") is False:  # separation: a one-sided interval, no point estimate
        key = "box_effect_bound"
    return text(key, lang).format(pct=words[0], amount=words[0], level=level, low=words[1],
                                  high=words[2])


def registration_words(result: dict[str, Any], *, lang: str) -> str:
    status = result.get("registration")
    out = text(f"status_{status}", lang) if status in ("registered", "amended", "retrospective",
                                                       "exploratory") else str(status or "–")
    timing = result.get("registration_timing")
    if timing in ("prospective", "before_outcome_data", "retrospective"):
        out += "; " + text(f"timing_{timing}", lang)
    return out


def _rule_html(decision: dict[str, Any], *, lang: str) -> str:
    rule, basis = decision.get("rule") or {}, decision.get("basis")
    cont, stop = float(rule.get("continue_probability", 0.8)), float(rule.get("stop_probability", 0.5))
    thresholds = (cont, stop, ADAPT_LIMIT)
    n = {"min": fmt.percent(100 * float(rule.get("min_reduction", 0.1)), lang=lang, digits=0,
                            signed=False),
         "cont": _span("t-cont", fmt.probability(cont, lang=lang)),
         "stop": _span("t-stop", fmt.probability(stop, lang=lang)),
         "half": _span("t-half", fmt.probability(ADAPT_LIMIT, lang=lang))}
    out = ""
    if decision.get("reason") == "rule" and basis:
        quantity = text(f"box_quantity_{basis.get('quantity', 'confidence')}", lang)
        p_min = fmt.probability_against(basis.get("p_min_reduction"), thresholds, lang=lang)
        p_any = fmt.probability_against(basis.get("p_any_reduction"), thresholds, lang=lang)
        out = (f"{_e(quantity)}: {_e(text('box_min', lang).format(min=n['min']))} "
               f"{_span('q-min', p_min)}, {_e(text('box_any', lang))} {_span('q-any', p_any)}. ")
    else:
        out = _e(text("box_blocked", lang)) + " "
    rule_text = _e(text("box_rule_text", lang).format(min=n["min"], cont="\0c", stop="\0s",
                                                      half="\0h"))
    rule_text = rule_text.replace("\0c", n["cont"]).replace("\0s", n["stop"]).replace("\0h", n["half"])
    return out + rule_text[0].upper() + rule_text[1:]


def _change(value: float | None, lang: str, *, percent: bool) -> str:
    if value is None:
        return fmt.MISSING
    shown = fmt.number(abs(value), lang=lang, digits=0 if percent else 2) + ("%" if percent else "")
    zero = fmt.number(0, lang=lang, digits=0 if percent else 2) + ("%" if percent else "")
    if shown == zero:
        return text("no_change", lang)
    return text("fewer" if value < 0 else "more", lang).format(x=shown)


def _open(value: Any) -> bool:
    return value is None or fmt.is_unbounded(value)


def _span(css: str, value: str) -> str:
    return f'<span class="{css}">{_e(value)}</span>'


def _line(css: str, title: str, body_html: str) -> str:
    return f'<p class="{css}"><strong>{_e(title)}:</strong> {body_html}</p>'


def _e(value: Any) -> str:
    return html.escape(str(value))
