"""Reference notation for report tests: numbers as the CLDR locale data (Babel) writes them.

The report tests look for result.json's numbers in the rendered HTML. They must not format the
expected strings with `evaluation.report.formatting`, the code under test (a rounding bug there
would then be copied into both sides). This module writes them independently: Babel's CLDR
patterns for nl_NL / en_GB, on the exact decimal value of the float (`Decimal(float)`), rounded
half-even like the float's own decimal expansion.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = {"nl": "nl_NL", "en": "en_GB"}


def _exact(value: float) -> Decimal:
    return Decimal(float(value))  # the binary value itself, not its shortest repr


def number(value: float, *, lang: str, digits: int = 2) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    exact = _exact(value)
    if round(exact, digits) == 0:
        exact = abs(exact)  # the reports never print "-0,00"
    text = format_decimal(exact, format=pattern, locale=LOCALE[lang], decimal_quantization=True)
    # the reports write a true minus sign (U+2212) in both languages, where CLDR has a hyphen
    return text.replace("-", "\u2212")


def integer(value: float, *, lang: str) -> str:
    return number(value, lang=lang, digits=0)


def interval(low: float, high: float, *, lang: str, digits: int = 2) -> str:
    join = " tot " if lang == "nl" else " to "
    return number(low, lang=lang, digits=digits) + join + number(high, lang=lang, digits=digits)


def p_value(value: float, *, lang: str) -> str:
    return ("<" + number(0.001, lang=lang, digits=3)) if value < 0.001 else \
        number(value, lang=lang, digits=3)


def probability(value: float, *, lang: str) -> str:
    percent = _exact(value) * 100
    if 0 < percent < Decimal("0.5"):
        return "<1%"
    if Decimal("99.5") < percent < 100:
        return ">99%"
    return f"{int(round(percent, 0))}%"


def date(value: str, *, lang: str) -> str:
    """An ISO date in the long CLDR form without weekday: '3 maart 2025' / '3 March 2025'."""
    return format_date(dt.date.fromisoformat(str(value)[:10]), format="d MMMM y",
                       locale=LOCALE[lang])
