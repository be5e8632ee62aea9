"""A summary of the incident store: totals per year, breakdowns and top municipalities."""

from __future__ import annotations

from pathlib import Path

from evaluation import defaults
from evaluation.data.store import LATEST_NAME, connect, has_table, require_incidents


def summary(db_path: str | Path) -> dict:
    """Totals per year, per target type and outcome by year, and the top 10 municipalities.

    Years are string keys so that the dict equals its JSON form.
    """
    with connect(db_path, read_only=True) as con:
        require_incidents(con, db_path)
        total, first, last = con.execute(
            "SELECT count(*), min(date), max(date) FROM incidents"
        ).fetchone()
        by_year = con.execute(
            "SELECT year(date) AS y, count(*) FROM incidents GROUP BY y ORDER BY y"
        )
        years = {str(y): int(n) for y, n in by_year.fetchall()}
        breakdown = {}
        for column, values in (
            ("target_type", defaults.TARGET_TYPES),
            ("outcome", defaults.OUTCOMES),
        ):
            rows = con.execute(f"SELECT year(date), {column}, count(*) FROM incidents GROUP BY ALL")
            table = {year: dict.fromkeys(values, 0) for year in years}
            for year, value, count in rows.fetchall():
                table[str(year)][value] = int(count)
            breakdown[column] = table
        top = con.execute(
            f"SELECT municipality_code, {LATEST_NAME}, count(*) AS n "
            "FROM incidents GROUP BY municipality_code ORDER BY n DESC, "
            "municipality_code LIMIT 10"
        ).fetchall()
        quarantined = (
            con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            if has_table(con, "quarantine")
            else 0
        )
        units = (
            con.execute("SELECT count(DISTINCT code), min(year), max(year) FROM units").fetchone()
            if has_table(con, "units")
            else (0, None, None)
        )
    return {
        "store": str(db_path),
        "incidents": int(total),
        "first_date": first.isoformat() if first else None,
        "last_date": last.isoformat() if last else None,
        "by_year": years,
        "by_target_type": breakdown["target_type"],
        "by_outcome": breakdown["outcome"],
        "top_municipalities": [{"code": c, "name": n, "incidents": int(k)} for c, n, k in top],
        "quarantined_rows": int(quarantined),
        "units": {"codes": int(units[0]), "first_year": units[1], "last_year": units[2]},
    }
