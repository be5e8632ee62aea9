"""Number notation for report pages: Dutch (1.543; 0,89) or English (1,543; 0.89).

Every number on a page goes through these helpers, so a page's notation is one decision and the
tests can format the numbers of result.json the same way to find them in the HTML.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from evaluation import defaults

MISSING = "–"  # shown for a number that is not available (None or NaN)
LANGUAGES = ("nl", "en")
MINUS = "\u2212"  # the typographic minus sign: "−0,42", never a hyphen
UNBOUNDED = {"nl": "onbegrensd", "en": "unbounded"}
INTERVAL_JOIN = {"nl": " tot ", "en": " to "}


def check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        from evaluation.report import ReportError

        raise ReportError(f"--lang: unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    return lang


def _missing(value: Any) -> bool:
    """Not a number to print: None, NaN, or an unbounded end ("inf"; `interval` words those)."""
    if value is None or value in ("inf", "-inf"):
        return True
    return isinstance(value, float) and not math.isfinite(value)


def _localise(text: str, lang: str) -> str:
    # English notation is Python's own; Dutch swaps the separators (1,543.2 -> 1.543,2).
    if lang == "en":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def number(value: Any, *, lang: str, digits: int = 2) -> str:
    """A decimal number with `digits` decimals and thousands separators: 0,89 / 1.543,20."""
    if _missing(value):
        return MISSING
    text = f"{float(value):,.{digits}f}"
    if text.startswith("-") and float(text.replace(",", "").lstrip("-")) == 0:
        text = text[1:]  # no "-0,00"
    return _localise(text, lang).replace("-", MINUS)


def integer(value: Any, *, lang: str) -> str:
    """A whole number with thousands separators: 1.543 (nl) / 1,543 (en)."""
    if _missing(value):
        return MISSING
    return _localise(f"{round(float(value)):,d}", lang).replace("-", MINUS)


def percent(value: Any, *, lang: str, digits: int = 1, signed: bool = True) -> str:
    """A percentage given in percent units (pct_change = -11.0 -> '-11,0%')."""
    if _missing(value):
        return MISSING
    text = number(value, lang=lang, digits=digits)
    if signed and float(value) > 0 and text != number(0, lang=lang, digits=digits):
        text = "+" + text
    return f"{text}%"


def probability(value: Any, *, lang: str) -> str:
    """A probability as a whole percentage: 0.834 -> '83%'; extremes as '<1%' and '>99%'."""
    if _missing(value):
        return MISSING
    p = float(value)
    # round the float's exact value: 100 * 0.995 is 99.5 in floating point and rounded to 100,
    # a certainty the probability 0.99499.. does not have
    shown = round(Decimal(p) * 100)
    if 0 < p and shown == 0:
        return "<1%"
    if p < 1 and shown == 100:
        return ">99%"
    return f"{shown:d}%"


def p_value(value: Any, *, lang: str) -> str:
    """A p-value with three decimals; below 0,001 as '<0,001'."""
    if _missing(value):
        return MISSING
    if float(value) < 0.001:
        return "<" + number(0.001, lang=lang, digits=3)
    return number(value, lang=lang, digits=3)


def interval(low: Any, high: Any, *, lang: str, digits: int = 2) -> str:
    """A confidence or credible interval: '0,80 tot 0,98' (nl) / '0.80 to 0.98' (en).

    An infinite end (a randomization interval open to one side; "inf" in result.json) is said in
    words. A missing end (null: no number) makes the interval missing: it is never shown as
    unbounded, since the two mean different things.
    """
    if any(_missing(v) and not is_unbounded(v) for v in (low, high)):
        return MISSING
    ends = [UNBOUNDED[lang] if is_unbounded(v) else number(v, lang=lang, digits=digits)
            for v in (low, high)]
    return INTERVAL_JOIN[lang].join(ends)


def is_unbounded(value: Any) -> bool:
    """An infinite interval end (a float or the strings 'inf' / '-inf')."""
    if isinstance(value, str):
        return value.strip().lower().lstrip("+-") in ("inf", "infinity")
    return isinstance(value, float | int) and math.isinf(float(value))


def probability_against(value: Any, thresholds: tuple[float, ...], *, lang: str) -> str:
    """A probability rounded so that it never crosses one of `thresholds` on the page.

    0,796 against a threshold of 80% shows as '79,6%', not '80%': a verdict box must not show a
    number that contradicts the verdict beside it. Whole percentages unless a threshold is closer.
    """
    if _missing(value):
        return MISSING
    p = float(value)
    for digits in (0, 1, 2, 3):
        shown = round(100 * p, digits) / 100
        if all((shown >= t) == (p >= t) for t in thresholds):
            break
    else:  # closer than 0,001 percentage point: cut off towards the true side
        shown = math.floor(100_000 * p) / 100_000
        digits = 3
    if digits == 0:
        return probability(shown if 0 < p < 1 else p, lang=lang) if 0.005 <= p <= 0.995 \
            else probability(p, lang=lang)
    return number(100 * shown, lang=lang, digits=digits) + "%"


def count(value: Any, *, lang: str, neighbourhood: bool = False,
          suppress_below: int = defaults.SUPPRESS_BELOW) -> str:
    """A count of incidents; for a neighbourhood, counts below `suppress_below` show as '<5'.

    Small neighbourhood counts can point to a single address, so they are never printed exactly.
    """
    if _missing(value):
        return MISSING
    if neighbourhood and float(value) < suppress_below:
        return f"<{suppress_below}"
    return integer(value, lang=lang)


def is_neighbourhood(unit_code: str) -> bool:
    """CBS neighbourhood codes start with BU (municipalities with GM)."""
    return str(unit_code).upper().startswith("BU")


def date(value: Any, *, lang: str) -> str:
    """An ISO date as '3 maart 2025' (nl) or '3 March 2025' (en); other values unchanged."""
    import datetime as dt

    if _missing(value) or value == "":
        return MISSING
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    months = MONTHS[lang]
    return f"{day.day} {months[day.month - 1]} {day.year}"


MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}
