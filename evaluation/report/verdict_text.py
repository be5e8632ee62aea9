"""The verdict in words: labels, reasons and the evidence level, from the decision's codes.

`evaluation.analysis.decision` stores codes and numbers; this module is the only place that turns
them into sentences, in Dutch or English (both catalogues have the same keys; a test holds them
equal).
"""

from __future__ import annotations

from typing import Any

from evaluation import defaults
from evaluation.report import formatting as fmt
from evaluation.report.check_words import check_name, check_sentence
from evaluation.report.verdict_catalogue import (  # noqa: F401 (CATALOGUES: tests read it here)
    BASIS,
    BLOCKING,
    CATALOGUES,
    DEVIATIONS,
    ERROR_RATES,
    EVIDENCE,
    FIRST,
    INTERVAL,
    ITS_LIMITS,
    LABELS,
    NO_ESTIMATE,
    RULE,
    SUPPORT,
    WHAT,
)


def its_limits(decision: dict[str, Any], lang: str) -> list[str]:
    """The ITS minimum detectable reduction (decision["minimum_detectable"]), when known."""
    mde = decision.get("minimum_detectable") or {}
    if mde.get("reduction") is None:
        return []
    return [ITS_LIMITS[lang]["mde"].format(
        mde=fmt.percent(100 * mde["reduction"], lang=lang, digits=0, signed=False),
        power=fmt.percent(100 * mde["power"], lang=lang, digits=0, signed=False))]


def label(verdict: str | None, lang: str) -> str:
    """The verdict's name on the page: doorzetten, aanpassen, stoppen, nog niet te zeggen."""
    return LABELS[fmt.check_lang(lang)].get(verdict or "", str(verdict or "–"))


def interval_label(level: float, source: str, lang: str) -> str:
    """The label of an interval at `level` (1 - alpha, or the HDI probability): '90%-BI'."""
    lang = fmt.check_lang(lang)
    return INTERVAL[lang][source].format(level=_level(level, lang))


def reasons(decision: dict[str, Any], lang: str) -> list[str]:
    """Why the verdict is what it is: the basis and its estimate, the rule, then (when they
    apply) the supporting analysis, the rule's error rates and deviations."""
    lang = fmt.check_lang(lang)
    reason = decision.get("reason")
    if reason == "blocked":
        return (_blocking_sentences(decision.get("blocking") or [], lang)
                + its_limits(decision, lang) + _deviations(decision, lang))
    if reason == "no_estimate" or not decision.get("basis"):
        return [NO_ESTIMATE[lang], *_deviations(decision, lang)]
    basis, rule = decision["basis"], decision["rule"]
    n = {
        "est": fmt.number(basis["estimate"], lang=lang),
        "ci": fmt.interval(basis["low"], basis["high"], lang=lang),
        "level": _level(basis.get("interval_level"), lang),
        "pct": fmt.percent(basis.get("pct_change"), lang=lang),
        "p": fmt.p_value(basis.get("p_value"), lang=lang),
        # where the p-value beside a one-sided exact interval comes from
        "p_how": P_HOW[lang]["randomization" if basis.get("method") == "randomization" else "exact"],
        # rounded so that a shown probability never crosses a threshold of the rule
        "p_any": fmt.probability_against(basis["p_any_reduction"], _thresholds(rule), lang=lang),
        "p_min": fmt.probability_against(basis["p_min_reduction"], _thresholds(rule), lang=lang),
        "min": fmt.percent(100 * rule["min_reduction"], lang=lang, digits=0, signed=False),
        "cont": fmt.probability(rule["continue_probability"], lang=lang),
        "stop": fmt.probability(rule["stop_probability"], lang=lang),
        "what": WHAT[lang].get(basis["scale"], basis["scale"]),
    }
    registered = decision.get("registered_basis") or \
        ("bayesian" if basis["source"] == "bayesian" else "primary")
    source = basis["source"]
    if basis.get("estimable") is False:  # separation: no event after (or before) the start
        source = ("frequentist_separated_before" if basis.get("boundary") == "separation_before"
                  else "frequentist_separated")
    first = BASIS[lang][registered] + " " + FIRST[lang][source].format(**n)
    head = "head_confidence" if basis.get("quantity") == "confidence" else "head_probability"
    rule_text = RULE[lang][head].format(**n) + RULE[lang][decision["verdict"]].format(**n)
    return [first, rule_text, *its_limits(decision, lang), *_support(decision, lang),
            *_error_rates(decision, lang), *_deviations(decision, lang)]


P_HOW = {"nl": {"randomization": "randomisatietoets", "exact": "exacte toets"},
         "en": {"randomization": "randomization test", "exact": "exact test"}}


