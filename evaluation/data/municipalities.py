"""The municipality reference: the official list of codes, names, validity and successors.

`evaluation data municipalities FILE` imports it (columns code, name, valid_from, valid_to,
successor; dates YYYY-MM-DD, empty for open-ended). With a reference loaded, incident codes must be
in it (unknown codes are quarantined), names shown anywhere come from it, and every analysis maps
codes of municipalities that merged away to their successor as it stood on one boundary date
(`boundaries_at`), so a merger never appears as a jump in the series. A reference is checked and
stored as a whole; importing a newer list supersedes the older one (a new data version).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from evaluation.data.schema import (
    ensure_schema,
    latest_version,
    municipalities_at,
    record_version,
)
from evaluation.data.store import (
    MUNICIPALITY_CODE,
    attach_store,
    open_for_writing,
    transaction,
)
from evaluation.data.tables import (
    file_sha256,
    missing_columns_error,
    read_table_file,
    refuse_bad_rows,
)

REFERENCE_COLUMNS = ("code", "name", "valid_from", "valid_to", "successor")


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def validate_reference(raw: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Typed reference rows, or one DataError naming every bad row (grouped by reason)."""
    missing = [c for c in REFERENCE_COLUMNS if c not in raw.columns]
    if missing:
        raise missing_columns_error(Path(source), missing, list(raw.columns))
    frame = raw[list(REFERENCE_COLUMNS)].reset_index(drop=True)
    starts = frame["valid_from"].map(_date)  # dates of any year; pandas would stop at 1677
    ends = frame["valid_to"].map(_date)
    codes = set(frame["code"])
    by_code = frame.assign(start=starts, end=ends).drop_duplicates("code").set_index("code")
    successor = frame["successor"]
    has_successor = successor != ""

    def gap(i: int) -> bool:
        """The successor does not exist on the day after this municipality ended."""
        after = by_code.loc[successor[i]]
        day = ends[i] + dt.timedelta(days=1)
        return not ((after["start"] is None or after["start"] <= day)
                    and (after["end"] is None or after["end"] > ends[i]))

    linked = has_successor & successor.isin(codes) & ends.notna() & (successor != frame["code"])
    checks = {
        "code: not GM + 4 digits": ~frame["code"].str.match(MUNICIPALITY_CODE),
        "code: listed twice": frame["code"].duplicated(keep="first"),
        "name: missing": frame["name"] == "",
        "valid_from: not a YYYY-MM-DD date": (frame["valid_from"] != "") & starts.isna(),
        "valid_to: not a YYYY-MM-DD date": (frame["valid_to"] != "") & ends.isna(),
        "valid_to: before valid_from": pd.Series(
            [s is not None and e is not None and e < s for s, e in zip(starts, ends, strict=True)]
        ),
        "successor: not a code listed in the file": has_successor & ~successor.isin(codes),
        "successor: the municipality itself": has_successor & (successor == frame["code"]),
        "successor: given without valid_to": has_successor & ends.isna(),
        "successor: does not exist on the day after valid_to": pd.Series(
            [bool(linked[i]) and gap(i) for i in range(len(frame))], dtype=bool
        ),
    }
    refuse_bad_rows(source, checks)
    return pd.DataFrame({
        "code": frame["code"], "name": frame["name"], "valid_from": starts, "valid_to": ends,
        "successor": successor.where(has_successor, None),
    })


@dataclass(frozen=True)
class ReferenceReport:
    file: str
    sha256: str
    rows_read: int
    successions: int  # codes that merged into a successor
    version: int | None  # the data version this import created; None: the same list again
    unknown_in_store: tuple[tuple[str, int], ...]  # stored incidents' codes not in this list


