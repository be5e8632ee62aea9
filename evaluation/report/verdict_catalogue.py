"""The verdict's sentences, one catalogue per kind of sentence, in Dutch and English.

Data only: `evaluation.report.verdict_text` turns a decision's codes into sentences with these
(both languages have the same keys; a test holds them equal).
"""

from __future__ import annotations

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
        "bayesian": "De Bayesiaanse schatting van de rate ratio is {est} ({level}%-HDI {ci}), een "
                    "verandering van {pct}.",
        "frequentist": "{what} is {est} ({level}%-BI {ci}; p = {p}), een verandering van {pct}.",
    },
    "en": {
        "bayesian": "The Bayesian estimate of the rate ratio is {est} ({level}% HDI {ci}), a "
                    "change of {pct}.",
        "frequentist": "{what} is {est} ({level}% CI {ci}; p = {p}), a change of {pct}.",
    },
}
# with its article: "Het geschatte verschil", never "De geschatte verschil"
WHAT = {"nl": {"rate_ratio": "De geschatte rate ratio",
               "difference": "Het geschatte verschil in aanslagen per periode"},
        "en": {"rate_ratio": "The estimated rate ratio",
               "difference": "The estimated difference in attacks per period"}}

# The registered decision basis, stated with every verdict.
BASIS = {
    "nl": {"primary": "Beslisgrond, vooraf vastgelegd: de hoofdanalyse.",
           "bayesian": "Beslisgrond, vooraf vastgelegd: het Bayesiaanse model."},
    "en": {"primary": "Decision basis, registered in advance: the primary analysis.",
           "bayesian": "Decision basis, registered in advance: the Bayesian model."},
}

# "confidence" (frequentist: from the inference itself) is never called a probability.
RULE = {
    "nl": {
        "head_probability": "De kans op een daling van minstens {min} is {p_min} en op enige "
                            "daling {p_any}",
        "head_confidence": "Het vertrouwen in een daling van minstens {min} is {p_min} en in "
                           "enige daling {p_any}",
        "continue": "; dat haalt de drempel voor doorzetten ({cont}).",
        "stop": "; dat is onder de drempel voor stoppen ({stop}).",
        "adapt": "; enige daling is zo zeker als doorzetten vraagt, een daling van {min} niet "
                 "(onder 50%).",
        "inconclusive": "; dat is te onzeker voor doorzetten ({cont} nodig) of stoppen.",
    },
    "en": {
        "head_probability": "The probability of a reduction of at least {min} is {p_min}, and of "
                            "any reduction {p_any}",
        "head_confidence": "The confidence in a reduction of at least {min} is {p_min}, and in "
                           "any reduction {p_any}",
        "continue": "; this meets the threshold to continue ({cont}).",
        "stop": "; this is below the threshold to stop ({stop}).",
        "adapt": "; some reduction is as certain as continuing requires, a reduction of {min} "
                 "is not (below 50%).",
        "inconclusive": "; too uncertain to continue ({cont} needed) or to stop.",
    },
}

# The analysis that is not the basis, when it would give another category (or could not run).
SUPPORT = {
    "nl": {
        "support_differs": "De ondersteunende {other} zou '{label}' geven; het oordeel volgt de "
                           "vooraf vastgelegde beslisgrond.",
        "support_unreliable": "Het ondersteunende Bayesiaanse model is niet betrouwbaar geschat "
                              "({detail}) en telt niet mee.",
        "frequentist": "hoofdanalyse", "bayesian": "Bayesiaanse analyse",
    },
    "en": {
        "support_differs": "The supporting {other} would give '{label}'; the verdict follows the "
                           "registered decision basis.",
        "support_unreliable": "The supporting Bayesian model did not fit reliably ({detail}) and "
                              "does not count.",
        "frequentist": "primary analysis", "bayesian": "Bayesian analysis",
    },
}

# The rule's error rates from the design diagnosis ("1 in 8" rather than "12.5%").
ERROR_RATES = {
    "nl": {
        "both": "Volgens de ontwerpdiagnose ({sims} simulaties) zet deze beslisregel een "
                "interventie zonder effect {false_continue} door, en stopt hij een interventie die "
                "{expected} minder aanslagen geeft {false_stop}.",
        "ratio": "in 1 op de {n} gevallen", "none": "in geen van de simulaties",
        "not_simulated": " Die foutkansen gelden voor de hoofdanalyse; het Bayesiaanse model is "
                         "niet gesimuleerd.",
    },
    "en": {
        "both": "According to the design diagnosis ({sims} simulations) this rule continues an "
                "intervention without effect {false_continue}, and stops an intervention that "
                "brings {expected} fewer attacks {false_stop}.",
        "ratio": "in 1 of {n} cases", "none": "in none of the simulations",
        "not_simulated": " These error rates hold for the primary analysis; the Bayesian model "
                         "was not simulated.",
    },
}

# Deviations from the registration that do not block the verdict.
DEVIATIONS = {
    "nl": {
        "method_version_changed": "Afwijking van de registratie: geanalyseerd met methodeversie "
                                  "{current}, geregistreerd onder {registered}.",
        "method_version_unrecorded": "Afwijking van de registratie: de registratie legde geen "
                                     "methodeversie vast; geanalyseerd met {current}.",
    },
    "en": {
        "method_version_changed": "Deviation from the registration: analysed with method version "
                                  "{current}, registered under {registered}.",
        "method_version_unrecorded": "Deviation from the registration: the registration recorded "
                                     "no method version; analysed with {current}.",
    },
}