def _level(level: Any, lang: str) -> str:
    # 0.9 -> "90", 0.975 -> "97,5" (nl) / "97.5" (en); the design's alpha sets it (a result
    # written before intervals recorded their level: the default alpha)
    value = 100 * (1 - defaults.ALPHA if level is None else float(level))
    text = f"{round(value, 1):g}"
    return text.replace(".", ",") if lang == "nl" else text


def _support(decision: dict[str, Any], lang: str) -> list[str]:
    support = decision.get("support") or {}
    code = support.get("code")
    if code == "support_differs":
        other = SUPPORT[lang][support["source"]]
        return [SUPPORT[lang][code].format(other=other, label=label(support["verdict"], lang))]
    if code == "support_unreliable":
        detail = str(support.get("detail", "")).rstrip(".")
        return [SUPPORT[lang][code].format(detail=detail)]
    return []


def _error_rates(decision: dict[str, Any], lang: str) -> list[str]:
    rates = decision.get("error_rates")
    if not rates:
        return []
    text = ERROR_RATES[lang]

    def ratio(value: float) -> str:
        return text["none"] if value <= 0 else text["ratio"].format(n=max(1, round(1 / value)))

    sentence = text["both"].format(
        sims=rates["sims"], false_continue=ratio(rates["continue_at_no_effect"]["value"]),
        expected=fmt.percent(100 * rates["expected_reduction"], lang=lang, digits=0, signed=False),
        false_stop=ratio(rates["stop_at_expected"]["value"]))
    if rates.get("basis") == "bayesian" and not rates.get("basis_simulated"):
        sentence += text["not_simulated"]
    return [sentence]


def _deviations(decision: dict[str, Any], lang: str) -> list[str]:
    return [DEVIATIONS[lang][d["code"]].format(registered=d.get("registered"),
                                               current=d.get("current"))
            for d in decision.get("deviations") or [] if d.get("code") in DEVIATIONS[lang]]


def evidence(decision: dict[str, Any], lang: str) -> str:
    """The evidence level's one-line explanation."""
    lang = fmt.check_lang(lang)
    level = decision.get("evidence_level") or {}
    code = level.get("code")
    if code not in EVIDENCE[lang]:
        return ""
    kind = EVIDENCE[lang]["did" if level.get("design") == "did" else "its"]
    return EVIDENCE[lang][code].format(kind=kind)


def _blocking_sentences(blocking: list[dict[str, Any]], lang: str) -> list[str]:
    if not blocking:
        return []

    def one(item: dict[str, Any]) -> str:
        if item.get("check") == "its_inference_validity":
            return ITS_LIMITS[lang]["series_too_short"]
        if item["code"] == "check_failed":  # the check in words, never its English detail
            # the check's values when the caller joined them (the verdict box: its numbers),
            # else the design the decision kept (which sentence: one series or the areas)
            values = {"design": item.get("design"), **(item.get("values") or {})}
            said = check_sentence({**item, "status": "fail", "values": values}, lang).rstrip(".")
            return BLOCKING[lang]["check_failed"].format(check=check_name(item.get("kind"), lang),
                                                         detail=said[:1].lower() + said[1:])
        detail = str(item.get("detail", "")).rstrip(".")
        return BLOCKING[lang][item["code"]].format(check=item.get("check", ""), detail=detail)

    out = [one(blocking[0])]
    if len(blocking) == 2:
        out.append(one(blocking[1]))
    elif len(blocking) > 2:
        codes = "; ".join(_code(b, lang) for b in blocking[1:])
        out.append(BLOCKING[lang]["also"].format(codes=codes))
    return out


def _code(item: dict[str, Any], lang: str) -> str:
    # a name a reader understands, never an identifier such as check:pre_trends
    if item["code"] == "check_failed":
        return check_name(item.get("kind"), lang)
    return BLOCKING[lang][item["code"]].split(" (")[0].rstrip(".")


# --- issue 17: public pieces for the verdict box ----------------------------------------------
def error_rate_sentences(decision: dict[str, Any], lang: str) -> list[str]:
    """The rule's error rates from the design diagnosis in words (empty without a diagnosis)."""
    return _error_rates(decision, fmt.check_lang(lang))


def deviation_sentences(decision: dict[str, Any], lang: str) -> list[str]:
    """Deviations from the registration that do not block the verdict, in words."""
    return _deviations(decision, fmt.check_lang(lang))


def level_percent(level: Any, lang: str) -> str:
    """An interval level as a percentage: 0.9 -> '90%' (None: the default alpha's)."""
    return _level(level, fmt.check_lang(lang)) + "%"


def _thresholds(rule: dict[str, Any]) -> tuple[float, ...]:
    # continue, stop, and the 50% below which a minimum reduction makes "adapt" (classify())
    return (float(rule["continue_probability"]), float(rule["stop_probability"]), 0.5)
