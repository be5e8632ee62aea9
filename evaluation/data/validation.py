"""The checks every incident row passes before it is stored, as one DuckDB query.

A row that fails any check is quarantined with every reason that applies, joined by '; '. The
checks run inside DuckDB (no Python per row, no pandas copy), so a million rows take a second.
No date can crash them: text that is not a real YYYY-MM-DD date is a reason, and so is a real date
before 1990 or after tomorrow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from evaluation import defaults

INCIDENT_COLUMNS = (
    "incident_id",
    "date",
    "municipality_code",
    "municipality",
    "target_type",
    "outcome",
    "neighbourhood_code",
)
# The municipality's name is optional: names shown anywhere come from the municipality
# reference (or the units table), never from incident rows.
REQUIRED_INCIDENT_COLUMNS = ("incident_id", "date", "municipality_code", "target_type", "outcome")
MUNICIPALITY_CODE = r"^GM\d{4}$"
_CODE_SQL = "GM[0-9]{4}"
_NEIGHBOURHOOD_SQL = "BU[0-9]{8}"
_ISO_DATE_SQL = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
REFERENCE_FIX = (
    "correct the code, or import a municipality reference that lists it "
    "(`evaluation data municipalities FILE`)"
)


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _allowed(column: str, values: Sequence[str]) -> str:
    listed = ", ".join(_text(v) for v in values)
    return (
        f"CASE WHEN s.{column} = '' THEN '{column}: missing' "
        f"WHEN lower(s.{column}) NOT IN ({listed}) THEN "
        f"{_text(f'{column}: unknown value (allowed: ' + ', '.join(values) + ')')} END"
    )


def plausible_dates(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last plausible incident date on `today`."""
    first = dt.date.fromisoformat(defaults.FIRST_PLAUSIBLE_DATE)
    return first, today + dt.timedelta(days=defaults.FUTURE_DAYS_ALLOWED)


def checked_incidents_sql(
    source: str, *, today: dt.date, reference: bool, extra_reasons: Sequence[str] = ()
) -> str:
    """A query over `source` (text columns of INCIDENT_COLUMNS and `row`): the clean values
    (date as DATE, vocabulary lower case, '' as NULL) with `reason` ('' for a valid row).

    `reference`: the store holds a municipality reference (the `municipalities` view), so
    codes must be listed in it. `extra_reasons` are further SQL expressions over `s` that give a
    reason text or NULL.
    """
    first, last = plausible_dates(today)
    reasons = [
        "CASE WHEN s.incident_id = '' THEN 'incident_id: missing' "
        "WHEN s.incident_id = d.incident_id AND s.\"row\" > d.first_row "
        "THEN 'incident_id: duplicate of row ' || d.first_row END",
        "CASE WHEN s.date = '' THEN 'date: missing' "
        "WHEN s.parsed_date IS NULL THEN 'date: not a real date in YYYY-MM-DD form' "
        f"WHEN s.parsed_date < DATE '{first}' THEN "
        f"'date: before {first}, implausible for this register; check the year' "
        f"WHEN s.parsed_date > DATE '{last}' THEN "
        f"'date: after {last}, in the future; check the date' END",
        "CASE WHEN s.municipality_code = '' THEN 'municipality_code: missing' "
        f"WHEN NOT regexp_full_match(s.municipality_code, '{_CODE_SQL}') "
        "THEN 'municipality_code: not GM + 4 digits' "
        + (
            "WHEN m.code IS NULL THEN 'municipality_code: ' || s.municipality_code || "
            f"' is not in the municipality reference; ' || {_text(REFERENCE_FIX)} "
            if reference
            else ""
        )
        + "END",
        _allowed("target_type", defaults.TARGET_TYPES),
        _allowed("outcome", defaults.OUTCOMES),
        "CASE WHEN s.neighbourhood_code <> '' AND NOT regexp_full_match(s.neighbourhood_code, "
        f"'{_NEIGHBOURHOOD_SQL}') THEN 'neighbourhood_code: not BU + 8 digits' END",
        *extra_reasons,
    ]
    join_reference = (
        "LEFT JOIN (SELECT DISTINCT code FROM municipalities) m ON m.code = s.municipality_code"
        if reference
        else ""
    )
    return f"""
        SELECT s."row", s.incident_id, s.parsed_date AS date, s.municipality_code,
               nullif(s.municipality, '') AS municipality, lower(s.target_type) AS target_type,
               lower(s.outcome) AS outcome, nullif(s.neighbourhood_code, '') AS neighbourhood_code,
               concat_ws('; ', {', '.join(reasons)}) AS reason
        FROM (SELECT *, CASE WHEN regexp_full_match(date, '{_ISO_DATE_SQL}')
                             THEN TRY_CAST(date AS DATE) END AS parsed_date
              FROM {source}) s
        LEFT JOIN (SELECT incident_id, min("row") AS first_row FROM {source}
                   WHERE incident_id <> '' GROUP BY incident_id HAVING count(*) > 1) d
               ON d.incident_id = s.incident_id
        {join_reference}
    """


def differences_sql(ours: str, theirs: str) -> str:
    """SQL text naming the fields in which record `ours` differs from stored record `theirs`:
    'outcome (stored explosie), date (stored 2024-03-01)', or '' when they agree."""
    parts = []
    for column in INCIDENT_COLUMNS[1:]:
        shown = f"strftime({theirs}.date, '%Y-%m-%d')" if column == "date" else f"{theirs}.{column}"
        if column in ("municipality", "neighbourhood_code"):  # NULL and '' are the same: missing
            differs = f"coalesce({ours}.{column}, '') <> coalesce({theirs}.{column}, '')"
        else:
            differs = f"{ours}.{column} IS DISTINCT FROM {theirs}.{column}"
        parts.append(
            f"CASE WHEN {differs} THEN '{column} (stored ' || coalesce(nullif({shown}, ''), "
            "'empty') || ')' END"
        )
    return f"concat_ws(', ', {', '.join(parts)})"
