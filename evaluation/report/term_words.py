"""Identifiers of result files in words: effect terms, scales, the model, inference, priors.

A Dutch page shows none of the identifiers (`event_time_-8`, `rate_ratio`, `att`) nor the
estimators' English method lines; it shows these catalogue words instead.
"""

from __future__ import annotations

import re
from typing import Any

from evaluation.report import formatting as fmt
from evaluation.report.i18n import STRINGS, text

EVENT_TERM = re.compile(r"^event_time_(-?\d+)$")
SEASON_TERM = re.compile(r"^season_(sin|cos)_(\d+)$")
DISTRIBUTION = re.compile(r"\b(ZeroSumNormal|HalfNormal|Normal|Exponential|Gamma|Beta)\(([^)]*)\)")
DISTRIBUTION_NL = {"ZeroSumNormal": "normaal met som nul", "HalfNormal": "halfnormaal",
                   "Normal": "normaal", "Exponential": "exponentieel", "Gamma": "gamma",
                   "Beta": "bèta"}
INFERENCE_KEYS = {"randomization": "inference_randomization", "cluster": "inference_cluster",
                  "cluster_robust": "inference_cluster", "wild_bootstrap": "inference_wild_bootstrap",
                  "hac": "inference_hac", "newey_west": "inference_hac", "normal": "inference_model",
                  "model": "inference_model", "placebo_blocks": "inference_placebo_blocks",
                  "exact_conditional": "inference_exact_conditional",
                  "randomization_exact": "inference_randomization_exact"}


def period_word(n: int, lang: str) -> str:
    """'periode' / 'perioden' (nl), 'period' / 'periods' (en) for a count of n."""
    return {"nl": ("periode", "perioden"), "en": ("period", "periods")}[lang][abs(n) != 1]


def term_label(term: Any, lang: str) -> str:
    """'att' -> 'Effect na de start (gemiddeld)'; 'event_time_-8' -> '8 perioden vóór de start'."""
    name = str(term)
    match = EVENT_TERM.match(name)
    if match:
        k = int(match.group(1))
        if k == 0:
            return text("term_event_start", lang)
        key = "term_event_before" if k < 0 else "term_event_after"
        unit = period_word(k, lang)
        return text(key, lang).format(k=fmt.integer(abs(k), lang=lang), unit=unit)
    season = SEASON_TERM.match(name)
    if season:
        wave = {"sin": "sinus", "cos": "cosinus"}[season.group(1)] if lang == "nl" else season.group(1)
        return text("term_season", lang).format(wave=wave, k=season.group(2))
    key = f"term_{name}"
    if key in STRINGS:
        return text(key, lang)
    return name.replace("_", " ")


def scale_label(scale: Any, lang: str) -> str:
    key = f"scale_{scale}"
    return text(key, lang) if key in STRINGS else str(scale or "")


def model_words(primary: dict[str, Any], lang: str) -> str:
    """The primary model in words: a count model speaks of ratios, a linear one of differences."""
    scale = primary.get("scale")
    words = text("method_difference" if scale == "difference" else "method_rate_ratio", lang)
    if lang == "en" and primary.get("method"):
        words += f" ({primary['method']})"
    return words


def inference_words(inference: dict[str, Any], lang: str) -> str:
    used = str(inference.get("used") or "")
    if inference.get("separated"):  # a one-sided exact interval (no events after / before)
        used = "randomization_exact" if used == "randomization" else "exact_conditional"
    key = INFERENCE_KEYS.get(used)
    if key is None:
        return used.replace("_", " ") if lang == "en" else text("inference_model", lang)
    return text(key, lang)


def prior_words(statement: Any, lang: str) -> str:
    """A prior statement; on a Dutch page only its distributions, in Dutch notation."""
    if lang == "en":
        return str(statement)
    said = str(statement)
    if said.startswith("flat"):
        return text("prior_flat", lang)
    found = []
    for name, args in DISTRIBUTION.findall(said):
        numbers = [_dutch_number(a.strip()) for a in args.split(",")]
        found.append(f"{DISTRIBUTION_NL[name]}({'; '.join(numbers)})")
    return ", ".join(found) if found else "–"


def _dutch_number(token: str) -> str:
    try:
        value = float(token)
    except ValueError:
        return "…"  # a symbolic argument (e.g. 'log observed mean rate') is not shown in Dutch
    digits = max(0, min(4, len(token.split(".")[1]) if "." in token else 0))
    return fmt.number(value, lang="nl", digits=digits)