def import_municipalities(path: str | Path, *, db_path: str | Path) -> ReferenceReport:
    """Import the municipality reference as a whole (a new data version when it changed)."""
    path = Path(path)
    reference = validate_reference(read_table_file(path, as_text=True), source=str(path))
    sha = file_sha256(path)
    with open_for_writing(db_path) as con:
        con.register("_reference", reference)
        attach_store(con, db_path)
        with transaction(con):
            ensure_schema(con)
            columns = "code, name, valid_from, valid_to, successor"
            differs = con.execute(
                f"SELECT count(*) FROM ((SELECT {columns} FROM _reference EXCEPT "
                f"SELECT {columns} FROM municipalities) UNION ALL (SELECT {columns} FROM "
                f"municipalities EXCEPT SELECT {columns} FROM _reference))"
            ).fetchone()[0]
            version = latest_version(con) + 1 if differs else None
            if version is not None:
                con.execute(
                    f"INSERT INTO municipality_records SELECT {columns}, ? FROM _reference",
                    [version],
                )
                record_version(
                    con, version=version, kind="municipalities", file=path.name,
                    file_sha256=sha, read=len(reference), stored=len(reference), present=0,
                    quarantined=0,
                )
            unknown = con.execute(
                "SELECT municipality_code, count(*) FROM incidents ANTI JOIN _reference r "
                "ON r.code = municipality_code GROUP BY ALL ORDER BY 2 DESC, 1"
            ).fetchall()
    return ReferenceReport(
        file=path.name, sha256=sha, rows_read=len(reference),
        successions=int(reference["successor"].notna().sum()), version=version,
        unknown_in_store=tuple((c, int(n)) for c, n in unknown),
    )


# --- harmonisation ------------------------------------------------------------------------------
def read_reference(con: duckdb.DuckDBPyConnection, version: int | None) -> pd.DataFrame:
    """The reference at data `version` with Python dates (any year) and None for open ends."""
    rows = con.execute(municipalities_at(version) + " ORDER BY code").fetchall()
    return pd.DataFrame(rows, columns=list(REFERENCE_COLUMNS), dtype=object)


@dataclass(frozen=True)
class Boundaries:
    """Municipal boundaries as they stood on `date`: how every code maps onto them."""

    date: dt.date
    reference: bool  # False: no reference loaded, codes are used as they are
    current: tuple[str, ...] = ()  # codes valid on `date`
    merged: dict[str, str] = field(default_factory=dict)  # ended code -> its code on `date`
    names: dict[str, str] = field(default_factory=dict)  # code -> name in the reference
    ended: tuple[str, ...] = ()  # ended before `date` without a successor: kept as they are

    def code_on_date(self, code: str) -> str:
        return self.merged.get(code, code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.date.year, "date": self.date.isoformat(), "reference": self.reference,
            "merged": dict(sorted(self.merged.items())), "ended_without_successor": list(self.ended),
            # the names of the codes a merger involves, so that pages name them
            "names": {c: str(self.names[c]) for c in sorted({*self.merged, *self.merged.values(),
                                                              *self.ended}) if c in self.names},
        }


def boundaries_at(reference: pd.DataFrame, date: dt.date) -> Boundaries:
    """How the codes of `reference` (code, name, valid_from, valid_to, successor) map onto the
    municipalities of `date`; an empty reference maps nothing."""
    if reference.empty:
        return Boundaries(date=date, reference=False)
    rows = {r.code: r for r in reference.itertuples(index=False)}

    def valid_on(row: Any, day: dt.date) -> bool:
        return (_none(row.valid_from) is None or row.valid_from <= day) and (
            _none(row.valid_to) is None or row.valid_to >= day)

    merged, ended = {}, []
    for code, row in rows.items():
        if _none(row.valid_to) is None or row.valid_to >= date:
            continue
        target = row
        while _none(target.valid_to) is not None and target.valid_to < date and target.successor:
            target = rows[target.successor]  # successors end later (checked at import): no cycle
        if _none(target.valid_to) is not None and target.valid_to < date:
            ended.append(code)
        else:
            merged[code] = target.code
    current = tuple(sorted(c for c, r in rows.items() if valid_on(r, date)))
    return Boundaries(date=date, reference=True, current=current, merged=merged,
                      names={c: r.name for c, r in rows.items()}, ended=tuple(sorted(ended)))


def _none(value: Any) -> Any:
    """NaT / NaN / None from a DuckDB frame as None; a date as it is."""
    return None if value is None or (not isinstance(value, dt.date) and pd.isna(value)) else value


def valid_in_year(reference: pd.DataFrame, code: str, year: int) -> bool:
    """Whether `code` existed on any day of `year`."""
    row = reference.loc[reference["code"] == code].iloc[0]
    start, end = _none(row["valid_from"]), _none(row["valid_to"])
    return (start is None or start <= dt.date(year, 12, 31)) and (
        end is None or end >= dt.date(year, 1, 1))
