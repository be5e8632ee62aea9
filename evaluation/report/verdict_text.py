"""The verdict in words: labels, reasons and the evidence level, from the decision's codes.

`evaluation.analysis.decision` stores codes and numbers; this module is the only place that turns
them into sentences, in Dutch or English (both catalogues have the same keys; a test holds them
equal).
"""

from __future__ import annotations

from typing import Any

from evaluation.report import formatting as fmt

LABELS = {
    "nl": {"continue": "doorzetten", "adapt": "aanpassen", "stop": "stoppen",
           "inconclusive": "nog niet te zeggen"},
    "en": {"continue": "continue", "adapt": "adapt", "stop": "stop",
           "inconclusive": "inconclusive"},
}

BLOCKING = {
    "nl": {
        "exploratory": "De analyse is verkennend (niet volgens een geldige registratie), dus er "
                       "volgt geen oordeel uit.",
        "registration_mismatch": "Het ontwerp wijkt af van de registratie; registreer de wijziging "
                                 "als amendement voordat er een oordeel kan volgen.",
        "bayesian_unreliable": "Het Bayesiaanse model is niet betrouwbaar geschat ({detail}).",
        "check_failed": "De controle '{check}' is niet geslaagd: {detail}.",
        "also": "Daarnaast blokkeren: {codes}.",
    },
    "en": {
        "exploratory": "The analysis is exploratory (not run under a valid registration), so it "
                       "gives no verdict.",
        "registration_mismatch": "The design differs from its registration; record the change as "
                                 "an amendment before a verdict can follow.",
        "bayesian_unreliable": "The Bayesian model did not fit reliably ({detail}).",
        "check_failed": "The check '{check}' failed: {detail}.",
        "also": "Also blocking: {codes}.",
    },
}

NO_ESTIMATE = {
    "nl": "Er is geen bruikbare schatting van het effect (schatting of interval ontbreekt), dus "
          "de data kunnen nog niets zeggen.",
    "en": "There is no usable effect estimate (estimate or interval missing), so the data cannot "
          "tell yet.",
}

FIRST = {
    "nl": {
        "bayesian": "De Bayesiaanse schatting van de rate ratio is {est} (95%-HDI {ci}), een "
                    "verandering van {pct}.",
        "frequentist": "De geschatte {what} is {est} (95%-BI {ci}; p = {p}), een verandering van "
                       "{pct}.",
    },
    "en": {
        "bayesian": "The Bayesian estimate of the rate ratio is {est} (95% HDI {ci}), a change of "
                    "{pct}.",
        "frequentist": "The estimated {what} is {est} (95% CI {ci}; p = {p}), a change of {pct}.",
    },
}
WHAT = {"nl": {"rate_ratio": "rate ratio", "difference": "verschil"},
        "en": {"rate_ratio": "rate ratio", "difference": "difference"}}

RULE = {
    "nl": {
        "head": "De kans op een daling van minstens {min} is {p_min} en op enige daling {p_any}",
        "continue": "; dat haalt de drempel voor doorzetten ({cont}).",
        "stop": "; dat is onder de drempel voor stoppen ({stop}).",
        "adapt": "; er is waarschijnlijk een daling, maar waarschijnlijk kleiner dan {min}.",
        "inconclusive": "; dat is te onzeker voor doorzetten ({cont} nodig) of stoppen.",
    },
    "en": {
        "head": "The probability of a reduction of at least {min} is {p_min}, and of any "
                "reduction {p_any}",
        "continue": "; this meets the threshold to continue ({cont}).",
        "stop": "; this is below the threshold to stop ({stop}).",
        "adapt": "; there is probably a reduction, but probably smaller than {min}.",
        "inconclusive": "; too uncertain to continue ({cont} needed) or to stop.",
    },
}

EVIDENCE = {
    "nl": {
        "no_comparison": "Tijdreeks vóór en na zonder vergelijkingsreeks (trend en seizoen "
                         "gecorrigeerd, geen controlegroep).",
        "parallel_shown": "{kind} met een vergelijkingsgroep die vóór de start parallel liep "
                          "(pre-trendtoets geslaagd).",
        "pretrend_failed": "{kind} met vergelijkingsgroep, maar de pre-trendtoets is mislukt, dus "
                           "vergelijkbaarheid is niet aangetoond.",
        "pretrend_not_run": "{kind} met vergelijkingsgroep, maar de pre-trendtoets is niet "
                            "uitgevoerd, dus vergelijkbaarheid is niet aangetoond.",
        "did": "Verschil-in-verschillen", "its": "Gecontroleerde tijdreeks",
    },
    "en": {
        "no_comparison": "Time series before and after without a comparison series (trend and "
                         "season adjusted, no control group).",
        "parallel_shown": "{kind} with a comparison group that moved in parallel before the start "
                          "(pre-trend check passed).",
        "pretrend_failed": "{kind} with a comparison group, but the pre-trend check failed, so "
                           "comparability is not shown.",
        "pretrend_not_run": "{kind} with a comparison group, but the pre-trend check not run, so "
                            "comparability is not shown.",
        "did": "Difference-in-differences", "its": "Controlled time series",
    },
}

CATALOGUES = (LABELS, BLOCKING, NO_ESTIMATE, FIRST, WHAT, RULE, EVIDENCE)


def label(verdict: str | None, lang: str) -> str:
    """The verdict's name on the page: doorzetten, aanpassen, stoppen, nog niet te zeggen."""
    return LABELS[fmt.check_lang(lang)].get(verdict or "", str(verdict or "–"))


def reasons(decision: dict[str, Any], lang: str) -> list[str]:
    """Why the verdict is what it is, in one or two sentences."""
    lang = fmt.check_lang(lang)
    reason = decision.get("reason")
    if reason == "blocked":
        return _blocking_sentences(decision.get("blocking") or [], lang)
    if reason == "no_estimate" or not decision.get("basis"):
        return [NO_ESTIMATE[lang]]
    basis, rule = decision["basis"], decision["rule"]
    n = {
        "est": fmt.number(basis["estimate"], lang=lang),
        "ci": fmt.interval(basis["low"], basis["high"], lang=lang),
        "pct": fmt.percent(basis.get("pct_change"), lang=lang),
        "p": fmt.p_value(basis.get("p_value"), lang=lang),
        "p_any": fmt.probability(basis["p_any_reduction"], lang=lang),
        "p_min": fmt.probability(basis["p_min_reduction"], lang=lang),
        "min": fmt.percent(100 * rule["min_reduction"], lang=lang, digits=0, signed=False),
        "cont": fmt.probability(rule["continue_probability"], lang=lang),
        "stop": fmt.probability(rule["stop_probability"], lang=lang),
        "what": WHAT[lang].get(basis["scale"], basis["scale"]),
    }
    first = FIRST[lang][basis["source"]].format(**n)
    rule_text = RULE[lang]["head"].format(**n) + RULE[lang][decision["verdict"]].format(**n)
    return [first, rule_text]


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
        detail = str(item.get("detail", "")).rstrip(".")
        return BLOCKING[lang][item["code"]].format(check=item.get("check", ""), detail=detail)

    out = [one(blocking[0])]
    if len(blocking) == 2:
        out.append(one(blocking[1]))
    elif len(blocking) > 2:
        codes = ", ".join(_code(b) for b in blocking[1:])
        out.append(BLOCKING[lang]["also"].format(codes=codes))
    return out


def _code(item: dict[str, Any]) -> str:
    return f"check:{item['check']}" if item["code"] == "check_failed" else item["code"]
