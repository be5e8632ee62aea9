"""report.formatting against literals and against the CLDR locale data (Babel), never itself.

Literal expectations are hand-written; the property tests compare with `notation` (Babel's nl_NL
and en_GB patterns on the exact decimal value of each float) and parse every string back with
Babel's own parser, so a rounding or separator mistake in report.formatting cannot cancel out.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import notation as ref
import pytest
from babel.numbers import parse_decimal
from hypothesis import given
from hypothesis import strategies as st

from evaluation.report import formatting as fmt

LANGS = st.sampled_from(["nl", "en"])
FINITE = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
UNIT = st.floats(min_value=0, max_value=1, allow_nan=False)


# --- literals (hand-written) -------------------------------------------------------------------
@pytest.mark.parametrize(("value", "digits", "nl", "en"), [
    (0.894, 2, "0,89", "0.89"),
    (0.895, 2, "0,90", "0.90"),  # 0.895 is 0.89500000000000001776... as a float: rounds up
    (1543.2, 1, "1.543,2", "1,543.2"),
    (1234567.891, 2, "1.234.567,89", "1,234,567.89"),
    (-2.5, 0, "\u22122", "\u22122"),  # a true minus sign (U+2212)  # an exact tie rounds to even
    (3.5, 0, "4", "4"),
    (-0.004, 2, "0,00", "0.00"),  # no negative zero
    (-0.006, 2, "\u22120,01", "\u22120.01"),
    (12, 3, "12,000", "12.000"),
])
def test_number_literals(value, digits, nl, en):
    assert fmt.number(value, lang="nl", digits=digits) == nl
    assert fmt.number(value, lang="en", digits=digits) == en


@pytest.mark.parametrize(("value", "expected"), [
    (0.834, "83%"), (0.896, "90%"), (0.894, "89%"), (0.5, "50%"), (0.0, "0%"), (1.0, "100%"),
    (0.004, "<1%"), (0.0001, "<1%"), (0.996, ">99%"), (0.9999, ">99%"),
    (0.006, "1%"), (0.994, "99%"),
    # the edges, by the floats' exact values: 0.005 is 0.0050000000000000001 (rounds up to 1%),
    # 0.995 is 0.99499999999999999556 (rounds down to 99%, never 100%)
    (0.005, "1%"), (0.995, "99%"), (0.0049, "<1%"), (0.9951, ">99%"),
])
def test_probability_literals(value, expected):
    assert fmt.probability(value, lang="nl") == expected
    assert fmt.probability(value, lang="en") == expected


def test_other_literals():
    assert fmt.number(0.894, lang="nl") == "0,89"  # two decimals unless asked otherwise
    assert fmt.percent(0.04, lang="en") == "0.0%"  # the zero it compares with is English too
    assert fmt.integer(1543, lang="nl") == "1.543" and fmt.integer(1543, lang="en") == "1,543"
    assert fmt.integer(2.6, lang="nl") == "3" and fmt.integer(-1e6, lang="nl") == "\u22121.000.000"
    assert fmt.percent(-11.04, lang="nl") == "\u221211,0%" and fmt.percent(5, lang="en") == "+5.0%"
    assert fmt.percent(0.04, lang="nl") == "0,0%"  # rounds to zero: no "+0,0%"
    assert fmt.percent(0.05001, lang="nl") == "+0,1%"
    assert fmt.percent(7.25, lang="en", signed=False) == "7.2%"  # 7.25 is an exact tie: to even
    assert fmt.percent(1234.5, lang="nl", digits=0) == "+1.234%"
    assert fmt.p_value(0.0004, lang="nl") == "<0,001" and fmt.p_value(0.0321, lang="en") == "0.032"
    assert fmt.p_value(0.001, lang="nl") == "0,001" and fmt.p_value(0.5, lang="en") == "0.500"
    assert fmt.interval(0.8, 0.975, lang="nl") == "0,80 tot 0,97"  # 0.975 is 0.97499.. as a float
    assert fmt.interval(0.8, 0.98, lang="en") == "0.80 to 0.98"
    assert fmt.interval(-12.34, 5.06, lang="nl", digits=1) == "\u221212,3 tot 5,1"
    # an unbounded end ("inf" in result.json) in words; a missing end (null) is no interval
    assert fmt.interval(0.42, float("inf"), lang="nl") == "0,42 tot onbegrensd"
    assert fmt.interval("-inf", 2.17, lang="en") == "unbounded to 2.17"
    assert fmt.interval(None, 2.17, lang="en") == "–"
    # a probability beside a verdict never crosses the rule's threshold by rounding
    assert fmt.probability_against(0.796, (0.8, 0.5), lang="nl") == "79,6%"
    assert fmt.probability_against(0.8, (0.8, 0.5), lang="nl") == "80%"
    assert fmt.probability_against(0.4996, (0.8, 0.5), lang="en") == "49.96%"
    assert fmt.date("2025-03-03", lang="nl") == "3 maart 2025"
    assert fmt.date("2024-12-31T10:00:00", lang="en") == "31 December 2024"
    assert fmt.date("2024-01-01", lang="nl") == "1 januari 2024"
    assert fmt.date("soon", lang="en") == "soon"  # not a date: shown as given


@pytest.mark.parametrize("call", [
    lambda v: fmt.number(v, lang="nl"), lambda v: fmt.integer(v, lang="nl"),
    lambda v: fmt.percent(v, lang="nl"), lambda v: fmt.probability(v, lang="nl"),
    lambda v: fmt.p_value(v, lang="nl"), lambda v: fmt.count(v, lang="nl"),
    lambda v: fmt.interval(v, 1.0, lang="nl"), lambda v: fmt.interval(1.0, v, lang="nl"),
    lambda v: fmt.date(v, lang="nl"),
])
@pytest.mark.parametrize("missing", [None, float("nan"), float("inf"), float("-inf")])
def test_missing_numbers_show_as_a_dash(call, missing):
    if isinstance(missing, float) and missing in (float("inf"), float("-inf")) \
            and "interval" in repr(call.__code__.co_names):
        assert "onbegrensd" in call(missing)  # an interval's infinite end is said in words
        return
    assert call(missing) == "–"


def test_date_missing_or_empty():
    assert fmt.date("", lang="nl") == "–" and fmt.date(None, lang="en") == "–"


def test_counts_and_neighbourhoods():
    assert fmt.count(3, lang="nl", neighbourhood=True) == "<5"
    assert fmt.count(4.9, lang="nl", neighbourhood=True) == "<5"
    assert fmt.count(5, lang="nl", neighbourhood=True) == "5"
    assert fmt.count(1543, lang="nl", neighbourhood=True) == "1.543"
    assert fmt.count(3, lang="en", neighbourhood=True, suppress_below=3) == "3"
    assert fmt.count(2, lang="en", neighbourhood=True, suppress_below=3) == "<3"
    assert fmt.count(3, lang="nl", neighbourhood=False) == "3"
    assert fmt.count(3, lang="nl") == "3"  # not suppressed unless it is a neighbourhood
    assert fmt.count(1543, lang="en") == "1,543"
    assert fmt.is_neighbourhood("BU03630001") and fmt.is_neighbourhood("bu0363")
    assert not fmt.is_neighbourhood("GM0363") and not fmt.is_neighbourhood("WK036300")


def test_languages():
    assert fmt.check_lang("nl") == "nl" and fmt.check_lang("en") == "en"
    from evaluation.report import ReportError

    with pytest.raises(ReportError, match=r"--lang: unknown language 'de'; use one of nl, en"):
        fmt.check_lang("de")


# --- properties: agree with CLDR and parse back ------------------------------------------------
def parse(text: str, lang: str) -> Decimal:
    """Babel's strict parser; the reports' true minus sign (U+2212) read as CLDR's hyphen."""
    return parse_decimal(text.replace("\u2212", "-"), locale=ref.LOCALE[lang], strict=True)


