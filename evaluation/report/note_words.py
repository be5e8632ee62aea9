"""The analysis' notes in the page language: one sentence per note code and language.

The data and estimator layers record notes as codes with their values (`evaluation.notes`); this
catalogue words them. Both languages have exactly the codes of `evaluation.notes.FIELDS`, with
exactly its placeholders (tests/test_note_words.py). Numbers are written in the page's style,
municipality codes as names from the reference, periods as dates. A note from a result written
before codes existed (a plain English sentence) is shown as such on an English page; a Dutch
page says that it is available in the English report, never English text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evaluation.report import formatting as fmt

NOTE_MESSAGES: dict[str, tuple[str, str]] = {
    "rows_missing_outcome": (
        "{rows} rijen zonder uitkomst ({outcome}) zijn weggelaten (herhaalde steekproeven); "
        "{remain} rijen blijven over.",
        "{rows} rows with a missing {outcome} were left out (repeated cross-sections); {remain} "
        "rows remain."),
    "diagnosis_history_only": (
        "Ontwerpdiagnose: alleen de {n_before} periode(n) vóór de start tellen mee ({first} tot "
        "{last}); de {n_post} geregistreerde periode(n) vanaf {start} zijn niet bekeken.",
        "Design diagnosis: only the {n_before} period(s) before the start are used ({first} to "
        "{last}); the {n_post} registered period(s) from {start} are not looked at."),
    "diagnosis_history_gap": (
        "De gegevens houden op vóór de periode net voor de start ({last} is de laatste met "
        "gegevens).",
        "The data end before the period just before the start ({last} is the last with data)."),
    "treated_elsewhere": (
        "{n} gemeente(n) die door andere geregistreerde interventies worden behandeld, tellen "
        "niet mee als vergelijking: {units}.",
        "{n} unit(s) treated by other registered interventions are not used as controls: "
        "{units}."),
    "few_pre_periods": (
        "Slechts {n} periode(n) vóór de start: de toets op parallelle trends heeft weinig "
        "houvast.",
        "Only {n} pre-period(s) before the start: the pre-trend check has little to go on."),
    "seasonality_reduced": (
        "De seizoenscorrectie is teruggebracht van {registered} naar {pairs} Fourier-paar "
        "(-paren): meer laat een {frequency} reeks niet toe.",
        "The seasonal adjustment was reduced from {registered} to {pairs} Fourier pair(s): the "
        "most a {frequency} series supports."),
    "fit_not_converged": (
        "Het model ({model}) is niet geconvergeerd: lees de schatting met voorzichtigheid, of "
        "registreer quasi-Poisson.",
        "The {model} fit did not converge: treat the estimate with caution, or register "
        "quasi-Poisson."),
    "bayes_covariates_unused": (
        "De covariaten {covariates} zitten niet in het Bayesiaanse model (alleen effecten van "
        "gebied en periode).",
        "The covariates {covariates} are not in the Bayesian model (unit and period effects "
        "only)."),
    "empty_periods_dropped": (
        "{n} periode(n) zonder enige aanslag in enig gebied tellen niet mee in de schatting "
        "({periods}); ze zeggen niets over het effect.",
        "{n} period(s) without any event in any unit are left out of the fit ({periods}); they "
        "carry no information on the effect."),
    "zero_control_units_dropped": (
        "{n} vergelijkingsgemeente(n) zonder enige aanslag in de analyseperiode tellen niet mee "
        "in de schatting ({units}); ze zeggen niets over de verhouding (in een randomisatietoets "
        "tellen ze wel mee).",
        "{n} control unit(s) without any event in the window are left out of the fit ({units}); "
        "they carry no information on the rate ratio (a randomization test still counts them)."),
    "cs_covariates_base_period": (
        "De covariaten tellen mee in de dubbel robuuste vergelijkingen met hun waarde in de "
        "basisperiode.",
        "The covariates enter the doubly robust comparisons at their base-period values."),
    "unbalanced_panel": (
        "Ongelijke reeksen: {n} gebied(en) missen perioden; alle waarnemingen worden gebruikt.",
        "Unbalanced panel: {n} unit(s) miss periods; all observations are used."),
    "sun_abraham_covariates_unused": (
        "De covariaten {covariates} worden in de Sun-Abraham-regressie niet gebruikt; die "
        "corrigeert alleen voor effecten van gebied en periode.",
        "The covariates {covariates} are not used by the Sun-Abraham regression; it adjusts for "
        "unit and period effects only."),
    "last_cohort_controls": (
        "Er zijn geen nooit-behandelde gebieden: de laatst gestarte groep ({cohort}) is de "
        "vergelijking, in de perioden vóór haar start.",
        "No never-treated units: the last-treated cohort ({cohort}) is the control group, on "
        "the periods before its start."),
    "empty_cells_dropped": (
        "{n} combinatie(s) van startgroep en periode sinds de start zonder enige aanslag: "
        "verhouding 0, niet meegenomen in de Poisson-schatting.",
        "{n} cohort x event-time cell(s) without any event: rate ratio 0, left out of the "
        "Poisson fit."),
    "cells_not_identified": (
        "{n} combinatie(s) van startgroep en periode zijn niet te schatten (samenvallend met de "
        "vaste effecten) en weggelaten.",
        "{n} cell(s) not identified (collinear with the fixed effects) and left out."),
    "imputation_covariates_unused": (
        "De covariaten {covariates} worden in de imputatieschatter niet gebruikt; die corrigeert "
        "alleen voor effecten van gebied en periode.",
        "The covariates {covariates} are not used by the imputation estimator; it adjusts for "
        "unit and period effects only."),
    "zero_comparison_periods": (
        "{n} periode(n) zonder enige aanslag in de vergelijkingswaarnemingen: hun verwachte "
        "aantal zonder interventie is op nul geschat.",
        "{n} period(s) without any event among the comparison observations: their "
        "counterfactual rate is estimated as zero."),
    "treated_rows_unusable": (
        "{n} waarneming(en) na de start van {units} tellen niet mee: er is geen aanslag (of "
        "geen gegeven) in de onbehandelde waarnemingen die hun niveau zonder interventie "
        "bepalen.",
        "{n} treated observation(s) of {units} left out: no event (or no data) in the untreated "
        "observations that fix their counterfactual level."),
}
UNKNOWN = ("Een opmerking van de analyse (code {code}) heeft in deze versie geen tekst.",
           "An analysis note (code {code}) has no text in this version.")
OLD_TEXT_NL = "Een opmerking van de analyse is alleen in het Engelse rapport beschikbaar (--lang en)."
MODEL_WORDS = {"poisson": ("Poisson", "Poisson"), "quasi_poisson": ("quasi-Poisson", "quasi-Poisson"),
               "negative_binomial": ("negatief-binomiaal", "negative binomial"),
               "linear": ("lineair", "linear")}
FREQUENCY_WORDS = {"day": ("dagelijkse", "daily"), "week": ("wekelijkse", "weekly"),
                   "month": ("maandelijkse", "monthly"), "quarter": ("driemaandelijkse", "quarterly"),
                   "year": ("jaarlijkse", "yearly")}
PERIOD_FIELDS = {"first", "last", "start", "periods", "cohort"}
UNIT_FIELDS = {"units"}
AND = {"nl": "en", "en": "and"}
MORE = {"nl": "{n} meer", "en": "{n} more"}
SHOWN = 10  # units or periods named in one note; the rest counted


def note_text(note: Mapping[str, Any] | str, *, lang: str, names: Mapping[str, str]) -> str:
    """One note in `lang`, with municipality names where the reference has them."""
    column = 0 if lang == "nl" else 1
    if isinstance(note, str):
        return note if lang == "en" else OLD_TEXT_NL
    code = str(note.get("code"))
    if code not in NOTE_MESSAGES:
        return UNKNOWN[column].format(code=code)
    values = {key: _value(key, value, lang=lang, names=names)
              for key, value in note.items() if key != "code"}
    return NOTE_MESSAGES[code][column].format(**values)


def _value(key: str, value: Any, *, lang: str, names: Mapping[str, str]) -> str:
    column = 0 if lang == "nl" else 1
    if key in UNIT_FIELDS:
        return _listed([str(names.get(str(u)) or u) for u in value], lang=lang)
    if key in PERIOD_FIELDS:
        items = value if isinstance(value, list | tuple) else [value]
        return _listed([fmt.date(v, lang=lang) for v in items], lang=lang)
    if key == "model":
        return MODEL_WORDS.get(str(value), (str(value), str(value)))[column]
    if key == "frequency":
        return FREQUENCY_WORDS.get(str(value), (str(value), str(value)))[column]
    if isinstance(value, list | tuple):
        return _listed([str(v) for v in value], lang=lang)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return fmt.integer(value, lang=lang)
    return str(value)


def _listed(items: list[str], *, lang: str) -> str:
    """a, b en c (nl) / a, b and c (en); beyond SHOWN items: a, b, ... en 12 meer."""
    if len(items) > SHOWN:
        rest = len(items) - SHOWN
        items = [*items[:SHOWN], MORE[lang].format(n=fmt.integer(rest, lang=lang))]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {AND[lang]} {items[-1]}"