INTERVAL = {"nl": {"frequentist": "{level}%-BI", "bayesian": "{level}%-HDI"},
            "en": {"frequentist": "{level}% CI", "bayesian": "{level}% HDI"}}

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

# --- issue 14: one-sided results and what a passed pre-trend test is worth -----------------------
FIRST["nl"]["frequentist_separated"] = (
    "Na de start is in de behandelde eenheden geen enkele aanslag geregistreerd. Een puntschatting "
    "bestaat dan niet (een rate ratio van 0 is een grens, geen schatting); de exacte "
    "voorwaardelijke toets geeft een eenzijdig interval: {level}%-BI {ci}; p = {p} ({p_how}).")
FIRST["en"]["frequentist_separated"] = (
    "No attack was recorded in the treated units after the start. There is then no point "
    "estimate (a rate ratio of 0 is a boundary, not an estimate); the exact conditional test gives "
    "a one-sided interval: {level}% CI {ci}; p = {p} ({p_how}).")
FIRST["nl"]["frequentist_separated_before"] = (
    "Vóór de start is in de behandelde eenheden geen enkele aanslag geregistreerd, erna wel. Een "
    "puntschatting bestaat dan niet (hun niveau zonder interventie is onbekend); de exacte "
    "voorwaardelijke toets geeft een eenzijdig interval: {level}%-BI {ci}; p = {p} ({p_how}).")
FIRST["en"]["frequentist_separated_before"] = (
    "No attack was recorded in the treated units before the start, but there were attacks after "
    "it. There is then no point estimate (their level without the intervention is unknown); the "
    "exact conditional test gives a one-sided interval: {level}% CI {ci}; p = {p} ({p_how}).")
EVIDENCE["nl"].update({
    "parallel_shown": "{kind} met een vergelijkingsgroep die vóór de start parallel liep "
                      "(pre-trendtoets geslaagd, met voldoende onderscheidend vermogen om een "
                      "trend van de omvang van de minimale daling te zien).",
    "parallel_robust": "{kind} met vergelijkingsgroep; de pre-trendtoets is geslaagd maar heeft "
                       "weinig onderscheidend vermogen. Ook als het verschil in trend na de start "
                       "zo groot is als het grootste vóór de start, blijft het effect aan dezelfde "
                       "kant van nul.",
    "pretrend_low_power": "{kind} met vergelijkingsgroep, maar de pre-trendtoets heeft te weinig "
                          "onderscheidend vermogen: niet verwerpen bewijst geen parallelle trends, "
                          "dus vergelijkbaarheid is niet aangetoond.",
    "pretrend_not_testable": "{kind} met vergelijkingsgroep, maar de pre-trendtoets kon niet "
                             "worden uitgevoerd (te weinig schatbare perioden vóór de start), dus "
                             "vergelijkbaarheid is niet aangetoond.",
    "pretrend_no_events_before": "{kind} met vergelijkingsgroep, maar de interventiegebieden "
                                 "hadden vóór de start geen enkele aanslag: de pre-trendtoets kon "
                                 "niet worden uitgevoerd, dus vergelijkbaarheid is niet aangetoond.",
})
EVIDENCE["en"].update({
    "parallel_shown": "{kind} with a comparison group that moved in parallel before the start "
                      "(pre-trend check passed, with enough power to see a trend the size of the "
                      "minimum reduction).",
    "parallel_robust": "{kind} with a comparison group; the pre-trend check passed but has little "
                       "power. Even if the difference in trends after the start is as large as "
                       "the largest before it, the effect stays on the same side of zero.",
    "pretrend_low_power": "{kind} with a comparison group, but the pre-trend check has too little "
                          "power: not rejecting does not show parallel trends, so comparability "
                          "is not shown.",
    "pretrend_not_testable": "{kind} with a comparison group, but the pre-trend check could not "
                             "be run (too few estimable periods before the start), so "
                             "comparability is not shown.",
    "pretrend_no_events_before": "{kind} with a comparison group, but the intervention areas had "
                                 "no attack at all before the start: the pre-trend check could "
                                 "not be run, so comparability is not shown.",
})

# --- ITS: honest limits of a single series (issue 21) -----------------------------------------
ITS_LIMITS = {
    "nl": {
        "series_too_short": "De reeks is te kort voor een geldige toets: vóór de start passen te "
                            "weinig blokken van de lengte van de periode erna om te zien hoe sterk "
                            "de aantallen uit zichzelf schommelen. Verleng de periode vóór de "
                            "start of kort de periode erna in.",
        "mde": "Met deze reeks en de schommelingen die erin aanhouden, kan pas een daling van "
               "ongeveer {mde} of meer worden aangetoond (met {power} kans); een kleiner effect "
               "is met deze gegevens niet van toeval te onderscheiden.",
    },
    "en": {
        "series_too_short": "The series is too short for a valid test: before the start there "
                            "are too few blocks of the post-period's length to see how much the "
                            "counts vary by themselves. Lengthen the period before the start or "
                            "shorten the period after it.",
        "mde": "With this series and the fluctuations that persist in it, only a reduction of "
               "about {mde} or more can be shown (with {power} chance); a smaller effect cannot "
               "be told apart from chance with these data.",
    },
}

CATALOGUES = (LABELS, BLOCKING, NO_ESTIMATE, FIRST, WHAT, BASIS, RULE, SUPPORT, ERROR_RATES,
              DEVIATIONS, INTERVAL, EVIDENCE, ITS_LIMITS)