@given(value=FINITE, digits=st.integers(0, 4), lang=LANGS)
def test_number_is_cldr_notation_and_parses_back(value, digits, lang):
    text = fmt.number(value, lang=lang, digits=digits)
    assert text == ref.number(value, lang=lang, digits=digits)
    parsed = parse(text, lang)
    # the shown number is the value rounded to `digits` decimals: within half a last digit
    assert abs(parsed - Decimal(value)) <= Decimal(5) * Decimal(10) ** (-digits - 1)


@given(value=st.integers(-10**9, 10**9), lang=LANGS)
def test_integer_round_trip(value, lang):
    text = fmt.integer(value, lang=lang)
    assert parse(text, lang) == value


@given(low=FINITE, width=st.floats(0, 1e6), digits=st.integers(0, 3), lang=LANGS)
def test_interval_round_trip_keeps_the_order(low, width, digits, lang):
    high = low + width
    text = fmt.interval(low, high, lang=lang, digits=digits)
    left, right = text.split(" tot " if lang == "nl" else " to ")
    parsed = [parse(s, lang) for s in (left, right)]
    assert parsed[0] <= parsed[1]
    assert text == ref.interval(low, high, lang=lang, digits=digits)


@given(p=UNIT, lang=LANGS)
def test_probability_matches_cldr_rounding_and_never_claims_certainty(p, lang):
    text = fmt.probability(p, lang=lang)
    assert text == ref.probability(p, lang=lang)
    if 0 < p < 1:
        assert text not in ("0%", "100%")


@given(a=UNIT, b=UNIT)
def test_probability_is_monotone(a, b):
    def rank(text: str) -> float:
        return {"<1%": 0.5, ">99%": 99.5}.get(text) or float(text.rstrip("%"))

    low, high = sorted((a, b))
    assert rank(fmt.probability(low, lang="nl")) <= rank(fmt.probability(high, lang="nl"))


@given(value=st.floats(0, 1, allow_nan=False), lang=LANGS)
def test_p_value_round_trip(value, lang):
    text = fmt.p_value(value, lang=lang)
    if value < 0.001:
        assert text == ("<0,001" if lang == "nl" else "<0.001")
    else:
        parsed = parse(text, lang)
        assert abs(parsed - Decimal(value)) <= Decimal("0.0005")


@given(value=st.floats(-1e6, 1e6, allow_nan=False), lang=LANGS)
def test_percent_round_trip_and_sign(value, lang):
    text = fmt.percent(value, lang=lang)
    assert text.endswith("%")
    body = text[:-1]
    parsed = parse(body.lstrip("+"), lang)
    assert abs(parsed - Decimal(value)) <= Decimal("0.05")
    assert body.startswith("+") == (parsed > 0)  # a plus sign exactly on positive shown values


@given(day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)), lang=LANGS)
def test_date_is_cldr_long_date(day, lang):
    assert fmt.date(day.isoformat(), lang=lang) == ref.date(day.isoformat(), lang=lang)
